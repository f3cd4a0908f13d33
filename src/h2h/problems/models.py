"""Tables of the problems domain: recurring complaints grouped into problems with a fix.

A problem is a cluster of complaints (messages; the channels domain owns them) with a
readable label, an owner, a lifecycle and evidence that the fix worked. ``problem_complaints``
says which problem each complaint belongs to — at most one per message, so moving a complaint
is one update. The cluster's centroid is stored as the sum of its members' vectors (float32
bytes) with the vector space it lives in; a change of representation re-embeds, never mixes.

Follow-ups are the personal messages prepared for every affected person once a problem is
fixed; alerts are the spikes detected per subject and per problem.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


class ProblemState(enum.StrEnum):
    CANDIDATE = "candidate"  # found by clustering; nobody looked yet
    CONFIRMED = "confirmed"  # a human agreed it is one problem
    FIXING = "fixing"  # an owner works on it: root cause, planned fix, due date
    FIXED = "fixed"  # the fix is done; waiting for the evidence
    VERIFIED = "verified"  # complaints fell after the fix
    REOPENED = "reopened"  # complaints came back after the fix
    DECLINED = "declined"  # not a problem we will fix, with a reason
    MERGED = "merged"  # absorbed into another problem (kept so links keep working)


STATE_LABELS = {
    ProblemState.CANDIDATE: N_("Candidate"),
    ProblemState.CONFIRMED: N_("Confirmed"),
    ProblemState.FIXING: N_("Fixing"),
    ProblemState.FIXED: N_("Fixed"),
    ProblemState.VERIFIED: N_("Verified"),
    ProblemState.REOPENED: N_("Reopened"),
    ProblemState.DECLINED: N_("Declined"),
    ProblemState.MERGED: N_("Merged"),
}
# States in which new complaints still join the problem automatically.
OPEN_STATES = (
    ProblemState.CANDIDATE,
    ProblemState.CONFIRMED,
    ProblemState.FIXING,
    ProblemState.FIXED,
    ProblemState.VERIFIED,
    ProblemState.REOPENED,
)


class Problem(TenantMixin, Base):
    __tablename__ = "problems"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_problems_workspace_id_state", "workspace_id", "state", "people_count"),
    )

    number: Mapped[int] = mapped_column(Integer)  # #12 in the UI, per workspace
    state: Mapped[ProblemState] = mapped_column(
        str_enum(ProblemState), default=ProblemState.CANDIDATE
    )
    title: Mapped[str | None] = mapped_column(String(300))  # a human's title; else the label
    key_phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    quote_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # representative messages
    language: Mapped[str | None] = mapped_column(String(8))
    space: Mapped[str] = mapped_column(String(32))  # vector space of the centroid
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 sum of members
    manual: Mapped[bool] = mapped_column(default=False)  # created by hand, not by clustering
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    root_cause: Mapped[str | None] = mapped_column(Text)
    planned_fix: Mapped[str | None] = mapped_column(Text)
    fix_due: Mapped[date | None] = mapped_column(Date)
    fix_note: Mapped[str | None] = mapped_column(Text)  # what was done
    decline_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[uuid.UUID | None]
    # Aggregates the board sorts and filters on, refreshed when members change.
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    people_count: Mapped[int] = mapped_column(Integer, default=0)
    first_complaint_at: Mapped[datetime | None]
    last_complaint_at: Mapped[datetime | None]
    aspects: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    channels: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    subjects: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    confirmed_at: Mapped[datetime | None]
    fixed_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # before/after numbers
    follow_up_wording: Mapped[str | None] = mapped_column(Text)  # the owner's, for the drafts
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProblemComplaint(TenantMixin, Base):
    """One complaint in one problem; ``pinned`` when a human put it there (refinement and
    re-clustering leave pinned complaints alone)."""

    __tablename__ = "problem_complaints"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id"),
        ForeignKeyConstraint(
            ["workspace_id", "problem_id"],
            ["problems.workspace_id", "problems.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["workspace_id", "message_id"],
            ["messages.workspace_id", "messages.id"],
            ondelete="CASCADE",
        ),
        Index("ix_problem_complaints_workspace_id_problem_id", "workspace_id", "problem_id"),
    )

    problem_id: Mapped[uuid.UUID]
    message_id: Mapped[uuid.UUID]
    identity_id: Mapped[uuid.UUID | None]  # the author; persons are looked up when read
    channel_id: Mapped[uuid.UUID]
    similarity: Mapped[float] = mapped_column(Float, default=0.0)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32, for refinement
    pinned: Mapped[bool] = mapped_column(default=False)
    added_by: Mapped[uuid.UUID | None]  # None: clustering
    complained_at: Mapped[datetime]  # the message's time: volume over time and evidence
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProblemEvent(TenantMixin, Base):
    """The problem's own history: state changes, merges, moves, follow-ups, alerts."""

    __tablename__ = "problem_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "problem_id"],
            ["problems.workspace_id", "problems.id"],
            ondelete="CASCADE",
        ),
        Index("ix_problem_events_workspace_id_problem_id", "workspace_id", "problem_id", "at"),
    )

    problem_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUpStatus(enum.StrEnum):
    DRAFT = "draft"  # prepared; the owner reviews and edits
    SENT = "sent"  # handed to the inbox for delivery
    SKIPPED = "skipped"  # the owner chose not to send this one
    BLOCKED = "blocked"  # no consent and no conversation to reply in, or no address


