"""The Problems board and a problem's page in the system Chromium: they render without
console errors (the CSP allows no inline script or style), and a candidate is confirmed
through its form."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker, utcnow
from h2h.problems import service
from h2h.problems.models import Problem, ProblemState
from tests.browserkit import MOBILE, STEP_TIMEOUT_MS, shoot
from tests.livesrv import demo_settings, live_server, log_in

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

_ids = itertools.count(1)
COMPLAINTS = [
    "Приложение вылетает при оплате заказа",
    "Опять вылетает приложение, когда жму оплатить",
    "Не могу оплатить: приложение закрывается",
    "Оплата в приложении снова падает",
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return demo_settings(tmp_path_factory.mktemp("problems-ui"), language="en")


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


def candidate(db: Session) -> int:
    """A cluster of fresh complaints on the demo workspace, as detection leaves it."""
    workspace = db.scalars(select(Workspace).where(Workspace.slug == "zerno")).one()
    channel = channels.create_channel(
        db, workspace_id=workspace.id, actor=accounts.SYSTEM, kind=ChannelKind.WIDGET,
        name=f"Problems UI test {next(_ids)}",
    )  # fmt: skip
    items = [
        RawMessage(
            f"pui-{next(_ids)}",
            text,
            utcnow() - timedelta(hours=i + 1),
            Author(f"buyer{next(_ids)}@example.com", f"Buyer {i}"),
        )
        for i, text in enumerate(COMPLAINTS)
    ]
    inserted = ingest.store(db, workspace_id=workspace.id, channel_id=channel.id, items=items)
    agent = db.scalars(select(User).where(User.email == "dmitry@zerno.example")).one()
    problem = service.new_problem(db, workspace_id=workspace.id, language="ru")
    service.attach(
        db,
        problem=problem,
        message_ids=list(inserted.inserted),
        actor=accounts.Actor(user_id=agent.id, role=Role.AGENT),
    )
    number = problem.number
    db.commit()
    return number


def test_the_board_renders_and_a_candidate_is_confirmed(
    base_url: str, page: playwright.Page, console_errors: list[str], db: Session
) -> None:
    number = candidate(db)
    log_in(page, base_url, "dmitry@zerno.example")
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.click("[data-testid=nav-problems]")
    page.wait_for_selector("[data-testid=problem-board]")
    card = f"[data-testid=column-candidate] [data-testid=problem-card][data-number='{number}']"
    page.wait_for_selector(card)
    shoot(page, "problems-board.png")

    page.click(f"{card} h3 a")
    page.wait_for_url(f"{base_url}/w/zerno/problems/{number}")
    page.wait_for_selector("[data-testid=timeline-chart]")
    assert page.locator("[data-testid=complaint]").count() == len(COMPLAINTS)
    page.fill("[data-testid=confirm-title]", "The app crashes at checkout")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=problem-state]:has-text('Confirmed')")
    assert "The app crashes at checkout" in page.inner_text("[data-testid=problem-title]")
    assert page.locator("[data-testid=history-item][data-kind=state]").count() == 1
    shoot(page, "problems-problem.png")
    assert console_errors == []

    db.expire_all()
    found = db.scalars(select(Problem).where(Problem.number == number)).all()
    assert [p.state for p in found if p.title == "The app crashes at checkout"] == [
        ProblemState.CONFIRMED
    ]


def test_the_problem_page_fits_a_phone(
    base_url: str, browser: playwright.Browser, db: Session
) -> None:
    number = candidate(db)
    context = browser.new_context(viewport=MOBILE)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        phone = context.new_page()
        log_in(phone, base_url, "dmitry@zerno.example")
        phone.goto(f"{base_url}/w/zerno/problems/{number}")
        phone.wait_for_selector("[data-testid=timeline-chart]")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"the page scrolls sideways on a phone ({width}px)"
        shoot(phone, "problems-problem-mobile.png")
    finally:
        context.close()
