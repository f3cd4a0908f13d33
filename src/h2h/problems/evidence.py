"""Did the fix work? Complaints on the problem before the fix compared with after it.

The evidence compares two windows of the same length around ``fixed_at``: complaints per
day on this problem, and their share of all inbound messages of the workspace in the window
(so a quiet week after the fix is not mistaken for success). The test is the exact
conditional test for two Poisson rates: given ``n`` complaints in both windows, the number
after the fix is binomial with p = t_after / (t_after + t_before) if nothing changed; a
small one-sided p-value says the rate fell.

A fixed problem is verified when its after-window has passed and the rate fell (p < 0.05);
it reopens when complaints come back: since the fix at least ``RETURN_COMPLAINTS``
complaints from ``RETURN_PEOPLE`` different people and a rate at least half the old one.
``check`` applies both rules; a person can also verify (with the evidence) or reopen.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from scipy.stats import binomtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.errors import N_, Conflict
from h2h.people.service import as_utc
from h2h.problems import service
from h2h.problems.models import Problem, ProblemComplaint, ProblemState

SIGNIFICANCE = 0.05
RETURN_COMPLAINTS = 3
RETURN_PEOPLE = 2
RETURN_RATIO = 0.5


@dataclass(frozen=True)
class Evidence:
    window_days: int
    fixed_at: str
    before: int  # complaints in the window before the fix
    after: int  # complaints since the fix, up to one window
    after_days: float  # how much of the after-window has passed
    before_rate: float  # complaints per day
    after_rate: float
    before_share: float | None  # of the workspace's inbound messages in the window
    after_share: float | None
    p_value: float  # one-sided: the rate fell
    verdict: str  # fell | not_yet | no_change | rose
    complete: bool  # the whole after-window has passed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(session: Session, problem: Problem, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ProblemComplaint)
            .where(
                ProblemComplaint.workspace_id == problem.workspace_id,
                ProblemComplaint.problem_id == problem.id,
                ProblemComplaint.complained_at >= start,
                ProblemComplaint.complained_at < end,
            )
        )
        or 0
    )


def compute(
    session: Session,
    *,
    problem: Problem,
    window_days: int | None = None,
    now: datetime | None = None,
) -> Evidence:
    """The before/after numbers for a fixed problem (``window_days`` defaults to settings)."""
    if problem.fixed_at is None:
        raise Conflict(N_("The problem is not fixed yet."))
    now = as_utc(now or utcnow())
    window = (
        window_days
        or service.settings_of(session, workspace_id=problem.workspace_id).verify_window_days
    )
    window = max(1, min(int(window), 365))
    fixed = as_utc(problem.fixed_at)
    span = timedelta(days=window)
    end = min(now, fixed + span)
    after_days = max((end - fixed).total_seconds() / 86400, 1 / 24)
    before = _count(session, problem, fixed - span, fixed)
    after = _count(session, problem, fixed, end)
    inbound_before = channels.inbound_count(
        session, workspace_id=problem.workspace_id, start=fixed - span, end=fixed
    )
    inbound_after = channels.inbound_count(
        session, workspace_id=problem.workspace_id, start=fixed, end=end
    )
    total = before + after
    p_value = (
        float(
            binomtest(after, total, after_days / (after_days + window), alternative="less").pvalue
        )
        if total
        else 1.0
    )
    before_rate, after_rate = before / window, after / after_days
    complete = end >= fixed + span
    if after_rate > before_rate and after >= RETURN_COMPLAINTS:
        verdict = "rose"
    elif p_value < SIGNIFICANCE:
        verdict = "fell"
    elif not complete:
        verdict = "not_yet"
    else:
        verdict = "no_change"
    return Evidence(
        window_days=window,
        fixed_at=fixed.isoformat(),
        before=before,
        after=after,
        after_days=round(after_days, 2),
        before_rate=round(before_rate, 3),
        after_rate=round(after_rate, 3),
        before_share=round(before / inbound_before, 4) if inbound_before else None,
        after_share=round(after / inbound_after, 4) if inbound_after else None,
        p_value=round(p_value, 5),
        verdict=verdict,
        complete=complete,
    )


def returned(session: Session, *, problem: Problem, now: datetime | None = None) -> bool:
    """Have complaints come back since the fix (the reopen rule in the module docstring)?"""
    if problem.fixed_at is None:
        return False
    fixed = as_utc(problem.fixed_at)
    now = as_utc(now or utcnow())
    rows = session.execute(
        select(ProblemComplaint.identity_id, ProblemComplaint.message_id).where(
            ProblemComplaint.workspace_id == problem.workspace_id,
            ProblemComplaint.problem_id == problem.id,
            ProblemComplaint.complained_at >= fixed,
        )
    ).all()
    if len(rows) < RETURN_COMPLAINTS:
        return False
    authors = {identity or message for identity, message in rows}
    if len(authors) < RETURN_PEOPLE:
        return False
    window = service.settings_of(session, workspace_id=problem.workspace_id).verify_window_days
    before = _count(session, problem, fixed - timedelta(days=window), fixed)
    after_days = max((now - fixed).total_seconds() / 86400, 1.0)
    return bool(len(rows) / after_days >= RETURN_RATIO * before / window)


def check(session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None) -> int:
    """Verify fixed problems whose complaints fell; reopen those whose complaints returned."""
    changed = 0
    rows = session.scalars(
        select(Problem).where(
            Problem.workspace_id == workspace_id,
            Problem.state.in_([ProblemState.FIXED, ProblemState.VERIFIED]),
        )
    ).all()
    for problem in rows:
        if returned(session, problem=problem, now=now):
            service.reopen(
                session,
                problem=problem,
                actor=accounts.SYSTEM,
                note="complaints returned after the fix",
            )
            changed += 1
            continue
        if problem.state is ProblemState.FIXED:
            found = compute(session, problem=problem, now=now)
            problem.evidence = found.as_dict()
            if found.complete and found.verdict == "fell":
                service.verify(
                    session, problem=problem, actor=accounts.SYSTEM, evidence=found.as_dict()
                )
                changed += 1
    return changed


def verify_now(session: Session, *, problem: Problem, actor: accounts.Actor) -> Evidence:
    """A person verifies the fix: allowed when the evidence shows the rate fell."""
    found = compute(session, problem=problem)
    if found.verdict != "fell":
        raise Conflict(
            N_(
                "The complaints have not fallen clearly yet: {before} per day before the fix,"
                " {after} per day since (p = {p})."
            ),
            before=found.before_rate,
            after=found.after_rate,
            p=found.p_value,
        )
    service.verify(session, problem=problem, actor=actor, evidence=found.as_dict())
    return found
