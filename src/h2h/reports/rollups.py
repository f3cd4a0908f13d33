"""Keep the hourly rollups in step with the raw rows, and read them back.

``refresh`` runs every ten minutes: it finds the hours touched since its last run (messages
received, analyses made or corrected, subjects matched) and recounts exactly those hours
from the raw rows, deleting what was there. Recounting rather than adding makes it
idempotent: a crash, a rerun or an overlapping window changes nothing. The window reaches
back ``OVERLAP`` before the last run, so a row committed late by a slow transaction is
still seen. What it cannot see are deletions (an erasure, a deleted subject): ``rebuild``,
nightly, recounts everything.

``counts`` is how the dashboard reads: rollups for the hours before ``rolled_until``, raw
rows for the rest, so the newest numbers are always there even between two runs. A
workspace never rolled up (a fresh install) is read from the raw rows alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from h2h.channels.models import Message
from h2h.db import utc_hour, utcnow
from h2h.jobs import each_workspace, job
from h2h.nlp.models import Analysis, AnalysisAspect, Correction
from h2h.reports.models import AspectHour, MentionHour, MessageHour, ReportState
from h2h.subjects.models import Mention

OVERLAP = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
# Recounting touched hours in runs of at most this many hours keeps each statement small.
CHUNK_HOURS = 24 * 7


def hour_of(moment: datetime) -> int:
    return int((moment - EPOCH) // HOUR)


def start_of(hour: int) -> datetime:
    return EPOCH + hour * HOUR


@dataclass(frozen=True)
class Table:
    """One rollup: its model, its key columns and how to count them from raw rows."""

    model: type[MessageHour] | type[MentionHour] | type[AspectHour]
    keys: tuple[str, ...]

    def raw(self, session: Session, workspace_id: uuid.UUID, lo: int, hi: int) -> Select[Any]:
        """SELECT hour, *keys, count for the hours [lo, hi) counted from the raw rows."""
        hour = utc_hour(session, Message.created_at).label("hour")
        sentiment = func.coalesce(type_coerce(Analysis.sentiment, String(10)), "").label(
            "sentiment"
        )
        query: Select[Any]
        public = Message.url.is_not(None).label("public")
        if self.model is MessageHour:
            query = select(hour, Message.channel_id, sentiment, public, func.count())
        elif self.model is MentionHour:
            query = select(
                hour, Mention.subject_id, Message.channel_id, sentiment, public, func.count()
            )
            query = query.join(
                Mention,
                and_(Mention.workspace_id == workspace_id, Mention.message_id == Message.id),
            )
        else:
            query = select(hour, AnalysisAspect.aspect, AnalysisAspect.sentiment, func.count())
            query = query.join(
                AnalysisAspect,
                and_(
                    AnalysisAspect.workspace_id == workspace_id,
                    AnalysisAspect.message_id == Message.id,
                ),
            )
        if self.model is not AspectHour:
            query = query.outerjoin(
                Analysis,
                and_(Analysis.workspace_id == workspace_id, Analysis.message_id == Message.id),
            )
        query = query.where(*counted(workspace_id), *between(start_of(lo), start_of(hi)))
        return query.group_by(*query.selected_columns[:-1])


def counted(workspace_id: uuid.UUID) -> tuple[Any, ...]:
    """What the dashboard counts: what customers said, each thing once."""
    return (
        Message.workspace_id == workspace_id,
        Message.direction == "in",
        Message.duplicate_of_id.is_(None),
    )


def between(since: datetime, until: datetime) -> tuple[Any, ...]:
    return (Message.created_at >= since, Message.created_at < until)


MESSAGES = Table(MessageHour, ("channel_id", "sentiment", "public"))
MENTIONS = Table(MentionHour, ("subject_id", "channel_id", "sentiment", "public"))
ASPECTS = Table(AspectHour, ("aspect", "sentiment"))
TABLES = (MESSAGES, MENTIONS, ASPECTS)


def _runs(hours: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Sorted hours as half-open runs [lo, hi) of consecutive hours, at most CHUNK_HOURS."""
    lo = hi = None
    for hour in sorted(set(hours)):
        if lo is not None and hi is not None and hour == hi and hi - lo < CHUNK_HOURS:
            hi += 1
            continue
        if lo is not None and hi is not None:
            yield lo, hi
        lo, hi = hour, hour + 1
    if lo is not None and hi is not None:
        yield lo, hi


def recount(session: Session, *, workspace_id: uuid.UUID, lo: int, hi: int) -> None:
    """Replace every rollup row of the hours [lo, hi) by a fresh count of the raw rows."""
    for table in TABLES:
        model = table.model
        session.execute(
            delete(model).where(
                model.workspace_id == workspace_id, model.hour >= lo, model.hour < hi
            )
        )
        rows = [
            {"workspace_id": workspace_id, "hour": row[0], "messages": row[-1]}
            | dict(zip(table.keys, row[1:-1], strict=True))
            for row in session.execute(table.raw(session, workspace_id, lo, hi))
        ]
        if rows:
            session.execute(insert(model), rows)


