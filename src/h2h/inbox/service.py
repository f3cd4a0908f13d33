"""Operations on conversations: state, owner, priority, notes, merge and split.

Every change goes through here, appends a ``ConversationEvent`` (the conversation's own
history, which reports count) and bumps ``updated_at`` (which live views watch). Changes a
person makes are also audited. Threading new messages lives in ``threading``, owners and
priorities in ``routing``, SLA clocks in ``sla``, replies in ``replies``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Membership, Role, User
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from h2h.inbox import sla
from h2h.inbox.models import (
    ACTIVE_STATES,
    Agent,
    CloseReason,
    Conversation,
    ConversationEvent,
    ConversationMessage,
    InboxSettings,
    InternalNote,
    Notification,
    Priority,
    State,
)

AUDIT_ACTIONS.update(
    {
        "conversation.assign": N_("assigned a conversation"),
        "conversation.state": N_("changed the state of a conversation"),
        "conversation.not_answering": N_("closed a conversation without an answer"),
        "conversation.priority": N_("changed the priority of a conversation"),
        "conversation.merge": N_("merged conversations"),
        "conversation.split": N_("split a conversation"),
        "inbox.settings": N_("changed the inbox settings"),
        "inbox.reasons": N_("changed the reasons for not answering"),
    }
)

# Reasons to close without an answer when a workspace has not written its own list.
DEFAULT_REASONS = {
    "spam": N_("Spam or advertising"),
    "troll": N_("Troll or provocation"),
    "resolved_elsewhere": N_("Resolved elsewhere"),
    "legal": N_("Legal advice to stay silent"),
    "duplicate": N_("Duplicate"),
    "not_about_us": N_("Not about us"),
    "no_answer_needed": N_("Nothing to answer (thanks, a like)"),
}
MAX_NOTE = 10_000
MENTION = re.compile(r"@([\w.\-]+(?:@[\w.\-]+)?)", re.UNICODE)


# --- settings, numbers, lookups ---------------------------------------------------------------


def person_of(actor: accounts.Actor) -> uuid.UUID:
    """The signed-in agent behind an action; the system actor cannot answer customers."""
    actor.require(Role.AGENT)
    if actor.user_id is None:
        raise PermissionDenied(N_("Only a named person can do this."))
    return actor.user_id


def settings_of(session: Session, *, workspace_id: uuid.UUID) -> InboxSettings:
    """The workspace's inbox settings; created with the defaults on first use."""
    found = session.get(InboxSettings, workspace_id)
    if found is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(InboxSettings)
            .values(workspace_id=workspace_id, business_hours={}, playbook=[], next_number=1)
            .on_conflict_do_nothing(index_elements=["workspace_id"])
        )
        found = session.get(InboxSettings, workspace_id)
    if found is None:  # pragma: no cover - the insert above either made it or found it
        raise RuntimeError(f"inbox settings of workspace {workspace_id} could not be created")
    return found


def next_number(session: Session, *, workspace_id: uuid.UUID) -> int:
    """The next conversation number of the workspace (#1, #2 …), safe under concurrency."""
    settings_of(session, workspace_id=workspace_id)
    number = session.execute(
        update(InboxSettings)
        .where(InboxSettings.workspace_id == workspace_id)
        .values(next_number=InboxSettings.next_number + 1)
        .returning(InboxSettings.next_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(number) - 1


def get_conversation(
    session: Session, *, workspace_id: uuid.UUID, conversation_id: Any
) -> Conversation:
    return get_in_workspace(session, Conversation, workspace_id=workspace_id, id=conversation_id)


def by_number(session: Session, *, workspace_id: uuid.UUID, number: int) -> Conversation:
    found = session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.number == number
        )
    ).one_or_none()
    if found is None:
        raise NotFound()
    return found


