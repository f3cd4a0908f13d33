"""The digest: content of a constructed day, delivery by real SMTP and the Telegram test
server, the schedule (weekday, time zone, once per period) and the preview page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import User
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.inbox import notify_out, service, sla
from h2h.inbox.models import Conversation, Priority, SlaPolicy, State
from h2h.inbox.models_notify import NotifyDelivery
from h2h.jobs import run_now
from h2h.nlp.models import Analysis, Sentiment, intent_mask
from h2h.problems import service as problems
from h2h.reports import digest, digest_service
from h2h.reports.digest_render import TELEGRAM_LIMIT, fit, render
from h2h.reports.models_digest import DigestPreference, DigestRun, Frequency, RunStatus
from tests.channels.fakes.mailserver import SmtpSink
from tests.channels.fakes.telegram import IVAN, TOKEN, FakeTelegram
from tests.conftest import Cast, Member, login
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

STAFF_CHAT = str(IVAN["id"])  # the fake Bot API knows this private chat
THREAT = "Если не вернёте деньги до пятницы, подам в суд и напишу в Роспотребнадзор!"
COLD = ["Кофе опять холодный, ужасно", "Привезли холодный кофе, второй раз подряд"]
PRAISE = "Спасибо, отличный кофе и быстрая доставка!"
QUESTION = "Подскажите, вы работаете в воскресенье?"


# --- fixtures ---------------------------------------------------------------------------------


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
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as fake:
        yield fake


@pytest.fixture
def bot(session: Session, cast: Cast, fake_telegram: FakeTelegram) -> Channel:
    channel = make_channel(
        session,
        cast,
        ChannelKind.TELEGRAM,
        config={"base_url": fake_telegram.url, "poll_timeout": 0},
        secrets={"bot_token": TOKEN},
    )
    session.commit()
    return channel


@pytest.fixture
def sessions(session: Session) -> sessionmaker[Session]:
    """Sessions of their own, as the jobs open them (the test's session commits first)."""
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


@dataclass
class Day:
    """A constructed day: what was stored, and the window that covers it."""

    since: datetime
    until: datetime
    threat: Conversation
    problem_number: int
    previous: Conversation


def _label(
    session: Session, cast: Cast, message_id: Any, sentiment: Sentiment, **extra: Any
) -> None:
    # The arrangement fixes the labels, so the counts do not depend on the models' mood.
    session.execute(
        update(Analysis)
        .where(Analysis.workspace_id == cast.a.id, Analysis.message_id == message_id)
        .values(sentiment=sentiment, **extra)
    )


def _policies(session: Session, cast: Cast) -> None:
    for priority in Priority:
        session.add(
            SlaPolicy(
                workspace_id=cast.a.id,
                name=f"15 minutes {priority.value}",
                priority=priority,
                first_response_minutes=15,
                business_hours=False,
            )
        )
    session.flush()


@pytest.fixture
def day(session: Session, cast: Cast) -> Day:
    """Four customer messages today (two cold-coffee complaints, a threat, a praise), one
    question the day before (answered since), one SLA breach (the threat, 20 hours old).

    Everything is at least four hours old, so a digest whose send time was three hours ago
    covers all of it but the problem, which was made just now."""
    _policies(session, cast)
    widget = make_channel(session, cast, name="Site chat")
    now = utcnow()
    until = now + timedelta(minutes=5)
    since = until - timedelta(days=1)
    [old] = store(
        session,
        cast,
        widget,
        customer(
            "q-1", QUESTION, handle="petr@example.com", name="Пётр", at=now - timedelta(hours=30)
        ),
    )
    [threat] = store(
        session,
        cast,
        widget,
        customer(
            "t-1", THREAT, handle="ivan@example.com", name="Иван Гроз", at=now - timedelta(hours=20)
        ),
    )
    cold = [
        store(
            session,
            cast,
            widget,
            customer(
                f"c-{i}",
                text,
                handle=f"c{i}@example.com",
                name=f"Покупатель {i}",
                at=now - timedelta(hours=4, minutes=10),
            ),
        )[0]
        for i, text in enumerate(COLD)
    ]
    [praise] = store(
        session,
        cast,
        widget,
        customer(
            "p-1",
            PRAISE,
            handle="maria@example.com",
            name="Мария",
            at=now - timedelta(hours=4, minutes=9),
        ),
    )
    _label(session, cast, old, Sentiment.NEUTRAL)
    _label(session, cast, threat, Sentiment.NEGATIVE, intents=intent_mask(["threat", "complaint"]))
    for message_id in cold:
        _label(session, cast, message_id, Sentiment.NEGATIVE, intents=intent_mask(["complaint"]))
    _label(session, cast, praise, Sentiment.POSITIVE, intents=intent_mask(["praise"]))
    previous = conversation_of(session, cast, old)
    service.set_state(
        session, conversation=previous, actor=actor_of(cast.agent), state=State.RESOLVED
    )
    problem = problems.create(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        title="Холодный кофе",
        message_ids=cold,
    )
    assert sla.check_breaches(session, now=now - timedelta(hours=4, minutes=5)) == 1  # the threat
    session.commit()
    return Day(since, until, conversation_of(session, cast, threat), problem.number, previous)


def choose(
    session: Session,
    member: Member,
    *,
    frequency: str = "daily",
    hour: int = 9,
    weekday: int = 0,
    timezone: str = "",
    email: bool = True,
    by_telegram: bool = False,
    language: str = "en",
    chosen_at: datetime | None = None,
) -> None:
    user = session.get(User, member.user.id)
    assert user is not None
    user.language = language
    workspace_id = member.membership.workspace_id
    if by_telegram:
        notify_out.save_preference(
            session,
            workspace_id=workspace_id,
            actor=actor_of(member),
            email=False,
            telegram_chat_id=STAFF_CHAT,
            kinds=[],
        )
    row = digest_service.save_choice(
        session,
        workspace_id=workspace_id,
        actor=actor_of(member),
        frequency=frequency,
        weekday=weekday,
        hour=hour,
        timezone=timezone,
        email=email,
        telegram=by_telegram,
    )
    row.updated_at = chosen_at or utcnow() - timedelta(days=30)
    session.commit()


def send_out(session: Session, sessions: sessionmaker[Session]) -> int:
    """What the notification sweep does every 15 seconds."""
    session.commit()
    return int(run_now(sessions, "inbox.notify_out_due"))


def runs(session: Session, cast: Cast, member: Member) -> list[DigestRun]:
    session.expire_all()
    return list(
        session.scalars(
            select(DigestRun)
            .where(DigestRun.workspace_id == cast.a.id, DigestRun.user_id == member.user.id)
            .order_by(DigestRun.created_at)
        )
    )


def parts(mail: dict[str, Any]) -> tuple[str, str]:
    message = message_from_string(mail["data"], policy=policy.default)
    assert isinstance(message, EmailMessage)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    return plain.get_content(), html.get_content()


# --- content ----------------------------------------------------------------------------------


def test_the_digest_of_a_constructed_day_counts_quotes_and_links(
    session: Session, cast: Cast, day: Day, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2H_PUBLIC_URL", "https://h2h.example.com/")
    found = digest.build(session, workspace=cast.a, since=day.since, until=day.until)
    base = "https://h2h.example.com/w/alpha"
    assert (found.messages.count, found.messages.previous) == (4, 1)
    counts = {c.key: (c.count, c.previous) for c in found.sentiment}
    assert counts == {"negative": (3, 0), "neutral": (0, 1), "positive": (1, 0)}
    negative = next(c for c in found.sentiment if c.key == "negative")
    local = [d.astimezone(digest._zone(cast.a)).date().isoformat() for d in (day.since, day.until)]
    assert negative.link == (
        f"{base}/mentions?since={local[0]}&until={local[1]}&sentiment=negative"
    )
    # The threat: counted once, quoted, linked to its conversation.
    assert found.threats_total == 1
    [threat] = found.threats
    assert threat.title == "Иван Гроз" and threat.quote == THREAT
    assert threat.link == f"{base}/inbox/{day.threat.number}"
    # The SLA breach of the threat's first response.
    assert found.breaches_total == 1
    [breach] = found.breaches
    assert breach.detail == "first_response"
    assert breach.link == f"{base}/inbox/{day.threat.number}"
    # Nobody answered today's four; yesterday's question was resolved.
    open_now = session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.workspace_id == cast.a.id, Conversation.state == State.OPEN)
    )
    assert found.waiting_total == open_now == 4
    assert day.previous.number not in [int(i.title.split()[0][1:]) for i in found.waiting]
    assert [i.score for i in found.waiting] == sorted(
        (i.score for i in found.waiting), reverse=True
    )
    # The problem made today, with its two complaints.
    mine = next(p for p in found.problems if p.number == day.problem_number)
    assert (mine.title, mine.new, mine.complaints, mine.previous) == ("Холодный кофе", True, 2, 0)
    assert mine.link == f"{base}/problems/{day.problem_number}"
    assert found.feedback is None  # no surveys in this workspace
    assert found.absolute_links and not found.quiet
    assert str(day.threat.id) in found.quoted_conversations


