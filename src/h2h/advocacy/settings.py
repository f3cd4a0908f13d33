"""A workspace's engagement model and list thresholds: read, changed by admins, audited.

The only writer of ``advocacy_settings``. It stores only what differs from the shipped
defaults (``models_settings`` says why) and validates through the models' own
``from_dict``, so the form, the API and stored JSON obey the same ranges. A stored
override that a later release no longer accepts (a range tightened) is ignored with a
warning rather than breaking the Advocates page: the defaults are a safe answer, an error
page is not.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.advocacy import engagement as eng
from h2h.advocacy import influence as inf
from h2h.advocacy.models_settings import AdvocacySettings
from h2h.db import utcnow
from h2h.errors import N_, InvalidInput

log = logging.getLogger(__name__)

AUDIT_ACTIONS.update({"advocacy.settings": N_("changed the engagement and advocacy settings")})
PARTS = ("engagement", "influence")


@dataclass(frozen=True)
class Current:
    """The settings in force, and which of their fields the workspace changed."""

    engagement: eng.EngagementSettings
    influence: inf.InfluenceSettings
    overrides: dict[str, dict[str, Any]]  # {"engagement": {...}, "influence": {...}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "engagement": self.engagement.to_dict(),
            "influence": self.influence.to_dict(),
            "overrides": self.overrides,
        }


DEFAULTS = Current(eng.DEFAULT, inf.DEFAULT, {"engagement": {}, "influence": {}})


def get(session: Session, *, workspace_id: uuid.UUID) -> Current:
    """The workspace's settings: its overrides over the defaults."""
    row = session.get(AdvocacySettings, workspace_id)
    if row is None:
        return DEFAULTS
    try:
        return _parse(row.engagement or {}, row.influence or {})
    except InvalidInput as exc:
        log.warning(
            "advocacy settings of workspace %s no longer valid (%s: %s); using the defaults",
            workspace_id,
            exc.field,
            exc,
        )
        return DEFAULTS


def save(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    engagement: Any,
    influence: Any,
) -> Current:
    """Replace the workspace's settings; fields left out (or at their default) follow the
    defaults. Errors name the field as ``engagement.window_days`` or ``influence.high_reach``."""
    actor.require(Role.ADMIN)
    current = _parse(engagement, influence)
    row = session.get(AdvocacySettings, workspace_id)
    if row is None:
        row = AdvocacySettings(workspace_id=workspace_id)
        session.add(row)
    before = {"engagement": dict(row.engagement or {}), "influence": dict(row.influence or {})}
    row.engagement = current.overrides["engagement"]
    row.influence = current.overrides["influence"]
    row.updated_at, row.updated_by = utcnow(), actor.user_id
    session.flush()
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="advocacy.settings",
        entity_type="workspace",
        entity_id=workspace_id,
        details={"before": before, "after": current.overrides},
    )
    return current


def _parse(engagement: Any, influence: Any) -> Current:
    parsed: dict[str, Any] = {}
    for part, cls, data in (
        ("engagement", eng.EngagementSettings, engagement),
        ("influence", inf.InfluenceSettings, influence),
    ):
        if not isinstance(data, Mapping):
            raise InvalidInput(N_("Expected an object."), field=part)
        try:
            parsed[part] = cls.from_dict(data)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"{part}.{exc.field}", **exc.params) from None
    overrides = {
        "engagement": _changed(parsed["engagement"].to_dict(), eng.DEFAULT.to_dict()),
        "influence": _changed(parsed["influence"].to_dict(), inf.DEFAULT.to_dict()),
    }
    return Current(parsed["engagement"], parsed["influence"], overrides)


def _changed(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The fields (and, within ``weights``, the kinds) that differ from the defaults."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            inner = {k: v for k, v in value.items() if defaults[key].get(k) != v}
            if inner:
                out[key] = inner
        elif value != defaults[key]:
            out[key] = value
    return out
