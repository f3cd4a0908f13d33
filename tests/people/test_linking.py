"""Every inbound message's author becomes an identity and a person; catching up in chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h import registry
from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage
from h2h.channels.models import Channel, Message
from h2h.cli import app as cli_app
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker
from h2h.jobs import run_now
from h2h.people import linking, service
from h2h.people.models import Identity, IdentityKind, Person
from tests.conftest import Cast

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
CONFIGS: dict[ChannelKind, tuple[dict[str, Any], dict[str, str]]] = {
    ChannelKind.EMAIL: (
        {"imap_host": "imap.example", "smtp_host": "smtp.example", "from_address": "us@example"},
        {"username": "u", "password": "p"},
    ),
    ChannelKind.TELEGRAM: ({}, {"bot_token": "1:x"}),
    ChannelKind.VK: ({"group_id": "1"}, {"access_token": "t"}),
    ChannelKind.RSS: ({"url": "https://example.com/feed"}, {}),
}


def make_channel(session: Session, cast: Cast, kind: ChannelKind, name: str = "") -> Channel:
    config, secrets = CONFIGS.get(kind, ({}, {}))
    return channels.create_channel(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        kind=kind,
        name=name or kind.value,
        config=config,
        secrets=secrets,
    )


def message(
    external_id: str,
    handle: str,
    *,
    name: str | None = None,
    at: datetime = T0,
    direction: Direction = Direction.INBOUND,
    **author: Any,
) -> RawMessage:
    return RawMessage(
        external_id,
        f"Text of {external_id}",
        at,
        Author(handle, name, **author),
        direction=direction,
    )


def store(session: Session, cast: Cast, channel: Channel, items: list[RawMessage]) -> list[Any]:
    result = ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=items)
    return result.inserted


def identity_of(session: Session, message_id: Any) -> Identity:
    identity_id = session.scalar(select(Message.identity_id).where(Message.id == message_id))
    assert identity_id is not None, "the message was not linked"
    return session.scalars(select(Identity).where(Identity.id == identity_id)).one()


def person_count(session: Session, cast: Cast) -> int:
    query = select(func.count()).select_from(Person).where(Person.workspace_id == cast.a.id)
    return session.scalar(query) or 0


@pytest.mark.parametrize(
    ("kind", "handle", "expected_kind", "value"),
    [
        (ChannelKind.EMAIL, "Anna@Example.com", IdentityKind.EMAIL, "anna@example.com"),
        (ChannelKind.TELEGRAM, "424242", IdentityKind.TELEGRAM, "424242"),
        (ChannelKind.VK, "777", IdentityKind.VK, "777"),
        (ChannelKind.WIDGET, "8 (916) 123-45-67", IdentityKind.PHONE, "+79161234567"),
        (ChannelKind.WIDGET, "anna@example.com", IdentityKind.EMAIL, "anna@example.com"),
        (ChannelKind.FILE, "anna_reviews", IdentityKind.HANDLE, "anna_reviews"),
        (ChannelKind.WEBHOOK, "user-17", IdentityKind.HANDLE, "user-17"),
        (ChannelKind.RSS, "blog.example.com", IdentityKind.HANDLE, "blog.example.com"),
        (ChannelKind.OFFLINE, "анна петрова", IdentityKind.WALKIN, "анна петрова"),
    ],
)
def test_a_new_message_links_its_author_in_every_kind_of_channel(
    session: Session,
    cast: Cast,
    kind: ChannelKind,
    handle: str,
    expected_kind: IdentityKind,
    value: str,
) -> None:
    channel = make_channel(session, cast, kind)
    [message_id] = store(session, cast, channel, [message("m1", handle, name="Анна Петрова")])
    identity = identity_of(session, message_id)
    assert (identity.kind, identity.value) == (expected_kind, value)
    person = service.get_person(session, workspace_id=cast.a.id, person_id=identity.person_id)
    assert person.name == "Анна Петрова"
    assert (person.message_count, person.first_seen_at, person.last_seen_at) == (1, T0, T0)


def test_the_same_email_in_two_channels_is_one_person(session: Session, cast: Cast) -> None:
    mail = make_channel(session, cast, ChannelKind.EMAIL)
    widget = make_channel(session, cast, ChannelKind.WIDGET)
    [first] = store(session, cast, mail, [message("a", "ivan@example.com", name="Иван")])
    later = T0 + timedelta(days=2)
    [second] = store(session, cast, widget, [message("b", "Ivan@Example.com", at=later)])
    assert identity_of(session, first).id == identity_of(session, second).id
    person = service.get_person(
        session, workspace_id=cast.a.id, person_id=identity_of(session, first).person_id
    )
    assert (person.message_count, person.first_seen_at, person.last_seen_at) == (2, T0, later)
    assert person_count(session, cast) == 1


def test_reingesting_the_same_messages_links_nothing_twice(session: Session, cast: Cast) -> None:
    channel = make_channel(session, cast, ChannelKind.TELEGRAM)
    items = [message(f"m{i}", "42", name="Иван", at=T0 + timedelta(hours=i)) for i in range(3)]
    store(session, cast, channel, items)
    store(session, cast, channel, items)
    assert linking.link_pending(session, workspace_id=cast.a.id) == 0
    [person] = session.scalars(select(Person).where(Person.workspace_id == cast.a.id)).all()
    assert person.message_count == 3
    assert session.scalar(select(func.count()).select_from(Identity)) == 1


def test_the_identity_keeps_the_latest_name_url_and_reach(session: Session, cast: Cast) -> None:
    channel = make_channel(session, cast, ChannelKind.TELEGRAM)
    store(session, cast, channel, [message("m1", "42", name="Ваня", followers=10)])
    later = T0 + timedelta(days=1)
    [last] = store(
        session,
        cast,
        channel,
        [message("m2", "42", name="Иван Петров", url="https://t.me/ivan", at=later)],
    )
    identity = identity_of(session, last)
    assert (identity.name, identity.url, identity.followers) == (
        "Иван Петров",
        "https://t.me/ivan",
        10,
    )
    assert identity.last_seen_at == later


def test_outbound_messages_and_placeholder_authors_are_not_linked(
    session: Session, cast: Cast
) -> None:
    channel = make_channel(session, cast, ChannelKind.FILE)
    ours = message("ours", "brand", direction=Direction.OUTBOUND)
    ids = store(session, cast, channel, [ours, message("anon", "unknown")])
    linked = session.scalars(select(Message.identity_id).where(Message.id.in_(ids))).all()
    assert linked == [None, None]
    assert person_count(session, cast) == 0
    assert linking.pending_count(session, workspace_id=cast.a.id) == 0


def test_a_big_import_is_left_to_the_job_which_links_it_in_chunks(
    session: Session, cast: Cast, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(session, cast, ChannelKind.FILE)
    items = [
        message(f"m{i}", f"author{i % 150}", at=T0 + timedelta(minutes=i))
        for i in range(linking.INLINE_LIMIT + 100)
    ]
    store(session, cast, channel, items)
    session.commit()
    assert linking.pending_count(session, workspace_id=cast.a.id) == len(items)
    monkeypatch.setattr(linking, "CHUNK", 250)  # several chunks in one run
    registry.load()
    engine = engine_from_settings(settings)
    try:
        linked = run_now(make_sessionmaker(engine), "people.link_pending")
    finally:
        engine.dispose()
    session.expire_all()
    assert linked == len(items)
    assert linking.pending_count(session, workspace_id=cast.a.id) == 0
    persons = session.scalars(select(Person).where(Person.workspace_id == cast.a.id)).all()
    assert len(persons) == 150
    assert sum(p.message_count for p in persons) == len(items)


def test_the_link_command_catches_up(session: Session, cast: Cast, env: None) -> None:
    channel = make_channel(session, cast, ChannelKind.FILE)
    items = [message(f"m{i}", f"a{i % 7}") for i in range(linking.INLINE_LIMIT + 1)]
    store(session, cast, channel, items)
    session.commit()
    result = CliRunner().invoke(cli_app, ["people", "link", "--workspace", "alpha"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert linking.pending_count(session, workspace_id=cast.a.id) == 0
    assert person_count(session, cast) == 7
