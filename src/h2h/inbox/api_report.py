"""GET /api/v1/workspaces/<ws>/inbox/report: how the workspace answered in a period."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from h2h.db import utcnow
from h2h.deps import Auth, SessionDep, WorkspaceDep, api_csrf
from h2h.errors import N_, InvalidInput
from h2h.inbox import report

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["inbox"])
MAX_RANGE = timedelta(days=731)


@router.get("/workspaces/{ws}/inbox/report")
def response_report(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    since: Annotated[datetime | None, Query(description="Start (ISO 8601, with zone)")] = None,
    until: Annotated[datetime | None, Query(description="End, exclusive")] = None,
) -> dict[str, Any]:
    """Conversations opened in [since, until) (the last 30 days by default): answered,
    consciously not answered by reason, undecided; response and resolution percentiles in
    minutes; SLA breaches by clock."""
    until = until or utcnow()
    since = since or until - timedelta(days=30)
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise InvalidInput(N_("Give the time with its time zone."), field=name)
    if not since < until or until - since > MAX_RANGE:
        raise InvalidInput(
            N_("Choose a period of up to two years, start before end."), field="since"
        )
    numbers = report.response_report(
        session, workspace_id=ctx.workspace.id, since=since, until=until
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        **asdict(numbers),
        "not_answered": numbers.not_answered,
    }
