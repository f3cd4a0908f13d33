"""Every list as a file: CSV and XLSX, written the same way everywhere.

A list's edge hands over translated column titles and an iterator of rows (read in pages
by the list's own query, so the file holds exactly what the page shows); this module
knows the formats' traps once:

- CSV is RFC 4180 (comma, CRLF, quotes doubled) in UTF-8 with a BOM, because Excel reads
  a file without one as the local ANSI code page and Cyrillic turns into mojibake.
- XLSX is written by openpyxl in write-only mode: rows go to a temporary file as they
  come, so memory stays bounded whatever the size. Dates are real dates (in the
  workspace's time zone, which Excel cannot store), numbers are numbers, the header row
  is bold and frozen.
- Formula injection (OWASP "CSV injection"): a text cell starting with = + - @, a tab or
  a CR is run by a spreadsheet as a formula (``=HYPERLINK(...)`` in a customer's name
  exfiltrates the sheet), so it gets a leading apostrophe. Numbers written as numbers
  are left alone.
- Caps: XLSX stops at ``XLSX_MAX_ROWS`` (100,000; Excel's own limit is 1,048,576 rows,
  but files beyond ~100k rows take minutes and gigabytes to open), CSV at
  ``CSV_MAX_ROWS``. A cut file ends with a row that says so.
- ``Content-Disposition`` carries an ASCII fallback and the real name as RFC 5987
  ``filename*``, so «Постоянные клиенты.xlsx» arrives with its name.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from typing import IO, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select
from sqlalchemy.orm import Session

from h2h.db import transaction
from h2h.errors import N_, InvalidInput
from h2h.templating import page_gettext

CSV_MAX_ROWS = 1_000_000
XLSX_MAX_ROWS = 100_000
READ_PAGE = 1000  # rows fetched from the database at a time
XLSX_CELL_MAX = 32_767  # characters; Excel refuses a longer cell
CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CUT_NOTE = N_("The export stops at {limit} rows; narrow the filters to get the rest.")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

Cell = str | int | float | Decimal | bool | date | datetime | None
Rows = Callable[[Session], Iterable[Sequence[Cell]]]


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Column:
    """A column: its title (an English msgid, translated when written) and XLSX width."""

    title: str
    width: float = 16


@dataclass(frozen=True)
class Export:
    """What one file holds. ``rows`` reads through the session it is given, in pages."""

    filename: str  # without extension; any characters, made safe for the header
    columns: Sequence[Column]
    rows: Rows
    timezone: str = "UTC"


# --- cells ------------------------------------------------------------------------------------


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text: a formula-like start gets a leading apostrophe.

    A text that is a plain number ("-5", "+7") is left as it is: a spreadsheet reads it as
    that number, which runs nothing.
    """
    if value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text and text.strip() == text


def zone_of(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _csv_cell(value: Cell, zone: ZoneInfo, gettext: Callable[[str], str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")  # 1234.50, never 1.2345E+3
    if isinstance(value, int | float):
        return str(value)
    return safe_text(str(value))


def _xlsx_value(value: Cell, zone: ZoneInfo) -> Cell:
    if isinstance(value, datetime):
        # Excel has no time zones: the workspace's wall-clock time, as the pages show it.
        return value.astimezone(zone).replace(tzinfo=None, microsecond=0)
    if value is None or isinstance(value, int | float | Decimal | date):
        return value
    # Control characters make an invalid file that Excel "repairs" by dropping the sheet.
    text: str = ILLEGAL_CHARACTERS_RE.sub("", safe_text(str(value)))
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Excel's line break; XML drops CR
    return text[:XLSX_CELL_MAX]


# --- writing ----------------------------------------------------------------------------------


def _capped(
    rows: Iterable[Sequence[Cell]], limit: int
) -> tuple[Iterator[Sequence[Cell]], Callable[[], bool]]:
    """The first ``limit`` rows, and a callable saying whether more were left out."""
    source = iter(rows)
    state = {"cut": False}

    def taken() -> Iterator[Sequence[Cell]]:
        yield from islice(source, limit)
        state["cut"] = next(source, None) is not None
        close = getattr(source, "close", None)
        if close is not None:  # a generator over a cursor: let it go now
            close()

    return taken(), lambda: state["cut"]


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    timezone: str = "UTC",
    gettext: Callable[[str], str] = lambda s: s,
    limit: int = CSV_MAX_ROWS,
) -> Iterator[bytes]:
    """The CSV file in pieces of about ``READ_PAGE`` rows, BOM and header first."""
    zone = zone_of(timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(title) for title in header])
    yield ("\ufeff" + buffer.getvalue()).encode()
    taken, was_cut = _capped(rows, limit)
    while True:
        buffer.seek(0)
        buffer.truncate()
        page = list(islice(taken, READ_PAGE))
        writer.writerows([_csv_cell(v, zone, gettext) for v in row] for row in page)
        if not page:
            break
        yield buffer.getvalue().encode()
    if was_cut():
        writer.writerow([gettext(CUT_NOTE).format(limit=limit)])
        yield buffer.getvalue().encode()


def write_xlsx(
    target: IO[bytes],
    columns: Sequence[Column],
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    timezone: str = "UTC",
    gettext: Callable[[str], str] = lambda s: s,
    limit: int = XLSX_MAX_ROWS,
    title: str = "Export",
) -> int:
    """Write the workbook to ``target``; returns the number of data rows written."""
    zone = zone_of(timezone)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_header_cell(sheet, text, bold) for text in header])
    taken, was_cut = _capped(rows, limit)
    count = 0
    for row in taken:
        sheet.append([_xlsx_cell(sheet, value, zone) for value in row])
        count += 1
    if was_cut():
        sheet.append([gettext(CUT_NOTE).format(limit=limit)])
    book.save(target)
    return count


