"""The "How we served customers" page: employee advocacy figures per person and team.

``/w/<ws>/inbox/staff?days=30`` (agents and up). Admins and owners see every person; an
agent sees their own row, their teams and the workspace total (``staff.visible_to``), so
the page helps each person see how they serve customers without reading colleagues'
figures. Viewers do not see it: these are figures about people, not about customers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from h2h.accounts.models import Role
from h2h.db import utcnow
from h2h.deps import AgentWorkspace, SessionDep, form_csrf
from h2h.feedback import service as feedback
from h2h.inbox import service, staff
from h2h.inbox.models import SLA_TARGET_LABELS
from h2h.inbox.ui import labels
from h2h.templating import render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30


@router.get("/w/{ws}/inbox/staff", response_class=HTMLResponse)
def staff_page(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    days: Annotated[int, Query()] = DEFAULT_DAYS,
) -> Response:
    days = days if days in PERIODS else DEFAULT_DAYS
    ws = ctx.workspace.id
    until = utcnow()
    since = until - timedelta(days=days)
    report = staff.staff_report(
        session,
        workspace_id=ws,
        since=since,
        until=until,
        csat=feedback.csat_of_conversations(session, workspace_id=ws, since=since),
    )
    report = staff.visible_to(report, actor=ctx.actor)
    rows = [*report.agents, *report.teams, report.total]
    keys = {key for row in rows for key in row.not_answering}
    reason_labels = dict(service.reasons(session, workspace_id=ws))
    for key in keys - reason_labels.keys():
        reason_labels[key] = service.reason_label(session, workspace_id=ws, key=key) or key
    context = {
        **labels(session, ws),
        "tab": "staff",
        "report": report,
        "days": days,
        "periods": PERIODS,
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "close_reason_labels": reason_labels,
        "breach_labels": {target.value: label for target, label in SLA_TARGET_LABELS.items()},
        "has_csat": any(row.csat is not None for row in rows),
    }
    return render(request, "inbox/staff.html", context)
