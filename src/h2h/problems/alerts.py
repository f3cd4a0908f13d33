"""Spike and crisis alerts: an unusual day of complaints, per workspace, subject and problem.

The ``problems.check_spikes`` job looks at today (UTC) against the last eight weeks
(``spikes`` holds the method: a weekday-seasonal robust baseline with a Poisson test for
counts and a binomial test for shares). It checks:

- complaints in the whole workspace, and per problem (volume);
- per subject, the complaints about it (volume) and the share of negative mentions.

An alert is stored once per scope, kind and day (re-running the job the same day tells no
one twice) with two or three quotes, and goes to the problem's owner and the members the
workspace chose (else its owners and admins): in the app, by email or Telegram as each
member set their notifications, and to webhooks subscribed to ``problem.alert``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.db import utc_day, utcnow
from h2h.inbox import service as inbox
from h2h.inbox import webhooks
from h2h.inbox.models import WebhookEvent
from h2h.problems import service, spikes
from h2h.problems.models import AlertScope, Problem, ProblemComplaint, ProblemState, SpikeAlert
from h2h.subjects import service as subjects

HISTORY = spikes.SEASON_DAYS  # days of history before the checked day
QUOTES = 3
QUOTE_CHARS = 280


@dataclass(frozen=True)
class Found:
    scope: AlertScope
    scope_id: str
    name: str
    spike: spikes.Spike
    problem: Problem | None = None
    subject_id: uuid.UUID | None = None


def _days(end: date) -> list[date]:
    return [end - timedelta(days=HISTORY - i) for i in range(HISTORY + 1)]


def _series(days: list[date], counts: dict[str, int]) -> list[int]:
    return [counts.get(d.isoformat(), 0) for d in days]


def _complaints_by_day(
    session: Session, workspace_id: uuid.UUID, start: datetime, end: datetime
) -> dict[uuid.UUID | None, dict[str, int]]:
    """Complaints per problem per UTC day (key None: the whole workspace)."""
    day = utc_day(session, ProblemComplaint.complained_at)
    rows = session.execute(
        select(ProblemComplaint.problem_id, day, func.count())
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            ProblemComplaint.complained_at >= start,
            ProblemComplaint.complained_at < end,
        )
        .group_by(ProblemComplaint.problem_id, day)
    ).all()
    found: dict[uuid.UUID | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for problem_id, when, count in rows:
        found[problem_id][str(when)[:10]] += int(count)
        found[None][str(when)[:10]] += int(count)
    return found


def detect(session: Session, *, workspace_id: uuid.UUID, today: date | None = None) -> list[Found]:
    """Spikes on ``today`` (UTC; default the current day) in every scope."""
    settings = service.settings_of(session, workspace_id=workspace_id)
    today = today or utcnow().date()
    days = _days(today)
    start = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    options: dict[str, Any] = {
        "p_threshold": settings.alert_p_value,
        "min_count": settings.alert_min_count,
    }
    found: list[Found] = []
    complaints = _complaints_by_day(session, workspace_id, start, end)
    for spike in spikes.volume_spikes(
        days, _series(days, complaints.get(None, {})), only_last=True, **options
    ):
        found.append(Found(AlertScope.WORKSPACE, "", "", spike))
    problems = {
        p.id: p
        for p in session.scalars(
            select(Problem).where(
                Problem.workspace_id == workspace_id,
                Problem.id.in_([k for k in complaints if k is not None]),
                Problem.state.not_in([ProblemState.MERGED, ProblemState.DECLINED]),
            )
        )
    }
    for problem_id, counts in complaints.items():
        problem = problems.get(problem_id) if problem_id else None
        if problem is None or counts.get(today.isoformat(), 0) < settings.alert_min_count:
            continue
        for spike in spikes.volume_spikes(days, _series(days, counts), only_last=True, **options):
            found.append(
                Found(
                    AlertScope.PROBLEM, str(problem.id), service.title_of(problem), spike, problem
                )
            )
    names = {s.id: s.name for s in subjects.list_subjects(session, workspace_id=workspace_id)}
    by_subject = subjects.daily_sentiment(session, workspace_id=workspace_id, start=start, end=end)
    for subject_id, per_day in by_subject.items():
        if subject_id not in names:
            continue
        negatives = _series(days, {k: v[0] for k, v in per_day.items()})
        totals = _series(days, {k: v[1] for k, v in per_day.items()})
        for spike in spikes.volume_spikes(
            days, negatives, only_last=True, **options
        ) + spikes.share_spikes(days, negatives, totals, only_last=True, **options):
            found.append(
                Found(
                    AlertScope.SUBJECT,
                    str(subject_id),
                    names[subject_id],
                    spike,
                    subject_id=subject_id,
                )
            )
    return found


def _quotes(session: Session, workspace_id: uuid.UUID, found: Found, day: date) -> list[uuid.UUID]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    query = (
        select(ProblemComplaint.message_id)
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            ProblemComplaint.complained_at >= start,
            ProblemComplaint.complained_at < start + timedelta(days=1),
        )
        .order_by(ProblemComplaint.similarity.desc())
        .limit(QUOTES)
    )
    if found.problem is not None:
        query = query.where(ProblemComplaint.problem_id == found.problem.id)
    ids = list(session.scalars(query))
    if found.subject_id is not None:
        mentioned = subjects.subjects_of(session, workspace_id=workspace_id, message_ids=ids)
        ids = [i for i in ids if any(s.id == found.subject_id for s in mentioned.get(i, []))]
    return ids


def check(
    session: Session, *, workspace_id: uuid.UUID, today: date | None = None
) -> list[SpikeAlert]:
    """Detect today's spikes, store the new ones and tell the people who should know."""
    today = today or utcnow().date()
    made: list[SpikeAlert] = []
    for found in detect(session, workspace_id=workspace_id, today=today):
        exists = session.scalar(
            select(SpikeAlert.id).where(
                SpikeAlert.workspace_id == workspace_id,
                SpikeAlert.scope == found.scope,
                SpikeAlert.scope_id == found.scope_id,
                SpikeAlert.kind == found.spike.kind,
                SpikeAlert.day == found.spike.day,
            )
        )
        if exists is not None:
            continue
        quotes = _quotes(session, workspace_id, found, found.spike.day)
        alert = SpikeAlert(
            workspace_id=workspace_id,
            scope=found.scope,
            scope_id=found.scope_id,
            kind=found.spike.kind,
            day=found.spike.day,
            observed=found.spike.observed,
            expected=found.spike.expected,
            p_value=found.spike.p_value,
            problem_id=found.problem.id if found.problem else None,
            subject_id=found.subject_id,
            quote_ids=[str(q) for q in quotes],
        )
        session.add(alert)
        session.flush()
        alert.notified = _tell(session, workspace_id, alert, found, quotes)
        if found.problem is not None:
            service.log_event(
                session,
                found.problem,
                "spike",
                spike=found.spike.kind,
                observed=found.spike.observed,
                expected=round(found.spike.expected, 2),
                day=found.spike.day.isoformat(),
            )
        made.append(alert)
    return made


