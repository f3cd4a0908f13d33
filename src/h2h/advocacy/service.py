"""Advocacy from the database: each person's activities and voice, read in a few grouped
queries and handed to the pure models in ``engagement`` and ``influence``.

Read-only. Every query covers all the persons looked at (one statement per source, never
one per person), so the page costs the same ten statements for ten people or for five
thousand. Only the ``CAP`` (5,000) persons seen most recently — by the newest ``last_seen_at``
of their identities, which messages, orders and events all move — are looked at: a
workspace of 50,000 people would otherwise read a year of everything on each page load, and
the people who matter for the two lists were seen lately anyway. ``Boards.capped`` says when
the cap was reached. Merged and erased persons are left out.

Where each signal comes from (docs/advocacy.md has the table):

- inbound messages of their identities: the first message of an inbox conversation →
  ``conversation_started``, their other messages in conversations → ``reply``, messages in
  no conversation (public mentions, listening-only channels, history older than the inbox's
  threading horizon) → ``mention``; a survey answer stored as a message is counted once, as
  the answer;
- survey answers → ``survey_answer``; orders (not cancellations) → ``purchase``; events whose
  name is one of ``EVENT_KINDS`` (``app.like``, ``share``, ``unsubscribe`` …) → that kind,
  with ``properties.campaign``;
- the voice: followers are the most known on their identities and messages; posts are their
  public messages (with a public link, or in no conversation); replies received are inbound
  messages of others answering one of them (``parent_id``); reposts are not stored, so 0;
  relevant posts are posts that matched a subject; sentiment is per analysed message; NPS and
  CSAT are the latest answers in the window; open issues are their open or pending
  conversations plus the confirmed problems, not yet fixed, they complained in.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from h2h.advocacy import engagement as eng
from h2h.advocacy import influence as inf
from h2h.advocacy import settings as tuning
from h2h.advocacy.engagement import Activity, ActivityKind, Engagement, Level
from h2h.advocacy.influence import Board, Standing, Voice
from h2h.channels.connectors.base import Direction
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.errors import N_, InvalidInput
from h2h.feedback.models import Response, SurveyKind
from h2h.inbox.models import ACTIVE_STATES, Conversation, ConversationMessage
from h2h.nlp.models import Analysis, CorrectionField, Sentiment
from h2h.people import service as people
from h2h.people.models import Event, Identity, Order, Person
from h2h.problems.models import Problem, ProblemComplaint, ProblemState
from h2h.subjects.models import Mention

CAP = 5_000
# Event names and the activity each one is. The people domain takes only its standard names
# (``share``, ``subscribe`` …) or custom ones (``app.like``, ``custom.giveaway-entry``), so
# the prefixes are dropped, case is ignored and "-" reads as "_".
EVENT_KINDS = {
    **{
        kind.value: kind
        for kind in (
            ActivityKind.LIKE,
            ActivityKind.FOLLOW,
            ActivityKind.UNFOLLOW,
            ActivityKind.COMMENT,
            ActivityKind.SHARE,
            ActivityKind.REVIEW,
            ActivityKind.REFERRAL,
            ActivityKind.VOTE,
            ActivityKind.IDEA,
            ActivityKind.CAMPAIGN_ENTRY,
        )
    },
    "subscribe": ActivityKind.FOLLOW,
    "unsubscribe": ActivityKind.UNFOLLOW,
    "repost": ActivityKind.SHARE,
    "giveaway_entry": ActivityKind.CAMPAIGN_ENTRY,
    "contest_entry": ActivityKind.CAMPAIGN_ENTRY,
}
EVENT_PREFIXES = ("", "app.", "custom.")
EVENT_NAMES = sorted(
    prefix + variant
    for name in EVENT_KINDS
    for variant in {name, name.replace("_", "-")}
    for prefix in EVENT_PREFIXES
)
# Problems someone is working on, or should be. Candidates are left out: clustering makes one
# for a single complaint before anyone looked, and the complaint's conversation counts already.
OPEN_PROBLEMS = (ProblemState.CONFIRMED, ProblemState.FIXING, ProblemState.REOPENED)
MAX_CAMPAIGN = 200
MAX_PERIODS = 24
MAX_PERIOD_DAYS = 366

Scope = Select[Any] | list[uuid.UUID]
# (channel id, external id) of a message → (person id, identity id) of its author
Authors = dict[tuple[uuid.UUID, str | None], tuple[uuid.UUID, uuid.UUID | None]]


@dataclass
class _Facts:
    """What the queries found about one person, before the models read it."""

    activities: list[Activity] = field(default_factory=list)
    followers: int | None = None
    posts: int = 0
    relevant_posts: int = 0
    replies_received: int = 0
    sentiment: list[tuple[datetime, float]] = field(default_factory=list)
    answers: dict[SurveyKind, tuple[datetime, int]] = field(default_factory=dict)
    open_issues: int = 0

    def saw_followers(self, value: int | None) -> None:
        if value is not None and value >= 0:
            self.followers = value if self.followers is None else max(self.followers, value)


@dataclass(frozen=True)
class Boards:
    advocates: list[tuple[Person, Standing]]
    at_risk: list[tuple[Person, Standing]]
    shares: dict[Level, float]  # every level, deepest first
    counts: dict[Level, int]
    promotion_driven: int
    people: int  # persons assessed: those with anything in the window
    capped: bool  # the CAP was reached: only the most recently seen were looked at


@dataclass(frozen=True)
class PersonStanding:
    person: Person
    engagement: Engagement
    voice: Voice
    standing: Standing


@dataclass(frozen=True)
class Period:
    """The levels as of one date: only what people did before it counts."""

    at: datetime
    counts: dict[Level, int]  # every level, deepest first
    shares: dict[Level, float]
    people: int  # persons with anything in the window as of ``at``


@dataclass(frozen=True)
class Movement:
    """The share of each level at the end of each period, and who moved in the last one."""

    periods: list[Period]  # oldest first; the last one is ``now``
    transitions: dict[tuple[Level, Level], int]  # from ``periods[-2]`` to now, staying put too
    moves: list[tuple[Level, Level, int]]  # the changes of level, biggest first
    period_days: int
    capped: bool


def engagement_of(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    now: datetime | None = None,
    settings: eng.EngagementSettings | None = None,
) -> dict[uuid.UUID, Engagement]:
    """The engagement of every recently seen person with anything in the window."""
    now = now or utcnow()
    settings = settings or tuning.get(session, workspace_id=workspace_id).engagement
    facts = _gather(session, workspace_id, _recent(workspace_id), now, _since(now, settings))
    return {pid: eng.assess(f.activities, now=now, settings=settings) for pid, f in facts.items()}


def boards(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    now: datetime | None = None,
    limit: int = 50,
    settings: eng.EngagementSettings | None = None,
    influence: inf.InfluenceSettings | None = None,
) -> Boards:
    """The Advocates and Detractors-at-risk lists and the share of each engagement level
    (with the workspace's settings unless others are given)."""
    now = now or utcnow()
    settings, influence = _settings(session, workspace_id, settings, influence)
    chosen = _recent(workspace_id)
    capped = len(session.scalars(chosen).all()) >= CAP
    facts = _gather(session, workspace_id, chosen, now, _since(now, settings, influence))
    levels: dict[uuid.UUID, Engagement] = {}
    voices: list[tuple[uuid.UUID, Voice]] = []
    for pid, found in facts.items():
        levels[pid] = eng.assess(found.activities, now=now, settings=settings)
        voices.append((pid, _voice(found, levels[pid].level)))
    ranked = {
        board: inf.rank(voices, now=now, kind=board, limit=limit, settings=influence)
        for board in (Board.ADVOCATES, Board.AT_RISK)
    }
    wanted = [pid for rows in ranked.values() for pid, _ in rows]
    persons = _persons(session, workspace_id, wanted)
    counts = {level: 0 for level in eng.LEVELS}
    for result in levels.values():
        counts[result.level] += 1
    return Boards(
        advocates=[(persons[pid], s) for pid, s in ranked[Board.ADVOCATES] if pid in persons],
        at_risk=[(persons[pid], s) for pid, s in ranked[Board.AT_RISK] if pid in persons],
        shares=eng.shares(result.level for result in levels.values()),
        counts=counts,
        promotion_driven=sum(1 for result in levels.values() if result.promotion_driven),
        people=len(levels),
        capped=capped,
    )


def person_standing(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: Any,
    now: datetime | None = None,
    settings: eng.EngagementSettings | None = None,
    influence: inf.InfluenceSettings | None = None,
) -> PersonStanding:
    """One person's engagement, voice and standing (a merged person's: the one they live on in)."""
    now = now or utcnow()
    settings, influence = _settings(session, workspace_id, settings, influence)
    person = people.get_person(session, workspace_id=workspace_id, person_id=person_id)
    person = people.current_person(session, workspace_id=workspace_id, person=person)
    since = _since(now, settings, influence)
    found = _gather(session, workspace_id, [person.id], now, since).get(person.id, _Facts())
    result = eng.assess(found.activities, now=now, settings=settings)
    voice = _voice(found, result.level)
    standing = inf.assess_voice(voice, now=now, settings=influence)
    return PersonStanding(person, result, voice, standing)


def movement(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    now: datetime | None = None,
    periods: int = 6,
    period_days: int = 30,
    settings: eng.EngagementSettings | None = None,
) -> Movement:
    """Levels as of the end of each of the last ``periods`` periods of ``period_days``, and
    how people moved between levels from the end of the previous period to ``now``.

    The window before the oldest date is read once, with the same statements as the page,
    and each date is assessed in Python on the activities before it.
    """
    _check_range(periods, 2, MAX_PERIODS, field="periods")
    _check_range(period_days, 7, MAX_PERIOD_DAYS, field="period_days")
    now = now or utcnow()
    settings = settings or tuning.get(session, workspace_id=workspace_id).engagement
    dates = [now - timedelta(days=period_days * back) for back in range(periods - 1, -1, -1)]
    chosen = _recent(workspace_id)
    capped = len(session.scalars(chosen).all()) >= CAP
    facts, _ = _activities(session, workspace_id, chosen, now, _since(dates[0], settings))
    snapshots: list[dict[uuid.UUID, Level]] = [{} for _ in dates]
    for pid, found in facts.items():
        for snapshot, at in zip(snapshots, dates, strict=True):
            level = eng.assess(found.activities, now=at, settings=settings).level
            if level is not Level.NONE:  # nothing in the window then: not counted then
                snapshot[pid] = level
    moved = eng.transitions(snapshots[-2], snapshots[-1])
    order = {level: i for i, level in enumerate(eng.LEVELS)}
    moves = sorted(
        ((before, after, n) for (before, after), n in moved.items() if before is not after),
        key=lambda move: (-move[2], order[move[0]], order[move[1]]),
    )
    return Movement(
        periods=[_period(at, snapshot) for at, snapshot in zip(dates, snapshots, strict=True)],
        transitions=moved,
        moves=moves,
        period_days=period_days,
        capped=capped,
    )


def _period(at: datetime, levels: dict[uuid.UUID, Level]) -> Period:
    counts = {level: 0 for level in eng.LEVELS}
    for level in levels.values():
        counts[level] += 1
    return Period(at, counts, eng.shares(levels.values()), len(levels))


def _check_range(value: Any, low: int, high: int, *, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(N_("Expected a whole number."), field=field)
    if not low <= value <= high:
        raise InvalidInput(N_("Must be between {low} and {high}."), field=field, low=low, high=high)


def _settings(
    session: Session,
    workspace_id: uuid.UUID,
    settings: eng.EngagementSettings | None,
    influence: inf.InfluenceSettings | None,
) -> tuple[eng.EngagementSettings, inf.InfluenceSettings]:
    if settings is not None and influence is not None:
        return settings, influence
    stored = tuning.get(session, workspace_id=workspace_id)
    return settings or stored.engagement, influence or stored.influence


# --- the queries --------------------------------------------------------------------------


def _since(now: datetime, *settings: eng.EngagementSettings | inf.InfluenceSettings) -> datetime:
    return now - timedelta(days=max(s.window_days for s in settings))


def _recent(workspace_id: uuid.UUID) -> Select[Any]:
    """Ids of the ``CAP`` live persons whose identities were seen most recently."""
    return (
        select(Identity.person_id)
        .join(
            Person,
            (Person.workspace_id == Identity.workspace_id) & (Person.id == Identity.person_id),
        )
        .where(
            Identity.workspace_id == workspace_id,
            Person.merged_into_id.is_(None),
            Person.erased_at.is_(None),
        )
        .group_by(Identity.person_id)
        .order_by(func.max(Identity.last_seen_at).desc(), Identity.person_id)
        .limit(CAP)
    )


def _persons(
    session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Person]:
    if not ids:
        return {}
    rows = session.scalars(
        select(Person).where(Person.workspace_id == workspace_id, Person.id.in_(set(ids)))
    )
    return {person.id: person for person in rows}


def _joined(workspace_id: uuid.UUID, column: Any, scope: Scope) -> Any:
    """The join condition from a row's identity column to an identity of a person in scope."""
    return and_(
        Identity.workspace_id == workspace_id,
        Identity.id == column,
        Identity.person_id.in_(scope),
    )


def _gather(
    session: Session, workspace_id: uuid.UUID, scope: Scope, now: datetime, since: datetime
) -> dict[uuid.UUID, _Facts]:
    facts, authors = _activities(session, workspace_id, scope, now, since)
    _replies_received(session, workspace_id, now, since, facts, authors)
    _open_issues(session, workspace_id, scope, facts)
    for pid, followers in session.execute(
        select(Identity.person_id, func.max(Identity.followers))
        .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(scope))
        .group_by(Identity.person_id)
    ):
        if pid in facts:  # followers alone are no sign of anything in the window
            facts[pid].saw_followers(None if followers is None else int(followers))
    return dict(facts)


def _activities(
    session: Session, workspace_id: uuid.UUID, scope: Scope, now: datetime, since: datetime
) -> tuple[defaultdict[uuid.UUID, _Facts], Authors]:
    """What people did between ``since`` and ``now``: four statements, one per source."""
    facts: defaultdict[uuid.UUID, _Facts] = defaultdict(_Facts)
    answered = _responses(session, workspace_id, scope, now, since, facts)
    authors = _messages(session, workspace_id, scope, now, since, facts, answered)
    _orders(session, workspace_id, scope, now, since, facts)
    _events(session, workspace_id, scope, now, since, facts)
    return facts, authors


def _messages(
    session: Session,
    workspace_id: uuid.UUID,
    scope: Scope,
    now: datetime,
    since: datetime,
    facts: defaultdict[uuid.UUID, _Facts],
    answered: set[uuid.UUID],
) -> Authors:
    """Their inbound messages: activities, posts, relevance and sentiment; returns who wrote
    each of them, by (channel, external id), for the answers to find."""
    first = aliased(ConversationMessage)
    opener = (
        select(first.id)
        .where(
            first.workspace_id == ConversationMessage.workspace_id,
            first.conversation_id == ConversationMessage.conversation_id,
        )
        .order_by(first.created_at, first.id)
        .limit(1)
        .scalar_subquery()
    )
    about_us = exists().where(
        Mention.workspace_id == Message.workspace_id, Mention.message_id == Message.id
    )
    rows = session.execute(
        select(
            Identity.person_id,
            Message.identity_id,
            Message.channel_id,
            Message.external_id,
            Message.id,
            Message.created_at,
            Message.url,
            Message.author_followers,
            ConversationMessage.conversation_id,
            opener,
            about_us,
            Analysis.sentiment,
            Analysis.sentiment_score,
            Analysis.corrected,
        )
        .select_from(Message)
        .join(Identity, _joined(workspace_id, Message.identity_id, scope))
        .outerjoin(
            ConversationMessage,
            (ConversationMessage.workspace_id == Message.workspace_id)
            & (ConversationMessage.id == Message.id),
        )
        .outerjoin(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == Direction.INBOUND,
            Message.created_at > since,
            Message.created_at <= now,
        )
    )
    authors: Authors = {}
    for pid, identity_id, channel_id, external_id, mid, at, url, followers, *more in rows:
        conversation, opened_by, relevant, *analysis = more
        authors[channel_id, external_id] = (pid, identity_id)
        found = facts[pid]
        found.saw_followers(followers)
        if analysis[0] is not None:
            found.sentiment.append((at, _sentiment(*analysis)))
        public = url is not None or conversation is None
        if public:
            found.posts += 1
            found.relevant_posts += bool(relevant)
        if mid in answered:
            continue  # already counted as the survey answer it is
        if conversation is None:
            kind = ActivityKind.MENTION
        elif opened_by == mid:
            kind = ActivityKind.CONVERSATION_STARTED
        else:
            kind = ActivityKind.REPLY
        found.activities.append(Activity(kind, at))
    return authors


def _sentiment(label: Any, score: Any, corrected: Any) -> float:
    """−1…1 from the label and its calibrated probability. A human's correction is certain
    (the stored probability is still the model's, for the label it had chosen)."""
    sign = {Sentiment.POSITIVE: 1.0, Sentiment.NEGATIVE: -1.0}.get(Sentiment(label), 0.0)
    if CorrectionField.SENTIMENT.value in (corrected or []):
        return sign
    return sign * min(1.0, max(0.0, float(score or 0.0)))


def _responses(
    session: Session,
    workspace_id: uuid.UUID,
    scope: Scope,
    now: datetime,
    since: datetime,
    facts: defaultdict[uuid.UUID, _Facts],
) -> set[uuid.UUID]:
    """Survey answers; returns the ids of the messages that only repeat an answer."""
    # A merge moves the answers to the person merged into (``people.merging.MOVED``).
    rows = session.execute(
        select(
            Response.person_id,
            Response.kind,
            Response.score,
            Response.created_at,
            Response.message_id,
        ).where(
            Response.workspace_id == workspace_id,
            Response.person_id.in_(scope),
            Response.created_at > since,
            Response.created_at <= now,
        )
    )
    answered: set[uuid.UUID] = set()
    ranges = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}
    for pid, kind, score, at, message_id in rows:
        found = facts[pid]
        found.activities.append(Activity(ActivityKind.SURVEY_ANSWER, at))
        if message_id is not None:
            answered.add(message_id)
        low, high = ranges.get(SurveyKind(kind), (1, 0))
        if score is not None and low <= score <= high:
            latest = found.answers.get(SurveyKind(kind))
            if latest is None or at >= latest[0]:
                found.answers[SurveyKind(kind)] = (at, int(score))
    return answered


