"""Where a person is in their relationship with the workspace: visitor → lead → customer …

The stage follows from facts, in this order of precedence:

1. a stage set by staff (``stage_manual``) is kept — people know things the data does not;
2. a customer whose last order is older than the workspace's ``lapsed_after_days`` is *lapsed*;
3. someone who praised or thanked us ``ADVOCATE_PRAISES`` times or more (in messages that
   are not negative in tone) is an *advocate* — a customer who speaks for us, or a patient
   or client who does so before any order reached H2H;
4. two orders or more make a *repeat* customer, one a *customer*;
5. a message that means to buy (purchase intent, or a question about price, payment,
   delivery or booking) makes a *lead*; a lead stays a lead until they buy;
6. everyone else is a *visitor*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from h2h.people.models import LifecycleStage, Person

ADVOCATE_PRAISES = 2


@dataclass(frozen=True)
class Signals:
    """What the person's messages say, counted by the profile refresh."""

    buying: int = 0  # messages that mean to buy
    praise: int = 0  # messages of praise or thanks, not negative in tone


def derive_stage(
    *, person: Person, lapsed_after_days: int, now: datetime, signals: Signals | None = None
) -> LifecycleStage:
    """The stage the facts support; a stage set by a person (``stage_manual``) is kept."""
    if person.stage_manual:
        return person.stage
    signals = signals or Signals()
    last = person.last_order_at
    if (
        person.order_count >= 1
        and last is not None
        and now - last > timedelta(days=lapsed_after_days)
    ):
        return LifecycleStage.LAPSED
    if signals.praise >= ADVOCATE_PRAISES:
        return LifecycleStage.ADVOCATE
    if person.order_count >= 1:
        return LifecycleStage.REPEAT if person.order_count >= 2 else LifecycleStage.CUSTOMER
    if signals.buying >= 1 or person.stage == LifecycleStage.LEAD:
        return LifecycleStage.LEAD
    return LifecycleStage.VISITOR
