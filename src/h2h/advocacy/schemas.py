"""API shapes of acting on advocates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from h2h.advocacy.models import ActionKind, ActionState


class ActionCreate(BaseModel):
    # Checked by the service, so an unknown kind or a long text gets our own clear message.
    kind: str = Field(max_length=40)
    person_ids: list[uuid.UUID] = Field(max_length=200)
    text: str = Field(max_length=20_000)
    link: str | None = Field(default=None, max_length=4000)
    rewarded: bool = False
    reward: str | None = Field(default=None, max_length=4000)
    channel_id: uuid.UUID | None = None  # none: the first channel consent allows


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ActionKind
    person_id: uuid.UUID
    state: ActionState
    text: str
    link: str | None
    rewarded: bool
    reward: str | None
    referral_code: str | None
    language: str | None
    channel_id: uuid.UUID | None
    conversation_id: uuid.UUID | None
    delivery_id: uuid.UUID | None
    route: str
    sent_by: uuid.UUID | None
    sent_at: datetime
    replied_at: datetime | None
    posted_at: datetime | None
    referred_at: datetime | None
    converted_at: datetime | None
    closed_at: datetime | None
    referred_person_id: uuid.UUID | None
    evidence: dict[str, Any]
    outcome_manual: bool
    outcome_note: str | None
    outcome_by: uuid.UUID | None
    outcome_at: datetime | None


class SendRead(BaseModel):
    sent: int
    capped: int
    no_address: int
    refused: dict[str, int]  # consent rule → people
    actions: list[ActionRead]


class OutcomeUpdate(BaseModel):
    state: str = Field(max_length=40)
    note: str = Field(max_length=20_000)


class KindCounts(BaseModel):
    sent: int
    replied: int
    posted: int
    referred: int
    converted: int
    declined: int
    no_response: int
    rewarded: int
    share: float  # of those sent, the share that led to a reply, post, referral or purchase
