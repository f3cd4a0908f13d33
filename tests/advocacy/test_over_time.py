"""Engagement over time from the database: levels as of past dates count only what happened
before them, and the moves between levels come out exact — on the page and in the API too.

The cast, as of four quarter ends (270, 180 and 90 days ago, and now):

- a loyal customer, an order every 30 days for two years: deep throughout;
- a steady customer, an order every 30 days for the last eight months: nothing 270 days ago,
  shallow at 180 and 90 days (two and five months of orders), deep now (eight);
- a giveaway liker, two votes and twenty likes tagged ``drink-of-the-year`` 395 days ago,
  then an unfollow: shallow while the votes are in the window, nothing now;
- a newcomer, two orders in the last three weeks: shallow now.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from h2h.advocacy import service
from h2h.advocacy.engagement import Level
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.people import events
from h2h.people.models import Identity, Order
from tests.conftest import Cast, login

NOW = utcnow()
DEEP, SHALLOW, ONE_OFF, NONE = Level.DEEP, Level.SHALLOW, Level.ONE_OFF, Level.NONE
_orders = iter(range(1, 10**6))


def someone(session: Session, workspace_id: uuid.UUID, email: str, name: str) -> uuid.UUID:
    """A person known by email (their first event is a page view, which counts for nothing)."""
    who = {"kind": "email", "value": email, "name": name}
    outcome = events.record(
        session,
        workspace_id=workspace_id,
        items=[{"name": "page_view", "occurred_at": NOW.isoformat(), "identity": who}],
    )
    assert outcome.errors == []
    session.flush()
    return identity_of(session, workspace_id, email)


def identity_of(session: Session, workspace_id: uuid.UUID, email: str) -> uuid.UUID:
    return session.scalars(
        select(Identity.id).where(Identity.workspace_id == workspace_id, Identity.value == email)
    ).one()


def orders(session: Session, workspace_id: uuid.UUID, identity_id: uuid.UUID, days: Any) -> None:
    for back in days:
        session.add(
            Order(
                workspace_id=workspace_id,
                external_id=f"O-{next(_orders)}",
                identity_id=identity_id,
                placed_at=NOW - timedelta(days=back),
                total=100_000,
            )
        )
    session.flush()


def giveaway_liker(session: Session, workspace_id: uuid.UUID) -> uuid.UUID:
    start = NOW - timedelta(days=395)
    who = {"kind": "email", "value": "liker@example.com", "name": "Лиза Лайкова"}

    def item(name: str, at: datetime, **properties: Any) -> dict[str, Any]:
        return {
            "name": name,
            "occurred_at": at.isoformat(),
            "identity": who,
            "properties": properties,
        }

    items = [item("app.vote", start + timedelta(hours=h), drink=h) for h in (1, 30)]
    items += [
        item("app.like", start + timedelta(hours=3 * i), campaign="drink-of-the-year", post=i)
        for i in range(20)
    ]
    items.append(item("app.unfollow", start + timedelta(days=8)))
    outcome = events.record(session, workspace_id=workspace_id, items=items)
    assert (outcome.accepted, outcome.errors) == (23, [])
    session.flush()
    return identity_of(session, workspace_id, "liker@example.com")


def cast_of_four(session: Session, workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The four histories above; returns their person ids by role."""
    loyal = someone(session, workspace_id, "loyal@example.com", "Лариса Верная")
    orders(session, workspace_id, loyal, range(5, 720, 30))
    steady = someone(session, workspace_id, "steady@example.com", "Степан Постоянный")
    orders(session, workspace_id, steady, range(5, 240, 30))
    newcomer = someone(session, workspace_id, "new@example.com", "Нина Новая")
    orders(session, workspace_id, newcomer, (5, 20))
    liker = giveaway_liker(session, workspace_id)
    ids = {"loyal": loyal, "steady": steady, "newcomer": newcomer, "liker": liker}
    return {
        role: session.scalars(select(Identity.person_id).where(Identity.id == identity)).one()
        for role, identity in ids.items()
    }


def counts(period: service.Period) -> dict[Level, int]:
    return {level: n for level, n in period.counts.items() if n}


def test_quarter_ends_count_only_what_happened_before_them(session: Session, cast: Cast) -> None:
    cast_of_four(session, cast.a.id)
    found = service.movement(session, workspace_id=cast.a.id, now=NOW, periods=4, period_days=90)
    assert [p.at for p in found.periods] == [NOW - timedelta(days=d) for d in (270, 180, 90, 0)]
    assert [counts(p) for p in found.periods] == [
        {DEEP: 1, SHALLOW: 1},  # loyal; liker (the steady customer had not ordered yet)
        {DEEP: 1, SHALLOW: 2},  # loyal; steady (two months), liker
        {DEEP: 1, SHALLOW: 2},  # loyal; steady (five months), liker
        {DEEP: 2, SHALLOW: 1},  # loyal, steady (eight months); newcomer — the liker is gone
    ]
    assert [p.people for p in found.periods] == [2, 3, 3, 3]
    assert found.periods[-1].shares[DEEP] == pytest.approx(2 / 3)
    assert found.periods[0].shares[SHALLOW] == pytest.approx(1 / 2)


