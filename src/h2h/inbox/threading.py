"""Threading: every new customer message joins a conversation, or opens one.

A message belongs to the conversation of, in order:

1. the message it answers (``parent_id``: a Telegram reply, an email's In-Reply-To) when
   that conversation is this author's or the answered message is ours;
2. the latest conversation of its thread for the same author (a Telegram chat, an email
   thread by References, a VK wall thread — a public thread holds one conversation per
   author, since each of them needs their own answer);
3. without a thread id, the same author on the same channel within ``SAME_TOPIC``.

A closed conversation found this way is reopened if it was closed within
``REOPEN_WINDOW``; after that the customer starts a new one. Our own outbound messages
that arrive through a channel (an answer typed in the VK app) join the conversation they
answer and count as a response.

Only messages newer than ``HORIZON`` are threaded: importing last year's reviews fills the
mention stream, not the inbox with a thousand overdue conversations. Channels with
``"inbox": false`` in their settings (RSS feeds by default) are listening only.

Small batches are threaded inside the ingest transaction, after NLP and people linking
(registration order), so a webhook's message is in the inbox, routed and on the clock at
once; bigger batches wait for the ``inbox.thread_pending`` job, which also picks up
messages whose author was linked later.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind, Direction
from h2h.channels.models import Channel, Message
from h2h.db import utcnow
from h2h.inbox import routing, service, sla
from h2h.inbox.models import ACTIVE_STATES, Conversation, ConversationMessage, State
from h2h.nlp import service as nlp
from h2h.nlp.models import intents_of
from h2h.people import service as people
from h2h.subjects import service as subjects

INLINE_LIMIT = 500
HORIZON = timedelta(days=14)
REOPEN_WINDOW = timedelta(days=7)
SAME_TOPIC = timedelta(hours=24)
LINK_GRACE = timedelta(minutes=5)  # how long the pending job waits for an author's identity
LISTENING_ONLY = frozenset({ChannelKind.RSS})
PREVIEW = 300


def inbox_enabled(channel: Channel) -> bool:
    setting = (channel.config or {}).get("inbox")
    if isinstance(setting, bool):
        return setting
    return channel.kind not in LISTENING_ONLY


@ingest.after_ingest(stage=ingest.ACT)
def thread_new_messages(
    session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Post-ingest step: thread a small batch now; a big one waits for the pending job."""
    if 0 < len(messages) <= INLINE_LIMIT:
        thread_messages(session, workspace_id=workspace_id, message_ids=[m for m, _ in messages])


def thread_messages(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    message_ids: Sequence[uuid.UUID],
    now: datetime | None = None,
) -> int:
    """Put these messages into conversations (those not threaded yet); returns how many."""
    now = now or utcnow()
    rows = channels.messages_by_id(session, workspace_id=workspace_id, message_ids=message_ids)
    threaded = _threaded(session, workspace_id, [m.id for m in rows])
    kinds = {c.id: c for c in channels.list_channels(session, workspace_id=workspace_id)}
    todo = [
        m
        for m in rows
        if m.id not in threaded
        and m.channel_id in kinds
        and inbox_enabled(kinds[m.channel_id])
        and m.created_at >= now - HORIZON
    ]
    if not todo:
        return 0
    facts = _Facts(session, workspace_id, todo)
    count = 0
    for message in todo:
        if message.direction is Direction.OUTBOUND:
            count += _attach_ours(session, message)
        else:
            _thread_inbound(session, message, facts, kinds[message.channel_id], now)
            count += 1
    session.flush()
    return count


