"""Background job of acting on advocates: follow each message to its outcome."""

from __future__ import annotations

from sqlalchemy.orm import Session

from h2h.advocacy import outcomes
from h2h.jobs import each_workspace, job


@job("advocacy.track_outcomes")
def track_outcomes(session: Session) -> int:
    """Replies, posts, referrals and purchases after our messages to advocates; no response
    after 30 days (``advocacy.outcomes``)."""
    return each_workspace(
        session, "advocacy outcomes", lambda s, w: outcomes.detect(s, workspace_id=w)
    )