def test_the_steady_customer_moves_up_and_the_giveaway_liker_leaves(
    session: Session, cast: Cast
) -> None:
    cast_of_four(session, cast.a.id)
    found = service.movement(session, workspace_id=cast.a.id, now=NOW, periods=4, period_days=90)
    assert found.transitions == {
        (DEEP, DEEP): 1,  # loyal
        (SHALLOW, DEEP): 1,  # steady
        (SHALLOW, NONE): 1,  # the giveaway liker: the votes left the window
        (NONE, SHALLOW): 1,  # the newcomer
    }
    assert found.moves == [(SHALLOW, DEEP, 1), (SHALLOW, NONE, 1), (NONE, SHALLOW, 1)]


def test_months_show_the_steady_customer_climbing_month_by_month(
    session: Session, cast: Cast
) -> None:
    people = cast_of_four(session, cast.a.id)
    found = service.movement(session, workspace_id=cast.a.id, now=NOW, periods=6, period_days=30)
    # Steady is shallow until six months of orders make them deep, 60 days ago.
    steady_deep = [p.counts[DEEP] for p in found.periods]
    assert steady_deep == [1, 1, 1, 2, 2, 2]
    # The liker's votes, 395 days ago, left the window (12 months of 30 days) just before the
    # last month began; only their unfollow, 387 days ago, was still in it: one-off, then gone.
    assert found.transitions == {(DEEP, DEEP): 2, (ONE_OFF, NONE): 1, (NONE, SHALLOW): 1}
    assert found.moves == [(ONE_OFF, NONE, 1), (NONE, SHALLOW, 1)]
    assert [p.counts[SHALLOW] for p in found.periods] == [2, 2, 2, 1, 0, 1]
    assert set(people) == {"loyal", "steady", "newcomer", "liker"}


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_window_is_read_once_whatever_the_number_of_people_or_dates(
    session: Session, cast: Cast
) -> None:
    cast_of_four(session, cast.a.id)
    session.commit()
    with statements(session) as few:
        service.movement(session, workspace_id=cast.a.id, now=NOW, periods=2)
    for n in range(30):
        orders(session, cast.a.id, someone(session, cast.a.id, f"c{n}@example.com", "C"), [n])
    session.commit()
    with statements(session) as many:
        service.movement(session, workspace_id=cast.a.id, now=NOW, periods=12)
    assert len(many) == len(few) <= 8


@pytest.mark.parametrize(
    ("periods", "days", "field"),
    [(1, 30, "periods"), (25, 30, "periods"), (6, 6, "period_days"), (6, 367, "period_days")],
)
def test_periods_out_of_range_are_refused_by_name(
    session: Session, cast: Cast, periods: int, days: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.movement(session, workspace_id=cast.a.id, periods=periods, period_days=days)
    assert refused.value.field == field


def test_the_page_shows_the_periods_and_names_the_biggest_moves(
    client: TestClient, session: Session, cast: Cast
) -> None:
    cast_of_four(session, cast.a.id)
    session.commit()
    login(client, cast.viewer.user.email)
    html = client.get("/w/alpha/feedback/advocates?over=quarters").text
    section = html.split('data-testid="movement"')[1]
    assert section.count('data-testid="period-row"') == 4
    assert "1 person went from “Shallow” to “Deep”" in section
    assert "1 person left “Shallow”: nothing in the window now" in section
    assert "1 person arrived at “Shallow”" in section
    shallow_row = section.split('data-testid="from-shallow"')[1].split("</tr>")[0]
    # then shallow → now deep, intermittent, shallow, one-off, none
    assert shallow_row.count("<td>") == 5
    assert "<td>1</td><td>0</td><td>0</td><td>0</td><td>1</td>" in shallow_row
    assert '<th scope="col">' in section and '<th scope="row">' in section
    months = client.get("/w/alpha/feedback/advocates").text.split('data-testid="movement"')[1]
    assert months.count('data-testid="period-row"') == 6
    odd = client.get("/w/alpha/feedback/advocates?over=decades")
    assert odd.status_code == 200 and odd.text.count('data-testid="period-row"') == 6


def test_the_api_answers_shares_periods_and_transitions(
    client: TestClient, session: Session, cast: Cast
) -> None:
    cast_of_four(session, cast.a.id)
    session.commit()
    url = "/api/v1/workspaces/alpha/advocacy/engagement"
    found = client.get(f"{url}?periods=4&period_days=90", headers=cast.viewer.headers)
    assert found.status_code == 200
    body = found.json()
    assert body["counts"] == {"deep": 2, "intermittent": 0, "shallow": 1, "one_off": 0, "none": 0}
    assert body["shares"]["deep"] == pytest.approx(2 / 3)
    assert [p["people"] for p in body["periods"]] == [2, 3, 3, 3]
    assert body["period_days"] == 90 and body["capped"] is False
    assert sorted((t["from"], t["to"], t["count"]) for t in body["transitions"]) == [
        ("deep", "deep", 1),
        ("none", "shallow", 1),
        ("shallow", "deep", 1),
        ("shallow", "none", 1),
    ]
    assert body["moves"][0] == {"from": "shallow", "to": "deep", "count": 1}
    refused = client.get(f"{url}?periods=1", headers=cast.viewer.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.periods"
    assert client.get(url, headers=cast.outsider.headers).status_code == 404
