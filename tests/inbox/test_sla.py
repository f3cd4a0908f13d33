"""SLA clocks: due times by priority and channel in business hours, breaches recorded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import ChannelKind
from h2h.db import utcnow
from h2h.inbox import replies, service, sla
from h2h.inbox.models import Notification, Priority, SlaBreach, SlaPolicy, SlaTarget
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

QUESTION = "Hello, what time do you open on Sunday?"  # a low-priority question
MOSCOW = ZoneInfo("Europe/Moscow")


def policy(session: Session, cast: Cast, first: int, *, kind: str | None = None) -> None:
    session.add(
        SlaPolicy(
            workspace_id=cast.a.id,
            name=f"Low {kind or 'any'}",
            priority=Priority.LOW,
            channel_kind=kind,
            first_response_minutes=first,
            next_response_minutes=first * 2,
            resolution_minutes=first * 10,
            business_hours=True,
        )
    )
    session.flush()


def test_the_channels_own_policy_beats_the_general_one(session: Session, cast: Cast) -> None:
    policy(session, cast, 120)
    policy(session, cast, 30, kind=ChannelKind.WIDGET.value)
    widget, offline = make_channel(session, cast), make_channel(session, cast, ChannelKind.OFFLINE)
    at = utcnow() - timedelta(minutes=10)
    [w] = store(session, cast, widget, customer("w1", QUESTION, at=at))
    [o] = store(session, cast, offline, customer("o1", QUESTION, at=at))
    chat, walk_in = conversation_of(session, cast, w), conversation_of(session, cast, o)
    assert chat.priority is walk_in.priority is Priority.LOW
    assert chat.first_response_due == at + timedelta(minutes=30)
    assert walk_in.first_response_due == at + timedelta(minutes=120)
    assert chat.resolution_due == at + timedelta(minutes=300)
    assert chat.due_at == chat.first_response_due
    assert sla.status(chat, now=at + timedelta(minutes=5)) == "due_soon"
    assert sla.status(walk_in, now=at + timedelta(minutes=5)) == "on_track"


def test_without_a_policy_the_defaults_apply_around_the_clock(session: Session, cast: Cast) -> None:
    widget = make_channel(session, cast)
    at = utcnow() - timedelta(minutes=10)
    [m] = store(session, cast, widget, customer("w1", QUESTION, at=at))
    conversation = conversation_of(session, cast, m)
    minutes = sla.DEFAULTS[Priority.LOW].first_response
    assert minutes is not None
    assert conversation.first_response_due == at + timedelta(minutes=minutes)


def last_friday_evening() -> datetime:
    """17:50 Moscow time on the most recent Friday before now (within the inbox's horizon)."""
    now = utcnow().astimezone(MOSCOW)
    day = now - timedelta(days=(now.weekday() - 4) % 7 or 7)
    return day.replace(hour=17, minute=50, second=0, microsecond=0).astimezone(UTC)


def test_business_hours_carry_the_clock_over_the_weekend(session: Session, cast: Cast) -> None:
    settings = service.settings_of(session, workspace_id=cast.a.id)
    settings.business_hours = {
        "timezone": "Europe/Moscow",
        "days": {d: ["09:00", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
    policy(session, cast, 60)
    widget = make_channel(session, cast)
    friday = last_friday_evening()
    [m] = store(session, cast, widget, customer("w1", QUESTION, at=friday))
    conversation = conversation_of(session, cast, m)
    due = conversation.first_response_due
    assert due is not None
    local = due.astimezone(MOSCOW)
    # Ten minutes on Friday, fifty on Monday morning.
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 50)


def test_a_breach_is_recorded_once_per_clock_and_the_owner_told(
    session: Session, cast: Cast
) -> None:
    policy(session, cast, 15)
    widget = make_channel(session, cast)
    at = utcnow() - timedelta(hours=1)
    [m] = store(session, cast, widget, customer("w1", QUESTION, at=at))
    conversation = conversation_of(session, cast, m)
    service.assign(
        session, conversation=conversation, actor=actor_of(cast.admin), owner_id=cast.agent.user.id
    )
    assert sla.check_breaches(session) == 1
    assert sla.check_breaches(session) == 0
    [breach] = sla.breaches(session, conversation=conversation)
    assert (breach.target, breach.owner_id) == (SlaTarget.FIRST_RESPONSE, cast.agent.user.id)
    assert breach.due_at == at + timedelta(minutes=15)
    assert conversation.breached
    assert sla.status(conversation) == "breached"  # stays on top though the next clock is later
    told = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == cast.agent.user.id, Notification.kind == "sla_breach")
    )
    assert told == 1
    # Recomputing the clocks (a new customer message) must not record the same breach again.
    store(session, cast, widget, customer("w2", "Are you there?", at=at, minutes=5))
    sla.check_breaches(session)
    count = session.scalar(
        select(func.count())
        .select_from(SlaBreach)
        .where(
            SlaBreach.conversation_id == conversation.id,
            SlaBreach.target == SlaTarget.FIRST_RESPONSE,
        )
    )
    assert count == 1


def test_answering_stops_the_response_clocks_and_the_customers_reply_starts_the_next(
    session: Session, cast: Cast
) -> None:
    offline = make_channel(session, cast, ChannelKind.OFFLINE)
    at = utcnow() - timedelta(hours=2)
    [m] = store(session, cast, offline, customer("o1", QUESTION, at=at))
    conversation = conversation_of(session, cast, m)
    replies.compose(
        session,
        conversation=conversation,
        actor=actor_of(cast.agent),
        text="We open at 10 on Sundays.",
    )
    assert conversation.first_response_due is None
    assert conversation.next_response_due is None
    assert conversation.resolution_due is None  # pending: waiting for the customer
    store(session, cast, offline, customer("o2", "And on holidays?", at=utcnow()))
    assert conversation.next_response_due is not None
    assert conversation.first_response_due is None
