"""Operations of the channels domain: channels, polling state, inbound paths, the stream."""

from __future__ import annotations

import hashlib
import hmac
import secrets as secrets_module
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import importer, ingest, textproc
from h2h.channels.connectors.base import (
    Author,
    ChannelKind,
    ConnectorError,
    Direction,
    RawMessage,
    ReplyingConnector,
    get_connector,
)
from h2h.channels.models import (
    Channel,
    ChannelStatus,
    ColumnMapping,
    ImportRejection,
    ImportRun,
    Message,
)
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied

MAX_BACKOFF = timedelta(hours=6)
WEBHOOK_TOLERANCE_SECONDS = 300
PAGE_SIZE = 50
# Settings a channel of each kind must have before it can be saved.
REQUIRED_CONFIG = {
    ChannelKind.RSS: ("url",),
    ChannelKind.EMAIL: ("imap_host", "smtp_host", "from_address"),
    ChannelKind.TELEGRAM: (),
    ChannelKind.VK: ("group_id",),
}
REQUIRED_SECRETS = {
    ChannelKind.EMAIL: ("username", "password"),
    ChannelKind.TELEGRAM: ("bot_token",),
    ChannelKind.VK: ("access_token",),
}


# --- channels -------------------------------------------------------------------------------


def create_channel(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    kind: ChannelKind,
    name: str,
    config: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    poll_interval_seconds: int = 300,
) -> Channel:
    """Add a channel (owners and admins)."""
    actor.require(Role.ADMIN)
    name = accounts.check_name(name)
    config, secrets = dict(config or {}), {k: v for k, v in (secrets or {}).items() if v}
    _check_settings(kind, config, secrets)
    if kind is ChannelKind.WEBHOOK:
        secrets.setdefault("signing_secret", "whsec_" + secrets_module.token_urlsafe(32))
    if kind is ChannelKind.WIDGET:
        config.setdefault("public_key", "wgt_" + secrets_module.token_urlsafe(18))
    if session.scalar(
        select(Channel.id).where(Channel.workspace_id == workspace_id, Channel.name == name)
    ):
        raise Conflict(N_("A channel with this name already exists."), field="name")
    channel = Channel(
        workspace_id=workspace_id,
        kind=kind,
        name=name,
        config=config,
        secrets=secrets,
        poll_interval_seconds=max(60, poll_interval_seconds),
        next_poll_at=utcnow() if _pollable(kind) else None,
    )
    session.add(channel)
    session.flush()
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="channel.create",
        entity_type="channel",
        entity_id=channel.id,
        details={"name": name, "kind": kind.value},
    )
    return channel


POLLED_KINDS = frozenset({ChannelKind.RSS, ChannelKind.EMAIL, ChannelKind.TELEGRAM, ChannelKind.VK})


def _pollable(kind: ChannelKind) -> bool:
    return kind in POLLED_KINDS


def _check_settings(kind: ChannelKind, config: dict[str, Any], secrets: dict[str, str]) -> None:
    for key in REQUIRED_CONFIG.get(kind, ()):
        if not str(config.get(key) or "").strip():
            raise InvalidInput(
                N_("The setting “{name}” is required for this channel."), field=key, name=key
            )
    for key in REQUIRED_SECRETS.get(kind, ()):
        if not secrets.get(key):
            raise InvalidInput(
                N_("The secret “{name}” is required for this channel."), field=key, name=key
            )
    url = str(config.get("url") or "")
    if url and not url.startswith(("http://", "https://")):
        raise InvalidInput(N_("The address must start with http:// or https://."), field="url")


def can_post(channel: Channel) -> bool:
    """Can H2H send messages through this channel (else replies are only recorded)?"""
    try:
        connector = get_connector(channel.kind)
    except LookupError:
        return False
    return isinstance(connector, ReplyingConnector)


def list_channels(session: Session, *, workspace_id: uuid.UUID) -> list[Channel]:
    return list(
        session.scalars(
            select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.name)
        )
    )


def get_channel(session: Session, *, workspace_id: uuid.UUID, channel_id: Any) -> Channel:
    return get_in_workspace(session, Channel, workspace_id=workspace_id, id=channel_id)


