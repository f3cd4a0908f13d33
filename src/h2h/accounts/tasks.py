"""Jobs of the accounts domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from h2h.accounts import service
from h2h.jobs import job


@job("accounts.purge_expired")
def purge_expired(session: Session) -> int:
    """Delete expired login sessions and old login attempts."""
    return service.purge_expired(session)
