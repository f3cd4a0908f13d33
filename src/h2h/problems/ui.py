"""The Problems pages under /w/<ws>/problems: the board, one problem, and the settings.

The board shows problems by state, most affected people first, with their trend; a problem's
page shows what it is (quotes, key phrases, aspects, channels, subjects), who it hurts, its
complaints per day, the before/after evidence once fixed, and its history. What people do on
a problem (the lifecycle, merging and moving complaints, follow-ups) is in ``ui_actions``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
    language_for,
)
from h2h.errors import N_, Conflict, H2HError, InvalidInput
from h2h.inbox import service as inbox
from h2h.nlp import service as nlp
from h2h.people import service as people
from h2h.problems import evidence, followups, service
from h2h.problems.models import (
    FOLLOW_UP_LABELS,
    STATE_LABELS,
    Problem,
    ProblemEvent,
    ProblemState,
)
from h2h.subjects import service as subjects
from h2h.templating import NavItem, add_nav, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]

add_nav(NavItem("problems", N_("Problems"), "/problems", "alert"), after="inbox")

COMPLAINTS_PAGE = 50
CHART_DAYS = 90
MIN_CHART_DAYS = 30
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
EVENT_TEXTS = {
    "created": N_("Created by hand: “{title}”."),
    "state": N_("State changed: {before} → {after}."),
    "edited": N_("Changed: {fields}."),
    "merged_into": N_("Merged into #{target}."),
    "merged": N_("#{source} was merged into this problem."),
    "split_from": N_("Split off from #{source}."),
    "split_off": N_("Complaints split off into #{target}: {count}."),
    "moved_out": N_("Complaints moved to #{target}: {count}."),
    "moved_in": N_("Complaints moved here from #{source}: {count}."),
    "detached": N_("Complaints removed from the problem: {count}."),
    "attached": N_("Complaints attached by hand: {count}."),
    "follow_ups_prepared": N_("Follow-up messages prepared: {count}."),
    "follow_ups_sent": N_("Follow-up messages sent: {count}."),
    "spike": N_("Unusual day {day}: {observed} complaints where {expected} were expected."),
}
EDITED_FIELDS = {
    "title": N_("title"),
    "owner": N_("owner"),
    "root_cause": N_("root cause"),
    "planned_fix": N_("planned fix"),
    "due": N_("due date"),
}
VERDICTS = {
    "fell": N_("The fix worked: complaints fell, and a drop this large is unlikely by chance."),
    "not_yet": N_("Too early to tell: the window after the fix has not passed yet."),
    "no_change": N_("No clear change: complaints after the fix are not clearly fewer."),
    "rose": N_("Complaints rose after the fix."),
}
STATE_VALUES = frozenset(s.value for s in ProblemState)
ROUTE_LABELS = {
    "reply": N_("Reply in conversation #{number}"),
    "consent": N_("New conversation on {channel}"),
    "none": N_("Cannot be sent: {reason}"),
}


def problem_url(ctx: WorkspaceContext, number: int, anchor: str = "") -> str:
    return f"/w/{ctx.workspace.slug}/problems/{number}{anchor}"


def get_problem(session: Session, ctx: WorkspaceContext, number: int) -> Problem:
    return service.by_number(session, workspace_id=ctx.workspace.id, number=number)


def message_ids_in(text: str) -> list[str]:
    """Message ids in what a person pasted: bare ids or links to message pages."""
    return list(dict.fromkeys(m.lower() for m in UUID_RE.findall(text or "")))


def labels(request: Request, session: Session, ctx: WorkspaceContext) -> dict[str, Any]:
    """What every problems template uses: label tables, names and formatters."""
    ws = ctx.workspace.id
    lang = language_for(request, getattr(request.state, "user", None))
    return {
        "active": "problems",
        "state_labels": STATE_LABELS,
        "follow_up_labels": FOLLOW_UP_LABELS,
        "aspect_labels": nlp.aspect_labels(session, workspace_id=ws),
        "members": people.member_names(session, workspace_id=ws),
        "title_of": service.title_of,
        "format_day": lambda day: format_date(day, format="medium", locale=lang) if day else "",
        "can_act": ctx.role.at_least(Role.AGENT),
        "is_admin": ctx.role.at_least(Role.ADMIN),
    }


# --- the board --------------------------------------------------------------------------------


def _filters(subject: str, aspect: str, owner: str) -> dict[str, Any]:
    """Board filters from the query string; a value that is not an id is ignored."""

    def as_id(value: str) -> str | None:
        try:
            return str(uuid.UUID(value)) if value else None
        except ValueError:
            return None

    return {"subject_id": as_id(subject), "aspect": aspect or None, "owner_id": as_id(owner)}


@router.get("/w/{ws}/problems", response_class=HTMLResponse)
def board(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    subject: Annotated[str, Query(max_length=64)] = "",
    aspect: Annotated[str, Query(max_length=100)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Problems by state, most affected people first, with their 7-day trend."""
    ws = ctx.workspace.id
    filters = _filters(subject, aspect, owner)
    found = service.board(session, workspace_id=ws, **filters)
    ids = [p.id for column in found.columns.values() for p in column]
    context = {
        **labels(request, session, ctx),
        "board": found,
        "trends": service.trends(session, workspace_id=ws, problem_ids=ids),
        "filters": {"subject": subject, "aspect": aspect, "owner": owner},
        "filtered": any(filters.values()),
        "subjects": subjects.list_subjects(session, workspace_id=ws),
        "subject_names": {
            str(s.id): s.name for s in subjects.list_subjects(session, workspace_id=ws)
        },
        "agents": inbox.agents(session, workspace_id=ws),
        "declined": ProblemState.DECLINED,
    }
    return render(request, "problems/board.html", context)


