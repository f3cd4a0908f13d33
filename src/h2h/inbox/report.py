"""How the workspace answered: the numbers the reports and the closing notes are made of.

Every conversation opened in the period ends up in exactly one bucket: answered by a person
(a reply sent or recorded, or typed in the channel's own app), consciously not answered
(with its reason), or no decision yet. Response and resolution times are percentiles over
the conversations that have them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from statistics import quantiles

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.inbox.models import Conversation, SlaBreach, State


@dataclass
class ResponseReport:
    conversations: int = 0
    answered: int = 0
    not_answering: dict[str, int] = field(default_factory=dict)  # reason key → count
    undecided: int = 0
    first_response_minutes: dict[str, float] = field(default_factory=dict)  # p50, p90
    resolution_minutes: dict[str, float] = field(default_factory=dict)
    breaches: dict[str, int] = field(default_factory=dict)  # target → count

    @property
    def not_answered(self) -> int:
        return sum(self.not_answering.values())


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"p50": round(values[0], 1), "p90": round(values[0], 1)}
    cuts = quantiles(values, n=10, method="inclusive")
    return {"p50": round(cuts[4], 1), "p90": round(cuts[8], 1)}


def response_report(
    session: Session, *, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> ResponseReport:
    """Decisions on the conversations opened in [since, until), merged ones left out."""
    rows = session.execute(
        select(
            Conversation.state,
            Conversation.close_reason,
            Conversation.opened_at,
            Conversation.first_response_at,
            Conversation.closed_at,
        ).where(
            Conversation.workspace_id == workspace_id,
            Conversation.merged_into_id.is_(None),
            Conversation.opened_at >= since,
            Conversation.opened_at < until,
        )
    ).all()
    report = ResponseReport(conversations=len(rows))
    first, resolution = [], []
    for state, reason, opened, responded, closed in rows:
        if responded is not None:
            report.answered += 1
            first.append((responded - opened).total_seconds() / 60)
        elif state is State.NOT_ANSWERING:
            key = reason or "unknown"
            report.not_answering[key] = report.not_answering.get(key, 0) + 1
        else:
            report.undecided += 1
        if state is State.RESOLVED and closed is not None:
            resolution.append((closed - opened).total_seconds() / 60)
    report.first_response_minutes = _percentiles(first)
    report.resolution_minutes = _percentiles(resolution)
    breached = session.execute(
        select(SlaBreach.target, func.count())
        .where(
            SlaBreach.workspace_id == workspace_id,
            SlaBreach.breached_at >= since,
            SlaBreach.breached_at < until,
        )
        .group_by(SlaBreach.target)
    ).all()
    report.breaches = {str(target.value): count for target, count in breached}
    return report
