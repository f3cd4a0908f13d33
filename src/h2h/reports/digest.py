"""What a digest says: the counts and the few items worth a look, for one window of one workspace.

``build`` reads only; it returns a small typed ``Digest`` that the renderers turn into an
email and a Telegram text and the preview page shows as it is. A window is ``[since,
until)`` in UTC; "previous" is the window of the same length just before it.

- **Messages** are inbound, non-duplicate messages by their own time (what the stream
  shows by default), split by sentiment ("not analysed yet" when the NLP has not got to
  them), compared with the previous window.
- **Waiting for an answer** are open conversations (the customer waits for us), the most
  urgent first by the NLP's urgency, with their latest words clipped.
- **Threats** are inbound messages in the window with the *threat* intent.
- **Problems** are the ones created in the window, and those with at least
  ``GROWING_MIN`` complaints in it and more than in the previous window.
- **SLA breaches** are the breaches recorded in the window.
- **Feedback** (only where the workspace has surveys): NPS and CSAT answers and detractors.

Links are ``H2H_PUBLIC_URL`` + the path; without it they are bare paths and the digest
says so, since a bare path does not open from a mail client.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.accounts.models import Workspace
from h2h.channels.connectors.base import Direction
from h2h.channels.models import Message
from h2h.config import get_settings
from h2h.feedback import scores
from h2h.feedback.models import Survey, SurveyKind
from h2h.inbox.models import Conversation, ConversationMessage, SlaBreach, State
from h2h.nlp import profanity
from h2h.nlp.models import Analysis, Sentiment, intent_mask
from h2h.problems.models import OPEN_STATES, Problem, ProblemComplaint
from h2h.problems.service import title_of

TOP = 5
QUOTE = 160
GROWING_MIN = 2
NOT_ANALYSED = ""
SENTIMENTS = (Sentiment.NEGATIVE.value, Sentiment.NEUTRAL.value, Sentiment.POSITIVE.value)
THREAT = intent_mask(["threat"])


@dataclass(frozen=True)
class Count:
    """A number in the window and in the previous one, with the list behind it."""

    key: str
    count: int
    previous: int
    link: str

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True)
class Item:
    """One conversation or message worth a look: who, their words, where to open it."""

    title: str
    quote: str
    link: str
    at: datetime | None = None
    detail: str = ""  # an English msgid key of what is special (an SLA target, an urgency)
    score: float | None = None


@dataclass(frozen=True)
class ProblemItem:
    number: int
    title: str
    state: str
    complaints: int
    previous: int
    new: bool
    link: str


@dataclass(frozen=True)
class Feedback:
    nps_answers: int
    csat_answers: int
    detractors: int
    link: str


@dataclass(frozen=True)
class Digest:
    workspace: str
    slug: str
    since: datetime
    until: datetime
    messages: Count
    sentiment: list[Count]
    waiting: list[Item]
    waiting_total: int
    threats: list[Item]
    threats_total: int
    problems: list[ProblemItem]
    breaches: list[Item]
    breaches_total: int
    feedback: Feedback | None
    absolute_links: bool
    home: str
    quoted_messages: list[str] = field(default_factory=list)
    quoted_conversations: list[str] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        """Nothing at all happened and nobody waits: such a digest is not sent."""
        answers = self.feedback.nps_answers + self.feedback.csat_answers if self.feedback else 0
        return not (
            self.messages.count
            or self.waiting_total
            or self.threats_total
            or self.problems
            or self.breaches_total
            or answers
        )


# --- links ------------------------------------------------------------------------------------


def absolute(path: str) -> str:
    """``H2H_PUBLIC_URL`` + path, or the bare path when no public address is configured."""
    base = get_settings().public_url.rstrip("/")
    return base + path if base else path


def _zone(workspace: Workspace) -> ZoneInfo:
    try:
        return ZoneInfo(workspace.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def stream_link(workspace: Workspace, since: datetime, until: datetime, **filters: str) -> str:
    """The mention stream for the window's days (the stream filters whole workspace days)."""
    zone = _zone(workspace)
    last = until - timedelta(microseconds=1)
    params = {
        "since": since.astimezone(zone).date().isoformat(),
        "until": last.astimezone(zone).date().isoformat(),
        **filters,
    }
    return absolute(f"/w/{workspace.slug}/mentions?{urlencode(params)}")


