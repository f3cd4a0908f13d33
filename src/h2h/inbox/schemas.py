"""Pydantic models of the inbox API: conversations, their messages and history, replies,
notes and the actions on them; outbound webhooks and automation rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.inbox.models import AutomationEvent, DeliveryStatus, Priority, State

MAX_NUMBER = 2_147_483_647  # conversation numbers are 32-bit integers on PostgreSQL


# --- conversations ------------------------------------------------------------------------------


class OwnerRead(BaseModel):
    id: uuid.UUID
    name: str


class ConversationRead(ORMModel):
    id: uuid.UUID
    number: int
    state: State
    priority: Priority
    priority_manual: bool
    priority_reasons: list[Any]
    owner: OwnerRead | None = None
    channel_id: uuid.UUID
    channel_kind: str | None = None
    subject: str | None
    preview: str
    author_name: str | None
    identity_id: uuid.UUID | None
    person_id: uuid.UUID | None = None
    threat: bool
    sentiment: str | None
    intents: list[str] = []
    urgency: float
    language: str | None
    reach: int | None
    message_count: int
    opened_at: datetime
    last_message_at: datetime
    last_customer_at: datetime | None
    first_response_at: datetime | None
    first_response_due: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None
    due_at: datetime | None
    sla_status: str | None = Field(None, description="breached, due_soon, on_track or null")
    breached: bool
    closed_at: datetime | None
    close_reason: str | None
    close_note: str | None
    merged_into: int | None = Field(None, description="The number merged into, if merged.")
    updated_at: datetime


class ConversationPage(BaseModel):
    items: list[ConversationRead]
    total: int
    page: int
    page_size: int


class MessageRead(BaseModel):
    id: uuid.UUID
    direction: str
    author_handle: str
    author_name: str | None
    text: str
    url: str | None
    language: str | None
    created_at: datetime


class EventRead(ORMModel):
    id: uuid.UUID
    kind: str
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    created_at: datetime


class ConversationNoteRead(ORMModel):
    id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    mentions: list[str]
    created_at: datetime


class DeliveryRead(ORMModel):
    id: uuid.UUID
    status: DeliveryStatus
    author_id: uuid.UUID | None
    author_name: str
    text: str
    link: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: uuid.UUID | None
    created_at: datetime
    sent_at: datetime | None


class ConversationDetail(ConversationRead):
    can_send: bool = Field(description="False: replies are recorded as made elsewhere.")
    messages: list[MessageRead]
    events: list[EventRead]
    notes: list[ConversationNoteRead]
    deliveries: list[DeliveryRead]


class ReplyCreate(Input):
    """A reply through the conversation's channel (recorded when the channel takes none)."""

    text: str = Field(min_length=1, max_length=20_000)
    template_id: uuid.UUID | None = None


class ReplyElsewhere(Input):
    """A reply made outside H2H (a review site, the phone, the shop floor), with its link."""

    text: str = Field(min_length=1, max_length=20_000)
    link: str | None = Field(None, max_length=2000)


class ConversationNoteCreate(Input):
    text: str = Field(min_length=1, max_length=10_000)


class AssignmentChange(Input):
    owner_id: str | None = Field(
        None, max_length=64, description='A member\'s user id, "me", or null to unassign.'
    )


class StateChange(Input):
    state: Literal["open", "pending", "resolved"]


class NotAnsweringCreate(Input):
    reason: str = Field(min_length=1, max_length=64, description="A key from close-reasons.")
    note: str = Field(min_length=1, max_length=10_000)


class PriorityChange(Input):
    priority: Priority | None = Field(description="null hands the priority back to the NLP.")


class ConversationMerge(Input):
    into: int = Field(ge=1, le=MAX_NUMBER, description="The conversation that keeps everything.")


class ConversationSplit(Input):
    message_id: uuid.UUID = Field(description="This message and every later one move.")


class CloseReasonRead(BaseModel):
    key: str
    label: str


# --- webhooks -----------------------------------------------------------------------------------


class WebhookRead(ORMModel):
    id: uuid.UUID
    name: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: verify X-H2H-Signature with it.")


class WebhookCreate(Input):
    url: str = Field(min_length=1, max_length=2000)
    name: str = Field("", max_length=200)
    events: list[str] | None = Field(None, max_length=20, description="Default: every event.")
    secret: str | None = Field(None, max_length=200, description="Default: a random one.")
    active: bool = True


class WebhookUpdate(Input):
    url: str | None = Field(None, min_length=1, max_length=2000)
    name: str | None = Field(None, max_length=200)
    events: list[str] | None = Field(None, max_length=20)
    secret: str | None = Field(None, max_length=200)
    active: bool | None = None


class WebhookDeliveryRead(ORMModel):
    id: uuid.UUID
    event: str
    conversation_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    response_status: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


# --- automation ---------------------------------------------------------------------------------


class AutomationRead(ORMModel):
    id: uuid.UUID
    name: str
    event: AutomationEvent
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    enabled: bool
    position: int
    fired_count: int
    last_fired_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AutomationCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    event: AutomationEvent
    conditions: dict[str, Any] = Field(default_factory=dict, max_length=20)
    actions: list[dict[str, Any]] = Field(min_length=1, max_length=20)
    enabled: bool = True


class AutomationUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    event: AutomationEvent | None = None
    conditions: dict[str, Any] | None = Field(None, max_length=20)
    actions: list[dict[str, Any]] | None = Field(None, min_length=1, max_length=20)
    enabled: bool | None = None
    position: int | None = Field(None, ge=0, le=10_000)
