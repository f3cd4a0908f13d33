"""Polling: the cursor moves only after items are stored; failures back off; bad settings stop."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.channels.connectors import base
from h2h.channels.connectors.base import ChannelKind, ConnectorError, FetchResult
from h2h.channels.models import Channel, ChannelStatus, Message
from h2h.db import utcnow
from tests.channels.conftest import Place, item


class ScriptedConnector:
    """A connector whose next answers the test writes down."""

    kind: ClassVar[ChannelKind] = ChannelKind.RSS

    def __init__(self) -> None:
        self.answers: list[FetchResult | ConnectorError] = []
        self.cursors: list[str | None] = []

    def fetch(
        self, config: Mapping[str, Any], secrets: Mapping[str, str], cursor: str | None
    ) -> FetchResult:
        self.cursors.append(cursor)
        answer = self.answers.pop(0)
        if isinstance(answer, ConnectorError):
            raise answer
        return answer

    def check(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        return "ok"


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedConnector:
    connector = ScriptedConnector()
    monkeypatch.setitem(base._CONNECTORS, ChannelKind.RSS, connector)
    return connector


@pytest.fixture
def feed(session: Session, place: Place) -> Channel:
    channel = channels.create_channel(
        session,
        workspace_id=place.workspace.id,
        actor=place.actor,
        kind=ChannelKind.RSS,
        name="Отзывы",
        config={"url": "http://127.0.0.1:9/feed"},
        poll_interval_seconds=300,
    )
    session.commit()
    return channel


def _poll(session: Session, channel: Channel) -> channels.PollOutcome:
    outcome = channels.poll(session, channel=channel)
    session.commit()
    return outcome


def test_a_new_channel_is_due_at_once_and_then_after_its_interval(
    session: Session, feed: Channel, scripted: ScriptedConnector
) -> None:
    assert (feed.workspace_id, feed.id) in channels.due_channels(session)
    scripted.answers.append(FetchResult([item("a", "первый отзыв")], cursor="c1"))
    assert _poll(session, feed).inserted == 1
    assert (feed.workspace_id, feed.id) not in channels.due_channels(session)
    later = utcnow() + timedelta(seconds=301)
    assert (feed.workspace_id, feed.id) in channels.due_channels(session, now=later)


def test_the_cursor_survives_failures_and_moves_after_success(
    session: Session, feed: Channel, scripted: ScriptedConnector
) -> None:
    scripted.answers += [
        FetchResult([item("a", "отзыв один")], cursor="c1"),
        ConnectorError("502 Bad Gateway"),
        FetchResult([item("b", "отзыв два")], cursor="c2"),
    ]
    _poll(session, feed)
    failed = _poll(session, feed)
    assert failed.error == "502 Bad Gateway"
    assert feed.cursor == "c1" and feed.status is ChannelStatus.FAILING and feed.failures == 1
    assert feed.last_error == "502 Bad Gateway" and feed.last_error_at is not None
    _poll(session, feed)
    assert scripted.cursors == [None, "c1", "c1"]
    assert feed.cursor == "c2" and feed.status is ChannelStatus.ACTIVE and feed.failures == 0
    assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_failures_back_off_exponentially_and_honour_retry_after(
    session: Session, feed: Channel, scripted: ScriptedConnector
) -> None:
    delays = []
    for answer in (
        ConnectorError("timeout"),
        ConnectorError("timeout"),
        ConnectorError("429", retry_after=7200),
    ):
        scripted.answers.append(answer)
        before = utcnow()
        _poll(session, feed)
        assert feed.next_poll_at is not None
        delays.append(round((feed.next_poll_at - before).total_seconds() / 60))
    assert delays == [10, 20, 120]
    for _ in range(10):
        scripted.answers.append(ConnectorError("still down"))
        _poll(session, feed)
    assert feed.next_poll_at is not None
    assert feed.next_poll_at - utcnow() <= channels.MAX_BACKOFF


def test_bad_credentials_stop_polling_until_someone_fixes_them(
    session: Session, place: Place, feed: Channel, scripted: ScriptedConnector
) -> None:
    scripted.answers.append(ConnectorError("401 Unauthorized", retryable=False))
    _poll(session, feed)
    assert feed.status is ChannelStatus.BROKEN and feed.next_poll_at is None
    assert (feed.workspace_id, feed.id) not in channels.due_channels(session)
    channels.set_paused(session, channel=feed, actor=place.actor, paused=False)
    session.commit()
    assert feed.status is ChannelStatus.ACTIVE
    assert (feed.workspace_id, feed.id) in channels.due_channels(session)


def test_a_repeated_page_from_the_channel_stores_nothing_twice(
    session: Session, feed: Channel, scripted: ScriptedConnector
) -> None:
    page = [item("a", "отзыв один"), item("b", "отзыв два")]
    scripted.answers += [FetchResult(page, cursor="c1"), FetchResult(page, cursor="c1")]
    assert _poll(session, feed).inserted == 2
    assert _poll(session, feed).inserted == 0
