"""Tables of the inbox: conversations, their messages, replies on their way, SLAs, routing.

A conversation is the unit of work: one customer (an identity, so merges of persons never
touch it), one channel, a named owner, a state, a priority and SLA clocks. Messages stay
in ``messages`` (the channels domain owns them); ``conversation_messages`` says which
conversation each belongs to. A reply is a ``Delivery`` until the channel took it; then
it is also an outbound message, stored through ingest like every other.

The conversation row carries what the list filters and sorts on (labels of the latest
customer message, due times, owner), so the inbox list is one indexed query.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


class State(enum.StrEnum):
    OPEN = "open"  # the customer waits for us
    PENDING = "pending"  # we answered; waiting for the customer
    RESOLVED = "resolved"
    NOT_ANSWERING = "not_answering"  # closed without a reply, on purpose, with a reason


STATE_LABELS = {
    State.OPEN: N_("Open"),
    State.PENDING: N_("Waiting for the customer"),
    State.RESOLVED: N_("Resolved"),
    State.NOT_ANSWERING: N_("Not answering"),
}
ACTIVE_STATES = (State.OPEN, State.PENDING)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_LABELS = {
    Priority.LOW: N_("Low"),
    Priority.NORMAL: N_("Normal"),
    Priority.HIGH: N_("High"),
    Priority.URGENT: N_("Urgent"),
}
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class SlaTarget(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


SLA_TARGET_LABELS = {
    SlaTarget.FIRST_RESPONSE: N_("First response"),
    SlaTarget.NEXT_RESPONSE: N_("Next response"),
    SlaTarget.RESOLUTION: N_("Resolution"),
}


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for the next attempt
    SENDING = "sending"  # an attempt has claimed it
    SENT = "sent"  # the channel took it
    FAILED = "failed"  # given up, or the outcome is unknown: a person decides
    RECORDED = "recorded"  # a reply made elsewhere (a review site, the shop floor)


def _conversation_fk(column: str = "conversation_id") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["workspace_id", column],
        ["conversations.workspace_id", "conversations.id"],
        ondelete="CASCADE",
    )


def _user_fk() -> Any:
    return ForeignKey("users.id", ondelete="SET NULL")


class Conversation(TenantMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        ForeignKeyConstraint(
            ["workspace_id", "channel_id"],
            ["channels.workspace_id", "channels.id"],
            ondelete="CASCADE",
        ),
        Index("ix_conversations_workspace_id_state", "workspace_id", "state", "last_message_at"),
        Index("ix_conversations_workspace_id_owner_id", "workspace_id", "owner_id", "state"),
        Index("ix_conversations_workspace_id_thread", "workspace_id", "channel_id", "thread_key"),
        Index("ix_conversations_workspace_id_identity_id", "workspace_id", "identity_id"),
        Index("ix_conversations_workspace_id_updated_at", "workspace_id", "updated_at"),
        Index("ix_conversations_workspace_id_due_at", "workspace_id", "due_at"),
    )

    number: Mapped[int] = mapped_column(Integer)  # #123 in the workspace, for people to say
    channel_id: Mapped[uuid.UUID]
    thread_key: Mapped[str | None] = mapped_column(String(300))
    identity_id: Mapped[uuid.UUID | None]  # the customer; the person follows from it
    author_name: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(300))
    preview: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[State] = mapped_column(str_enum(State), default=State.OPEN)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.NORMAL)
    priority_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    threat: Mapped[bool] = mapped_column(Boolean, default=False)
    # Labels of the latest customer message: what the list shows and filters on.
    last_inbound_id: Mapped[uuid.UUID | None]
    sentiment: Mapped[str | None] = mapped_column(String(10))
    intents: Mapped[int] = mapped_column(Integer, default=0)
    urgency: Mapped[float] = mapped_column(Float, default=0.0)
    language: Mapped[str | None] = mapped_column(String(8))
    reach: Mapped[int | None] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_customer_at: Mapped[datetime | None]
    last_agent_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    # SLA clocks: None when not running. ``due_at`` is the earliest of them (sorting, breaches).
    sla_policy_id: Mapped[uuid.UUID | None]
    first_response_due: Mapped[datetime | None]
    next_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(64))
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    merged_into_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationMessage(TenantMixin, Base):
    """Which conversation a message belongs to (one each); ``id`` is the message id."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        _conversation_fk(),
        Index(
            "ix_conversation_messages_workspace_id_conversation_id",
            "workspace_id",
            "conversation_id",
            "created_at",
        ),
    )

    conversation_id: Mapped[uuid.UUID]
    inbound: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ConversationEvent(TenantMixin, Base):
    """What happened to a conversation: assigned, state, priority, SLA breach, a note."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        _conversation_fk(),
        Index(
            "ix_conversation_events_workspace_id_conversation_id",
            "workspace_id",
            "conversation_id",
            "created_at",
        ),
        Index("ix_conversation_events_workspace_id_kind", "workspace_id", "kind", "created_at"),
    )

    conversation_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InternalNote(TenantMixin, Base):
    """A note colleagues read and the customer never sees; ``mentions`` are user ids."""

    __tablename__ = "conversation_notes"
    __table_args__ = (
        _conversation_fk(),
        Index(
            "ix_conversation_notes_workspace_id_conversation_id", "workspace_id", "conversation_id"
        ),
    )

    conversation_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(TenantMixin, Base):
    """A reply on its way through a channel: retried until the channel takes it, sent once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        _conversation_fk(),
        Index("ix_deliveries_workspace_id_conversation_id", "workspace_id", "conversation_id"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    conversation_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    to_handle: Mapped[str] = mapped_column(String(300))
    thread_id: Mapped[str | None] = mapped_column(String(300))
    in_reply_to_id: Mapped[uuid.UUID | None]  # the customer message answered
    subject: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(2000))  # where a reply made elsewhere is
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[uuid.UUID | None]  # the outbound message once sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Draft(TenantMixin, Base):
    __tablename__ = "conversation_drafts"
    __table_args__ = (
        _conversation_fk(),
        UniqueConstraint("workspace_id", "conversation_id", "user_id"),
    )

    conversation_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Presence(TenantMixin, Base):
    """Who has a conversation open right now (the collision warning)."""

    __tablename__ = "conversation_presence"
    __table_args__ = (
        _conversation_fk(),
        UniqueConstraint("workspace_id", "conversation_id", "user_id"),
    )

    conversation_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    typing_at: Mapped[datetime | None]


