"""Background jobs of the nlp domain."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import Workspace
from h2h.db import transaction
from h2h.jobs import job
from h2h.nlp import service

log = logging.getLogger(__name__)
MAX_CHUNKS_PER_RUN = 5  # per workspace per run, so one huge import does not starve the others


@job("nlp.analyze_pending")
def analyze_pending(session: Session) -> int:
    """Analyse messages that have no current analysis, a few chunks per workspace per run."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    total = 0
    for workspace_id in session.scalars(select(Workspace.id)).all():
        total += analyze_workspace(factory, workspace_id)
    return total


def analyze_workspace(factory: sessionmaker[Session], workspace_id: uuid.UUID) -> int:
    done = 0
    for _ in range(MAX_CHUNKS_PER_RUN):
        try:
            with transaction(factory) as session:
                count = service.analyze_pending(session, workspace_id=workspace_id)
        except Exception:
            # A bad model file or a broken row must not stop the other workspaces.
            log.exception("analysing workspace %s failed", workspace_id)
            return done
        done += count
        if not count:
            break
    return done
