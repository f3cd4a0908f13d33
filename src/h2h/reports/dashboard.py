"""The numbers of the dashboard: one function per panel, each for a period and the one before.

A period is a run of whole days in the workspace's time zone. Counts of messages come from
the hourly rollups (``rollups.counts``), so a workspace with a million messages loads in
well under a second; conversations, problems and survey answers are few enough per period
to read raw. Every count here can be checked against the raw rows: the tests do.

What is counted: inbound messages that are not duplicates (what customers said, each thing
once), by the day they were written.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels.models import Channel
from h2h.feedback import scores as feedback_scores
from h2h.feedback.models import SurveyKind
from h2h.inbox import report as inbox_report
from h2h.inbox import service as inbox
from h2h.problems import service as problems_service
from h2h.problems import spikes as spike_tests
from h2h.problems.models import Problem, ProblemComplaint, ProblemState
from h2h.reports import rollups
from h2h.reports.rollups import ASPECTS, MENTIONS, MESSAGES, start_of
from h2h.subjects.models import Subject, SubjectKind

SENTIMENTS = ("negative", "neutral", "positive", "")  # "" = not analysed yet
MAX_DAYS = 366
# Days of history before a period that spike detection needs (spikes.SEASON_DAYS).
SPIKE_HISTORY = spike_tests.SEASON_DAYS
MIN_ASPECT_MENTIONS = 5
TOP = 5
# Below this share of what customers say, the public part is called a small slice.
SMALL_PUBLIC_SHARE = 0.5


@dataclass(frozen=True)
class Period:
    """Whole local days ``first``…``last`` (inclusive) in ``zone``."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        return _start(self.first, self.zone)

    @property
    def until(self) -> datetime:
        return _start(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def previous(self) -> Period:
        length = (self.last - self.first).days + 1
        return Period(
            self.first - timedelta(days=length), self.first - timedelta(days=1), self.zone
        )


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def period(zone: ZoneInfo, first: date, last: date) -> Period:
    """The period, with ``first``/``last`` swapped when reversed and at most a year long."""
    if last < first:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
    return Period(first, last, zone)


def last_days(zone: ZoneInfo, days: int, *, today: date | None = None) -> Period:
    today = today or datetime.now(zone).date()
    return period(zone, today - timedelta(days=days - 1), today)


@functools.lru_cache(maxsize=1 << 16)
def local_day(hour: int, zone: ZoneInfo) -> date:
    """The local day of a UTC hour (cached: a dashboard asks for the same hours many times)."""
    return start_of(hour).astimezone(zone).date()


def change(now: float | None, before: float | None) -> float | None:
    """Relative change now vs before (0.25 = +25 %); None when there is nothing to compare."""
    if now is None or not before:
        return None
    return (now - before) / before


# --- volume and sentiment ---------------------------------------------------------------------


@dataclass
class Volume:
    days: list[date]
    # (day, channel id, sentiment) → messages, for the days of the period
    cells: dict[tuple[date, uuid.UUID, str], int]
    total: int
    previous_total: int
    by_sentiment: dict[str, int]
    previous_by_sentiment: dict[str, int]
    by_channel: dict[uuid.UUID, int]
    public: int  # messages with a public link
    spikes: list[spike_tests.Spike]

    def per_day(self) -> list[int]:
        totals: Counter[date] = Counter()
        for (day, _, _), n in self.cells.items():
            totals[day] += n
        return [totals[d] for d in self.days]

    def negative_share(self, previous: bool = False) -> float | None:
        counts = self.previous_by_sentiment if previous else self.by_sentiment
        analysed = sum(counts.get(s, 0) for s in SENTIMENTS if s)
        return counts.get("negative", 0) / analysed if analysed else None


def volume(
    session: Session, *, workspace_id: uuid.UUID, span: Period, subject_id: uuid.UUID | None = None
) -> Volume:
    """Messages per day, channel and sentiment, with the previous period and spikes marked."""
    history = span.first - timedelta(days=max(SPIKE_HISTORY, len(span.days)))
    table, equal = (MENTIONS, {"subject_id": subject_id}) if subject_id else (MESSAGES, None)
    rows = rollups.counts(
        session,
        table,
        workspace_id=workspace_id,
        since=_start(history, span.zone),
        until=span.until,
        equal=equal,
    )
    cells: Counter[tuple[date, uuid.UUID, str]] = Counter()
    daily: Counter[date] = Counter()
    previous: Counter[str] = Counter()
    public = 0
    before = span.previous
    for row in rows:
        day, n = local_day(row[0], span.zone), row[-1]
        channel_id, sentiment, is_public = row[-4:-1]
        daily[day] += n
        if span.first <= day <= span.last:
            cells[(day, channel_id, sentiment)] += n
            public += n if is_public else 0
        elif before.first <= day <= before.last:
            previous[sentiment] += n
    by_sentiment: Counter[str] = Counter()
    by_channel: Counter[uuid.UUID] = Counter()
    for (_, channel_id, sentiment), n in cells.items():
        by_sentiment[sentiment] += n
        by_channel[channel_id] += n
    history_days = [history + timedelta(days=i) for i in range((span.last - history).days + 1)]
    found = spike_tests.volume_spikes(history_days, [daily[d] for d in history_days])
    return Volume(
        days=span.days,
        cells=dict(cells),
        total=sum(by_sentiment.values()),
        previous_total=sum(previous.values()),
        by_sentiment=dict(by_sentiment),
        previous_by_sentiment=dict(previous),
        by_channel=dict(by_channel.most_common()),
        public=public,
        spikes=[s for s in found if s.day >= span.first],
    )


# --- share of voice ---------------------------------------------------------------------------


@dataclass
class Voice:
    subject: Subject
    messages: int
    previous: int
    by_sentiment: dict[str, int]
    share: float  # of all brand and competitor mentions in the period

    def sentiment_share(self, sentiment: str) -> float | None:
        analysed = sum(n for s, n in self.by_sentiment.items() if s)
        return self.by_sentiment.get(sentiment, 0) / analysed if analysed else None


def share_of_voice(session: Session, *, workspace_id: uuid.UUID, span: Period) -> list[Voice]:
    """Our brands and persons against competitors: mentions, share and sentiment."""
    listened = list(
        session.scalars(
            select(Subject).where(
                Subject.workspace_id == workspace_id,
                Subject.kind.in_([SubjectKind.BRAND, SubjectKind.PERSON, SubjectKind.COMPETITOR]),
            )
        )
    )
    if not listened:
        return []
    rows = rollups.counts(
        session, MENTIONS, workspace_id=workspace_id, since=span.previous.since, until=span.until
    )
    now: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    before: Counter[uuid.UUID] = Counter()
    for hour, subject_id, _channel, sentiment, _public, n in rows:
        if local_day(hour, span.zone) >= span.first:
            now[subject_id][sentiment] += n
        else:
            before[subject_id] += n
    total = sum(sum(now[s.id].values()) for s in listened)
    voices = [
        Voice(
            subject=s,
            messages=sum(now[s.id].values()),
            previous=before[s.id],
            by_sentiment=dict(now[s.id]),
            share=sum(now[s.id].values()) / total if total else 0.0,
        )
        for s in listened
    ]
    return sorted(voices, key=lambda v: (-v.messages, v.subject.name))


# --- response ---------------------------------------------------------------------------------


@dataclass
class Response:
    now: inbox_report.ResponseReport
    before: inbox_report.ResponseReport
    reasons: dict[str, str]  # key → label (an English msgid for the default reasons)

    def share(self, count: int) -> float | None:
        return count / self.now.conversations if self.now.conversations else None


def response(session: Session, *, workspace_id: uuid.UUID, span: Period) -> Response:
    """How the conversations opened in the period were decided: answered by a named person,
    consciously not answered (by reason), or not decided yet."""
    return Response(
        now=inbox_report.response_report(
            session, workspace_id=workspace_id, since=span.since, until=span.until
        ),
        before=inbox_report.response_report(
            session, workspace_id=workspace_id, since=span.previous.since, until=span.previous.until
        ),
        reasons=dict(inbox.reasons(session, workspace_id=workspace_id)),
    )


# --- problems and aspects ---------------------------------------------------------------------


@dataclass
class ProblemRow:
    problem: Problem
    title: str
    complaints: int
    previous: int

    @property
    def trend(self) -> float | None:
        return change(self.complaints, self.previous)


def top_problems(
    session: Session, *, workspace_id: uuid.UUID, span: Period, limit: int = TOP
) -> list[ProblemRow]:
    """The problems with the most complaints in the period, with the period before."""
    rows = session.execute(
        select(
            ProblemComplaint.problem_id,
            (ProblemComplaint.complained_at >= span.since).label("now"),
            func.count(),
        )
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            ProblemComplaint.complained_at >= span.previous.since,
            ProblemComplaint.complained_at < span.until,
        )
        .group_by(ProblemComplaint.problem_id, "now")
    ).all()
    now: Counter[uuid.UUID] = Counter()
    before: Counter[uuid.UUID] = Counter()
    for problem_id, is_now, n in rows:
        (now if is_now else before)[problem_id] += n
    if not now:
        return []
    found = session.scalars(
        select(Problem).where(
            Problem.workspace_id == workspace_id,
            Problem.id.in_(list(now)),
            Problem.state.not_in([ProblemState.DECLINED, ProblemState.MERGED]),
        )
    ).all()
    ranked = sorted(found, key=lambda p: (-now[p.id], -p.people_count, p.number))[:limit]
    return [ProblemRow(p, problems_service.title_of(p), now[p.id], before[p.id]) for p in ranked]