class SlaPolicy(TenantMixin, Base):
    """Response and resolution targets, in minutes, for a priority (and optionally a channel)."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("workspace_id", "priority", "channel_kind"),)

    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority))
    channel_kind: Mapped[str | None] = mapped_column(String(16))  # None: every channel
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaBreach(TenantMixin, Base):
    __tablename__ = "sla_breaches"
    __table_args__ = (
        _conversation_fk(),
        UniqueConstraint("workspace_id", "conversation_id", "target", "due_at"),
        Index("ix_sla_breaches_workspace_id_breached_at", "workspace_id", "breached_at"),
    )

    conversation_id: Mapped[uuid.UUID]
    target: Mapped[SlaTarget] = mapped_column(str_enum(SlaTarget, 20))
    due_at: Mapped[datetime]
    breached_at: Mapped[datetime] = mapped_column(default=utcnow)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    priority: Mapped[Priority] = mapped_column(str_enum(Priority))


class CloseReason(TenantMixin, Base):
    """Why a conversation is closed without an answer; a workspace's own list."""

    __tablename__ = "close_reasons"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class AssignmentRule(TenantMixin, Base):
    """If a new conversation matches ``conditions``, its owner is one of ``user_ids``.

    Conditions (all must hold; a missing one holds): ``languages``, ``aspects``, ``intents``,
    ``channels`` (ids), ``subjects`` (ids), ``tags`` (the person's), ``min_reach``.
    Several users share the work round-robin, the least recently assigned first.
    """

    __tablename__ = "assignment_rules"

    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agent(TenantMixin, Base):
    """A member as the inbox sees them: available or away, signature, last assignment."""

    __tablename__ = "inbox_agents"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    signature: Mapped[str | None] = mapped_column(Text)
    last_assigned_at: Mapped[datetime | None]


class InboxSettings(Base):
    """One row per workspace: business hours, the escalation owner, the threat playbook."""

    __tablename__ = "inbox_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    escalation_owner_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk())
    playbook: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: the default one
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReplyTemplate(TenantMixin, Base):
    __tablename__ = "reply_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedView(TenantMixin, Base):
    """A named set of inbox filters; ``user_id`` None is shared with the workspace."""

    __tablename__ = "inbox_views"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", "name"),)

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(TenantMixin, Base):
    """Something a member should look at: a mention, an assignment, an SLA breach."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_workspace_id_user_id", "workspace_id", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


# --- integrations: outbound webhooks and automation rules ----------------------------------------


class WebhookEvent(enum.StrEnum):
    """What an outbound webhook can be told about (the ``X-H2H-Event`` header)."""

    OPENED = "conversation.opened"
    MESSAGE_RECEIVED = "message.received"
    REPLIED = "conversation.replied"
    ASSIGNED = "conversation.assigned"
    STATE_CHANGED = "conversation.state_changed"
    NOT_ANSWERING = "conversation.not_answering"
    SLA_BREACHED = "conversation.sla_breached"
    AUTOMATION = "automation.webhook"  # sent by an automation rule's "send webhook" action
    PROBLEM_ALERT = "problem.alert"  # a spike of complaints (the problems domain)


class WebhookEndpoint(TenantMixin, Base):
    """Where a workspace wants conversation events POSTed, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    name: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(TenantMixin, Base):
    """One event for one endpoint: the body is fixed when queued, so every retry is identical."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "endpoint_id"],
            ["webhook_endpoints.workspace_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_webhook_deliveries_workspace_id_endpoint_id",
            "workspace_id",
            "endpoint_id",
            "created_at",
        ),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    endpoint_id: Mapped[uuid.UUID]
    event: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[uuid.UUID | None]
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class AutomationEvent(enum.StrEnum):
    MESSAGE_CREATED = "message_created"
    CONVERSATION_OPENED = "conversation_opened"
    SLA_BREACHED = "sla_breached"
    STATE_CHANGED = "state_changed"


AUTOMATION_EVENT_LABELS = {
    AutomationEvent.MESSAGE_CREATED: N_("A customer message arrives"),
    AutomationEvent.CONVERSATION_OPENED: N_("A conversation opens"),
    AutomationEvent.SLA_BREACHED: N_("An SLA is breached"),
    AutomationEvent.STATE_CHANGED: N_("The state changes"),
}


class AutomationRule(TenantMixin, Base):
    """On ``event``, if every condition holds, run the actions in order (as Chatwoot does).

    ``conditions`` and ``actions`` are validated by ``automation.clean_conditions`` and
    ``automation.clean_actions``; every firing is audited.
    """

    __tablename__ = "automation_rules"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index("ix_automation_rules_workspace_id_event", "workspace_id", "event", "position"),
    )

    name: Mapped[str] = mapped_column(String(200))
    event: Mapped[AutomationEvent] = mapped_column(str_enum(AutomationEvent, 32))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    fired_count: Mapped[int] = mapped_column(Integer, default=0)
    last_fired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
