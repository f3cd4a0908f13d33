"""RFM: recency, frequency and monetary value of each customer, scored 1–5, and named segments.

Each customer (a person with at least one purchase up to ``as_of``) gets three quintile
scores among the workspace's customers: recency (days since the last purchase; more recent
scores higher), frequency (purchases, cancellations not counted) and monetary value (net
spend: cancellations subtract). Equal values always get the same score — the score of the
first of them in rank order — so the result does not depend on row order, and a workspace
where most customers bought once gives them all F = 1 rather than spreading them at random.

The segment comes from the recency score and the mean of the frequency and monetary
scores, on the grid most RFM tools use (champions, loyal, potential loyalists, new,
promising, need attention, about to sleep, at risk, can't lose them, hibernating, lost).
Persons without purchases have no scores and no segment.

Run nightly by the ``people.rfm`` job and by ``h2h people rfm``; ``as_of`` lets a historical
data set (Online Retail ends in December 2011) be scored as of its own last day.
"""

from __future__ import annotations

import enum
import uuid
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from h2h.db import utcnow
from h2h.errors import N_
from h2h.people.models import Identity, Order, Person
from h2h.people.service import as_utc

SCORES = 5
CHUNK = 5000  # persons per UPDATE batch


class RfmSegment(enum.StrEnum):
    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALISTS = "potential_loyalists"
    NEW_CUSTOMERS = "new_customers"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANNOT_LOSE = "cannot_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"


SEGMENT_LABELS = {
    RfmSegment.CHAMPIONS: N_("Champions"),
    RfmSegment.LOYAL: N_("Loyal"),
    RfmSegment.POTENTIAL_LOYALISTS: N_("Potential loyalists"),
    RfmSegment.NEW_CUSTOMERS: N_("New customers"),
    RfmSegment.PROMISING: N_("Promising"),
    RfmSegment.NEED_ATTENTION: N_("Need attention"),
    RfmSegment.ABOUT_TO_SLEEP: N_("About to sleep"),
    RfmSegment.AT_RISK: N_("At risk"),
    RfmSegment.CANNOT_LOSE: N_("Can't lose them"),
    RfmSegment.HIBERNATING: N_("Hibernating"),
    RfmSegment.LOST: N_("Lost"),
}

# What each segment means and what to do about it, for the segments page.
SEGMENT_ADVICE = {
    RfmSegment.CHAMPIONS: N_("Bought recently, buy often and spend the most. Ask for reviews."),
    RfmSegment.LOYAL: N_("Buy regularly. Thank them personally; invite them to tell others."),
    RfmSegment.POTENTIAL_LOYALISTS: N_("Recent customers with average frequency. Stay close."),
    RfmSegment.NEW_CUSTOMERS: N_("Bought for the first time recently. Help them get started."),
    RfmSegment.PROMISING: N_("Recent, but have not spent much yet. Find out what they need."),
    RfmSegment.NEED_ATTENTION: N_("Average on every score. A personal word keeps them."),
    RfmSegment.ABOUT_TO_SLEEP: N_("Below average and fading. Remind them why they came."),
    RfmSegment.AT_RISK: N_("Bought often, but long ago. Reach out before they leave."),
    RfmSegment.CANNOT_LOSE: N_("Spent the most, but have not been back. Call them."),
    RfmSegment.HIBERNATING: N_("Long ago, rarely, little. Ask what went wrong."),
    RfmSegment.LOST: N_("Lowest on every score. Let them go unless they come back."),
}


def segment_for(recency: int, frequency: int, monetary: int) -> RfmSegment:
    """The named segment of a score triple (each 1..5)."""
    r, fm = recency, round((frequency + monetary) / 2 + 1e-9)  # halves round up
    if r <= 2:
        if fm == 5:
            return RfmSegment.CANNOT_LOSE
        if fm >= 3:
            return RfmSegment.AT_RISK
        if r == 1 and fm == 1:
            return RfmSegment.LOST
        return RfmSegment.HIBERNATING
    if r == 3:
        if fm <= 2:
            return RfmSegment.ABOUT_TO_SLEEP
        if fm == 3:
            return RfmSegment.NEED_ATTENTION
        return RfmSegment.LOYAL
    # r is 4 or 5
    if fm >= 4:
        return RfmSegment.CHAMPIONS if r == 5 else RfmSegment.LOYAL
    if fm >= 2:
        return RfmSegment.POTENTIAL_LOYALISTS
    return RfmSegment.NEW_CUSTOMERS if r == 5 else RfmSegment.PROMISING


