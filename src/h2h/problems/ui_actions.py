"""What people do to a problem from its page: the lifecycle (confirm, decline, start fixing,
mark fixed, verify, reopen), its title and plan, merging, moving, splitting off and removing
complaints, and the follow-up messages to everyone affected once it is fixed.

Every action is a form POST that redirects back with a flash message, or with the error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.deps import AgentWorkspace, JobsDep, SessionDep, WorkspaceContext, WorkspaceDep, form_csrf
from h2h.errors import N_, H2HError, InvalidInput, NotFound
from h2h.inbox import service as inbox
from h2h.inbox.ui_actions import enqueue_delivery
from h2h.problems import evidence, followups, service
from h2h.problems.models import FollowUp, FollowUpStatus, Problem, ProblemState
from h2h.problems.ui import (
    ROUTE_LABELS,
    get_problem,
    labels,
    message_ids_in,
    problem_url,
)
from h2h.templating import flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]


def act(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    number: int,
    action: Callable[[Problem], Any],
    done: str,
    *,
    anchor: str = "",
    **params: Any,
) -> Response:
    """Do ``action`` to the problem, then back to its page with ``done`` or the error."""
    problem = get_problem(session, ctx, number)
    try:
        result = action(problem)
    except H2HError as exc:
        session.rollback()
        response = redirect(problem_url(ctx, number, anchor))
        flash(response, request, exc.message, "error", **exc.params)
        return response
    target = result if isinstance(result, str) else problem_url(ctx, number, anchor)
    response = redirect(target)
    flash(response, request, done, number=number, **params)
    return response


def _day(raw: str, field: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(N_("Write the date as YYYY-MM-DD."), field=field) from None


def _number(raw: str, field: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput(N_("Write the number of a problem, like #12."), field=field)
    return int(text)


def _other(session: Session, ctx: WorkspaceContext, raw: str, field: str) -> Problem:
    number = _number(raw, field)
    try:
        return get_problem(session, ctx, number)
    except NotFound:
        raise InvalidInput(N_("There is no problem #{n}."), field=field, n=number) from None


# --- the lifecycle ----------------------------------------------------------------------------


@router.post("/w/{ws}/problems/{number:int}/title")
def edit_title(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, title: FormStr = ""
) -> Response:
    def action(problem: Problem) -> None:
        service.edit(session, problem=problem, actor=ctx.actor, title=title)

    return act(request, ctx, session, number, action, N_("Title saved."))


@router.post("/w/{ws}/problems/{number:int}/plan")
def edit_plan(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    owner_id: FormStr = "",
    root_cause: FormStr = "",
    planned_fix: FormStr = "",
    fix_due: FormStr = "",
) -> Response:
    """Change the owner, root cause, plan or due date of a problem being fixed."""

    def action(problem: Problem) -> None:
        service.edit(
            session,
            problem=problem,
            actor=ctx.actor,
            owner_id=owner_id or None,
            root_cause=root_cause,
            planned_fix=planned_fix,
            fix_due=_day(fix_due, "fix_due"),
        )

    return act(request, ctx, session, number, action, N_("Plan saved."), anchor="#decide")


@router.post("/w/{ws}/problems/{number:int}/confirm")
def confirm(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, title: FormStr = ""
) -> Response:
    def action(problem: Problem) -> None:
        service.confirm(session, problem=problem, actor=ctx.actor, title=title or None)

    return act(request, ctx, session, number, action, N_("#{number} is confirmed as a problem."))


@router.post("/w/{ws}/problems/{number:int}/decline")
def decline(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, reason: FormStr = ""
) -> Response:
    def action(problem: Problem) -> None:
        service.decline(session, problem=problem, actor=ctx.actor, reason=reason)

    return act(request, ctx, session, number, action, N_("#{number} declined."))


@router.post("/w/{ws}/problems/{number:int}/fixing")
def start_fixing(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    owner_id: FormStr = "",
    root_cause: FormStr = "",
    planned_fix: FormStr = "",
    fix_due: FormStr = "",
) -> Response:
    def action(problem: Problem) -> None:
        service.start_fixing(
            session,
            problem=problem,
            actor=ctx.actor,
            owner_id=str(ctx.actor.user_id) if owner_id == "me" else owner_id,
            root_cause=root_cause,
            planned_fix=planned_fix,
            fix_due=_day(fix_due, "fix_due"),
        )

    return act(request, ctx, session, number, action, N_("Work on #{number} has started."))


@router.post("/w/{ws}/problems/{number:int}/fixed")
def mark_fixed(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, fix_note: FormStr = ""
) -> Response:
    def action(problem: Problem) -> str:
        service.mark_fixed(session, problem=problem, actor=ctx.actor, fix_note=fix_note)
        return problem_url(ctx, number, "/follow-ups")

    done = N_("#{number} is fixed. Now tell the people who complained.")
    return act(request, ctx, session, number, action, done)


@router.post("/w/{ws}/problems/{number:int}/verify")
def verify(request: Request, number: int, ctx: AgentWorkspace, session: SessionDep) -> Response:
    """Verified only when the evidence shows complaints fell; else the numbers say why not."""

    def action(problem: Problem) -> None:
        evidence.verify_now(session, problem=problem, actor=ctx.actor)

    done = N_("#{number} is verified: complaints fell after the fix.")
    return act(request, ctx, session, number, action, done, anchor="#evidence")


@router.post("/w/{ws}/problems/{number:int}/reopen")
def reopen(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, note: FormStr = ""
) -> Response:
    def action(problem: Problem) -> None:
        service.reopen(session, problem=problem, actor=ctx.actor, note=note or None)

    return act(request, ctx, session, number, action, N_("#{number} is reopened."))


# --- merge, move, split, attach, detach -------------------------------------------------------


@router.post("/w/{ws}/problems/{number:int}/merge")
def merge(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, into: FormStr = ""
) -> Response:
    """This problem joins another one (#into), which keeps every complaint."""

    def action(problem: Problem) -> str:
        target = _other(session, ctx, into, "into")
        service.merge(session, source=problem, target=target, actor=ctx.actor)
        return problem_url(ctx, target.number)

    return act(request, ctx, session, number, action, N_("#{number} was merged into this problem."))


@router.post("/w/{ws}/problems/{number:int}/attach")
def attach(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    message_ids: FormStr = "",
) -> Response:
    def action(problem: Problem) -> None:
        ids = message_ids_in(message_ids)
        if not ids:
            raise InvalidInput(N_("Paste message ids or links to messages."), field="message_ids")
        service.attach(session, problem=problem, message_ids=ids, actor=ctx.actor)

    done = N_("Complaints attached to #{number}.")
    return act(request, ctx, session, number, action, done, anchor="#complaints")


@router.post("/w/{ws}/problems/{number:int}/complaints")
async def complaints(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    """The chosen complaints move to another problem, split off as a new one, or leave."""
    form = await request.form()
    ids = [v for v in form.getlist("message_id") if isinstance(v, str)]
    what = str(form.get("action", ""))
    target, title = str(form.get("to", "")), str(form.get("title", ""))

    def action(problem: Problem) -> str | None:
        if not ids:
            raise InvalidInput(N_("Choose the complaints first."), field="message_ids")
        if what == "move":
            other = _other(session, ctx, target, "to")
            service.move(session, source=problem, target=other, message_ids=ids, actor=ctx.actor)
            return None
        if what == "split":
            new = service.split(
                session, problem=problem, message_ids=ids, actor=ctx.actor, title=title or None
            )
            return problem_url(ctx, new.number)
        if what == "detach":
            service.detach(session, problem=problem, message_ids=ids, actor=ctx.actor)
            return None
        raise InvalidInput(N_("Choose what to do with the complaints."), field="action")

    done = {
        "move": N_("Complaints moved."),
        "split": N_("Split off from #{number} as a new problem."),
        "detach": N_("Complaints removed from #{number}."),
    }.get(what, N_("Done."))
    return act(request, ctx, session, number, action, done, anchor="#complaints")


# --- follow-ups -------------------------------------------------------------------------------


def _follow_up_rows(request: Request, session: Session, problem: Problem) -> list[dict[str, Any]]:
    """Each draft with where it goes, in words."""
    gettext = page_gettext(request)
    ws = problem.workspace_id
    names = {c.id: c.name for c in channels.list_channels(session, workspace_id=ws)}
    rows = []
    for item in followups.follow_ups(session, problem=problem):
        number = None
        if item.conversation_id is not None:
            number = inbox.get_conversation(
                session, workspace_id=ws, conversation_id=item.conversation_id
            ).number
        blocked = item.status is FollowUpStatus.BLOCKED or item.route == "none"
        key = "none" if blocked else "reply" if item.route == "reply" and number else "consent"
        template = gettext(ROUTE_LABELS[key])
        channel = names.get(item.channel_id, "?") if item.channel_id else "?"
        reason = followups.blocked_text(item, gettext)
        route = template.format(number=number, channel=channel, reason=reason)
        rows.append({"item": item, "route": route, "conversation": number})
    return rows


@router.get("/w/{ws}/problems/{number:int}/follow-ups", response_class=HTMLResponse)
def follow_ups_page(
    request: Request,
    number: int,
    ctx: WorkspaceDep,
    session: SessionDep,
    edit: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The messages to everyone affected: prepare, reword, edit one, skip, send."""
    problem = get_problem(session, ctx, number)
    rows = _follow_up_rows(request, session, problem)
    wording = problem.follow_up_wording or followups.default_text(
        session, workspace_id=ctx.workspace.id, language=problem.language
    )
    context = {
        **labels(request, session, ctx),
        "problem": problem,
        "title": service.title_of(problem),
        "rows": rows,
        "counts": followups.counts(session, problem=problem),
        "drafts": sum(1 for r in rows if r["item"].status is FollowUpStatus.DRAFT),
        "wording": wording,
        "variables": followups.VARIABLES,
        "can_prepare": problem.state in (ProblemState.FIXED, ProblemState.VERIFIED),
    }
    return render(request, "problems/follow_ups.html", context)


def _follow_up(session: Session, problem: Problem, follow_up_id: uuid.UUID) -> FollowUp:
    try:
        return followups.get_follow_up(session, problem=problem, follow_up_id=follow_up_id)
    except InvalidInput:
        raise NotFound() from None  # a draft of another problem is not one of this page's


def _follow_up_act(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    number: int,
    action: Callable[[Problem], Any],
    done: str,
    **params: Any,
) -> Response:
    return act(request, ctx, session, number, action, done, anchor="/follow-ups", **params)


@router.post("/w/{ws}/problems/{number:int}/follow-ups/prepare")
def prepare(request: Request, number: int, ctx: AgentWorkspace, session: SessionDep) -> Response:
    problem = get_problem(session, ctx, number)
    try:
        made = followups.prepare(session, problem=problem, actor=ctx.actor)
    except H2HError as exc:
        return _failed(request, ctx, session, number, exc)
    response = redirect(problem_url(ctx, number, "/follow-ups"))
    flash(response, request, N_("Messages prepared: {count}."), count=made)
    return response


def _failed(
    request: Request, ctx: WorkspaceContext, session: Session, number: int, exc: H2HError
) -> Response:
    session.rollback()
    response = redirect(problem_url(ctx, number, "/follow-ups"))
    flash(response, request, exc.message, "error", **exc.params)
    return response


@router.post("/w/{ws}/problems/{number:int}/follow-ups/wording")
def reword(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, text: FormStr = ""
) -> Response:
    """The common wording for every draft not edited one by one."""

    def action(problem: Problem) -> None:
        followups.rewrite(session, problem=problem, actor=ctx.actor, text=text)

    return _follow_up_act(request, ctx, session, number, action, N_("Wording applied."))


@router.post("/w/{ws}/problems/{number:int}/follow-ups/{follow_up_id:uuid}")
def edit_one(
    request: Request,
    number: int,
    follow_up_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    text: FormStr = "",
) -> Response:
    item = _follow_up(session, get_problem(session, ctx, number), follow_up_id)

    def action(problem: Problem) -> None:
        followups.edit(session, follow_up=item, actor=ctx.actor, text=text)

    return _follow_up_act(request, ctx, session, number, action, N_("Message saved."))


@router.post("/w/{ws}/problems/{number:int}/follow-ups/{follow_up_id:uuid}/skip")
def skip_one(
    request: Request,
    number: int,
    follow_up_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    skipped: FormStr = "1",
) -> Response:
    item = _follow_up(session, get_problem(session, ctx, number), follow_up_id)

    def action(problem: Problem) -> None:
        followups.skip(session, follow_up=item, actor=ctx.actor, skipped=skipped != "0")

    done = N_("Message skipped.") if skipped != "0" else N_("Message back among the drafts.")
    return _follow_up_act(request, ctx, session, number, action, done)


@router.post("/w/{ws}/problems/{number:int}/follow-ups/send")
def send(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, jobs: JobsDep
) -> Response:
    """Send every draft; the deliveries go out after the commit, through the inbox."""
    problem = get_problem(session, ctx, number)
    try:
        deliveries = followups.send(session, problem=problem, actor=ctx.actor)
    except H2HError as exc:
        return _failed(request, ctx, session, number, exc)
    for delivery in deliveries:
        enqueue_delivery(jobs, session, delivery)
    response = redirect(problem_url(ctx, number, "/follow-ups"))
    flash(response, request, N_("Messages on their way: {count}."), count=len(deliveries))
    return response
