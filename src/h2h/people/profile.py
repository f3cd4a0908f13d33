"""A person's profile: one timeline merged from every registered source, and key figures.

Sources (``timeline.timeline_source``) each answer one indexed query with a LIMIT; this
module merges them newest first and pages by a keyset cursor ``<time>~<kind>~<id>``, so
items that share a timestamp are never lost or shown twice across pages. The sources of
messages, our replies in their conversations, and notes live here; the other parts of the
domain register theirs from their own modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, tuple_, union_all
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import Direction
from h2h.channels.models import Channel, Message
from h2h.errors import N_, InvalidInput
from h2h.nlp import service as nlp
from h2h.nlp.models import intents_of
from h2h.people import service
from h2h.people.models import Note, Person
from h2h.people.timeline import SOURCES, TimelineItem, TimelineQuery, timeline_source

MAX_LIMIT = 200
PAGE = 30  # items per page of the profile page
# A source that keeps filling its page at one instant is asked again with a bigger page,
# up to this many rows, so that every item of that instant is seen before paging past it.
MAX_TIES = 5000
THREADS_SCANNED = 500  # the person's latest messages whose conversations count
MAX_THREADS = 100  # of those, the latest conversations
Key = tuple[datetime, str, str]


# --- cursor -----------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_cursor(item: TimelineItem) -> str:
    """The cursor after ``item``: its time, kind and id (URL-safe)."""
    return f"{_iso(item.at)}~{item.kind}~{item.id}"


def decode_cursor(cursor: str | datetime | None) -> Key | None:
    """(time, kind, id) to page before; a bare ISO time means "strictly older than it"."""
    if cursor is None or cursor == "":
        return None
    if isinstance(cursor, datetime):
        at, kind, item_id = cursor, "", ""
    else:
        text, _, rest = cursor.partition("~")
        kind, _, item_id = rest.partition("~")
        try:
            at = datetime.fromisoformat(text.strip().replace(" ", "+"))
        except ValueError:
            raise InvalidInput(
                N_("“{value}” is not a timeline position; use the next cursor of a page."),
                field="before",
                value=cursor[:60],
            ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at.astimezone(UTC), kind, item_id)


def _key(item: TimelineItem) -> Key:
    return (item.at.astimezone(UTC), item.kind, item.id)


# --- merging ----------------------------------------------------------------------------------


def timeline(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID,
    before: str | datetime | None = None,
    limit: int = 50,
) -> tuple[list[TimelineItem], str | None]:
    """A page of the person's timeline, newest first, and the cursor of the next page."""
    limit = max(1, min(limit, MAX_LIMIT))
    cursor = decode_cursor(before)
    ids = service.identity_ids(session, workspace_id=workspace_id, person_id=person_id)
    # Ask for the cursor's instant too (sources return strictly older items): its other
    # items must still come; the key comparison drops those already shown.
    query = TimelineQuery(
        workspace_id=workspace_id,
        person_id=person_id,
        identity_ids=ids,
        before=cursor[0] + timedelta(microseconds=1) if cursor else None,
        limit=limit + 2,
    )
    candidates: list[TimelineItem] = []
    horizon: datetime | None = None  # items older than this may be missing from some source
    maybe_more = False
    for kind in sorted(SOURCES):
        items, complete_from, full = _complete(session, SOURCES[kind], query, cursor, limit)
        candidates.extend(items)
        maybe_more = maybe_more or full
        if complete_from is not None and (horizon is None or complete_from > horizon):
            horizon = complete_from
    kept = [i for i in candidates if horizon is None or i.at >= horizon]
    kept.sort(key=_key, reverse=True)
    page = kept[:limit]
    more = maybe_more or len(kept) > limit
    return page, encode_cursor(page[-1]) if page and more else None


