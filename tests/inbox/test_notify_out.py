"""Staff notifications leave the app by email (a real SMTP server) and Telegram (local Bot API)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import User
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel, ChannelStatus
from h2h.config import Settings
from h2h.db import utcnow
from h2h.errors import InvalidInput, PermissionDenied
from h2h.inbox import notify_out, service, ui_notify
from h2h.inbox.models import Conversation, DeliveryStatus, Notification
from h2h.inbox.models_notify import Medium, NotifyDelivery, NotifyKind
from h2h.web import create_app
from tests.channels.fakes.mailserver import SmtpSink
from tests.channels.fakes.telegram import IVAN, FakeTelegram
from tests.conftest import Cast, Member, login
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

STAFF_CHAT = str(IVAN["id"])  # the fake Bot API knows this private chat


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink("plain")
    sink.credentials = {"support": "mail-password"}
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def mailbox(session: Session, cast: Cast, smtp: SmtpSink) -> Channel:
    channel = make_channel(
        session,
        cast,
        ChannelKind.EMAIL,
        name="Support mailbox",
        config={
            "imap_host": "127.0.0.1",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "plain",
            "from_address": "support@alpha.example",
            "from_name": "Alpha Coffee",
            "timeout": 5,
        },
        secrets={"username": "support", "password": "mail-password"},
    )
    session.commit()
    return channel


@pytest.fixture
def conversation(session: Session, cast: Cast) -> Conversation:
    widget = make_channel(session, cast, name="Site chat")
    [message_id] = store(session, cast, widget, customer("w-1", "Где мой заказ №4411?"))
    found = conversation_of(session, cast, message_id)
    session.commit()
    return found


def choose(
    session: Session,
    cast: Cast,
    member: Member,
    *,
    language: str = "en",
    email: bool = True,
    telegram: str = STAFF_CHAT,
    kinds: tuple[str, ...] = ("mention", "sla_breach", "problem_spike"),
) -> None:
    user = session.get(User, member.user.id)
    assert user is not None
    user.language = language
    notify_out.save_preference(
        session,
        workspace_id=member.membership.workspace_id,
        actor=actor_of(member),
        email=email,
        telegram_chat_id=telegram,
        kinds=list(kinds),
    )
    session.commit()


def mention(session: Session, cast: Cast, conversation: Conversation, who: Member) -> None:
    first = who.user.name.split()[0]
    service.add_note(
        session, conversation=conversation, actor=actor_of(cast.owner), text=f"@{first} look"
    )
    session.commit()


def queued(session: Session, cast: Cast) -> list[NotifyDelivery]:
    session.expire_all()
    return list(
        session.scalars(
            select(NotifyDelivery)
            .where(NotifyDelivery.workspace_id == cast.a.id)
            .order_by(NotifyDelivery.medium)
        )
    )


def send_due(session: Session, factory: sessionmaker[Session], **later: int) -> int:
    now = utcnow() + timedelta(**later) if later else None
    pending = notify_out.due(session, now=now)
    session.commit()
    for workspace_id, delivery_id in pending:
        notify_out.deliver(factory, workspace_id=workspace_id, delivery_id=delivery_id)
    return len(pending)


def test_a_mention_reaches_the_member_by_email_and_by_telegram(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    mailbox: Channel,
    telegram_channel: Channel,
    smtp: SmtpSink,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    session.commit()
    choose(session, cast, cast.agent)
    mention(session, cast, conversation, cast.agent)
    rows = queued(session, cast)
    assert [(r.medium, r.to_address, r.status) for r in rows] == [
        (Medium.EMAIL, cast.agent.user.email, DeliveryStatus.QUEUED),
        (Medium.TELEGRAM, STAFF_CHAT, DeliveryStatus.QUEUED),
    ]
    assert send_due(session, factory) == 2
    path = f"/w/{cast.a.slug}/inbox/{conversation.number}"
    [mail] = smtp.messages
    assert mail["rcpt_tos"] == [cast.agent.user.email]
    assert mail["login"] == "support"  # through the workspace's own mailbox
    assert f"You were mentioned in #{conversation.number}" in mail["headers"]["subject"]
    assert path in mail["text"] and "Анна Петрова" in mail["text"]
    assert mail["headers"]["message-id"] == f"<h2h.notify.{rows[0].id}@alpha.example>"
    [chat] = telegram.sent
    assert str(chat["chat_id"]) == STAFF_CHAT
    assert chat["text"].startswith(f"You were mentioned in #{conversation.number}")
    assert path in chat["text"]
    assert {r.status for r in queued(session, cast)} == {DeliveryStatus.SENT}
    assert send_due(session, factory, hours=3) == 0  # nothing left to send, ever


def test_the_message_is_in_the_members_language(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    mailbox: Channel,
    factory: sessionmaker[Session],
    smtp: SmtpSink,
) -> None:
    choose(session, cast, cast.agent, telegram="", language="ru")
    mention(session, cast, conversation, cast.agent)
    send_due(session, factory)
    [mail] = smtp.messages
    assert f"Вас упомянули в диалоге #{conversation.number}" in mail["headers"]["subject"]


def test_a_kind_the_member_did_not_choose_does_not_go_out(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    mailbox: Channel,
    telegram_channel: Channel,
    smtp: SmtpSink,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    choose(session, cast, cast.agent, kinds=("mention",))
    service.assign(
        session, conversation=conversation, actor=actor_of(cast.owner), owner_id=cast.agent.user.id
    )
    session.commit()
    bell = session.scalars(
        select(Notification).where(
            Notification.workspace_id == cast.a.id, Notification.user_id == cast.agent.user.id
        )
    ).all()
    assert [n.kind for n in bell] == ["assigned"]  # the bell still rings
    assert queued(session, cast) == []
    # And a member who never chose anything gets nothing outside the app (email is opt-in).
    mention(session, cast, conversation, cast.admin)
    assert queued(session, cast) == []
    send_due(session, factory)
    assert smtp.messages == [] and telegram.sent == []


def test_a_failure_is_retried_without_duplicates(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    choose(session, cast, cast.agent, email=False)
    mention(session, cast, conversation, cast.agent)
    [row] = queued(session, cast)
    telegram.failures.push("server")
    assert notify_out.deliver(factory, workspace_id=cast.a.id, delivery_id=row.id) is (
        DeliveryStatus.QUEUED
    )
    [row] = queued(session, cast)
    assert row.attempts == 1 and "502" in (row.last_error or "")
    assert telegram.sent == []
    assert send_due(session, factory) == 0  # not due yet: backoff
    assert send_due(session, factory, hours=2) == 1
    assert notify_out.deliver(factory, workspace_id=cast.a.id, delivery_id=row.id) is None
    assert len(telegram.sent) == 1
    [row] = queued(session, cast)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, None)
    assert row.channel_id == telegram_channel.id


def test_a_claim_left_by_a_dead_worker_fails_visibly_and_is_not_sent_again(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    choose(session, cast, cast.agent, email=False)
    mention(session, cast, conversation, cast.agent)
    [row] = queued(session, cast)
    row.status = DeliveryStatus.SENDING  # claimed, then the worker died mid-send
    row.claimed_at = utcnow() - notify_out.STALE_CLAIM - timedelta(minutes=1)
    session.commit()
    assert send_due(session, factory) == 0
    [row] = queued(session, cast)
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, notify_out.UNKNOWN_OUTCOME)
    assert telegram.sent == []
    assert notify_out.failures(session, workspace_id=cast.a.id) == [row]


def test_a_permanent_failure_is_recorded_not_retried(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    choose(session, cast, cast.agent, email=False, telegram="777000111")  # never wrote to the bot
    mention(session, cast, conversation, cast.agent)
    [row] = queued(session, cast)
    assert notify_out.deliver(factory, workspace_id=cast.a.id, delivery_id=row.id) is (
        DeliveryStatus.FAILED
    )
    [row] = queued(session, cast)
    assert "chat not found" in (row.last_error or "")
    assert send_due(session, factory, hours=5) == 0


def test_a_member_of_another_workspace_gets_nothing(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    mailbox: Channel,
    telegram_channel: Channel,
    smtp: SmtpSink,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    outsider = cast.outsider  # owner of workspace B, which has no channels at all
    choose(session, cast, outsider)
    # A bug that notified them in workspace A: they are not a member there, nothing leaves.
    service.notify(session, workspace_id=cast.a.id, user_ids=[outsider.user.id], kind="mention")
    # A mention in their own workspace: B has no mailbox or bot, and A's are not B's.
    service.notify(session, workspace_id=cast.b.id, user_ids=[outsider.user.id], kind="mention")
    session.commit()
    assert session.scalars(select(NotifyDelivery)).all() == []
    send_due(session, factory)
    assert smtp.messages == [] and telegram.sent == []


def test_admins_choose_the_sending_channel_and_a_paused_one_falls_back(
    session: Session,
    cast: Cast,
    conversation: Conversation,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    second = make_channel(
        session,
        cast,
        ChannelKind.TELEGRAM,
        name="Staff bot",
        config=dict(telegram_channel.config),
        secrets=dict(telegram_channel.secrets),
    )
    session.commit()
    ws = cast.a.id
    assert notify_out.sending_channel(session, workspace_id=ws, medium=Medium.TELEGRAM) == (
        telegram_channel
    )
    with pytest.raises(PermissionDenied):
        notify_out.save_channels(
            session,
            workspace_id=ws,
            actor=actor_of(cast.agent),
            email_channel_id="",
            telegram_channel_id=str(second.id),
        )
    session.rollback()
    with pytest.raises(InvalidInput):
        notify_out.save_channels(
            session,
            workspace_id=ws,
            actor=actor_of(cast.admin),
            email_channel_id=str(second.id),  # a bot is not a mailbox
            telegram_channel_id="",
        )
    session.rollback()
    notify_out.save_channels(
        session,
        workspace_id=ws,
        actor=actor_of(cast.admin),
        email_channel_id="",
        telegram_channel_id=str(second.id),
    )
    session.commit()
    choose(session, cast, cast.agent, email=False)
    mention(session, cast, conversation, cast.agent)
    send_due(session, factory)
    [row] = queued(session, cast)
    assert row.channel_id == second.id
    second.status = ChannelStatus.PAUSED
    session.commit()
    assert notify_out.sending_channel(session, workspace_id=ws, medium=Medium.TELEGRAM) == (
        telegram_channel
    )


def test_a_problem_alert_links_to_the_problem_with_its_quotes(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("H2H_PUBLIC_URL", "https://h2h.example.com/")
    choose(session, cast, cast.owner, email=False)
    service.notify(
        session,
        workspace_id=cast.a.id,
        user_ids=[cast.owner.user.id],
        kind=NotifyKind.PROBLEM_ALERT.value,
        problem=12,
        title="Cold coffee in delivery",
        summary="27 complaints today, about 6 expected",
        quotes=["The latte arrived cold again", "Кофе опять холодный"],
    )
    session.commit()
    send_due(session, factory)
    [chat] = telegram.sent
    assert chat["text"].startswith("Problem alert: Cold coffee in delivery")
    assert "27 complaints today" in chat["text"] and "«Кофе опять холодный»" in chat["text"]
    assert f"https://h2h.example.com/w/{cast.a.slug}/problems/12" in chat["text"]


def test_preferences_are_checked(session: Session, cast: Cast) -> None:
    with pytest.raises(InvalidInput):
        choose(session, cast, cast.agent, telegram="@ivan")
    session.rollback()
    with pytest.raises(InvalidInput):
        choose(session, cast, cast.agent, kinds=("everything",))
    session.rollback()
    choose(session, cast, cast.agent, email=False, telegram=" 12345 ", kinds=("assigned",))
    preference = notify_out.preference_of(
        session, workspace_id=cast.a.id, user_id=cast.agent.user.id
    )
    assert preference == notify_out.Preference(False, "12345", frozenset({"assigned"}))
    assert notify_out.preference_of(
        session, workspace_id=cast.a.id, user_id=cast.admin.user.id
    ) == (notify_out.DEFAULT)


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def notify_client(settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings, immediate_jobs=True)
    app.include_router(ui_notify.router)  # until web.py mounts it
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_member_saves_their_choice_on_the_page(
    notify_client: TestClient, session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    session.commit()
    csrf = login(notify_client, cast.agent.user.email)
    url = f"/w/{cast.a.slug}/inbox/me/notifications"
    page = notify_client.get(url)
    assert page.status_code == 200
    assert "/start" in page.text and telegram_channel.name in page.text
    assert 'data-testid="no-email-channel"' in page.text
    assert 'data-testid="notify-channels"' not in page.text  # admins only
    response = notify_client.post(
        url,
        data={"csrf_token": csrf, "email": "1", "telegram_chat_id": "bad", "kinds": ["mention"]},
    )
    assert response.status_code == 422 and 'data-testid="error-preference"' in response.text
    response = notify_client.post(
        url,
        data={"csrf_token": csrf, "telegram_chat_id": STAFF_CHAT, "kinds": ["mention", "assigned"]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.expire_all()
    preference = notify_out.preference_of(
        session, workspace_id=cast.a.id, user_id=cast.agent.user.id
    )
    assert preference == notify_out.Preference(
        False, STAFF_CHAT, frozenset({"mention", "assigned"})
    )
    # The channel choice is for admins.
    channels = notify_client.post(
        f"{url}/channels", data={"csrf_token": csrf, "telegram_channel_id": ""}
    )
    assert channels.status_code == 403


def test_viewers_have_no_notification_page(
    notify_client: TestClient, session: Session, cast: Cast
) -> None:
    session.commit()
    login(notify_client, cast.viewer.user.email)
    assert notify_client.get(f"/w/{cast.a.slug}/inbox/me/notifications").status_code == 403


def test_an_admin_sees_the_channels_and_failures(
    notify_client: TestClient, session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    session.commit()
    csrf = login(notify_client, cast.admin.user.email)
    url = f"/w/{cast.a.slug}/inbox/me/notifications"
    page = notify_client.get(url)
    assert 'data-testid="notify-channels"' in page.text and telegram_channel.name in page.text
    response = notify_client.post(
        f"{url}/channels",
        data={"csrf_token": csrf, "telegram_channel_id": str(telegram_channel.id)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.expire_all()
    settings = notify_out.settings_of(session, workspace_id=cast.a.id)
    assert settings is not None and settings.telegram_channel_id == telegram_channel.id
