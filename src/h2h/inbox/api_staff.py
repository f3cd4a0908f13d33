"""GET /api/v1/workspaces/<ws>/inbox/staff: how well each person served customers lately.

The same numbers and the same visibility as the "How we served customers" page
(``staff.visible_to``): admins and owners get every person, an agent their own row, their
teams and the workspace total; viewers get nothing. Rows come by name, never by volume.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from h2h.db import utcnow
from h2h.deps import AgentWorkspace, Auth, SessionDep, api_csrf
from h2h.feedback import service as feedback
from h2h.inbox import staff
from h2h.inbox.api_report import MAX_RANGE

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["inbox"])


class CsatRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    mean: float
    count: int
    satisfied_share: float


class StaffRowRead(BaseModel):
    """One person (``user_id``), one team (``members``) or the workspace (neither)."""

    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID | None
    name: str
    members: list[uuid.UUID]
    conversations: int
    owned: int
    answered: int
    not_answering: dict[str, int]
    not_answered: int
    undecided: int
    answered_share: float | None
    not_answered_share: float | None
    first_response_minutes: dict[str, float]
    resolution_minutes: dict[str, float]
    breaches: dict[str, int]
    csat: CsatRead | None
    problems_fixed: int
    problems_verified: int
    thanks: int


class StaffReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    since: datetime
    until: datetime
    agents: list[StaffRowRead]
    teams: list[StaffRowRead]
    total: StaffRowRead


@router.get("/workspaces/{ws}/inbox/staff", response_model=StaffReportRead)
def staff_report(
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=MAX_RANGE.days, description="The last N days")] = 30,
) -> StaffReportRead:
    """Per person and for the workspace, conversations opened in the last ``days`` days:
    owned, answered, consciously not answered by reason, undecided; first-response and
    resolution percentiles in minutes; SLA breaches; problems fixed and verified; thanks."""
    until = utcnow()
    since = until - timedelta(days=days)
    numbers = staff.staff_report(
        session,
        workspace_id=ctx.workspace.id,
        since=since,
        until=until,
        csat=feedback.csat_of_conversations(session, workspace_id=ctx.workspace.id, since=since),
    )
    return StaffReportRead.model_validate(staff.visible_to(numbers, actor=ctx.actor))
