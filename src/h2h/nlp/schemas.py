"""Pydantic models of the nlp API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.nlp.models import CorrectionField, Sentiment


class AnalyzeRequest(Input):
    texts: list[str] = Field(min_length=1, max_length=100)
    languages: list[str | None] | None = Field(None, max_length=100)
    entities: bool = False


class AspectOut(BaseModel):
    aspect: str
    sentiment: Sentiment
    score: float
    cues: list[str]


class AnalysisOut(BaseModel):
    language: str | None
    sentiment: Sentiment
    sentiment_score: float
    scores: dict[str, float]
    sentiment_cues: list[str]
    sentiment_by_intent: bool = False
    intents: list[str]
    intent_scores: dict[str, float]
    intent_cues: dict[str, list[str]]
    profanity: bool
    insult: bool
    aspects: list[AspectOut]
    urgency: float
    urgency_reasons: list[str]
    entities: list[dict[str, Any]] = Field(default_factory=list)
    model_version: str
    corrected: list[str] = Field(default_factory=list)


class StoredAnalysis(AnalysisOut):
    message_id: uuid.UUID
    analyzed_at: datetime


class CorrectionCreate(Input):
    field: CorrectionField
    value: Any = Field(
        description="sentiment: 'negative'|'neutral'|'positive'; intents: list; "
        "aspects: {aspect: sentiment}; profanity: bool"
    )


class AspectCreate(Input):
    key: str = Field(min_length=2, max_length=41, pattern=r"^[a-z][a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=200)
    terms: list[str] = Field(min_length=1, max_length=300)


class AspectRead(ORMModel):
    id: uuid.UUID
    key: str
    name: str
    terms: list[str]
    created_at: datetime