def get_or_create_channel(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    kind: ChannelKind,
    name: str,
) -> Channel:
    """The channel of this kind and name (file imports and the CLI name channels freely)."""
    existing = session.scalars(
        select(Channel).where(Channel.workspace_id == workspace_id, Channel.name == name)
    ).one_or_none()
    if existing is None:
        return create_channel(session, workspace_id=workspace_id, actor=actor, kind=kind, name=name)
    if existing.kind is not kind:
        raise Conflict(N_("The channel “{name}” exists but is of another kind."), name=name)
    return existing


def set_paused(session: Session, *, channel: Channel, actor: accounts.Actor, paused: bool) -> None:
    actor.require(Role.ADMIN)
    channel.status = ChannelStatus.PAUSED if paused else ChannelStatus.ACTIVE
    if not paused:
        channel.failures, channel.next_poll_at = 0, utcnow()
    accounts.record(
        session,
        workspace_id=channel.workspace_id,
        actor=actor,
        action="channel.pause" if paused else "channel.resume",
        entity_type="channel",
        entity_id=channel.id,
    )


def masked_secrets(channel: Channel) -> dict[str, str]:
    """Secrets as the UI may show them: the kind of secret, never the value."""
    return {
        k: f"{v[:4]}…{len(v)}" if k == "signing_secret" else "••••••"
        for k, v in channel.secrets.items()
    }


# --- polling ----------------------------------------------------------------------------------


def check_connection(session: Session, *, channel: Channel) -> str:
    """The "test connection" button: ask the connector, report what it says."""
    try:
        connector = get_connector(channel.kind)
    except LookupError:
        raise InvalidInput(N_("This kind of channel has nothing to connect to.")) from None
    try:
        return connector.check(channel.config, channel.secrets)
    except ConnectorError as exc:
        raise InvalidInput(N_("The connection failed: {error}"), error=str(exc)[:500]) from exc