def _touched(session: Session, workspace_id: uuid.UUID, since: datetime) -> set[int]:
    """Hours of the messages whose counted facts may have changed since ``since``."""
    hour = utc_hour(session, Message.created_at)
    base = select(hour).distinct().where(Message.workspace_id == workspace_id)
    changed = [
        base.where(Message.received_at >= since),
        base.join(
            Analysis, and_(Analysis.workspace_id == workspace_id, Analysis.message_id == Message.id)
        ).where(Analysis.analyzed_at >= since),
        base.join(
            Correction,
            and_(Correction.workspace_id == workspace_id, Correction.message_id == Message.id),
        ).where(Correction.created_at >= since),
        base.join(
            Mention, and_(Mention.workspace_id == workspace_id, Mention.message_id == Message.id)
        ).where(Mention.created_at >= since),
    ]
    return {int(h) for query in changed for h in session.scalars(query)}


def state_of(session: Session, *, workspace_id: uuid.UUID) -> ReportState | None:
    return session.get(ReportState, workspace_id)


def refresh(session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None) -> int:
    """Recount the hours touched since the last run; the number of hours recounted.

    The first run of a workspace is a rebuild.
    """
    now = now or utcnow()
    state = state_of(session, workspace_id=workspace_id)
    if state is None:
        return rebuild(session, workspace_id=workspace_id, now=now)
    hours = _touched(session, workspace_id, state.refreshed_at - OVERLAP)
    for lo, hi in _runs(hours):
        recount(session, workspace_id=workspace_id, lo=lo, hi=hi)
    state.rolled_until = state.refreshed_at = now
    session.flush()
    return len(hours)


def rebuild(session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None) -> int:
    """Recount every hour that has messages; the number of hours with messages."""
    now = now or utcnow()
    bounds = session.execute(
        select(func.min(Message.created_at), func.max(Message.created_at)).where(
            Message.workspace_id == workspace_id
        )
    ).one()
    for table in TABLES:
        session.execute(delete(table.model).where(table.model.workspace_id == workspace_id))
    hours = 0
    if bounds[0] is not None:
        first, last = hour_of(bounds[0]), hour_of(bounds[1]) + 1
        for lo in range(first, last, CHUNK_HOURS):
            recount(session, workspace_id=workspace_id, lo=lo, hi=min(lo + CHUNK_HOURS, last))
        hours = (
            session.scalar(
                select(func.count(func.distinct(MessageHour.hour))).where(
                    MessageHour.workspace_id == workspace_id
                )
            )
            or 0
        )
    state = state_of(session, workspace_id=workspace_id)
    if state is None:
        state = ReportState(workspace_id=workspace_id, figures={})
        session.add(state)
    state.rolled_until = state.refreshed_at = now
    state.rebuilt_at = now
    session.flush()
    return hours


def counts(
    session: Session,
    table: Table,
    *,
    workspace_id: uuid.UUID,
    since: datetime,
    until: datetime,
    equal: dict[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows (hour, *keys, count) for the hours of [since, until): rolled-up hours first,
    then the raw rest. ``equal`` filters on key columns, e.g. ``{"subject_id": s}``.

    Hours are UTC hours: a day of a time zone with a half-hour offset is counted from the
    UTC hour its start falls in.
    """
    lo, hi = hour_of(since), -(-(until - EPOCH) // HOUR)
    state = state_of(session, workspace_id=workspace_id)
    rolled = min(hour_of(state.rolled_until), hi) if state is not None else lo
    rows: list[tuple[Any, ...]] = []
    if rolled > lo:
        model = table.model
        query = select(model.hour, *[getattr(model, k) for k in table.keys], model.messages)
        query = query.where(model.workspace_id == workspace_id, model.hour >= lo)
        query = query.where(model.hour < rolled)
        query = query.where(*[getattr(model, k) == v for k, v in (equal or {}).items()])
        rows.extend(tuple(row) for row in session.execute(query))
    if max(rolled, lo) < hi:
        raw = table.raw(session, workspace_id, max(rolled, lo), hi).subquery()
        query = select(*raw.c).where(*[raw.c[k] == v for k, v in (equal or {}).items()])
        rows.extend(tuple(row) for row in session.execute(query))
    return rows


def count_figures(
    session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None
) -> dict[str, Any]:
    """Count advocates and detractors at risk into the state (seconds for 5,000 people, so
    the nightly job does it, not every page load)."""
    from h2h.advocacy import service as advocacy

    now = now or utcnow()
    found = advocacy.boards(session, workspace_id=workspace_id, now=now, limit=advocacy.CAP)
    figures = {
        "advocates": len(found.advocates),
        "at_risk": len(found.at_risk),
        "people": found.people,
        "capped": found.capped,
        "at": now.isoformat(),
    }
    if state_of(session, workspace_id=workspace_id) is None:
        rebuild(session, workspace_id=workspace_id, now=now)
    state = session.get_one(ReportState, workspace_id)
    state.figures = figures
    session.flush()
    return figures


def _nightly(session: Session, workspace_id: uuid.UUID) -> int:
    hours = rebuild(session, workspace_id=workspace_id)
    count_figures(session, workspace_id=workspace_id)
    return hours


@job("reports.refresh")
def refresh_all(session: Session) -> int:
    """Bring every workspace's rollups up to date (every ten minutes)."""
    return each_workspace(session, "report rollups", lambda s, w: refresh(s, workspace_id=w))


@job("reports.rebuild")
def rebuild_all(session: Session) -> int:
    """Recount every workspace's rollups from scratch, which catches deletions, and count
    advocates (nightly)."""
    return each_workspace(session, "report rebuilds", _nightly)
