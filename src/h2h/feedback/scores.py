"""NPS, CSAT and CES with 95% confidence intervals, overall, over time and by group.

- **NPS** = % promoters (9–10) − % detractors (0–6), −100…100. Each answer is +1, 0 or −1,
  so the score is a mean and its standard error is √((p₊ + p₋ − (p₊ − p₋)²) / n). The
  interval is the normal one on that mean, computed with one pseudo-answer of each kind
  added (a small-sample correction in the spirit of Agresti–Coull: with 3 answers, all
  promoters, the interval is not a point at 100) and clipped to −100…100.
- **CSAT** = share of 4–5 answers on the 1–5 scale, with the Wilson score interval.
- **CES** = share of 5–7 ("easy") on the 1–7 scale, Wilson interval; the mean is shown too.

A group with fewer than ``MIN_ANSWERS`` answers is listed but marked too small to read.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.feedback.models import Response, SurveyKind
from h2h.people.models import Person

Z = 1.959964  # two-sided 95%
MIN_ANSWERS = 10
GROUPS = ("channel", "agent", "survey", "stage")


@dataclass(frozen=True)
class Score:
    kind: SurveyKind
    n: int
    value: float | None  # NPS −100…100; CSAT/CES a percentage 0…100
    low: float | None
    high: float | None
    good: int  # promoters / satisfied / easy
    neutral: int  # passives (NPS); the middle answers otherwise
    bad: int  # detractors / unsatisfied / hard
    mean: float | None

    @property
    def readable(self) -> bool:
        return self.n >= MIN_ANSWERS

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "n": self.n,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "good": self.good,
            "neutral": self.neutral,
            "bad": self.bad,
            "mean": self.mean,
            "readable": self.readable,
        }


def band(kind: SurveyKind, score: int) -> int:
    """+1 promoter / satisfied / easy, −1 detractor / unsatisfied / hard, 0 in between."""
    if kind is SurveyKind.NPS:
        return 1 if score >= 9 else -1 if score <= 6 else 0
    if kind is SurveyKind.CSAT:
        return 1 if score >= 4 else -1 if score <= 2 else 0
    if kind is SurveyKind.CES:
        return 1 if score >= 5 else -1 if score <= 3 else 0
    return 0


def is_detractor(kind: SurveyKind, score: int | None) -> bool:
    return score is not None and kind is not SurveyKind.CUSTOM and band(kind, score) < 0


def is_promoter(kind: SurveyKind, score: int | None) -> bool:
    return score is not None and kind is not SurveyKind.CUSTOM and band(kind, score) > 0


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion, as percentages."""
    if n == 0:
        return (0.0, 100.0)
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return (round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1))


def score(kind: SurveyKind, values: Iterable[int]) -> Score:
    values = list(values)
    n = len(values)
    bands = [band(kind, v) for v in values]
    good, bad = bands.count(1), bands.count(-1)
    neutral = n - good - bad
    mean = round(sum(values) / n, 2) if n else None
    if n == 0:
        return Score(kind, 0, None, None, None, 0, 0, 0, None)
    if kind is SurveyKind.NPS:
        value = 100 * (good - bad) / n
        # One pseudo-answer of each kind keeps tiny samples from a zero-width interval.
        m, p_good, p_bad = n + 3, (good + 1) / (n + 3), (bad + 1) / (n + 3)
        centre = p_good - p_bad
        half = Z * math.sqrt(max(p_good + p_bad - centre * centre, 0.0) / m)
        low, high = max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))
        return Score(
            kind, n, round(value, 1), round(low, 1), round(high, 1), good, neutral, bad, mean
        )
    low, high = wilson(good, n)
    return Score(kind, n, round(100 * good / n, 1), low, high, good, neutral, bad, mean)


# --- from the database ------------------------------------------------------------------------


def _rows(
    session: Session, workspace_id: uuid.UUID, kind: SurveyKind, since: datetime, until: datetime
) -> list[Any]:
    return list(
        session.execute(
            select(
                Response.score,
                Response.created_at,
                Response.channel_id,
                Response.agent_id,
                Response.survey_id,
                Person.stage,
            )
            .join(
                Person,
                (Person.workspace_id == Response.workspace_id) & (Person.id == Response.person_id),
            )
            .where(
                Response.workspace_id == workspace_id,
                Response.kind == kind,
                Response.score.is_not(None),
                Response.created_at >= since,
                Response.created_at < until,
            )
        )
    )


def summary(
    session: Session, *, workspace_id: uuid.UUID, kind: SurveyKind, since: datetime, until: datetime
) -> Score:
    return score(kind, (r.score for r in _rows(session, workspace_id, kind, since, until)))


def by_group(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    kind: SurveyKind,
    group: str,
    since: datetime,
    until: datetime,
) -> dict[str, Score]:
    """Scores per channel id, agent id, survey id or lifecycle stage (``GROUPS``), biggest first;
    answers without the group (an NPS has no agent) are left out."""
    column = {"channel": 2, "agent": 3, "survey": 4, "stage": 5}[group]
    values: dict[str, list[int]] = defaultdict(list)
    for row in _rows(session, workspace_id, kind, since, until):
        if row[column] is not None:
            values[str(row[column])].append(row.score)
    scores = {key: score(kind, v) for key, v in values.items()}
    return dict(sorted(scores.items(), key=lambda item: (-item[1].n, item[0])))


def trend(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    kind: SurveyKind,
    since: datetime,
    until: datetime,
    days: int = 7,
) -> list[tuple[datetime, Score]]:
    """One score per ``days``-long period, the last ending at ``until`` (so no period is a
    sliver), as many as fit in ``since``…``until`` (at least one); empty periods included."""
    step = timedelta(days=days)
    periods = max(1, round((until - since) / step))
    start = until - periods * step
    values: dict[int, list[int]] = defaultdict(list)
    for row in _rows(session, workspace_id, kind, start, until):
        values[min(periods - 1, int((row.created_at - start) / step))].append(row.score)
    return [(start + i * step, score(kind, values.get(i, []))) for i in range(periods)]
