"""How well each person served customers: the numbers behind employee advocacy.

Glen Urban's point: reward staff for how well they defended the customer's interests, not
for how much they did. So these rows say how fast and how thoughtfully someone answered,
what the customers thought of it, which problems they pushed to a fix and who thanked them
— and they are sorted by name, never by volume, so the report cannot be read as a league
table of who closed the most.

The period is [since, until). Conversations are those *opened* in it, merged ones left out,
exactly as ``report.response_report`` counts them, so the workspace row adds up to the
response report. Events with a time of their own count by that time: SLA breaches when they
happened, problems when they were fixed, thanks when they arrived.

Attribution (each thing goes to exactly one person, so team and workspace rows add up):

- **owned**: the conversation's owner — for a closed one the owner it was closed with.
- **answered**: the author of the conversation's *first* reply (sent or recorded from H2H).
  An answer typed in the channel's own app has no known author; it counts for the owner.
- **consciously not answered** (by reason): whoever closed it without an answer, else the
  owner. The decision is theirs, and a good one is as much service as a reply.
- **undecided**: the owner; an unassigned conversation counts only for the workspace.
- **first-response times** belong to whoever answered first, **resolution times** to the
  owner (else whoever resolved it): the customer's wait, split at who held it.
- **SLA breaches**: the owner when the clock ran out (``SlaBreach.owner_id``).
- **CSAT** (when the caller passes conversation → score 1–5): over *their conversations*,
  those they owned, answered first or closed without an answer — one score may count for
  two people (the owner and a colleague who answered), but only once for a team.
- **problems**: the problem's owner, for problems that reached fixed or verified with their
  fix in the period and still stand (a reopened fix did not hold, so it does not count).
- **thanks**: an inbound message of praise or thanks (the NLP ``praise`` intent, not negative
  in tone and not a complaint — "thanks for nothing" is both) goes to the author of the
  latest reply before it in its conversation. Thanks before any reply thank nobody in
  particular and are not counted; thanks after a reply typed in the channel's app count for
  the workspace only.

A row lists a person who owned, answered or decided a conversation, or has a breach, a fixed
problem or thanks in the period. Teams are passed in by the caller (there is no team table
yet); a team row merges its members' items, each counted once.

Who sees what (``visible_to``): admins and owners see every row; an agent sees their own
row, the teams they belong to and the workspace total, never a colleague's row.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User
from h2h.inbox.models import Conversation, ConversationMessage, Delivery, SlaBreach, State
from h2h.inbox.report import _percentiles
from h2h.nlp.models import INTENTS, Analysis, Sentiment
from h2h.problems.models import Problem, ProblemState

PRAISE = 1 << INTENTS.index("praise")
COMPLAINT = 1 << INTENTS.index("complaint")
SATISFIED = 4  # CSAT scores 4 and 5 are the satisfied share
FIXED_STATES = (ProblemState.FIXED, ProblemState.VERIFIED)


@dataclass(frozen=True)
class Csat:
    mean: float
    count: int
    satisfied_share: float  # scores 4–5 among the scored conversations


@dataclass(frozen=True)
class StaffRow:
    """One person, one team or the whole workspace; for a team, ``members`` are its people."""

    user_id: uuid.UUID | None
    name: str
    conversations: int = 0  # their conversations: owned, answered first or decided, once each
    owned: int = 0
    answered: int = 0
    not_answering: dict[str, int] = field(default_factory=dict)  # reason key → count
    undecided: int = 0
    first_response_minutes: dict[str, float] = field(default_factory=dict)  # p50, p90
    resolution_minutes: dict[str, float] = field(default_factory=dict)
    breaches: dict[str, int] = field(default_factory=dict)  # SLA target → count
    csat: Csat | None = None
    problems_fixed: int = 0  # fixed or verified in the period
    problems_verified: int = 0  # of those, verified
    thanks: int = 0
    members: tuple[uuid.UUID, ...] = ()

    @property
    def not_answered(self) -> int:
        return sum(self.not_answering.values())

    @property
    def decisions(self) -> int:
        """Conversations whose outcome is theirs: answered, not answered, or still open."""
        return self.answered + self.not_answered + self.undecided

    @property
    def answered_share(self) -> float | None:
        return round(self.answered / self.decisions, 3) if self.decisions else None

    @property
    def not_answered_share(self) -> float | None:
        return round(self.not_answered / self.decisions, 3) if self.decisions else None


@dataclass(frozen=True)
class StaffReport:
    since: datetime
    until: datetime
    agents: list[StaffRow]  # by name, never by volume
    teams: list[StaffRow]
    total: StaffRow

    def row_of(self, user_id: uuid.UUID) -> StaffRow | None:
        return next((row for row in self.agents if row.user_id == user_id), None)


@dataclass
class _Tally:
    """One person's items keyed by id, so that merging tallies never counts anything twice."""

    owned: set[uuid.UUID] = field(default_factory=set)
    involved: set[uuid.UUID] = field(default_factory=set)
    answered: set[uuid.UUID] = field(default_factory=set)
    not_answering: dict[uuid.UUID, str] = field(default_factory=dict)
    undecided: set[uuid.UUID] = field(default_factory=set)
    first_response: dict[uuid.UUID, float] = field(default_factory=dict)
    resolution: dict[uuid.UUID, float] = field(default_factory=dict)
    breaches: dict[uuid.UUID, str] = field(default_factory=dict)
    fixed: set[uuid.UUID] = field(default_factory=set)
    verified: set[uuid.UUID] = field(default_factory=set)
    thanks: set[uuid.UUID] = field(default_factory=set)

    def merge(self, other: _Tally) -> None:
        self.owned |= other.owned
        self.involved |= other.involved
        self.answered |= other.answered
        self.not_answering |= other.not_answering
        self.undecided |= other.undecided
        self.first_response |= other.first_response
        self.resolution |= other.resolution
        self.breaches |= other.breaches
        self.fixed |= other.fixed
        self.verified |= other.verified
        self.thanks |= other.thanks

    def active(self) -> bool:
        return bool(self.involved or self.breaches or self.fixed or self.thanks)


