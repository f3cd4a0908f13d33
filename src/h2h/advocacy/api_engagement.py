"""Engagement over time and the workspace's advocacy settings over JSON.

``GET …/advocacy/engagement`` answers the report the Advocates page shows: the share of
each level now and at the end of each period, and who moved between levels in the last
one. Every member may read it (the page is theirs too); only admins change the settings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from h2h.advocacy import schemas_engagement as schemas
from h2h.advocacy import service
from h2h.advocacy import settings as tuning
from h2h.advocacy.engagement import Level
from h2h.db import utcnow
from h2h.deps import AdminWorkspace, Auth, SessionDep, WorkspaceDep, api_csrf

AuthDep = Annotated[Auth, Depends(api_csrf)]
BASE = "/workspaces/{ws}/advocacy"
router = APIRouter(tags=["advocacy"])


def _moves(rows: list[tuple[Level, Level, int]]) -> list[schemas.TransitionRead]:
    return [schemas.TransitionRead(from_level=a, to_level=b, count=n) for a, b, n in rows]


@router.get(
    BASE + "/engagement", response_model=schemas.EngagementReport, response_model_by_alias=True
)
def engagement(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    periods: Annotated[int, Query(ge=2, le=service.MAX_PERIODS)] = 6,
    period_days: Annotated[int, Query(ge=7, le=service.MAX_PERIOD_DAYS)] = 30,
) -> object:
    """Shares of each engagement level now and per period, and the moves in the last period."""
    now = utcnow()
    found = service.movement(
        session, workspace_id=ctx.workspace.id, now=now, periods=periods, period_days=period_days
    )
    latest = found.periods[-1]
    return schemas.EngagementReport(
        now=now,
        since=found.periods[-2].at,
        period_days=found.period_days,
        shares=latest.shares,
        counts=latest.counts,
        periods=[
            schemas.PeriodRead(at=p.at, people=p.people, counts=p.counts, shares=p.shares)
            for p in found.periods
        ],
        transitions=_moves([(a, b, n) for (a, b), n in found.transitions.items()]),
        moves=_moves(found.moves),
        capped=found.capped,
    )


@router.get(BASE + "/settings", response_model=schemas.AdvocacySettingsRead)
def get_settings(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """The engagement model's and the lists' settings in force, and what was changed."""
    return tuning.get(session, workspace_id=ctx.workspace.id).as_dict()


@router.put(BASE + "/settings", response_model=schemas.AdvocacySettingsRead)
def put_settings(
    body: schemas.AdvocacySettingsUpdate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Replace the changed settings (fields left out follow the defaults); admins only."""
    return tuning.save(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        engagement=body.engagement,
        influence=body.influence,
    ).as_dict()