def _complete(
    session: Session, source: Any, query: TimelineQuery, cursor: Key | None, limit: int
) -> tuple[list[TimelineItem], datetime | None, bool]:
    """A source's items after the cursor, whole instants only: (items, complete from, full).

    A full answer may stop inside a run of items at one instant, in any order, so its
    oldest instant is left out (the next page asks again); when that leaves too little,
    the source is asked for a bigger page.
    """
    asked = query.limit
    while True:
        items = [_aware(i) for i in source(session, replace(query, limit=asked))]
        if len(items) < asked:
            return _after(items, cursor), None, False
        oldest = min(i.at for i in items)
        whole = _after([i for i in items if i.at > oldest], cursor)
        if len(whole) >= max(1, limit // 2):
            return whole, min(i.at for i in whole), True
        if asked >= MAX_TIES:  # thousands of items in one instant: show them, maybe not all
            return _after(items, cursor), None, True
        asked = min(asked * 4, MAX_TIES)


def _aware(item: TimelineItem) -> TimelineItem:
    # A source reading an aggregate on SQLite may hand back a naive time; it is UTC.
    return replace(item, at=item.at.replace(tzinfo=UTC)) if item.at.tzinfo is None else item


def _after(items: list[TimelineItem], cursor: Key | None) -> list[TimelineItem]:
    return items if cursor is None else [i for i in items if _key(i) < cursor]


# --- sources: messages, our replies, notes ------------------------------------------------------


def _message_columns() -> list[Any]:
    return [
        Message.id,
        Message.created_at,
        Message.text,
        Message.url,
        Message.language,
        Message.thread_id,
        Message.author_name,
        Message.author_handle,
        Message.channel_id,
        Channel.name.label("channel_name"),
        Channel.kind.label("channel_kind"),
    ]


def _messages(query: TimelineQuery, *conditions: Any) -> Select[Any]:
    """Newest messages matching ``conditions`` before the query's time, with their channel."""
    stmt = (
        select(*_message_columns())
        .join(
            Channel,
            (Channel.workspace_id == Message.workspace_id) & (Channel.id == Message.channel_id),
        )
        .where(Message.workspace_id == query.workspace_id, *conditions)
    )
    if query.before is not None:
        stmt = stmt.where(Message.created_at < query.before)
    return stmt.order_by(Message.created_at.desc(), Message.id.desc()).limit(query.limit)


def _by_identity(session: Session, query: TimelineQuery, *conditions: Any) -> list[Any]:
    """The newest rows over all the person's identities: one LIMITed index range per identity.

    ``identity_id IN (...)`` would read every message of every identity and sort them; a
    union of per-identity ranges reads at most ``limit`` rows of each.
    """
    if not query.identity_ids:
        return []
    parts = [_messages(query, Message.identity_id == i, *conditions) for i in query.identity_ids]
    if len(parts) == 1:
        rows = list(session.execute(parts[0]))
    else:
        subs = [part.subquery() for part in parts]
        rows = list(session.execute(union_all(*(select(sub) for sub in subs))))
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return rows[: query.limit]


def _message_data(row: Any) -> dict[str, Any]:
    return {
        "channel_id": str(row.channel_id),
        "channel": row.channel_name,
        "channel_kind": str(row.channel_kind),
        "author": row.author_name or row.author_handle,
        "language": row.language,
        "external_url": row.url,
    }


@timeline_source("message")
def message_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """What the person wrote, in every channel, with what the analysis understood."""
    rows = _by_identity(session, query, Message.direction == Direction.INBOUND)
    analyses = nlp.analyses_of(
        session, workspace_id=query.workspace_id, message_ids=[r.id for r in rows]
    )
    items = []
    for row in rows:
        data = _message_data(row)
        analysis = analyses.get(row.id)
        if analysis is not None:
            data.update(
                sentiment=str(analysis.sentiment),
                sentiment_score=analysis.sentiment_score,
                intents=[i for i in intents_of(analysis.intents) if i != "other"],
                urgency=analysis.urgency,
                profanity=analysis.profanity,
            )
        items.append(_item("message", row, data))
    return items


def _item(kind: str, row: Any, data: dict[str, Any]) -> TimelineItem:
    return TimelineItem(
        kind=kind,
        at=row.created_at,
        id=str(row.id),
        title=row.channel_name,
        body=row.text,
        url=f"/mentions/{row.id}",
        data=data,
    )


def person_threads(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], tuple[datetime, uuid.UUID]]:
    """Conversations the person wrote in (of their latest messages): their last message in each."""
    if not identity_ids:
        return {}
    rows = session.execute(
        select(Message.channel_id, Message.thread_id, Message.created_at, Message.id)
        .where(
            Message.workspace_id == workspace_id,
            Message.identity_id.in_(identity_ids),
            Message.direction == Direction.INBOUND,
            Message.thread_id.is_not(None),
        )
        .order_by(Message.created_at.desc())
        .limit(THREADS_SCANNED)
    )
    threads: dict[tuple[uuid.UUID, str], tuple[datetime, uuid.UUID]] = {}
    for channel_id, thread_id, created_at, message_id in rows:
        threads.setdefault((channel_id, str(thread_id)), (created_at, message_id))
        if len(threads) >= MAX_THREADS:
            break
    return threads


