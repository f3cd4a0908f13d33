"""Background jobs of the feedback domain: ask for CSAT after conversations, expire links."""

from __future__ import annotations

from sqlalchemy.orm import Session

from h2h.feedback import invites, service
from h2h.jobs import each_workspace, job


@job("feedback.ask_csat")
def ask_csat(session: Session) -> int:
    """The one-time CSAT request in conversations resolved a while ago (``inbox.deliver_due``
    sends the queued replies)."""
    return each_workspace(
        session, "CSAT requests", lambda s, w: invites.ask_after_resolved(s, workspace_id=w)
    )


@job("feedback.expire_links")
def expire_links(session: Session) -> int:
    """Mark invitations whose link ran out unanswered as expired."""
    return service.expire_links(session)
