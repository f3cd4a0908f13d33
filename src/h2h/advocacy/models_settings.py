"""The table of the workspace's engagement and influence settings (docs/advocacy.md).

Only the *overrides* are stored: the fields a workspace changed, as the JSON that
``EngagementSettings.from_dict`` / ``InfluenceSettings.from_dict`` read. A field nobody
changed keeps following the shipped default, so a better default reaches every workspace
that never disagreed with the old one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, utcnow


class AdvocacySettings(Base):
    """Per workspace: the engagement model's and the two lists' changed settings."""

    __tablename__ = "advocacy_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    engagement: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    influence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
