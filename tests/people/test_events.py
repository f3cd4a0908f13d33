"""Events: the live tracking API, ``h2h import events``, a person's events and their timeline."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.cli import app as cli_app
from h2h.errors import InvalidInput
from h2h.people import events, service
from h2h.people.models import DataImport, DataImportRejection, Event, Identity, IdentityKind
from tests.conftest import Cast, login
from tests.people import profile_data

API = "/api/v1/workspaces/alpha/events"
NOW = datetime.now(UTC).replace(microsecond=0)
runner = CliRunner()


def at(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def view(path: str, minutes_ago: int, email: str = "anna@example.com", **extra: Any) -> dict:
    return {
        "name": "page_view",
        "occurred_at": at(minutes_ago),
        "identity": {"kind": "email", "value": email},
        "properties": {"path": path},
        **extra,
    }


def count(session: Session, workspace_id: Any) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(Event).where(Event.workspace_id == workspace_id)
    )


def person_of(session: Session, workspace_id: Any, kind: IdentityKind, value: str) -> Any:
    identity = session.scalars(
        select(Identity).where(
            Identity.workspace_id == workspace_id, Identity.kind == kind, Identity.value == value
        )
    ).one()
    return identity


# --- the tracking API -----------------------------------------------------------------------------


def test_a_batch_posted_twice_is_stored_once(
    client: TestClient, cast: Cast, session: Session
) -> None:
    batch = [
        view("/pricing", 30),
        view("/pricing", 20, email="Anna@Example.COM"),
        {"name": "search", "occurred_at": at(10), "properties": {"query": "кофе"}},  # anonymous
        {"name": "app_open", "occurred_at": at(5), "external_id": "app-1",
         "identity": {"kind": "phone", "value": "8 (916) 123-45-67"}},
    ]  # fmt: skip
    first = client.post(API, json=batch, headers=cast.agent.headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 4, "duplicates": 0, "rejected": 0, "errors": []}
    again = client.post(API, json={"events": batch}, headers=cast.agent.headers)
    assert again.json() == {"accepted": 0, "duplicates": 4, "rejected": 0, "errors": []}
    # The same event written with another case of the address is the same event.
    same = client.post(
        API, json=view("/pricing", 30, email=" ANNA@example.com"), headers=cast.agent.headers
    )
    assert same.json()["duplicates"] == 1
    assert count(session, cast.a.id) == 4
    email = person_of(session, cast.a.id, IdentityKind.EMAIL, "anna@example.com")
    phone = person_of(session, cast.a.id, IdentityKind.PHONE, "+79161234567")
    assert email.person_id != phone.person_id  # events never merge persons
    assert abs(email.last_seen_at - (NOW - timedelta(minutes=20))) < timedelta(seconds=1)
    stored = session.scalars(select(Event).where(Event.external_id == "app-1")).one()
    assert stored.identity_id == phone.id and stored.source == "api"
    anonymous = session.scalars(select(Event).where(Event.name == "search")).one()
    assert anonymous.identity_id is None and anonymous.properties == {"query": "кофе"}


def test_a_repeated_item_in_one_batch_counts_as_a_duplicate(
    client: TestClient, cast: Cast, session: Session
) -> None:
    item = view("/", 3, external_id="e-1")
    answer = client.post(
        API, json=[item, item, {**item, "name": "signup"}], headers=cast.agent.headers
    )
    assert answer.json()["accepted"] == 1 and answer.json()["duplicates"] == 2
    assert count(session, cast.a.id) == 1


def test_bad_items_are_listed_and_the_good_ones_stored(
    client: TestClient, cast: Cast, session: Session
) -> None:
    deep = {"a": {"b": {"c": {"d": 1}}}}
    batch = [
        view("/ok", 1),
        {"occurred_at": at(1)},
        {"name": "Page View!", "occurred_at": at(1)},
        {"name": "page_view", "occurred_at": "2026-05-01T12:00:00"},
        {"name": "page_view", "occurred_at": (NOW + timedelta(days=2)).isoformat()},
        {"name": "page_view", "occurred_at": "yesterday"},
        {"name": "page_view", "occurred_at": at(1), "properties": {"blob": "x" * 17_000}},
        {"name": "page_view", "occurred_at": at(1), "properties": deep},
        {"name": "page_view", "occurred_at": at(1), "properties": ["not", "an", "object"]},
        {"name": "page_view", "occurred_at": at(1), "identity": {"kind": "fax", "value": "1"}},
        {"name": "page_view", "occurred_at": at(1), "identity": {"kind": "email", "value": "no"}},
        "not an object",
        {
            "name": "app.level_up",
            "occurred_at": at(2),
            "identity": {"kind": "site", "value": "u42"},
        },
    ]
    answer = client.post(API, json=batch, headers=cast.agent.headers)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 11)
    fields = {e["index"]: e["field"] for e in body["errors"]}
    assert fields == {
        1: "name", 2: "name", 3: "occurred_at", 4: "occurred_at", 5: "occurred_at",
        6: "properties", 7: "properties", 8: "properties", 9: "identity.kind",
        10: "identity.value", 11: None,
    }  # fmt: skip
    reasons = {e["index"]: e["reason"] for e in body["errors"]}
    assert "no time zone" in reasons[3] and "future" in reasons[4]
    assert "16384" in reasons[6] and "nested" in reasons[7]
    assert "Unknown event name" in reasons[2] and "app.<name>" in reasons[2]
    assert count(session, cast.a.id) == 2


def test_the_api_needs_a_valid_token_of_a_writer_in_the_workspace(
    client: TestClient, cast: Cast, session: Session
) -> None:
    item = view("/x", 1)
    assert client.post(API, json=item).status_code == 401
    bad = {"Authorization": "Bearer h2h_not_a_token"}
    assert client.post(API, json=item, headers=bad).status_code == 401
    assert client.post(API, json=item, headers=cast.outsider.headers).status_code == 404
    assert client.post(API, json=item, headers=cast.viewer.headers).status_code == 403
    foreign = client.post("/api/v1/workspaces/beta/events", json=item, headers=cast.agent.headers)
    assert foreign.status_code == 404
    assert count(session, cast.a.id) == 0 and count(session, cast.b.id) == 0


def test_a_members_session_works_with_the_csrf_header(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.agent.user.email)
    assert client.post(API, json=view("/a", 1)).status_code == 403
    answer = client.post(API, json=view("/a", 1), headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200 and answer.json()["accepted"] == 1


def test_the_workspace_follows_from_the_token_when_there_is_one(
    client: TestClient, cast: Cast, session: Session
) -> None:
    answer = client.post("/api/v1/events", json=view("/one", 1), headers=cast.agent.headers)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    assert count(session, cast.a.id) == 1
    accounts.add_member(
        session,
        workspace_id=cast.b.id,
        actor=accounts.SYSTEM,
        user=cast.agent.user,
        role=Role.AGENT,
    )
    session.commit()
    unclear = client.post("/api/v1/events", json=view("/two", 1), headers=cast.agent.headers)
    assert unclear.status_code == 422 and "2 workspaces" in unclear.text
    named = client.post(
        "/api/v1/events?workspace=beta", json=view("/two", 1), headers=cast.agent.headers
    )
    assert named.status_code == 200 and count(session, cast.b.id) == 1
    viewer = client.post("/api/v1/events", json=view("/v", 1), headers=cast.viewer.headers)
    assert viewer.status_code == 403
    outsider = client.post(
        "/api/v1/events?workspace=alpha", json=view("/o", 1), headers=cast.outsider.headers
    )
    assert outsider.status_code == 404


def test_more_than_a_thousand_events_are_refused_whole(client: TestClient, cast: Cast) -> None:
    batch = [view(f"/p{i}", 1) for i in range(events.MAX_BATCH + 1)]
    answer = client.post(API, json=batch, headers=cast.agent.headers)
    assert answer.status_code == 422 and "At most 1000" in answer.text
    assert client.post(API, json="text", headers=cast.agent.headers).status_code == 422


# --- reading: a person's events and the timeline --------------------------------------------------


def test_a_persons_events_are_paged_newest_first(
    client: TestClient, cast: Cast, session: Session
) -> None:
    person = profile_data.person(session, cast.a.id, "Анна", email="anna@example.com")
    session.commit()
    same_time = at(50)
    batch = [view(f"/p{i}", 100 - i) for i in range(5)]
    batch += [{**view(f"/tie{i}", 0), "occurred_at": same_time} for i in range(3)]
    batch.append(view("/someone-else", 1, email="boris@example.com"))
    assert client.post(API, json=batch, headers=cast.agent.headers).json()["accepted"] == 9
    url = f"/api/v1/workspaces/alpha/people/{person.id}/events"
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 3, **({"before": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=cast.viewer.headers).json()
        seen += [item["properties"]["path"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8 and len(set(seen)) == 8
    assert seen[:3] == sorted(seen[:3]) or set(seen[:3]) == {"/tie0", "/tie1", "/tie2"}
    assert seen[3:] == ["/p4", "/p3", "/p2", "/p1", "/p0"]
    searches = client.get(url, params={"name": "search"}, headers=cast.viewer.headers)
    assert searches.json() == {"items": [], "next_cursor": None}
    bad = client.get(url, params={"before": "soon"}, headers=cast.viewer.headers)
    assert bad.status_code == 422


def test_the_timeline_shows_page_views_and_searches(
    client: TestClient, cast: Cast, session: Session
) -> None:
    person = profile_data.person(session, cast.a.id, "Анна Петрова", email="anna@example.com")
    outcome = events.record(
        session,
        workspace_id=cast.a.id,
        items=[
            view("/pricing", 30),
            {**view("", 20), "name": "search", "properties": {"query": "овсяное молоко"}},
            {**view("", 10), "name": "app.level_up", "properties": {}},
        ],
    )
    session.commit()
    assert outcome.accepted == 3
    api = client.get(
        f"/api/v1/workspaces/alpha/people/{person.id}/timeline", headers=cast.viewer.headers
    ).json()
    kinds = [(i["kind"], i["title"]) for i in api["items"] if i["kind"] == "event"]
    assert kinds == [
        ("event", "Event {name}"),
        ("event", "Searched “{query}”"),
        ("event", "Viewed page {page}"),
    ]
    login(client, cast.viewer.user.email)
    # The timeline as the profile page renders it (its "Older" fragment: the same template).
    page = client.get(f"/w/alpha/people/{person.id}/timeline").text
    assert "Viewed page /pricing" in page and "Searched “овсяное молоко”" in page
    assert "Event app.level_up" in page
    assert re.findall(r'data-kind="(\w+)"', page).count("event") == 3


# --- h2h import events ----------------------------------------------------------------------------


def _cli(*args: str) -> Any:
    return runner.invoke(cli_app, ["import", "events", *args, "--workspace", "alpha"])


def test_the_import_command_stores_good_rows_and_reports_bad_ones(
    session: Session, cast: Cast, env: None, tmp_path: Path
) -> None:
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(
        "event,timestamp,email,path,query\n"
        f"page_view,{at(60)},anna@example.com,/pricing,\n"
        f"search,{at(50)},anna@example.com,,кофе\n"
        f"page_view,{at(40)},,/anonymous,\n"
        f"teleport,{at(30)},anna@example.com,/,\n"
        "page_view,not a date,anna@example.com,/,\n"
        f"page_view,{at(20)},not-an-email,/,\n",
        encoding="utf-8",
    )
    result = _cli(str(csv_file))
    assert result.exit_code == 0, result.output
    assert "6 rows read, 3 imported, 0 already there, 3 rejected" in result.output
    assert "line 5, column event: Unknown event name" in result.output
    assert "line 6, column timestamp: unreadable time" in result.output
    assert "line 7, column email" in result.output or "line 7, column identity" in result.output
    assert count(session, cast.a.id) == 3
    stored = session.scalars(select(Event).where(Event.name == "search")).one()
    assert stored.properties == {"query": "кофе"} and stored.source == "import:events.csv"
    again = _cli(str(csv_file))
    assert "0 imported, 3 already there, 3 rejected" in again.output
    assert count(session, cast.a.id) == 3
    run = session.scalars(select(DataImport).order_by(DataImport.started_at)).first()
    assert run is not None and (run.rows_read, run.imported, run.rejected) == (6, 3, 3)
    lines = session.scalars(
        select(DataImportRejection.line).where(DataImportRejection.import_id == run.id)
    ).all()
    assert sorted(lines) == [5, 6, 7]


def test_the_import_reads_nested_jsonl_and_a_mapping(
    session: Session, cast: Cast, env: None, tmp_path: Path
) -> None:
    jsonl = tmp_path / "app.jsonl"
    rows = [
        {"name": "app_open", "occurred_at": at(9), "identity": {"kind": "site", "value": "u1"},
         "properties": {"screen": "home", "device": {"os": "ios"}}},
        {"name": "search", "occurred_at": at(8), "identity": {"kind": "site", "value": "u1"},
         "properties": {"query": "зерно"}, "external_id": "s-1"},
    ]  # fmt: skip
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n")
    result = _cli(str(jsonl))
    assert result.exit_code == 0, result.output
    assert "3 rows read, 2 imported, 0 already there, 1 rejected" in result.output
    opened = session.scalars(select(Event).where(Event.name == "app_open")).one()
    assert opened.properties == {"screen": "home", "device": {"os": "ios"}}
    mapped = tmp_path / "visits.csv"
    mapped.write_text(
        "Когда;Кто;Страница\n01.03.2026 10:00;+7 916 000-11-22;/menu\n", encoding="cp1251"
    )
    result = _cli(
        str(mapped), "--name", "page_view", "--map", "occurred_at=Когда", "--map",
        "identity_value=Кто", "--identity-kind", "phone", "--timezone", "Europe/Moscow",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 imported" in result.output
    visit = session.scalars(select(Event).where(Event.name == "page_view")).all()
    assert len(visit) == 1 and visit[0].properties == {"Страница": "/menu"}
    assert visit[0].occurred_at == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert (
        person_of(session, cast.a.id, IdentityKind.PHONE, "+79160001122").id == visit[0].identity_id
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"event,timestamp\npage_view,2026-03-01T10:00:00Z\n" + b"\xd0\x9f\xff\xfe bad\n"
         + b"search,2026-03-01T10:00:00Z\n" * 3, "not valid"),
        (b"a,b\n1,2\n", "no column names the event"),
    ],
    ids=["empty", "broken-utf8", "no-name-column"],
)  # fmt: skip
def test_a_file_that_cannot_be_read_fails_with_a_reason(
    session: Session, cast: Cast, env: None, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = _cli(str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert count(session, cast.a.id) == 0
    run = session.scalars(select(DataImport)).one()
    assert run.status == "failed" and run.error is not None


def test_the_import_refuses_a_bad_mapping_option(env: None, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("name,occurred_at\n")
    assert _cli(str(path), "--map", "colour=red").exit_code == 2
    assert _cli(str(tmp_path / "missing.csv")).exit_code == 1


# --- the service ----------------------------------------------------------------------------------


def test_times_are_read_as_iso_or_unix_seconds() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert events.check_time("2026-03-02T12:00:00+03:00", now=now) == datetime(
        2026, 3, 2, 9, 0, tzinfo=UTC
    )
    assert events.check_time(1772449200, now=now) == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert events.check_time(1772449200000, now=now) == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert events.check_time(now + timedelta(hours=23), now=now) == now + timedelta(hours=23)
    for bad in (None, "", True, "1989-12-31T00:00:00Z", now + timedelta(hours=25)):
        with pytest.raises(InvalidInput):
            events.check_time(bad, now=now)


def test_an_event_of_a_new_identity_creates_a_visitor(session: Session, cast: Cast) -> None:
    outcome = events.record(
        session,
        workspace_id=cast.a.id,
        items=[
            {"name": "signup", "occurred_at": at(3), "identity": {"kind": "telegram", "value": 42}}
        ],
    )
    assert (outcome.accepted, outcome.errors) == (1, [])
    identity = person_of(session, cast.a.id, IdentityKind.TELEGRAM, "42")
    person = service.get_person(session, workspace_id=cast.a.id, person_id=identity.person_id)
    assert person.stage == "visitor" and person.message_count == 0
