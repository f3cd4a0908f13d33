"""Identities and persons come into being through ``identities.ensure``; aggregates follow."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.channels.models import Message
from h2h.people import identities, service
from h2h.people.models import IdentityKind, LifecycleStage, Order, Person
from tests.conftest import Cast


def test_ensure_creates_one_person_per_new_identity_and_finds_it_again(
    session: Session, cast: Cast
) -> None:
    claims = [
        identities.Claim(IdentityKind.EMAIL, "anna@example.com", name="Анна Петрова"),
        identities.Claim(IdentityKind.PHONE, "+79161234567"),
    ]
    first = identities.ensure(session, workspace_id=cast.a.id, claims=claims)
    again = identities.ensure(session, workspace_id=cast.a.id, claims=claims)
    assert all(found.created for found in first.values())
    assert not any(found.created for found in again.values())
    assert {k: v.identity_id for k, v in first.items()} == {
        k: v.identity_id for k, v in again.items()
    }
    person = service.get_person(
        session, workspace_id=cast.a.id, person_id=first[claims[0].key].person_id
    )
    assert person.name == "Анна Петрова"
    assert person.name_key == "anna petrova"


def test_ensure_keeps_workspaces_apart(session: Session, cast: Cast) -> None:
    claim = identities.Claim(IdentityKind.EMAIL, "same@example.com")
    in_a = identities.ensure(session, workspace_id=cast.a.id, claims=[claim])[claim.key]
    in_b = identities.ensure(session, workspace_id=cast.b.id, claims=[claim])[claim.key]
    assert in_b.created and in_a.person_id != in_b.person_id


def test_refresh_aggregates_counts_messages_and_orders_through_identities(
    session: Session, cast: Cast
) -> None:
    claim = identities.Claim(IdentityKind.EMAIL, "ivan@example.com", name="Ivan")
    found = identities.ensure(session, workspace_id=cast.a.id, claims=[claim])[claim.key]
    channel = channels.create_channel(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        kind=ChannelKind.FILE,
        name="Reviews",
    )
    stored = ingest.store(
        session,
        workspace_id=cast.a.id,
        channel_id=channel.id,
        items=[
            RawMessage(f"m{i}", f"Message {i}", datetime(2026, 3, i + 1, tzinfo=UTC), Author("iv"))
            for i in range(3)
        ],
    )
    session.execute(
        update(Message)
        .where(Message.workspace_id == cast.a.id, Message.id.in_(stored.inserted))
        .values(identity_id=found.identity_id)
    )
    for number, (total, cancelled) in enumerate([(1500, False), (2500, False), (-500, True)]):
        session.add(
            Order(
                workspace_id=cast.a.id,
                external_id=f"INV-{number}",
                identity_id=found.identity_id,
                placed_at=datetime(2026, 4, number + 1, tzinfo=UTC),
                total=total,
                is_cancellation=cancelled,
            )
        )
    session.flush()
    service.refresh_aggregates(session, workspace_id=cast.a.id, person_ids=[found.person_id])
    person = session.scalars(select(Person).where(Person.id == found.person_id)).one()
    assert (person.message_count, person.order_count, person.lifetime_value) == (3, 2, 3500)
    assert person.last_order_at == datetime(2026, 4, 3, tzinfo=UTC)
    assert person.last_seen_at == datetime(2026, 4, 3, tzinfo=UTC)
    assert person.stage == LifecycleStage.REPEAT
