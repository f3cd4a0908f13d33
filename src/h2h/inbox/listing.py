"""The inbox list: filters, search, order (overdue first), counts per state, saved views.

One query on ``conversations``, which carries what the list shows and filters on (the
labels of the latest customer message, owner, due times); filters on other domains'
data (a subject, an aspect, the person's tags, words in any message) are ``IN``
subqueries on their indexed tables, read-only, as the mention stream does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput, NotFound
from h2h.inbox import sla
from h2h.inbox.models import (
    ACTIVE_STATES,
    PRIORITY_RANK,
    Conversation,
    ConversationMessage,
    Priority,
    SavedView,
    State,
)
from h2h.nlp.models import INTENTS, AnalysisAspect, Sentiment
from h2h.people.models import Identity, PersonTag
from h2h.subjects.models import Mention

PAGE_SIZE = 50
ALL = "all"
STATE_TABS: tuple[str, ...] = (State.OPEN.value, State.PENDING.value, State.RESOLVED.value)
STATE_TABS += (State.NOT_ANSWERING.value, ALL)
SLA_FILTERS = ("breached", "due_soon", "on_track", "none")
MAX_VIEWS = 100


@dataclass(frozen=True)
class InboxQuery:
    """The list's filters as the URL carries them (every value a string, "" for any)."""

    state: str = State.OPEN.value
    owner: str = ""  # "", "mine", "unassigned" or a user id
    priority: str = ""
    sla: str = ""
    channel: str = ""
    subject: str = ""
    sentiment: str = ""
    intent: str = ""
    aspect: str = ""
    language: str = ""
    tag: str = ""
    q: str = ""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> InboxQuery:
        """The filters from query parameters or a saved view; unknown values are dropped."""
        raw = {k: " ".join(str(params.get(k) or "").split())[:300] for k in cls.names()}
        if "state" not in params:
            raw["state"] = State.OPEN.value
        if raw["state"] not in STATE_TABS:
            raw["state"] = State.OPEN.value
        if raw["priority"] not in {p.value for p in Priority}:
            raw["priority"] = ""
        if raw["sla"] not in SLA_FILTERS:
            raw["sla"] = ""
        if raw["sentiment"] not in {s.value for s in Sentiment}:
            raw["sentiment"] = ""
        if raw["intent"] not in INTENTS:
            raw["intent"] = ""
        if raw["owner"] not in ("", "mine", "unassigned") and _uuid(raw["owner"]) is None:
            raw["owner"] = ""
        for key in ("channel", "subject"):
            if _uuid(raw[key]) is None:
                raw[key] = ""
        raw["tag"] = raw["tag"].lower()
        raw["language"] = raw["language"].lower()[:8]
        return cls(**raw)

    def as_params(self) -> dict[str, str]:
        """The filters that differ from the default, for URLs and saved views."""
        default = InboxQuery()
        return {
            k: getattr(self, k) for k in self.names() if getattr(self, k) != getattr(default, k)
        }

    @property
    def filtered(self) -> bool:
        return any(getattr(self, k) for k in self.names() if k != "state")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# --- the query ----------------------------------------------------------------------------------


def _overdue(now: datetime) -> Any:
    return and_(Conversation.due_at.is_not(None), Conversation.due_at <= now)


def _sla_condition(value: str, now: datetime) -> Any:
    """The same buckets as ``sla.status``, as SQL."""
    soon = now + sla.DUE_SOON
    active = Conversation.state.in_(ACTIVE_STATES)
    if value == "breached":
        return or_(
            _overdue(now),
            and_(
                Conversation.breached.is_(True),
                or_(and_(Conversation.due_at.is_(None), active), Conversation.due_at > soon),
            ),
        )
    if value == "due_soon":
        return and_(Conversation.due_at > now, Conversation.due_at <= soon)
    if value == "on_track":
        return and_(Conversation.due_at > soon, Conversation.breached.is_(False))
    return and_(Conversation.due_at.is_(None), or_(Conversation.breached.is_(False), ~active))


def _owner_condition(value: str, user_id: uuid.UUID | None) -> Any:
    if value == "mine":
        return Conversation.owner_id == user_id
    if value == "unassigned":
        return Conversation.owner_id.is_(None)
    return Conversation.owner_id == _uuid(value)


