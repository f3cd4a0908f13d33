"""File import: formats, encodings, mappings, bad rows, crashes and re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels import importer
from h2h.channels import service as channels
from h2h.channels.models import ImportRejection, ImportStatus, Message
from h2h.channels.tasks import run_import
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker
from tests.channels.conftest import Place

AIRLINE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "airline_tweets_dev"
    / ("tweets_dev_airlines.csv")
)
BA_HEADER = "Дата;Автор;Текст;Ссылка;Аудитория\n"
BA_ROWS = [
    "03.11.2026 14:05;Ольга К.;Кофе в «Зерне» — лучший в городе!;https://vk.com/wall1_1;1200\n",
    "03.11.2026 15:10;Пётр;Опять очередь на 20 минут, доставка не работает;https://t.me/c/1;15\n",
]


@pytest.fixture
def factory(settings: Settings) -> sessionmaker[Session]:
    engine = engine_from_settings(settings)
    yield make_sessionmaker(engine)  # type: ignore[misc]
    engine.dispose()


def _run(
    factory: sessionmaker[Session],
    place: Place,
    path: Path,
    mapping: importer.Mapping | None = None,
) -> object:
    if mapping is None:
        mapping = importer.Mapping(
            importer.guess_mapping(importer.peek_columns(path)), timezone="Europe/Moscow"
        )
    run_id = run_import(
        factory,
        workspace_id=place.workspace.id,
        channel_id=place.channel.id,
        path=path,
        mapping=mapping,
    )
    with factory() as session:
        run = channels.get_import(session, workspace_id=place.workspace.id, import_id=run_id)
        rejections = channels.import_rejections(session, run=run)
        session.expunge_all()
    return run, rejections


def _messages(session: Session) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).order_by(Message.created_at)))


def test_a_brand_analytics_export_in_cp1251_imports_without_editing(
    tmp_path: Path, factory: sessionmaker[Session], place: Place, session: Session
) -> None:
    path = tmp_path / "ba.csv"
    path.write_bytes((BA_HEADER + "".join(BA_ROWS)).encode("cp1251"))
    run, rejections = _run(factory, place, path)
    assert (run.status, run.imported, run.rejected) == (ImportStatus.DONE, 2, 0)
    first, second = _messages(session)
    assert first.text == "Кофе в «Зерне» — лучший в городе!"
    assert first.author_handle == "Ольга К." and first.author_followers == 1200
    assert first.created_at.isoformat() == "2026-11-03T11:05:00+00:00"  # 14:05 Moscow
    assert first.url == "https://vk.com/wall1_1" and first.language == "ru"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_or_without_bom(
    tmp_path: Path, factory: sessionmaker[Session], place: Place, encoding: str
) -> None:
    path = tmp_path / "ba.csv"
    path.write_bytes((BA_HEADER + "".join(BA_ROWS)).encode(encoding))
    run, _ = _run(factory, place, path)
    assert run.imported == 2


def test_bad_rows_are_reported_and_good_rows_kept(
    tmp_path: Path, factory: sessionmaker[Session], place: Place
) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(
            {
                "id": "1",
                "text": "Отличный сервис",
                "date": "2026-11-02T10:00:00+03:00",
                "author": {"handle": "ivan", "followers": 10},
            },
            ensure_ascii=False,
        ),
        '{"id": "2", "text": "обрыв строки',
        json.dumps({"id": "3", "text": "", "date": "2026-11-02T10:00:00Z"}),
        json.dumps({"id": "4", "text": "Когда откроетесь?", "date": "вчера вечером"}),
        json.dumps(
            {"id": "5", "text": "ok", "date": "2026-11-02", "author": {"followers": "много"}}
        ),
        "[1, 2]",
        json.dumps({"id": "6", "text": "Спасибо!", "date": 1793000000}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = importer.Mapping(
        {
            "external_id": "id",
            "text": "text",
            "created_at": "date",
            "author_handle": "author.handle",
            "author_followers": "author.followers",
        }
    )
    run, rejections = _run(factory, place, path, mapping)
    assert (run.imported, run.rejected) == (2, 5)
    reasons = {r.line: (r.column, r.reason) for r in rejections}
    assert reasons[2][1].startswith("broken JSON")
    assert reasons[3] == ("text", "empty text")
    assert reasons[4][0] == "date" and "unreadable date" in reasons[4][1]
    assert reasons[5][0] == "author.followers" and "not a number" in reasons[5][1]
    assert reasons[6][1] == "a line must hold a JSON object"


def test_a_crash_mid_import_then_a_rerun_stores_every_row_once(
    tmp_path: Path,
    factory: sessionmaker[Session],
    place: Place,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "big.csv"
    rows = [
        f"{i},Сообщение номер {i} про доставку кофе и выпечки,2026-11-0{1 + i % 9}T10:00:00Z"
        for i in range(2500)
    ]
    path.write_text("id,text,date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    original = importer.to_message
    seen = {"n": 0}

    def crash_in_the_third_batch(row: importer.Row, mapping: importer.Mapping) -> object:
        seen["n"] += 1
        if seen["n"] == 2100:
            raise RuntimeError("power cut")
        return original(row, mapping)

    monkeypatch.setattr(importer, "to_message", crash_in_the_third_batch)
    with pytest.raises(RuntimeError):
        _run(factory, place, path)
    assert len(_messages(session)) == 2000, "the two committed batches survive the crash"
    monkeypatch.setattr(importer, "to_message", original)
    run, _ = _run(factory, place, path)
    assert (run.imported, run.duplicates) == (500, 2000)
    assert len(_messages(session)) == 2500
    again, _ = _run(factory, place, path)
    assert again.imported == 0 and again.duplicates == 2500


def test_an_xlsx_export_imports(
    tmp_path: Path, factory: sessionmaker[Session], place: Place, session: Session
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Text", "Date", "Author", "URL", "Author followers"])
    sheet.append(["Great espresso!", "2026-11-01 09:30", "@kate", "https://x.com/1", 5300])
    sheet.append([None, None, None, None, None])
    sheet.append(["Waited 40 minutes", "2026-11-01 10:00", "@tom", None, None])
    path = tmp_path / "youscan.xlsx"
    workbook.save(path)
    run, _ = _run(factory, place, path)
    assert (run.imported, run.rejected) == (2, 0)
    assert [m.author_followers for m in _messages(session)] == [5300, None]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\n\n  \n", "the file is empty"),
        ("header-only.csv", b"id,text\n", None),
        ("notes.pdf", b"%PDF-1.4", "unknown file type .pdf"),
        ("fake.xlsx", b"not a zip", "not a readable .xlsx workbook"),
    ],
)
def test_unreadable_files_fail_with_a_reason(
    tmp_path: Path,
    factory: sessionmaker[Session],
    place: Place,
    name: str,
    content: bytes,
    error: str | None,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    mapping = importer.Mapping({"text": "text"})
    run, _ = _run(factory, place, path, mapping)
    if error is None:
        assert run.status is ImportStatus.DONE and run.rows_read == 0
    else:
        assert run.status is ImportStatus.FAILED and error in (run.error or "")


def test_wrongly_encoded_bytes_after_good_rows_stop_the_import_with_a_reason(
    tmp_path: Path, factory: sessionmaker[Session], place: Place, session: Session
) -> None:
    good = "".join(f"{i},строка {i} про кофе\n" for i in range(5000)).encode()
    path = tmp_path / "broken.csv"
    path.write_bytes(b"id,text\n" + good + "9999,ломаная строка\n".encode("cp1251"))
    run, _ = _run(factory, place, path, importer.Mapping({"external_id": "id", "text": "text"}))
    assert run.status is ImportStatus.FAILED and "not valid utf-8" in (run.error or "")
    kept = len(_messages(session))
    assert kept % 1000 == 0 and 3000 <= kept < 5000, "batches before the bad bytes are kept"


def test_dates_in_common_formats() -> None:
    mapping = importer.Mapping(timezone="Europe/Moscow")
    expected = "2026-11-03T11:05:00+00:00"
    for value in (
        "03.11.2026 14:05",
        "2026-11-03 14:05",
        "2026-11-03T11:05:00Z",
        "Tue Nov 03 11:05:00 +0000 2026",
        "2026-11-03 03:05:00 -0800",
        "1793703900",
        1793703900000,
    ):
        assert importer.parse_datetime(value, mapping).isoformat() == expected, value
    with pytest.raises(ValueError):
        importer.parse_datetime("1899-01-01", mapping)


@pytest.mark.slow
@pytest.mark.skipif(not AIRLINE.exists(), reason="../shared/data is not next to this checkout")
def test_the_airline_tweets_import_with_a_saved_mapping_and_reimport_adds_nothing(
    factory: sessionmaker[Session], place: Place, session: Session
) -> None:
    saved = channels.save_mapping(
        session,
        workspace_id=place.workspace.id,
        actor=place.actor,
        name="Twitter (CrowdFlower)",
        columns={
            "external_id": "tweet_id",
            "text": "text",
            "created_at": "tweet_created",
            "author_handle": "name",
        },
    )
    session.commit()
    mapping = importer.Mapping(dict(saved.columns), saved.date_format, saved.timezone)
    run, rejections = _run(factory, place, AIRLINE, mapping)
    # 9,494 rows; 155 of them repeat a tweet_id earlier in the file (same tweet twice).
    assert (run.rows_read, run.rejected) == (9494, 0) and not rejections
    assert run.imported + run.duplicates == 9494 and run.imported == 9339
    again, _ = _run(factory, place, AIRLINE, mapping)
    assert (again.imported, again.duplicates) == (0, 9494)
    count = session.scalar(select(func.count()).select_from(Message))
    assert count == 9339
    assert session.scalar(select(func.count()).select_from(ImportRejection)) == 0


def test_a_big_file_prepared_in_worker_processes_imports_the_same_as_in_one(
    tmp_path: Path,
    factory: sessionmaker[Session],
    place: Place,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from h2h.channels import tasks

    lines = [
        json.dumps(
            {
                "id": str(i % 2300),
                "text": f"Отзыв {i}: доставка кофе заняла {i} минут",
                "date": f"2026-11-0{1 + i % 9}T10:00:00+03:00",
            },
            ensure_ascii=False,
        )
        for i in range(2500)
    ] + ["{broken"]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = importer.Mapping({"external_id": "id", "text": "text", "created_at": "date"})
    monkeypatch.setattr(tasks, "PARALLEL_MIN_BYTES", 0)
    run, rejections = _run(factory, place, path, mapping)
    assert (run.rows_read, run.imported, run.duplicates, run.rejected) == (2501, 2300, 200, 1)
    assert rejections[0].line == 2501 and rejections[0].reason.startswith("broken JSON")
    texts = {m.external_id: m.text for m in _messages(session)}
    assert texts["7"] == "Отзыв 7: доставка кофе заняла 7 минут"
