"""End to end in Chromium: a Telegram message reaches an agent live, the reply reaches the chat.

A local server speaks the Telegram Bot API; the channel's poll job reads it into the demo
workspace, the agent's open inbox shows the conversation without a reload, the reply goes
back through the same API as an answer to the customer's message and stops the SLA clock.
Another conversation is closed without an answer, with a reason, and counts in the report.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts import service as accounts
from h2h.accounts.models import Workspace
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.channels.tasks import poll_channel
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker, utcnow
from h2h.inbox import report, service
from h2h.inbox.models import Conversation, State
from tests.browserkit import shoot
from tests.channels.fakes.telegram import ANNA, IVAN, TOKEN, FakeTelegram, private_chat
from tests.livesrv import demo_settings, live_server, log_in

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

LIVE_TIMEOUT_MS = 20_000  # the stream polls every 2 s; a loaded machine is slower


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return demo_settings(tmp_path_factory.mktemp("inbox-e2e"), language="en")


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as fake:
        fake.clock = int(utcnow().timestamp()) - 60
        yield fake


@pytest.fixture(scope="module")
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = engine_from_settings(settings)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def bot(factory: sessionmaker[Session], telegram: FakeTelegram) -> Channel:
    """The demo café's Telegram bot, pointed at the local Bot API server."""
    with factory() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.slug == "zerno")).one()
        channel = channels.create_channel(
            session,
            workspace_id=workspace.id,
            actor=accounts.SYSTEM,
            kind=ChannelKind.TELEGRAM,
            name="Zerno bot (local)",
            config={"base_url": telegram.url, "poll_timeout": 0},
            secrets={"bot_token": TOKEN},
        )
        session.commit()
        return channel


def customer_writes(
    factory: sessionmaker[Session],
    telegram: FakeTelegram,
    bot: Channel,
    user: dict[str, Any],
    text: str,
) -> tuple[Conversation, int]:
    """The customer writes to the bot and the poll job runs; (conversation, Telegram id)."""
    sent = telegram.post(private_chat(user), user, text)["message"]
    poll_channel(factory, workspace_id=str(bot.workspace_id), channel_id=str(bot.id))
    with factory() as session:
        message = channels.message_by_external_id(
            session,
            workspace_id=bot.workspace_id,
            channel_id=bot.id,
            external_id=f"{user['id']}:{sent['message_id']}",
        )
        assert message is not None, "the poll job did not store the message"
        found = service.conversation_of(
            session, workspace_id=bot.workspace_id, message_id=message.id
        )
        assert found is not None, "the message did not open a conversation"
        return found, int(sent["message_id"])


def wait_for(check: Any, what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_message_arrives_live_the_reply_reaches_the_chat_and_the_clock_stops(
    base_url: str,
    page: playwright.Page,
    console_errors: list[str],
    factory: sessionmaker[Session],
    telegram: FakeTelegram,
    bot: Channel,
) -> None:
    log_in(page, base_url, "dmitry@zerno.example")
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"{base_url}/w/zerno/inbox?state=open")
    page.wait_for_selector("[data-testid=inbox-table]")

    text = "Hello! My card payment fails at checkout, order 2001."
    conversation, telegram_id = customer_writes(factory, telegram, bot, ANNA, text)
    assert conversation.first_response_due is not None
    row = f"tr[data-number='{conversation.number}']"
    page.wait_for_selector(row, timeout=LIVE_TIMEOUT_MS)  # no reload: the stream told the page
    assert "card payment fails" in page.inner_text(row)
    shoot(page, "e2e-inbox-live.png")

    page.click(f"{row} [data-testid=conversation-link]")
    page.wait_for_selector("[data-testid=reply-form]")
    page.fill("#reply-text", "Anna, I see it: the bank declined a 3-D Secure check. Try again now?")
    page.click("[data-testid=reply-send]")
    sent = wait_for(lambda: list(telegram.sent), "the reply at the Telegram server")
    [reply] = sent
    assert str(reply["chat_id"]) == str(ANNA["id"])
    threaded = reply.get("reply_parameters") or {}
    assert str(threaded.get("message_id", reply.get("reply_to_message_id"))) == str(telegram_id)
    assert reply["text"].startswith("Anna, I see it")
    assert "Дмитрий" in reply["text"] or "Dmitry" in reply["text"]  # signed by a named person
    page.wait_for_selector("[data-testid=delivery-status].delivery-sent", timeout=LIVE_TIMEOUT_MS)
    page.wait_for_selector("[data-testid=conversation-state].state-pending")
    shoot(page, "e2e-conversation-replied.png")
    with factory() as session:
        done = service.get_conversation(
            session, workspace_id=bot.workspace_id, conversation_id=conversation.id
        )
        assert done.state is State.PENDING
        assert done.first_response_at is not None
        assert done.first_response_due is None and done.next_response_due is None
    assert console_errors == []


def test_a_conversation_closed_without_an_answer_needs_a_reason_and_is_reported(
    base_url: str,
    page: playwright.Page,
    console_errors: list[str],
    factory: sessionmaker[Session],
    telegram: FakeTelegram,
    bot: Channel,
) -> None:
    def spam_decisions() -> int:
        with factory() as session:
            numbers = report.response_report(
                session,
                workspace_id=bot.workspace_id,
                since=utcnow() - timedelta(days=30),
                until=utcnow() + timedelta(days=1),
            )
        return numbers.not_answering.get("spam", 0)

    before = spam_decisions()
    spam = "Earn 5000$ a day from home!!! Write to @get_rich_bot"
    conversation, _ = customer_writes(factory, telegram, bot, IVAN, spam)
    log_in(page, base_url, "dmitry@zerno.example")
    page.goto(f"{base_url}/w/zerno/inbox/{conversation.number}")
    page.click("[data-testid=not-answering] summary")
    page.select_option("[data-testid=not-answering-reason]", "spam")
    page.fill("[data-testid=not-answering-note]", "A bot selling get-rich schemes")
    page.click("[data-testid=not-answering-submit]")
    page.wait_for_selector("[data-testid=conversation-state].state-not_answering")
    page.wait_for_selector("[data-testid=not-answering-note]:has-text('get-rich')")
    shoot(page, "e2e-not-answering.png")
    assert spam_decisions() == before + 1
    assert console_errors == []
