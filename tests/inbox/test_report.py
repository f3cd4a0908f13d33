"""Every conversation is answered, consciously not answered with a reason, or undecided."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import ChannelKind
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.inbox import replies, report, service
from h2h.inbox.models import State
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store


def test_answered_not_answered_by_reason_and_undecided_add_up(session: Session, cast: Cast) -> None:
    offline = make_channel(session, cast, ChannelKind.OFFLINE)
    at = utcnow() - timedelta(hours=3)
    ids = [
        store(session, cast, offline, customer(f"m{n}", text, handle=f"c{n}", at=at))[0]
        for n, text in enumerate(
            ["Где заказ?", "КУПИ КРИПТУ http://x.example", "Ваш конкурент лучше", "Вопрос"]
        )
    ]
    answered, spam, troll, undecided = (conversation_of(session, cast, m) for m in ids)
    agent = actor_of(cast.agent)
    replies.compose(session, conversation=answered, actor=agent, text="Заказ в пути")
    with pytest.raises(InvalidInput):
        service.not_answering(session, conversation=spam, actor=agent, reason="spam", note=" ")
    with pytest.raises(InvalidInput):
        service.not_answering(session, conversation=spam, actor=agent, reason="nope", note="x")
    service.not_answering(session, conversation=spam, actor=agent, reason="spam", note="Бот")
    service.not_answering(
        session, conversation=troll, actor=agent, reason="troll", note="Провокация, не кормим"
    )
    assert (spam.state, spam.close_reason, spam.close_note) == (State.NOT_ANSWERING, "spam", "Бот")
    numbers = report.response_report(
        session, workspace_id=cast.a.id, since=at - timedelta(hours=1), until=utcnow()
    )
    assert numbers.conversations == 4
    assert (numbers.answered, numbers.not_answering, numbers.undecided) == (
        1,
        {"spam": 1, "troll": 1},
        1,
    )
    assert numbers.first_response_minutes["p50"] == pytest.approx(180, abs=2)
    assert undecided.state is State.OPEN
    # A new message from the troll reopens the decision: it is no longer "not answered".
    store(session, cast, offline, customer("m9", "Ну что, молчите?", handle="c2", at=utcnow()))
    assert troll.state is State.OPEN and troll.close_reason is None
    later = report.response_report(
        session, workspace_id=cast.a.id, since=at - timedelta(hours=1), until=utcnow()
    )
    assert (later.not_answering, later.undecided) == ({"spam": 1}, 2)


def test_the_report_is_in_the_api_for_members_and_checks_the_period(
    client: TestClient, session: Session, cast: Cast
) -> None:
    offline = make_channel(session, cast, ChannelKind.OFFLINE)
    [m] = store(session, cast, offline, customer("m1", "Спам-спам", handle="x"))
    service.not_answering(
        session,
        conversation=conversation_of(session, cast, m),
        actor=actor_of(cast.agent),
        reason="spam",
        note="Реклама",
    )
    session.commit()
    url = f"/api/v1/workspaces/{cast.a.slug}/inbox/report"
    body = client.get(url, headers=cast.viewer.headers).json()
    assert (body["conversations"], body["not_answering"], body["not_answered"]) == (
        1,
        {"spam": 1},
        1,
    )
    wrong = client.get(url, params={"since": "2026-01-02T00:00:00"}, headers=cast.viewer.headers)
    assert wrong.status_code == 422 and "since" in wrong.text
    other = client.get(url, headers=cast.outsider.headers)
    assert other.status_code == 404
