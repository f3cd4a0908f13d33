"""File imports of the people domain (orders, events): reading, bookkeeping, the chunk loop.

The orders import (``h2h.people.orders``) and the events import share everything except
what a row means. This module gives them:

- ``read_rows(path)`` — rows of a CSV/TSV/JSONL/XLSX file as ``Row(line, values)``, read by
  ``h2h.channels.importer`` (encoding detection incl. cp1251, dialect sniffing, nested JSON
  flattened to ``a.b`` keys); a file that cannot be read at all (empty, binary, broken
  encoding) raises ``ImportFileError``. ``peek_columns(path)`` names the columns.
- ``run_file(factory, workspace_id=…, kind=…, path=…, handle=…)`` — the loop: one
  ``DataImport`` row per file, rows in chunks, each chunk handled and committed in its own
  transaction with its counts and rejections. ``handle(session, rows)`` returns a
  ``ChunkResult``. A crash loses at most the chunk in flight; since handlers insert with
  stable keys (``insert_ignore``), a re-run completes the file without duplicates.
  A file-level error is recorded as a rejection at line 0 and the import marked failed.
- ``insert_ignore(session, table, rows, keys)`` — bulk INSERT … ON CONFLICT DO NOTHING
  (SQLite and PostgreSQL) returning the ids actually inserted.
- ``Rejection``, ``parse_datetime(value, timezone)``, ``parse_decimal``, ``parse_int``,
  ``text_of`` — small parsers that raise ``ValueError`` with a readable reason.
- ``get_import`` and ``rejections_of`` for reports (CLI, UI, API).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels import importer
from h2h.channels.importer import ImportFileError, Rejection, Row
from h2h.db import get_in_workspace, new_id, transaction, utcnow
from h2h.people.models import (
    DataImport,
    DataImportKind,
    DataImportRejection,
    DataImportStatus,
)

__all__ = [
    "CHUNK_SIZE",
    "ChunkResult",
    "ImportFileError",
    "Rejection",
    "Row",
    "get_import",
    "insert_ignore",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "peek_columns",
    "read_rows",
    "rejections_of",
    "run_file",
    "text_of",
]

CHUNK_SIZE = 5000
REJECTION_CONTENT_MAX = 500
COUNTS = ("rows_read", "imported", "duplicates", "rejected")
ProgressCallback = Callable[[int, int, int, int], None]  # read, imported, duplicates, rejected


@dataclass
class ChunkResult:
    """What a handler did with a chunk of rows."""

    imported: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)


ChunkHandler = Callable[[Session, list[Row]], ChunkResult]


# --- reading -------------------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[Row]:
    """Rows of a CSV, TSV, JSONL or XLSX file; ``ImportFileError`` if it is not readable."""
    file_format = importer.detect_format(path)
    if file_format != "xlsx":
        _refuse_binary(path)
    try:
        yield from importer.read_rows(path, file_format)
    except csv.Error as exc:
        raise ImportFileError(f"{path.name}: not a readable CSV file ({exc})") from exc


def _refuse_binary(path: Path) -> None:
    with path.open("rb") as handle:
        sample = handle.read(64 * 1024)
    if not sample.strip():
        raise ImportFileError(f"{path.name}: the file is empty")
    utf16 = sample.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in sample and not utf16:
        raise ImportFileError(f"{path.name}: a binary file, not text")


def peek_columns(path: Path) -> list[str]:
    """The column names of a file (of its first rows, for JSONL)."""
    _refuse_binary(path)
    try:
        return importer.peek_columns(path)
    except csv.Error as exc:
        raise ImportFileError(f"{path.name}: not a readable CSV file ({exc})") from exc


def chunks(rows: Iterator[Row], size: int = CHUNK_SIZE) -> Iterator[list[Row]]:
    return importer.batches(rows, size)


# --- parsing cells -------------------------------------------------------------------------------


def text_of(value: Any) -> str | None:
    """A cell as stripped text, None if empty; spreadsheet floats like 17850.0 become "17850"."""
    return importer._str(value)


@lru_cache(maxsize=65536)
def _parse_datetime_text(text: str, timezone: str, date_format: str | None) -> Any:
    return importer.parse_datetime(text, importer.Mapping({}, date_format, timezone))


def parse_datetime(value: Any, timezone: str = "UTC", date_format: str | None = None) -> Any:
    """A timezone-aware UTC datetime; ValueError with the reason if the cell is not a date."""
    if isinstance(value, str):
        try:
            return _parse_datetime_text(value.strip(), timezone, date_format)
        except OverflowError as exc:
            raise ValueError(str(exc)) from exc
    return importer.parse_datetime(value, importer.Mapping({}, date_format, timezone))


def parse_decimal(value: Any) -> Decimal:
    """A number as written in exports: "1 234,50", "1,234.50", "-3.39"; ValueError if not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    text = str(value if value is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        raise ValueError("empty number")
    if "," in text and "." in text:
        text = text.replace(",", "")  # 1,234.50
    elif "," in text:
        text = text.replace(",", ".")  # 3,39 in Russian exports
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a number: {str(value)[:40]!r}")
    return number


def parse_int(value: Any) -> int:
    """A whole number ("6", "6.0", "-12"); ValueError for fractions and text."""
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number: {str(value)[:40]!r}")
    return int(number)


# --- writing -------------------------------------------------------------------------------------


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> set[Any]:
    """Insert rows, skipping those whose ``keys`` already exist; the ids actually inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c.id)
    return {row.id for row in session.execute(stmt, list(rows))}


# --- the import loop and its bookkeeping ---------------------------------------------------------


def run_file(
    factory: sessionmaker[Session],
    *,
    workspace_id: uuid.UUID,
    kind: DataImportKind,
    path: Path,
    handle: ChunkHandler,
    chunk_size: int = CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
    check: Callable[[list[str]], None] | None = None,
    on_start: Callable[[uuid.UUID], None] | None = None,
) -> uuid.UUID:
    """Import one file chunk by chunk, a transaction per chunk; returns the DataImport id.

    ``check(columns)`` may raise ``ImportFileError`` before any row is read (e.g. a
    required column is missing); ``on_start(import_id)`` learns the DataImport id before the
    first chunk (to stamp rows with it). Errors other than ``ImportFileError`` mark the import
    failed and are re-raised.
    """
    with transaction(factory) as session:
        run = _start(session, workspace_id, kind, path)
        run_id = run.id
    if on_start is not None:
        on_start(run_id)
    counts = dict.fromkeys(COUNTS, 0)
    try:
        if check is not None:
            check(peek_columns(path))
        for chunk in chunks(read_rows(path), chunk_size):
            with transaction(factory) as session:
                result = handle(session, chunk)
                _record(session, workspace_id, run_id, len(chunk), result, counts)
            if on_progress:
                on_progress(*(counts[k] for k in COUNTS))
        _finish(factory, workspace_id, run_id, None)
    except ImportFileError as exc:
        _finish(factory, workspace_id, run_id, str(exc))
    except Exception as exc:
        _finish(factory, workspace_id, run_id, f"internal error: {exc!r}")
        raise
    return run_id


def _start(
    session: Session, workspace_id: uuid.UUID, kind: DataImportKind, path: Path
) -> DataImport:
    run = DataImport(
        workspace_id=workspace_id,
        id=new_id(),
        kind=kind,
        filename=path.name[:500],
        file_sha256=importer.file_sha256(path),
        status=DataImportStatus.RUNNING,
    )
    session.add(run)
    session.flush()
    return run


def _record(
    session: Session,
    workspace_id: uuid.UUID,
    run_id: uuid.UUID,
    read: int,
    result: ChunkResult,
    counts: dict[str, int],
) -> None:
    counts["rows_read"] += read
    counts["imported"] += result.imported
    counts["duplicates"] += result.duplicates
    counts["rejected"] += len(result.rejections)
    add_rejections(session, workspace_id=workspace_id, import_id=run_id, items=result.rejections)
    run = get_import(session, workspace_id=workspace_id, import_id=run_id)
    run.rows_read, run.imported = counts["rows_read"], counts["imported"]
    run.duplicates, run.rejected = counts["duplicates"], counts["rejected"]
    session.flush()


def add_rejections(
    session: Session, *, workspace_id: uuid.UUID, import_id: uuid.UUID, items: Sequence[Rejection]
) -> None:
    """Store rejected rows of an import (bulk)."""
    if not items:
        return
    session.execute(
        DataImportRejection.__table__.insert(),  # type: ignore[attr-defined]
        [
            {
                "workspace_id": workspace_id,
                "id": new_id(),
                "import_id": import_id,
                "line": item.line,
                "column": item.column[:200] if item.column else None,
                "reason": item.reason,
                "content": item.content[:REJECTION_CONTENT_MAX] if item.content else None,
            }
            for item in items
        ],
    )


def _finish(
    factory: sessionmaker[Session], workspace_id: uuid.UUID, run_id: uuid.UUID, error: str | None
) -> None:
    with transaction(factory) as session:
        run = get_import(session, workspace_id=workspace_id, import_id=run_id)
        if error is not None:
            run.error = error
            run.rejected += 1
            add_rejections(
                session,
                workspace_id=workspace_id,
                import_id=run_id,
                items=[Rejection(0, None, error)],
            )
        run.status = DataImportStatus.FAILED if error else DataImportStatus.DONE
        run.finished_at = utcnow()
        session.flush()


def get_import(session: Session, *, workspace_id: uuid.UUID, import_id: Any) -> DataImport:
    """One import of the workspace (NotFound otherwise)."""
    return get_in_workspace(session, DataImport, workspace_id=workspace_id, id=import_id)


def rejections_of(
    session: Session, *, workspace_id: uuid.UUID, import_id: uuid.UUID, limit: int = 1000
) -> list[DataImportRejection]:
    """Rejected rows of an import, in file order."""
    return list(
        session.scalars(
            select(DataImportRejection)
            .where(
                DataImportRejection.workspace_id == workspace_id,
                DataImportRejection.import_id == import_id,
            )
            .order_by(DataImportRejection.line, DataImportRejection.id)
            .limit(limit)
        )
    )