def due_channels(
    session: Session, *, now: datetime | None = None
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace_id, channel_id) of every channel whose next poll is due."""
    now = now or utcnow()
    rows = session.execute(
        select(Channel.workspace_id, Channel.id).where(
            Channel.status.in_([ChannelStatus.ACTIVE, ChannelStatus.FAILING]),
            Channel.next_poll_at.is_not(None),
            Channel.next_poll_at <= now,
        )
    ).all()
    return [(r.workspace_id, r.id) for r in rows]


@dataclass
class PollOutcome:
    fetched: int = 0
    inserted: int = 0
    error: str | None = None


def poll(session: Session, *, channel: Channel) -> PollOutcome:
    """Read new items from the channel and store them; the cursor moves only after they are."""
    channel.last_polled_at = utcnow()
    try:
        result = get_connector(channel.kind).fetch(channel.config, channel.secrets, channel.cursor)
    except ConnectorError as exc:
        _record_failure(channel, exc)
        return PollOutcome(error=str(exc))
    stored = ingest.store(
        session, workspace_id=channel.workspace_id, channel_id=channel.id, items=result.items
    )
    if result.cursor is not None:
        channel.cursor = result.cursor
    if channel.status is not ChannelStatus.PAUSED:  # "poll now" on a paused channel keeps it paused
        channel.status = ChannelStatus.ACTIVE
    channel.failures = 0
    channel.last_success_at = utcnow()
    channel.next_poll_at = utcnow() + timedelta(seconds=channel.poll_interval_seconds)
    return PollOutcome(fetched=len(result.items), inserted=len(stored.inserted))


def _record_failure(channel: Channel, exc: ConnectorError) -> None:
    channel.last_error, channel.last_error_at = str(exc)[:2000], utcnow()
    channel.failures += 1
    if not exc.retryable:
        channel.status, channel.next_poll_at = ChannelStatus.BROKEN, None
        return
    backoff = timedelta(seconds=channel.poll_interval_seconds * 2 ** min(channel.failures, 10))
    if exc.retry_after:
        backoff = max(backoff, timedelta(seconds=exc.retry_after))
    channel.status = ChannelStatus.FAILING
    channel.next_poll_at = utcnow() + min(backoff, MAX_BACKOFF)


# --- inbound paths that are not polled ----------------------------------------------------------


def verify_webhook(
    channel: Channel,
    *,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float | None = None,
) -> None:
    """Check ``X-H2H-Signature: sha256=<hex of HMAC(secret, timestamp + "." + body)>``.

    The timestamp is signed too and must be recent, so a captured delivery cannot be
    replayed later; a replay within the window is harmless because ingestion is idempotent.
    """
    if channel.kind is not ChannelKind.WEBHOOK or channel.status is ChannelStatus.PAUSED:
        raise NotFound()
    try:
        sent_at = int(timestamp or "")
    except ValueError:
        raise PermissionDenied(
            N_("The X-H2H-Timestamp header is missing or not a number.")
        ) from None
    if abs((now or time.time()) - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise PermissionDenied(N_("The delivery is too old or from the future; check the clock."))
    expected = hmac.new(
        channel.secrets["signing_secret"].encode(), f"{sent_at}.".encode() + body, hashlib.sha256
    ).hexdigest()
    given = (signature or "").removeprefix("sha256=")
    if not hmac.compare_digest(expected, given):
        raise PermissionDenied(N_("The signature does not match the channel's secret."))


def log_offline(
    session: Session,
    *,
    channel: Channel,
    actor: accounts.Actor,
    who: str,
    gist: str,
    happened_at: datetime,
    felt: str | None = None,
    contact: str | None = None,
) -> uuid.UUID:
    """Record a conversation that happened offline (a call, the shop floor, a meeting)."""
    actor.require(Role.AGENT)
    if channel.kind is not ChannelKind.OFFLINE:
        raise InvalidInput(N_("Offline conversations go to an offline channel."))
    who, gist = accounts.check_name(who, field="who"), gist.strip()
    if not gist:
        raise InvalidInput(N_("Write down what the conversation was about."), field="gist")
    if felt not in (None, "", "negative", "neutral", "positive"):
        raise InvalidInput(N_("Unknown sentiment."), field="felt")
    item = RawMessage(
        external_id=f"offline:{uuid.uuid4()}",
        text=gist,
        created_at=happened_at,
        author=Author(handle=(contact or who).strip().lower()[:300], name=who),
        raw={"logged_by": str(actor.user_id), "felt": felt or None, "contact": contact or None},
    )
    result = ingest.store(
        session, workspace_id=channel.workspace_id, channel_id=channel.id, items=[item]
    )
    return result.inserted[0]


def widget_channel(session: Session, *, public_key: str) -> Channel:
    """The widget channel behind a public key (the key is in the embed snippet, not secret)."""
    for channel in session.scalars(select(Channel).where(Channel.kind == ChannelKind.WIDGET)):
        if hmac.compare_digest(str(channel.config.get("public_key", "")), public_key):
            if channel.status is ChannelStatus.PAUSED:
                break
            return channel
    raise NotFound()


def submit_widget(
    session: Session,
    *,
    channel: Channel,
    name: str,
    contact: str,
    text_: str,
    page_url: str | None = None,
) -> uuid.UUID:
    """A message left on the site's feedback form."""
    name, message = accounts.check_name(name), text_.strip()
    if not message:
        raise InvalidInput(N_("Write a message."), field="text")
    if len(message) > 5000:
        raise InvalidInput(
            N_("The message must be at most {n} characters long."), field="text", n=5000
        )
    contact = contact.strip()[:300]
    item = RawMessage(
        external_id=f"widget:{uuid.uuid4()}",
        text=message,
        created_at=utcnow(),
        author=Author(handle=(contact or name).lower(), name=name),
        url=page_url[:2000] if page_url else None,
        raw={"contact": contact, "page_url": page_url},
    )
    result = ingest.store(
        session, workspace_id=channel.workspace_id, channel_id=channel.id, items=[item]
    )
    return result.inserted[0]


# --- the stream -------------------------------------------------------------------------------


