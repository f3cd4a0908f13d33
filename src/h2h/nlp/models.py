"""Tables of the nlp domain: analyses, their aspects, corrections, workspace aspects and models."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_

INTENTS = (
    "complaint",
    "question",
    "request",
    "praise",
    "suggestion",
    "purchase",
    "threat",
    "spam",
    "other",
)
INTENT_LABELS = {
    "complaint": N_("Complaint"),
    "question": N_("Question"),
    "request": N_("Request"),
    "praise": N_("Praise / thanks"),
    "suggestion": N_("Suggestion"),
    "purchase": N_("Purchase intent"),
    "threat": N_("Threat"),
    "spam": N_("Spam / ads"),
    "other": N_("Other"),
}


def intent_mask(labels: list[str] | tuple[str, ...]) -> int:
    """Intents as bits, so a filter is one indexed integer test on both databases."""
    return sum(1 << INTENTS.index(label) for label in labels if label in INTENTS)


def intents_of(mask: int) -> list[str]:
    return [label for bit, label in enumerate(INTENTS) if mask & (1 << bit)]


class Sentiment(enum.StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


SENTIMENT_LABELS = {
    Sentiment.NEGATIVE: N_("Negative"),
    Sentiment.NEUTRAL: N_("Neutral"),
    Sentiment.POSITIVE: N_("Positive"),
}


class CorrectionField(enum.StrEnum):
    SENTIMENT = "sentiment"
    INTENTS = "intents"
    ASPECTS = "aspects"
    PROFANITY = "profanity"


class Analysis(TenantMixin, Base):
    """What the pipeline understood about one message (one row per message, replaced on
    re-analysis); corrected fields hold the human's value and are listed in ``corrected``."""

    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id"),
        ForeignKeyConstraint(
            ["workspace_id", "message_id"],
            ["messages.workspace_id", "messages.id"],
            ondelete="CASCADE",
        ),
        Index("ix_analyses_workspace_id_sentiment", "workspace_id", "sentiment"),
        Index("ix_analyses_workspace_id_urgency", "workspace_id", "urgency"),
    )

    message_id: Mapped[uuid.UUID]
    model_version: Mapped[str] = mapped_column(String(120))
    language: Mapped[str | None] = mapped_column(String(8))
    sentiment: Mapped[Sentiment] = mapped_column(str_enum(Sentiment, 10))
    sentiment_score: Mapped[float] = mapped_column(Float)
    intents: Mapped[int] = mapped_column(Integer, default=0)
    urgency: Mapped[float] = mapped_column(Float, default=0.0)
    profanity: Mapped[bool] = mapped_column(Boolean, default=False)
    insult: Mapped[bool] = mapped_column(Boolean, default=False)
    # The full analysis (scores, cues, aspects, entities, urgency reasons) for display/API.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    corrected: Mapped[list[str]] = mapped_column(JSON, default=list)
    analyzed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalysisAspect(TenantMixin, Base):
    """One aspect of one message, with its sentiment: what the aspect filter and reports read."""

    __tablename__ = "analysis_aspects"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id", "aspect"),
        ForeignKeyConstraint(
            ["workspace_id", "message_id"],
            ["messages.workspace_id", "messages.id"],
            ondelete="CASCADE",
        ),
        Index("ix_analysis_aspects_workspace_id_aspect", "workspace_id", "aspect", "sentiment"),
    )

    message_id: Mapped[uuid.UUID]
    aspect: Mapped[str] = mapped_column(String(64))
    sentiment: Mapped[Sentiment] = mapped_column(str_enum(Sentiment, 10))


class Correction(TenantMixin, Base):
    """A person's correction of one field of one message's analysis; the latest one counts."""

    __tablename__ = "label_corrections"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id", "field"),
        ForeignKeyConstraint(
            ["workspace_id", "message_id"],
            ["messages.workspace_id", "messages.id"],
            ondelete="CASCADE",
        ),
        Index("ix_label_corrections_workspace_id_created_at", "workspace_id", "created_at"),
    )

    message_id: Mapped[uuid.UUID]
    field: Mapped[CorrectionField] = mapped_column(str_enum(CorrectionField, 12))
    value: Mapped[Any] = mapped_column(JSON)
    previous: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkspaceAspect(TenantMixin, Base):
    """An aspect a workspace adds (or a default aspect it extends) by keyword lemmas."""

    __tablename__ = "workspace_aspects"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkspaceModel(TenantMixin, Base):
    """A sentiment model trained for one workspace; the active one replaces the shipped one."""

    __tablename__ = "workspace_models"
    __table_args__ = (UniqueConstraint("workspace_id", "language", "version"),)

    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1000))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


ASPECT_LABELS = {
    "delivery": N_("Delivery"),
    "price": N_("Price"),
    "quality": N_("Quality"),
    "staff": N_("Staff and service"),
    "support": N_("Support"),
    "payment": N_("Payment"),
    "refund": N_("Refunds and returns"),
    "website_app": N_("Website and app"),
    "location": N_("Place and ambience"),
    "food": N_("Food and drinks"),
    "timing": N_("Waiting and timing"),
    "booking": N_("Bookings"),
}
URGENCY_REASON_LABELS = {
    "threat": N_("threat"),
    "complaint": N_("complaint"),
    "negative": N_("negative tone"),
    "request": N_("asks for action"),
    "question": N_("asks a question"),
    "insult": N_("insult"),
    "profanity": N_("profanity"),
    "reach": N_("author's reach"),
}
