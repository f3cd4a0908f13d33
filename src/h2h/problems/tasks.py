"""Background jobs of the problems domain: cluster what ingest left, refine, verify, alert.

Each runs per workspace in its own transaction, so one workspace's bad row never stops
the others; the next run tries again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import Workspace
from h2h.db import transaction
from h2h.jobs import job
from h2h.problems import alerts, detect, evidence

log = logging.getLogger(__name__)


def _each_workspace(session: Session, name: str, work: Callable[[Session, uuid.UUID], Any]) -> int:
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    total = 0
    for workspace_id in session.scalars(select(Workspace.id)).all():
        try:
            with transaction(factory) as own:
                result = work(own, workspace_id)
                total += result if isinstance(result, int) else len(result)
        except Exception:
            log.exception("%s failed for workspace %s", name, workspace_id)
    return total


@job("problems.cluster_pending")
def cluster_pending(session: Session) -> int:
    """Cluster complaints analysed since the last run (big imports, re-analysis)."""
    return _each_workspace(
        session, "clustering", lambda s, w: detect.cluster_pending(s, workspace_id=w)
    )


@job("problems.refine")
def refine(session: Session) -> int:
    """Merge near-identical candidate problems and split incoherent ones."""

    def work(own: Session, workspace_id: uuid.UUID) -> int:
        done = detect.refine(own, workspace_id=workspace_id)
        return done.merged + done.split

    return _each_workspace(session, "refinement", work)


@job("problems.check_fixed")
def check_fixed(session: Session) -> int:
    """Verify fixes whose complaints fell, reopen problems whose complaints returned."""
    return _each_workspace(session, "verification", lambda s, w: evidence.check(s, workspace_id=w))


@job("problems.check_spikes")
def check_spikes(session: Session) -> int:
    """Alert the owners about today's unusual volumes of complaints."""
    return _each_workspace(session, "spike check", lambda s, w: alerts.check(s, workspace_id=w))
