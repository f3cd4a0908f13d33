"""The dashboard under /w/<ws>/reports, and its printable form.

Every member may look: it shows what the other pages show, summed up. The period is whole
days in the workspace's time zone (the last 30 by default), compared with as many days
before; a subject narrows the counts of messages to its mentions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h import exports
from h2h.deps import SessionDep, WorkspaceContext, WorkspaceDep, form_csrf, language_for
from h2h.errors import N_
from h2h.nlp import service as nlp
from h2h.problems.models import STATE_LABELS as PROBLEM_STATES
from h2h.reports import charts, dashboard
from h2h.subjects.models import Subject
from h2h.templating import NavItem, add_nav, page_gettext, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)

add_nav(NavItem("reports", N_("Reports"), "/reports", "chart"), after="dashboard")

PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30


def zone_of(ctx: WorkspaceContext) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.workspace.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def span_of(ctx: WorkspaceContext, since: str, until: str, days: int) -> dashboard.Period:
    """The period the query asks for: ``since``/``until`` (ISO dates), else the last
    ``days``; unreadable dates fall back to the default rather than failing the page."""
    zone = zone_of(ctx)
    first, last = _date(since), _date(until)
    if first or last:
        today = datetime.now(zone).date()
        return dashboard.period(zone, first or last or today, last or today)
    return dashboard.last_days(zone, days if days in PRESETS else DEFAULT_DAYS)


def subject_of(session: Session, workspace_id: uuid.UUID, value: str) -> Subject | None:
    try:
        subject_id = uuid.UUID(value) if value else None
    except ValueError:
        return None
    if subject_id is None:
        return None
    return session.scalars(
        select(Subject).where(Subject.workspace_id == workspace_id, Subject.id == subject_id)
    ).one_or_none()


@dataclass(frozen=True)
class Asked:
    """The period and subject a report page is asked for, as its query carries them."""

    since: str
    until: str
    days: int
    subject: str


def asked_for(
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    days: Annotated[int, Query(ge=1, le=366)] = DEFAULT_DAYS,
    subject: Annotated[str, Query(max_length=64)] = "",
) -> Asked:
    return Asked(since, until, days, subject)


AskedDep = Annotated[Asked, Depends(asked_for)]


def board_context(
    request: Request, ctx: WorkspaceContext, session: Session, asked: Asked
) -> dict[str, Any]:
    """Everything the dashboard and the printable report show."""
    workspace_id = ctx.workspace.id
    span = span_of(ctx, asked.since, asked.until, asked.days)
    chosen = subject_of(session, workspace_id, asked.subject)
    board = dashboard.build(session, workspace_id=workspace_id, span=span, subject=chosen)
    gettext = page_gettext(request)
    lang = language_for(request, getattr(request.state, "user", None))
    labels = nlp.aspect_labels(session, workspace_id=workspace_id)
    query = {"since": span.first.isoformat(), "until": span.last.isoformat()}
    if chosen:
        query["subject"] = str(chosen.id)
    return {
        "active": "reports",
        "board": board,
        "span": span,
        "charts": charts.all_charts(board, ctx.workspace.slug, gettext, labels),
        "subjects": session.scalars(
            select(Subject).where(Subject.workspace_id == workspace_id).order_by(Subject.name)
        ).all(),
        "chosen": chosen,
        "presets": PRESETS,
        "days": asked.days,
        "query": query,
        "problem_states": PROBLEM_STATES,
        "change": dashboard.change,
        "format_day": lambda day: format_date(day, format="medium", locale=lang),
        "format_number": lambda n: format_decimal(n, locale=lang),
        "mentions_url": lambda **params: charts.mentions_url(ctx.workspace.slug, span, **params),
    }


@router.get("/w/{ws}/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    asked: AskedDep,
) -> Response:
    context = board_context(request, ctx, session, asked)
    return render(request, "reports/dashboard.html", context)


@router.get("/w/{ws}/reports/print", response_class=HTMLResponse)
def printable(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    asked: AskedDep,
) -> Response:
    """The same numbers as a document to print or save as PDF: charts as tables too."""
    context = board_context(request, ctx, session, asked)
    context["printed_at"] = datetime.now(zone_of(ctx))
    return render(request, "reports/print.html", context)


EXPORT_COLUMNS = (
    exports.Column(N_("Section"), 34),
    exports.Column(N_("Item"), 40),
    exports.Column(N_("Group"), 24),
    exports.Column(N_("Value"), 12),
)

# Per chart: which of its table's cells are the item, the group (None: none) and the value.
EXPORT_CELLS: dict[str, tuple[int, int | None, int]] = {
    "volume": (0, 1, 2),  # day, sentiment, messages
    "voices": (0, 1, 2),  # subject, sentiment, mentions
    "response": (0, None, 1),  # decision, conversations
    "aspects": (0, None, 1),  # aspect, negative %
    "scores": (1, 0, 2),  # period, NPS or CSAT, score
    "places": (0, None, 1),  # channel, messages
}


def export_rows(context: dict[str, Any], gettext: Any) -> list[list[Any]]:
    """The dashboard as a long table: one number per row, by section, item and group."""
    board: dashboard.Dashboard = context["board"]
    figures, response = gettext("Key figures"), board.response.now
    rows: list[list[Any]] = [
        [figures, gettext("messages from customers"), "", board.volume.total],
        [figures, gettext("answered by a named person"), "", response.answered],
        [figures, gettext("consciously not answered"), "", response.not_answered],
        [figures, gettext("no decision yet"), "", response.undecided],
        [figures, gettext("SLA breaches"), "", sum(response.breaches.values())],
    ]
    for key, value in board.advocacy.items():
        if key in ("advocates", "at_risk"):
            label = gettext("advocates") if key == "advocates" else gettext("detractors at risk")
            rows.append([figures, label, "", value])
    for chart in context["charts"]:
        item, group, value = EXPORT_CELLS[chart.key]
        for cells in chart.rows:
            label = cells[group] if group is not None else ""
            rows.append([chart.title, cells[item], label, cells[value]])
    for row in board.problems:
        label = f"#{row.problem.number} {row.title}"
        rows.append(
            [
                gettext("Top problems"),
                label,
                gettext(PROBLEM_STATES[row.problem.state]),
                row.complaints,
            ]
        )
    return rows


@router.get("/w/{ws}/reports/export.csv")
@router.get("/w/{ws}/reports/export.xlsx")
def export_dashboard(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    asked: AskedDep,
) -> Response:
    """The dashboard's numbers for the period as CSV or XLSX (for a client's or boss's report)."""
    fmt = exports.requested_format(request)
    context = board_context(request, ctx, session, asked)
    table = export_rows(context, page_gettext(request))
    span = context["span"]
    filename = f"{ctx.workspace.slug}-report-{span.first.isoformat()}-{span.last.isoformat()}"
    export = exports.Export(filename, EXPORT_COLUMNS, lambda _: iter(table), ctx.workspace.timezone)
    return exports.respond(request, session, export, fmt)