@dataclass
class MessageFilter:
    query: str = ""
    channel_id: uuid.UUID | None = None
    subject_id: uuid.UUID | None = None
    language: str | None = None
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_duplicates: bool = False
    sentiment: str | None = None
    intent: str | None = None
    aspect: str | None = None
    min_urgency: float | None = None
    most_urgent_first: bool = False
    direction: str | None = None  # "in": only what customers wrote


def list_messages(
    session: Session, *, workspace_id: uuid.UUID, filters: MessageFilter, page: int = 1
) -> tuple[list[Message], int]:
    """The filtered, searched stream, newest first, with the total count."""
    query, order = _stream(session, workspace_id, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(*order).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return list(rows), total


def stream_statement(session: Session, *, workspace_id: uuid.UUID, filters: MessageFilter) -> Any:
    """Every message the stream shows, in its order (the exports read it in pages)."""
    query, order = _stream(session, workspace_id, filters)
    return query.order_by(*order)


def _stream(
    session: Session, workspace_id: uuid.UUID, filters: MessageFilter
) -> tuple[Any, list[Any]]:
    query = select(Message).where(Message.workspace_id == workspace_id)
    if filters.channel_id:
        query = query.where(Message.channel_id == filters.channel_id)
    if filters.subject_id:
        from h2h.subjects.models import Mention

        query = query.where(
            Message.id.in_(
                select(Mention.message_id).where(
                    Mention.workspace_id == workspace_id, Mention.subject_id == filters.subject_id
                )
            )
        )
    if filters.language:
        query = query.where(Message.language == filters.language)
    if filters.direction:
        query = query.where(Message.direction == filters.direction)
    if filters.author:
        pattern = f"%{filters.author.strip().lower()}%"
        query = query.where(
            func.lower(Message.author_handle).like(pattern)
            | func.lower(Message.author_name).like(pattern)
        )
    if filters.since:
        query = query.where(Message.created_at >= filters.since)
    if filters.until:
        query = query.where(Message.created_at < filters.until)
    if not filters.include_duplicates:
        query = query.where(Message.duplicate_of_id.is_(None))
    terms = textproc.search_terms(filters.query) if filters.query.strip() else []
    if terms:
        query = _full_text(session, query, terms)
    query, order = _understanding(query, workspace_id, filters)
    return query, [*order, Message.created_at.desc(), Message.id.desc()]


def _understanding(
    query: Any, workspace_id: uuid.UUID, filters: MessageFilter
) -> tuple[Any, list[Any]]:
    """Filters and order on the NLP analysis (sentiment, intent, aspect, urgency)."""
    from h2h.nlp.models import INTENTS, Analysis, AnalysisAspect

    wanted = (filters.sentiment, filters.intent, filters.min_urgency, filters.most_urgent_first)
    order: list[Any] = []
    if any(value is not None and value is not False for value in wanted):
        query = query.join(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        if filters.sentiment:
            query = query.where(Analysis.sentiment == filters.sentiment)
        if filters.intent in INTENTS:
            bit = 1 << INTENTS.index(filters.intent)
            query = query.where(Analysis.intents.op("&")(bit) != 0)
        if filters.min_urgency is not None:
            query = query.where(Analysis.urgency >= filters.min_urgency)
        if filters.most_urgent_first:
            order.append(Analysis.urgency.desc())
    if filters.aspect:
        query = query.where(
            Message.id.in_(
                select(AnalysisAspect.message_id).where(
                    AnalysisAspect.workspace_id == workspace_id,
                    AnalysisAspect.aspect == filters.aspect,
                )
            )
        )
    return query, order


def matching_message_ids(session: Session, *, workspace_id: uuid.UUID, text: str) -> Any:
    """A subquery of the ids of messages that match ``text`` as the mention search does
    (lemmas; FTS5 or tsvector), or None when the text has no searchable word."""
    terms = textproc.search_terms(text)
    if not terms:
        return None
    return _full_text(
        session, select(Message.id).where(Message.workspace_id == workspace_id), terms
    )


def _full_text(session: Session, query: Any, terms: list[list[str]]) -> Any:
    """Every word of the query must match; a word matches through any of its lemmas."""
    clean = [
        [t for t in (w.replace("'", "").replace('"', "") for w in word) if t] for word in terms
    ]
    clean = [word for word in clean if word]
    if not clean:
        return query.where(text("1 = 0"))
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join("(" + " | ".join(f"'{t}':*" for t in word) + ")" for word in clean)
        condition = "to_tsvector('simple', messages.search_text) @@ to_tsquery('simple', :tsq)"
        return query.where(text(condition).bindparams(tsq=tsquery))
    # FTS5: quoted prefix tokens, so punctuation in a term can never be query syntax.
    match = " AND ".join("(" + " OR ".join(f'"{t}"*' for t in word) + ")" for word in clean)
    return query.where(
        text(
            "messages.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match)"
        ).bindparams(match=match)
    )


def get_message(session: Session, *, workspace_id: uuid.UUID, message_id: Any) -> Message:
    return get_in_workspace(session, Message, workspace_id=workspace_id, id=message_id)


def messages_by_id(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> list[Message]:
    """These messages (those that exist in the workspace), oldest first."""
    if not message_ids:
        return []
    return list(
        session.scalars(
            select(Message)
            .where(Message.workspace_id == workspace_id, Message.id.in_(list(message_ids)))
            .order_by(Message.created_at, Message.id)
        )
    )


def message_by_external_id(
    session: Session, *, workspace_id: uuid.UUID, channel_id: uuid.UUID, external_id: str
) -> Message | None:
    return session.scalars(
        select(Message).where(
            Message.workspace_id == workspace_id,
            Message.channel_id == channel_id,
            Message.external_id == external_id,
        )
    ).one_or_none()


def recent_unthreaded(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    since: datetime,
    channel_ids: Sequence[uuid.UUID],
    threaded: Any,
    limit: int = 1000,
) -> list[uuid.UUID]:
    """Inbound messages written since ``since`` on these channels and not in ``threaded``
    (a select of message ids the inbox already holds), oldest first."""
    if not channel_ids:
        return []
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.workspace_id == workspace_id,
                Message.direction == Direction.INBOUND,
                Message.created_at >= since,
                Message.channel_id.in_(list(channel_ids)),
                Message.id.not_in(threaded),
            )
            .order_by(Message.created_at)
            .limit(limit)
        )
    )


