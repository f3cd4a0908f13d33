"""Store what channels read: idempotent, batched, with near-duplicates linked.

The only writer of ``messages``. Everything that brings messages in — file imports,
pollers, webhooks, the widget, the offline log — ends here, so every path gets the same
guarantees: a delivery stored once per (workspace, channel, external_id), reposts linked
to their original, and the post-ingest steps (subject matching now, NLP analysis later).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, overload

from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from h2h.channels import textproc
from h2h.channels.connectors.base import RawMessage
from h2h.channels.models import Message
from h2h.db import new_id, utcnow

MAX_TEXT = 100_000
REPOST_WINDOW = timedelta(days=30)  # characters kept of one message; the raw payload keeps the rest
MESSAGES: Table = Message.__table__  # type: ignore[assignment]

# Steps run on every newly stored batch: (session, workspace_id, [(message_id, text)]).
PostIngestStep = Callable[[Session, uuid.UUID, Sequence[tuple[uuid.UUID, str]]], None]
POST_INGEST_STEPS: list[PostIngestStep] = []
_STAGES: dict[PostIngestStep, int] = {}
# Stages order the steps whatever order their modules were imported in: understanding the
# text first, then who wrote it, then what to do about it (the inbox needs both).
UNDERSTAND, IDENTIFY, ACT = 0, 1, 2


@overload
def after_ingest(step: PostIngestStep, *, stage: int = UNDERSTAND) -> PostIngestStep: ...
@overload
def after_ingest(
    step: None = None, *, stage: int = UNDERSTAND
) -> Callable[[PostIngestStep], PostIngestStep]: ...
def after_ingest(
    step: PostIngestStep | None = None, *, stage: int = UNDERSTAND
) -> PostIngestStep | Callable[[PostIngestStep], PostIngestStep]:
    """Register a step every new message goes through (subject matching, NLP analysis).

    Bare ``@after_ingest`` runs in the first stage; ``@after_ingest(stage=ACT)`` later.
    """

    def register(step: PostIngestStep) -> PostIngestStep:
        if step not in POST_INGEST_STEPS:
            _STAGES[step] = stage
            POST_INGEST_STEPS.append(step)
            POST_INGEST_STEPS.sort(key=lambda s: _STAGES.get(s, UNDERSTAND))  # stable
        return step

    return register(step) if step is not None else register


@dataclass
class IngestResult:
    inserted: list[uuid.UUID] = field(default_factory=list)
    duplicates: int = 0  # deliveries already stored (same external id)
    near_duplicates: int = 0  # new messages linked to an earlier original

    def add(self, other: IngestResult) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.near_duplicates += other.near_duplicates


def _row(
    workspace_id: uuid.UUID, channel_id: uuid.UUID, item: RawMessage, import_id: uuid.UUID | None
) -> dict[str, Any]:
    text = item.text[:MAX_TEXT]
    tokens = textproc.words(text)
    signature = textproc.minhash(tokens)
    b0, b1, b2, b3 = textproc.bands(signature)
    return {
        "workspace_id": workspace_id,
        "id": new_id(),
        "channel_id": channel_id,
        "external_id": item.external_id[:300],
        "thread_id": _cut(item.thread_id, 300),
        "parent_id": _cut(item.parent_id, 300),
        "direction": item.direction,
        "author_handle": item.author.handle[:300],
        "author_name": _cut(item.author.name, 300),
        "author_url": _cut(item.author.url, 1000),
        "author_followers": item.author.followers,
        "text": text,
        "search_text": textproc.search_text(tokens),
        "language": item.language or textproc.guess_language(text),
        "url": _cut(item.url, 2000),
        "created_at": item.created_at,
        "received_at": utcnow(),
        "raw": dict(item.raw),
        "text_hash": textproc.text_hash(tokens),
        "minhash": textproc.encode_signature(signature),
        "signature": signature,
        "band0": b0,
        "band1": b1,
        "band2": b2,
        "band3": b3,
        "duplicate_of_id": None,
        "import_id": import_id,
    }


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _already_stored(
    session: Session, workspace_id: uuid.UUID, channel_id: uuid.UUID, external_ids: list[str]
) -> set[str]:
    query = select(Message.external_id).where(
        Message.workspace_id == workspace_id,
        Message.channel_id == channel_id,
        Message.external_id.in_(external_ids),
    )
    return set(session.scalars(query))


def _link_near_duplicates(
    session: Session, workspace_id: uuid.UUID, rows: list[dict[str, Any]]
) -> int:
    """Point each copy or repost at the earliest original (stored or earlier in the batch)."""
    hashes = {r["text_hash"] for r in rows if r["text_hash"] is not None}
    if not hashes:
        return 0
    # One query per fingerprint column, so each one uses its own (workspace_id, column) index;
    # a single OR across them lets SQLite fall back to scanning the whole workspace.
    lookups: list[tuple[Any, set[int]]] = [(Message.text_hash, hashes)]
    for i, column in enumerate(BAND_COLUMNS):
        lookups.append((column, {r[f"band{i}"] for r in rows if r[f"band{i}"] is not None}))
    # Reposts follow their original within days; bounding the window keeps the lookup
    # proportional to recent traffic, not to the whole history of the workspace.
    times = [r["created_at"] for r in rows]
    window = (min(times) - REPOST_WINDOW, max(times) + REPOST_WINDOW)
    found: dict[uuid.UUID, Any] = {}
    for column, values in lookups:
        if not values:
            continue
        for candidate in session.execute(
            select(
                Message.id, Message.created_at, Message.text_hash, Message.minhash, *BAND_COLUMNS
            ).where(
                Message.workspace_id == workspace_id,
                column.in_(values),
                Message.created_at.between(*window),
                Message.duplicate_of_id.is_(None),
            )
        ):
            found[candidate.id] = candidate
    candidates = sorted(found.values(), key=lambda c: c.created_at)
    index = _Originals()
    for c in candidates:
        index.add(
            c.id,
            c.text_hash,
            textproc.decode_signature(c.minhash),
            (c.band0, c.band1, c.band2, c.band3),
        )
    linked = 0
    for row in sorted(rows, key=lambda r: r["created_at"]):
        bands = tuple(row[f"band{i}"] for i in range(4))
        original = index.find(row["text_hash"], row["signature"], bands)
        if original is not None:
            row["duplicate_of_id"] = original
            linked += 1
        else:
            index.add(row["id"], row["text_hash"], row["signature"], bands)
    return linked


BAND_COLUMNS = (Message.band0, Message.band1, Message.band2, Message.band3)


class _Originals:
    """Originals seen so far, findable by exact text hash or by a shared MinHash band."""

    def __init__(self) -> None:
        self.by_hash: dict[int, uuid.UUID] = {}
        self.by_band: dict[tuple[int, int], list[tuple[uuid.UUID, list[int]]]] = {}

    def add(
        self,
        message_id: uuid.UUID,
        text_hash: int | None,
        signature: list[int] | None,
        bands: Sequence[int | None],
    ) -> None:
        if text_hash is not None:
            self.by_hash.setdefault(text_hash, message_id)
        if signature is not None:
            for i, band in enumerate(bands):
                if band is not None:
                    self.by_band.setdefault((i, band), []).append((message_id, signature))

    def find(
        self, text_hash: int | None, signature: list[int] | None, bands: Sequence[int | None]
    ) -> uuid.UUID | None:
        if text_hash is not None and text_hash in self.by_hash:
            return self.by_hash[text_hash]
        if signature is None:
            return None
        checked: set[uuid.UUID] = set()
        for i, band in enumerate(bands):
            for message_id, other in self.by_band.get((i, band or 0), ()):
                if message_id in checked:
                    continue
                if textproc.similarity(signature, other) >= textproc.NEAR_DUPLICATE_JACCARD:
                    return message_id
                checked.add(message_id)
        return None


def _insert_statement(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(MESSAGES)
        .on_conflict_do_nothing(index_elements=["workspace_id", "channel_id", "external_id"])
        .returning(MESSAGES.c.id, MESSAGES.c.text)
    )


def prepare(
    *,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    items: Iterable[RawMessage],
    import_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Rows for a batch and how many items repeated an id within it; no database involved.

    Fingerprinting and lemmatising are the costly part of ingestion, so big imports run
    this in worker processes and only ``write`` in the process that holds the session.
    """
    unique: dict[str, RawMessage] = {}
    repeated = 0
    for item in items:
        if item.external_id in unique:
            # The first delivery wins, within a batch as across batches: where the batches
            # of an import are cut must not change what is stored.
            repeated += 1
            continue
        unique[item.external_id] = item
    return [_row(workspace_id, channel_id, item, import_id) for item in unique.values()], repeated


