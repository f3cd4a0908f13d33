"""Every list's "Export: CSV · XLSX": the file holds what the page shows for the same filters,
with the page's role, audited where it is personal data, and 404 for another workspace."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.inbox import listing
from h2h.people import privacy, segments
from h2h.people import service as people
from h2h.problems import service as problems
from tests.conftest import Cast, login
from tests.inbox.conftest import conversation_of, customer, make_channel, store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def read_xlsx(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def filename_of(response: Any) -> str:
    return unquote(response.headers["content-disposition"].split("filename*=UTF-8''")[1])


@pytest.fixture
def talk(session: Session, cast: Cast) -> dict[str, Any]:
    """Three customers in the widget: two Russian complaints about delivery, one question."""
    widget = make_channel(session, cast, name="Сайт")
    ids = store(
        session,
        cast,
        widget,
        customer("c1", "Где мой заказ? Доставка опять опоздала", minutes=1),
        customer("c2", "Hello, do you ship to Canada?", handle="john@example.com", name="John",
                 minutes=2),
        customer("c3", "=HYPERLINK(\"http://evil.example\") доставка сломалась",
                 handle="ivan@example.com", name="=Иван", minutes=3),
    )  # fmt: skip
    found = [conversation_of(session, cast, i) for i in ids]
    session.commit()
    return {"channel": widget, "messages": ids, "conversations": found}


def test_the_inbox_export_is_the_list_for_the_same_filters(
    client: TestClient, session: Session, cast: Cast, talk: dict[str, Any]
) -> None:
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/inbox?q=доставка")
    shown = [int(n) for n in re.findall(r'data-number="(\d+)"', page.text)]
    assert len(shown) == 2 and 'data-testid="export-csv"' in page.text
    assert "/w/alpha/inbox/export.csv?q=" in page.text
    rows = read_csv(client.get("/w/alpha/inbox/export.csv?q=доставка"))
    assert [int(r["#"]) for r in rows] == shown
    evil = next(r for r in rows if "HYPERLINK" in r["Last message"])
    assert evil["Last message"].startswith("'=") and evil["Customer"] == "'=Иван"
    assert rows[0]["State"] == "Open" and rows[0]["Channel"] == "Сайт"
    everything = read_xlsx(client.get("/w/alpha/inbox/export.xlsx?state=all"))
    expected, _ = listing.list_conversations(
        session,
        workspace_id=cast.a.id,
        query=listing.InboxQuery.from_params({"state": "all"}),
        user_id=cast.viewer.user.id,
    )
    assert [r["#"] for r in everything] == [c.number for c in expected]
    assert isinstance(everything[0]["Opened"], datetime)
    assert isinstance(everything[0]["Messages"], int)


def test_the_mentions_export_follows_the_stream_search_in_russian(
    client: TestClient, cast: Cast, talk: dict[str, Any]
) -> None:
    login(client, cast.agent.user.email)
    page = client.get("/w/alpha/mentions?q=доставкой")  # another form of the word finds it
    assert page.text.count('data-testid="mention"') == 2
    response = client.get(
        "/w/alpha/mentions/export.csv?q=доставкой", headers={"accept-language": "ru"}
    )
    rows = read_csv(response)
    assert len(rows) == 2 and "Текст" in rows[0]  # column titles in the reader's language
    assert {r["Канал"] for r in rows} == {"Сайт"}
    assert rows[0]["Текст"].startswith("'=HYPERLINK")  # newest first, as the stream
    assert "mentions" in filename_of(response)
    sheet = read_xlsx(client.get("/w/alpha/mentions/export.xlsx?language=en"))
    assert [r["Author"] for r in sheet] == ["John"] and isinstance(sheet[0]["Date"], datetime)


def test_the_people_export_matches_the_list_is_audited_and_leaves_erased_persons_out(
    client: TestClient, session: Session, cast: Cast, talk: dict[str, Any]
) -> None:
    ws = cast.a.id
    gone = people.create_person(
        session, workspace_id=ws, actor=accounts.SYSTEM, name="Стёртая Персона"
    )
    privacy.erase_person(
        session,
        workspace_id=ws,
        actor=accounts.Actor(user_id=None, role=Role.OWNER),
        person_id=gone.id,
    )
    session.commit()
    login(client, cast.agent.user.email)
    page = client.get("/w/alpha/people?q=john")
    assert page.text.count('data-testid="person-row"') == 1
    assert "/w/alpha/people/export.xlsx?q=john" in page.text
    [john] = read_xlsx(client.get("/w/alpha/people/export.xlsx?q=john"))
    assert john["Name"] == "John" and john["Email"] == "john@example.com"
    assert isinstance(john["Last seen"], datetime) and john["Messages"] == 1
    everyone = read_csv(client.get("/w/alpha/people/export.csv"))
    names = [r["Name"] for r in everyone]
    listed = re.findall(r'data-testid="person-link">([^<]+)<', client.get("/w/alpha/people").text)
    assert [n.removeprefix("'") for n in names] == listed  # the list's persons, in its order
    assert "Стёртая Персона" not in names and "—" not in names
    assert "'=Иван" in names
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.workspace_id == ws, AuditEvent.action == "people.export")
        .order_by(AuditEvent.created_at)
    ).all()
    assert [(e.details["rows"], e.details["format"]) for e in event] == [(1, "xlsx"), (3, "csv")]
    assert event[0].details["filters"] == {"q": "john"} and event[0].actor_id == cast.agent.user.id
    login(client, cast.viewer.user.email)
    assert client.get("/w/alpha/people/export.csv").status_code == 403


def test_a_segment_keeps_its_csv_address_and_gains_xlsx_with_its_name(
    client: TestClient, session: Session, cast: Cast, talk: dict[str, Any]
) -> None:
    segment = segments.create_segment(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        name="Постоянные клиенты",
        definition={"q": "john"},
    )
    session.commit()
    login(client, cast.agent.user.email)
    base = f"/w/alpha/people/segments/{segment.id}/export"
    assert [r["Name"] for r in read_csv(client.get(base + ".csv"))] == ["John"]
    response = client.get(base + ".xlsx")
    assert [r["Name"] for r in read_xlsx(response)] == ["John"]
    assert filename_of(response) == "segment-Постоянные клиенты.xlsx"
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "segment.export")).all()
    assert sorted(e.details["format"] for e in audited) == ["csv", "xlsx"]
    assert all(e.details["rows"] == 1 for e in audited)


def test_the_problems_export_is_the_board_with_its_filters(
    client: TestClient, session: Session, cast: Cast, talk: dict[str, Any]
) -> None:
    owner = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    late = problems.create(
        session, workspace_id=cast.a.id, actor=owner, title="Доставка опаздывает",
        message_ids=[str(talk["messages"][0]), str(talk["messages"][2])],
    )  # fmt: skip
    problems.create(session, workspace_id=cast.a.id, actor=owner, title="=1+1", message_ids=[])
    problems.start_fixing(
        session, problem=late, actor=owner, owner_id=cast.agent.user.id,
        root_cause="курьеры", planned_fix="новый подрядчик",
    )  # fmt: skip
    session.commit()
    login(client, cast.viewer.user.email)
    rows = read_xlsx(client.get("/w/alpha/problems/export.xlsx"))
    assert [r["Problem"] for r in rows] == ["'=1+1", "Доставка опаздывает"]  # board order
    fixing = rows[1]
    assert fixing["State"] == "Fixing" and fixing["Assignee"] == cast.agent.user.name
    assert fixing["Complaints"] == 2 and isinstance(fixing["Complaints"], int)
    mine = read_csv(client.get(f"/w/alpha/problems/export.csv?owner={cast.agent.user.id}"))
    assert [r["Problem"] for r in mine] == ["Доставка опаздывает"]
    board = client.get(f"/w/alpha/problems?owner={cast.agent.user.id}")
    assert "Доставка опаздывает" in board.text and "=1+1" not in board.text


def test_the_audit_export_is_for_admins_only_as_the_page_is(
    client: TestClient, session: Session, cast: Cast
) -> None:
    login(client, cast.viewer.user.email)
    assert client.get("/w/alpha/audit").status_code == 403
    assert client.get("/w/alpha/audit/export.csv").status_code == 403
    assert client.get("/w/alpha/audit/export.xlsx").status_code == 403
    login(client, cast.admin.user.email)
    page = client.get("/w/alpha/audit")
    assert page.status_code == 200 and "/w/alpha/audit/export.xlsx" in page.text
    rows = read_csv(client.get("/w/alpha/audit/export.csv"))
    total = session.scalars(select(AuditEvent).where(AuditEvent.workspace_id == cast.a.id)).all()
    assert len(rows) == len(total) >= 4  # the workspace and its three members
    assert {r["Action"] for r in rows} >= {"workspace.create", "member.add"}
    sheet = read_xlsx(client.get("/w/alpha/audit/export.xlsx"))
    assert isinstance(sheet[0]["When"], datetime)


@pytest.mark.parametrize(
    "path",
    [
        "inbox/export.csv",
        "inbox/export.xlsx",
        "mentions/export.csv",
        "people/export.xlsx",
        "problems/export.csv",
        "feedback/export.xlsx",
        "audit/export.csv",
    ],
)
def test_another_workspace_s_export_is_not_found(client: TestClient, cast: Cast, path: str) -> None:
    login(client, cast.owner.user.email)
    assert client.get(f"/w/beta/{path}").status_code == 404
    assert client.get(f"/w/no-such/{path}").status_code == 404