def _orders(
    session: Session,
    workspace_id: uuid.UUID,
    scope: Scope,
    now: datetime,
    since: datetime,
    facts: defaultdict[uuid.UUID, _Facts],
) -> None:
    rows = session.execute(
        select(Identity.person_id, Order.placed_at)
        .select_from(Order)
        .join(Identity, _joined(workspace_id, Order.identity_id, scope))
        .where(
            Order.workspace_id == workspace_id,
            Order.is_cancellation.is_(False),
            Order.placed_at > since,
            Order.placed_at <= now,
        )
    )
    for pid, at in rows:
        facts[pid].activities.append(Activity(ActivityKind.PURCHASE, at))


def _events(
    session: Session,
    workspace_id: uuid.UUID,
    scope: Scope,
    now: datetime,
    since: datetime,
    facts: defaultdict[uuid.UUID, _Facts],
) -> None:
    rows = session.execute(
        select(Identity.person_id, Event.name, Event.occurred_at, Event.properties)
        .select_from(Event)
        .join(Identity, _joined(workspace_id, Event.identity_id, scope))
        .where(
            Event.workspace_id == workspace_id,
            func.lower(Event.name).in_(EVENT_NAMES),
            Event.occurred_at > since,
            Event.occurred_at <= now,
        )
    )
    for pid, name, at, properties in rows:
        kind = event_kind(name)
        if kind is not None:
            facts[pid].activities.append(Activity(kind, at, _campaign(properties)))