def _tell(
    session: Session,
    workspace_id: uuid.UUID,
    alert: SpikeAlert,
    found: Found,
    quotes: Sequence[uuid.UUID],
) -> int:
    texts = [
        m.text[:QUOTE_CHARS]
        for m in channels.messages_by_id(
            session, workspace_id=workspace_id, message_ids=list(quotes)
        )
    ]
    data: dict[str, Any] = {
        "alert": str(alert.id),
        "scope": alert.scope.value,
        "name": found.name,
        "spike": alert.kind,
        "title": found.name,
        "day": alert.day.isoformat(),
        "observed": alert.observed,
        "expected": round(alert.expected, 2),
        "p_value": alert.p_value,
        "problem": found.problem.number if found.problem else None,
        "subject": str(found.subject_id) if found.subject_id else None,
        "quotes": texts,
    }
    users = service.owners_to_alert(session, workspace_id=workspace_id, problem=found.problem)
    told = inbox.notify(
        session,
        workspace_id=workspace_id,
        user_ids=users,
        kind="problem_spike",
        conversation=None,
        **data,
    )
    webhooks.announce(
        session, workspace_id=workspace_id, event=WebhookEvent.PROBLEM_ALERT, data=data
    )
    return told


def recent(
    session: Session, *, workspace_id: uuid.UUID, days: int = 30, problem: Problem | None = None
) -> list[SpikeAlert]:
    since = (utcnow() - timedelta(days=days)).date()
    query = select(SpikeAlert).where(
        SpikeAlert.workspace_id == workspace_id, SpikeAlert.day >= since
    )
    if problem is not None:
        query = query.where(SpikeAlert.problem_id == problem.id)
    return list(session.scalars(query.order_by(SpikeAlert.created_at.desc()).limit(100)))
