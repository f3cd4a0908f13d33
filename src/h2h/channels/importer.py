"""File import: CSV, JSONL and XLSX exports of listening tools, mapped column by column.

Rows stream from the file in batches; each batch is stored and committed on its own with
its rejected rows, so a crash loses at most the batch in flight, and a re-run stores
exactly the rows that are missing (external ids make every row idempotent).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from charset_normalizer import from_bytes
from dateutil import parser as date_parser

from h2h.channels.connectors.base import Author, RawMessage

FIELDS = (
    "external_id",
    "text",
    "created_at",
    "author_handle",
    "author_name",
    "author_url",
    "author_followers",
    "url",
    "thread_id",
    "parent_id",
    "language",
)
# Column names of common exports (Brand Analytics, YouScan, Medialogia, Twitter-style CSVs),
# lower-cased; the first one present in a file wins. A saved mapping overrides all of this.
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "tweet_id", "message id", "id сообщения", "id публикации", "post id"),
    "text": ("text", "текст", "текст сообщения", "message", "content", "сообщение", "body"),
    "created_at": (
        "created_at",
        "date",
        "дата",
        "дата публикации",
        "tweet_created",
        "published",
        "время",
        "datetime",
        "дата и время",
    ),
    "author_handle": (
        "author_handle",
        "author",
        "автор",
        "username",
        "name",
        "screen_name",
        "логин автора",
        "author id",
    ),
    "author_name": ("author_name", "имя автора", "author name", "full name"),
    "author_url": ("author_url", "ссылка на автора", "author url", "profile url", "профиль автора"),
    "author_followers": (
        "author_followers",
        "аудитория",
        "подписчики",
        "followers",
        "subscribers",
        "author followers",
        "audience",
    ),
    "url": ("url", "link", "ссылка", "ссылка на сообщение", "permalink"),
    "thread_id": ("thread_id", "conversation_id", "id треда"),
    "parent_id": ("parent_id", "in_reply_to", "in_reply_to_status_id", "id родителя"),
    "language": ("language", "lang", "язык"),
}
BATCH_SIZE = 1000
MAX_FIELD = 1_000_000  # csv field limit: 1 MB texts are rare but real (long reviews, emails)
_EPOCH = re.compile(r"^\d{10}(\d{3})?(\.\d+)?$")
_DOTTED_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a single row could be)."""


@dataclass
class Rejection:
    line: int
    column: str | None
    reason: str
    content: str | None = None


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)  # field -> column name
    date_format: str | None = None
    timezone: str = "UTC"

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ImportFileError(f"unknown time zone {self.timezone!r}") from None


@dataclass
class Row:
    line: int
    values: dict[str, Any]


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    formats = {
        ".csv": "csv",
        ".tsv": "csv",
        ".txt": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
        ".xlsx": "xlsx",
    }
    if suffix not in formats:
        raise ImportFileError(
            f"{path.name}: unknown file type {suffix or '(none)'}; use .csv, .tsv, .jsonl or .xlsx"
        )
    return formats[suffix]


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8, else the best guess."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # the sample ends inside a multi-byte character
            return "utf-8"
        if not sample[: exc.start].decode("utf-8").isascii():
            # Valid UTF-8 Cyrillic first, broken bytes later: a damaged UTF-8 file. Reading
            # it all as cp1251 would turn every good row into mojibake; fail at the bad line.
            return "utf-8"
    best = from_bytes(sample, cp_isolation=["cp1251", "koi8_r", "utf_16", "cp1252"]).best()
    return best.encoding if best else "cp1251"


def _open_text(path: Path) -> tuple[IO[str], str]:
    with path.open("rb") as handle:
        sample = handle.read(256 * 1024)
    if not sample.strip():
        raise ImportFileError(f"{path.name}: the file is empty")
    encoding = detect_encoding(sample)
    return path.open(encoding=encoding, newline=""), encoding


def read_rows(path: Path, file_format: str) -> Iterator[Row]:
    """Rows of the file as {column: value}, with the line they start on."""
    if file_format == "xlsx":
        yield from _read_xlsx(path)
        return
    handle, encoding = _open_text(path)
    with handle:
        try:
            yield from (_read_jsonl(handle) if file_format == "jsonl" else _read_csv(handle))
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{path.name}: not valid {encoding} text after the rows already read ({exc.reason})"
            ) from exc


def _read_csv(handle: IO[str]) -> Iterator[Row]:
    csv.field_size_limit(MAX_FIELD)
    sample = handle.read(64 * 1024)
    handle.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ImportFileError("the first line must name the columns")
    names = [h.strip() for h in header]
    line = reader.line_num
    for record in reader:
        start = line + 1
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        values: dict[str, Any] = dict(zip(names, record, strict=False))
        if len(record) != len(names):
            values["__error__"] = f"{len(record)} cells where the header has {len(names)}"
        yield Row(start, values)