def _threaded(session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(
        session.scalars(
            select(ConversationMessage.id).where(
                ConversationMessage.workspace_id == workspace_id, ConversationMessage.id.in_(ids)
            )
        )
    )


class _Facts:
    """What the other domains know about a batch: analyses, subjects, authors."""

    def __init__(self, session: Session, workspace_id: uuid.UUID, messages: list[Message]) -> None:
        ids = [m.id for m in messages]
        self.analyses = nlp.analyses_of(session, workspace_id=workspace_id, message_ids=ids)
        self.subjects = subjects.subjects_of(session, workspace_id=workspace_id, message_ids=ids)
        identity_ids = sorted({m.identity_id for m in messages if m.identity_id is not None})
        self.persons = people.persons_by_identity(
            session, workspace_id=workspace_id, identity_ids=identity_ids
        )
        self.tags = people.tags_of(
            session,
            workspace_id=workspace_id,
            person_ids=sorted({p.id for p in self.persons.values()}),
        )

    def context(self, message: Message) -> routing.Context:
        analysis = self.analyses.get(message.id)
        person = self.persons.get(message.identity_id) if message.identity_id else None
        details = analysis.details if analysis else {}
        return routing.Context(
            language=(analysis.language if analysis else None) or message.language,
            intents=set(intents_of(analysis.intents)) if analysis else set(),
            aspects={str(a.get("aspect")) for a in details.get("aspects") or []},
            subjects={str(s.id) for s in self.subjects.get(message.id, [])},
            tags=set(self.tags.get(person.id, [])) if person else set(),
            reach=message.author_followers,
            urgency=analysis.urgency if analysis else 0.0,
            urgency_reasons=list(details.get("urgency_reasons") or []),
            person_owner_id=person.owner_id if person else None,
        )


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def _subject(message: Message) -> str | None:
    raw = message.raw or {}
    subject = raw.get("subject") if isinstance(raw, dict) else None
    return str(subject)[:300] if subject else None


def _link(session: Session, conversation: Conversation, message: Message) -> None:
    session.add(
        ConversationMessage(
            workspace_id=conversation.workspace_id,
            id=message.id,
            conversation_id=conversation.id,
            inbound=message.direction is Direction.INBOUND,
            created_at=message.created_at,
        )
    )
    conversation.message_count += 1
    conversation.last_message_at = max(conversation.last_message_at, message.created_at)
    conversation.updated_at = utcnow()


def set_labels(
    conversation: Conversation, message: Message, facts: _Facts | None
) -> routing.Context:
    """The conversation shows (and filters on) the labels of its latest customer message."""
    context = facts.context(message) if facts else routing.Context()
    analysis = facts.analyses.get(message.id) if facts else None
    conversation.last_inbound_id = message.id
    conversation.preview = _preview(message.text)
    # str(): right after ``nlp.correct`` the attribute holds the plain string it was given.
    conversation.sentiment = str(analysis.sentiment) if analysis else None
    conversation.intents = analysis.intents if analysis else 0
    conversation.urgency = context.urgency
    conversation.language = context.language
    conversation.reach = message.author_followers
    conversation.author_name = message.author_name or conversation.author_name
    return context


def refresh_labels(session: Session, conversation: Conversation) -> None:
    """Re-read the labels after a correction, a merge or a split."""
    ids = service.message_ids(session, conversation=conversation)
    messages = channels.messages_by_id(
        session, workspace_id=conversation.workspace_id, message_ids=ids
    )
    inbound = [m for m in messages if m.direction is Direction.INBOUND]
    if not inbound:
        return
    latest = inbound[-1]
    facts = _Facts(session, conversation.workspace_id, [latest])
    context = set_labels(conversation, latest, facts)
    conversation.threat = conversation.threat or "threat" in context.intents
    if routing.apply_priority(conversation, context):
        sla.apply_policy(session, conversation)
    conversation.updated_at = utcnow()


def _parent_conversation(
    session: Session, message: Message
) -> tuple[Message | None, Conversation | None]:
    """The message this one answers, and the conversation that message is in."""
    if not message.parent_id:
        return None, None
    parent = channels.message_by_external_id(
        session,
        workspace_id=message.workspace_id,
        channel_id=message.channel_id,
        external_id=message.parent_id,
    )
    if parent is None:
        return None, None
    found = service.conversation_of(
        session, workspace_id=message.workspace_id, message_id=parent.id
    )
    return parent, found


def _find(session: Session, message: Message, facts: _Facts) -> Conversation | None:
    workspace_id = message.workspace_id
    parent, found = _parent_conversation(session, message)
    if (
        parent is not None
        and found is not None
        and (parent.direction is Direction.OUTBOUND or found.identity_id == message.identity_id)
    ):
        return found
    query = select(Conversation).where(
        Conversation.workspace_id == workspace_id,
        Conversation.channel_id == message.channel_id,
        Conversation.identity_id == message.identity_id
        if message.identity_id
        else Conversation.author_name == message.author_name,
    )
    if message.thread_id:
        query = query.where(Conversation.thread_key == message.thread_id)
    else:
        query = query.where(Conversation.thread_key.is_(None))
    found = session.scalars(query.order_by(Conversation.last_message_at.desc()).limit(1)).first()
    if found is None:
        return None
    stale = found.last_message_at < message.created_at - SAME_TOPIC
    if not message.thread_id and found.state not in ACTIVE_STATES and stale:
        return None
    return found


def _followed(session: Session, conversation: Conversation) -> Conversation:
    seen = 0
    while conversation.merged_into_id is not None and seen < 10:
        conversation = service.get_conversation(
            session,
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.merged_into_id,
        )
        seen += 1
    return conversation


def _thread_inbound(
    session: Session, message: Message, facts: _Facts, channel: Channel, now: datetime
) -> None:
    found = _find(session, message, facts)
    if found is not None:
        found = _followed(session, found)
        closed_long_ago = (
            found.state not in ACTIVE_STATES
            and found.closed_at is not None
            and found.closed_at < message.created_at - REOPEN_WINDOW
        )
        if not closed_long_ago:
            _continue(session, found, message, facts)
            _received(session, found, message)
            return
    _received(session, _open(session, message, facts, channel), message)


def _received(session: Session, conversation: Conversation, message: Message) -> None:
    # Not a history event (the message is its own record), but webhooks and rules hear it.
    service.emit(session, conversation, "message", at=message.created_at, message=str(message.id))


def _open(session: Session, message: Message, facts: _Facts, channel: Channel) -> Conversation:
    workspace_id = message.workspace_id
    conversation = Conversation(
        workspace_id=workspace_id,
        number=service.next_number(session, workspace_id=workspace_id),
        channel_id=message.channel_id,
        thread_key=message.thread_id,
        identity_id=message.identity_id,
        subject=_subject(message),
        state=State.OPEN,
        message_count=0,
        intents=0,
        opened_at=message.created_at,
        last_message_at=message.created_at,
        last_customer_at=message.created_at,
        updated_at=utcnow(),
    )
    context = set_labels(conversation, message, facts)
    session.add(conversation)
    session.flush()
    _link(session, conversation, message)
    routing.route(session, conversation, context)
    sla.apply_policy(session, conversation)
    # Logged once routed, so that the event's hooks (rules, webhooks) see owner and priority.
    service.log_event(
        session, conversation, "opened", at=message.created_at, channel=channel.kind.value
    )
    return conversation


def _continue(
    session: Session, conversation: Conversation, message: Message, facts: _Facts
) -> None:
    _link(session, conversation, message)
    if conversation.last_customer_at is None or message.created_at >= conversation.last_customer_at:
        conversation.last_customer_at = message.created_at
        context = set_labels(conversation, message, facts)
        newly_threat = "threat" in context.intents and not conversation.threat
        routing.apply_priority(conversation, context)
        if newly_threat:
            conversation.threat = True
            settings = service.settings_of(session, workspace_id=conversation.workspace_id)
            escalation = settings.escalation_owner_id
            if escalation is not None and escalation != conversation.owner_id:
                service.set_owner(session, conversation, escalation, reason="threat")
    if conversation.state is not State.OPEN:
        service.change_state(
            session, conversation, State.OPEN, at=message.created_at, reason="customer_wrote"
        )
    else:
        sla.apply_policy(session, conversation)


def _attach_ours(session: Session, message: Message) -> int:
    """An answer typed outside H2H (the VK app, a mail client) still counts as ours."""
    if isinstance(message.raw, dict) and message.raw.get("h2h_delivery"):
        return 0  # a reply sent from H2H: ``replies`` links it itself
    workspace_id = message.workspace_id
    _, target = _parent_conversation(session, message)
    if target is None and message.thread_id:
        target = session.scalars(
            select(Conversation)
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.channel_id == message.channel_id,
                Conversation.thread_key == message.thread_id,
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(1)
        ).first()
    if target is None:
        return 0
    _link(session, target, message)
    record_response(session, target, at=message.created_at)
    return 1


def record_response(session: Session, conversation: Conversation, *, at: datetime) -> None:
    """We answered at ``at``: the clocks stop, and the customer's turn begins."""
    sla.responded(session, conversation, at=at)
    if conversation.state is State.OPEN:
        service.change_state(session, conversation, State.PENDING, at=at, reason="answered")
    service.log_event(session, conversation, "responded", at=at)


def link_outbound(session: Session, conversation: Conversation, message: Message) -> None:
    """Put a reply sent from H2H into its conversation (``replies`` calls this)."""
    _link(session, conversation, message)


def pending_ids(session: Session, *, workspace_id: uuid.UUID, limit: int = 1000) -> list[uuid.UUID]:
    """Recent customer messages not threaded yet, on channels that feed the inbox."""
    enabled = [
        c.id for c in channels.list_channels(session, workspace_id=workspace_id) if inbox_enabled(c)
    ]
    return channels.recent_unthreaded(
        session,
        workspace_id=workspace_id,
        since=utcnow() - HORIZON,
        channel_ids=enabled,
        threaded=select(ConversationMessage.id).where(
            ConversationMessage.workspace_id == workspace_id
        ),
        limit=limit,
    )


def thread_pending(session: Session, *, workspace_id: uuid.UUID, limit: int = 1000) -> int:
    """Thread what the inline step left: once NLP and linking are done, or after a grace."""
    ids = pending_ids(session, workspace_id=workspace_id, limit=limit)
    if not ids:
        return 0
    analysed = nlp.analyses_of(session, workspace_id=workspace_id, message_ids=ids)
    now = utcnow()
    ready = [
        m.id
        for m in channels.messages_by_id(session, workspace_id=workspace_id, message_ids=ids)
        if (m.id in analysed and m.identity_id is not None) or m.received_at <= now - LINK_GRACE
    ]
    return thread_messages(session, workspace_id=workspace_id, message_ids=ready, now=now)
