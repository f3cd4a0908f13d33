"""The profile refresh: figures, stage, interests and liveness of persons with new activity.

Run by the ``people.refresh_profiles`` job (hourly), by ``h2h people refresh`` and after
linking in the demo. Only persons created or changed, or seen (a new message or order),
since the last pass are looked at; the first pass looks at everyone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from h2h.db import utcnow
from h2h.people import interests, liveness, service
from h2h.people.models import Person

CHUNK = 2000  # persons per transaction of the job


def pending_profiles(
    session: Session, *, workspace_id: uuid.UUID
) -> tuple[datetime, list[uuid.UUID]]:
    """When this pass started, and the persons to refresh (everyone, the first time)."""
    started = utcnow()
    since = service.get_settings(session, workspace_id=workspace_id).profiles_refreshed_at
    query = select(Person.id).where(
        Person.workspace_id == workspace_id,
        Person.merged_into_id.is_(None),
        Person.erased_at.is_(None),
    )
    if since is not None:
        query = query.where(
            or_(Person.updated_at > since, Person.created_at > since, Person.last_seen_at > since)
        )
    return started, list(session.scalars(query.order_by(Person.id)))


def refresh_profiles(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> int:
    """Recount figures and stage, infer interests, assess liveness; returns how many."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return 0
    service.refresh_aggregates(session, workspace_id=workspace_id, person_ids=ids)
    interests.refresh_interests(session, workspace_id=workspace_id, person_ids=ids)
    return liveness.refresh_liveness(session, workspace_id=workspace_id, person_ids=ids)


def mark_refreshed(session: Session, *, workspace_id: uuid.UUID, at: datetime) -> None:
    """Remember that persons changed before ``at`` were refreshed."""
    service.get_settings(session, workspace_id=workspace_id).profiles_refreshed_at = at
    session.flush()


def refresh_workspace(session: Session, *, workspace_id: uuid.UUID) -> int:
    """One pass over a workspace in one transaction (the CLI and the demo)."""
    _, pending = pending_profiles(session, workspace_id=workspace_id)
    done = refresh_profiles(session, workspace_id=workspace_id, person_ids=pending)
    # The recount itself touches updated_at: the watermark is the end of the pass, or every
    # pass would redo the whole workspace.
    mark_refreshed(session, workspace_id=workspace_id, at=utcnow())
    return done