def _read_jsonl(handle: IO[str]) -> Iterator[Row]:
    for number, text_line in enumerate(handle, start=1):
        if not text_line.strip():
            continue
        try:
            value = json.loads(text_line)
        except json.JSONDecodeError as exc:
            yield Row(
                number,
                {
                    "__error__": f"broken JSON: {exc.msg} at character {exc.colno}",
                    "__content__": text_line[:500],
                },
            )
            continue
        if not isinstance(value, dict):
            yield Row(number, {"__error__": "a line must hold a JSON object"})
            continue
        yield Row(number, _flatten(value))


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"author": {"name": x}} -> {"author.name": x}, so nested exports map like flat ones."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat


def _read_xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError(f"{path.name}: not a readable .xlsx workbook ({exc})") from exc
    try:
        rows = workbook.active.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or not any(header):
            raise ImportFileError(f"{path.name}: the first row must name the columns")
        names = [str(h).strip() if h is not None else "" for h in header]
        for number, record in enumerate(rows, start=2):
            if any(cell not in (None, "") for cell in record):
                yield Row(number, dict(zip(names, record, strict=False)))
    finally:
        workbook.close()


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Map fields to the columns of a file by common export names."""
    by_lower = {c.strip().lower(): c for c in columns}
    mapping: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_lower and by_lower[alias] not in mapping.values():
                mapping[name] = by_lower[alias]
                break
    return mapping


def parse_datetime(value: Any, mapping: Mapping) -> datetime:
    """A timezone-aware UTC datetime from the formats exports use; ValueError if none fits."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) or (isinstance(value, str) and _EPOCH.match(value.strip())):
        seconds = float(value)
        parsed = datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, tz=UTC)
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("empty date")
        if mapping.date_format:
            parsed = datetime.strptime(text, mapping.date_format)  # noqa: DTZ007 - zone below
        elif _ISO.match(text):
            parsed = datetime.fromisoformat(text)  # the common case, a hundred times faster
        else:
            # 03.04.2026 is the 3rd of April in Russian exports; ISO dates stay year-first.
            parsed = date_parser.parse(text, dayfirst=bool(_DOTTED_DATE.match(text)))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=mapping.zone())
    if parsed.year < 1990 or parsed > datetime.now(UTC) + timedelta(days=2):
        raise ValueError(f"implausible date {parsed.isoformat()}")
    return parsed.astimezone(UTC)


def to_message(row: Row, mapping: Mapping) -> RawMessage | Rejection:
    """One row as a message, or the reason it cannot be one."""
    if "__error__" in row.values:
        return Rejection(
            row.line,
            None,
            str(row.values["__error__"]),
            _content(row.values.get("__content__", "")),
        )
    get = {name: row.values.get(column) for name, column in mapping.columns.items()}
    text = _str(get.get("text"))
    if not text:
        return Rejection(row.line, mapping.columns.get("text"), "empty text", _content(row.values))
    if "created_at" in mapping.columns:
        try:
            created = parse_datetime(get.get("created_at"), mapping)
        except (ValueError, OverflowError, TypeError) as exc:
            return Rejection(
                row.line,
                mapping.columns["created_at"],
                f"unreadable date {str(get.get('created_at'))[:60]!r}: {exc}",
            )
    else:
        created = datetime.now(UTC)
    followers: int | None = None
    raw_followers = get.get("author_followers")
    if raw_followers not in (None, ""):
        try:
            followers = int(float(str(raw_followers).replace(" ", "").replace(",", "")))
        except ValueError:
            return Rejection(
                row.line,
                mapping.columns["author_followers"],
                f"not a number: {str(raw_followers)[:40]!r}",
            )
    handle = _str(get.get("author_handle")) or _str(get.get("author_name")) or "unknown"
    external_id = _str(get.get("external_id")) or _content_id(text, created, handle)
    return RawMessage(
        external_id=external_id,
        text=text,
        created_at=created,
        author=Author(
            handle=handle,
            name=_str(get.get("author_name")),
            url=_str(get.get("author_url")),
            followers=followers,
        ),
        thread_id=_str(get.get("thread_id")),
        parent_id=_str(get.get("parent_id")),
        url=_str(get.get("url")),
        language=(_str(get.get("language")) or None),
        raw={k: _jsonable(v) for k, v in row.values.items()},
    )


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn ids into floats
    text = str(value).strip()
    return text or None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _content(values: Any) -> str:
    return (
        json.dumps(values, ensure_ascii=False, default=str)
        if isinstance(values, dict)
        else str(values)
    )[:500]


def _content_id(text: str, created: datetime, handle: str) -> str:
    """Rows without an id still import once: the id is derived from what they say."""
    digest = hashlib.sha256(f"{handle}\n{created.isoformat()}\n{text}".encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def batches(rows: Iterator[Row], size: int = BATCH_SIZE) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


ProgressCallback = Callable[[int, int, int], None]  # rows read, imported, rejected


def peek_columns(path: Path, file_format: str | None = None) -> list[str]:
    """The column names of a file, for the mapping step."""
    file_format = file_format or detect_format(path)
    columns: list[str] = []
    for row in read_rows(path, file_format):
        for name in row.values:
            if not name.startswith("__") and name not in columns:
                columns.append(name)
        if len(columns) and file_format != "jsonl":
            break
        if row.line > 50:
            break
    return columns
