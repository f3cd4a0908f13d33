"""The imports page under /w/<ws>/people/imports: upload orders or events, see each file's
counts and its rejected rows."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels.api import _receive_upload
from h2h.deps import (
    AgentWorkspace,
    JobsDep,
    SessionDep,
    SettingsDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, InvalidInput
from h2h.people import imports
from h2h.people.models import DataImport, DataImportKind, DataImportStatus
from h2h.templating import explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
RECENT = 100
SHOWN_REJECTIONS = 500
KIND_LABELS = {DataImportKind.ORDERS: N_("Orders"), DataImportKind.EVENTS: N_("Events")}
STATUS_LABELS = {
    DataImportStatus.RUNNING: N_("Importing"),
    DataImportStatus.DONE: N_("Done"),
    DataImportStatus.FAILED: N_("Failed"),
}
CURRENCIES = ("RUB", "USD", "EUR", "GBP", "KZT", "BYN", "UAH")


def recent_imports(session: Session, *, workspace_id: uuid.UUID) -> list[DataImport]:
    return list(
        session.scalars(
            select(DataImport)
            .where(DataImport.workspace_id == workspace_id)
            .order_by(DataImport.started_at.desc())
            .limit(RECENT)
        )
    )


def _page(request: Request, ctx: WorkspaceContext, session: Session, **extra: Any) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        "active": "people",
        "imports": recent_imports(session, workspace_id=ctx.workspace.id),
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "currencies": CURRENCIES,
        "can_edit": ctx.role.at_least(Role.AGENT),
        "error": None,
        "form": {},
        **extra,
    }
    return render(request, "people/imports.html", context, status_code=status)


@router.get("/w/{ws}/people/imports", response_class=HTMLResponse)
def imports_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _page(request, ctx, session)


@router.post("/w/{ws}/people/imports", response_class=HTMLResponse)
async def upload(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    file: UploadFile | None = None,
    kind: Annotated[str, Form(max_length=20)] = "orders",
    currency: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    form = {"kind": kind, "currency": currency}
    try:
        try:
            chosen = DataImportKind(kind)
        except ValueError:
            raise InvalidInput(N_("Choose orders or events."), field="kind") from None
        if currency and currency not in CURRENCIES:
            raise InvalidInput(N_("Choose a currency from the list."), field="currency")
        if file is None or not file.filename:
            raise InvalidInput(N_("Choose a file to upload."), field="file")
        _, path = await _receive_upload(file, ctx.workspace.id, settings.data_dir, keep_name=True)
    except InvalidInput as exc:
        return _page(request, ctx, session, error=explain(request, exc), form=form, status_code=422)
    jobs.enqueue_after_commit(
        session,
        "people.import_file",
        workspace_id=str(ctx.workspace.id),
        kind=chosen.value,
        path=str(path),
        currency=currency or None,
    )
    response = redirect(f"/w/{ctx.workspace.slug}/people/imports")
    flash(
        response,
        request,
        N_("“{name}” is being imported; its counts appear below."),
        name=path.name,
    )
    return response


@router.get("/w/{ws}/people/imports/{data_import_id:uuid}", response_class=HTMLResponse)
def import_page(
    request: Request, data_import_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep
) -> Response:
    run = imports.get_import(session, workspace_id=ctx.workspace.id, import_id=data_import_id)
    context = {
        "active": "people",
        "run": run,
        "rejections": imports.rejections_of(
            session, workspace_id=ctx.workspace.id, import_id=run.id, limit=SHOWN_REJECTIONS
        ),
        "shown": SHOWN_REJECTIONS,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
    }
    return render(request, "people/import.html", context)