def _search(session: Session, workspace_id: uuid.UUID, q: str) -> Any:
    """A conversation number (#12), or words in its author, subject, preview or any message."""
    text = q.strip()
    if text.startswith("#") and text[1:].isdigit() and len(text) < 10:
        return Conversation.number == int(text[1:])
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    own = or_(
        func.lower(Conversation.author_name).like(pattern, escape="\\"),
        func.lower(Conversation.subject).like(pattern, escape="\\"),
        func.lower(Conversation.preview).like(pattern, escape="\\"),
    )
    if text.isdigit() and len(text) < 10:  # a bare number: #42, or "42" written somewhere
        own = or_(own, Conversation.number == int(text))
    matching = channels.matching_message_ids(session, workspace_id=workspace_id, text=text)
    if matching is None:
        return own
    # EXISTS per conversation, not IN over every match: a common word matches a third of
    # all messages, and PostgreSQL rescanned that set for each conversation (36 s on 1 M).
    in_messages = (
        select(ConversationMessage.id)
        .where(
            ConversationMessage.workspace_id == workspace_id,
            ConversationMessage.conversation_id == Conversation.id,
            ConversationMessage.id.in_(matching),
        )
        .exists()
    )
    return or_(own, in_messages)


def _filtered(
    session: Session,
    stmt: Select[Any],
    workspace_id: uuid.UUID,
    query: InboxQuery,
    user_id: uuid.UUID | None,
    now: datetime,
) -> Select[Any]:
    stmt = stmt.where(
        Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None)
    )
    if query.owner:
        stmt = stmt.where(_owner_condition(query.owner, user_id))
    if query.priority:
        stmt = stmt.where(Conversation.priority == Priority(query.priority))
    if query.sla:
        stmt = stmt.where(_sla_condition(query.sla, now))
    if query.channel:
        stmt = stmt.where(Conversation.channel_id == _uuid(query.channel))
    if query.sentiment:
        stmt = stmt.where(Conversation.sentiment == query.sentiment)
    if query.intent:
        bit = 1 << INTENTS.index(query.intent)
        stmt = stmt.where(Conversation.intents.op("&")(bit) != 0)
    if query.language:
        stmt = stmt.where(Conversation.language == query.language)
    if query.subject:
        stmt = stmt.where(
            Conversation.id.in_(
                select(ConversationMessage.conversation_id)
                .join(
                    Mention,
                    (Mention.workspace_id == ConversationMessage.workspace_id)
                    & (Mention.message_id == ConversationMessage.id),
                )
                .where(
                    ConversationMessage.workspace_id == workspace_id,
                    Mention.subject_id == _uuid(query.subject),
                )
            )
        )
    if query.aspect:
        stmt = stmt.where(
            Conversation.last_inbound_id.in_(
                select(AnalysisAspect.message_id).where(
                    AnalysisAspect.workspace_id == workspace_id,
                    AnalysisAspect.aspect == query.aspect,
                )
            )
        )
    if query.tag:
        stmt = stmt.where(
            Conversation.identity_id.in_(
                select(Identity.id)
                .join(
                    PersonTag,
                    (PersonTag.workspace_id == Identity.workspace_id)
                    & (PersonTag.person_id == Identity.person_id),
                )
                .where(Identity.workspace_id == workspace_id, PersonTag.tag == query.tag)
            )
        )
    if query.q:
        stmt = stmt.where(_search(session, workspace_id, query.q))
    return stmt


def _with_state(stmt: Select[Any], state: str) -> Select[Any]:
    return stmt if state == ALL else stmt.where(Conversation.state == State(state))


