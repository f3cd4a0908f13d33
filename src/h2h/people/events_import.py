"""``h2h import events``: events from CSV/JSONL files, mapped column by column.

Reading, chunking, bookkeeping and rejections are ``h2h.people.imports``; this module says
what a row of events means. A row becomes the same item the events API takes and goes
through ``events.parse``, so a file and a live call are checked alike. Dates without a
zone are read in the mapping's zone (UTC unless told), as the other file imports do.

Columns nobody mapped become the event's properties (``path``, ``query``…), unless a
``properties`` column holding a JSON object is mapped. Nested JSONL (``"properties":
{…}``, ``"identity": {"kind": …, "value": …}``) maps by itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from h2h.errors import H2HError
from h2h.people import events, identities, imports
from h2h.people.imports import ChunkResult, ImportFileError, Rejection, Row
from h2h.people.models import DataImportKind

FIELDS = ("external_id", "name", "occurred_at", "identity_kind", "identity_value", "properties")
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "event_id", "id", "message_id"),
    "name": ("name", "event", "event_name", "type", "action"),
    "occurred_at": ("occurred_at", "timestamp", "time", "ts", "date", "datetime", "created_at"),
    "identity_kind": ("identity.kind", "identity_kind"),
    "identity_value": ("identity.value", "identity_value", "identity"),
    "properties": ("properties",),
}
# A column named like a kind of identity names the person by that kind.
KIND_COLUMNS = {
    "email": "email",
    "e-mail": "email",
    "user_email": "email",
    "phone": "phone",
    "user_id": "site",
    "site_user_id": "site",
    "telegram_id": "telegram",
    "vk_id": "vk",
    "twitter": "twitter",
    "customer_id": "customer_id",
    "customerid": "customer_id",
}
PROPERTIES_PREFIX = "properties."
FIELD_OF = {  # events.parse field → mapping field, to name the column of a rejection
    "name": "name",
    "occurred_at": "occurred_at",
    "properties": "properties",
    "external_id": "external_id",
    "identity": "identity_value",
    "identity.kind": "identity_kind",
    "identity.value": "identity_value",
}


@dataclass
class EventMapping:
    columns: dict[str, str] = field(default_factory=dict)  # field → column
    name: str | None = None  # every row is this event (when no column names it)
    identity_kind: str | None = None  # the identity_value column holds this kind
    kind_columns: dict[str, str] = field(default_factory=dict)  # column → identity kind
    property_columns: dict[str, str] = field(default_factory=dict)  # property → column
    timezone: str = "UTC"
    region: str = identities.DEFAULT_REGION


def guess_mapping(columns: list[str], base: EventMapping | None = None) -> EventMapping:
    """Map fields to a file's columns by common names; what ``base`` sets is kept."""
    mapping = base or EventMapping()
    by_lower = {c.strip().lower(): c for c in columns}
    taken = set(mapping.columns.values())
    for name, aliases in ALIASES.items():
        if name in mapping.columns or (name == "name" and mapping.name is not None):
            continue  # what the options said wins over a column that happens to fit
        for alias in aliases:
            if alias in by_lower and by_lower[alias] not in taken:
                mapping.columns[name] = by_lower[alias]
                taken.add(by_lower[alias])
                break
    if "identity_value" not in mapping.columns and not mapping.kind_columns:
        for lower, column in by_lower.items():
            if lower in KIND_COLUMNS and column not in taken:
                mapping.kind_columns[column] = KIND_COLUMNS[lower]
    return mapping


def check_mapping(mapping: EventMapping, columns: list[str]) -> None:
    """Refuse a file whose columns cannot give each event a name and a time."""
    missing = [c for c in mapping.columns.values() if c not in columns]
    if missing:
        raise ImportFileError(f"no column {', '.join(map(repr, missing))} in the file")
    if "name" not in mapping.columns and mapping.name is None:
        raise ImportFileError("no column names the event; map one (--map name=COLUMN) or --name")
    if "occurred_at" not in mapping.columns:
        raise ImportFileError("no column holds the time; map one (--map occurred_at=COLUMN)")


def to_item(row: Row, mapping: EventMapping) -> dict[str, Any]:
    """A row as an events API item; ValueError (reason, column) for a cell it cannot read."""
    values, cols = row.values, mapping.columns
    item: dict[str, Any] = {
        "external_id": imports.text_of(values.get(cols["external_id"]))
        if "external_id" in cols
        else None,
        "name": imports.text_of(values.get(cols["name"])) if "name" in cols else mapping.name,
        "occurred_at": _time(values.get(cols["occurred_at"]), mapping, cols["occurred_at"]),
        "identity": _identity(values, mapping),
        "properties": _properties(values, mapping),
    }
    return item


class CellError(ValueError):
    def __init__(self, reason: str, column: str | None) -> None:
        super().__init__(reason)
        self.column = column