def repost_counts(
    session: Session, *, workspace_id: uuid.UUID, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many stored copies point at each of these originals (one query for a page)."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(Message.duplicate_of_id, func.count())
        .where(Message.workspace_id == workspace_id, Message.duplicate_of_id.in_(message_ids))
        .group_by(Message.duplicate_of_id)
    ).all()
    return {row[0]: row[1] for row in rows if row[0] is not None}


def message_counts(session: Session, *, workspace_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Messages per channel."""
    rows = session.execute(
        select(Message.channel_id, func.count())
        .where(Message.workspace_id == workspace_id)
        .group_by(Message.channel_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def _related(session: Session, message: Message, *conditions: Any) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.workspace_id == message.workspace_id, Message.id != message.id)
            .where(*conditions)
            .order_by(Message.created_at, Message.id)
            .limit(100)
        )
    )


def thread_of(session: Session, *, message: Message) -> list[Message]:
    """The other messages of its conversation on the same channel, oldest first."""
    if not message.thread_id:
        return []
    return _related(
        session,
        message,
        Message.channel_id == message.channel_id,
        Message.thread_id == message.thread_id,
    )


def copies_of(session: Session, *, message: Message) -> list[Message]:
    """The reposts and copies linked to this original."""
    return _related(session, message, Message.duplicate_of_id == message.id)


@dataclass(frozen=True)
class AuthorStats:
    """How an author posts: counts of their inbound messages and the times of the latest."""

    messages: int
    reposts: int  # copies of someone else's message (``duplicate_of_id`` set)
    links: int  # messages with a URL in the text
    times: tuple[datetime, ...]  # the latest ``sample`` message times, oldest first


_LINK_MARKS = ("http://", "https://", "www.", "t.me/", "vk.cc/")


def author_stats(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: list[uuid.UUID], sample: int = 200
) -> dict[uuid.UUID, AuthorStats]:
    """Posting figures per author identity: one grouped query, one for the latest times."""
    if not identity_ids:
        return {}
    inbound = (
        Message.workspace_id == workspace_id,
        Message.identity_id.in_(identity_ids),
        Message.direction == Direction.INBOUND,
    )
    has_link = or_(*(Message.text.contains(mark, autoescape=True) for mark in _LINK_MARKS))
    counts = session.execute(
        select(
            Message.identity_id,
            func.count(),
            func.count(Message.duplicate_of_id),
            func.count(case((has_link, 1))),
        )
        .where(*inbound)
        .group_by(Message.identity_id)
    ).all()
    rank = (
        func.row_number()
        .over(partition_by=Message.identity_id, order_by=Message.created_at.desc())
        .label("rank")
    )
    latest = select(Message.identity_id, Message.created_at, rank).where(*inbound).subquery()
    times: dict[uuid.UUID, list[datetime]] = {}
    for identity_id, at in session.execute(
        select(latest.c.identity_id, latest.c.created_at).where(latest.c.rank <= sample)
    ):
        if identity_id is not None:
            times.setdefault(identity_id, []).append(_aware(at))
    return {
        row[0]: AuthorStats(row[1], row[2], row[3], tuple(sorted(times.get(row[0], []))))
        for row in counts
        if row[0] is not None
    }


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes through a subquery; they are UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


# --- column mappings and imports ----------------------------------------------------------------


def save_mapping(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    columns: dict[str, str],
    date_format: str | None = None,
    timezone: str = "UTC",
) -> ColumnMapping:
    """Create or replace a named column mapping, so the next export imports without editing."""
    actor.require(Role.AGENT)
    name = accounts.check_name(name)
    unknown = sorted(set(columns) - set(importer.FIELDS))
    if unknown:
        raise InvalidInput(
            N_("Unknown message fields: {fields}."), field="columns", fields=", ".join(unknown)
        )
    if "text" not in columns:
        raise InvalidInput(N_("Map a column to the message text."), field="columns")
    accounts.check_timezone(timezone)
    mapping = session.scalars(
        select(ColumnMapping).where(
            ColumnMapping.workspace_id == workspace_id, ColumnMapping.name == name
        )
    ).one_or_none()
    if mapping is None:
        mapping = ColumnMapping(workspace_id=workspace_id, name=name)
        session.add(mapping)
    mapping.columns, mapping.date_format, mapping.timezone = dict(columns), date_format, timezone
    session.flush()
    return mapping


def get_mapping_by_name(session: Session, *, workspace_id: uuid.UUID, name: str) -> ColumnMapping:
    mapping = session.scalars(
        select(ColumnMapping).where(
            ColumnMapping.workspace_id == workspace_id, ColumnMapping.name == name
        )
    ).one_or_none()
    if mapping is None:
        raise NotFound(N_("No column mapping named “{name}”."), name=name)
    return mapping


def list_mappings(session: Session, *, workspace_id: uuid.UUID) -> list[ColumnMapping]:
    return list(
        session.scalars(
            select(ColumnMapping)
            .where(ColumnMapping.workspace_id == workspace_id)
            .order_by(ColumnMapping.name)
        )
    )


def start_import(
    session: Session, *, workspace_id: uuid.UUID, channel_id: uuid.UUID, filename: str, sha256: str
) -> ImportRun:
    run = ImportRun(
        workspace_id=workspace_id,
        channel_id=channel_id,
        filename=filename[:500],
        file_sha256=sha256,
    )
    session.add(run)
    session.flush()
    return run


def get_import(session: Session, *, workspace_id: uuid.UUID, import_id: Any) -> ImportRun:
    return get_in_workspace(session, ImportRun, workspace_id=workspace_id, id=import_id)


def list_imports(session: Session, *, workspace_id: uuid.UUID, limit: int = 20) -> list[ImportRun]:
    return list(
        session.scalars(
            select(ImportRun)
            .where(ImportRun.workspace_id == workspace_id)
            .order_by(ImportRun.started_at.desc())
            .limit(limit)
        )
    )


def import_rejections(session: Session, *, run: ImportRun) -> list[ImportRejection]:
    return list(
        session.scalars(
            select(ImportRejection)
            .where(
                ImportRejection.workspace_id == run.workspace_id,
                ImportRejection.import_id == run.id,
            )
            .order_by(ImportRejection.line)
        )
    )


# --- reads for the people domain: consent checks and data-subject rights --------------------

PEOPLE_CHUNK = 500


def inbound_of(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: list[uuid.UUID]
) -> list[Message]:
    """Every inbound message written by these identities, oldest first (a person's export)."""
    found: list[Message] = []
    for start in range(0, len(identity_ids), PEOPLE_CHUNK):
        found += session.scalars(
            select(Message).where(
                Message.workspace_id == workspace_id,
                Message.identity_id.in_(identity_ids[start : start + PEOPLE_CHUNK]),
                Message.direction == Direction.INBOUND,
            )
        )
    return sorted(found, key=lambda m: (m.created_at, m.id))


def inbound_count(
    session: Session, *, workspace_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Inbound messages written in ``[start, end)`` (the denominator of complaint shares)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.workspace_id == workspace_id,
                Message.direction == Direction.INBOUND,
                Message.created_at >= start,
                Message.created_at < end,
            )
        )
        or 0
    )


