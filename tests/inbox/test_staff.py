"""Employee advocacy: how well each person served customers, by name, never by volume."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User
from h2h.channels.connectors.base import ChannelKind
from h2h.db import utcnow
from h2h.errors import PermissionDenied
from h2h.inbox import replies, report, service, sla, staff
from h2h.inbox.models import Conversation, Priority, SlaPolicy, State
from h2h.problems import service as problems
from h2h.problems.models import Problem
from tests.conftest import Cast, login, make_user
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

URL = "/w/{ws}/inbox/staff"
API = "/api/v1/workspaces/{ws}/inbox/staff"


@dataclass
class Served:
    """Five conversations, two agents, problems, thanks: the period the tests look at."""

    fast: User  # "Agent Person": answers fast, gets thanked, fixes problems
    careful: User  # "Bella Agent": answers a colleague's customer, closes spam with a reason
    fast_answered: Conversation
    answered_by_colleague: Conversation
    spam: Conversation
    waiting: Conversation
    unassigned: Conversation
    csat: dict[object, int]


def _policies(session: Session, cast: Cast) -> None:
    """A 15-minute first response around the clock, so the waiting ones are overdue."""
    for priority in Priority:
        session.add(
            SlaPolicy(
                workspace_id=cast.a.id,
                name=f"Fast {priority.value}",
                priority=priority,
                first_response_minutes=15,
                next_response_minutes=30,
                resolution_minutes=14 * 24 * 60,
                business_hours=False,
            )
        )
    session.flush()


def _problems(session: Session, cast: Cast, fast: User, careful: User) -> None:
    admin = actor_of(cast.admin)

    def owned_by(user: User, title: str) -> Problem:
        problem = problems.create(session, workspace_id=cast.a.id, actor=admin, title=title)
        return problems.start_fixing(
            session,
            problem=problem,
            actor=admin,
            owner_id=user.id,
            root_cause="Курьеры не звонят",
            planned_fix="Новый скрипт звонка",
        )

    verified, fixed, reopened = (owned_by(fast, t) for t in ("Звонки", "Упаковка", "Сдача"))
    owned_by(careful, "Оплата картой")  # still being fixed: not counted
    for problem in (verified, fixed, reopened):
        problems.mark_fixed(session, problem=problem, actor=admin, fix_note="Сделано")
    problems.verify(session, problem=verified, actor=admin, evidence={})
    problems.reopen(session, problem=reopened, actor=admin, note="Жалобы вернулись")


def served(session: Session, cast: Cast) -> Served:
    careful = make_user(session, "Bella Agent")
    accounts.add_member(
        session, workspace_id=cast.a.id, actor=accounts.SYSTEM, user=careful, role=Role.AGENT
    )
    fast = cast.agent.user
    me = actor_of(cast.agent)
    colleague = accounts.Actor(user_id=careful.id, role=Role.AGENT)
    _policies(session, cast)
    offline = make_channel(session, cast, ChannelKind.OFFLINE)
    now = utcnow()
    texts = [
        ("c1", "Где мой заказ? Жду уже неделю", 30),
        ("c2", "Подскажите, когда вы открываетесь?", 120),
        ("c3", "КУПИ КРИПТУ http://x.example", 60),
        ("c4", "Вопрос по доставке в область", 180),
        ("c5", "Спасибо за быструю доставку!", 50),  # thanks before any reply thank nobody
    ]
    found = [
        conversation_of(
            session,
            cast,
            store(session, cast, offline, customer(f"m-{h}", t, handle=h, at=now, minutes=-ago))[0],
        )
        for h, t, ago in texts
    ]
    c1, c2, c3, c4, c5 = found
    for conversation, owner in ((c1, fast), (c2, fast), (c3, careful), (c4, careful), (c5, None)):
        service.assign(
            session,
            conversation=conversation,
            actor=actor_of(cast.admin),
            owner_id=owner.id if owner else None,
        )
    replies.compose(session, conversation=c1, actor=me, text="Заказ у курьера, будет сегодня")
    store(
        session,
        cast,
        offline,
        customer("t1", "Спасибо большое, всё решилось!", handle="c1", at=utcnow()),
    )
    service.set_state(session, conversation=c1, actor=me, state=State.RESOLVED)
    replies.compose(session, conversation=c2, actor=colleague, text="С девяти утра, без выходных")
    sarcasm = customer("t2", "Спасибо за ничего. Ужасный сервис", handle="c2", at=utcnow())
    store(session, cast, offline, sarcasm)
    service.not_answering(session, conversation=c3, actor=colleague, reason="spam", note="Бот")
    _problems(session, cast, fast, careful)
    sla.check_breaches(session)
    session.commit()
    return Served(fast, careful, c1, c2, c3, c4, c5, {c1.id: 5, c2.id: 4, c3.id: 2})


def _report(session: Session, cast: Cast, **extra: object) -> staff.StaffReport:
    until = utcnow()
    return staff.staff_report(
        session,
        workspace_id=cast.a.id,
        since=until - timedelta(days=30),
        until=until,
        **extra,  # type: ignore[arg-type]
    )


def test_each_person_gets_what_they_did_for_customers(session: Session, cast: Cast) -> None:
    s = served(session, cast)
    numbers = _report(session, cast, csat=s.csat)
    # By name, though Bella has more conversations: the report is no league table.
    assert [row.name for row in numbers.agents] == ["Agent Person", "Bella Agent"]
    fast, careful = numbers.agents
    assert (fast.conversations, fast.owned, fast.answered, fast.not_answering) == (2, 2, 1, {})
    assert (fast.undecided, fast.answered_share, fast.breaches) == (0, 1.0, {})
    assert fast.first_response_minutes["p50"] == pytest.approx(30, abs=2)
    assert fast.resolution_minutes["p50"] == pytest.approx(30, abs=2)
    assert (fast.problems_fixed, fast.problems_verified, fast.thanks) == (2, 1, 1)
    assert fast.csat == staff.Csat(mean=4.5, count=2, satisfied_share=1.0)
    # Bella answered Agent's customer, closed spam with a reason, and one customer still waits.
    assert (careful.conversations, careful.owned, careful.answered) == (3, 2, 1)
    assert (careful.not_answering, careful.undecided) == ({"spam": 1}, 1)
    assert (careful.answered_share, careful.not_answered_share) == (0.333, 0.333)
    assert careful.first_response_minutes["p50"] == pytest.approx(120, abs=2)
    assert careful.resolution_minutes == {}
    assert careful.breaches == {"first_response": 1}  # her waiting customer, not the unassigned
    assert (careful.problems_fixed, careful.thanks) == (0, 0)  # "thanks for nothing" is no thanks
    assert careful.csat == staff.Csat(mean=3.0, count=2, satisfied_share=0.5)


def test_the_workspace_row_adds_up_to_the_response_report(session: Session, cast: Cast) -> None:
    s = served(session, cast)
    numbers = _report(session, cast, csat=s.csat)
    whole = report.response_report(
        session, workspace_id=cast.a.id, since=numbers.since, until=numbers.until
    )
    total = numbers.total
    assert (total.conversations, total.answered, total.not_answering, total.undecided) == (
        whole.conversations,
        whole.answered,
        whole.not_answering,
        whole.undecided,
    )
    assert total.first_response_minutes == whole.first_response_minutes
    assert total.resolution_minutes == whole.resolution_minutes
    assert total.breaches == whole.breaches == {"first_response": 2}
    assert (total.conversations, total.owned, total.undecided, total.thanks) == (5, 4, 2, 1)
    # Agent's customer rated by the owner and by Bella who answered counts once here.
    assert total.csat == staff.Csat(mean=3.67, count=3, satisfied_share=0.667)
    assert (total.problems_fixed, total.problems_verified) == (2, 1)


def test_a_team_row_merges_its_members_and_counts_each_thing_once(
    session: Session, cast: Cast
) -> None:
    s = served(session, cast)
    numbers = _report(
        session, cast, csat=s.csat, teams={"Day shift": [s.fast.id, s.careful.id], "Solo": []}
    )
    assert [team.name for team in numbers.teams] == ["Day shift", "Solo"]
    day, solo = numbers.teams
    assert (day.conversations, day.owned, day.answered, day.undecided) == (4, 4, 2, 1)
    assert day.csat == numbers.total.csat  # the unassigned conversation has no rating
    assert (day.thanks, day.problems_fixed, day.breaches) == (1, 2, {"first_response": 1})
    assert set(day.members) == {s.fast.id, s.careful.id}
    assert (solo.conversations, solo.csat, solo.answered_share) == (0, None, None)


def test_an_agent_sees_their_own_row_their_teams_and_the_total(
    session: Session, cast: Cast
) -> None:
    s = served(session, cast)
    numbers = _report(session, cast, teams={"Mine": [s.fast.id], "Theirs": [s.careful.id]})
    mine = staff.visible_to(numbers, actor=actor_of(cast.agent))
    assert [row.name for row in mine.agents] == ["Agent Person"]
    assert [team.name for team in mine.teams] == ["Mine"]
    assert mine.total == numbers.total
    assert staff.visible_to(numbers, actor=actor_of(cast.admin)) == numbers
    with pytest.raises(PermissionDenied):
        staff.visible_to(numbers, actor=actor_of(cast.viewer))


def test_the_period_leaves_out_what_happened_before_it(session: Session, cast: Cast) -> None:
    served(session, cast)
    later = utcnow() + timedelta(days=1)
    numbers = staff.staff_report(
        session, workspace_id=cast.a.id, since=later, until=later + timedelta(days=7)
    )
    assert numbers.agents == []
    assert (numbers.total.conversations, numbers.total.thanks, numbers.total.csat) == (0, 0, None)


def _agent_rows(html: str) -> list[str]:
    return re.findall(r'data-testid="staff-agent" data-user="[^"]+"><th scope="row">([^<]+)<', html)


def test_the_page_shows_everyone_to_an_admin_in_russian(
    client: TestClient, session: Session, cast: Cast
) -> None:
    served(session, cast)
    login(client, cast.admin.user.email)
    page = client.get(
        URL.format(ws=cast.a.slug), params={"days": 7}, headers={"Accept-Language": "ru"}
    )
    assert page.status_code == 200
    assert '<html lang="ru"' in page.text
    assert "Первый ответ, минут" in page.text  # the column headers speak Russian
    assert _agent_rows(page.text) == ["Agent Person", "Bella Agent"]
    assert 'value="7" selected' in page.text
    assert 'data-testid="staff-total"' in page.text
    assert 'data-testid="staff-reason-spam"' in page.text
    assert 'data-testid="staff-own-only"' not in page.text
    assert 'data-testid="staff-csat"' not in page.text  # no ratings passed in yet


def test_an_agent_sees_only_their_own_row_and_a_viewer_nothing(
    client: TestClient, session: Session, cast: Cast
) -> None:
    served(session, cast)
    login(client, cast.agent.user.email)
    page = client.get(URL.format(ws=cast.a.slug))
    assert page.status_code == 200
    assert _agent_rows(page.text) == ["Agent Person"]
    assert "Bella Agent" not in page.text
    assert 'data-testid="staff-own-only"' in page.text
    unknown_period = client.get(URL.format(ws=cast.a.slug), params={"days": 13})
    assert 'value="30" selected' in unknown_period.text
    viewer = client.get(URL.format(ws=cast.a.slug), headers=cast.viewer.headers)
    assert viewer.status_code == 403
    outsider = client.get(URL.format(ws=cast.a.slug), headers=cast.outsider.headers)
    assert outsider.status_code == 404


def test_the_api_gives_the_same_numbers_to_the_same_people(
    client: TestClient, session: Session, cast: Cast
) -> None:
    s = served(session, cast)
    numbers = _report(session, cast)
    url = API.format(ws=cast.a.slug)
    body = client.get(url, params={"days": 30}, headers=cast.admin.headers).json()
    assert [row["user_id"] for row in body["agents"]] == [str(s.fast.id), str(s.careful.id)]
    for row, expected in zip(body["agents"], numbers.agents, strict=True):
        assert row["name"] == expected.name
        assert (row["conversations"], row["owned"], row["answered"]) == (
            expected.conversations,
            expected.owned,
            expected.answered,
        )
        assert (row["not_answering"], row["not_answered"], row["undecided"]) == (
            expected.not_answering,
            expected.not_answered,
            expected.undecided,
        )
        assert row["first_response_minutes"] == expected.first_response_minutes
        assert row["breaches"] == expected.breaches
        assert (row["problems_fixed"], row["problems_verified"], row["thanks"]) == (
            expected.problems_fixed,
            expected.problems_verified,
            expected.thanks,
        )
        assert row["csat"] is None
    assert body["total"]["conversations"] == numbers.total.conversations == 5
    assert body["total"]["user_id"] is None and body["teams"] == []
    own = client.get(url, headers=cast.agent.headers).json()
    assert [row["name"] for row in own["agents"]] == ["Agent Person"]
    assert own["total"]["answered"] == numbers.total.answered
    assert client.get(url, headers=cast.viewer.headers).status_code == 403
    assert client.get(API.format(ws=cast.b.slug), headers=cast.owner.headers).status_code == 404
    assert client.get(url, headers=cast.outsider.headers).status_code == 404
    too_long = client.get(url, params={"days": 5000}, headers=cast.admin.headers)
    assert too_long.status_code == 422 and "days" in too_long.text
