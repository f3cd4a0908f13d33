"""The People list as a file: /w/<ws>/people/export.csv and export.xlsx.

The file holds the persons the list shows for the same query parameters, in its order,
read in pages through the list's own query (``directory.list_statement``); merged and
erased persons are never in it. Agents and above, as for a segment's export: it is
personal data in bulk, and every export is audited with its filters and row count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from h2h import exports
from h2h.db import utcnow
from h2h.deps import AgentWorkspace, SessionDep, WorkspaceContext
from h2h.people import segments
from h2h.people.ui import LIST_PARAMS, _list_query

router = APIRouter(include_in_schema=False)


@router.get("/w/{ws}/people/export.csv")
@router.get("/w/{ws}/people/export.xlsx")
def export_people(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    """The People list with its current search and filters."""
    fmt = exports.requested_format(request)
    params = {k: request.query_params.get(k, "")[:300] for k in LIST_PARAMS}
    export = segments.start_list_export(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        query=_list_query(params),
        fmt=fmt,
    )
    filename = f"{ctx.workspace.slug}-people-{utcnow().date().isoformat()}"
    return persons_file(request, session, ctx, export, filename, fmt)


def persons_file(
    request: Request,
    session: Session,
    ctx: WorkspaceContext,
    export: segments.Export,
    filename: str,
    fmt: exports.Format,
) -> Response:
    """Persons as a file with translated column titles (the pages' exports)."""
    ws = ctx.workspace.id

    def rows(reading: Session) -> Iterator[list[Any]]:
        return segments.person_rows(reading, workspace_id=ws, export=export)

    table = exports.Export(filename, segments.EXPORT_TITLES, rows, ctx.workspace.timezone)
    return exports.respond(request, session, table, fmt)