def list_conversations(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    query: InboxQuery,
    user_id: uuid.UUID | None,
    page: int = 1,
    now: datetime | None = None,
) -> tuple[list[Conversation], int]:
    """A page of conversations, overdue ones first (by due time), then by priority and
    latest message; and how many match."""
    now = now or utcnow()
    stmt = _with_state(
        _filtered(session, select(Conversation), workspace_id, query, user_id, now), query.state
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        _in_list_order(stmt, now).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return list(rows), total


def list_statement(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    query: InboxQuery,
    user_id: uuid.UUID | None,
    now: datetime,
) -> Select[Any]:
    """Every conversation the list shows, in its order (the exports read it in pages)."""
    stmt = _with_state(
        _filtered(session, select(Conversation), workspace_id, query, user_id, now), query.state
    )
    return _in_list_order(stmt, now)


def _in_list_order(stmt: Select[Any], now: datetime) -> Select[Any]:
    # Overdue is what ``sla.status`` calls breached: once the breach job has recorded a clock
    # it moves ``due_at`` on, and the conversation must stay on top all the same.
    overdue = case((_sla_condition("breached", now), 0), else_=1)
    rank = case(
        *((Conversation.priority == p, -r) for p, r in PRIORITY_RANK.items()),
        else_=0,
    )
    return stmt.order_by(
        overdue,
        case((_overdue(now), Conversation.due_at), else_=None),
        rank,
        Conversation.last_message_at.desc(),
        Conversation.number.desc(),
    )


def state_counts(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    query: InboxQuery,
    user_id: uuid.UUID | None,
    now: datetime | None = None,
) -> dict[str, int]:
    """How many conversations of each state match the other filters (and all of them)."""
    now = now or utcnow()
    grouped = cast(
        Select[Any], select(Conversation.state, func.count()).group_by(Conversation.state)
    )
    stmt = _filtered(
        session,
        grouped,
        workspace_id,
        query,
        user_id,
        now,
    )
    counts = {state: 0 for state in STATE_TABS}
    for state, count in session.execute(stmt).all():
        counts[State(state).value] = count
    counts[ALL] = sum(v for k, v in counts.items() if k != ALL)
    return counts


def changed_since(
    session: Session, *, workspace_id: uuid.UUID, since: datetime, limit: int = 500
) -> list[tuple[int, datetime]]:
    """(number, updated_at) of conversations changed after ``since``, oldest change first."""
    rows = session.execute(
        select(Conversation.number, Conversation.updated_at)
        .where(Conversation.workspace_id == workspace_id, Conversation.updated_at > since)
        .order_by(Conversation.updated_at)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


# --- saved views --------------------------------------------------------------------------------


def list_views(
    session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID | None
) -> list[SavedView]:
    """The user's own views and the workspace's shared ones, by name."""
    return list(
        session.scalars(
            select(SavedView)
            .where(
                SavedView.workspace_id == workspace_id,
                or_(SavedView.user_id.is_(None), SavedView.user_id == user_id),
            )
            .order_by(SavedView.user_id.is_(None), SavedView.name)
            .limit(MAX_VIEWS)
        )
    )


def get_view(session: Session, *, workspace_id: uuid.UUID, view_id: Any) -> SavedView:
    return get_in_workspace(session, SavedView, workspace_id=workspace_id, id=view_id)


def save_view(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    query: InboxQuery,
    shared: bool = False,
) -> SavedView:
    """Save the current filters under a name, for oneself or (admins) for everyone."""
    actor.require(Role.ADMIN if shared else Role.AGENT)
    name = " ".join((name or "").split())[:200]
    if not name:
        raise InvalidInput(N_("Name the view."), field="name")
    owner = None if shared else actor.user_id
    clash = session.scalars(
        select(SavedView).where(
            SavedView.workspace_id == workspace_id,
            SavedView.name == name,
            SavedView.user_id.is_(None) if owner is None else SavedView.user_id == owner,
        )
    ).first()
    if clash is not None:
        raise Conflict(N_("A view named “{name}” exists; choose another name."), name=name)
    view = SavedView(workspace_id=workspace_id, user_id=owner, name=name, filters=query.as_params())
    session.add(view)
    session.flush()
    return view


def delete_view(session: Session, *, actor: accounts.Actor, view: SavedView) -> None:
    """One's own view, or (admins) a shared one."""
    actor.require(Role.AGENT)
    if view.user_id is None:
        actor.require(Role.ADMIN)
    elif view.user_id != actor.user_id:
        raise NotFound()  # another member's own view: as if it did not exist
    session.delete(view)
