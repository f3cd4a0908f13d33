"""Interests and values (explicit, inferred, confirmed, dismissed) and the lifecycle rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.errors import Conflict, InvalidInput, PermissionDenied
from h2h.nlp import service as nlp
from h2h.nlp.models import CorrectionField
from h2h.people import interests, lifecycle, merging, privacy, refresh, segments, service
from h2h.people.directory import PersonQuery, list_persons
from h2h.people.models import (
    InterestKind,
    InterestSource,
    LifecycleStage,
    Person,
    PersonInterest,
)
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind
from tests.conftest import Cast, csrf_from, login
from tests.people import profile_data
from tests.people.profile_data import T0

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _actor(cast: Cast, role: str = "agent") -> accounts.Actor:
    return accounts.Actor(user_id=cast.members[role].user.id, role=Role(role))


def _customer(
    session: Session, cast: Cast, texts: list[str], name: str = "Ольга Смирнова"
) -> tuple[Person, list[uuid.UUID]]:
    """A person who wrote ``texts`` (one a day), analysed and matched as ingest does."""
    mail = profile_data.channel(session, cast.a.id)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    person = profile_data.person(session, cast.a.id, name, email=email)
    (identity_id,) = service.identity_ids(session, workspace_id=cast.a.id, person_id=person.id)
    ids = profile_data.messages(
        session,
        workspace_id=cast.a.id,
        channel_id=mail.id,
        identity_id=identity_id,
        texts=[(text, T0 + timedelta(days=n)) for n, text in enumerate(texts)],
        handle=email,
    )
    return person, ids


def _set_aspects(session: Session, cast: Cast, message_id: uuid.UUID, aspects: dict) -> None:
    nlp.correct(
        session,
        workspace_id=cast.a.id,
        actor=_actor(cast),
        message_id=message_id,
        field=CorrectionField.ASPECTS,
        value=aspects,
    )


def _rows(session: Session, cast: Cast, person: Person, **kw: bool) -> dict[str, PersonInterest]:
    found = interests.interests_of(session, workspace_id=cast.a.id, person_id=person.id, **kw)
    return {row.label: row for row in found}


def _refresh(session: Session, cast: Cast, person: Person) -> None:
    refresh.refresh_profiles(session, workspace_id=cast.a.id, person_ids=[person.id])


# --- inference ---------------------------------------------------------------------------------


def test_repeated_aspects_are_values_and_repeated_products_interests() -> None:
    raf, rival = uuid.uuid4(), uuid.uuid4()
    found = interests.infer(
        {"delivery": {"negative": 2, "neutral": 1}, "price": {"positive": 1}},
        [(raf, "Лавандовый раф", 3), (rival, "Кофейный Угол", 1)],
        messages=4,
    )
    by_label = {item.label: item for item in found}
    assert set(by_label) == {"delivery", "Лавандовый раф"}  # one mention is not a pattern
    delivery = by_label["delivery"]
    assert delivery.kind is InterestKind.VALUE and delivery.weight == 0.75
    assert delivery.evidence == {
        "aspect": "delivery",
        "messages": 3,
        "of": 4,
        "negative": 2,
        "neutral": 1,
        "positive": 0,
    }
    assert by_label["Лавандовый раф"].kind is InterestKind.INTEREST
    assert by_label["Лавандовый раф"].evidence["subject_id"] == str(raf)
    assert interests.infer({}, [], messages=0) == []


def test_the_refresh_infers_and_then_respects_what_staff_decided(
    session: Session, cast: Cast
) -> None:
    owner = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=owner,
        kind=SubjectKind.PRODUCT,
        name="Лавандовый раф",
        query="раф",
    )
    subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=owner,
        kind=SubjectKind.BRAND,
        name="Альфа",
        query="альфа",
    )
    person, ids = _customer(
        session,
        cast,
        [
            "Альфа, где мой раф? Курьер опоздал на час.",
            "Альфа, раф снова привезли холодным.",
            "Альфа, подскажите часы работы.",
        ],
    )
    for message_id in ids[:2]:
        _set_aspects(session, cast, message_id, {"delivery": "negative", "price": "neutral"})
    _set_aspects(session, cast, ids[2], {})
    _refresh(session, cast, person)

    rows = _rows(session, cast, person)
    assert set(rows) == {"delivery", "price", "Лавандовый раф"}  # not the workspace's own brand
    delivery = rows["delivery"]
    assert (delivery.source, delivery.kind) == (InterestSource.INFERRED, InterestKind.VALUE)
    assert delivery.weight == pytest.approx(2 / 3, abs=1e-3)
    assert delivery.evidence["negative"] == 2 and delivery.evidence["of"] == 3
    assert rows["Лавандовый раф"].kind is InterestKind.INTEREST

    agent = _actor(cast)
    interests.remove_interest(
        session, workspace_id=cast.a.id, actor=agent, person=person, interest_id=delivery.id
    )
    confirmed = interests.confirm_interest(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        person=person,
        interest_id=rows["Лавандовый раф"].id,
    )
    assert confirmed.source is InterestSource.EXPLICIT and confirmed.evidence["confirmed"]
    _set_aspects(session, cast, ids[1], {"delivery": "negative"})  # price now once only
    _refresh(session, cast, person)

    rows = _rows(session, cast, person)
    assert set(rows) == {"Лавандовый раф"}  # price lost its support; delivery stays dismissed
    assert rows["Лавандовый раф"].source is InterestSource.EXPLICIT
    hidden = _rows(session, cast, person, include_dismissed=True)
    assert hidden["delivery"].dismissed_at is not None
    with pytest.raises(Conflict):
        interests.remove_interest(
            session, workspace_id=cast.a.id, actor=agent, person=person, interest_id=delivery.id
        )
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.workspace_id == cast.a.id, AuditEvent.entity_id == str(person.id)
        )
    ).all()
    assert {"interest.dismiss", "interest.confirm"} <= set(actions)


# --- staff -------------------------------------------------------------------------------------


def test_staff_add_and_remove_and_bad_input_is_refused_by_field(
    session: Session, cast: Cast
) -> None:
    person = profile_data.person(session, cast.a.id, "Ирина Орлова")
    agent = _actor(cast)

    def add(label: str, kind: object = InterestKind.INTEREST, actor: accounts.Actor = agent):
        return interests.add_interest(
            session, workspace_id=cast.a.id, actor=actor, person=person, label=label, kind=kind
        )

    yoga = add("  Йога   по утрам ")
    assert yoga.label == "Йога по утрам" and yoga.source is InterestSource.EXPLICIT
    again = add("йога ПО утрам", InterestKind.VALUE)
    assert again.id == yoga.id and again.kind is InterestKind.VALUE  # one row, case aside
    for bad, field in (("   ", "label"), ("х" * 101, "label")):
        with pytest.raises(InvalidInput) as error:
            add(bad)
        assert error.value.field == field
    with pytest.raises(InvalidInput) as error:
        add("Кофе", kind="hobby")
    assert error.value.field == "kind"
    with pytest.raises(PermissionDenied):
        add("Чай", actor=_actor(cast, "viewer"))

    other = profile_data.person(session, cast.a.id, "Пётр Орлов")
    with pytest.raises(InvalidInput):
        interests.remove_interest(
            session, workspace_id=cast.a.id, actor=agent, person=other, interest_id=yoga.id
        )
    interests.remove_interest(
        session, workspace_id=cast.a.id, actor=agent, person=person, interest_id=yoga.id
    )
    assert _rows(session, cast, person, include_dismissed=True) == {}  # explicit ones go


def test_interests_travel_with_a_merge_come_back_on_undo_and_leave_with_an_erase(
    session: Session, cast: Cast
) -> None:
    agent = _actor(cast)
    winner = profile_data.person(session, cast.a.id, "Анна Петрова", email="anna@example.com")
    loser = profile_data.person(session, cast.a.id, "Аня Петрова", email="anya@example.com")
    for person, label in ((winner, "Йога"), (loser, "Йога"), (loser, "Веганство")):
        interests.add_interest(
            session, workspace_id=cast.a.id, actor=agent, person=person, label=label
        )
    record = merging.merge(
        session, workspace_id=cast.a.id, actor=agent, winner_id=winner.id, loser_id=loser.id
    )
    assert set(_rows(session, cast, winner)) == {"Йога", "Веганство"}
    merging.unmerge(session, workspace_id=cast.a.id, actor=agent, merge_id=record.id)
    assert set(_rows(session, cast, winner)) == {"Йога"}
    assert set(_rows(session, cast, loser)) == {"Йога", "Веганство"}

    exported = privacy.export_person(session, workspace_id=cast.a.id, person_id=loser.id)
    assert {(i["label"], i["kind"]) for i in exported["interests"]} == {
        ("Йога", "interest"),
        ("Веганство", "interest"),
    }
    admin = _actor(cast, "admin")
    privacy.erase_person(session, workspace_id=cast.a.id, actor=admin, person_id=loser.id)
    assert _rows(session, cast, loser, include_dismissed=True) == {}


def test_the_people_filter_and_a_segment_find_people_by_interest(
    session: Session, cast: Cast
) -> None:
    agent = _actor(cast)
    yogi = profile_data.person(session, cast.a.id, "Вера Йогова")
    profile_data.person(session, cast.a.id, "Глеб Бегунов")
    interests.add_interest(session, workspace_id=cast.a.id, actor=agent, person=yogi, label="Йога")
    found, total = list_persons(
        session, workspace_id=cast.a.id, filters=PersonQuery(interest="Йога")
    )
    assert total == 1 and found[0].id == yogi.id
    query = segments.query_of(session, workspace_id=cast.a.id, definition={"interest": " Йога "})
    assert query.interest == "Йога"
    with pytest.raises(InvalidInput):
        segments.query_of(session, workspace_id=cast.a.id, definition={"interest": "  "})


# --- through the app ----------------------------------------------------------------------------


def test_the_api_adds_lists_confirms_and_dismisses(
    client: TestClient, session: Session, cast: Cast
) -> None:
    person, ids = _customer(session, cast, ["Курьер опоздал.", "Курьер опять опоздал."])
    for message_id in ids:
        _set_aspects(session, cast, message_id, {"delivery": "negative"})
    _refresh(session, cast, person)
    session.commit()
    base = f"/api/v1/workspaces/alpha/people/{person.id}/interests"

    listed = client.get(base, headers=cast.viewer.headers)
    assert listed.status_code == 200
    (inferred,) = listed.json()
    assert inferred["label"] == "delivery" and inferred["source"] == "inferred"
    assert inferred["evidence"]["messages"] == 2

    assert client.post(base, json={"label": "Чай"}, headers=cast.viewer.headers).status_code == 403
    bad = client.post(base, json={"label": "Чай", "kind": "hobby"}, headers=cast.agent.headers)
    assert bad.status_code == 422
    added = client.post(base, json={"label": "Чай", "kind": "value"}, headers=cast.agent.headers)
    assert added.status_code == 201 and added.json()["source"] == "explicit"

    confirm = client.post(f"{base}/{inferred['id']}/confirm", headers=cast.agent.headers)
    assert confirm.status_code == 200 and confirm.json()["source"] == "explicit"
    gone = client.delete(f"{base}/{added.json()['id']}", headers=cast.agent.headers)
    assert gone.status_code == 204
    labels = [row["label"] for row in client.get(base, headers=cast.agent.headers).json()]
    assert labels == ["delivery"]

    elsewhere = f"/api/v1/workspaces/beta/people/{person.id}/interests"
    assert client.get(elsewhere, headers=cast.outsider.headers).status_code == 404


def test_the_profile_panel_confirms_and_dismisses_inferred_ones(
    client: TestClient, session: Session, cast: Cast
) -> None:
    person, ids = _customer(session, cast, ["Цена кусается.", "Опять подняли цены?", "Дорого."])
    for message_id in ids:
        _set_aspects(session, cast, message_id, {"price": "negative", "quality": "neutral"})
    _refresh(session, cast, person)
    session.commit()
    rows = _rows(session, cast, person)
    login(client, cast.agent.user.email)
    url = f"/w/alpha/people/{person.id}"
    page = client.get(url, headers={"Accept-Language": "ru"})
    assert 'data-testid="interests-panel"' in page.text
    assert "Цена" in page.text and "3 из 3 сообщений" in page.text
    token = csrf_from(page.text)
    done = client.post(
        f"{url}/interests/{rows['price'].id}/confirm",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("#interests")
    client.post(f"{url}/interests/{rows['quality'].id}/remove", data={"csrf_token": token})
    client.post(
        f"{url}/interests",
        data={"csrf_token": token, "label": "", "kind": "value"},
        follow_redirects=False,
    )
    session.expire_all()
    after = _rows(session, cast, person, include_dismissed=True)
    assert after["price"].source is InterestSource.EXPLICIT
    assert after["quality"].dismissed_at is not None
    assert len(after) == 2  # the empty label was refused, not stored
    refused = client.get(url, headers={"Accept-Language": "ru"})
    assert "Напишите интерес." in refused.text
    listed = client.get("/w/alpha/people", params={"interest": "price"})
    assert person.name in listed.text


# --- the lifecycle ------------------------------------------------------------------------------


def _person(**values: object) -> Person:
    defaults: dict[str, object] = {
        "name": "x",
        "stage": LifecycleStage.VISITOR,
        "stage_manual": False,
        "order_count": 0,
        "last_order_at": None,
    }
    return Person(**{**defaults, **values})


@pytest.mark.parametrize(
    ("person", "signals", "stage"),
    [
        ({}, {}, LifecycleStage.VISITOR),
        ({}, {"buying": 1}, LifecycleStage.LEAD),
        ({"stage": LifecycleStage.LEAD}, {}, LifecycleStage.LEAD),  # a lead stays a lead
        ({"order_count": 1, "last_order_at": NOW}, {"buying": 3}, LifecycleStage.CUSTOMER),
        ({"order_count": 2, "last_order_at": NOW}, {"praise": 1}, LifecycleStage.REPEAT),
        ({"order_count": 2, "last_order_at": NOW}, {"praise": 2}, LifecycleStage.ADVOCATE),
        ({}, {"praise": 2}, LifecycleStage.ADVOCATE),  # a patient who praises us, no orders
        (
            {"order_count": 5, "last_order_at": NOW - timedelta(days=400)},
            {"praise": 9},
            LifecycleStage.LAPSED,  # praise long ago does not hide that they stopped buying
        ),
        (
            {"stage": LifecycleStage.CUSTOMER, "stage_manual": True},
            {"praise": 9, "buying": 9},
            LifecycleStage.CUSTOMER,  # what staff set is kept
        ),
    ],
)
def test_the_stage_follows_the_rules_in_order(
    person: dict, signals: dict, stage: LifecycleStage
) -> None:
    derived = lifecycle.derive_stage(
        person=_person(**person),
        lapsed_after_days=365,
        now=NOW,
        signals=lifecycle.Signals(**signals),
    )
    assert derived is stage


def test_the_refresh_makes_a_lead_from_intent_and_an_advocate_from_praise(
    session: Session, cast: Cast
) -> None:
    person, ids = _customer(session, cast, ["Здравствуйте", "Добрый день", "Привет"])
    agent = _actor(cast)

    def intents(message_id: uuid.UUID, labels: list[str]) -> None:
        nlp.correct(
            session,
            workspace_id=cast.a.id,
            actor=agent,
            message_id=message_id,
            field=CorrectionField.INTENTS,
            value=labels,
        )

    for message_id in ids:
        intents(message_id, ["other"])
    _refresh(session, cast, person)
    assert service.get_person(session, workspace_id=cast.a.id, person_id=person.id).stage is (
        LifecycleStage.VISITOR
    )
    intents(ids[0], ["purchase"])
    _refresh(session, cast, person)
    session.expire_all()
    assert service.get_person(session, workspace_id=cast.a.id, person_id=person.id).stage is (
        LifecycleStage.LEAD
    )
    intents(ids[1], ["praise"])
    intents(ids[2], ["praise"])
    _refresh(session, cast, person)
    session.expire_all()
    assert service.get_person(session, workspace_id=cast.a.id, person_id=person.id).stage is (
        LifecycleStage.ADVOCATE
    )
