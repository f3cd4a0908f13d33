"""The problems board as a file: /w/<ws>/problems/export.csv and export.xlsx.

The board's own query (``service.board``, the same filters and its cap of 500 problems),
column by column as the board shows them, each problem with its figures and 7-day trend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from h2h import exports
from h2h.db import utcnow
from h2h.deps import SessionDep, WorkspaceDep
from h2h.errors import N_
from h2h.nlp import service as nlp
from h2h.people import service as people
from h2h.problems import service
from h2h.problems.models import STATE_LABELS
from h2h.problems.ui import _filters
from h2h.templating import page_gettext

router = APIRouter(include_in_schema=False)

COLUMNS = (
    exports.Column("#", 8),
    exports.Column(N_("Problem"), 40),
    exports.Column(N_("State"), 12),
    exports.Column(N_("People"), 9),
    exports.Column(N_("Complaints"), 11),
    exports.Column(N_("Last 7 days"), 11),
    exports.Column(N_("7 days before"), 11),
    exports.Column(N_("Assignee"), 20),
    exports.Column(N_("Aspects"), 24),
    exports.Column(N_("First complaint"), 18),
    exports.Column(N_("Last complaint"), 18),
    exports.Column(N_("Fix due"), 12),
)


@router.get("/w/{ws}/problems/export.csv")
@router.get("/w/{ws}/problems/export.xlsx")
def export_board(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    subject: Annotated[str, Query(max_length=64)] = "",
    aspect: Annotated[str, Query(max_length=100)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The problems the board shows for these filters, board column by column."""
    fmt = exports.requested_format(request)
    ws = ctx.workspace.id
    found = service.board(session, workspace_id=ws, **_filters(subject, aspect, owner))
    problems = [p for column in found.columns.values() for p in column]
    trends = service.trends(session, workspace_id=ws, problem_ids=[p.id for p in problems])
    members = people.member_names(session, workspace_id=ws)
    aspects = nlp.aspect_labels(session, workspace_id=ws)
    gettext = page_gettext(request)
    table: list[list[Any]] = []
    for p in problems:
        recent, before = trends.get(p.id, (0, 0))
        table.append(
            [
                p.number,
                service.title_of(p),
                gettext(STATE_LABELS[p.state]),
                p.people_count,
                p.complaint_count,
                recent,
                before,
                members.get(p.owner_id) if p.owner_id else None,
                ", ".join(gettext(aspects.get(key, key)) for key in (p.aspects or {})),
                p.first_complaint_at,
                p.last_complaint_at,
                p.fix_due,
            ]
        )

    def rows(_: Session) -> Iterator[list[Any]]:
        return iter(table)  # at most the board's 500, read above with the board's query

    filename = f"{ctx.workspace.slug}-problems-{utcnow().date().isoformat()}"
    export = exports.Export(filename, COLUMNS, rows, ctx.workspace.timezone)
    return exports.respond(request, session, export, fmt)
