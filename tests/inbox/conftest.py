"""Helpers of the inbox tests: channels, customer messages, a local Telegram Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.inbox import service
from h2h.inbox.models import Conversation
from tests.channels.fakes.telegram import TOKEN, FakeTelegram
from tests.conftest import Cast, Member


def make_channel(
    session: Session,
    cast: Cast,
    kind: ChannelKind = ChannelKind.WIDGET,
    *,
    config: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    name: str = "",
) -> Channel:
    return channels.create_channel(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        kind=kind,
        name=name or kind.value,
        config=config or {},
        secrets=secrets or {},
    )


def customer(
    external_id: str,
    text: str,
    *,
    handle: str = "anna@example.com",
    name: str = "Анна Петрова",
    at: datetime | None = None,
    minutes: int = 0,
    thread_id: str | None = None,
    parent_id: str | None = None,
    followers: int | None = None,
    direction: Direction = Direction.INBOUND,
) -> RawMessage:
    when = (at or utcnow() - timedelta(hours=1)) + timedelta(minutes=minutes)
    return RawMessage(
        external_id,
        text,
        when,
        Author(handle, name, followers=followers),
        thread_id=thread_id,
        parent_id=parent_id,
        direction=direction,
    )


def store(session: Session, cast: Cast, channel: Channel, *items: RawMessage) -> list[Any]:
    result = ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=list(items))
    session.flush()
    return list(result.inserted)


def conversation_of(session: Session, cast: Cast, message_id: Any) -> Conversation:
    found = service.conversation_of(session, workspace_id=cast.a.id, message_id=message_id)
    assert found is not None, "the message was not threaded into a conversation"
    return found


def conversations(session: Session, cast: Cast) -> list[Conversation]:
    query = select(Conversation).where(Conversation.workspace_id == cast.a.id)
    return list(session.scalars(query.order_by(Conversation.number)))


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as fake:
        fake.clock = int(utcnow().timestamp()) - 3600  # the inbox threads the last two weeks
        yield fake


@pytest.fixture
def telegram_channel(session: Session, cast: Cast, telegram: FakeTelegram) -> Channel:
    return make_channel(
        session,
        cast,
        ChannelKind.TELEGRAM,
        config={"base_url": telegram.url, "poll_timeout": 0},
        secrets={"bot_token": TOKEN},
    )


@pytest.fixture
def factory(session: Session) -> sessionmaker[Session]:
    """Sessions of their own, as the delivery job opens them (the test's session commits first)."""
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


def actor_of(member: Member) -> accounts.Actor:
    return accounts.Actor(user_id=member.user.id, role=member.membership.role)
