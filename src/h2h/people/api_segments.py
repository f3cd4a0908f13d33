"""JSON endpoints of segments and RFM: /api/v1/workspaces/<ws>/segments… and …/people/rfm."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from h2h.accounts.schemas import Input, ORMModel
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    Auth,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    api_csrf,
)
from h2h.people import directory, rfm, schemas, segments
from h2h.people.api import _reads
from h2h.people.models import Segment
from h2h.people.ui_segments import csv_response

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["people"])


class SegmentRead(ORMModel):
    id: uuid.UUID
    name: str
    description: str | None
    filters: dict[str, Any] = Field(validation_alias="definition")
    member_count: int | None
    computed_at: datetime | None
    created_at: datetime


class SegmentCreate(Input):
    name: str = Field(max_length=300)
    description: str | None = Field(default=None, max_length=3000)
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description="People list filters: q, stage, account_kind, tag, reachable_on, owner_id, "
        "contacted_within_days, silent_for_days, rfm_segment, consent, sentiment, field_key "
        "with field_value.",
    )


class SegmentUpdate(Input):
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=3000)
    filters: dict[str, Any] | None = None


class RfmSummary(BaseModel):
    segments: dict[str, int]
    grid: list[dict[str, int]]  # {"recency": r, "frequency": f, "persons": n}


class RfmRun(Input):
    as_of: datetime | None = None


class RfmReportRead(BaseModel):
    as_of: datetime
    customers: int
    changed: int
    segments: dict[str, int]


def _get(session: Session, ctx: WorkspaceContext, segment_id: uuid.UUID) -> Segment:
    return segments.get_segment(session, workspace_id=ctx.workspace.id, segment_id=segment_id)


@router.get("/workspaces/{ws}/segments", response_model=list[SegmentRead])
def list_segments(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """Saved segments, by name, with the member count of their last count."""
    return segments.list_segments(session, workspace_id=ctx.workspace.id)


@router.post("/workspaces/{ws}/segments", response_model=SegmentRead, status_code=201)
def create_segment(
    body: SegmentCreate, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Save filters as a segment; it is counted at once."""
    return segments.create_segment(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        name=body.name,
        description=body.description,
        definition=body.filters,
    )


@router.get("/workspaces/{ws}/segments/{segment_id:uuid}", response_model=SegmentRead)
def get_segment(
    segment_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """A segment, counted now."""
    segment = _get(session, ctx, segment_id)
    segments.recount(session, workspace_id=ctx.workspace.id, segment=segment)
    return segment


@router.patch("/workspaces/{ws}/segments/{segment_id:uuid}", response_model=SegmentRead)
def update_segment(
    segment_id: uuid.UUID,
    body: SegmentUpdate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    return segments.update_segment(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        segment=_get(session, ctx, segment_id),
        name=body.name,
        description=body.description,
        definition=body.filters,
    )


@router.delete("/workspaces/{ws}/segments/{segment_id:uuid}", status_code=204)
def delete_segment(
    segment_id: uuid.UUID, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    segments.delete_segment(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        segment=_get(session, ctx, segment_id),
    )
    return Response(status_code=204)


@router.get(
    "/workspaces/{ws}/segments/{segment_id:uuid}/members", response_model=schemas.PersonPage
)
def segment_members(
    segment_id: uuid.UUID,
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """Who is in the segment now, most recently in contact first."""
    persons, total = segments.members(
        session, workspace_id=ctx.workspace.id, segment=_get(session, ctx, segment_id), page=page
    )
    return schemas.PersonPage(
        items=_reads(session, ctx, persons), total=total, page=page, page_size=directory.PAGE_SIZE
    )


@router.get(
    "/workspaces/{ws}/segments/{segment_id:uuid}/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_segment(
    request: Request,
    segment_id: uuid.UUID,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> Response:
    """The members as CSV (UTF-8 with BOM; formula-like cells are quoted), streamed."""
    segment = _get(session, ctx, segment_id)
    export = segments.start_export(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, segment=segment
    )
    return csv_response(
        request.app.state.sessions, ctx.workspace.id, export, f"segment-{segment.id}.csv"
    )


@router.get("/workspaces/{ws}/people/rfm", response_model=RfmSummary)
def rfm_summary(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """Customers per RFM segment, and per (recency, frequency) score."""
    ws = ctx.workspace.id
    cells = rfm.grid(session, workspace_id=ws)
    return RfmSummary(
        segments=rfm.summary(session, workspace_id=ws),
        grid=[{"recency": r, "frequency": f, "persons": n} for (r, f), n in sorted(cells.items())],
    )


@router.post("/workspaces/{ws}/people/rfm", response_model=RfmReportRead)
def rescore_rfm(body: RfmRun, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep) -> object:
    """Score RFM now (as of a past moment if given) and recount the saved segments."""
    report = rfm.compute(session, workspace_id=ctx.workspace.id, as_of=body.as_of)
    segments.recount_all(session, workspace_id=ctx.workspace.id)
    return RfmReportRead(
        as_of=report.as_of,
        customers=report.customers,
        changed=report.changed,
        segments=dict(report.segments),
    )
