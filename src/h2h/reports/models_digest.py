"""Tables of the digest: who wants one, when and where, and which periods were already done.

A member's digest choice lives beside (not inside) their notification preference: it has a
schedule and a time zone of its own, and the bell's kinds have nothing to do with it. The
targets are the same, though — the account's email address and the Telegram chat id saved
on the notifications page.

``digest_runs`` is the idempotency record: one row per member and period (``daily:2026-12-07``,
``weekly:2026-12-07``), inserted in the same transaction that queues the deliveries, under a
unique constraint. A rerun of the job, a second worker or a crash after the commit finds the
row and sends nothing; a crash before the commit leaves neither the row nor the deliveries.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


class Frequency(enum.StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


FREQUENCY_LABELS = {
    Frequency.OFF: N_("Off"),
    Frequency.DAILY: N_("Every day"),
    Frequency.WEEKLY: N_("Once a week"),
}
WEEKDAY_LABELS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


class RunStatus(enum.StrEnum):
    QUEUED = "queued"  # deliveries were queued through notify_out
    QUIET = "quiet"  # nothing happened: not sent, on purpose
    NO_TARGET = "no_target"  # no email channel / bot, or no address: nothing could go out


RUN_STATUS_LABELS = {
    RunStatus.QUEUED: N_("Sent to you"),
    RunStatus.QUIET: N_("Not sent: a quiet period"),
    RunStatus.NO_TARGET: N_("Not sent: no channel or address to send it to"),
}


class DigestPreference(TenantMixin, Base):
    """A member's digest in one workspace: how often, at what local hour, by which medium."""

    __tablename__ = "digest_preferences"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency, 8), default=Frequency.OFF)
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday, for weekly ones
    hour: Mapped[int] = mapped_column(Integer, default=9)  # local hour, 0–23
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the workspace's
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    telegram: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestRun(TenantMixin, Base):
    """One period's digest for one member: what was done, and what it quoted (for erasure)."""

    __tablename__ = "digest_runs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id", "period"),
        Index("ix_digest_runs_workspace_id_user_id", "workspace_id", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(40))  # daily:<date>, weekly:<date>, now:<time>
    since: Mapped[datetime]
    until: Mapped[datetime]
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, 12))
    delivery_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Messages and conversations quoted, so an erasure of their customer can blank the copies.
    quoted: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