def message_ids(session: Session, *, conversation: Conversation) -> list[uuid.UUID]:
    """The conversation's messages, oldest first."""
    return list(
        session.scalars(
            select(ConversationMessage.id)
            .where(
                ConversationMessage.workspace_id == conversation.workspace_id,
                ConversationMessage.conversation_id == conversation.id,
            )
            .order_by(ConversationMessage.created_at, ConversationMessage.id)
        )
    )


def conversation_of(
    session: Session, *, workspace_id: uuid.UUID, message_id: uuid.UUID
) -> Conversation | None:
    return session.scalars(
        select(Conversation)
        .join(
            ConversationMessage,
            (ConversationMessage.workspace_id == Conversation.workspace_id)
            & (ConversationMessage.conversation_id == Conversation.id),
        )
        .where(
            ConversationMessage.workspace_id == workspace_id, ConversationMessage.id == message_id
        )
    ).one_or_none()


def conversations_of_messages(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Conversation]:
    """The conversation of each of these messages that was threaded (one query)."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(ConversationMessage.id, Conversation)
        .join(
            Conversation,
            (ConversationMessage.workspace_id == Conversation.workspace_id)
            & (ConversationMessage.conversation_id == Conversation.id),
        )
        .where(
            ConversationMessage.workspace_id == workspace_id,
            ConversationMessage.id.in_(list(message_ids)),
        )
    ).all()
    return {message_id: conversation for message_id, conversation in rows}


def conversations_of(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID], limit: int = 20
) -> list[Conversation]:
    """A person's conversations, newest first (the profile shows them)."""
    if not identity_ids:
        return []
    return list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.identity_id.in_(list(identity_ids)),
                Conversation.merged_into_id.is_(None),
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(limit)
        )
    )


# --- history ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Happened:
    """What an event hook is told: a conversation's event, as ``log_event`` recorded it."""

    conversation: Conversation
    kind: str
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    at: datetime


EventHook = Callable[[Session, Happened], None]
_HOOKS: list[EventHook] = []


def on_event(hook: EventHook) -> EventHook:
    """Register ``hook(session, happened)`` to run on every conversation event.

    Hooks run inside the caller's transaction, right after the event is recorded, so what
    they write commits or rolls back with it; webhooks and automation rules hook in here
    (they import this module, never the other way round).
    """
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def emit(
    session: Session,
    conversation: Conversation,
    kind: str,
    *,
    actor_id: uuid.UUID | None = None,
    at: datetime | None = None,
    **data: Any,
) -> None:
    """Tell the hooks about an event without recording it (a new message is its own record)."""
    happened = Happened(
        conversation,
        kind,
        actor_id,
        {k: v for k, v in data.items() if v is not None},
        at or utcnow(),
    )
    for hook in list(_HOOKS):
        hook(session, happened)


def log_event(
    session: Session,
    conversation: Conversation,
    kind: str,
    *,
    actor_id: uuid.UUID | None = None,
    at: datetime | None = None,
    **data: Any,
) -> ConversationEvent:
    """Append to the conversation's history, mark it changed for live views, run the hooks."""
    at = at or utcnow()
    event = ConversationEvent(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        kind=kind,
        actor_id=actor_id,
        data={k: v for k, v in data.items() if v is not None},
        created_at=at,
    )
    session.add(event)
    conversation.updated_at = max(conversation.updated_at or at, utcnow())
    if _HOOKS:
        emit(session, conversation, kind, actor_id=actor_id, at=at, **event.data)
    return event


def history(session: Session, *, conversation: Conversation) -> list[ConversationEvent]:
    return list(
        session.scalars(
            select(ConversationEvent)
            .where(
                ConversationEvent.workspace_id == conversation.workspace_id,
                ConversationEvent.conversation_id == conversation.id,
            )
            .order_by(ConversationEvent.created_at, ConversationEvent.id)
        )
    )


def _audit(
    session: Session, actor: accounts.Actor, conversation: Conversation, action: str, **details: Any
) -> None:
    accounts.record(
        session,
        workspace_id=conversation.workspace_id,
        actor=actor,
        action=action,
        entity_type="conversation",
        entity_id=conversation.id,
        details={"number": conversation.number, **details},
    )


