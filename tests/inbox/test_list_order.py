"""Overdue conversations stay at the top of the list after the breach job has seen them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from h2h.db import utcnow
from h2h.inbox import listing, sla
from h2h.inbox.models import Priority
from tests.conftest import Cast
from tests.inbox.conftest import conversation_of, customer, make_channel, store


def test_a_recorded_breach_keeps_the_conversation_on_top(session: Session, cast: Cast) -> None:
    widget = make_channel(session, cast)
    now = utcnow()
    old, fresh = (
        conversation_of(session, cast, message_id)
        for message_id in store(
            session,
            cast,
            widget,
            customer("o1", "Где мой заказ?", handle="olga@example.com", at=now - timedelta(days=3)),
            customer(
                "f1",
                "Списали деньги дважды",
                handle="fedor@example.com",
                at=now - timedelta(minutes=1),
            ),
        )
    )
    fresh.priority, fresh.priority_manual = Priority.URGENT, True
    sla.apply_policy(session, fresh)
    old.priority, old.priority_manual = Priority.LOW, True
    sla.apply_policy(session, old)
    session.flush()
    # The job records the breach and moves ``due_at`` on to a clock that has not run out.
    assert sla.check_breaches(session, now=now)
    assert old.breached and (old.due_at is None or old.due_at > now)
    assert sla.status(old, now) == "breached" and sla.status(fresh, now) == "due_soon"
    rows, total = listing.list_conversations(
        session,
        workspace_id=cast.a.id,
        query=listing.InboxQuery(),
        user_id=cast.agent.user.id,
        now=now,
    )
    assert total == 2 and [c.id for c in rows][0] == old.id
