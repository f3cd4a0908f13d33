"""Pydantic models of the problems API: problems on the board, one problem with its
evidence and quotes, the lifecycle actions, and the follow-up messages of a fixed problem."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.problems.models import FollowUpStatus, ProblemState

MAX_NUMBER = 2_147_483_647  # problem numbers are 32-bit integers on PostgreSQL
MAX_IDS = 1000


# --- reading ------------------------------------------------------------------------------------


class OwnerRead(BaseModel):
    id: uuid.UUID
    name: str


class ProblemRead(ORMModel):
    id: uuid.UUID
    number: int
    state: ProblemState
    title: str = Field(description="The human title, else the key phrases.")
    key_phrases: list[str]
    language: str | None
    manual: bool
    owner: OwnerRead | None = None
    root_cause: str | None
    planned_fix: str | None
    fix_due: date | None
    fix_note: str | None
    decline_reason: str | None
    merged_into: int | None = Field(None, description="The number merged into, if merged.")
    complaint_count: int
    people_count: int
    first_complaint_at: datetime | None
    last_complaint_at: datetime | None
    aspects: dict[str, int]
    channels: dict[str, int] = Field(description="Channel id → complaints.")
    subjects: dict[str, int] = Field(description="Subject id → complaints.")
    recent: int = Field(0, description="Complaints in the last 7 days.")
    previous: int = Field(0, description="Complaints in the 7 days before those.")
    confirmed_at: datetime | None
    fixed_at: datetime | None
    verified_at: datetime | None
    reopened_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProblemList(BaseModel):
    items: list[ProblemRead]
    emerging: int = Field(description="Candidate clusters still too small to show.")


class QuoteRead(BaseModel):
    message_id: uuid.UUID
    text: str
    author: str
    created_at: datetime


class AffectedRead(BaseModel):
    key: str
    person_id: uuid.UUID | None
    identity_id: uuid.UUID | None
    name: str
    complaints: int
    last_at: datetime
    message_id: uuid.UUID


class EvidenceRead(BaseModel):
    window_days: int
    fixed_at: str
    before: int
    after: int
    after_days: float
    before_rate: float
    after_rate: float
    before_share: float | None
    after_share: float | None
    p_value: float
    verdict: str = Field(description="fell, not_yet, no_change or rose")
    complete: bool


class EventRead(ORMModel):
    id: uuid.UUID
    kind: str
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    at: datetime


class ProblemDetail(ProblemRead):
    affected_count: int
    affected: list[AffectedRead]
    quotes: list[QuoteRead]
    evidence: EvidenceRead | None = Field(None, description="Before/after the fix, if fixed.")
    history: list[EventRead]


# --- acting -------------------------------------------------------------------------------------


class ProblemCreate(Input):
    title: str = Field(min_length=1, max_length=300)
    message_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_IDS)


class ProblemUpdate(Input):
    title: str | None = Field(None, min_length=1, max_length=300)
    owner_id: uuid.UUID | None = None
    root_cause: str | None = Field(None, max_length=10_000)
    planned_fix: str | None = Field(None, max_length=10_000)
    fix_due: date | None = None


class ProblemConfirm(Input):
    title: str | None = Field(None, max_length=300)


class ProblemDecline(Input):
    reason: str = Field(min_length=1, max_length=10_000)


class ProblemFixing(Input):
    owner_id: uuid.UUID
    root_cause: str = Field(min_length=1, max_length=10_000)
    planned_fix: str = Field(min_length=1, max_length=10_000)
    fix_due: date | None = None


class ProblemFixed(Input):
    fix_note: str = Field(min_length=1, max_length=10_000, description="What was done.")


class ProblemReopen(Input):
    note: str | None = Field(None, max_length=10_000)


class ProblemMerge(Input):
    into: int = Field(ge=1, le=MAX_NUMBER, description="The problem that keeps everything.")


class ProblemSplit(Input):
    message_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)
    title: str | None = Field(None, max_length=300)


class ComplaintsMove(Input):
    message_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)
    to: int = Field(ge=1, le=MAX_NUMBER, description="The number of the problem they move to.")


class ComplaintsAttach(Input):
    message_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)


class ComplaintsDetach(Input):
    message_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)


class CountRead(BaseModel):
    count: int


# --- follow-ups ---------------------------------------------------------------------------------


class FollowUpRead(ORMModel):
    id: uuid.UUID
    recipient: str
    person_id: uuid.UUID | None
    name: str | None
    route: str = Field(description="reply (in their conversation), consent (a new one) or none")
    status: FollowUpStatus
    text: str
    edited: bool
    blocked_reason: str | None = Field(description="Why it cannot be sent (English).")
    channel_id: uuid.UUID | None
    conversation_id: uuid.UUID | None
    conversation: int | None = Field(None, description="The conversation's number, if any.")
    delivery_id: uuid.UUID | None
    sent_at: datetime | None


class FollowUpPage(BaseModel):
    items: list[FollowUpRead]
    counts: dict[str, int]


class FollowUpWording(Input):
    text: str = Field(min_length=1, max_length=5000)


class FollowUpUpdate(Input):
    text: str | None = Field(None, min_length=1, max_length=5000)
    skipped: bool | None = None


class FollowUpSend(Input):
    follow_up_ids: list[uuid.UUID] | None = Field(
        None, max_length=MAX_IDS, description="Default: every draft."
    )


class DeliveryRead(ORMModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    status: str
    created_at: datetime
