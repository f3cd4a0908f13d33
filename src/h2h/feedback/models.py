"""Tables of the feedback domain: surveys, the personal invitations to them, and the answers.

A survey is NPS, CSAT, CES or a short custom one. Each person is asked through an
*invitation*: a personal link (its secret is stored only as a SHA-256 hash) sent by email or
Telegram through the inbox — as the one-time CSAT request in a resolved conversation, or as
a message we start, which needs consent for surveys. One invitation has at most one answer
(``survey_responses`` is unique on it), which the person may change while the link is valid;
a free-text answer is also stored as the person's message, so NLP, problems and the inbox see
it like anything else they say.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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


class SurveyKind(enum.StrEnum):
    NPS = "nps"  # 0–10 "would you recommend us?" + why
    CSAT = "csat"  # 1–5 "how satisfied were you?" after a conversation
    CES = "ces"  # 1–7 "how easy was it to get what you needed?"
    CUSTOM = "custom"  # the workspace's own questions


KIND_LABELS = {
    SurveyKind.NPS: N_("NPS — would they recommend you"),
    SurveyKind.CSAT: N_("CSAT — satisfaction after a conversation"),
    SurveyKind.CES: N_("CES — how easy it was"),
    SurveyKind.CUSTOM: N_("Custom survey"),
}


class QuestionType(enum.StrEnum):
    SCALE = "scale"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class InviteStatus(enum.StrEnum):
    SENT = "sent"  # handed to the inbox for delivery
    ANSWERED = "answered"
    EXPIRED = "expired"


def _survey_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["workspace_id", "survey_id"], ["surveys.workspace_id", "surveys.id"], ondelete="CASCADE"
    )


def _person_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["workspace_id", "person_id"], ["persons.workspace_id", "persons.id"], ondelete="CASCADE"
    )


class Survey(TenantMixin, Base):
    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_workspace_id_kind", "workspace_id", "kind", "active"),)

    kind: Mapped[SurveyKind] = mapped_column(str_enum(SurveyKind))
    name: Mapped[str] = mapped_column(String(200))
    # What the invitation says above the link, in the workspace's words (None: the default).
    intro: Mapped[str | None] = mapped_column(Text)
    # Custom surveys only: [{"id", "type", "label", "options", "min", "max", "required"}].
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackSettings(Base):
    """Per workspace: when to ask and how often a person may be asked."""

    __tablename__ = "feedback_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    csat_after_resolve: Mapped[bool] = mapped_column(Boolean, default=True)
    csat_delay_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # No person gets more than one survey invitation in this many days (CSAT included).
    cap_days: Mapped[int] = mapped_column(Integer, default=30)
    # CSAT after a conversation may come sooner, but not more than once in this many days.
    csat_cap_days: Mapped[int] = mapped_column(Integer, default=7)
    link_days: Mapped[int] = mapped_column(Integer, default=30)  # how long a link works
    detractor_conversation: Mapped[bool] = mapped_column(Boolean, default=True)
    # Resolved conversations closed before this were never asked (the job's watermark).
    csat_scanned_until: Mapped[datetime | None]


class Invite(TenantMixin, Base):
    __tablename__ = "survey_invites"
    __table_args__ = (
        _survey_fk(),
        _person_fk(),
        Index("ix_survey_invites_token_hash", "token_hash"),
        Index("ix_survey_invites_workspace_id_person_id", "workspace_id", "person_id", "sent_at"),
        Index("ix_survey_invites_workspace_id_conversation_id", "workspace_id", "conversation_id"),
    )

    survey_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[uuid.UUID | None]
    # The conversation the invitation went out in (CSAT: the one it asks about).
    conversation_id: Mapped[uuid.UUID | None]
    about_conversation_id: Mapped[uuid.UUID | None]  # CSAT: the conversation rated
    delivery_id: Mapped[uuid.UUID | None]
    agent_id: Mapped[uuid.UUID | None]  # CSAT: who handled the conversation
    sent_by: Mapped[uuid.UUID | None]
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[InviteStatus] = mapped_column(str_enum(InviteStatus), default=InviteStatus.SENT)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class Response(TenantMixin, Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        _survey_fk(),
        _person_fk(),
        UniqueConstraint("workspace_id", "invite_id"),
        Index("ix_survey_responses_workspace_id_kind", "workspace_id", "kind", "created_at"),
        Index("ix_survey_responses_workspace_id_person_id", "workspace_id", "person_id"),
    )

    survey_id: Mapped[uuid.UUID]
    invite_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID]
    kind: Mapped[SurveyKind] = mapped_column(str_enum(SurveyKind))
    score: Mapped[int | None] = mapped_column(Integer)  # the main scale's answer
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # custom: id → answer
    comment: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[uuid.UUID | None]  # the comment as the person's message
    conversation_id: Mapped[uuid.UUID | None]  # where a detractor is being looked after
    about_conversation_id: Mapped[uuid.UUID | None]
    channel_id: Mapped[uuid.UUID | None]
    agent_id: Mapped[uuid.UUID | None]
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