def _sheet_title(title: str) -> str:
    """Excel's rules for a sheet name: 31 characters, none of \\ / * ? : [ ]."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", re.sub(r"[\\/*?:\[\]]", " ", title)).strip()
    return cleaned[:31] or "Export"


def _header_cell(sheet: Any, text: str, bold: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_xlsx_value(text, ZoneInfo("UTC")))
    cell.font = bold
    return cell


def _xlsx_cell(sheet: Any, value: Cell, zone: ZoneInfo) -> Any:
    written = _xlsx_value(value, zone)
    if isinstance(written, datetime):
        cell = WriteOnlyCell(sheet, value=written)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(written, date):
        cell = WriteOnlyCell(sheet, value=written)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(written, str):
        # An explicit string cell: openpyxl would otherwise take a leading "=" as a formula.
        cell = WriteOnlyCell(sheet, value=written)
        cell.data_type = "s"
        return cell
    return written


# --- reading in pages -------------------------------------------------------------------------


def scalars_in_pages(
    session: Session, stmt: Select[Any], size: int = READ_PAGE
) -> Iterator[list[Any]]:
    """The statement's rows in lists of ``size``, from one cursor (a server-side one on
    PostgreSQL), so a million rows never sit in memory at once."""
    result = session.scalars(stmt.execution_options(yield_per=size))
    try:
        for page in result.partitions(size):
            yield list(page)
    finally:
        result.close()


def rows_in_pages(
    session: Session, stmt: Select[Any], size: int = READ_PAGE
) -> Iterator[list[Any]]:
    """Like ``scalars_in_pages``, for a statement of several columns (rows as tuples)."""
    result = session.execute(stmt.execution_options(yield_per=size))
    try:
        for page in result.partitions(size):
            yield list(page)
    finally:
        result.close()


# --- the HTTP answer --------------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem, dot, extension = ascii_name.rpartition(".")
    stem = _UNSAFE_NAME.sub("-", stem if dot else ascii_name).strip("-.") or "export"
    fallback = f"{stem}.{_UNSAFE_NAME.sub('', extension)}" if dot else stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def requested_format(request: Request) -> Format:
    """The format a route ``…/export.csv`` or ``…/export.xlsx`` was called by."""
    return parse_format(request.url.path.rpartition(".")[2])


def parse_format(value: str) -> Format:
    try:
        return Format(value)
    except ValueError:
        raise InvalidInput(N_("Export as csv or xlsx."), field="format") from None


def respond(request: Request, session: Session, export: Export, fmt: Format | str) -> Response:
    """The file as a download, in the page's language.

    The request's transaction is committed first: an audit event recorded for the export
    is then kept even if the download is cut, and on SQLite no write lock is held while a
    long file is read and sent.
    """
    fmt = parse_format(str(fmt))
    gettext = page_gettext(request)
    header = [gettext(column.title) for column in export.columns]
    session.commit()
    filename = f"{export.filename}.{fmt.value}"
    headers = {"Content-Disposition": content_disposition(filename)}
    if fmt is Format.CSV:
        factory = request.app.state.sessions

        def body() -> Iterator[bytes]:
            # The rows are read in a session of their own: the request's may be closed
            # before the body has been sent.
            with transaction(factory) as reading:
                yield from csv_chunks(
                    header, export.rows(reading), timezone=export.timezone, gettext=gettext
                )

        return StreamingResponse(body(), media_type=CSV_MEDIA, headers=headers)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response body
    write_xlsx(
        spool,
        export.columns,
        header,
        export.rows(session),
        timezone=export.timezone,
        gettext=gettext,
        title=export.filename,
    )
    headers["Content-Length"] = str(spool.tell())
    spool.seek(0)
    return StreamingResponse(_file_chunks(spool), media_type=XLSX_MEDIA, headers=headers)


def _file_chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(256 * 1024):
            yield chunk
    finally:
        spool.close()
