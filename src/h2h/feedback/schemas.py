"""API shapes of the feedback domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from h2h.feedback.models import SurveyKind


class SurveyCreate(BaseModel):
    kind: SurveyKind
    name: str = Field(max_length=200)
    intro: str | None = Field(default=None, max_length=1000)
    # Custom only: [{"type": "scale|single|multiple|text", "label", "options", "min", "max",
    # "required"}]
    questions: list[dict[str, Any]] | None = Field(default=None, max_length=20)


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: SurveyKind
    name: str
    intro: str | None
    questions: list[dict[str, Any]]
    active: bool
    created_at: datetime
    invitations: dict[str, int] = {}
    answers: int = 0


class RoundCreate(BaseModel):
    channel_id: uuid.UUID
    person_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)
    segment_id: uuid.UUID | None = None  # when person_ids is not given; none: everybody


class RoundRead(BaseModel):
    sent: int
    capped: int
    no_address: int
    refused: dict[str, int]  # consent rule → people


class ScoreRead(BaseModel):
    kind: SurveyKind
    n: int
    value: float | None
    low: float | None
    high: float | None
    good: int
    neutral: int
    bad: int
    mean: float | None
    readable: bool


class PeriodScore(BaseModel):
    start: datetime
    score: ScoreRead


class ScoresRead(BaseModel):
    since: datetime
    until: datetime
    overall: ScoreRead
    trend: list[PeriodScore]
    groups: dict[str, dict[str, ScoreRead]]


class ResponseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    survey_id: uuid.UUID
    person_id: uuid.UUID
    kind: SurveyKind
    score: int | None
    answers: dict[str, Any]
    comment: str | None
    conversation_id: uuid.UUID | None
    about_conversation_id: uuid.UUID | None
    channel_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
