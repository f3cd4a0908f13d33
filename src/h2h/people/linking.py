"""Linking: every inbound message's author becomes an identity, and so a person.

A post-ingest step links a small batch in the ingest transaction (a webhook, a poll, the
widget: the profile is right at once); a bigger batch (a file import) is left to the
``people.link_pending`` job, which links messages whose ``identity_id`` is still empty in
chunks. Our own outbound messages are not linked by author: the author is us.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from h2h.accounts.models import Workspace
from h2h.channels import ingest
from h2h.channels.connectors.base import Author, Direction
from h2h.channels.models import Channel, Message
from h2h.people import identities, service
from h2h.people.models import Identity, Person

INLINE_LIMIT = 500  # new messages linked inside the ingest transaction; more go to the job
CHUNK = 1000
PERSONS: Table = Person.__table__  # type: ignore[assignment]
IDENTITIES: Table = Identity.__table__  # type: ignore[assignment]


@ingest.after_ingest(stage=ingest.IDENTIFY)
def link_new_messages(
    session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Post-ingest step: link a small batch now; a big one waits for the pending job."""
    if 0 < len(messages) <= INLINE_LIMIT:
        link_messages(
            session, workspace_id=workspace_id, message_ids=[m for m, _ in messages], fresh=True
        )


@dataclass
class _Seen:
    count: int
    first: datetime
    last: datetime
    name: str | None = None
    url: str | None = None
    followers: int | None = None


def link_messages(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    message_ids: Sequence[uuid.UUID],
    fresh: bool = False,
) -> int:
    """Link these inbound messages (those not linked yet) to their authors' identities.

    ``fresh`` says the messages were stored in this very transaction, so nobody else can
    be linking them: the persons' figures are then updated by increments instead of being
    recounted. Returns how many messages were linked.
    """
    rows = _unlinked(session, workspace_id, message_ids)
    if not rows:
        return 0
    region = identities.region_for(_language(session, workspace_id))
    claims: dict[uuid.UUID, identities.Claim] = {}
    for row in rows:
        author = Author(row.author_handle, row.author_name, row.author_url, row.author_followers)
        claim = identities.claim_for_author(
            row.kind, row.channel_id, author, region, seen_at=row.created_at
        )
        if claim is not None:
            claims[row.id] = claim
    if not claims:
        return 0
    found = identities.ensure(session, workspace_id=workspace_id, claims=list(claims.values()))
    links = {message_id: found[claim.key].identity_id for message_id, claim in claims.items()}
    ingest.set_identities(session, workspace_id=workspace_id, identities=links)
    seen = _seen_by_identity(rows, links)
    _touch_identities(session, workspace_id, seen)
    person_of = {f.identity_id: f.person_id for f in found.values()}
    if fresh:
        _count_messages(session, workspace_id, seen, person_of)
    else:
        persons = list(dict.fromkeys(person_of[i] for i in seen))
        service.refresh_aggregates(session, workspace_id=workspace_id, person_ids=persons)
    return len(links)


def _unlinked(session: Session, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]) -> Any:
    out: list[Any] = []
    ids = list(message_ids)
    for start in range(0, len(ids), CHUNK):
        out += session.execute(
            select(
                Message.id,
                Message.channel_id,
                Channel.kind,
                Message.author_handle,
                Message.author_name,
                Message.author_url,
                Message.author_followers,
                Message.created_at,
            )
            .join(
                Channel,
                (Channel.workspace_id == Message.workspace_id) & (Channel.id == Message.channel_id),
            )
            .where(
                Message.workspace_id == workspace_id,
                Message.id.in_(ids[start : start + CHUNK]),
                Message.direction == Direction.INBOUND,
                Message.identity_id.is_(None),
            )
            .order_by(Message.created_at)
        ).all()
    return out


def _language(session: Session, workspace_id: uuid.UUID) -> str | None:
    return session.scalar(select(Workspace.language).where(Workspace.id == workspace_id))


def _seen_by_identity(rows: Any, links: dict[uuid.UUID, uuid.UUID]) -> dict[uuid.UUID, _Seen]:
    """Per identity: how many new messages, when, and the latest name, URL and reach."""
    seen: dict[uuid.UUID, _Seen] = {}
    for row in rows:  # oldest first, so the latest values win
        identity_id = links.get(row.id)
        if identity_id is None:
            continue
        entry = seen.get(identity_id)
        if entry is None:
            entry = seen[identity_id] = _Seen(0, row.created_at, row.created_at)
        entry.count += 1
        entry.first, entry.last = min(entry.first, row.created_at), max(entry.last, row.created_at)
        entry.name = row.author_name or entry.name
        entry.url = row.author_url or entry.url
        entry.followers = (
            row.author_followers if row.author_followers is not None else entry.followers
        )
    return seen


