"""Where a person is in their relationship with the workspace: visitor → lead → customer …"""

from __future__ import annotations

from datetime import datetime, timedelta

from h2h.people.models import LifecycleStage, Person


def derive_stage(*, person: Person, lapsed_after_days: int, now: datetime) -> LifecycleStage:
    """The stage the facts support; a stage set by a person (``stage_manual``) is kept."""
    if person.stage_manual:
        return person.stage
    if person.order_count >= 1:
        last = person.last_order_at
        if last is not None and now - last > timedelta(days=lapsed_after_days):
            return LifecycleStage.LAPSED
        return LifecycleStage.REPEAT if person.order_count >= 2 else LifecycleStage.CUSTOMER
    if person.stage == LifecycleStage.LEAD:
        return LifecycleStage.LEAD
    return LifecycleStage.VISITOR