def write(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    rows: list[dict[str, Any]],
    repeated: int = 0,
) -> IngestResult:
    """Store prepared rows in the caller's transaction; returns what was new."""
    result = IngestResult(duplicates=repeated)
    if rows:
        stored = _already_stored(
            session, workspace_id, channel_id, [r["external_id"] for r in rows]
        )
        result.duplicates += len(stored)
        rows = [row for row in rows if row["external_id"] not in stored]
    if not rows:
        return result
    result.near_duplicates = _link_near_duplicates(session, workspace_id, rows)
    # ON CONFLICT DO NOTHING covers a concurrent writer that stored the same id meanwhile.
    inserted = session.execute(
        _insert_statement(session), [{k: v for k, v in r.items() if k != "signature"} for r in rows]
    ).all()
    result.duplicates += len(rows) - len(inserted)
    result.inserted = [row.id for row in inserted]
    new = [(row.id, row.text) for row in inserted]
    for step in POST_INGEST_STEPS:
        step(session, workspace_id, new)
    return result


def store(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    items: Iterable[RawMessage],
    import_id: uuid.UUID | None = None,
) -> IngestResult:
    """Store one batch of items in the caller's transaction; returns what was new."""
    rows, repeated = prepare(
        workspace_id=workspace_id, channel_id=channel_id, items=items, import_id=import_id
    )
    return write(
        session, workspace_id=workspace_id, channel_id=channel_id, rows=rows, repeated=repeated
    )