def quintiles(values: list[float]) -> list[int]:
    """Scores 1..5 by rank (higher value, higher score); equal values share the lowest one."""
    n = len(values)
    if not n:
        return []
    ordered = sorted(values)
    return [1 + (bisect_left(ordered, v) * SCORES) // n for v in values]


@dataclass
class RfmReport:
    as_of: datetime
    customers: int = 0
    changed: int = 0
    cleared: int = 0  # persons that lost their scores (no purchase up to as_of any more)
    segments: Counter[str] = field(default_factory=Counter)


def _customer_figures(
    session: Session, workspace_id: uuid.UUID, as_of: datetime
) -> list[tuple[uuid.UUID, datetime, int, int]]:
    """(person, last purchase, purchases, net spend) of every live person who bought."""
    purchase = Order.is_cancellation.is_(False)
    rows = session.execute(
        select(
            Identity.person_id,
            func.max(case((purchase, Order.placed_at))),
            func.count(case((purchase, 1))),
            func.coalesce(func.sum(Order.total), 0),
        )
        .join(
            Order,
            (Order.workspace_id == Identity.workspace_id) & (Order.identity_id == Identity.id),
        )
        .join(
            Person,
            (Person.workspace_id == Identity.workspace_id) & (Person.id == Identity.person_id),
        )
        .where(
            Identity.workspace_id == workspace_id,
            Order.placed_at <= as_of,
            Person.merged_into_id.is_(None),
            Person.erased_at.is_(None),
        )
        .group_by(Identity.person_id)
    )
    out = []
    for person_id, last, count, spend in rows:
        if count and last is not None:
            out.append((person_id, as_utc(last), int(count), int(spend)))
    return out


def compute(
    session: Session, *, workspace_id: uuid.UUID, as_of: datetime | None = None
) -> RfmReport:
    """Score every customer of the workspace and store scores and segment on the persons.

    Only rows whose scores change are written, and ``updated_at`` is left as it was: a
    nightly rescore is not "activity" for the profile refresh.
    """
    as_of = as_utc(as_of) if as_of is not None else utcnow()
    report = RfmReport(as_of=as_of)
    figures = _customer_figures(session, workspace_id, as_of)
    report.customers = len(figures)
    # Recency: fewer days since the last purchase is better, so score the negated age.
    r = quintiles([-(as_of - last).total_seconds() for _, last, _, _ in figures])
    f = quintiles([float(count) for _, _, count, _ in figures])
    m = quintiles([float(spend) for _, _, _, spend in figures])
    wanted: dict[uuid.UUID, tuple[int | None, int | None, int | None, str | None]] = {}
    for i, (person_id, _, _, _) in enumerate(figures):
        segment = segment_for(r[i], f[i], m[i])
        wanted[person_id] = (r[i], f[i], m[i], segment.value)
        report.segments[segment.value] += 1
    current = session.execute(
        select(
            Person.id,
            Person.rfm_recency,
            Person.rfm_frequency,
            Person.rfm_monetary,
            Person.rfm_segment,
            Person.updated_at,
        ).where(
            Person.workspace_id == workspace_id,
            Person.merged_into_id.is_(None),
            Person.erased_at.is_(None),
        )
    )
    rows: list[dict[str, Any]] = []
    for person_id, rec, freq, mon, seg, updated_at in current:
        scores = wanted.get(person_id, (None, None, None, None))
        if (rec, freq, mon, seg) == scores:
            continue
        if scores[0] is None:
            report.cleared += 1
        rows.append(
            {
                "workspace_id": workspace_id,
                "id": person_id,
                "rfm_recency": scores[0],
                "rfm_frequency": scores[1],
                "rfm_monetary": scores[2],
                "rfm_segment": scores[3],
                "updated_at": updated_at,  # explicit, so onupdate does not bump it
            }
        )
    report.changed = len(rows)
    for start in range(0, len(rows), CHUNK):
        session.execute(update(Person), rows[start : start + CHUNK])
    session.expire_all()
    return report


def summary(session: Session, *, workspace_id: uuid.UUID) -> dict[str, int]:
    """How many live persons are in each segment now (segments with nobody included, as 0)."""
    rows = session.execute(
        select(Person.rfm_segment, func.count())
        .where(
            Person.workspace_id == workspace_id,
            Person.merged_into_id.is_(None),
            Person.erased_at.is_(None),
            Person.rfm_segment.is_not(None),
        )
        .group_by(Person.rfm_segment)
    )
    counts = {segment.value: 0 for segment in RfmSegment}
    for segment, count in rows:
        counts[str(segment)] = int(count)
    return counts


def grid(session: Session, *, workspace_id: uuid.UUID) -> dict[tuple[int, int], int]:
    """Persons by (recency score, frequency score): the heat map of the segments page."""
    rows = session.execute(
        select(Person.rfm_recency, Person.rfm_frequency, func.count())
        .where(
            Person.workspace_id == workspace_id,
            Person.merged_into_id.is_(None),
            Person.erased_at.is_(None),
            Person.rfm_recency.is_not(None),
        )
        .group_by(Person.rfm_recency, Person.rfm_frequency)
    )
    return {(int(r or 0), int(f or 0)): int(n) for r, f, n in rows}