@router.post("/w/{ws}/problems", response_class=HTMLResponse)
def create(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    title: FormStr = "",
    message_ids: FormStr = "",
) -> Response:
    """A problem someone noticed by hand, with the complaints pasted as ids or links."""
    try:
        problem = service.create(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            title=title,
            message_ids=message_ids_in(message_ids),
        )
    except H2HError as exc:
        session.rollback()
        response = redirect(f"/w/{ctx.workspace.slug}/problems#new")
        flash(response, request, exc.message, "error", **exc.params)
        return response
    response = redirect(problem_url(ctx, problem.number))
    flash(response, request, N_("Problem #{number} created."), number=problem.number)
    return response


# --- one problem ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    top: int  # the tallest bar's count
    total: int
    fixed_x: float | None  # where the fix is marked
    start: date
    end: date


BAR, GAP, CHART_HEIGHT = 8, 2, 120


def chart(days: list[tuple[date, int]], fixed_on: date | None) -> Chart:
    """Complaints per day as bar geometry for an inline SVG (no script, no inline style)."""
    top = max((count for _, count in days), default=0)
    bars = []
    for i, (day, count) in enumerate(days):
        height = max(CHART_HEIGHT * count / top, 2.0) if count else 0.0  # a lone 1 stays visible
        bars.append(Bar(day, count, i * (BAR + GAP), CHART_HEIGHT - height, height))
    fixed_x = None
    if fixed_on is not None:
        fixed_x = next((b.x - GAP / 2 for b in bars if b.day == fixed_on), None)
    return Chart(
        bars=bars,
        width=max(len(days) * (BAR + GAP), BAR),
        height=CHART_HEIGHT,
        top=top,
        total=sum(count for _, count in days),
        fixed_x=fixed_x,
        start=days[0][0],
        end=days[-1][0],
    )


def chart_window(problem: Problem, today: date) -> tuple[date, date]:
    """Up to ``CHART_DAYS`` days to today (at least ``MIN_CHART_DAYS``, so one busy day is
    not one wide bar), reaching back to the fix if it is older."""
    start = today - timedelta(days=MIN_CHART_DAYS - 1)
    first = people.as_utc(problem.first_complaint_at).date() if problem.first_complaint_at else None
    if first is not None and first < start:
        start = max(first, today - timedelta(days=CHART_DAYS - 1))
    if problem.fixed_at is not None:
        fixed = people.as_utc(problem.fixed_at).date()
        start = min(start, fixed - timedelta(days=7))
    return max(start, today - timedelta(days=365)), today


def describe(event: ProblemEvent, gettext: Any, members: dict[uuid.UUID, str]) -> tuple[str, str]:
    """(who, what) of one history entry, in the reader's language."""
    who = members.get(event.actor_id, "?") if event.actor_id else gettext("H2H")
    data = dict(event.data or {})
    template = EVENT_TEXTS.get(event.kind)
    if template is None:
        return who, event.kind
    if event.kind == "state":
        for key in ("before", "after"):
            state = str(data.get(key, ""))
            if state in STATE_VALUES:
                data[key] = gettext(STATE_LABELS[ProblemState(state)])
    if event.kind == "edited":
        data["fields"] = ", ".join(gettext(EDITED_FIELDS.get(k, k)) for k in data)
    try:
        text = gettext(template).format(**data)
    except (KeyError, IndexError, ValueError):
        text = event.kind
    extra = data.get("reason") or data.get("note") if event.kind == "state" else None
    return who, f"{text} {extra}" if extra else text


def _complaints(session: Session, problem: Problem, page: int) -> tuple[list[dict[str, Any]], int]:
    """One page of complaints with their message and inbox conversation (if any)."""
    total = problem.complaint_count
    rows = service.complaints_of(
        session, problem=problem, limit=COMPLAINTS_PAGE, offset=(page - 1) * COMPLAINTS_PAGE
    )
    ws = problem.workspace_id
    ids = [r.message_id for r in rows]
    conversations = inbox.conversations_of_messages(session, workspace_id=ws, message_ids=ids)
    messages = {m.id: m for m in channels.messages_by_id(session, workspace_id=ws, message_ids=ids)}
    items = []
    for row in rows:
        conversation = conversations.get(row.message_id)
        items.append(
            {
                "row": row,
                "message": messages.get(row.message_id),
                "conversation": conversation.number if conversation else None,
            }
        )
    return items, total