def test_the_previous_day_alone_is_a_different_digest(
    session: Session, cast: Cast, day: Day
) -> None:
    before = digest.build(
        session, workspace=cast.a, since=day.since - timedelta(days=1), until=day.since
    )
    assert (before.messages.count, before.threats_total, before.breaches_total) == (1, 0, 0)
    assert before.threats == [] and before.breaches == []
    assert before.messages.link.startswith("/w/alpha/mentions?")  # no H2H_PUBLIC_URL: paths


def test_a_quiet_day_says_so(session: Session, cast: Cast) -> None:
    until = utcnow()
    found = digest.build(session, workspace=cast.a, since=until - timedelta(days=1), until=until)
    assert found.quiet
    text = render(found, language="en", timezone="UTC", frequency=Frequency.DAILY)
    assert text.subject == "Daily digest of Alpha Coffee: A quiet day"
    assert "A quiet day" in text.text and "A quiet day" in text.html
    assert "H2H_PUBLIC_URL" in text.text  # the relative links are explained


def test_the_email_escapes_customers_words(session: Session, cast: Cast, day: Day) -> None:
    widget = make_channel(session, cast, name="Another chat")
    store(session, cast, widget, customer("x-1", "<script>alert(1)</script> ужасно", minutes=-30))
    session.commit()
    found = digest.build(session, workspace=cast.a, since=day.since, until=day.until)
    html = render(found, language="en", timezone="UTC", frequency=Frequency.DAILY).html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'style="' in html and "<link" not in html  # inline styles only


