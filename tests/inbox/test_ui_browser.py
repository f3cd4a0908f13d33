"""The inbox in the system Chromium: shortcuts, live updates without reload, the collision
warning, draft autosave; and no console errors (the CSP allows no inline script)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Workspace
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker, utcnow
from h2h.inbox import service
from tests.browserkit import shoot
from tests.livesrv import demo_settings, live_server, log_in

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

LIVE_TIMEOUT_MS = 15_000  # the stream polls every 2 s; a loaded machine is slower
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return demo_settings(tmp_path_factory.mktemp("inbox-live"), language="en")


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


def write(db: Session, text: str, handle: str, name: str) -> int:
    """A customer message on the demo workspace's test widget; its conversation number."""
    workspace = db.scalars(select(Workspace).where(Workspace.slug == "zerno")).one()
    channel = next(
        (c for c in channels.list_channels(db, workspace_id=workspace.id) if c.name == "UI test"),
        None,
    ) or channels.create_channel(
        db, workspace_id=workspace.id, actor=accounts.SYSTEM, kind=ChannelKind.WIDGET,
        name="UI test",
    )  # fmt: skip
    item = RawMessage(
        f"ui-{next(_ids)}", text, utcnow() - timedelta(seconds=1), Author(handle, name)
    )
    [message_id] = ingest.store(
        db, workspace_id=workspace.id, channel_id=channel.id, items=[item]
    ).inserted
    found = service.conversation_of(db, workspace_id=workspace.id, message_id=message_id)
    assert found is not None
    number = found.number
    db.commit()
    return number


def english(page: playwright.Page) -> None:
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")


def test_an_agent_works_the_list_with_the_keyboard_and_sees_it_change_live(
    base_url: str, page: playwright.Page, console_errors: list[str], db: Session
) -> None:
    number = write(db, "Where is my order 1042? It is late.", "kb@example.com", "Kira Keys")
    log_in(page, base_url, "dmitry@zerno.example")
    english(page)
    page.goto(f"{base_url}/w/zerno/inbox?q=1042")
    page.wait_for_selector(f"tr[data-number='{number}']")
    page.keyboard.press("j")
    assert page.get_attribute(f"tr[data-number='{number}']", "aria-selected") == "true"
    page.keyboard.press("?")
    page.wait_for_selector("#inbox-help[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#inbox-help:not([open])", state="attached")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/w/zerno/inbox/{number}")
    page.wait_for_selector("[data-testid=reply-form]")

    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.keyboard.type("Kira, it leaves today")
    page.wait_for_selector("[data-testid=draft-status]:has-text('Draft saved')")
    page.keyboard.press("Escape")

    write(db, "Any news about 1042?", "kb@example.com", "Kira Keys")  # the same conversation
    page.wait_for_selector("text=Any news about 1042?", timeout=LIVE_TIMEOUT_MS)
    assert page.input_value("#reply-text") == "Kira, it leaves today"  # typing survives
    shoot(page, "inbox-conversation.png")

    page.click("[data-testid=back-to-inbox]")
    page.wait_for_selector("[data-testid=inbox-table]")
    other = write(db, "Do you have oat milk?", "oat@example.com", "Oleg Oats")
    page.wait_for_selector(f"tr[data-number='{other}']", timeout=LIVE_TIMEOUT_MS)
    shoot(page, "inbox-list.png")
    assert console_errors == []


def test_two_agents_on_one_conversation_are_warned(
    base_url: str, browser: playwright.Browser, page: playwright.Page, db: Session
) -> None:
    number = write(db, "My card was charged twice", "twice@example.com", "Tanya Twice")
    log_in(page, base_url, "dmitry@zerno.example")
    page.goto(f"{base_url}/w/zerno/inbox/{number}")
    page.wait_for_selector("[data-testid=reply-form]")
    colleague = browser.new_context()
    try:
        other = colleague.new_page()
        log_in(other, base_url, "anna@zerno.example")
        other.goto(f"{base_url}/w/zerno/inbox/{number}")
        other.wait_for_selector("[data-testid=presence-warning]", timeout=LIVE_TIMEOUT_MS)
        page.wait_for_selector("[data-testid=presence-warning]", timeout=LIVE_TIMEOUT_MS)
        other.fill("#reply-text", "Tanya, we refund the second charge")
        other.dispatch_event("#reply-text", "input")
        page.wait_for_selector(".presence-person.typing", timeout=LIVE_TIMEOUT_MS)
        shoot(page, "inbox-collision.png")
    finally:
        colleague.close()
