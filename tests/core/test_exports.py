"""The shared export writer: CSV that Excel opens with Cyrillic intact, XLSX with real types,
formula injection defused, caps with a note, and a download name that survives Cyrillic."""

from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from h2h import exports
from h2h.errors import InvalidInput

HEADER = ["Имя", "Сумма", "Когда", "День", "VIP"]
WIDTHS = (30, 12, 18, 12, 6)
COLUMNS = [exports.Column(title, width) for title, width in zip(HEADER, WIDTHS, strict=True)]
WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
ROWS: list[list[exports.Cell]] = [
    ["Анна Петрова", 1250, WHEN, date(2026, 3, 1), True],
    ['Иван, "Ваня"\nвторая строка', Decimal("99.90"), None, None, False],
    ['=HYPERLINK("http://evil.example","click")', -5, WHEN, None, None],
]


def _csv(rows: Iterable[list[exports.Cell]], **kw: Any) -> tuple[bytes, list[list[str]]]:
    data = b"".join(exports.csv_chunks(HEADER, rows, **kw))
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(rows: Any, **kw: Any) -> Any:
    buffer = io.BytesIO()
    exports.write_xlsx(buffer, COLUMNS, HEADER, rows, **kw)
    buffer.seek(0)
    return load_workbook(buffer).active


def test_csv_is_utf8_with_bom_rfc4180_and_reads_back_with_cyrillic_intact() -> None:
    data, rows = _csv(ROWS, timezone="Europe/Moscow")
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert rows[0] == HEADER
    assert rows[1] == ["Анна Петрова", "1250", "2026-03-01 12:30:15+03:00", "2026-03-01", "Yes"]
    assert rows[2] == ['Иван, "Ваня"\nвторая строка', "99.90", "", "", "No"]
    assert len(rows) == 4


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),
        ("+79161234567", "+79161234567"),
        ("plain", "plain"),
        ("a=b", "a=b"),
    ],
)
def test_formula_like_text_gets_an_apostrophe_in_both_formats(text: str, written: str) -> None:
    _, rows = _csv([[text]])
    assert rows[1][0] == written
    sheet = _xlsx([[text]])
    cell = sheet.cell(row=2, column=1)
    # A cell's line breaks are LF in Excel; a bare CR would not survive XML anyway.
    assert cell.value == written.replace("\r", "\n") and cell.data_type == "s"  # never a formula


def test_xlsx_has_real_types_a_bold_frozen_header_and_column_widths() -> None:
    sheet = _xlsx(ROWS, timezone="Europe/Moscow")
    assert [c.value for c in sheet[1]] == HEADER
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30
    name, amount, when, day, vip = (c.value for c in sheet[2])
    assert name == "Анна Петрова" and amount == 1250 and isinstance(amount, int)
    assert when.isoformat() == "2026-03-01T12:30:15"  # Moscow wall-clock time, to the second
    assert isinstance(day, datetime) and day.date() == date(2026, 3, 1)
    assert vip is True
    assert sheet.cell(row=3, column=2).value == pytest.approx(99.9)
    assert sheet.cell(row=4, column=2).value == -5
    assert sheet.cell(row=2, column=3).number_format == "yyyy-mm-dd hh:mm"


def test_xlsx_drops_control_characters_and_cuts_overlong_cells() -> None:
    sheet = _xlsx([["bell\x07 and nul\x00", "x" * 40_000]])
    assert sheet.cell(row=2, column=1).value == "bell and nul"
    assert len(sheet.cell(row=2, column=2).value) == exports.XLSX_CELL_MAX


def _endless() -> Iterator[list[exports.Cell]]:
    n = 0
    while True:
        n += 1
        yield [f"row {n}", n]


def test_a_capped_export_says_where_it_stopped_in_both_formats() -> None:
    _, rows = _csv(_endless(), limit=5)  # an endless source: the cap, not the source, ends it
    assert [r[1] for r in rows[1:6]] == ["1", "2", "3", "4", "5"]
    assert len(rows) == 7 and "stops at 5 rows" in rows[6][0]
    _, exact = _csv([["a", 1], ["b", 2]], limit=2)
    assert len(exact) == 3  # no note when nothing was left out
    sheet = _xlsx(_endless(), limit=5)
    assert sheet.max_row == 7 and "stops at 5 rows" in sheet.cell(row=7, column=1).value


def test_xlsx_memory_stays_bounded_in_write_only_mode() -> None:
    def rows(n: int) -> Iterator[list[exports.Cell]]:
        for i in range(n):
            yield [f"Покупатель {i}", i, WHEN, "комментарий " * 5]

    peaks = []
    for n in (500, 5_000):
        tracemalloc.start()
        with tempfile.TemporaryFile() as target:
            exports.write_xlsx(target, COLUMNS, HEADER, rows(n))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # Ten times the rows, about the same peak: rows go to a temporary file, not to memory.
    assert peaks[1] < peaks[0] * 2, peaks


def test_the_download_name_has_an_ascii_fallback_and_the_real_name_in_rfc5987() -> None:
    header = exports.content_disposition("Постоянные клиенты; 2026.xlsx")
    assert header.startswith('attachment; filename="')
    assert header.isascii()
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.endswith(".xlsx") and fallback.replace("-", "").replace(".", "").isalnum()
    encoded = header.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == "Постоянные клиенты; 2026.xlsx"
    assert fallback == "2026.xlsx"  # what is left in ASCII; browsers use filename* (RFC 6266)
    plain = exports.content_disposition('alpha-inbox-2026-03-01.csv"\r\nX: y')
    assert "\r" not in plain and "\n" not in plain
    assert plain.split("; filename*=")[0].count('"') == 2  # no quote breaks out of the name


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="csv or xlsx"):
        exports.parse_format("pdf")
