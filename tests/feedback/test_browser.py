"""A survey round trip in the system Chromium: an NPS invitation goes out through a local
Telegram Bot API, the person answers on the public page on a phone (one tap, then why),
and the answer is on their profile and in the workspace's NPS — without console errors
(the CSP allows no inline script or style)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker, utcnow
from h2h.feedback import invites, service
from h2h.inbox import replies
from h2h.inbox.models import DeliveryStatus
from h2h.people import consent_records
from h2h.people import service as people
from h2h.people.models import ConsentPurpose
from tests.browserkit import MOBILE, STEP_TIMEOUT_MS, shoot
from tests.channels.fakes.telegram import ANNA, TOKEN, FakeTelegram
from tests.livesrv import demo_settings, live_server, log_in

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return demo_settings(tmp_path_factory.mktemp("feedback-ui"), language="ru")


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    engine = engine_from_settings(settings)
    session = make_sessionmaker(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


def test_an_nps_round_trip_through_telegram_and_the_public_page(
    base_url: str,
    browser: playwright.Browser,
    console_errors: list[str],
    page: playwright.Page,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(invites, "app_settings", lambda: SimpleNamespace(public_url=base_url))
    workspace = db.scalars(select(Workspace).where(Workspace.slug == "zerno")).one()
    anna_agent = db.scalars(select(User).where(User.email == "anna@zerno.example")).one()
    actor = accounts.Actor(user_id=anna_agent.id, role=Role.OWNER)
    with FakeTelegram().running() as telegram:
        telegram.clock = int(utcnow().timestamp()) - 3600
        channel = channels.create_channel(
            db, workspace_id=workspace.id, actor=actor, kind=ChannelKind.TELEGRAM,
            name="Survey bot", config={"base_url": telegram.url, "poll_timeout": 0},
            secrets={"bot_token": TOKEN},
        )  # fmt: skip
        stored = ingest.store(
            db, workspace_id=workspace.id, channel_id=channel.id,
            items=[RawMessage("nps-1", "Спасибо за раф!", utcnow() - timedelta(days=2),
                              Author(str(ANNA["id"]), "Анна Смирнова"))],
        )  # fmt: skip
        message = channels.get_message(db, workspace_id=workspace.id, message_id=stored.inserted[0])
        assert message.identity_id is not None
        person = people.persons_by_identity(
            db, workspace_id=workspace.id, identity_ids=[message.identity_id]
        )[message.identity_id]
        consent_records.record_consent(
            db, workspace_id=workspace.id, actor=actor, person_id=person.id, channel="telegram",
            purpose=ConsentPurpose.SURVEYS, source="loyalty card form",
        )  # fmt: skip
        survey = service.create_survey(
            db, workspace_id=workspace.id, actor=actor, kind="nps", name="Порекомендуете «Зерно»?"
        )
        outcome = invites.send_round(
            db, survey=survey, actor=actor, person_ids=[person.id], channel_id=channel.id
        )
        db.commit()
        factory = sessionmaker(bind=db.get_bind(), expire_on_commit=False)
        [delivery] = outcome.deliveries
        assert replies.deliver(factory, workspace_id=workspace.id, delivery_id=delivery.id) is (
            DeliveryStatus.SENT
        )
        [sent] = telegram.sent
    link = next(word for word in sent["text"].split() if word.startswith(base_url + "/f/"))

    phone = browser.new_context(viewport=MOBILE, locale="ru-RU")
    phone.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        survey_page = phone.new_page()
        errors: list[str] = []
        survey_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        survey_page.goto(link + "?score=4")  # one tap on "4" in the message
        survey_page.wait_for_selector("[data-testid=survey-thanks]")
        assert survey_page.is_checked("input[name=score][value='4']")
        survey_page.fill("[data-testid=survey-comment]", "Кофе остыл, пока ждала курьера")
        survey_page.click("[data-testid=survey-submit]")
        survey_page.wait_for_selector("[data-testid=survey-thanks]")
        width = survey_page.evaluate("document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"the survey scrolls sideways on a phone ({width}px)"
        shoot(survey_page, "feedback-survey-mobile.png")
        assert errors == []
    finally:
        phone.close()

    db.expire_all()
    [answer] = service.responses_of_person(db, workspace_id=workspace.id, person_id=person.id)
    assert (answer.score, answer.comment) == (4, "Кофе остыл, пока ждала курьера")
    log_in(page, base_url, "anna@zerno.example")
    page.goto(f"{base_url}/w/zerno/people/{person.id}")
    page.wait_for_selector("[data-testid=feedback-panel] li[data-kind=nps]:has-text('NPS 4')")
    assert page.locator("[data-testid=timeline-item][data-kind=survey]").count() == 1
    page.goto(f"{base_url}/w/zerno/feedback")
    page.wait_for_selector("[data-testid=card-nps]")
    shoot(page, "feedback-overview.png")
    assert console_errors == []
