"""The dashboard page over HTTP: every member reads it, in Russian and English, the figures
are those of the constructed messages, the period and subject come from the query, and
unreadable input falls back instead of failing."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.reports import rollups
from tests.conftest import Cast, login
from tests.reports.test_rollups import world  # noqa: F401 - fixture


def _figure(html: str, key: str) -> str:
    start = html.index(f'data-testid="figure-{key}"')
    return html[html.index("<strong>", start) + 8 : html.index("</strong>", start)]


def test_a_viewer_sees_the_figures_of_the_period(
    client: TestClient,
    session: Session,
    cast: Cast,
    world: dict[str, Any],  # noqa: F811
) -> None:
    rollups.refresh(session, workspace_id=cast.a.id)
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/reports?days=30")
    assert page.status_code == 200
    assert _figure(page.text, "messages") == "60"
    for key in ("volume", "voices", "response", "aspects", "places"):
        assert f'data-spec-for="{key}"' in page.text
    assert "direction=in" in page.text  # the marks link to the customers' messages only


def test_the_subject_filter_and_the_language(
    client: TestClient,
    session: Session,
    cast: Cast,
    world: dict[str, Any],  # noqa: F811
) -> None:
    session.commit()
    login(client, cast.owner.user.email)
    rival = world["rival"]
    page = client.get(f"/w/alpha/reports?subject={rival.id}", headers={"Accept-Language": "ru"})
    assert page.status_code == 200
    assert "Сообщения по дням и тональности" in page.text
    assert "Сообщения: только о «Бобы»." in page.text
    assert int(_figure(page.text, "messages").replace("\xa0", "")) < 60


def test_unreadable_input_falls_back_to_the_last_30_days(
    client: TestClient,
    session: Session,
    cast: Cast,
    world: dict[str, Any],  # noqa: F811
) -> None:
    session.commit()
    login(client, cast.owner.user.email)
    for query in ("since=yesterday&until=2026-99-01", "subject=not-a-uuid", "days=12"):
        page = client.get(f"/w/alpha/reports?{query}")
        assert page.status_code == 200, query
        assert "compared with the 30 days before" in page.text, query
    assert client.get("/w/alpha/reports?days=0").status_code == 422
    assert client.get("/w/beta/reports").status_code == 404
    printable = client.get("/w/alpha/reports/print?days=7")
    assert printable.status_code == 200 and "data-spec-for" not in printable.text


def test_the_dashboard_exports_its_numbers(
    client: TestClient,
    session: Session,
    cast: Cast,
    world: dict[str, Any],  # noqa: F811
) -> None:
    session.commit()
    login(client, cast.viewer.user.email)
    response = client.get("/w/alpha/reports/export.csv?days=30")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Section", "Item", "Group", "Value"]
    assert ["Key figures", "messages from customers", "", "60"] in rows
    per_day = [r for r in rows if r[0] == "Messages by day and sentiment"]
    assert sum(int(r[3]) for r in per_day) == 60
    assert client.get("/w/alpha/reports/export.xlsx?days=30").status_code == 200
