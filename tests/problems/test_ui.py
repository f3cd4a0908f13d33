"""The Problems pages: the board by state, a problem's page, every lifecycle action through
its form (and in the history), complaints moved, split off and removed, the follow-ups, the
settings; viewers only look, and another workspace's problems do not exist."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels.models import Channel
from h2h.inbox.models import Delivery
from h2h.problems import service
from h2h.problems.models import (
    FollowUp,
    FollowUpStatus,
    Problem,
    ProblemEvent,
    ProblemSettings,
    ProblemState,
)
from tests.conftest import Cast, csrf_from, login
from tests.inbox.conftest import actor_of
from tests.problems.conftest import complain, make_problem

PAYMENT = [
    "Не проходит оплата картой",
    "Оплата картой не работает второй день",
    "Карта не проходит",
]


def refreshed(session: Session, problem: Problem) -> Problem:
    session.expire_all()
    found = session.get(Problem, (problem.workspace_id, problem.id))
    assert found is not None
    return found


def candidate(session: Session, cast: Cast, channel: Channel, texts: list[str]) -> Problem:
    """A cluster as detection leaves it: a candidate nobody looked at yet."""
    problem = service.new_problem(session, workspace_id=cast.a.id, language="ru")
    ids = complain(session, cast, channel, texts)
    service.attach(session, problem=problem, message_ids=ids, actor=actor_of(cast.agent))
    return problem


def column(html: str, state: str) -> list[int]:
    """Problem numbers in one board column."""
    match = re.search(rf'data-testid="column-{state}".*?(?=data-testid="column-|$)', html, re.S)
    assert match, f"no column {state}"
    return [int(n) for n in re.findall(r'data-testid="problem-card" data-number="(\d+)"', match[0])]


def post(client: TestClient, url: str, csrf: str, **data: str | list[str]) -> str:
    """Submit a form, follow the redirect, return the page (which shows the flash)."""
    response = client.post(url, data={**data, "csrf_token": csrf})
    assert response.status_code == 200, response.text[:500]
    return response.text


def kinds(session: Session, problem: Problem) -> list[str]:
    session.expire_all()
    rows = session.scalars(
        select(ProblemEvent)
        .where(ProblemEvent.workspace_id == problem.workspace_id)
        .where(ProblemEvent.problem_id == problem.id)
        .order_by(ProblemEvent.at, ProblemEvent.id)
    )
    return [e.kind if e.kind != "state" else f"state:{e.data['after']}" for e in rows]


# --- the board --------------------------------------------------------------------------------


def test_the_board_shows_problems_by_state_with_people_complaints_and_trend(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    late = make_problem(session, cast, channel, "Курьер опаздывает")
    found = candidate(session, cast, channel, PAYMENT)
    tiny = candidate(session, cast, channel, ["Грубый оператор"])
    service.attach(
        session,
        problem=late,
        message_ids=complain(
            session, cast, channel, ["Курьер опять опоздал"], days_ago=10
        ),  # before
        actor=actor_of(cast.agent),
    )
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/problems")
    assert page.status_code == 200
    assert column(page.text, "confirmed") == [late.number]
    assert column(page.text, "candidate") == [found.number]
    assert tiny.number not in column(page.text, "candidate")
    assert "1 emerging cluster is too small to show yet." in page.text
    assert "4 people" in page.text and "4 complaints" in page.text
    assert "3 in the last 7 days, 1 in the 7 before" in page.text  # ▲ for #late
    assert 'data-testid="nav-problems"' in page.text
    assert 'data-testid="new-problem-form"' not in page.text  # a viewer only looks


def test_the_board_filters_by_owner_and_ignores_a_bad_id(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    mine = make_problem(session, cast, channel, "Курьер опаздывает")
    other = make_problem(session, cast, channel, "Оплата", PAYMENT)
    service.start_fixing(
        session,
        problem=mine,
        actor=actor_of(cast.agent),
        owner_id=cast.agent.user.id,
        root_cause="Мало курьеров вечером",
        planned_fix="Нанять ещё двоих",
    )
    session.commit()
    login(client, cast.agent.user.email)
    page = client.get(f"/w/alpha/problems?owner={cast.agent.user.id}")
    assert column(page.text, "fixing") == [mine.number]
    assert column(page.text, "confirmed") == []
    everything = client.get("/w/alpha/problems?owner=not-an-id&subject=nope")
    assert everything.status_code == 200
    assert column(everything.text, "confirmed") == [other.number]


def test_a_problem_found_by_hand_is_created_from_pasted_links(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    ids = complain(session, cast, channel, PAYMENT[:2])
    session.commit()
    csrf = login(client, cast.agent.user.email)
    pasted = f"/w/alpha/mentions/{ids[0]}\nи ещё {ids[1]}"
    page = post(client, "/w/alpha/problems", csrf, title="Оплата картой", message_ids=pasted)
    assert "Problem #" in page and "created." in page
    problem = session.scalars(
        select(Problem).where(Problem.workspace_id == cast.a.id, Problem.title == "Оплата картой")
    ).one()
    assert problem.complaint_count == 2 and problem.state is ProblemState.CONFIRMED
    error = post(client, "/w/alpha/problems", csrf, title="  ", message_ids="")
    assert "Give the problem a title." in error


# --- one problem ------------------------------------------------------------------------------


def test_the_problem_page_shows_quotes_people_the_chart_and_links(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    problem = make_problem(session, cast, channel)
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get(f"/w/alpha/problems/{problem.number}")
    assert page.status_code == 200
    html = page.text
    assert f"#{problem.number} Курьер опаздывает" in html
    assert html.count('data-testid="affected-person"') == 3
    assert html.count('data-testid="complaint"') == 3
    assert "Курьер опоздал на два часа" in html  # a quote or a complaint
    assert '<svg class="problem-chart"' in html and "<title>" in html
    assert 'data-testid="timeline-table"' in html
    # Widget messages are threaded into inbox conversations: the complaint links there.
    assert html.count('data-testid="complaint-conversation"') == 3
    assert 'data-testid="decide"' not in html  # a viewer has nothing to decide
    assert client.get("/w/alpha/problems/999").status_code == 404


def test_every_lifecycle_action_works_through_its_form_and_lands_in_the_history(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    problem = candidate(session, cast, channel, PAYMENT)
    session.commit()
    csrf = login(client, cast.agent.user.email)
    url = f"/w/alpha/problems/{problem.number}"

    page = post(client, f"{url}/confirm", csrf, title="Оплата картой")
    assert "is confirmed as a problem" in page
    assert 'data-testid="problem-state">Confirmed<' in page
    page = post(client, f"{url}/fixing", csrf, owner_id="me", root_cause="", planned_fix="x")
    assert "This field is required." in page  # the root cause
    page = post(
        client,
        f"{url}/fixing",
        csrf,
        owner_id=str(cast.agent.user.id),
        root_cause="Истёк сертификат",
        planned_fix="Обновить сертификат",
        fix_due="2030-01-31",
    )
    assert "Work on #" in page and 'data-testid="problem-owner">Agent Person<' in page
    page = post(client, f"{url}/fixed", csrf, fix_note="Сертификат обновлён")
    assert "Now tell the people who complained." in page  # landed on the follow-ups page
    page = client.get(url).text
    assert 'data-testid="evidence"' in page and "Too early to tell" in page
    page = post(client, f"{url}/verify", csrf)
    assert "The complaints have not fallen clearly yet" in page
    assert refreshed(session, problem).state is ProblemState.FIXED
    page = post(client, f"{url}/reopen", csrf, note="Снова жалуются")
    assert 'data-testid="problem-state">Reopened<' in page
    post(client, f"{url}/decline", csrf, reason="")
    assert refreshed(session, problem).state is ProblemState.REOPENED  # a reason is required
    page = post(client, f"{url}/decline", csrf, reason="Это сторона банка")
    assert 'data-testid="problem-state">Declined<' in page
    assert kinds(session, problem)[-5:] == [
        "state:confirmed",
        "state:fixing",
        "state:fixed",
        "state:reopened",
        "state:declined",
    ]
    assert "State changed: Fixed → Reopened. Снова жалуются" in page  # the history, in words
    assert "State changed: Reopened → Declined. Это сторона банка" in page


def test_a_fix_is_verified_when_the_evidence_shows_complaints_fell(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    texts = [f"Курьер опоздал на {i + 2} часа" for i in range(6)]
    problem = make_problem(session, cast, channel, texts=texts, days_ago=20)
    agent = actor_of(cast.agent)
    service.start_fixing(
        session, problem=problem, actor=agent, owner_id=cast.agent.user.id,
        root_cause="Мало курьеров", planned_fix="Больше курьеров",
    )  # fmt: skip
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="Наняли курьеров")
    problem.fixed_at = problem.fixed_at - timedelta(days=14)  # the whole window has passed
    session.commit()
    csrf = login(client, cast.agent.user.email)
    url = f"/w/alpha/problems/{problem.number}"
    page = client.get(url).text
    assert "The fix worked" in page
    assert 'data-testid="evidence-before">6<' in page and 'data-testid="evidence-after">0<' in page
    assert 'data-testid="chart-fix"' in page  # the fix is marked on the chart
    page = post(client, f"{url}/verify", csrf)
    assert "is verified: complaints fell after the fix" in page
    assert refreshed(session, problem).state is ProblemState.VERIFIED
    assert refreshed(session, problem).evidence["verdict"] == "fell"


def test_complaints_move_split_off_and_leave_through_the_complaints_form(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    late = make_problem(session, cast, channel)
    pay = make_problem(session, cast, channel, "Оплата", PAYMENT)
    other = make_problem(session, cast, channel, "Грубость", ["Оператор нагрубил", "Хамство"])
    session.commit()
    csrf = login(client, cast.agent.user.email)
    ids = [str(c.message_id) for c in service.complaints_of(session, problem=late)]
    url = f"/w/alpha/problems/{late.number}"

    page = post(client, f"{url}/complaints", csrf, action="move", to=f"#{pay.number}",
                message_id=[ids[0]])  # fmt: skip
    assert "Complaints moved." in page
    assert refreshed(session, pay).complaint_count == 4
    page = post(client, f"{url}/complaints", csrf, action="split", title="Звонки курьера",
                message_id=[ids[1]])  # fmt: skip
    assert "as a new problem" in page
    new = session.scalars(
        select(Problem).where(Problem.workspace_id == cast.a.id, Problem.title == "Звонки курьера")
    ).one()
    assert new.complaint_count == 1
    page = post(client, f"{url}/complaints", csrf, action="detach", message_id=[ids[2]])
    assert "Leave at least one" not in page
    assert refreshed(session, late).complaint_count == 0
    assert post(client, f"{url}/complaints", csrf, action="move", to="#999999").count(
        "Choose the complaints first."
    )
    page = post(client, f"/w/alpha/problems/{other.number}/merge", csrf, into=f"{pay.number}")
    assert f"#{other.number} was merged into this problem." in page
    assert refreshed(session, other).state is ProblemState.MERGED
    assert refreshed(session, pay).complaint_count == 6
    merged = client.get(f"/w/alpha/problems/{other.number}").text
    assert f'href="/w/alpha/problems/{pay.number}"' in merged
    assert "moved_in" in kinds(session, pay) and "merged" in kinds(session, pay)


def test_a_viewer_cannot_act_and_a_foreign_number_is_not_found(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    problem = make_problem(session, cast, channel)
    owner_b = accounts.Actor(user_id=cast.outsider.user.id, role=cast.outsider.membership.role)
    foreign = service.create(session, workspace_id=cast.b.id, actor=owner_b, title="B's own")
    foreign.number = 41  # a number workspace A does not have
    session.commit()
    csrf = login(client, cast.viewer.user.email)
    url = f"/w/alpha/problems/{problem.number}"
    for action, data in (
        ("confirm", {}),
        ("decline", {"reason": "x"}),
        ("title", {"title": "Renamed"}),
        ("follow-ups/prepare", {}),
    ):
        response = client.post(f"{url}/{action}", data={**data, "csrf_token": csrf})
        assert response.status_code == 403, action
    assert refreshed(session, problem).title == "Курьер опаздывает"
    assert client.get("/w/alpha/problems/41").status_code == 404
    assert client.get("/w/beta/problems/41").status_code == 404
    agent_csrf = login(client, cast.agent.user.email)
    response = client.post(
        "/w/alpha/problems/41/confirm", data={"csrf_token": agent_csrf}, follow_redirects=False
    )
    assert response.status_code == 404
    assert refreshed(session, foreign).state is ProblemState.CONFIRMED


# --- follow-ups -------------------------------------------------------------------------------


def test_follow_ups_are_prepared_edited_and_sent_as_deliveries_never_unedited(
    client: TestClient, session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    ids = complain(
        session, cast, telegram_channel, PAYMENT[:2], authors=[("111", "Анна"), ("222", "Борис")]
    )
    agent = actor_of(cast.agent)
    problem = service.create(
        session, workspace_id=cast.a.id, actor=agent, title="Оплата картой", message_ids=ids
    )
    service.start_fixing(
        session, problem=problem, actor=agent, owner_id=cast.agent.user.id,
        root_cause="Сертификат", planned_fix="Обновить",
    )  # fmt: skip
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="обновили сертификат")
    session.commit()
    csrf = login(client, cast.agent.user.email)
    url = f"/w/alpha/problems/{problem.number}/follow-ups"

    page = post(client, f"{url}/prepare", csrf)
    assert "Messages prepared: 2." in page
    assert page.count('data-testid="follow-up" data-status="draft"') == 2
    assert "Reply in conversation #" in page
    assert "Send 2 messages" in page
    page = post(client, f"{url}/send", csrf)
    assert "Edit the message before sending" in page
    assert session.scalars(select(Delivery).where(Delivery.workspace_id == cast.a.id)).all() == []

    anna = session.scalars(
        select(FollowUp).where(FollowUp.workspace_id == cast.a.id, FollowUp.name == "Анна")
    ).one()
    post(client, f"{url}/{anna.id}", csrf, text="Анна, оплата снова работает. Простите нас!")
    page = post(client, f"{url}/wording", csrf, text="{name}, мы {fix}. Спасибо, что написали.")
    assert "Борис, мы обновили сертификат. Спасибо, что написали." in page
    assert "Анна, оплата снова работает." in page  # edited by hand: the wording leaves it
    page = post(client, f"{url}/send", csrf)
    assert "Messages on their way: 2." in page
    session.expire_all()
    deliveries = session.scalars(select(Delivery).where(Delivery.workspace_id == cast.a.id)).all()
    assert sorted(d.text.split(",")[0] for d in deliveries) == ["Анна", "Борис"]
    items = session.scalars(select(FollowUp).where(FollowUp.problem_id == problem.id)).all()
    assert {f.status for f in items} == {FollowUpStatus.SENT}
    assert {f.delivery_id for f in items} == {d.id for d in deliveries}
    assert page.count('data-testid="follow-up-conversation"') == 2  # sent ones link there
    assert "follow_ups_sent" in kinds(session, problem)


def test_a_follow_up_can_be_skipped_and_brought_back(
    client: TestClient, session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    ids = complain(session, cast, telegram_channel, PAYMENT[:1], authors=[("111", "Анна")])
    agent = actor_of(cast.agent)
    problem = service.create(
        session, workspace_id=cast.a.id, actor=agent, title="Оплата", message_ids=ids
    )
    service.start_fixing(
        session, problem=problem, actor=agent, owner_id=cast.agent.user.id,
        root_cause="a", planned_fix="b",
    )  # fmt: skip
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="c")
    session.commit()
    csrf = login(client, cast.agent.user.email)
    url = f"/w/alpha/problems/{problem.number}/follow-ups"
    post(client, f"{url}/prepare", csrf)
    [item] = session.scalars(select(FollowUp).where(FollowUp.problem_id == problem.id)).all()
    page = post(client, f"{url}/{item.id}/skip", csrf, skipped="1")
    assert 'data-status="skipped"' in page and "Send 1 message" not in page
    page = post(client, f"{url}/{item.id}/skip", csrf, skipped="0")
    assert 'data-status="draft"' in page
    other = make_problem(session, cast, telegram_channel, "Другое")
    session.commit()
    wrong = client.post(
        f"/w/alpha/problems/{other.number}/follow-ups/{item.id}",
        data={"text": "x", "csrf_token": csrf},
    )
    assert wrong.status_code == 404  # a draft of another problem


# --- settings ---------------------------------------------------------------------------------


def test_admins_change_the_settings_and_agents_cannot(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    assert client.get("/w/alpha/problems/settings").status_code == 403
    csrf = login(client, cast.admin.user.email)
    page = client.get("/w/alpha/problems/settings")
    assert page.status_code == 200 and 'data-testid="problem-settings"' in page.text
    csrf = csrf_from(page.text)
    page_text = post(
        client,
        "/w/alpha/problems/settings",
        csrf,
        alert_p_value="0,01",
        alert_min_count="3",
        verify_window_days="21",
        alert_user_ids=[str(cast.agent.user.id)],
        follow_up_text="{name}, мы всё исправили: {fix}.",
    )
    assert "Problem settings saved." in page_text
    found = session.scalars(
        select(ProblemSettings).where(ProblemSettings.workspace_id == cast.a.id)
    ).one()
    assert (found.alert_p_value, found.alert_min_count, found.verify_window_days) == (0.01, 3, 21)
    assert found.alert_user_ids == [str(cast.agent.user.id)]
    assert found.follow_up_text == "{name}, мы всё исправили: {fix}."
    bad = client.post(
        "/w/alpha/problems/settings",
        data={"alert_p_value": "2", "alert_min_count": "3", "verify_window_days": "21",
              "csrf_token": csrf},
    )  # fmt: skip
    assert bad.status_code == 422 and "The p-value must be above 0" in bad.text
    outsider = client.post(
        "/w/alpha/problems/settings",
        data={"alert_p_value": "0.01", "alert_min_count": "3", "verify_window_days": "21",
              "alert_user_ids": str(cast.outsider.user.id), "csrf_token": csrf},
    )  # fmt: skip
    assert outsider.status_code == 422 and "Choose members of this workspace." in outsider.text


def test_the_pages_render_in_russian(
    client: TestClient, session: Session, cast: Cast, channel: Channel
) -> None:
    problem = make_problem(session, cast, channel)
    session.commit()
    login(client, cast.agent.user.email)
    client.cookies.set("h2h_lang", "ru")
    for url in ("/w/alpha/problems", f"/w/alpha/problems/{problem.number}"):
        page = client.get(url)
        assert page.status_code == 200 and '<html lang="ru">' in page.text