def _evidence(session: Session, problem: Problem) -> evidence.Evidence | None:
    if problem.fixed_at is None:
        return None
    try:
        return evidence.compute(session, problem=problem)
    except Conflict:
        return None


def problem_context(
    request: Request, ctx: WorkspaceContext, session: Session, problem: Problem, page: int = 1
) -> dict[str, Any]:
    ws = ctx.workspace.id
    today = utcnow().date()
    start, end = chart_window(problem, today)
    fixed_on = people.as_utc(problem.fixed_at).date() if problem.fixed_at else None
    gettext = page_gettext(request)
    context = labels(request, session, ctx)
    quotes = channels.messages_by_id(
        session, workspace_id=ws, message_ids=[uuid.UUID(q) for q in problem.quote_ids or []]
    )
    complaints, total = _complaints(session, problem, page)
    merged_into = (
        service.numbers_of(session, workspace_id=ws, problem_ids=[problem.merged_into_id]).get(
            problem.merged_into_id
        )
        if problem.merged_into_id
        else None
    )
    return {
        **context,
        "problem": problem,
        "title": service.title_of(problem),
        "transitions": service.TRANSITIONS[problem.state],
        "states": ProblemState,
        "chart": chart(
            service.daily_counts(session, problem=problem, start=start, end=end), fixed_on
        ),
        "fixed_on": fixed_on,
        "quotes": quotes,
        "channel_names": {
            str(c.id): c.name for c in channels.list_channels(session, workspace_id=ws)
        },
        "subject_names": {
            str(s.id): s.name for s in subjects.list_subjects(session, workspace_id=ws)
        },
        "affected": service.affected(session, problem=problem),
        "complaints": complaints,
        "complaint_total": total,
        "page": page,
        "pages": max(1, -(-total // COMPLAINTS_PAGE)),
        "evidence": _evidence(session, problem),
        "verdicts": VERDICTS,
        "history": [
            (e, *describe(e, gettext, context["members"]))
            for e in reversed(service.history(session, problem=problem))
        ],
        "follow_up_counts": followups.counts(session, problem=problem),
        "agents": inbox.agents(session, workspace_id=ws),
        "merged_into": merged_into,
    }


@router.get("/w/{ws}/problems/{number:int}", response_class=HTMLResponse)
def problem_page(
    request: Request,
    number: int,
    ctx: WorkspaceDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    problem = get_problem(session, ctx, number)
    return render(
        request, "problems/problem.html", problem_context(request, ctx, session, problem, page)
    )


# --- settings (admins) ------------------------------------------------------------------------


def _settings_page(
    request: Request, ctx: WorkspaceContext, session: Session, **extra: Any
) -> Response:
    ws = ctx.workspace.id
    status = int(extra.pop("status_code", 200))
    found = service.settings_of(session, workspace_id=ws)
    context = {
        **labels(request, session, ctx),
        "settings": found,
        "member_list": people.member_names(session, workspace_id=ws),
        "chosen": set(found.alert_user_ids or []),
        "shipped_text": page_gettext(request)(followups.DEFAULT_TEXT),
        "variables": followups.VARIABLES,
        "error": None,
        "field": None,
        **extra,
    }
    return render(request, "problems/settings.html", context, status_code=status)


@router.get("/w/{ws}/problems/settings", response_class=HTMLResponse)
def settings_page(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    return _settings_page(request, ctx, session)


@router.post("/w/{ws}/problems/settings", response_class=HTMLResponse)
async def save_settings(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    """Alert sensitivity, who hears about spikes, the verification window, the wording."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    users = [v for v in form.getlist("alert_user_ids") if isinstance(v, str)]
    try:
        service.save_settings(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            alert_p_value=_number(values.get("alert_p_value", ""), float, "alert_p_value"),
            alert_min_count=_number(values.get("alert_min_count", ""), int, "alert_min_count"),
            alert_user_ids=users,
            verify_window_days=_number(
                values.get("verify_window_days", ""), int, "verify_window_days"
            ),
            follow_up_text=values.get("follow_up_text", ""),
        )
    except H2HError as exc:
        session.rollback()
        error = exc.translated(page_gettext(request))
        return _settings_page(
            request, ctx, session, error=error, field=exc.field, status_code=exc.status_code
        )
    response = redirect(f"/w/{ctx.workspace.slug}/problems/settings")
    flash(response, request, N_("Problem settings saved."))
    return response


def _number(raw: str, kind: type[int] | type[float], field: str) -> Any:
    try:
        value = kind(raw.strip().replace(",", "."))
    except ValueError:
        raise InvalidInput(N_("Write a number."), field=field) from None
    if value != value:  # NaN
        raise InvalidInput(N_("Write a number."), field=field)
    return value