def replies_to(
    session: Session, *, workspace_id: uuid.UUID, messages: list[Message]
) -> list[Message]:
    """Our outbound messages to the authors of ``messages``, oldest first.

    A reply is ours to them when it answers one of their messages (``parent_id``) or sits
    in a conversation nobody else wrote in; replies in a shared thread (a public comment
    thread) answer other people too and are theirs, not this author's.
    """
    authors = {m.identity_id for m in messages if m.identity_id is not None}
    parents = sorted({(m.channel_id, m.external_id) for m in messages})
    threads = {(m.channel_id, m.thread_id) for m in messages if m.thread_id}
    private = sorted(threads - _shared_threads(session, workspace_id, sorted(threads), authors))
    found: dict[uuid.UUID, Message] = {}
    for column, keys in ((Message.parent_id, parents), (Message.thread_id, private)):
        for start in range(0, len(keys), PEOPLE_CHUNK):
            for message in session.scalars(
                select(Message).where(
                    Message.workspace_id == workspace_id,
                    Message.direction == Direction.OUTBOUND,
                    tuple_(Message.channel_id, column).in_(keys[start : start + PEOPLE_CHUNK]),
                )
            ):
                found[message.id] = message
    return sorted(found.values(), key=lambda m: (m.created_at, m.id))


