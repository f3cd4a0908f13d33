"""Tables of staff notifications that leave the app: by email and by Telegram.

The bell (``notifications``) stays the record of what a member should look at. A member
may also have chosen kinds sent to their account email and/or a Telegram chat; each such
message is a ``NotifyDelivery`` with its text fixed when queued (in the member's language),
so every retry sends the same words. It goes out through the workspace's own channels —
its SMTP mailbox, its Telegram bot — never through a service of ours.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_
from h2h.inbox.models import DeliveryStatus


class NotifyKind(enum.StrEnum):
    """What a member can have sent out (the ``kind`` of a ``Notification``)."""

    MENTION = "mention"
    ASSIGNED = "assigned"
    SLA_BREACH = "sla_breach"
    AUTOMATION = "automation"
    PROBLEM_ALERT = "problem_spike"  # what problems.alerts notifies


KIND_LABELS = {
    NotifyKind.MENTION: N_("Someone mentions me in a note"),
    NotifyKind.ASSIGNED: N_("A conversation is assigned to me"),
    NotifyKind.SLA_BREACH: N_("A conversation of mine is overdue"),
    NotifyKind.AUTOMATION: N_("An automation rule tells me"),
    NotifyKind.PROBLEM_ALERT: N_("A spike of complaints (problem alert)"),
}
DEFAULT_KINDS = (NotifyKind.SLA_BREACH, NotifyKind.MENTION, NotifyKind.PROBLEM_ALERT)


class Medium(enum.StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"


MEDIUM_LABELS = {Medium.EMAIL: N_("Email"), Medium.TELEGRAM: N_("Telegram")}


class NotifyPreference(TenantMixin, Base):
    """A member's choice in one workspace: which kinds leave the app, and where to."""

    __tablename__ = "notify_preferences"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[bool] = mapped_column(Boolean, default=False)  # to the account's email
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotifySettings(Base):
    """One row per workspace: which of its channels sends staff notifications.

    No foreign keys to ``channels``: a deleted or paused channel simply falls back to the
    first active one of its kind when the next message is sent.
    """

    __tablename__ = "notify_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    email_channel_id: Mapped[uuid.UUID | None]
    telegram_channel_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotifyDelivery(TenantMixin, Base):
    """One notification to one member by one medium: claimed, sent once, retried, recorded."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        Index("ix_notify_deliveries_workspace_id_user_id", "workspace_id", "user_id", "created_at"),
        Index("ix_notify_deliveries_workspace_id_status", "workspace_id", "status", "created_at"),
        Index("ix_notify_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    notification_id: Mapped[uuid.UUID | None]  # the bell's row it copies
    conversation_id: Mapped[uuid.UUID | None]  # what an erasure of its customer blanks
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    medium: Mapped[Medium] = mapped_column(str_enum(Medium))
    to_address: Mapped[str] = mapped_column(String(320))  # an email address or a chat id
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)  # an HTML alternative by email (digests)
    link: Mapped[str | None] = mapped_column(String(2000))
    channel_id: Mapped[uuid.UUID | None]  # the channel of the last attempt
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