def notify(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    user_ids: Sequence[uuid.UUID | None],
    kind: str,
    conversation: Conversation | None = None,
    **data: Any,
) -> int:
    """In-app notifications (the bell in the header); returns how many were written.

    Members who chose this kind also get it by email or Telegram (``notify_out``).
    """
    from h2h.inbox import notify_out  # it imports this module

    written: list[Notification] = []
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        notification = Notification(
            workspace_id=workspace_id,
            user_id=user_id,
            kind=kind,
            conversation_id=conversation.id if conversation else None,
            data={"number": conversation.number if conversation else None, **data},
        )
        session.add(notification)
        written.append(notification)
    notify_out.fan_out(session, written)
    return len(written)


def notifications(
    session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID, limit: int = 30
) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.workspace_id == workspace_id, Notification.user_id == user_id)
            .order_by(Notification.created_at.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Notification.workspace_id == workspace_id,
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID) -> None:
    session.execute(
        update(Notification)
        .where(
            Notification.workspace_id == workspace_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )


# --- members as agents ------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    available: bool
    signature: str | None
    last_assigned_at: datetime | None


def agents(session: Session, *, workspace_id: uuid.UUID) -> list[Member]:
    """Members who can own conversations (agents and up), with their inbox status."""
    rows = session.execute(
        select(Membership, Agent)
        .join(User, User.id == Membership.user_id)
        .outerjoin(
            Agent,
            (Agent.workspace_id == Membership.workspace_id) & (Agent.user_id == Membership.user_id),
        )
        .where(Membership.workspace_id == workspace_id, User.is_active.is_(True))
        .order_by(User.name)
    ).all()
    return [
        Member(
            user_id=membership.user_id,
            name=membership.user.name,
            email=membership.user.email,
            role=membership.role,
            available=agent.available if agent else True,
            signature=agent.signature if agent else None,
            last_assigned_at=agent.last_assigned_at if agent else None,
        )
        for membership, agent in rows
        if membership.role.at_least(Role.AGENT)
    ]


def agent_row(session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Agent:
    found = session.scalars(
        select(Agent).where(Agent.workspace_id == workspace_id, Agent.user_id == user_id)
    ).one_or_none()
    if found is None:
        found = Agent(workspace_id=workspace_id, user_id=user_id, available=True)
        session.add(found)
        session.flush()
    return found


def set_status(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    available: bool | None = None,
    signature: str | None = None,
) -> Agent:
    """An agent sets their own availability and signature."""
    agent = agent_row(session, workspace_id=workspace_id, user_id=person_of(actor))
    if available is not None:
        agent.available = available
    if signature is not None:
        agent.signature = signature.strip()[:1000] or None
    return agent


def _member(session: Session, workspace_id: uuid.UUID, user_id: Any) -> Member:
    try:
        wanted = uuid.UUID(str(user_id))
    except ValueError:
        raise InvalidInput(N_("Choose a member of this workspace."), field="owner_id") from None
    for member in agents(session, workspace_id=workspace_id):
        if member.user_id == wanted:
            return member
    raise InvalidInput(N_("Choose a member of this workspace."), field="owner_id")


# --- owner, state, priority -------------------------------------------------------------------


def assign(
    session: Session,
    *,
    conversation: Conversation,
    actor: accounts.Actor,
    owner_id: Any,
    reason: str = "manual",
) -> Conversation:
    """Give the conversation a named owner (None leaves it unassigned)."""
    actor.require(Role.AGENT)
    workspace_id = conversation.workspace_id
    new = None if owner_id in (None, "") else _member(session, workspace_id, owner_id).user_id
    if new == conversation.owner_id:
        return conversation
    previous = conversation.owner_id
    set_owner(session, conversation, new, reason=reason, actor_id=actor.user_id)
    _audit(
        session, actor, conversation, "conversation.assign", owner=str(new), previous=str(previous)
    )
    return conversation


def set_owner(
    session: Session,
    conversation: Conversation,
    owner_id: uuid.UUID | None,
    *,
    reason: str,
    actor_id: uuid.UUID | None = None,
) -> None:
    """Change the owner without permission checks (routing and rules call this)."""
    conversation.owner_id = owner_id
    log_event(
        session,
        conversation,
        "assigned",
        actor_id=actor_id,
        owner=str(owner_id) if owner_id else None,
        reason=reason,
    )
    if owner_id is not None:
        agent = agent_row(session, workspace_id=conversation.workspace_id, user_id=owner_id)
        agent.last_assigned_at = utcnow()
        if owner_id != actor_id:
            notify(
                session,
                workspace_id=conversation.workspace_id,
                user_ids=[owner_id],
                kind="assigned",
                conversation=conversation,
            )


def set_state(
    session: Session, *, conversation: Conversation, actor: accounts.Actor, state: State | str
) -> Conversation:
    """Open, pending or resolved; closing without an answer goes through ``not_answering``."""
    actor.require(Role.AGENT)
    try:
        state = State(state)
    except ValueError:
        raise InvalidInput(N_("Unknown state."), field="state") from None
    if state is State.NOT_ANSWERING:
        raise InvalidInput(
            N_("Closing without an answer needs a reason and a note."), field="state"
        )
    if state is conversation.state:
        return conversation
    change_state(session, conversation, state, actor_id=actor.user_id)
    _audit(session, actor, conversation, "conversation.state", state=state.value)
    return conversation


def change_state(
    session: Session,
    conversation: Conversation,
    state: State,
    *,
    actor_id: uuid.UUID | None = None,
    at: datetime | None = None,
    **data: Any,
) -> None:
    at = at or utcnow()
    previous = conversation.state
    conversation.state = state
    if state in ACTIVE_STATES:
        conversation.closed_at = None
        conversation.close_reason = None
        conversation.close_note = None
        conversation.closed_by_id = None
    else:
        conversation.closed_at = at
        conversation.closed_by_id = actor_id
    sla.restart(session, conversation, at=at, reopened=previous not in ACTIVE_STATES)
    log_event(
        session,
        conversation,
        "state",
        actor_id=actor_id,
        at=at,
        state=state.value,
        previous=previous.value,
        **data,
    )


def reasons(session: Session, *, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(key, label) of the reasons to close without an answer, in the workspace's order.

    A label of the default list is an English msgid the page translates; a workspace's
    own labels are shown as written.
    """
    rows = list(
        session.scalars(
            select(CloseReason)
            .where(CloseReason.workspace_id == workspace_id, CloseReason.archived.is_(False))
            .order_by(CloseReason.position, CloseReason.key)
        )
    )
    if not rows:
        return list(DEFAULT_REASONS.items())
    return [(row.key, row.label) for row in rows]


def save_reasons(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, labels: Sequence[str]
) -> list[tuple[str, str]]:
    """Replace the workspace's list (one label a line); keys of old reasons stay reportable."""
    actor.require(Role.ADMIN)
    clean = [label.strip()[:200] for label in labels if label.strip()]
    if not clean:
        raise InvalidInput(N_("Keep at least one reason."), field="reasons")
    existing = {
        row.label: row
        for row in session.scalars(
            select(CloseReason).where(CloseReason.workspace_id == workspace_id)
        )
    }
    defaults = {label: key for key, label in DEFAULT_REASONS.items()}
    for old in existing.values():
        old.archived = True
    for position, label in enumerate(dict.fromkeys(clean)):
        row = existing.get(label)
        if row is None:
            key = defaults.get(label) or f"r{uuid.uuid4().hex[:8]}"
            row = CloseReason(workspace_id=workspace_id, key=key, label=label)
            session.add(row)
        row.position = position
        row.archived = False
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="inbox.reasons",
        entity_type="workspace",
        entity_id=workspace_id,
        details={"reasons": clean},
    )
    session.flush()
    return reasons(session, workspace_id=workspace_id)


def reason_label(session: Session, *, workspace_id: uuid.UUID, key: str | None) -> str | None:
    if key is None:
        return None
    if key in DEFAULT_REASONS:
        return DEFAULT_REASONS[key]
    row = session.scalars(
        select(CloseReason).where(CloseReason.workspace_id == workspace_id, CloseReason.key == key)
    ).one_or_none()
    return row.label if row else key


def not_answering(
    session: Session,
    *,
    conversation: Conversation,
    actor: accounts.Actor,
    reason: str,
    note: str,
) -> Conversation:
    """Close without a reply, on purpose: a reason from the workspace's list and a note."""
    actor.require(Role.AGENT)
    keys = {key for key, _ in reasons(session, workspace_id=conversation.workspace_id)}
    if reason not in keys:
        raise InvalidInput(N_("Choose a reason from the list."), field="reason")
    note = (note or "").strip()
    if not note:
        raise InvalidInput(N_("Write a note: why is not answering right here?"), field="note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(N_("The note is too long."), field="note")
    # Set before the state changes, so that the event hooks (webhooks) see reason and note.
    conversation.close_reason = reason
    conversation.close_note = note
    change_state(session, conversation, State.NOT_ANSWERING, actor_id=actor.user_id, reason=reason)
    _audit(session, actor, conversation, "conversation.not_answering", reason=reason)
    return conversation


def set_priority(
    session: Session,
    *,
    conversation: Conversation,
    actor: accounts.Actor,
    priority: Priority | str | None,
) -> Conversation:
    """Override the computed priority; None hands it back to the computation."""
    actor.require(Role.AGENT)
    if priority in (None, ""):
        conversation.priority_manual = False
        log_event(session, conversation, "priority", actor_id=actor.user_id, manual=False)
        _audit(session, actor, conversation, "conversation.priority", priority=None)
        return conversation
    try:
        value = Priority(priority)
    except ValueError:
        raise InvalidInput(N_("Unknown priority."), field="priority") from None
    conversation.priority = value
    conversation.priority_manual = True
    sla.apply_policy(session, conversation)
    log_event(session, conversation, "priority", actor_id=actor.user_id, priority=value.value)
    _audit(session, actor, conversation, "conversation.priority", priority=value.value)
    return conversation


# --- notes ------------------------------------------------------------------------------------


def add_note(
    session: Session, *, conversation: Conversation, actor: accounts.Actor, text: str
) -> InternalNote:
    """An internal note; ``@name`` or ``@email`` of a member notifies them."""
    actor.require(Role.AGENT)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(N_("Write the note first."), field="text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(N_("The note is too long."), field="text")
    mentioned = mentions_in(session, workspace_id=conversation.workspace_id, text=text)
    note = InternalNote(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        author_id=actor.user_id,
        text=text,
        mentions=[str(m) for m in mentioned],
    )
    session.add(note)
    log_event(session, conversation, "note", actor_id=actor.user_id)
    notify(
        session,
        workspace_id=conversation.workspace_id,
        user_ids=[m for m in mentioned if m != actor.user_id],
        kind="mention",
        conversation=conversation,
    )
    session.flush()
    return note


def mentions_in(session: Session, *, workspace_id: uuid.UUID, text: str) -> list[uuid.UUID]:
    """Members named in ``@…``: by email, by the part before @, or by first name."""
    words = {w.lower().rstrip(".") for w in MENTION.findall(text)}
    if not words:
        return []
    found: list[uuid.UUID] = []
    for member in agents(session, workspace_id=workspace_id):
        email = member.email.lower()
        first = member.name.split()[0].lower() if member.name.split() else ""
        if words & {email, email.split("@")[0], first}:
            found.append(member.user_id)
    return found


def notes(session: Session, *, conversation: Conversation) -> list[InternalNote]:
    return list(
        session.scalars(
            select(InternalNote)
            .where(
                InternalNote.workspace_id == conversation.workspace_id,
                InternalNote.conversation_id == conversation.id,
            )
            .order_by(InternalNote.created_at)
        )
    )


# --- merge and split --------------------------------------------------------------------------


def merge(
    session: Session, *, target: Conversation, source: Conversation, actor: accounts.Actor
) -> Conversation:
    """Move every message of ``source`` into ``target``; ``source`` is closed as merged."""
    actor.require(Role.AGENT)
    if target.id == source.id:
        raise InvalidInput(N_("A conversation cannot be merged into itself."), field="source")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict(N_("This conversation was already merged."))
    workspace_id = target.workspace_id
    session.execute(
        update(ConversationMessage)
        .where(
            ConversationMessage.workspace_id == workspace_id,
            ConversationMessage.conversation_id == source.id,
        )
        .values(conversation_id=target.id)
    )
    target.message_count += source.message_count
    target.opened_at = min(target.opened_at, source.opened_at)
    if source.last_message_at > target.last_message_at:
        for field in ("last_message_at", "last_inbound_id", "preview", "sentiment", "intents"):
            setattr(target, field, getattr(source, field))
        target.urgency, target.language = source.urgency, source.language
    target.threat = target.threat or source.threat
    source.merged_into_id = target.id
    change_state(session, source, State.RESOLVED, actor_id=actor.user_id, merged_into=target.number)
    log_event(session, target, "merged", actor_id=actor.user_id, source=source.number)
    _audit(session, actor, target, "conversation.merge", source=source.number)
    return target


def split(
    session: Session, *, conversation: Conversation, actor: accounts.Actor, from_message_id: Any
) -> Conversation:
    """Move this message and every later one into a new conversation (a new topic began)."""
    actor.require(Role.AGENT)
    workspace_id = conversation.workspace_id
    ids = message_ids(session, conversation=conversation)
    try:
        start = ids.index(uuid.UUID(str(from_message_id)))
    except ValueError:
        raise InvalidInput(
            N_("That message is not in this conversation."), field="message_id"
        ) from None
    if start == 0:
        raise InvalidInput(N_("Split after the first message."), field="message_id")
    moved = ids[start:]
    found = session.execute(
        select(ConversationMessage).where(
            ConversationMessage.workspace_id == workspace_id, ConversationMessage.id.in_(moved)
        )
    ).scalars()
    rows = list(found)
    first = min(r.created_at for r in rows)
    new = Conversation(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id),
        channel_id=conversation.channel_id,
        thread_key=conversation.thread_key,
        identity_id=conversation.identity_id,
        author_name=conversation.author_name,
        subject=conversation.subject,
        preview=conversation.preview,
        state=State.OPEN,
        priority=conversation.priority,
        owner_id=conversation.owner_id,
        last_inbound_id=conversation.last_inbound_id,
        sentiment=conversation.sentiment,
        intents=conversation.intents,
        urgency=conversation.urgency,
        language=conversation.language,
        message_count=len(rows),
        opened_at=first,
        last_message_at=conversation.last_message_at,
        last_customer_at=max((r.created_at for r in rows if r.inbound), default=None),
        updated_at=utcnow(),
    )
    session.add(new)
    session.flush()
    for row in rows:
        row.conversation_id = new.id
    conversation.message_count -= len(rows)
    kept = session.execute(
        select(ConversationMessage.created_at)
        .where(
            ConversationMessage.workspace_id == workspace_id,
            ConversationMessage.conversation_id == conversation.id,
        )
        .order_by(ConversationMessage.created_at.desc())
        .limit(1)
    ).scalar_one()
    conversation.last_message_at = kept
    sla.apply_policy(session, new)
    log_event(session, new, "split", actor_id=actor.user_id, source=conversation.number)
    log_event(session, conversation, "split_off", actor_id=actor.user_id, target=new.number)
    _audit(session, actor, conversation, "conversation.split", target=new.number)
    return new