def test_telegram_text_stays_within_the_limit() -> None:
    lines = [f"• line {i} " + "я" * 100 for i in range(200)]
    text = fit(lines, TELEGRAM_LIMIT, "… more in H2H: /w/alpha/reports/digest")
    assert len(text.encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT
    assert text.endswith("… more in H2H: /w/alpha/reports/digest")
    assert text.startswith("• line 0 ")


# --- delivery ---------------------------------------------------------------------------------


def test_a_russian_member_gets_the_digest_by_real_email_with_both_parts(
    session: Session,
    cast: Cast,
    day: Day,
    mailbox: Channel,
    smtp: SmtpSink,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("H2H_PUBLIC_URL", "https://h2h.example.com")
    hour = (utcnow().astimezone(digest._zone(cast.a)) - timedelta(hours=3)).hour
    choose(session, cast.owner, hour=hour, language="ru")
    assert run_now(sessions, "reports.digest_due") == 1
    assert send_out(session, sessions) == 1
    [mail] = smtp.messages
    assert mail["rcpt_tos"] == [cast.owner.user.email]
    assert mail["headers"]["subject"] == "Ежедневная сводка: Alpha Coffee"
    text, html = parts(mail)
    assert THREAT in text and THREAT in html
    link = f"https://h2h.example.com/w/alpha/inbox/{day.threat.number}"
    assert link in text and f'href="{link}"' in html
    assert "Угрозы (1)" in text and "Нарушения SLA (1)" in text
    assert "Нарушения SLA" in html and 'lang="ru"' in html
    [run] = runs(session, cast, cast.owner)
    assert run.status is RunStatus.QUEUED and len(run.delivery_ids) == 1
    delivery = session.get(NotifyDelivery, (cast.a.id, uuid.UUID(run.delivery_ids[0])))
    assert delivery is not None and delivery.kind == "digest" and delivery.sent_at is not None


def test_the_digest_reaches_telegram_as_plain_text(
    session: Session,
    cast: Cast,
    day: Day,
    bot: Channel,
    fake_telegram: FakeTelegram,
    sessions: sessionmaker[Session],
) -> None:
    hour = (utcnow().astimezone(digest._zone(cast.a)) - timedelta(hours=3)).hour
    choose(session, cast.agent, hour=hour, email=False, by_telegram=True)
    assert run_now(sessions, "reports.digest_due") == 1
    send_out(session, sessions)
    [sent] = fake_telegram.sent
    assert str(sent["chat_id"]) == STAFF_CHAT and "parse_mode" not in sent
    assert sent["text"].startswith("Daily digest of Alpha Coffee\n\n")
    assert THREAT in sent["text"] and f"/w/alpha/inbox/{day.threat.number}" in sent["text"]
    assert len(sent["text"].encode("utf-16-le")) // 2 <= TELEGRAM_LIMIT


def test_the_job_twice_sends_one_digest(
    session: Session,
    cast: Cast,
    day: Day,
    mailbox: Channel,
    smtp: SmtpSink,
    sessions: sessionmaker[Session],
) -> None:
    hour = (utcnow().astimezone(digest._zone(cast.a)) - timedelta(hours=3)).hour
    choose(session, cast.admin, hour=hour)
    assert run_now(sessions, "reports.digest_due") == 1
    assert run_now(sessions, "reports.digest_due") == 0
    send_out(session, sessions)
    assert run_now(sessions, "reports.digest_due") == 0
    send_out(session, sessions)
    assert len(smtp.messages) == 1
    assert len(runs(session, cast, cast.admin)) == 1
    # A worker that raced past the first check still cannot claim the same period.
    choice = digest_service.choice_of(session, workspace_id=cast.a.id, user_id=cast.admin.user.id)
    zone = digest_service.zone_of(choice, cast.a)
    slot = digest_service.last_slot(choice, zone, utcnow())
    assert slot is not None
    period = digest_service.period_of(choice.frequency, slot, zone)
    claimed = digest_service._claim_period(
        session, cast.a.id, cast.admin.user.id, period, (slot - timedelta(days=1), slot)
    )
    assert claimed is None
    session.rollback()


def test_nobody_gets_a_digest_by_default(
    session: Session,
    cast: Cast,
    day: Day,
    mailbox: Channel,
    smtp: SmtpSink,
    sessions: sessionmaker[Session],
) -> None:
    # Notifications by email are on for the owner, but that is not a digest.
    notify_out.save_preference(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.owner),
        email=True,
        telegram_chat_id="",
        kinds=["mention"],
    )
    session.commit()
    assert (
        digest_service.choice_of(
            session, workspace_id=cast.a.id, user_id=cast.owner.user.id
        ).frequency
        is Frequency.OFF
    )
    assert run_now(sessions, "reports.digest_due") == 0
    send_out(session, sessions)
    assert smtp.messages == []
    assert session.scalar(select(func.count()).select_from(DigestRun)) == 0


def test_a_quiet_period_is_recorded_not_sent(
    session: Session,
    cast: Cast,
    mailbox: Channel,
    smtp: SmtpSink,
    sessions: sessionmaker[Session],
) -> None:
    choose(session, cast.agent, hour=(utcnow() - timedelta(hours=1)).hour, timezone="UTC")
    assert run_now(sessions, "reports.digest_due") == 1
    send_out(session, sessions)
    assert smtp.messages == []
    [run] = runs(session, cast, cast.agent)
    assert run.status is RunStatus.QUIET and run.delivery_ids == []


# --- schedule ---------------------------------------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_weekly_digest_goes_out_on_its_weekday_only(session: Session, cast: Cast) -> None:
    # Wednesdays at 09:00 in the workspace's zone (Moscow), chosen on Monday 7 December.
    choose(
        session,
        cast.agent,
        frequency="weekly",
        weekday=2,
        hour=9,
        chosen_at=_at("2026-12-07T10:00:00+03:00"),
    )
    for moment in ("2026-12-08T10:00:00+03:00", "2026-12-09T08:59:00+03:00"):
        assert digest_service.send_due(session, workspace_id=cast.a.id, now=_at(moment)) == 0
    assert (
        digest_service.send_due(
            session, workspace_id=cast.a.id, now=_at("2026-12-09T09:00:00+03:00")
        )
        == 1
    )
    for moment in ("2026-12-09T23:00:00+03:00", "2026-12-14T09:00:00+03:00"):
        assert digest_service.send_due(session, workspace_id=cast.a.id, now=_at(moment)) == 0
    assert (
        digest_service.send_due(
            session, workspace_id=cast.a.id, now=_at("2026-12-16T12:00:00+03:00")
        )
        == 1
    )
    session.commit()
    found = runs(session, cast, cast.agent)
    assert [r.period for r in found] == ["weekly:2026-12-09", "weekly:2026-12-16"]
    assert (found[0].since, found[0].until) == (
        _at("2026-12-02T09:00:00+03:00"),
        _at("2026-12-09T09:00:00+03:00"),
    )


def test_the_hour_is_the_members_own_time_zone_else_the_workspaces(
    session: Session, cast: Cast
) -> None:
    chosen = _at("2026-12-07T12:00:00+00:00")  # after both of the 7th's send times
    choose(session, cast.agent, hour=8, timezone="Asia/Vladivostok", chosen_at=chosen)  # UTC+10
    choose(session, cast.admin, hour=8, chosen_at=chosen)  # the workspace's Moscow, UTC+3
    ws = cast.a.id
    assert (
        digest_service.send_due(session, workspace_id=ws, now=_at("2026-12-07T21:59:00+00:00")) == 0
    )
    assert (
        digest_service.send_due(session, workspace_id=ws, now=_at("2026-12-07T22:00:00+00:00")) == 1
    )
    assert [r.period for r in runs(session, cast, cast.agent)] == ["daily:2026-12-08"]
    assert runs(session, cast, cast.admin) == []
    assert (
        digest_service.send_due(session, workspace_id=ws, now=_at("2026-12-08T04:59:00+00:00")) == 0
    )
    assert (
        digest_service.send_due(session, workspace_id=ws, now=_at("2026-12-08T05:00:00+00:00")) == 1
    )
    [run] = runs(session, cast, cast.admin)
    assert run.period == "daily:2026-12-08"
    assert (run.since, run.until) == (
        _at("2026-12-07T05:00:00+00:00"),
        _at("2026-12-08T05:00:00+00:00"),
    )


def test_enabling_late_waits_for_the_next_send_time(session: Session, cast: Cast) -> None:
    choose(session, cast.agent, hour=9, timezone="UTC", chosen_at=_at("2026-12-07T20:00:00+00:00"))
    ws = cast.a.id
    assert (
        digest_service.send_due(session, workspace_id=ws, now=_at("2026-12-07T21:00:00+00:00")) == 0
    )
    assert (
        digest_service.send_due(session, workspace_id=ws, now=_at("2026-12-08T09:00:00+00:00")) == 1
    )


def test_bad_choices_are_refused_with_the_field(session: Session, cast: Cast) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"frequency": "hourly"}, "frequency"),
        ({"hour": "25"}, "hour"),
        ({"hour": "nine"}, "hour"),
        ({"weekday": "7"}, "weekday"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"email": False, "telegram": False}, "email"),
        ({"telegram": True}, "telegram"),  # no chat id saved on the notifications page
    ]
    for change, field in cases:
        values: dict[str, Any] = {
            "frequency": "daily",
            "weekday": "0",
            "hour": "9",
            "timezone": "",
            "email": True,
            "telegram": False,
            **change,
        }
        with pytest.raises(InvalidInput) as error:
            digest_service.save_choice(
                session, workspace_id=cast.a.id, actor=actor_of(cast.agent), **values
            )
        assert error.value.field == field, change
        session.rollback()
    assert session.scalar(select(func.count()).select_from(DigestPreference)) == 0


