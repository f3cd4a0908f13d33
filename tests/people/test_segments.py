"""Segments: saved filters, the new filters (RFM, consent, tone, custom field), counts,
members, CSV export with its injection guard, the pages and the API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.db import utcnow
from h2h.errors import Conflict, InvalidInput, PermissionDenied
from h2h.nlp.models import Analysis, Sentiment
from h2h.people import consent, directory, fields, rfm, segments, service
from h2h.people.directory import PersonQuery
from h2h.people.models import ConsentPurpose, FieldType, LifecycleStage, Person
from h2h.people.rfm import RfmSegment
from tests.conftest import Cast, csrf_from, login
from tests.people import profile_data
from tests.people.test_rfm import AS_OF, customer


def _ids(session: Session, ws: uuid.UUID, query: PersonQuery) -> set[uuid.UUID]:
    persons, _ = directory.list_persons(session, workspace_id=ws, filters=query, page_size=500)
    return {p.id for p in persons}


def _person(session: Session, ws: uuid.UUID, name: str) -> Person:
    return service.create_person(session, workspace_id=ws, actor=accounts.SYSTEM, name=name)


def _grant(session: Session, ws: uuid.UUID, person: Person, channel: str, **kw: object) -> None:
    consent.record_consent(
        session,
        workspace_id=ws,
        actor=accounts.SYSTEM,
        person_id=person.id,
        channel=channel,
        purpose=ConsentPurpose.MARKETING,
        source="test form",
        **kw,  # type: ignore[arg-type]
    )


def test_the_consent_filter_follows_the_latest_statement_per_channel(
    session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    now = utcnow()
    on_email = _person(session, ws, "Granted on email")
    _grant(session, ws, on_email, "email", recorded_at=now - timedelta(days=3))
    withdrew = _person(session, ws, "Withdrew later")
    _grant(session, ws, withdrew, "email", recorded_at=now - timedelta(days=3))
    _grant(session, ws, withdrew, "email", status="withdrawn", recorded_at=now - timedelta(days=1))
    withdrew_any = _person(session, ws, "Withdrew everywhere")
    _grant(session, ws, withdrew_any, "telegram", recorded_at=now - timedelta(days=3))
    _grant(
        session, ws, withdrew_any, "any", status="withdrawn", recorded_at=now - timedelta(days=1)
    )
    same_instant = _person(session, ws, "Both at once")
    _grant(session, ws, same_instant, "email", recorded_at=now - timedelta(days=2))
    _grant(
        session, ws, same_instant, "email", status="withdrawn", recorded_at=now - timedelta(days=2)
    )
    regranted = _person(session, ws, "Changed their mind")
    _grant(session, ws, regranted, "vk", status="withdrawn", recorded_at=now - timedelta(days=5))
    _grant(session, ws, regranted, "any", recorded_at=now - timedelta(days=1))
    blocked = _person(session, ws, "Do not contact")
    _grant(session, ws, blocked, "email", recorded_at=now - timedelta(days=3))
    consent.block(
        session, workspace_id=ws, actor=accounts.SYSTEM, person_id=blocked.id, channel="any"
    )
    service_only = _person(session, ws, "Service only")
    consent.record_consent(
        session,
        workspace_id=ws,
        actor=accounts.SYSTEM,
        person_id=service_only.id,
        channel="email",
        purpose=ConsentPurpose.SERVICE,
        source="form",
    )
    _person(session, ws, "Never asked")
    found = _ids(session, ws, PersonQuery(consent=ConsentPurpose.MARKETING))
    assert found == {on_email.id, regranted.id}
    # The filter agrees with may_contact on the channels the grants were on.
    for person in (on_email, withdrew, same_instant, blocked):
        decision = consent.may_contact(
            session, workspace_id=ws, person_id=person.id, channel="email", purpose="marketing"
        )
        assert decision.allowed is (person.id in found), person.name


def test_the_tone_filter_reads_recent_analysed_messages(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    story = profile_data.story(session, ws)  # two messages by Анна, analysed below
    other = _person(session, ws, "Silent")
    first, second = story.inbound
    for message_id, tone in ((first, Sentiment.NEGATIVE), (second, Sentiment.POSITIVE)):
        # Ingest analysed them already; set the tone the test needs.
        session.execute(
            update(Analysis)
            .where(Analysis.workspace_id == ws, Analysis.message_id == message_id)
            .values(sentiment=tone)
        )
    assert (
        session.scalar(
            select(func.count()).select_from(Analysis).where(Analysis.workspace_id == ws)
        )
        == 2
    )
    from h2h.channels.models import Message

    recent = utcnow() - timedelta(days=10)
    session.execute(
        update(Message)
        .where(Message.workspace_id == ws, Message.id == second)
        .values(created_at=recent)
    )
    assert _ids(session, ws, PersonQuery(sentiment=Sentiment.POSITIVE)) == {story.person.id}
    # The negative one is from March 2026 — more than 90 days before "now" in the tests' world?
    old_enough = utcnow() - profile_data.T0 > timedelta(days=directory.SENTIMENT_WINDOW_DAYS)
    negative = _ids(session, ws, PersonQuery(sentiment=Sentiment.NEGATIVE))
    assert negative == (set() if old_enough else {story.person.id})
    assert other.id not in _ids(session, ws, PersonQuery(sentiment=Sentiment.POSITIVE))


def test_the_custom_field_filter_compares_typed_values(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    owner = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    fields.create_field(
        session, workspace_id=ws, actor=owner, key="size", label="Size", type=FieldType.NUMBER
    )
    fields.create_field(
        session, workspace_id=ws, actor=owner, key="vip", label="VIP", type=FieldType.BOOLEAN
    )
    big, small = _person(session, ws, "Big"), _person(session, ws, "Small")
    service.update_person(
        session,
        workspace_id=ws,
        actor=owner,
        person=big,
        changes={"attributes": {"size": 44, "vip": True}},
    )
    service.update_person(
        session,
        workspace_id=ws,
        actor=owner,
        person=small,
        changes={"attributes": {"size": 38, "vip": False}},
    )
    query = segments.query_of(
        session, workspace_id=ws, definition={"field_key": "size", "field_value": "44"}
    )
    assert query.field_value == 44
    assert _ids(session, ws, query) == {big.id}
    query = segments.query_of(
        session, workspace_id=ws, definition={"field_key": "vip", "field_value": False}
    )
    assert _ids(session, ws, query) == {small.id}
    with pytest.raises(InvalidInput) as missing:
        segments.query_of(
            session, workspace_id=ws, definition={"field_key": "shoe", "field_value": "1"}
        )
    assert missing.value.field == "field_key"
    with pytest.raises(InvalidInput):
        segments.query_of(
            session, workspace_id=ws, definition={"field_key": "size", "field_value": "huge"}
        )


def test_definitions_round_trip_and_bad_ones_are_refused_by_name(
    session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    query = PersonQuery(
        q="анна",
        stage=LifecycleStage.CUSTOMER,
        rfm_segment=RfmSegment.AT_RISK,
        consent=ConsentPurpose.MARKETING,
        owner_id=cast.owner.user.id,
        silent_for_days=90,
    )
    definition = segments.definition_of(query)
    assert definition == {
        "q": "анна",
        "stage": "customer",
        "rfm_segment": "at_risk",
        "consent": "marketing",
        "owner_id": str(cast.owner.user.id),
        "silent_for_days": 90,
    }
    assert segments.query_of(session, workspace_id=ws, definition=definition) == query
    for bad, field in (
        ({"colour": "red"}, "filters"),
        ({"stage": "royalty"}, "stage"),
        ({"rfm_segment": "whales"}, "rfm_segment"),
        ({"silent_for_days": -1}, "silent_for_days"),
        ({"silent_for_days": "90"}, "silent_for_days"),
        ({"owner_id": "me"}, "owner_id"),
    ):
        with pytest.raises(InvalidInput) as error:
            segments.query_of(session, workspace_id=ws, definition=bad)
        assert error.value.field == field, bad
    with pytest.raises(InvalidInput):
        segments.query_of(session, workspace_id=ws, definition=["stage"])  # type: ignore[arg-type]


def test_segments_count_members_follow_changes_and_names_are_unique(
    session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    agent = accounts.Actor(user_id=cast.agent.user.id, role=Role.AGENT)
    customers = [
        customer(session, ws, f"Customer {i}", [(i * 30 + 1, 10_000 * (6 - i))]) for i in range(6)
    ]
    rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    lost = [
        p.id
        for p in customers
        if service.get_person(session, workspace_id=ws, person_id=p.id).rfm_segment == "lost"
    ]
    segment = segments.create_segment(
        session, workspace_id=ws, actor=agent, name="Lost ones", definition={"rfm_segment": "lost"}
    )
    assert segment.member_count == len(lost) >= 1 and segment.computed_at is not None
    members, total = segments.members(session, workspace_id=ws, segment=segment)
    assert {p.id for p in members} == set(lost) and total == len(lost)
    with pytest.raises(Conflict):
        segments.create_segment(
            session, workspace_id=ws, actor=agent, name="lost ONES", definition={}
        )
    with pytest.raises(PermissionDenied):
        segments.create_segment(
            session,
            workspace_id=ws,
            actor=accounts.Actor(user_id=cast.viewer.user.id, role=Role.VIEWER),
            name="Viewer's",
            definition={},
        )
    # A new customer who matches joins at the next count.
    late = customer(session, ws, "Very old customer", [(900, 100)])
    rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    now_lost = session.scalars(
        select(Person.id).where(Person.workspace_id == ws, Person.rfm_segment == "lost")
    ).all()
    assert late.id in now_lost
    assert segments.recount(session, workspace_id=ws, segment=segment) == len(now_lost)
    members, _ = segments.members(session, workspace_id=ws, segment=segment)
    assert late.id in {p.id for p in members}
    segments.update_segment(
        session,
        workspace_id=ws,
        actor=agent,
        segment=segment,
        name="Gone",
        definition={"stage": "lapsed"},
    )
    assert segment.name == "Gone" and segment.definition == {"stage": "lapsed"}
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.workspace_id == ws)).all()
    assert {"segment.create", "segment.update"} <= set(actions)
    segments.delete_segment(session, workspace_id=ws, actor=agent, segment=segment)
    assert segments.list_segments(session, workspace_id=ws) == []


def test_a_segment_on_a_deleted_field_is_reported_not_widened(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    owner = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    size = fields.create_field(
        session, workspace_id=ws, actor=owner, key="size", label="Size", type=FieldType.NUMBER
    )
    _person(session, ws, "Anyone")
    segment = segments.create_segment(
        session,
        workspace_id=ws,
        actor=owner,
        name="Size 44",
        definition={"field_key": "size", "field_value": 44},
    )
    assert segment.member_count == 0
    fields.delete_field(session, workspace_id=ws, actor=owner, definition=size)
    with pytest.raises(InvalidInput):
        segments.members(session, workspace_id=ws, segment=segment)
    assert segments.recount_all(session, workspace_id=ws) == 1
    assert segment.member_count is None  # not "everyone"


def _export(session: Session, ws: uuid.UUID, segment: object) -> str:
    owner = accounts.SYSTEM
    export = segments.start_export(session, workspace_id=ws, actor=owner, segment=segment)  # type: ignore[arg-type]
    return "".join(segments.export_rows(session, workspace_id=ws, export=export))


def test_export_is_utf8_with_bom_identities_and_no_formulas(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    anna = service.create_person(
        session,
        workspace_id=ws,
        actor=accounts.SYSTEM,
        name="Анна Петрова",
        email="anna@example.com",
        phone="+7 916 123-45-67",
    )
    evil = _person(session, ws, '=HYPERLINK("http://evil.example","click")')
    service.add_tag(session, workspace_id=ws, actor=accounts.SYSTEM, person=anna, tag="vip")
    service.add_tag(session, workspace_id=ws, actor=accounts.SYSTEM, person=evil, tag="vip")
    segment = segments.create_segment(
        session, workspace_id=ws, actor=accounts.SYSTEM, name="VIP", definition={"tag": "vip"}
    )
    text = _export(session, ws, segment)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["name"] for r in sorted(rows, key=lambda r: r["name"])] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "Анна Петрова",
    ]
    row = next(r for r in rows if r["id"] == str(anna.id))
    assert row["email"] == "anna@example.com" and row["phone"] == "+79161234567"
    assert row["tags"] == "vip" and row["currency"] == "RUB"
    assert segments.safe_cell("-5") == "-5" and segments.safe_cell("-x") == "'-x"
    assert segments.safe_cell("@sum") == "'@sum" and segments.safe_cell(None) == ""


def test_export_pages_through_more_than_one_chunk(
    session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = cast.a.id
    monkeypatch.setattr(segments, "EXPORT_CHUNK", 3)
    made = {_person(session, ws, f"Person {i}").id for i in range(8)}
    segment = segments.create_segment(
        session, workspace_id=ws, actor=accounts.SYSTEM, name="All", definition={}
    )
    rows = list(csv.DictReader(io.StringIO(_export(session, ws, segment).lstrip("\ufeff"))))
    assert {uuid.UUID(r["id"]) for r in rows} == made and len(rows) == 8


def test_pages_save_show_export_rename_and_delete(
    client: TestClient, session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    for i in range(3):
        customer(session, ws, f"Покупатель {i}", [(5 + i, 10_000)])
    _person(session, ws, "Just looking")
    session.commit()
    csrf = login(client, cast.agent.user.email)
    listing = client.get("/w/alpha/people?stage=customer")
    assert 'data-testid="save-segment"' in listing.text
    saved = client.post(
        "/w/alpha/people/segments",
        data={"csrf_token": csrf, "name": "Покупатели", "stage": "customer", "q": ""},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    url = saved.headers["location"]
    page = client.get(url)
    assert page.status_code == 200 and page.text.count('data-testid="person-row"') == 3
    assert "Just looking" not in page.text and "stage=customer" in page.text
    overview = client.get("/w/alpha/people/segments")
    assert "Покупатели" in overview.text and 'data-testid="rfm-overview"' in overview.text
    exported = client.get(url + "/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode()) and "Покупатель 2" in exported.text
    duplicate = client.post(
        "/w/alpha/people/segments", data={"csrf_token": csrf, "name": "покупатели"}
    )
    assert duplicate.status_code == 409 and "exists already" in duplicate.text
    renamed = client.post(url, data={"csrf_token": csrf, "name": "Клиенты", "description": "Все"})
    assert renamed.status_code == 200 and "Клиенты" in renamed.text
    deleted = client.post(url + "/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 200 and "Клиенты" in deleted.text  # the flash names it
    assert client.get(url).status_code == 404


def test_viewers_see_segments_but_cannot_save_or_export(
    client: TestClient, session: Session, cast: Cast
) -> None:
    segment = segments.create_segment(
        session, workspace_id=cast.a.id, actor=accounts.SYSTEM, name="All", definition={}
    )
    session.commit()
    csrf = login(client, cast.viewer.user.email)
    assert client.get(f"/w/alpha/people/segments/{segment.id}").status_code == 200
    assert client.get(f"/w/alpha/people/segments/{segment.id}/export.csv").status_code == 403
    refused = client.post("/w/alpha/people/segments", data={"csrf_token": csrf, "name": "Mine"})
    assert refused.status_code == 403
    assert 'data-testid="save-segment"' not in client.get("/w/alpha/people?stage=lead").text
    rescore = client.post("/w/alpha/people/segments/rfm", data={"csrf_token": csrf})
    assert rescore.status_code == 403


def test_the_api_creates_lists_pages_exports_and_deletes(
    client: TestClient, session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    for i in range(3):
        customer(session, ws, f"Buyer {i}", [(5 + i, 10_000)])
    session.commit()
    base = f"/api/v1/workspaces/{cast.a.slug}/segments"
    headers = cast.agent.headers
    bad = client.post(base, json={"name": "Bad", "filters": {"stage": "royalty"}}, headers=headers)
    assert bad.status_code == 422 and "royalty" in bad.text
    made = client.post(
        base, json={"name": "Buyers", "filters": {"stage": "customer"}}, headers=headers
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["member_count"] == 3 and body["filters"] == {"stage": "customer"}
    assert [s["name"] for s in client.get(base, headers=cast.viewer.headers).json()] == ["Buyers"]
    members = client.get(f"{base}/{body['id']}/members", headers=cast.viewer.headers).json()
    assert members["total"] == 3 and {p["name"] for p in members["items"]} == {
        "Buyer 0",
        "Buyer 1",
        "Buyer 2",
    }
    patched = client.patch(
        f"{base}/{body['id']}", json={"filters": {"stage": "lead"}}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["member_count"] == 0
    csv_text = client.get(f"{base}/{body['id']}/export.csv", headers=headers).text
    assert csv_text.lstrip("\ufeff").splitlines()[0].startswith("id,name,stage")
    assert client.delete(f"{base}/{body['id']}", headers=headers).status_code == 204
    assert client.get(f"{base}/{body['id']}", headers=headers).status_code == 404
    assert client.get(base, headers=cast.outsider.headers).status_code in (403, 404)


def test_people_list_filters_by_rfm_segment_consent_and_tone(
    client: TestClient, session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    old = customer(session, ws, "Old Customer", [(800, 100)])
    fresh = customer(session, ws, "Fresh Customer", [(1, 900_000), (3, 900_000)])
    _grant(session, ws, fresh, "email")
    rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    session.commit()
    login(client, cast.viewer.user.email)
    lost = client.get("/w/alpha/people?rfm=lost").text
    assert "Old Customer" in lost and "Fresh Customer" not in lost
    agreed = client.get("/w/alpha/people?consent=marketing").text
    assert "Fresh Customer" in agreed and "Old Customer" not in agreed
    assert old.id != fresh.id
    bogus = client.get("/w/alpha/people?rfm=whales&consent=spam")  # ignored, not an error
    assert bogus.status_code == 200 and "Old Customer" in bogus.text
    csrf_from(client.get("/w/alpha/people/segments").text)
