"""The audit log as a file: /w/<ws>/audit/export.csv and export.xlsx (owners and admins,
as the page). Every event in the log's order, read in pages through
``service.audit_statement``; erased persons' names are already gone from the details."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from h2h import exports
from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, AuditEvent
from h2h.db import utcnow
from h2h.deps import AdminWorkspace, SessionDep
from h2h.errors import N_
from h2h.templating import page_gettext

router = APIRouter(include_in_schema=False)

COLUMNS = (
    exports.Column(N_("When"), 18),
    exports.Column(N_("Who"), 20),
    exports.Column(N_("What"), 30),
    exports.Column(N_("Action"), 20),
    exports.Column(N_("Record type"), 16),
    exports.Column(N_("Record ID"), 38),
    exports.Column(N_("Details"), 60),
    exports.Column(N_("IP address"), 16),
)


@router.get("/w/{ws}/audit/export.csv")
@router.get("/w/{ws}/audit/export.xlsx")
def export_audit(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    """The whole audit log, newest first."""
    fmt = exports.requested_format(request)
    stmt = accounts.audit_statement(workspace_id=ctx.workspace.id, actor=ctx.actor)
    gettext = page_gettext(request)
    system = gettext("System")

    def row(e: AuditEvent) -> list[Any]:
        details = "; ".join(f"{k}: {v}" for k, v in (e.details or {}).items())
        who = e.actor.name if e.actor else system
        what = gettext(AUDIT_ACTIONS[e.action]) if e.action in AUDIT_ACTIONS else e.action
        return [e.created_at, who, what, e.action, e.entity_type, e.entity_id, details, e.ip]

    def rows(reading: Session) -> Iterator[list[Any]]:
        for page in exports.scalars_in_pages(reading, stmt):
            yield from (row(e) for e in page)

    filename = f"{ctx.workspace.slug}-audit-{utcnow().date().isoformat()}"
    table = exports.Export(filename, COLUMNS, rows, ctx.workspace.timezone)
    return exports.respond(request, session, table, fmt)