# --- the page ---------------------------------------------------------------------------------


def test_the_preview_page_in_english_and_in_russian(
    client: TestClient, session: Session, cast: Cast, day: Day
) -> None:
    login(client, cast.agent.user.email)
    page = client.get("/w/alpha/reports/digest")
    assert page.status_code == 200
    assert 'data-testid="digest-preview"' in page.text
    assert "Daily digest of Alpha Coffee" in page.text and "Threats (1)" in page.text
    assert THREAT in page.text and f"/w/alpha/inbox/{day.threat.number}" in page.text
    assert 'data-testid="digest-relative"' in page.text  # no public URL configured
    user = session.get(User, cast.agent.user.id)
    assert user is not None
    user.language = "ru"
    session.commit()
    page = client.get("/w/alpha/reports/digest")
    assert "Ежедневная сводка: Alpha Coffee" in page.text and "Угрозы (1)" in page.text
    assert "Моя сводка" in page.text
    # The notifications page links here.
    notify = client.get("/w/alpha/inbox/me/notifications")
    assert 'href="/w/alpha/reports/digest"' in notify.text


def test_a_member_saves_a_choice_and_bad_input_is_a_form_error(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.admin.user.email)
    url = "/w/alpha/reports/digest"
    good = {
        "csrf_token": csrf,
        "frequency": "weekly",
        "weekday": "4",
        "hour": "18",
        "timezone": "Europe/Berlin",
        "email": "1",
    }
    bad = client.post(url, data={**good, "hour": "24"})
    assert bad.status_code == 422 and 'data-testid="error-hour"' in bad.text
    assert 'value="Europe/Berlin"' in bad.text  # what was typed stays in the form
    bad = client.post(url, data={**good, "timezone": "Nowhere/Land"})
    assert bad.status_code == 422 and 'data-testid="error-timezone"' in bad.text
    saved = client.post(url, data=good, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    choice = digest_service.choice_of(session, workspace_id=cast.a.id, user_id=cast.admin.user.id)
    assert (choice.frequency, choice.weekday, choice.hour, choice.timezone, choice.email) == (
        Frequency.WEEKLY,
        4,
        18,
        "Europe/Berlin",
        True,
    )
    assert client.get(url).text.count('value="weekly" checked') == 1


def test_send_me_one_now_queues_it_and_says_when_nothing_can_send(
    client: TestClient,
    session: Session,
    cast: Cast,
    day: Day,
    sessions: sessionmaker[Session],
) -> None:
    user = session.get(User, cast.agent.user.id)
    assert user is not None
    user.language = "en"  # else the workspace's Russian
    session.commit()
    csrf = login(client, cast.agent.user.email)
    refused = client.post("/w/alpha/reports/digest/send", data={"csrf_token": csrf})
    assert refused.status_code == 422 and 'data-testid="error-send"' in refused.text
    smtp = SmtpSink("plain")
    smtp.credentials = {"support": "mail-password"}
    smtp.start()
    try:
        make_channel(
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
                "timeout": 5,
            },
            secrets={"username": "support", "password": "mail-password"},
        )
        session.commit()
        sent = client.post(
            "/w/alpha/reports/digest/send", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert sent.status_code == 303
        send_out(session, sessions)
        [mail] = smtp.messages
        assert mail["rcpt_tos"] == [cast.agent.user.email]
        assert mail["headers"]["subject"] == "Daily digest of Alpha Coffee"
        assert THREAT in parts(mail)[0]
    finally:
        smtp.stop()
    [run] = runs(session, cast, cast.agent)
    assert run.period.startswith("now:") and run.status is RunStatus.QUEUED
    assert "Sent to you" in client.get("/w/alpha/reports/digest").text


def test_pages_of_another_workspace_are_not_found(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.outsider.user.email)
    assert client.get("/w/alpha/reports/digest").status_code == 404
    assert client.post("/w/alpha/reports/digest/send", data={"csrf_token": csrf}).status_code == 404
    assert session.scalar(select(func.count()).select_from(NotifyDelivery)) == 0


def test_viewers_see_the_preview_but_choose_nothing(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/reports/digest")
    assert page.status_code == 200 and 'data-testid="digest-viewer"' in page.text
    assert 'data-testid="digest-send-now"' not in page.text
    form = {"csrf_token": csrf, "frequency": "daily", "weekday": "0", "hour": "9", "email": "1"}
    assert client.post("/w/alpha/reports/digest", data=form).status_code == 403
    assert client.post("/w/alpha/reports/digest/send", data={"csrf_token": csrf}).status_code == 403
    assert session.scalar(select(func.count()).select_from(DigestPreference)) == 0