def _shared_threads(
    session: Session,
    workspace_id: uuid.UUID,
    threads: list[tuple[uuid.UUID, str | None]],
    authors: set[uuid.UUID],
) -> set[tuple[uuid.UUID, str | None]]:
    """Threads among these where someone other than ``authors`` wrote (or an unknown author)."""
    shared: set[tuple[uuid.UUID, str | None]] = set()
    for start in range(0, len(threads), PEOPLE_CHUNK):
        rows = session.execute(
            select(Message.channel_id, Message.thread_id)
            .where(
                Message.workspace_id == workspace_id,
                Message.direction == Direction.INBOUND,
                tuple_(Message.channel_id, Message.thread_id).in_(
                    threads[start : start + PEOPLE_CHUNK]
                ),
                or_(Message.identity_id.is_(None), Message.identity_id.not_in(authors)),
            )
            .distinct()
        )
        shared.update((row[0], row[1]) for row in rows)
    return shared


def last_inbound_at(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    kind: ChannelKind,
) -> datetime | None:
    """When these identities last wrote to us on a channel of this kind (None: never)."""
    if not identity_ids:
        return None
    latest = session.scalar(
        select(func.max(Message.created_at))
        .join(
            Channel,
            (Channel.workspace_id == Message.workspace_id) & (Channel.id == Message.channel_id),
        )
        .where(
            Message.workspace_id == workspace_id,
            Message.identity_id.in_(identity_ids),
            Message.direction == Direction.INBOUND,
            Channel.kind == kind,
        )
    )
    if isinstance(latest, str):  # SQLite hands aggregates back as text
        latest = datetime.fromisoformat(latest)
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return latest
