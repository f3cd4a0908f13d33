"""What a person's profile is made of: timeline sources and profile panels, registered by module.

The profile page and the timeline API do not know every kind of activity. Each part of the
people domain (messages, orders, events, notes, consents, merges, …) registers a timeline
source and, if it shows something beside the timeline, a profile panel. The profile merges
the sources newest first and renders the panels in their order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TimelineItem:
    """One thing on a person's timeline, ready to render and to serialise."""

    kind: str  # "message", "reply", "order", "event", "note", "consent", "merge", …
    at: datetime
    id: str  # unique within the kind: the row's id
    title: str  # English msgid or plain text; see ``params``
    body: str | None = None
    url: str | None = None  # a page of the workspace that shows more, relative to /w/<slug>
    data: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details


@dataclass(frozen=True)
class TimelineQuery:
    workspace_id: uuid.UUID
    person_id: uuid.UUID
    identity_ids: Sequence[uuid.UUID]  # the person's identities, already looked up
    before: datetime | None  # only items strictly older than this (keyset paging)
    limit: int


# A source returns at most ``query.limit`` of its newest items before ``query.before``.
TimelineSource = Callable[[Session, TimelineQuery], list[TimelineItem]]
SOURCES: dict[str, TimelineSource] = {}


def timeline_source(kind: str) -> Callable[[TimelineSource], TimelineSource]:
    """Register a timeline source under a kind (one per kind; re-registering replaces)."""

    def register(source: TimelineSource) -> TimelineSource:
        SOURCES[kind] = source
        return source

    return register


@dataclass(frozen=True)
class Panel:
    """A box on the profile page: a template and what it needs."""

    key: str
    template: str  # e.g. "people/_consent.html"; gets ``panel`` (the loader's dict)
    load: Callable[[Session, uuid.UUID, Any], dict[str, Any]]  # (session, workspace_id, person)
    order: int = 100


PANELS: dict[str, Panel] = {}


def profile_panel(panel: Panel) -> Panel:
    """Register a panel of the profile page (by key; re-registering replaces)."""
    PANELS[panel.key] = panel
    return panel


def panels() -> list[Panel]:
    return sorted(PANELS.values(), key=lambda p: (p.order, p.key))
