"""Background jobs of the people domain."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import Workspace
from h2h.db import transaction, utcnow
from h2h.jobs import job

log = logging.getLogger(__name__)

# --- linking and identity resolution -------------------------------------------------------------

MAX_LINK_CHUNKS_PER_RUN = 5  # per workspace per run, so one huge import does not starve the others


def _each_workspace(
    session: Session, work: Callable[[sessionmaker[Session], uuid.UUID], int]
) -> int:
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    total = 0
    for workspace_id in session.scalars(select(Workspace.id)).all():
        try:
            total += work(factory, workspace_id)
        except Exception:
            # One workspace's bad row must not stop the others; the next run tries again.
            log.exception("people job failed for workspace %s", workspace_id)
    return total


def _link_workspace(factory: sessionmaker[Session], workspace_id: uuid.UUID) -> int:
    from h2h.people import linking

    done = 0
    for _ in range(MAX_LINK_CHUNKS_PER_RUN):
        with transaction(factory) as session:
            count = linking.link_pending(session, workspace_id=workspace_id)
        done += count
        if not count:
            break
    return done


@job("people.link_pending")
def link_pending(session: Session) -> int:
    """Link messages not linked to a person yet (big imports), a few chunks per workspace."""
    return _each_workspace(session, _link_workspace)


RESOLVE_CHUNK = 2000  # persons per transaction: SQLite has one writer, ingestion must not wait


def _in_chunks(
    factory: sessionmaker[Session],
    ids: list[uuid.UUID],
    size: int,
    work: Callable[[Session, list[uuid.UUID]], int],
) -> int:
    """``work`` over ``ids`` a chunk per transaction; the sum of what it returns."""
    done = 0
    for start in range(0, len(ids), size):
        with transaction(factory) as session:
            done += work(session, ids[start : start + size])
    return done


def _resolve_workspace(factory: sessionmaker[Session], workspace_id: uuid.UUID) -> int:
    from h2h.people import resolution

    with transaction(factory) as session:
        started, pending = resolution.pending_persons(session, workspace_id=workspace_id)
    suggested = _in_chunks(
        factory,
        pending,
        RESOLVE_CHUNK,
        lambda session, chunk: (
            resolution.suggest(session, workspace_id=workspace_id, person_ids=chunk).suggested
        ),
    )
    with transaction(factory) as session:
        resolution.mark_resolved(session, workspace_id=workspace_id, at=started)
    return suggested


@job("people.resolve")
def resolve(session: Session) -> int:
    """Propose merges for persons created or changed since the last run."""
    return _each_workspace(session, _resolve_workspace)


# --- profile refresh: figures, lifecycle stage, liveness ------------------------------------------

REFRESH_CHUNK = 2000


def _refresh_workspace(factory: sessionmaker[Session], workspace_id: uuid.UUID) -> int:
    from h2h.people import refresh

    with transaction(factory) as session:
        _, pending = refresh.pending_profiles(session, workspace_id=workspace_id)
    done = _in_chunks(
        factory,
        pending,
        REFRESH_CHUNK,
        lambda session, chunk: refresh.refresh_profiles(
            session, workspace_id=workspace_id, person_ids=chunk
        ),
    )
    # The recount touches updated_at, so the watermark is the end of the pass (a change made
    # while it ran waits for that person's next activity).
    with transaction(factory) as session:
        refresh.mark_refreshed(session, workspace_id=workspace_id, at=utcnow())
    return done


@job("people.refresh_profiles")
def refresh_profiles(session: Session) -> int:
    """Recount figures, stage and liveness of persons with activity since the last run."""
    return _each_workspace(session, _refresh_workspace)


# --- RFM scores and segment counts --------------------------------------------------------------


def _rfm_workspace(factory: sessionmaker[Session], workspace_id: uuid.UUID) -> int:
    from h2h.people import rfm, segments

    with transaction(factory) as session:
        report = rfm.compute(session, workspace_id=workspace_id)
    with transaction(factory) as session:
        segments.recount_all(session, workspace_id=workspace_id)
    return report.changed


@job("people.rfm")
def score_rfm(session: Session) -> int:
    """Rescore every customer's RFM (recency moves daily) and recount saved segments."""
    return _each_workspace(session, _rfm_workspace)


# --- files uploaded on the imports page -----------------------------------------------------------


@job("people.import_file")
def import_file(
    session: Session, *, workspace_id: str, kind: str, path: str, currency: str | None = None
) -> list[str]:
    """Import an uploaded file of orders or events in the background; the DataImport ids."""
    from pathlib import Path

    from h2h.people import events_import, orders
    from h2h.people.models import DataImportKind

    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    ws, paths = uuid.UUID(workspace_id), [Path(path)]
    if DataImportKind(kind) is DataImportKind.ORDERS:
        ids = orders.import_files(factory, workspace_id=ws, paths=paths, currency=currency)
    else:
        ids = events_import.import_files(factory, workspace_id=ws, paths=paths)
    return [str(i) for i in ids]
