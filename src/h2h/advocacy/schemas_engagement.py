"""API shapes of engagement over time and of the workspace's advocacy settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from h2h.advocacy.engagement import Level


class PeriodRead(BaseModel):
    at: datetime  # levels as of this moment: only what people did before it counts
    people: int
    counts: dict[Level, int]
    shares: dict[Level, float]


class TransitionRead(BaseModel):
    from_level: Level = Field(serialization_alias="from")
    to_level: Level = Field(serialization_alias="to")
    count: int


class EngagementReport(BaseModel):
    now: datetime
    since: datetime  # the end of the previous period: the transitions start here
    period_days: int
    shares: dict[Level, float]  # now
    counts: dict[Level, int]  # now
    periods: list[PeriodRead]  # oldest first, the last is now
    transitions: list[TransitionRead]  # from ``since`` to now, staying put included
    moves: list[TransitionRead]  # changes of level only, biggest first
    capped: bool


class AdvocacySettingsUpdate(BaseModel):
    """The fields to change from the defaults; everything left out follows the defaults."""

    # Validated by the models themselves, so an error names the field exactly
    # ("engagement.weights.like") and the API, the form and stored JSON agree.
    engagement: dict[str, Any] = Field(default_factory=dict)
    influence: dict[str, Any] = Field(default_factory=dict)


class AdvocacySettingsRead(BaseModel):
    engagement: dict[str, Any]  # every setting in force
    influence: dict[str, Any]
    overrides: dict[str, dict[str, Any]]  # what the workspace changed
