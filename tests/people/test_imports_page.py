"""The People imports page: upload orders or events, counts per file, rejected rows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.people.models import DataImport, DataImportStatus, Event, Order
from tests.conftest import Cast, login

ORDERS = (
    "Номер заказа,Дата,Артикул,Количество,Цена,Почта\n"
    "Z-1,2025-04-03 10:00,A1,2,350,anna@example.com\n"
    "Z-2,вчера,A1,1,350,anna@example.com\n"
)
EVENTS = "name,occurred_at,email,path\npage_view,2025-04-03T10:00:00Z,anna@example.com,/catalog\n"


def _upload(client: TestClient, csrf: str, name: str, text: str, **form: str) -> Any:
    return client.post(
        "/w/alpha/people/imports",
        data={"csrf_token": csrf, **form},
        files={"file": (name, text.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_an_agent_uploads_orders_and_sees_counts_and_rejected_rows(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    response = _upload(client, csrf, "заказы апрель.csv", ORDERS, kind="orders", currency="RUB")
    assert response.status_code == 303, response.text
    run = session.scalars(select(DataImport)).one()
    assert run.filename == "заказы апрель.csv"  # the name the user knows, not a random one
    assert (run.status, run.imported, run.rejected) == (DataImportStatus.DONE, 1, 1)
    assert session.scalars(select(Order.external_id)).all() == ["Z-1"]
    page = client.get("/w/alpha/people/imports").text
    assert "заказы апрель.csv" in page and page.count('data-testid="import-row"') == 1
    detail = client.get(f"/w/alpha/people/imports/{run.id}").text
    assert 'data-testid="rejection-row"' in detail and "вчера" in detail


def test_events_are_uploaded_too(client: TestClient, session: Session, cast: Cast) -> None:
    csrf = login(client, cast.agent.user.email)
    assert _upload(client, csrf, "events.csv", EVENTS, kind="events").status_code == 303
    event = session.scalars(select(Event)).one()
    run = session.scalars(select(DataImport)).one()
    assert event.name == "page_view" and event.import_id == run.id  # traceable to its file


def test_bad_uploads_are_refused_with_a_reason_and_store_nothing(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    for name, text, form, reason in (
        ("orders.csv", ORDERS, {"kind": "invoices"}, "Choose orders or events."),
        ("orders.csv", ORDERS, {"kind": "orders", "currency": "XXX"}, "Choose a currency"),
        ("orders.csv", "", {"kind": "orders"}, "The file is empty."),
        ("orders.pdf", ORDERS, {"kind": "orders"}, "Upload a .csv"),
    ):
        response = _upload(client, csrf, name, text, **form)
        assert response.status_code == 422, (name, form)
        assert reason in response.text
    assert session.scalars(select(DataImport)).all() == []


def test_a_file_without_the_needed_columns_fails_with_its_reason(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    _upload(client, csrf, "wrong.csv", "a,b\n1,2\n", kind="orders")
    run = session.scalars(select(DataImport)).one()
    assert run.status is DataImportStatus.FAILED and run.error and "no column" in run.error
    assert "no column" in client.get(f"/w/alpha/people/imports/{run.id}").text


def test_viewers_see_imports_but_cannot_upload(client: TestClient, cast: Cast) -> None:
    csrf = login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/people/imports")
    assert page.status_code == 200 and 'data-testid="people-upload"' not in page.text
    assert _upload(client, csrf, "orders.csv", ORDERS, kind="orders").status_code == 403