@timeline_source("reply")
def reply_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """Our answers in the conversations the person wrote in."""
    threads = person_threads(
        session, workspace_id=query.workspace_id, identity_ids=query.identity_ids
    )
    if not threads:
        return []
    rows = session.execute(
        _messages(
            query,
            Message.direction == Direction.OUTBOUND,
            tuple_(Message.channel_id, Message.thread_id).in_(list(threads)),
        )
    )
    return [_item("reply", row, _message_data(row)) for row in rows]


@timeline_source("note")
def note_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """Notes staff wrote about the person."""
    stmt = select(Note).where(
        Note.workspace_id == query.workspace_id, Note.person_id == query.person_id
    )
    if query.before is not None:
        stmt = stmt.where(Note.created_at < query.before)
    notes = session.scalars(
        stmt.order_by(Note.created_at.desc(), Note.id.desc()).limit(query.limit)
    )
    authors = service.member_names(session, workspace_id=query.workspace_id)
    return [
        TimelineItem(
            kind="note",
            at=note.created_at,
            id=str(note.id),
            title=authors.get(note.author_id, "") if note.author_id else "",
            body=note.text,
            data={"author_id": str(note.author_id) if note.author_id else None},
        )
        for note in notes
    ]


# --- key figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFigures:
    """What a profile shows at the top: contact, money, voice and what waits for an answer."""

    first_contact: datetime | None
    last_contact: datetime | None
    lifetime_value: int  # minor units
    currency: str
    order_count: int
    message_count: int
    sentiment: list[dict[str, Any]]  # per month, oldest first: counts and net (-1..1)
    open_conversations: int
    open_message_ids: list[uuid.UUID]  # the person's last message in each, newest first


def key_figures(session: Session, *, workspace_id: uuid.UUID, person: Person) -> KeyFigures:
    """The profile's key figures, from the person's aggregates and a few bounded queries."""
    ids = service.identity_ids(session, workspace_id=workspace_id, person_id=person.id)
    open_ids = open_conversations(session, workspace_id=workspace_id, identity_ids=ids)
    return KeyFigures(
        first_contact=person.first_seen_at,
        last_contact=person.last_seen_at,
        lifetime_value=person.lifetime_value,
        currency=service.get_settings(session, workspace_id=workspace_id).currency,
        order_count=person.order_count,
        message_count=person.message_count,
        sentiment=nlp.sentiment_by_month(session, workspace_id=workspace_id, identity_ids=ids),
        open_conversations=len(open_ids),
        open_message_ids=open_ids,
    )


def open_conversations(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """The person's last message of each conversation nobody answered after it, newest first."""
    threads = person_threads(session, workspace_id=workspace_id, identity_ids=identity_ids)
    if not threads:
        return []
    answered = _last_replies(session, workspace_id, list(threads))
    waiting = [
        (at, message_id)
        for key, (at, message_id) in threads.items()
        if key not in answered or answered[key] < at
    ]
    return [message_id for _, message_id in sorted(waiting, reverse=True)]


def _last_replies(
    session: Session, workspace_id: uuid.UUID, threads: list[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], datetime]:
    rows = session.execute(
        select(Message.channel_id, Message.thread_id, func.max(Message.created_at))
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == Direction.OUTBOUND,
            tuple_(Message.channel_id, Message.thread_id).in_(threads),
        )
        .group_by(Message.channel_id, Message.thread_id)
    )
    return {(row[0], str(row[1])): service.as_utc(row[2]) for row in rows}