Tallies = dict[uuid.UUID | None, _Tally]


def staff_report(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    since: datetime,
    until: datetime,
    csat: Mapping[uuid.UUID, int] | None = None,
    teams: Mapping[str, Collection[uuid.UUID]] | None = None,
) -> StaffReport:
    """Per person, per team and for the workspace: how customers were served in [since, until).

    ``csat`` maps conversation id → score 1–5; ``teams`` maps a team name → member user ids.
    """
    tallies: Tallies = {}
    _conversations(session, tallies, workspace_id, since, until)
    _breaches(session, tallies, workspace_id, since, until)
    _problems(session, tallies, workspace_id, since, until)
    _thanks(session, tallies, workspace_id, since, until)
    people = {uid for uid, tally in tallies.items() if uid is not None and tally.active()}
    names = _names(session, people)
    scores = dict(csat or {})
    agents = [
        _row(tallies[uid], scores, user_id=uid, name=names.get(uid, ""))
        for uid in sorted(people, key=lambda uid: (names.get(uid, "").casefold(), str(uid)))
    ]
    team_rows = [
        _row(
            _merged(tallies.get(uid) for uid in members),
            scores,
            name=team,
            members=tuple(sorted(set(members), key=str)),
        )
        for team, members in sorted((teams or {}).items(), key=lambda t: t[0].casefold())
    ]
    total = _row(_merged(tallies.values()), scores, name="")
    return StaffReport(since=since, until=until, agents=agents, teams=team_rows, total=total)


def visible_to(report: StaffReport, *, actor: accounts.Actor) -> StaffReport:
    """What this member may see: admins everything; an agent their own row, their teams and
    the workspace total (a colleague's row is not theirs to read)."""
    actor.require(Role.AGENT)
    if actor.role is not None and actor.role.at_least(Role.ADMIN):
        return report
    me = actor.user_id
    return replace(
        report,
        agents=[row for row in report.agents if row.user_id == me],
        teams=[row for row in report.teams if me in row.members],
    )


# --- the grouped queries --------------------------------------------------------------------


def _tally(tallies: Tallies, user_id: uuid.UUID | None) -> _Tally:
    return tallies.setdefault(user_id, _Tally())


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _conversations(
    session: Session, tallies: Tallies, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> None:
    """Owner, first replier and decider of every conversation of the period (one query)."""
    outbound = aliased(ConversationMessage)
    first_replier = (
        select(Delivery.author_id)
        .select_from(outbound)
        .outerjoin(
            Delivery,
            (Delivery.workspace_id == outbound.workspace_id)
            & (Delivery.conversation_id == outbound.conversation_id)
            & (Delivery.message_id == outbound.id),
        )
        .where(
            outbound.workspace_id == Conversation.workspace_id,
            outbound.conversation_id == Conversation.id,
            outbound.inbound.is_(False),
        )
        .order_by(outbound.created_at)
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Conversation.id,
            Conversation.owner_id,
            Conversation.closed_by_id,
            Conversation.state,
            Conversation.close_reason,
            Conversation.opened_at,
            Conversation.first_response_at,
            Conversation.closed_at,
            first_replier,
        ).where(
            Conversation.workspace_id == workspace_id,
            Conversation.merged_into_id.is_(None),
            Conversation.opened_at >= since,
            Conversation.opened_at < until,
        )
    ).all()
    for cid, owner, closer, state, reason, opened, responded, closed, replier in rows:
        if owner is not None:
            _tally(tallies, owner).owned.add(cid)
        _tally(tallies, owner).involved.add(cid)  # unassigned: the workspace's alone
        # The same buckets, in the same order, as ``report.response_report``.
        if responded is not None:
            who = _tally(tallies, replier or owner)
            who.answered.add(cid)
            who.first_response[cid] = _minutes(opened, responded)
        elif state is State.NOT_ANSWERING:
            who = _tally(tallies, closer or owner)
            who.not_answering[cid] = reason or "unknown"
        else:
            who = _tally(tallies, owner)
            who.undecided.add(cid)
        who.involved.add(cid)
        if state is State.RESOLVED and closed is not None:
            _tally(tallies, owner or closer).resolution[cid] = _minutes(opened, closed)


