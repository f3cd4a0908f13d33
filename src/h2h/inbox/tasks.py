"""Background jobs of the inbox: thread what ingest left, deliver replies, watch SLAs."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import Workspace
from h2h.db import transaction
from h2h.inbox import replies, sla, threading
from h2h.jobs import job

log = logging.getLogger(__name__)


def _factory(session: Session) -> sessionmaker[Session]:
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


@job("inbox.thread_pending")
def thread_pending(session: Session) -> int:
    """Thread recent messages a big batch left behind, one transaction per workspace."""
    factory = _factory(session)
    total = 0
    for workspace_id in session.scalars(select(Workspace.id)).all():
        try:
            with transaction(factory) as own:
                total += threading.thread_pending(own, workspace_id=workspace_id)
        except Exception:
            # One workspace's bad row must not stop the others; the next run tries again.
            log.exception("threading failed for workspace %s", workspace_id)
    return total


@job("inbox.deliver")
def deliver(session: Session, *, workspace_id: str, delivery_id: str) -> str | None:
    """One attempt at one reply (enqueued after the reply is committed)."""
    status = replies.deliver(
        _factory(session), workspace_id=uuid.UUID(workspace_id), delivery_id=uuid.UUID(delivery_id)
    )
    return status.value if status else None


@job("inbox.deliver_due")
def deliver_due(session: Session) -> int:
    """Retry replies whose next attempt is due; fail claims a dead process left behind."""
    factory = _factory(session)
    with transaction(factory) as own:
        due = replies.due(own)
    for workspace_id, delivery_id in due:
        try:
            replies.deliver(factory, workspace_id=workspace_id, delivery_id=delivery_id)
        except Exception:
            log.exception("delivery %s failed", delivery_id)
    return len(due)


@job("inbox.check_sla")
def check_sla(session: Session) -> int:
    """Record SLA breaches and tell the owners."""
    return sla.check_breaches(session)