def conversation_link(workspace: Workspace, number: int) -> str:
    return absolute(f"/w/{workspace.slug}/inbox/{number}")


def clip(text: str | None, limit: int = QUOTE) -> str:
    """One line of at most ``limit`` characters, rude words masked as the stream masks them."""
    text = profanity.mask(" ".join((text or "").split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- sections ---------------------------------------------------------------------------------


def _by_sentiment(
    session: Session, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> dict[str, int]:
    rows = session.execute(
        select(Analysis.sentiment, func.count())
        .select_from(Message)
        .outerjoin(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            Message.workspace_id == workspace_id,
            Message.created_at >= since,
            Message.created_at < until,
            Message.direction == Direction.INBOUND,
            Message.duplicate_of_id.is_(None),
        )
        .group_by(Analysis.sentiment)
    ).all()
    return {(key.value if key else NOT_ANALYSED): int(n) for key, n in rows}


def _messages(
    session: Session, workspace: Workspace, since: datetime, until: datetime
) -> tuple[Count, list[Count]]:
    before = since - (until - since)
    now = _by_sentiment(session, workspace.id, since, until)
    then = _by_sentiment(session, workspace.id, before, since)
    counts = [
        Count(key, now.get(key, 0), then.get(key, 0), stream_link(workspace, since, until, **f))
        for key, f in [(s, {"sentiment": s}) for s in SENTIMENTS] + [(NOT_ANALYSED, {})]
        if key != NOT_ANALYSED or now.get(key) or then.get(key)
    ]
    link = stream_link(workspace, since, until)
    total = Count("all", sum(now.values()), sum(then.values()), link)
    return total, counts


def _waiting(
    session: Session, workspace: Workspace, until: datetime
) -> tuple[list[Item], int, list[str]]:
    where = (
        Conversation.workspace_id == workspace.id,
        Conversation.state == State.OPEN,
        Conversation.merged_into_id.is_(None),
        Conversation.opened_at < until,
    )
    total = session.scalar(select(func.count()).select_from(Conversation).where(*where)) or 0
    top = session.scalars(
        select(Conversation)
        .where(*where)
        .order_by(Conversation.urgency.desc(), Conversation.last_customer_at.asc())
        .limit(TOP)
    ).all()
    items = [
        Item(
            title=f"#{c.number} {c.author_name or ''}".strip(),
            quote=clip(c.preview or c.subject),
            link=conversation_link(workspace, c.number),
            at=c.last_customer_at or c.opened_at,
            score=round(float(c.urgency or 0.0), 2),
        )
        for c in top
    ]
    return items, int(total), [str(c.id) for c in top]


def _threats(
    session: Session, workspace: Workspace, since: datetime, until: datetime
) -> tuple[list[Item], int, list[str]]:
    where = (
        Message.workspace_id == workspace.id,
        Message.created_at >= since,
        Message.created_at < until,
        Message.direction == Direction.INBOUND,
        Message.duplicate_of_id.is_(None),
        Analysis.intents.op("&")(THREAT) != 0,
    )
    joined = (
        select(Message, Analysis.urgency, Conversation.number)
        .join(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .outerjoin(
            ConversationMessage,
            (ConversationMessage.workspace_id == Message.workspace_id)
            & (ConversationMessage.id == Message.id),
        )
        .outerjoin(
            Conversation,
            (Conversation.workspace_id == ConversationMessage.workspace_id)
            & (Conversation.id == ConversationMessage.conversation_id),
        )
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    rows = session.execute(
        joined.order_by(Analysis.urgency.desc(), Message.created_at.desc()).limit(TOP)
    ).all()
    items = []
    for message, urgency, number in rows:
        path = f"/w/{workspace.slug}/mentions/{message.id}"
        items.append(
            Item(
                title=message.author_name or message.author_handle,
                quote=clip(message.text),
                link=conversation_link(workspace, number) if number else absolute(path),
                at=message.created_at,
                score=round(float(urgency or 0.0), 2),
            )
        )
    return items, int(total), [str(row[0].id) for row in rows]


def _complaints(
    session: Session, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(ProblemComplaint.problem_id, func.count())
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            ProblemComplaint.complained_at >= since,
            ProblemComplaint.complained_at < until,
        )
        .group_by(ProblemComplaint.problem_id)
    ).all()
    return {problem_id: int(n) for problem_id, n in rows}


def _problems(
    session: Session, workspace: Workspace, since: datetime, until: datetime
) -> list[ProblemItem]:
    now = _complaints(session, workspace.id, since, until)
    then = _complaints(session, workspace.id, since - (until - since), since)
    growing = {p for p, n in now.items() if n >= GROWING_MIN and n > then.get(p, 0)}
    new = set(
        session.scalars(
            select(Problem.id).where(
                Problem.workspace_id == workspace.id,
                Problem.created_at >= since,
                Problem.created_at < until,
            )
        )
    )
    wanted = list(growing | new)
    if not wanted:
        return []
    found = session.scalars(
        select(Problem).where(
            Problem.workspace_id == workspace.id,
            Problem.id.in_(wanted),
            Problem.state.in_(OPEN_STATES),
        )
    ).all()
    items = [
        ProblemItem(
            number=p.number,
            title=clip(title_of(p), 120),
            state=p.state.value,
            complaints=now.get(p.id, 0),
            previous=then.get(p.id, 0),
            new=p.id in new,
            link=absolute(f"/w/{workspace.slug}/problems/{p.number}"),
        )
        for p in found
    ]
    items.sort(key=lambda i: (not i.new, -i.complaints, i.number))
    return items[:TOP]


def _breaches(
    session: Session, workspace: Workspace, since: datetime, until: datetime
) -> tuple[list[Item], int, list[str]]:
    joined = (
        select(SlaBreach, Conversation)
        .join(
            Conversation,
            (Conversation.workspace_id == SlaBreach.workspace_id)
            & (Conversation.id == SlaBreach.conversation_id),
        )
        .where(
            SlaBreach.workspace_id == workspace.id,
            SlaBreach.breached_at >= since,
            SlaBreach.breached_at < until,
        )
    )
    total = session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    rows = session.execute(joined.order_by(SlaBreach.breached_at.desc()).limit(TOP)).all()
    items = [
        Item(
            title=f"#{c.number} {c.author_name or ''}".strip(),
            quote=clip(c.preview or c.subject),
            link=conversation_link(workspace, c.number),
            at=b.breached_at,
            detail=b.target.value,
        )
        for b, c in rows
    ]
    return items, int(total), [str(c.id) for _, c in rows]


def _feedback(
    session: Session, workspace: Workspace, since: datetime, until: datetime
) -> Feedback | None:
    has_surveys = session.scalar(
        select(func.count()).select_from(Survey).where(Survey.workspace_id == workspace.id)
    )
    if not has_surveys:
        return None
    nps, csat = (
        scores.summary(session, workspace_id=workspace.id, kind=kind, since=since, until=until)
        for kind in (SurveyKind.NPS, SurveyKind.CSAT)
    )
    return Feedback(nps.n, csat.n, nps.bad + csat.bad, absolute(f"/w/{workspace.slug}/feedback"))


# --- the whole digest -------------------------------------------------------------------------


def build(session: Session, *, workspace: Workspace, since: datetime, until: datetime) -> Digest:
    """Everything the digest of ``[since, until)`` says about this workspace."""
    if until <= since:
        raise ValueError("a digest window must end after it starts")
    total, sentiment = _messages(session, workspace, since, until)
    waiting, waiting_total, waiting_conversations = _waiting(session, workspace, until)
    threats, threats_total, threat_ids = _threats(session, workspace, since, until)
    breaches, breaches_total, breach_conversations = _breaches(session, workspace, since, until)
    return Digest(
        workspace=workspace.name,
        slug=workspace.slug,
        since=since,
        until=until,
        messages=total,
        sentiment=sentiment,
        waiting=waiting,
        waiting_total=waiting_total,
        threats=threats,
        threats_total=threats_total,
        problems=_problems(session, workspace, since, until),
        breaches=breaches,
        breaches_total=breaches_total,
        feedback=_feedback(session, workspace, since, until),
        absolute_links=bool(get_settings().public_url.strip()),
        home=absolute(f"/w/{workspace.slug}/reports/digest"),
        quoted_messages=threat_ids,
        quoted_conversations=sorted(set(waiting_conversations) | set(breach_conversations)),
    )
