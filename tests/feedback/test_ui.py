"""The Feedback pages: admins make surveys through the form (custom questions typed one per
line), send a round, change the settings; everybody reads the scores; viewers cannot act."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.service import Actor
from h2h.channels.models import Channel
from h2h.feedback import service
from h2h.feedback.models import Invite, Survey
from tests.conftest import Cast, login
from tests.feedback.conftest import agree_to_surveys, known
from tests.inbox.conftest import actor_of


def test_an_admin_makes_a_custom_survey_from_typed_lines(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.admin.user.email)
    lines = "\n".join(
        [
            "scale 1-5: How tasty?",
            "one: How did you order? | App | Counter",
            "many?: Add? | Oat milk | Tea",
            "text: What to change?",
        ]
    )
    made = client.post(
        "/w/alpha/feedback/surveys/new",
        data={"csrf_token": csrf, "kind": "custom", "name": "New menu", "questions": lines},
        follow_redirects=False,
    )
    assert made.status_code == 303
    session.expire_all()
    survey = session.scalars(select(Survey).where(Survey.name == "New menu")).one()
    assert [(q["type"], q["required"]) for q in survey.questions] == [
        ("scale", True), ("single", True), ("multiple", False), ("text", False),
    ]  # fmt: skip
    assert survey.questions[1]["options"] == ["App", "Counter"]
    bad = client.post(
        "/w/alpha/feedback/surveys/new",
        data={"csrf_token": csrf, "kind": "custom", "name": "Broken", "questions": "ask: what?"},
    )
    assert bad.status_code == 422 and "Line 1" in bad.text and "ask: what?" in bad.text


def test_a_round_from_the_page_says_who_was_asked_and_why_not_the_others(
    client: TestClient, cast: Cast, session: Session, telegram_channel: Channel
) -> None:
    anna = known(session, cast, telegram_channel, "anna")
    known(session, cast, telegram_channel, "ivan")
    agree_to_surveys(session, cast, anna)
    survey = service.create_survey(
        session, workspace_id=cast.a.id, actor=_admin(cast), kind="nps", name="Recommend us?"
    )
    session.commit()
    csrf = login(client, cast.admin.user.email)
    page = client.post(
        f"/w/alpha/feedback/surveys/{survey.id}/send",
        data={"csrf_token": csrf, "channel_id": str(telegram_channel.id), "segment_id": ""},
    )
    assert page.status_code == 200
    assert "Asked 1 people." in page.text and "no consent to surveys" in page.text
    session.expire_all()
    assert session.scalars(select(Invite.person_id)).all() == [anna.id]


def test_scores_render_in_russian_and_viewers_cannot_change_settings(
    client: TestClient, cast: Cast, session: Session
) -> None:
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/feedback", headers={"accept-language": "ru"})
    assert page.status_code == 200 and "Отзывы" in page.text
    assert client.get("/w/alpha/feedback/settings").status_code == 403
    csrf = login(client, cast.admin.user.email)
    saved = client.post(
        "/w/alpha/feedback/settings",
        data={
            "csrf_token": csrf,
            "cap_days": "21",
            "csat_cap_days": "7",
            "csat_delay_minutes": "15",
            "link_days": "10",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.expire_all()
    found = service.get_settings(session, workspace_id=cast.a.id)
    assert (found.cap_days, found.csat_after_resolve, found.link_days) == (21, False, 10)
    wrong = client.post("/w/alpha/feedback/settings", data={"csrf_token": csrf, "cap_days": "many"})
    assert wrong.status_code == 422


def _admin(cast: Cast) -> Actor:
    return actor_of(cast.admin)