FOLLOW_UP_LABELS = {
    FollowUpStatus.DRAFT: N_("To review"),
    FollowUpStatus.SENT: N_("Sent"),
    FollowUpStatus.SKIPPED: N_("Skipped"),
    FollowUpStatus.BLOCKED: N_("Cannot be sent"),
}


class FollowUp(TenantMixin, Base):
    """The personal "we fixed it" message for one affected person of a fixed problem."""

    __tablename__ = "problem_follow_ups"
    __table_args__ = (
        UniqueConstraint("workspace_id", "problem_id", "recipient"),
        ForeignKeyConstraint(
            ["workspace_id", "problem_id"],
            ["problems.workspace_id", "problems.id"],
            ondelete="CASCADE",
        ),
    )

    problem_id: Mapped[uuid.UUID]
    recipient: Mapped[str] = mapped_column(String(80))  # "person:<id>" or "identity:<id>"
    person_id: Mapped[uuid.UUID | None]
    identity_id: Mapped[uuid.UUID | None]
    name: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[uuid.UUID | None]  # their latest complaint
    channel_id: Mapped[uuid.UUID | None]  # where it goes
    conversation_id: Mapped[uuid.UUID | None]  # replied in (direct reply) or started
    route: Mapped[str] = mapped_column(String(16), default="reply")  # reply | consent | none
    status: Mapped[FollowUpStatus] = mapped_column(
        str_enum(FollowUpStatus), default=FollowUpStatus.DRAFT
    )
    text: Mapped[str] = mapped_column(Text, default="")
    edited: Mapped[bool] = mapped_column(default=False)
    blocked_reason: Mapped[str | None] = mapped_column(String(300))  # a msgid, see params
    blocked_params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    delivery_id: Mapped[uuid.UUID | None]
    sent_by: Mapped[uuid.UUID | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertScope(enum.StrEnum):
    WORKSPACE = "workspace"
    SUBJECT = "subject"
    PROBLEM = "problem"


class SpikeAlert(TenantMixin, Base):
    """An unusual day: more complaints, or a higher share of negative mentions, than usual."""

    __tablename__ = "spike_alerts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "scope", "scope_id", "kind", "day"),
        Index("ix_spike_alerts_workspace_id_created_at", "workspace_id", "created_at"),
    )

    scope: Mapped[AlertScope] = mapped_column(str_enum(AlertScope))
    scope_id: Mapped[str] = mapped_column(String(40), default="")  # subject or problem id
    kind: Mapped[str] = mapped_column(String(20))  # volume | negative_share
    day: Mapped[date] = mapped_column(Date)
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    problem_id: Mapped[uuid.UUID | None]
    subject_id: Mapped[uuid.UUID | None]
    quote_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    notified: Mapped[int] = mapped_column(Integer, default=0)  # members told
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProblemSettings(TenantMixin, Base):
    """Per workspace: how sensitive detection is and who hears about spikes."""

    __tablename__ = "problem_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    alert_p_value: Mapped[float] = mapped_column(Float, default=0.001)
    alert_min_count: Mapped[int] = mapped_column(Integer, default=5)
    alert_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # besides owners
    verify_window_days: Mapped[int] = mapped_column(Integer, default=14)
    follow_up_text: Mapped[str | None] = mapped_column(Text)  # the workspace's default wording
    # Analyses up to this time were looked at by the pending job (big imports, re-analysis).
    scanned_until: Mapped[datetime | None]
    scanned_message_id: Mapped[uuid.UUID | None]  # ties at the same instant: by message id
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
