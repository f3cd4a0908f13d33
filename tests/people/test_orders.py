"""Importing orders: Online Retail layout, idempotence, bad rows, crashes, aggregates, the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from h2h.cli import app as cli_app
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker
from h2h.people import api as orders_api
from h2h.people import imports, orders, service
from h2h.people.models import (
    DataImport,
    DataImportRejection,
    DataImportStatus,
    Identity,
    IdentityKind,
    LifecycleStage,
    Order,
    OrderLine,
    Person,
    Product,
)
from h2h.people.timeline import TimelineQuery
from tests.conftest import Cast

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
# Real lines of the UCI Online Retail set: two purchases and a cancellation of customer
# 17850, an anonymous purchase, and two identical lines of one invoice (both are real).
SAMPLE = HEADER + (
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,"
    "United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"
    "536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom\n"
    "536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-02 08:28:00,1.85,17850.0,United Kingdom\n"
    "C543611,22632,HAND WARMER RED RETROSPOT,-6,2011-02-10 14:38:00,1.85,17850.0,United Kingdom\n"
)


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = engine_from_settings(settings)
    yield make_sessionmaker(engine)
    engine.dispose()


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _import(factory: sessionmaker[Session], cast: Cast, *paths: Path) -> list[DataImport]:
    ids = orders.import_files(factory, workspace_id=cast.a.id, paths=list(paths))
    with factory() as session:
        return [imports.get_import(session, workspace_id=cast.a.id, import_id=i) for i in ids]


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _customer(session: Session, cast: Cast, value: str = "17850") -> Person:
    identity = session.scalars(
        select(Identity).where(
            Identity.workspace_id == cast.a.id,
            Identity.kind == IdentityKind.CUSTOMER_ID,
            Identity.value == value,
        )
    ).one()
    return service.get_person(session, workspace_id=cast.a.id, person_id=identity.person_id)


def test_online_retail_lines_become_orders_of_customers_and_anonymous_orders(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    [run] = _import(factory, cast, _write(tmp_path, "day.csv", SAMPLE))
    assert (run.status, run.rows_read, run.imported, run.rejected) == (
        DataImportStatus.DONE,
        6,
        6,
        0,
    )
    by_number = {o.external_id: o for o in session.scalars(select(Order))}
    assert set(by_number) == {"536365", "536544", "536366", "C543611"}
    first = by_number["536365"]
    assert first.import_id == run.id and first.source == "online-retail"
    assert (first.total, first.line_count, first.currency) == (6 * 255 + 6 * 339, 2, "GBP")
    assert first.placed_at.replace(tzinfo=None).isoformat() == "2010-12-01T08:26:00"
    anonymous = by_number["536544"]
    assert anonymous.identity_id is None and anonymous.line_count == 2 and anonymous.total == 502
    cancel = by_number["C543611"]
    assert cancel.is_cancellation and cancel.total == -6 * 185
    assert _count(session, Product) == 5
    person = _customer(session, cast)
    assert person.order_count == 2  # the cancellation refunds, it is not an order
    assert person.lifetime_value == 6 * 255 + 6 * 339 + 6 * 185 - 6 * 185
    assert person.stage in (LifecycleStage.REPEAT, LifecycleStage.LAPSED)
    assert person.last_order_at is not None and person.last_order_at.year == 2011


def test_reimport_creates_no_duplicates(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _write(tmp_path, "day.csv", SAMPLE)
    _import(factory, cast, path)
    [again] = _import(factory, cast, path)
    assert (again.imported, again.duplicates) == (0, 6)
    assert _count(session, OrderLine) == 6 and _count(session, Order) == 4
    assert _customer(session, cast).lifetime_value == 6 * 255 + 6 * 339


def test_an_overlapping_file_adds_only_its_new_lines(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    lines = SAMPLE.splitlines(keepends=True)
    first = _write(tmp_path, "a.csv", "".join(lines[:4]))
    second = _write(
        tmp_path,
        "b.csv",
        HEADER
        + "".join(lines[2:])
        + "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047.0,UK\n",
    )
    _import(factory, cast, first)
    [run] = _import(factory, cast, second)
    assert (run.imported, run.duplicates) == (4, 2)
    assert _count(session, OrderLine) == 7
    totals = {o.external_id: o.line_count for o in session.scalars(select(Order))}
    assert totals["536365"] == 2 and totals["536544"] == 2


def test_bad_rows_are_reported_with_line_and_column_and_good_rows_kept(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = HEADER + (
        "536365,85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "536366,85123A,HOLDER,6,not a date,2.55,17850.0,United Kingdom\n"
        "536367,85123A,HOLDER,six,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "536368,85123A,HOLDER,6,2010-12-01 08:26:00,2,55x,17850.0,United Kingdom\n"
        ",85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "536369,85123A,HOLDER,6,2010-12-01 08:26:00,£2.5.5,17850.0,United Kingdom\n"
    )
    [run] = _import(factory, cast, _write(tmp_path, "bad.csv", text))
    assert (run.imported, run.rejected) == (1, 5)
    found = {
        (r.line, r.column, r.reason.split(":")[0])
        for r in imports.rejections_of(session, workspace_id=cast.a.id, import_id=run.id)
    }
    assert (3, "InvoiceDate", "unreadable date") in found
    assert (4, "Quantity", "not a number") in found
    assert (5, None, "9 cells where the header has 8") in found
    assert (6, "InvoiceNo", "no order number") in found
    assert (7, "UnitPrice", "not a number") in found
    assert _count(session, OrderLine) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"Invoice,Amount\n1,2\n", "no column for"),
    ],
)
def test_a_file_that_cannot_be_read_fails_with_a_recorded_reason(
    session: Session,
    cast: Cast,
    factory: sessionmaker[Session],
    tmp_path: Path,
    content: bytes,
    reason: str,
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    [run] = _import(factory, cast, path)
    assert run.status == DataImportStatus.FAILED and reason in (run.error or "")
    [rejection] = session.scalars(select(DataImportRejection)).all()
    assert rejection.line == 0 and reason in rejection.reason
    assert _count(session, Order) == 0


def test_a_cp1251_file_with_russian_columns_is_read(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = (
        "Номер заказа;Дата;Артикул;Товар;Количество;Цена;Телефон\n"
        "Z-1;03.04.2025 10:00;A1;Чайник электрический;1;2 499,90;8 (916) 123-45-67\n"
        "Z-1;03.04.2025 10:00;A2;Кружка;2;350;8 (916) 123-45-67\n"
    )
    [run] = _import(factory, cast, _write(tmp_path, "заказы.csv", text, "cp1251"))
    assert (run.imported, run.rejected) == (2, 0)
    order = session.scalars(select(Order)).one()
    assert (order.total, order.currency) == (249_990 + 70_000, "RUB")
    assert order.placed_at.month == 4 and order.placed_at.day == 3
    assert session.scalars(select(Product.name).where(Product.sku == "A1")).one().startswith("Чай")
    phone = session.scalars(select(Identity)).one()
    assert (phone.kind, phone.value) == (IdentityKind.PHONE, "+79161234567")


def test_outside_online_retail_a_refund_is_negative_lines_not_a_c_number(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = (
        "order_id,placed_at,sku,quantity,unit_price,email\n"
        "CAFE-1,2025-04-03 10:00,A1,2,350,anna@example.com\n"
        "R-2,2025-04-05 10:00,A1,-1,350,anna@example.com\n"
    )
    _import(factory, cast, _write(tmp_path, "cafe.csv", text))
    kinds = {o.external_id: o.is_cancellation for o in session.scalars(select(Order))}
    assert kinds == {"CAFE-1": False, "R-2": True}
    person = session.scalars(select(Person)).one()
    assert (person.order_count, person.lifetime_value) == (1, 2 * 35_000 - 35_000)  # kopecks


def test_a_crash_mid_import_keeps_committed_chunks_and_a_rerun_completes(
    session: Session,
    cast: Cast,
    factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _write(tmp_path, "day.csv", SAMPLE)
    real = orders.OrderImport.handle
    calls = {"n": 0}

    def failing(self: orders.OrderImport, db: Session, rows: list[imports.Row]) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(self, db, rows)

    monkeypatch.setattr(orders.OrderImport, "handle", failing)
    with pytest.raises(RuntimeError):
        orders.import_files(factory, workspace_id=cast.a.id, paths=[path], chunk_size=2)
    assert _count(session, OrderLine) == 2
    failed = session.scalars(select(DataImport)).one()
    assert failed.status == DataImportStatus.FAILED and "disk on fire" in (failed.error or "")
    monkeypatch.setattr(orders.OrderImport, "handle", real)
    [run] = _import(factory, cast, path)
    assert (run.imported, run.duplicates) == (4, 2)
    assert _count(session, OrderLine) == 6
    assert _customer(session, cast).order_count == 2


def test_orders_are_on_the_timeline_and_in_the_purchases_panel(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(factory, cast, _write(tmp_path, "day.csv", SAMPLE))
    person = _customer(session, cast)
    ids = service.identity_ids(session, workspace_id=cast.a.id, person_id=person.id)
    items = orders.order_source(
        session, TimelineQuery(cast.a.id, person.id, ids, before=None, limit=10)
    )
    assert [i.data["number"] for i in items] == ["C543611", "536366", "536365"]
    assert items[0].data["is_cancellation"] and items[0].data["total"] == -1110
    panel = orders._panel(session, cast.a.id, person)
    assert panel["order_count"] == 2 and panel["currency"] == "GBP"
    assert panel["top_products"] == [
        ("HAND WARMER UNION JACK", 6),
        ("WHITE HANGING HEART T-LIGHT HOLDER", 6),
        ("WHITE METAL LANTERN", 6),
    ]  # the red hand warmer was cancelled
    page, total = orders.person_orders(
        session, workspace_id=cast.a.id, person_id=person.id, page=1, page_size=2
    )
    assert total == 3 and [o.external_id for o in page] == ["C543611", "536366"]


def test_orders_of_one_workspace_never_reach_another(
    session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _write(tmp_path, "day.csv", SAMPLE)
    _import(factory, cast, path)
    orders.import_files(factory, workspace_id=cast.b.id, paths=[path])
    session.expire_all()
    assert session.scalar(select(func.count()).where(Order.workspace_id == cast.b.id)) == 4
    assert session.scalar(select(func.count()).where(Order.workspace_id == cast.a.id)) == 4


def test_the_cli_imports_globs_and_prints_a_summary(
    env: None, session: Session, cast: Cast, tmp_path: Path
) -> None:
    lines = SAMPLE.splitlines(keepends=True)
    _write(tmp_path, "d1.csv", "".join(lines[:3]))
    _write(tmp_path, "d2.csv", HEADER + "".join(lines[3:]) + "C1,X,Y,1,bad date,1,,UK\n")
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["import", "orders", str(tmp_path / "d*.csv"), "--workspace", cast.a.slug]
    )
    assert result.exit_code == 0, result.output
    assert "2 file(s): 7 rows read, 6 imported, 0 already there, 1 rejected." in result.output
    assert "d2.csv line 6, column InvoiceDate: unreadable date" in result.output
    again = runner.invoke(
        cli_app, ["import", "orders", str(tmp_path / "d1.csv"), "--workspace", cast.a.slug]
    )
    assert "0 imported, 2 already there" in again.output
    missing = runner.invoke(cli_app, ["import", "orders", "nope.csv", "--workspace", cast.a.slug])
    assert missing.exit_code == 1


def test_the_orders_command_has_help() -> None:
    result = CliRunner().invoke(cli_app, ["import", "orders", "--help"])
    assert result.exit_code == 0 and "--workspace" in result.output


def test_the_api_pages_a_persons_orders_and_hides_them_from_other_workspaces(
    client: TestClient, session: Session, cast: Cast, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(factory, cast, _write(tmp_path, "day.csv", SAMPLE))
    person = _customer(session, cast)
    url = f"/api/v1/workspaces/{cast.a.slug}/people/{person.id}/orders"
    response = client.get(url, headers=cast.viewer.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3 and body["page_size"] == orders_api.ORDERS_PAGE
    assert [o["external_id"] for o in body["items"]] == ["C543611", "536366", "536365"]
    assert body["items"][0]["is_cancellation"] and body["items"][0]["total"] == -1110
    foreign = f"/api/v1/workspaces/{cast.b.slug}/people/{person.id}/orders"
    assert client.get(foreign, headers=cast.outsider.headers).status_code == 404
    assert client.get(url, headers=cast.outsider.headers).status_code in (403, 404)