@dataclass
class AspectRow:
    aspect: str
    messages: int
    negative: int
    previous_share: float | None

    @property
    def negative_share(self) -> float:
        return self.negative / self.messages if self.messages else 0.0


def top_aspects(
    session: Session, *, workspace_id: uuid.UUID, span: Period, limit: int = TOP + 1
) -> list[AspectRow]:
    """Aspects by their share of negative mentions (those mentioned at least a few times)."""
    rows = rollups.counts(
        session, ASPECTS, workspace_id=workspace_id, since=span.previous.since, until=span.until
    )
    now: dict[str, Counter[str]] = defaultdict(Counter)
    before: dict[str, Counter[str]] = defaultdict(Counter)
    for hour, aspect, sentiment, n in rows:
        target = now if local_day(hour, span.zone) >= span.first else before
        target[aspect][sentiment] += n
    found = []
    for aspect, counts in now.items():
        total = sum(counts.values())
        if total < MIN_ASPECT_MENTIONS:
            continue
        earlier = sum(before[aspect].values())
        found.append(
            AspectRow(
                aspect,
                total,
                counts.get("negative", 0),
                before[aspect].get("negative", 0) / earlier if earlier else None,
            )
        )
    found.sort(key=lambda a: (-a.negative_share, -a.messages, a.aspect))
    return found[:limit]


