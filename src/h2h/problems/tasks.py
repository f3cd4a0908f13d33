"""Background jobs of the problems domain: cluster what ingest left, refine, verify, alert.

Each runs per workspace in its own transaction, so one workspace's bad row never stops
the others; the next run tries again.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from h2h.jobs import each_workspace, job
from h2h.problems import alerts, detect, evidence

log = logging.getLogger(__name__)


@job("problems.cluster_pending")
def cluster_pending(session: Session) -> int:
    """Cluster complaints analysed since the last run (big imports, re-analysis)."""
    return each_workspace(
        session, "clustering", lambda s, w: detect.cluster_pending(s, workspace_id=w)
    )


@job("problems.refine")
def refine(session: Session) -> int:
    """Merge near-identical candidate problems and split incoherent ones."""

    def work(own: Session, workspace_id: uuid.UUID) -> int:
        done = detect.refine(own, workspace_id=workspace_id)
        return done.merged + done.split

    return each_workspace(session, "refinement", work)


@job("problems.check_fixed")
def check_fixed(session: Session) -> int:
    """Verify fixes whose complaints fell, reopen problems whose complaints returned."""
    return each_workspace(session, "verification", lambda s, w: evidence.check(s, workspace_id=w))


@job("problems.check_spikes")
def check_spikes(session: Session) -> int:
    """Alert the owners about today's unusual volumes of complaints."""
    return each_workspace(session, "spike check", lambda s, w: alerts.check(s, workspace_id=w))