def _later(column: Any, value: Any) -> Any:
    return case((or_(column.is_(None), column < value), value), else_=column)


def _earlier(column: Any, value: Any) -> Any:
    return case((or_(column.is_(None), column > value), value), else_=column)


def _touch_identities(
    session: Session, workspace_id: uuid.UUID, seen: dict[uuid.UUID, _Seen]
) -> None:
    # Expressions instead of read-modify-write: a concurrent linker of the same identity
    # (two channels, one email address) cannot make last_seen_at go backwards.
    last = bindparam("b_last", type_=IDENTITIES.c.last_seen_at.type)
    statement = (
        update(IDENTITIES)
        .where(IDENTITIES.c.workspace_id == bindparam("b_ws"), IDENTITIES.c.id == bindparam("b_id"))
        .values(
            last_seen_at=_later(IDENTITIES.c.last_seen_at, last),
            name=func.coalesce(
                bindparam("b_name", type_=IDENTITIES.c.name.type), IDENTITIES.c.name
            ),
            url=func.coalesce(bindparam("b_url", type_=IDENTITIES.c.url.type), IDENTITIES.c.url),
            followers=func.coalesce(
                bindparam("b_followers", type_=IDENTITIES.c.followers.type), IDENTITIES.c.followers
            ),
        )
    )
    rows = [
        {
            "b_ws": workspace_id,
            "b_id": identity_id,
            "b_last": s.last,
            "b_name": s.name[:300] if s.name else None,
            "b_url": s.url[:1000] if s.url else None,
            "b_followers": s.followers,
        }
        for identity_id, s in seen.items()
    ]
    session.execute(statement, rows)


def _count_messages(
    session: Session,
    workspace_id: uuid.UUID,
    seen: dict[uuid.UUID, _Seen],
    person_of: dict[uuid.UUID, uuid.UUID],
) -> None:
    per_person: dict[uuid.UUID, _Seen] = {}
    for identity_id, s in seen.items():
        person_id = person_of[identity_id]
        entry = per_person.get(person_id)
        if entry is None:
            per_person[person_id] = _Seen(s.count, s.first, s.last)
        else:
            entry.count += s.count
            entry.first, entry.last = min(entry.first, s.first), max(entry.last, s.last)
    first = bindparam("b_first", type_=PERSONS.c.first_seen_at.type)
    last = bindparam("b_last", type_=PERSONS.c.last_seen_at.type)
    statement = (
        update(PERSONS)
        .where(PERSONS.c.workspace_id == bindparam("b_ws"), PERSONS.c.id == bindparam("b_id"))
        .values(
            message_count=PERSONS.c.message_count + bindparam("b_count"),
            first_seen_at=_earlier(PERSONS.c.first_seen_at, first),
            last_seen_at=_later(PERSONS.c.last_seen_at, last),
        )
    )
    session.execute(
        statement,
        [
            {
                "b_ws": workspace_id,
                "b_id": pid,
                "b_count": s.count,
                "b_first": s.first,
                "b_last": s.last,
            }
            for pid, s in per_person.items()
        ],
    )
    _expire(session, workspace_id, list(per_person))


def _expire(session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]) -> None:
    """Persons this session already holds must not show the figures from before."""
    for person_id in person_ids:
        held = session.identity_map.get(session.identity_key(Person, (workspace_id, person_id)))
        if held is not None:
            session.expire(held)


# --- catching up ----------------------------------------------------------------------------------


def _pending(workspace_id: uuid.UUID) -> Any:
    return select(Message.id).where(
        Message.workspace_id == workspace_id,
        Message.identity_id.is_(None),
        Message.direction == Direction.INBOUND,
        # Placeholders are never linked; without this they would fill every chunk forever.
        func.lower(func.trim(Message.author_handle)).not_in(sorted(identities.ANONYMOUS_HANDLES)),
    )


def pending_count(session: Session, *, workspace_id: uuid.UUID) -> int:
    """How many inbound messages wait to be linked to a person."""
    return session.scalar(select(func.count()).select_from(_pending(workspace_id).subquery())) or 0


def link_pending(session: Session, *, workspace_id: uuid.UUID, limit: int = CHUNK) -> int:
    """Link one chunk of messages not linked yet, oldest first; returns how many (0: done)."""
    ids = list(session.scalars(_pending(workspace_id).order_by(Message.created_at).limit(limit)))
    return link_messages(session, workspace_id=workspace_id, message_ids=ids) if ids else 0
