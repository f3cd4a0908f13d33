"""Pages of segments under /w/<ws>/people/segments: RFM overview, saved segments, exports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from h2h import exports
from h2h.accounts.models import Role
from h2h.db import transaction, utcnow
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, Conflict, InvalidInput
from h2h.people import directory, rfm, segments, service
from h2h.people.models import Segment
from h2h.people.ui import LAST_CONTACT, LIST_PARAMS, _list_query, _shared, form_fields
from h2h.people.ui_exports import persons_file
from h2h.templating import explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormDep = Annotated[dict[str, str], Depends(form_fields)]

_PARAM_OF = {  # PersonQuery field → People list parameter, where the names differ
    "reachable_on": "channel",
    "owner_id": "owner",
    "rfm_segment": "rfm",
}


def list_params(definition: dict[str, Any]) -> dict[str, str]:
    """The People list's query parameters that show the same persons as ``definition``."""
    params = {}
    for key, value in definition.items():
        if key in ("contacted_within_days", "silent_for_days", "field_key", "field_value"):
            continue
        params[_PARAM_OF.get(key, key)] = str(value)
    within, silent = definition.get("contacted_within_days"), definition.get("silent_for_days")
    for code, (_, days_within, days_silent) in LAST_CONTACT.items():
        if (within, silent) == (days_within, days_silent) and (within or silent):
            params["last_contact"] = code
    return params


def _base(ctx: WorkspaceContext) -> str:
    return f"/w/{ctx.workspace.slug}/people/segments"


def _overview(request: Request, ctx: WorkspaceContext, session: Session, **extra: Any) -> Response:
    ws = ctx.workspace.id
    status = int(extra.pop("status_code", 200))
    saved = segments.list_segments(session, workspace_id=ws)
    context = {
        **_shared(request),
        "segments": saved,
        "rfm_counts": rfm.summary(session, workspace_id=ws),
        "rfm_grid": rfm.grid(session, workspace_id=ws),
        "rfm_advice": rfm.SEGMENT_ADVICE,
        "rfm_segments": list(rfm.RfmSegment),
        "people_url": f"/w/{ctx.workspace.slug}/people",
        "can_edit": ctx.role.at_least(Role.AGENT),
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "list_params": {s.id: urlencode(list_params(s.definition)) for s in saved},
        "error": None,
        **extra,
    }
    return render(request, "people/segments.html", context, status_code=status)


@router.get("/w/{ws}/people/segments", response_class=HTMLResponse)
def segments_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _overview(request, ctx, session)


@router.post("/w/{ws}/people/segments", response_class=HTMLResponse)
def create_segment(
    request: Request, ctx: AgentWorkspace, session: SessionDep, form: FormDep
) -> Response:
    params = {k: form.get(k, "")[:300] for k in LIST_PARAMS}
    try:
        segment = segments.create_segment(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            name=form.get("name", ""),
            description=form.get("description", ""),
            definition=segments.definition_of(_list_query(params)),
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _overview(
            request, ctx, session, error=explain(request, exc), status_code=exc.status_code
        )
    response = redirect(f"{_base(ctx)}/{segment.id}")
    flash(response, request, N_("Segment “{name}” saved."), name=segment.name)
    return response


@router.post("/w/{ws}/people/segments/rfm")
def rescore_rfm(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    """Score RFM now rather than waiting for the nightly job."""
    report = rfm.compute(session, workspace_id=ctx.workspace.id)
    segments.recount_all(session, workspace_id=ctx.workspace.id)
    response = redirect(_base(ctx))
    flash(
        response,
        request,
        N_("RFM scores recomputed for {count} customers."),
        count=report.customers,
    )
    return response


def _get(session: Session, ctx: WorkspaceContext, segment_id: uuid.UUID) -> Segment:
    return segments.get_segment(session, workspace_id=ctx.workspace.id, segment_id=segment_id)


@router.get("/w/{ws}/people/segments/{segment_id:uuid}", response_class=HTMLResponse)
def segment_page(
    request: Request,
    segment_id: uuid.UUID,
    ctx: WorkspaceDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    ws = ctx.workspace.id
    segment = _get(session, ctx, segment_id)
    broken = None
    try:
        persons, total = segments.members(session, workspace_id=ws, segment=segment, page=page)
        segment.member_count, segment.computed_at = total, utcnow()
    except InvalidInput as exc:
        persons, total, broken = [], 0, explain(request, exc)
    base = f"{_base(ctx)}/{segment.id}"
    context = {
        **_shared(request),
        "segment": segment,
        "persons": persons,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // directory.PAGE_SIZE)),
        "page_url": lambda number: base + (f"?page={number}" if number > 1 else ""),
        "params": {},
        "filtered": False,
        "in_segment": True,
        "broken": broken,
        "list_query": urlencode(list_params(segment.definition)),
        "identities": directory.identities_of(
            session, workspace_id=ws, person_ids=[p.id for p in persons]
        ),
        "members": service.member_names(session, workspace_id=ws),
        "currency": service.get_settings(session, workspace_id=ws).currency,
        "can_edit": ctx.role.at_least(Role.AGENT),
    }
    return render(request, "people/segment.html", context)


@router.post("/w/{ws}/people/segments/{segment_id:uuid}")
def update_segment(
    request: Request,
    segment_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    name: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=3000)] = "",
) -> Response:
    segment = _get(session, ctx, segment_id)
    url = f"{_base(ctx)}/{segment.id}"
    try:
        segments.update_segment(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            segment=segment,
            name=name,
            description=description,
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        response = redirect(url)
        flash(response, request, exc.message, "error", **exc.params)
        return response
    response = redirect(url)
    flash(response, request, N_("Segment saved."))
    return response


@router.post("/w/{ws}/people/segments/{segment_id:uuid}/delete")
def delete_segment(
    request: Request, segment_id: uuid.UUID, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    segment = _get(session, ctx, segment_id)
    name = segment.name
    segments.delete_segment(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, segment=segment
    )
    response = redirect(_base(ctx))
    flash(response, request, N_("Segment “{name}” deleted."), name=name)
    return response


@router.get("/w/{ws}/people/segments/{segment_id:uuid}/export.csv")
@router.get("/w/{ws}/people/segments/{segment_id:uuid}/export.xlsx")
def export_segment(
    request: Request, segment_id: uuid.UUID, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    """The members as CSV (UTF-8 with BOM, streamed) or XLSX, in the People list's order."""
    fmt = exports.requested_format(request)
    segment = _get(session, ctx, segment_id)
    export = segments.start_export(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, segment=segment, fmt=fmt
    )
    return persons_file(request, session, ctx, export, f"segment-{segment.name}", fmt)


def csv_response(
    factory: Any, workspace_id: uuid.UUID, export: segments.Export, filename: str
) -> Response:
    """Stream an export with the column keys (the API's format); the rows are read in a
    session of their own, since the request's session may be closed before the body is sent."""

    def body() -> Iterator[str]:
        with transaction(factory) as session:
            yield from segments.export_rows(session, workspace_id=workspace_id, export=export)

    return StreamingResponse(
        body(),
        media_type=exports.CSV_MEDIA,
        headers={"Content-Disposition": exports.content_disposition(filename)},
    )
