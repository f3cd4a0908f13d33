"""The problems API: list and read, the lifecycle and complaint moves as an agent, the
follow-ups; viewers read only, and another workspace's problems answer 404."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels.models import Channel
from h2h.inbox.models import Delivery
from h2h.problems import service
from h2h.problems.models import ProblemState
from tests.conftest import Cast
from tests.inbox.conftest import actor_of
from tests.problems.conftest import complain, make_problem

BASE = "/api/v1/workspaces/alpha/problems"


def test_an_agent_takes_a_problem_through_its_life_by_api(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    ids = [
        str(i)
        for i in complain(
            session, cast, channel, ["Оплата не проходит", "Карта не принята", "Оплата висит"]
        )
    ]
    session.commit()
    headers = cast.agent.headers
    created = client.post(BASE, json={"title": "Оплата", "message_ids": ids}, headers=headers)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["state"] == "confirmed" and created.json()["affected_count"] == 3
    url = f"{BASE}/{number}"

    fixing = client.post(
        f"{url}/fixing",
        json={
            "owner_id": str(cast.agent.user.id),
            "root_cause": "Сертификат",
            "planned_fix": "Обновить",
            "fix_due": "2030-01-31",
        },
        headers=headers,
    )
    assert fixing.status_code == 200, fixing.text
    assert fixing.json()["owner"]["name"] == "Agent Person"
    assert fixing.json()["fix_due"] == "2030-01-31"
    fixed = client.post(f"{url}/fixed", json={"fix_note": "Обновили"}, headers=headers)
    assert fixed.json()["state"] == "fixed"
    assert fixed.json()["evidence"]["verdict"] == "not_yet"
    early = client.post(f"{url}/verify", headers=headers)
    assert early.status_code == 409 and "have not fallen clearly" in early.json()["detail"]
    reopened = client.post(f"{url}/reopen", json={"note": "Снова"}, headers=headers)
    assert reopened.json()["state"] == "reopened"
    refused = client.post(f"{url}/confirm", json={}, headers=headers)
    assert refused.status_code == 409
    declined = client.post(f"{url}/decline", json={"reason": "Банк"}, headers=headers)
    assert declined.json()["state"] == "declined" and declined.json()["decline_reason"] == "Банк"
    again = client.post(f"{url}/confirm", json={"title": "Оплата картой"}, headers=headers)
    assert again.json()["state"] == "confirmed"

    read = client.get(url, headers=cast.viewer.headers).json()
    assert read["title"] == "Оплата картой"
    assert len(read["quotes"]) == 3 and read["recent"] == 3 and read["previous"] == 0
    states = [e["data"]["after"] for e in read["history"] if e["kind"] == "state"]
    assert states == ["fixing", "fixed", "reopened", "declined", "confirmed"]


def test_verify_succeeds_when_complaints_fell(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    problem = make_problem(session, cast, channel, texts=["Курьер опоздал"] * 6, days_ago=20)
    agent = actor_of(cast.agent)
    service.start_fixing(
        session, problem=problem, actor=agent, owner_id=cast.agent.user.id,
        root_cause="a", planned_fix="b",
    )  # fmt: skip
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="c")
    problem.fixed_at = problem.fixed_at - timedelta(days=14)
    session.commit()
    verified = client.post(f"{BASE}/{problem.number}/verify", headers=cast.agent.headers)
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["state"] == "verified"
    assert body["evidence"]["before"] == 6 and body["evidence"]["after"] == 0
    assert body["evidence"]["verdict"] == "fell" and body["evidence"]["p_value"] < 0.05


def test_the_list_filters_by_state_and_owner_and_counts_emerging_clusters(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    late = make_problem(session, cast, channel)
    pay = make_problem(session, cast, channel, "Оплата", ["Оплата не проходит", "Карта"])
    tiny = service.new_problem(session, workspace_id=cast.a.id, language="ru")
    service.attach(
        session,
        problem=tiny,
        message_ids=complain(session, cast, channel, ["Грубо"]),
        actor=actor_of(cast.agent),
    )
    service.start_fixing(
        session, problem=pay, actor=actor_of(cast.agent), owner_id=cast.agent.user.id,
        root_cause="a", planned_fix="b",
    )  # fmt: skip
    session.commit()
    headers = cast.viewer.headers
    everything = client.get(BASE, headers=headers).json()
    assert [p["number"] for p in everything["items"]] == [late.number, pay.number]
    assert everything["emerging"] == 1
    assert [p["number"] for p in client.get(f"{BASE}?state=fixing", headers=headers).json()[
        "items"
    ]] == [pay.number]  # fmt: skip
    owned = client.get(f"{BASE}?owner_id={cast.agent.user.id}", headers=headers).json()
    assert [p["number"] for p in owned["items"]] == [pay.number]
    assert client.get(f"{BASE}?owner_id=nope", headers=headers).status_code == 422


def test_merge_split_and_move_keep_every_complaint_once(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    late = make_problem(session, cast, channel)
    pay = make_problem(session, cast, channel, "Оплата", ["Оплата не проходит", "Карта"])
    calls = make_problem(session, cast, channel, "Звонки", ["Не дозвониться"])
    session.commit()
    ids = [str(c.message_id) for c in service.complaints_of(session, problem=late)]
    headers = cast.agent.headers
    moved = client.post(
        f"{BASE}/{late.number}/move", json={"message_ids": ids[:1], "to": pay.number},
        headers=headers,
    )  # fmt: skip
    assert moved.json() == {"count": 1}
    split = client.post(
        f"{BASE}/{late.number}/split", json={"message_ids": ids[1:2], "title": "Вежливость"},
        headers=headers,
    )  # fmt: skip
    assert split.status_code == 201 and split.json()["complaint_count"] == 1
    merged = client.post(f"{BASE}/{calls.number}/merge", json={"into": pay.number}, headers=headers)
    assert merged.json()["number"] == pay.number and merged.json()["complaint_count"] == 4
    gone = client.get(f"{BASE}/{calls.number}", headers=headers).json()
    assert gone["state"] == "merged" and gone["merged_into"] == pay.number
    missing = client.post(f"{BASE}/{late.number}/merge", json={"into": 9999}, headers=headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "into"
    counts = [
        client.get(f"{BASE}/{n}", headers=headers).json()["complaint_count"]
        for n in (late.number, pay.number, split.json()["number"], calls.number)
    ]
    assert counts == [1, 4, 1, 0]


def test_follow_ups_by_api_are_prepared_reworded_and_sent(
    client: TestClient, session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    ids = complain(session, cast, telegram_channel, ["Оплата!"], authors=[("111", "Анна")])
    agent = actor_of(cast.agent)
    problem = service.create(
        session, workspace_id=cast.a.id, actor=agent, title="Оплата", message_ids=ids
    )
    service.start_fixing(
        session, problem=problem, actor=agent, owner_id=cast.agent.user.id,
        root_cause="a", planned_fix="b",
    )  # fmt: skip
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="обновили сертификат")
    session.commit()
    url = f"{BASE}/{problem.number}/follow-ups"
    headers = cast.agent.headers
    prepared = client.post(f"{url}/prepare", headers=headers).json()
    [item] = prepared["items"]
    assert item["route"] == "reply" and item["status"] == "draft" and item["conversation"]
    assert client.post(f"{url}/send", json={}, headers=headers).status_code == 422
    assert client.get(url, headers=cast.viewer.headers).json()["counts"] == {"draft": 1}
    assert client.post(f"{url}/prepare", headers=cast.viewer.headers).status_code == 403
    edited = client.patch(
        f"{url}/{item['id']}", json={"text": "Анна, оплата работает снова."}, headers=headers
    )
    assert edited.json()["edited"] is True
    sent = client.post(f"{url}/send", json={"follow_up_ids": [item["id"]]}, headers=headers)
    assert sent.status_code == 200, sent.text
    [delivery] = sent.json()
    session.expire_all()
    row = session.scalars(select(Delivery).where(Delivery.workspace_id == cast.a.id)).one()
    assert str(row.id) == delivery["id"] and row.text.startswith("Анна, оплата работает снова.")
    assert client.get(url, headers=headers).json()["items"][0]["status"] == "sent"


def test_viewers_read_and_another_workspace_is_404(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    problem = make_problem(session, cast, channel)
    owner_b = accounts.Actor(user_id=cast.outsider.user.id, role=cast.outsider.membership.role)
    foreign = service.create(session, workspace_id=cast.b.id, actor=owner_b, title="B's own")
    foreign.number = 77
    session.commit()
    viewer = cast.viewer.headers
    assert client.get(f"{BASE}/{problem.number}", headers=viewer).status_code == 200
    assert client.post(f"{BASE}/{problem.number}/confirm", json={}, headers=viewer).status_code == (
        403
    )
    assert client.get(f"{BASE}/77", headers=cast.owner.headers).status_code == 404
    assert client.get(
        "/api/v1/workspaces/beta/problems/77", headers=cast.owner.headers
    ).status_code == (404)
    moved = client.post(
        f"{BASE}/{problem.number}/merge", json={"into": 77}, headers=cast.owner.headers
    )
    assert moved.status_code == 422  # B's #77 is no problem of A's
    session.expire_all()
    assert service.by_number(session, workspace_id=cast.b.id, number=77).state is (
        ProblemState.CONFIRMED
    )
