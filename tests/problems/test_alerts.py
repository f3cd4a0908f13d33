"""Spike alerts: an injected burst of complaints fires once and tells the owner with quotes;
normal traffic, however large, does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.inbox.models import Notification
from h2h.problems import alerts, service
from h2h.problems.models import AlertScope, Problem
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, customer, make_channel, store


def _history(
    session: Session, cast: Cast, channel: Channel, per_day: list[int], today: int
) -> list[object]:
    """Complaints: ``per_day[i]`` on the day ``len(per_day) - i`` days ago, ``today`` today."""
    now = utcnow().replace(hour=0, minute=30, second=0, microsecond=0)
    items = []
    for back, count in enumerate(reversed([*per_day, today])):
        day = now - timedelta(days=back)
        for i in range(count):
            items.append(
                customer(
                    f"d{back}-{i}",
                    f"Посылка опять потерялась, заказ {back}-{i}",
                    handle=f"u{back}-{i}@example.com",
                    name=f"Клиент {back}-{i}",
                    at=day,
                    minutes=i,
                )
            )
    return store(session, cast, channel, *items)


def _problem(session: Session, cast: Cast, ids: list[object]) -> Problem:
    problem = service.create(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        title="Теряются посылки",
        message_ids=ids,
    )
    problem.owner_id = cast.agent.user.id
    return problem


def _normal(days: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(v) for v in rng.choice((0, 1, 1, 2, 2, 3), size=days)]


def test_a_burst_of_complaints_alerts_the_owner_once_with_quotes(
    session: Session, cast: Cast
) -> None:
    channel = make_channel(session, cast, ChannelKind.WIDGET)
    ids = _history(session, cast, channel, _normal(56, seed=1), today=14)
    problem = _problem(session, cast, ids)
    made = alerts.check(session, workspace_id=cast.a.id)
    scopes = {(a.scope, a.kind) for a in made}
    assert (AlertScope.PROBLEM, "volume") in scopes
    assert (AlertScope.WORKSPACE, "volume") in scopes
    alert = next(a for a in made if a.scope is AlertScope.PROBLEM)
    assert alert.problem_id == problem.id and alert.observed == 14
    assert alert.expected < 3 and alert.p_value < 0.001
    assert 1 <= len(alert.quote_ids) <= 3
    told = session.scalars(
        select(Notification).where(
            Notification.workspace_id == cast.a.id, Notification.kind == "problem_spike"
        )
    ).all()
    assert {n.user_id for n in told} >= {cast.agent.user.id}
    assert any(n.data.get("problem") == problem.number and n.data["quotes"] for n in told)
    assert alerts.check(session, workspace_id=cast.a.id) == []  # the same day: told once
    assert [e.kind for e in service.history(session, problem=problem)].count("spike") == 1


def test_normal_traffic_does_not_alert(session: Session, cast: Cast) -> None:
    channel = make_channel(session, cast, ChannelKind.WIDGET)
    history = _normal(56, seed=2)
    ids = _history(session, cast, channel, history, today=3)
    _problem(session, cast, ids)
    assert alerts.check(session, workspace_id=cast.a.id) == []


def test_a_spike_is_judged_against_its_own_level_not_an_absolute_number(
    session: Session, cast: Cast
) -> None:
    """Twelve complaints a day is normal for a busy problem; it alerts only a quiet one."""
    channel = make_channel(session, cast, ChannelKind.WIDGET)
    busy = [int(v) for v in np.random.default_rng(3).integers(9, 16, size=56)]
    ids = _history(session, cast, channel, busy, today=12)
    _problem(session, cast, ids)
    found = alerts.detect(session, workspace_id=cast.a.id, today=datetime.now(UTC).date())
    assert [f for f in found if f.scope is AlertScope.PROBLEM] == []
