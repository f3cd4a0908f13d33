"""Pydantic models of the people API: persons, their identities, timeline, tags, notes, fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.people.models import (
    AccountKind,
    ConsentPurpose,
    ConsentStatus,
    FieldType,
    IdentityKind,
    LifecycleStage,
)


class IdentityRead(ORMModel):
    id: uuid.UUID
    kind: IdentityKind
    namespace: str
    value: str
    display: str
    name: str | None
    url: str | None
    avatar_url: str | None
    channel_id: uuid.UUID | None
    verified: bool
    first_seen_at: datetime
    last_seen_at: datetime


class PersonRead(ORMModel):
    id: uuid.UUID
    name: str
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    language: str | None
    city: str | None
    organization: str | None = None
    owner_id: uuid.UUID | None
    stage: LifecycleStage
    stage_manual: bool
    account_kind: AccountKind
    liveness: float | None
    attributes: dict[str, Any]
    tags: list[str] = []
    identities: list[IdentityRead] = []
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    message_count: int
    order_count: int
    lifetime_value: int = Field(description="Money in minor units (kopecks, cents).")
    merged_into_id: uuid.UUID | None
    erased_at: datetime | None
    created_at: datetime


class SentimentMonth(BaseModel):
    month: str  # YYYY-MM
    negative: int
    neutral: int
    positive: int
    net: float  # (positive − negative) / all, −1..1


class KeyFiguresRead(BaseModel):
    first_contact: datetime | None
    last_contact: datetime | None
    lifetime_value: int = Field(description="Money in minor units (kopecks, cents).")
    currency: str
    order_count: int
    message_count: int
    sentiment: list[SentimentMonth]
    open_conversations: int
    open_message_ids: list[uuid.UUID]


class PersonProfile(PersonRead):
    key_figures: KeyFiguresRead


class PersonPage(BaseModel):
    items: list[PersonRead]
    total: int
    page: int
    page_size: int


class PersonCreate(Input):
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    city: str | None = Field(None, max_length=150)
    language: str | None = Field(None, max_length=8)
    organization: str | None = Field(None, max_length=300)
    owner_id: uuid.UUID | None = None
    stage: LifecycleStage | None = None
    attributes: dict[str, Any] | None = None


class PersonUpdate(Input):
    """Only the fields sent change; ``stage: null`` lets the stage follow activity again."""

    name: str | None = Field(None, min_length=1, max_length=300)
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    city: str | None = Field(None, max_length=150)
    language: str | None = Field(None, max_length=8)
    organization: str | None = Field(None, max_length=300)
    owner_id: uuid.UUID | None = None
    stage: LifecycleStage | None = None
    attributes: dict[str, Any] | None = None


class TimelineItemRead(BaseModel):
    kind: str
    at: datetime
    id: str
    title: str
    body: str | None
    url: str | None  # a page of the workspace, e.g. /w/<slug>/mentions/<id>
    data: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineItemRead]
    next_cursor: str | None = Field(description="Pass as ?before= for the next, older page.")


class TagCreate(Input):
    tag: str = Field(min_length=1, max_length=100)


class NoteCreate(Input):
    text: str = Field(min_length=1, max_length=10_000)


class NoteRead(ORMModel):
    id: uuid.UUID
    person_id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    created_at: datetime


class FieldCreate(Input):
    key: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=200)
    type: FieldType
    choices: list[str] | None = None


class FieldUpdate(Input):
    label: str | None = Field(None, min_length=1, max_length=200)
    choices: list[str] | None = None


class FieldRead(ORMModel):
    id: uuid.UUID
    key: str
    label: str
    type: FieldType
    choices: list[str]
    created_at: datetime


# --- merges -------------------------------------------------------------------------------------


class PersonBrief(BaseModel):
    id: uuid.UUID
    name: str


class Evidence(BaseModel):
    kind: str  # same_phone, same_email, name, …
    detail: str
    weight: float  # negative: speaks against


class MergeSuggestionRead(BaseModel):
    id: uuid.UUID
    person_a: PersonBrief
    person_b: PersonBrief
    score: float
    evidence: list[Evidence]
    created_at: datetime


class MergeSuggestionPage(BaseModel):
    items: list[MergeSuggestionRead]
    total: int
    page: int
    page_size: int


class MergeCreate(Input):
    other_id: uuid.UUID = Field(description="The person merged into this one (and then gone).")


class MergeRead(ORMModel):
    id: uuid.UUID
    winner_id: uuid.UUID
    loser_id: uuid.UUID
    score: float | None
    evidence: list[Evidence]
    automatic: bool
    merged_at: datetime
    merged_by_id: uuid.UUID | None
    undone_at: datetime | None
    undone_by_id: uuid.UUID | None


# --- consent and data-subject rights ------------------------------------------------------------


class ConsentCreate(Input):
    channel: str = Field(max_length=16, description='A channel kind ("telegram", …) or "any".')
    purpose: ConsentPurpose
    status: ConsentStatus = ConsentStatus.GRANTED
    source: str = Field(max_length=200, description="Where it comes from: a form, a call, …")
    evidence: str | None = Field(default=None, max_length=10_000)
    recorded_at: datetime | None = Field(
        default=None, description="When the person said so (default: now)."
    )


class ConsentRead(ORMModel):
    id: uuid.UUID
    channel: str
    purpose: ConsentPurpose
    status: ConsentStatus
    source: str
    evidence: str | None
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None


class BlockCreate(Input):
    channel: str = Field(max_length=16, description='A channel kind or "any" (every channel).')
    reason: str | None = Field(default=None, max_length=10_000)


class BlockRead(ORMModel):
    id: uuid.UUID
    channel: str
    reason: str | None
    created_at: datetime
    created_by_id: uuid.UUID | None


class ConsentCell(BaseModel):
    channel: str
    purpose: ConsentPurpose
    status: ConsentStatus | None  # None: no statement covers it
    inherited: bool  # decided by a record on "any"
    consent_id: uuid.UUID | None


class ConsentStateRead(BaseModel):
    cells: list[ConsentCell]
    blocks: list[BlockRead]
    history: list[ConsentRead]


class DecisionRead(BaseModel):
    allowed: bool
    rule: str
    reason: str = Field(description="English msgid of the reason; ``message`` is it formatted.")
    params: dict[str, str]
    message: str
    record_type: str | None
    record_id: uuid.UUID | None


class ErasureConfirm(Input):
    confirm: bool = Field(description="Must be true: erasure cannot be undone.")


class ErasureRead(BaseModel):
    person_id: uuid.UUID
    erased_at: datetime
    profiles: int
    identities: int
    messages: int
    replies: int
    orders: int
    events: int


class OrderRead(ORMModel):
    id: uuid.UUID
    external_id: str = Field(description="The order (invoice) number in the shop.")
    identity_id: uuid.UUID | None
    placed_at: datetime
    is_cancellation: bool
    total: int = Field(description="Minor units (kopecks, pence); negative for a cancellation.")
    currency: str | None
    country: str | None
    line_count: int
    source: str | None


class OrderPage(BaseModel):
    items: list[OrderRead]
    total: int
    page: int
    page_size: int