def event_kind(name: str) -> ActivityKind | None:
    """The activity an event name stands for (``App.Like`` → like), or None."""
    plain = name.strip().lower()
    for prefix in EVENT_PREFIXES[1:]:
        plain = plain.removeprefix(prefix)
    return EVENT_KINDS.get(plain.replace("-", "_"))


def _campaign(properties: Any) -> str | None:
    value = properties.get("campaign") if isinstance(properties, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()[:MAX_CAMPAIGN] or None


def _replies_received(
    session: Session,
    workspace_id: uuid.UUID,
    now: datetime,
    since: datetime,
    facts: defaultdict[uuid.UUID, _Facts],
    authors: Authors,
) -> None:
    """Inbound messages of others that answer one of theirs: the echo of what they say.

    Answers are counted per answered message and matched here: ``parent_id`` has no index,
    and a join from their messages to the answers made SQLite compare every message with
    every other (minutes for 20,000); one pass over the window's answers costs milliseconds.
    """
    rows = session.execute(
        select(Message.channel_id, Message.parent_id, Message.identity_id, func.count())
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == Direction.INBOUND,
            Message.parent_id.is_not(None),
            Message.created_at > since,
            Message.created_at <= now,
        )
        .group_by(Message.channel_id, Message.parent_id, Message.identity_id)
    )
    for channel_id, parent_id, identity_id, count in rows:
        author = authors.get((channel_id, parent_id))
        if author is not None and identity_id != author[1]:
            facts[author[0]].replies_received += int(count)