# --- feedback and advocacy --------------------------------------------------------------------


@dataclass
class Feedback:
    scores: dict[str, feedback_scores.Score]  # kind → this period
    previous: dict[str, feedback_scores.Score]
    trend: dict[str, list[tuple[datetime, feedback_scores.Score]]]


def feedback(session: Session, *, workspace_id: uuid.UUID, span: Period) -> Feedback | None:
    """NPS and CSAT of the period (None when nobody answered either, ever)."""
    result = Feedback({}, {}, {})
    days = len(span.days)
    step = 1 if days <= 14 else 7 if days <= 120 else 30
    for kind in (SurveyKind.NPS, SurveyKind.CSAT):
        args: dict[str, Any] = {"workspace_id": workspace_id, "kind": kind}
        now = feedback_scores.summary(session, since=span.since, until=span.until, **args)
        before = feedback_scores.summary(
            session, since=span.previous.since, until=span.previous.until, **args
        )
        if not now.n and not before.n:
            continue
        result.scores[kind.value], result.previous[kind.value] = now, before
        result.trend[kind.value] = feedback_scores.trend(
            session, since=span.since, until=span.until, days=step, **args
        )
    return result if result.scores else None


def advocacy_figures(session: Session, *, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Advocates and detractors at risk as the nightly job counted them (``{}`` before)."""
    state = rollups.state_of(session, workspace_id=workspace_id)
    return dict(state.figures) if state is not None and state.figures else {}


# --- where customers talk ---------------------------------------------------------------------


@dataclass
class Place:
    channel: Channel
    messages: int
    share: float


@dataclass
class Places:
    channels: list[Place] = field(default_factory=list)
    public: int = 0
    private: int = 0
    offline: int = 0
    has_offline_channel: bool = False

    @property
    def total(self) -> int:
        return self.public + self.private + self.offline

    @property
    def public_share(self) -> float | None:
        return self.public / self.total if self.total else None

    @property
    def small_public_slice(self) -> bool:
        share = self.public_share
        return share is not None and share < SMALL_PUBLIC_SHARE


def places(session: Session, *, workspace_id: uuid.UUID, seen: Volume) -> Places:
    """The channel mix of the period: public posts, private messages, the offline log."""
    channels = {
        c.id: c
        for c in session.scalars(select(Channel).where(Channel.workspace_id == workspace_id))
    }
    result = Places(has_offline_channel=any(c.kind == "offline" for c in channels.values()))
    total = sum(seen.by_channel.values())
    for channel_id, n in seen.by_channel.items():
        channel = channels.get(channel_id)
        if channel is None:
            continue
        result.channels.append(Place(channel, n, n / total if total else 0.0))
        if channel.kind == "offline":
            result.offline += n
    result.public = seen.public
    result.private = max(0, total - result.public - result.offline)
    return result


# --- everything -------------------------------------------------------------------------------


@dataclass
class Dashboard:
    span: Period
    subject: Subject | None
    volume: Volume
    voices: list[Voice]
    response: Response
    problems: list[ProblemRow]
    aspects: list[AspectRow]
    feedback: Feedback | None
    advocacy: dict[str, Any]
    places: Places
    timings: dict[str, float] = field(default_factory=dict)  # panel → seconds


def build(
    session: Session, *, workspace_id: uuid.UUID, span: Period, subject: Subject | None = None
) -> Dashboard:
    """Every panel for the period; ``timings`` says what each took (for the benchmark)."""
    import time as clock

    timings: dict[str, float] = {}

    def timed(name: str, make: Any) -> Any:
        started = clock.perf_counter()
        value = make()
        timings[name] = clock.perf_counter() - started
        return value

    args: dict[str, Any] = {"workspace_id": workspace_id, "span": span}
    seen = timed(
        "volume", lambda: volume(session, subject_id=subject.id if subject else None, **args)
    )
    board = Dashboard(
        span=span,
        subject=subject,
        volume=seen,
        voices=timed("share_of_voice", lambda: share_of_voice(session, **args)),
        response=timed("response", lambda: response(session, **args)),
        problems=timed("problems", lambda: top_problems(session, **args)),
        aspects=timed("aspects", lambda: top_aspects(session, **args)),
        feedback=timed("feedback", lambda: feedback(session, **args)),
        advocacy=timed("advocacy", lambda: advocacy_figures(session, workspace_id=workspace_id)),
        places=timed("places", lambda: places(session, workspace_id=workspace_id, seen=seen)),
    )
    board.timings = timings
    return board