def set_languages(
    session: Session, *, workspace_id: uuid.UUID, languages: dict[uuid.UUID, str | None]
) -> None:
    """Store the language the NLP pipeline found for messages (it knows better than the script)."""
    rows = [
        {"workspace_id": workspace_id, "id": message_id, "language": language}
        for message_id, language in languages.items()
        if language
    ]
    if rows:
        session.execute(update(Message), rows)


def set_identities(
    session: Session, *, workspace_id: uuid.UUID, identities: dict[uuid.UUID, uuid.UUID]
) -> None:
    """Store the author identity the people domain linked each message to."""
    rows = [
        {"workspace_id": workspace_id, "id": message_id, "identity_id": identity_id}
        for message_id, identity_id in identities.items()
    ]
    if rows:
        session.execute(update(Message), rows)


ERASED_TEXT = ""


def erase_messages(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> int:
    """Remove the words and the author from these messages (a data-subject erasure).

    The rows stay — channel, direction, dates, language, thread and external id — so
    counts and reports keep adding up and a re-read of the channel finds the external id
    already stored instead of bringing the text back. Text, search text, author, link,
    raw payload and the text fingerprints (which could confirm a guessed text) go.
    """
    ids = list(message_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            update(Message)
            .where(Message.workspace_id == workspace_id, Message.id.in_(ids[start : start + 500]))
            .values(
                text=ERASED_TEXT,
                search_text="",
                author_handle="",
                author_name=None,
                author_url=None,
                author_followers=None,
                url=None,
                raw={},
                text_hash=None,
                minhash=None,
                band0=None,
                band1=None,
                band2=None,
                band3=None,
                identity_id=None,
            )
            .execution_options(synchronize_session=False)
        )
    if ids and session.get_bind().dialect.name == "sqlite":
        # FTS5 records a deletion as a new segment and keeps the old terms in the older
        # ones until segments merge; "optimize" merges them now, so the erased words leave
        # the index itself, not only the search results.
        session.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')"))
    return len(ids)