def _breaches(
    session: Session, tallies: Tallies, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> None:
    rows = session.execute(
        select(SlaBreach.id, SlaBreach.owner_id, SlaBreach.target).where(
            SlaBreach.workspace_id == workspace_id,
            SlaBreach.breached_at >= since,
            SlaBreach.breached_at < until,
        )
    ).all()
    for breach_id, owner, target in rows:
        _tally(tallies, owner).breaches[breach_id] = str(target.value)


def _problems(
    session: Session, tallies: Tallies, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> None:
    rows = session.execute(
        select(Problem.id, Problem.owner_id, Problem.state).where(
            Problem.workspace_id == workspace_id,
            Problem.state.in_(FIXED_STATES),
            Problem.fixed_at >= since,
            Problem.fixed_at < until,
        )
    ).all()
    for problem_id, owner, state in rows:
        tally = _tally(tallies, owner)
        tally.fixed.add(problem_id)
        if state is ProblemState.VERIFIED:
            tally.verified.add(problem_id)


def _thanks(
    session: Session, tallies: Tallies, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> None:
    """Thanks of the period, each with the author of the latest reply before it (one query)."""
    inbound = aliased(ConversationMessage)
    reply = aliased(ConversationMessage)
    last_reply = (
        select(reply.id)
        .where(
            reply.workspace_id == inbound.workspace_id,
            reply.conversation_id == inbound.conversation_id,
            reply.inbound.is_(False),
            reply.created_at < inbound.created_at,
        )
        .order_by(reply.created_at.desc())
        .limit(1)
        .correlate(inbound)
        .scalar_subquery()
    )
    thanked = (
        select(
            inbound.id.label("message_id"),
            inbound.conversation_id.label("conversation_id"),
            last_reply.label("reply_id"),
        )
        .join(
            Analysis,
            (Analysis.workspace_id == inbound.workspace_id) & (Analysis.message_id == inbound.id),
        )
        .where(
            inbound.workspace_id == workspace_id,
            inbound.inbound.is_(True),
            inbound.created_at >= since,
            inbound.created_at < until,
            Analysis.intents.op("&")(PRAISE) != 0,
            Analysis.intents.op("&")(COMPLAINT) == 0,
            Analysis.sentiment != Sentiment.NEGATIVE,
        )
        .subquery()
    )
    rows = session.execute(
        select(thanked.c.message_id, Delivery.author_id)
        .select_from(thanked)
        .outerjoin(
            Delivery,
            (Delivery.workspace_id == workspace_id)
            & (Delivery.conversation_id == thanked.c.conversation_id)
            & (Delivery.message_id == thanked.c.reply_id),
        )
        .where(thanked.c.reply_id.is_not(None))
    ).all()
    for message_id, author in rows:
        _tally(tallies, author).thanks.add(message_id)


def _names(session: Session, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(list(user_ids))))
    return {uid: name for uid, name in rows}


# --- rows -----------------------------------------------------------------------------------


def _merged(tallies: Iterable[_Tally | None]) -> _Tally:
    out = _Tally()
    for tally in tallies:
        if tally is not None:
            out.merge(tally)
    return out


def _csat(scores: Mapping[uuid.UUID, int], conversations: Collection[uuid.UUID]) -> Csat | None:
    given = [scores[cid] for cid in conversations if cid in scores]
    if not given:
        return None
    return Csat(
        mean=round(sum(given) / len(given), 2),
        count=len(given),
        satisfied_share=round(sum(1 for s in given if s >= SATISFIED) / len(given), 3),
    )


def _counts(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return dict(sorted(out.items()))


def _row(
    tally: _Tally,
    scores: Mapping[uuid.UUID, int],
    *,
    name: str,
    user_id: uuid.UUID | None = None,
    members: tuple[uuid.UUID, ...] = (),
) -> StaffRow:
    return StaffRow(
        user_id=user_id,
        name=name,
        conversations=len(tally.involved),
        owned=len(tally.owned),
        answered=len(tally.answered),
        not_answering=_counts(tally.not_answering.values()),
        undecided=len(tally.undecided),
        first_response_minutes=_percentiles(list(tally.first_response.values())),
        resolution_minutes=_percentiles(list(tally.resolution.values())),
        breaches=_counts(tally.breaches.values()),
        csat=_csat(scores, tally.involved),
        problems_fixed=len(tally.fixed),
        problems_verified=len(tally.verified),
        thanks=len(tally.thanks),
        members=members,
    )
