"""Jobs of the channels domain: polling channels and importing files.

These are unit-of-work boundaries: polling commits per channel, importing per batch.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels import importer, ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import RawMessage
from h2h.channels.models import ColumnMapping, ImportRejection, ImportRun, ImportStatus
from h2h.db import get_in_workspace, transaction, utcnow
from h2h.jobs import job

log = logging.getLogger(__name__)


@job("channels.poll_due")
def poll_due(session: Session) -> int:
    """Poll every channel that is due; each channel in a transaction of its own."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    due = channels.due_channels(session)
    for workspace_id, channel_id in due:
        poll_channel(factory, workspace_id=str(workspace_id), channel_id=str(channel_id))
    return len(due)


def poll_channel(factory: sessionmaker[Session], *, workspace_id: str, channel_id: str) -> None:
    try:
        with transaction(factory) as session:
            channel = channels.get_channel(
                session, workspace_id=uuid.UUID(workspace_id), channel_id=channel_id
            )
            outcome = channels.poll(session, channel=channel)
            if outcome.error:
                log.warning("channel %s: %s", channel_id, outcome.error)
    except Exception:
        # One broken channel must not stop the others; the next run tries again.
        log.exception("polling channel %s failed", channel_id)


def mapping_for(
    session: Session, *, workspace_id: uuid.UUID, mapping_id: str | None, columns: list[str]
) -> importer.Mapping:
    if mapping_id:
        saved = get_in_workspace(session, ColumnMapping, workspace_id=workspace_id, id=mapping_id)
        return importer.Mapping(dict(saved.columns), saved.date_format, saved.timezone)
    return importer.Mapping(importer.guess_mapping(columns))