def _open_issues(
    session: Session, workspace_id: uuid.UUID, scope: Scope, facts: defaultdict[uuid.UUID, _Facts]
) -> None:
    """Open or pending conversations, plus the confirmed, unfixed problems they complained in."""
    conversations = session.execute(
        select(Identity.person_id, func.count(Conversation.id))
        .select_from(Conversation)
        .join(Identity, _joined(workspace_id, Conversation.identity_id, scope))
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.state.in_(ACTIVE_STATES),
            Conversation.merged_into_id.is_(None),
        )
        .group_by(Identity.person_id)
    )
    problems = session.execute(
        select(Identity.person_id, func.count(func.distinct(ProblemComplaint.problem_id)))
        .select_from(ProblemComplaint)
        .join(Identity, _joined(workspace_id, ProblemComplaint.identity_id, scope))
        .join(
            Problem,
            (Problem.workspace_id == ProblemComplaint.workspace_id)
            & (Problem.id == ProblemComplaint.problem_id),
        )
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            Problem.state.in_(OPEN_PROBLEMS),
        )
        .group_by(Identity.person_id)
    )
    for pid, count in [*conversations, *problems]:
        facts[pid].open_issues += int(count)


def _voice(found: _Facts, level: Level) -> Voice:
    nps, csat = found.answers.get(SurveyKind.NPS), found.answers.get(SurveyKind.CSAT)
    return Voice(
        followers=found.followers,
        posts=found.posts,
        reposts=0,  # not stored by any connector yet
        replies_received=found.replies_received,
        relevant_posts=found.relevant_posts,
        sentiment=tuple(found.sentiment),
        nps=None if nps is None else nps[1],
        csat=None if csat is None else csat[1],
        open_issues=found.open_issues,
        engagement=level,
    )
