"""Who else has a conversation open, and who is typing in it: the collision warning.

An open conversation page sends a heartbeat every ``HEARTBEAT`` seconds; a member counts
as *here* while their last heartbeat is younger than ``HERE_FOR``, and as *typing* while
their draft changed within ``TYPING_FOR`` (the draft autosave marks it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import User
from h2h.db import utcnow
from h2h.inbox import service
from h2h.inbox.models import Conversation, Presence

HEARTBEAT = 15  # seconds between a page's heartbeats
HERE_FOR = timedelta(seconds=45)  # three missed heartbeats: gone
TYPING_FOR = timedelta(seconds=20)


@dataclass(frozen=True)
class Here:
    user_id: uuid.UUID
    name: str
    typing: bool


def heartbeat(
    session: Session,
    *,
    conversation: Conversation,
    actor: accounts.Actor,
    typing: bool = False,
    now: datetime | None = None,
) -> None:
    """Mark the agent as looking at (and maybe typing in) the conversation now."""
    user_id = service.person_of(actor)
    now = now or utcnow()
    values = {"seen_at": now, **({"typing_at": now} if typing else {})}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two tabs of one agent may beat at once: an upsert, never a duplicate-key error.
    session.execute(
        insert(Presence)
        .values(
            workspace_id=conversation.workspace_id,
            id=uuid.uuid4(),
            conversation_id=conversation.id,
            user_id=user_id,
            **values,
        )
        .on_conflict_do_update(
            index_elements=["workspace_id", "conversation_id", "user_id"], set_=values
        )
    )


def others(
    session: Session,
    *,
    conversation: Conversation,
    user_id: uuid.UUID | None,
    now: datetime | None = None,
) -> list[Here]:
    """Other members who have this conversation open now, typing ones first."""
    now = now or utcnow()
    rows = session.execute(
        select(Presence, User.name)
        .join(User, User.id == Presence.user_id)
        .where(
            Presence.workspace_id == conversation.workspace_id,
            Presence.conversation_id == conversation.id,
            Presence.seen_at >= now - HERE_FOR,
        )
        .order_by(User.name)
    ).all()
    found = [
        Here(
            user_id=presence.user_id,
            name=name,
            typing=presence.typing_at is not None and presence.typing_at >= now - TYPING_FOR,
        )
        for presence, name in rows
        if presence.user_id != user_id
    ]
    return sorted(found, key=lambda h: (not h.typing, h.name))


def seen_since(
    session: Session, *, workspace_id: uuid.UUID, since: datetime, limit: int = 500
) -> list[tuple[int, datetime]]:
    """(number, latest heartbeat) of conversations someone looked at after ``since``."""
    rows = session.execute(
        select(Conversation.number, Presence.seen_at)
        .join(
            Conversation,
            (Conversation.workspace_id == Presence.workspace_id)
            & (Conversation.id == Presence.conversation_id),
        )
        .where(Presence.workspace_id == workspace_id, Presence.seen_at > since)
        .order_by(Presence.seen_at)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]