def run_import(
    factory: sessionmaker[Session],
    *,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    path: Path,
    mapping: importer.Mapping,
    on_progress: importer.ProgressCallback | None = None,
    import_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Import a file batch by batch; returns the ImportRun id (its counts are the report)."""
    with transaction(factory) as session:
        if import_id is None:
            run = channels.start_import(
                session,
                workspace_id=workspace_id,
                channel_id=channel_id,
                filename=path.name,
                sha256=importer.file_sha256(path),
            )
        else:  # created by the request that received the upload, so it could answer at once
            run = channels.get_import(session, workspace_id=workspace_id, import_id=import_id)
    counts = {"rows_read": 0, "imported": 0, "duplicates": 0, "rejected": 0}
    try:
        if "text" not in mapping.columns:
            raise importer.ImportFileError("no column is mapped to the message text")
        rows = importer.read_rows(path, importer.detect_format(path))
        parallel = path.stat().st_size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
        size = PARALLEL_BATCH_SIZE if parallel else importer.BATCH_SIZE
        prepared = _prepared(importer.batches(rows, size), mapping, run, parallel=parallel)
        for number, batch in enumerate(prepared):
            with transaction(factory) as session:
                _write_batch(session, run, batch, counts)
                if number in ANALYZE_AFTER_BATCHES:
                    _refresh_statistics(session)
            if on_progress:
                on_progress(counts["rows_read"], counts["imported"], counts["rejected"])
        _finish(factory, run.id, workspace_id, ImportStatus.DONE, None)
    except importer.ImportFileError as exc:
        _finish(factory, run.id, workspace_id, ImportStatus.FAILED, str(exc))
    except Exception as exc:
        _finish(factory, run.id, workspace_id, ImportStatus.FAILED, f"internal error: {exc!r}")
        raise
    return run.id


# A big import into a young table leaves PostgreSQL planning with statistics from when it
# was nearly empty: it then scans the table for every batch instead of using the indexes.
ANALYZE_AFTER_BATCHES = frozenset({2, 10, 50, 200})


def _refresh_statistics(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE messages"))


# Files this big are prepared (parsed, fingerprinted, lemmatised) in worker processes while
# this one writes; smaller ones are not worth starting the workers for.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
WORKERS = 2
IN_FLIGHT = 4  # batches prepared ahead of the writer; bounds memory
PARALLEL_BATCH_SIZE = 2500  # fewer commits and lookups per row; a crash still loses one batch


@dataclass
class PreparedBatch:
    size: int
    rows: list[dict[str, Any]]
    repeated: int
    rejections: list[importer.Rejection]


def prepare_batch(
    batch: list[importer.Row],
    mapping: importer.Mapping,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    import_id: uuid.UUID,
) -> PreparedBatch:
    """Everything about a batch that needs no database; runs in a worker for big files."""
    items: list[RawMessage] = []
    rejections: list[importer.Rejection] = []
    for row in batch:
        result = importer.to_message(row, mapping)
        if isinstance(result, importer.Rejection):
            rejections.append(result)
        else:
            items.append(result)
    rows, repeated = ingest.prepare(
        workspace_id=workspace_id, channel_id=channel_id, items=items, import_id=import_id
    )
    return PreparedBatch(len(batch), rows, repeated, rejections)


def _prepared(
    batches: Iterator[list[importer.Row]],
    mapping: importer.Mapping,
    run: ImportRun,
    *,
    parallel: bool,
) -> Iterator[PreparedBatch]:
    ids = (run.workspace_id, run.channel_id, run.id)
    if not parallel:
        for batch in batches:
            yield prepare_batch(batch, mapping, *ids)
        return
    # "spawn", not "fork": the web process runs threads, and forking those is not safe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context) as pool:
        pending: deque[Future[PreparedBatch]] = deque()
        for batch in batches:
            pending.append(pool.submit(prepare_batch, batch, mapping, *ids))
            if len(pending) >= IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _write_batch(
    session: Session, run: ImportRun, batch: PreparedBatch, counts: dict[str, int]
) -> None:
    stored = ingest.write(
        session,
        workspace_id=run.workspace_id,
        channel_id=run.channel_id,
        rows=batch.rows,
        repeated=batch.repeated,
    )
    rejections = batch.rejections
    for rejection in rejections:
        session.add(
            ImportRejection(
                workspace_id=run.workspace_id,
                import_id=run.id,
                line=rejection.line,
                column=rejection.column,
                reason=rejection.reason,
                content=rejection.content,
            )
        )
    counts["rows_read"] += batch.size
    counts["imported"] += len(stored.inserted)
    counts["duplicates"] += stored.duplicates
    counts["rejected"] += len(rejections)
    session.execute(
        update(ImportRun)
        .where(ImportRun.workspace_id == run.workspace_id, ImportRun.id == run.id)
        .values(**counts)
    )


def _finish(
    factory: sessionmaker[Session],
    run_id: uuid.UUID,
    workspace_id: uuid.UUID,
    status: ImportStatus,
    error: str | None,
) -> None:
    with transaction(factory) as session:
        values: dict[str, Any] = {"status": status, "error": error, "finished_at": utcnow()}
        session.execute(
            update(ImportRun)
            .where(ImportRun.workspace_id == workspace_id, ImportRun.id == run_id)
            .values(**values)
        )


@job("channels.import_file")
def import_file(
    session: Session,
    *,
    workspace_id: str,
    channel_id: str,
    path: str,
    mapping_id: str | None = None,
    import_id: str | None = None,
) -> str:
    """The upload path of the UI: import a stored file in the background."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    file_path = Path(path)
    columns = importer.peek_columns(file_path)
    mapping = mapping_for(
        session, workspace_id=uuid.UUID(workspace_id), mapping_id=mapping_id, columns=columns
    )
    run_id = run_import(
        factory,
        workspace_id=uuid.UUID(workspace_id),
        channel_id=uuid.UUID(channel_id),
        path=file_path,
        mapping=mapping,
        import_id=uuid.UUID(import_id) if import_id else None,
    )
    return str(run_id)
