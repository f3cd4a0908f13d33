"""Tables of the reports domain: hourly rollups of what the dashboard counts.

The dashboard of a workspace with a million messages cannot count raw rows on every load,
so jobs keep counts per UTC hour (``hour`` is hours since 1970-01-01 UTC). Hours, not
days: a day is the workspace's day, in its time zone, and hours add up to any time zone's
days, daylight saving time included. Each table holds only counts that can be recomputed
from the raw rows at any time (``rollups.refresh`` and ``rollups.rebuild``), so a rollup is
never the only copy of anything.

- ``report_message_hours``: inbound messages that are not duplicates, by channel, sentiment
  (``""`` when not analysed yet) and whether the message is public (has a link);
- ``report_mention_hours``: the same messages by each subject they matched;
- ``report_aspect_hours``: aspects mentioned in them, with the aspect's own sentiment;
- ``report_states``: per workspace, up to when the rollups are complete, and the figures
  too slow to compute on every load (advocates and detractors at risk).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin


class MessageHour(TenantMixin, Base):
    __tablename__ = "report_message_hours"
    __table_args__ = (
        UniqueConstraint("workspace_id", "hour", "channel_id", "sentiment", "public"),
    )

    hour: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[uuid.UUID]
    sentiment: Mapped[str] = mapped_column(String(10))
    public: Mapped[bool] = mapped_column(Boolean)
    messages: Mapped[int] = mapped_column(Integer)


class MentionHour(TenantMixin, Base):
    __tablename__ = "report_mention_hours"
    __table_args__ = (
        UniqueConstraint("workspace_id", "hour", "subject_id", "channel_id", "sentiment", "public"),
    )

    hour: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[uuid.UUID]
    channel_id: Mapped[uuid.UUID]
    sentiment: Mapped[str] = mapped_column(String(10))
    public: Mapped[bool] = mapped_column(Boolean)
    messages: Mapped[int] = mapped_column(Integer)


class AspectHour(TenantMixin, Base):
    __tablename__ = "report_aspect_hours"
    __table_args__ = (UniqueConstraint("workspace_id", "hour", "aspect", "sentiment"),)

    hour: Mapped[int] = mapped_column(BigInteger)
    aspect: Mapped[str] = mapped_column(String(64))
    sentiment: Mapped[str] = mapped_column(String(10))
    messages: Mapped[int] = mapped_column(Integer)


class ReportState(Base):
    """Per workspace: rollups are complete for the hours before ``rolled_until``."""

    __tablename__ = "report_states"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    rolled_until: Mapped[datetime]
    refreshed_at: Mapped[datetime]
    rebuilt_at: Mapped[datetime | None]
    # Slow figures, computed by the nightly job: {"advocates": n, "at_risk": n, "at": iso}.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