def _time(value: Any, mapping: EventMapping, column: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed: datetime = imports.parse_datetime(value, mapping.timezone)
    except (ValueError, OverflowError, TypeError) as exc:
        raise CellError(f"unreadable time {str(value)[:60]!r}: {exc}", column) from None
    return parsed


def _identity(values: dict[str, Any], mapping: EventMapping) -> dict[str, Any] | None:
    cols = mapping.columns
    if "identity_value" in cols:
        value = imports.text_of(values.get(cols["identity_value"]))
        if value is None:
            return None
        kind = mapping.identity_kind
        if "identity_kind" in cols:
            kind = imports.text_of(values.get(cols["identity_kind"])) or kind
        return {"kind": kind or "", "value": value}
    for column, kind in mapping.kind_columns.items():
        value = imports.text_of(values.get(column))
        if value is not None:
            return {"kind": kind, "value": value}
    return None


def _properties(values: dict[str, Any], mapping: EventMapping) -> dict[str, Any]:
    cols = mapping.columns
    if "properties" in cols:
        raw = values.get(cols["properties"])
        if raw in (None, ""):
            found: Any = {}
        elif isinstance(raw, str):
            try:
                found = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise CellError(f"not JSON: {exc.msg}", cols["properties"]) from None
        else:
            found = raw
        if not isinstance(found, dict):
            raise CellError("properties must be a JSON object", cols["properties"])
    else:
        found = {}
        used = {*cols.values(), *mapping.kind_columns, *mapping.property_columns.values()}
        for key, value in values.items():
            if key.startswith("__") or key in used or value in (None, ""):
                continue
            if key.startswith(PROPERTIES_PREFIX):
                _put(found, key[len(PROPERTIES_PREFIX) :].split("."), value)
            elif not key.startswith("identity."):
                found[key] = value
    for key, column in mapping.property_columns.items():
        if values.get(column) not in (None, ""):
            found[key] = values[column]
    result: dict[str, Any] = found
    return result


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        nested = target.setdefault(part, {})
        if not isinstance(nested, dict):
            return  # {"a": 1, "a.b": 2} cannot both be; the first one stays
        target = nested
    target.setdefault(path[-1], value)


def _content(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, default=str)[:500]


@dataclass
class EventImport:
    """Turns chunks of rows into stored events (the handler of ``imports.run_file``)."""

    workspace_id: uuid.UUID
    mapping: EventMapping
    source: str = "import"
    import_id: uuid.UUID | None = None

    def started(self, import_id: uuid.UUID) -> None:
        self.import_id = import_id  # events are stamped with the import they came in

    def handle(self, session: Session, rows: list[Row]) -> ChunkResult:
        result = ChunkResult()
        drafts = []
        for row in rows:
            if "__error__" in row.values:
                reason = str(row.values["__error__"])
                content = str(row.values.get("__content__") or "") or None
                result.rejections.append(Rejection(row.line, None, reason, content))
                continue
            try:
                item = to_item(row, self.mapping)
                drafts.append(events.parse(item, index=row.line, region=self.mapping.region))
            except CellError as exc:
                result.rejections.append(
                    Rejection(row.line, exc.column, str(exc), _content(row.values))
                )
            except H2HError as exc:
                column = self.mapping.columns.get(FIELD_OF.get(exc.field or "", ""), exc.field)
                result.rejections.append(
                    Rejection(row.line, column, str(exc), _content(row.values))
                )
        result.imported, result.duplicates = events.store(
            session,
            workspace_id=self.workspace_id,
            drafts=drafts,
            source=self.source,
            import_id=self.import_id,
        )
        return result


def import_files(
    factory: sessionmaker[Session],
    *,
    workspace_id: uuid.UUID,
    paths: list[Path],
    mapping: EventMapping | None = None,
    on_progress: imports.ProgressCallback | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[uuid.UUID]:
    """Import event files, one DataImport each; the ids of those imports."""
    run_ids: list[uuid.UUID] = []
    for path in paths:
        base = EventMapping(**{**(mapping or EventMapping()).__dict__})
        base.columns, base.kind_columns = dict(base.columns), dict(base.kind_columns)
        chosen = guess_mapping(_columns(path), base)
        state = EventImport(workspace_id, chosen, source=f"import:{path.name}"[:200])
        if on_file:
            on_file(path)
        run_ids.append(
            imports.run_file(
                factory,
                workspace_id=workspace_id,
                kind=DataImportKind.EVENTS,
                path=path,
                handle=state.handle,
                chunk_size=events.MAX_BATCH,
                on_progress=on_progress,
                check=_checker(chosen),
                on_start=state.started,
            )
        )
    return run_ids


def _checker(mapping: EventMapping) -> Callable[[list[str]], None]:
    def check(columns: list[str]) -> None:
        check_mapping(mapping, columns)

    return check


def _columns(path: Path) -> list[str]:
    try:
        return imports.peek_columns(path)
    except ImportFileError:
        return []  # run_file reports why the file cannot be read
