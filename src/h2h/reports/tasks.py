"""Background jobs of the reports domain: the scheduled digest."""

from __future__ import annotations

from sqlalchemy.orm import Session

from h2h.jobs import each_workspace, job
from h2h.reports import digest_service


@job("reports.digest_due")
def digest_due(session: Session) -> int:
    """Queue the digests whose local send time passed and that were not sent for this period
    (``inbox.notify_out_due`` sends the queued messages)."""
    return each_workspace(
        session, "digests", lambda s, w: digest_service.send_due(s, workspace_id=w)
    )
