"""Builders for profile tests: a person with messages in a thread, our replies, and notes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage
from h2h.channels.models import Channel, Message
from h2h.people import service
from h2h.people.models import Note, Person

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Story:
    person: Person
    channel: Channel
    inbound: list[uuid.UUID] = field(default_factory=list)
    replies: list[uuid.UUID] = field(default_factory=list)


def channel(session: Session, workspace_id: uuid.UUID, name: str = "Support mail") -> Channel:
    return channels.get_or_create_channel(
        session, workspace_id=workspace_id, actor=accounts.SYSTEM, kind=ChannelKind.FILE, name=name
    )


def person(
    session: Session, workspace_id: uuid.UUID, name: str, email: str | None = None
) -> Person:
    return service.create_person(
        session, workspace_id=workspace_id, actor=accounts.SYSTEM, name=name, email=email
    )


def messages(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    identity_id: uuid.UUID | None,
    texts: list[tuple[str, datetime]],
    thread: str | None = None,
    direction: Direction = Direction.INBOUND,
    handle: str = "customer@example.com",
) -> list[uuid.UUID]:
    """Store messages and link them to ``identity_id``; ids in the order given."""
    tag = uuid.uuid4().hex[:8]
    items = [
        RawMessage(
            f"{tag}-{i}",
            text,
            at,
            Author(handle, name="Support" if direction is Direction.OUTBOUND else None),
            thread_id=thread,
            direction=direction,
        )
        for i, (text, at) in enumerate(texts)
    ]
    ingest.store(session, workspace_id=workspace_id, channel_id=channel_id, items=items)
    rows = dict(
        session.execute(
            select(Message.external_id, Message.id).where(
                Message.workspace_id == workspace_id,
                Message.external_id.in_([item.external_id for item in items]),
            )
        ).all()
    )
    ids = [rows[item.external_id] for item in items]
    if direction is Direction.INBOUND:
        session.execute(
            update(Message)
            .where(Message.workspace_id == workspace_id, Message.id.in_(ids))
            .values(identity_id=identity_id)
        )
    session.flush()
    return ids


def note(
    session: Session, workspace_id: uuid.UUID, person_id: uuid.UUID, text: str, at: datetime
) -> Note:
    row = Note(workspace_id=workspace_id, person_id=person_id, text=text, created_at=at)
    session.add(row)
    session.flush()
    return row


def story(session: Session, workspace_id: uuid.UUID, name: str = "Анна Петрова") -> Story:
    """A customer who wrote twice in one email thread, was answered once, and has a note."""
    mail = channel(session, workspace_id)
    customer = person(session, workspace_id, name, email="anna.petrova@example.com")
    (identity_id,) = service.identity_ids(session, workspace_id=workspace_id, person_id=customer.id)
    inbound = messages(
        session,
        workspace_id=workspace_id,
        channel_id=mail.id,
        identity_id=identity_id,
        texts=[
            ("Кофе привезли холодным, очень обидно.", T0),
            ("Спасибо, что быстро заменили! Всё отлично.", T0 + timedelta(days=2)),
        ],
        thread="thread-anna",
        handle="anna.petrova@example.com",
    )
    replies = messages(
        session,
        workspace_id=workspace_id,
        channel_id=mail.id,
        identity_id=None,
        texts=[("Простите нас, Анна! Заменим сегодня.", T0 + timedelta(hours=3))],
        thread="thread-anna",
        direction=Direction.OUTBOUND,
        handle="shop@example.com",
    )
    note(session, workspace_id, customer.id, "Prefers oat milk.", T0 + timedelta(days=1))
    service.refresh_aggregates(session, workspace_id=workspace_id, person_ids=[customer.id])
    return Story(customer, mail, inbound, replies)
