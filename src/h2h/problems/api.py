"""JSON endpoints of the problems domain under /api/v1/workspaces/<ws>/problems…

Members read problems, their evidence and follow-ups; agents and up act on them: confirm,
decline, start fixing, mark fixed, verify, reopen, merge, split and move complaints, and
prepare, reword, edit and send the follow-up messages. Problems are addressed by their number
in the workspace (``#12`` → ``/12``), as on the board.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.deps import (
    AgentWorkspace,
    Auth,
    JobsDep,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    api_csrf,
)
from h2h.errors import N_, InvalidInput, NotFound
from h2h.inbox import service as inbox
from h2h.inbox.ui_actions import enqueue_delivery
from h2h.people import service as people
from h2h.problems import evidence, followups, schemas, service
from h2h.problems.models import FollowUp, Problem, ProblemState

AuthDep = Annotated[Auth, Depends(api_csrf)]
Number = Annotated[int, Path(ge=1, le=schemas.MAX_NUMBER)]
BASE = "/workspaces/{ws}/problems"
PROBLEM = BASE + "/{number}"
FOLLOW_UPS = PROBLEM + "/follow-ups"
router = APIRouter(tags=["problems"])
READ_FIELDS = tuple(schemas.ProblemRead.model_fields)


# --- reading ----------------------------------------------------------------------------------


def _problem(session: Session, ctx: WorkspaceContext, number: int) -> Problem:
    return service.by_number(session, workspace_id=ctx.workspace.id, number=number)


def _other(session: Session, ctx: WorkspaceContext, number: int, field: str) -> Problem:
    try:
        return _problem(session, ctx, number)
    except NotFound:
        raise InvalidInput(N_("There is no problem #{n}."), field=field, n=number) from None


def _reads(
    session: Session, ctx: WorkspaceContext, problems: Sequence[Problem]
) -> list[schemas.ProblemRead]:
    ws = ctx.workspace.id
    names = people.member_names(session, workspace_id=ws)
    trends = service.trends(session, workspace_id=ws, problem_ids=[p.id for p in problems])
    numbers = service.numbers_of(
        session,
        workspace_id=ws,
        problem_ids=[p.merged_into_id for p in problems if p.merged_into_id],
    )
    reads = []
    for p in problems:
        recent, previous = trends.get(p.id, (0, 0))
        extra = {
            "title": service.title_of(p),
            "owner": schemas.OwnerRead(id=p.owner_id, name=names.get(p.owner_id, ""))
            if p.owner_id
            else None,
            "merged_into": numbers.get(p.merged_into_id) if p.merged_into_id else None,
            "recent": recent,
            "previous": previous,
        }
        columns = {name: getattr(p, name) for name in READ_FIELDS if hasattr(p, name)}
        reads.append(schemas.ProblemRead.model_validate(columns | extra))
    return reads


def _detail(session: Session, ctx: WorkspaceContext, problem: Problem) -> schemas.ProblemDetail:
    ws = ctx.workspace.id
    affected = service.affected(session, problem=problem)
    quotes = channels.messages_by_id(
        session, workspace_id=ws, message_ids=[uuid.UUID(q) for q in problem.quote_ids or []]
    )
    found = None
    if problem.fixed_at is not None:
        found = schemas.EvidenceRead(**evidence.compute(session, problem=problem).as_dict())
    return schemas.ProblemDetail(
        **_reads(session, ctx, [problem])[0].model_dump(),
        affected_count=len(affected),
        affected=[
            schemas.AffectedRead(
                key=a.key,
                person_id=a.person_id,
                identity_id=a.identity_id,
                name=a.name,
                complaints=a.complaints,
                last_at=a.last_at,
                message_id=a.message_id,
            )
            for a in affected
        ],
        quotes=[
            schemas.QuoteRead(
                message_id=m.id,
                text=m.text,
                author=m.author_name or m.author_handle,
                created_at=m.created_at,
            )
            for m in quotes
        ],
        evidence=found,
        history=[
            schemas.EventRead.model_validate(e) for e in service.history(session, problem=problem)
        ],
    )


@router.get(BASE, response_model=schemas.ProblemList)
def list_problems(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    state: Annotated[list[ProblemState] | None, Query()] = None,
    subject_id: uuid.UUID | None = None,
    aspect: Annotated[str | None, Query(max_length=100)] = None,
    owner_id: uuid.UUID | None = None,
) -> object:
    """Problems, most affected people first; small candidate clusters are only counted."""
    board = service.board(
        session,
        workspace_id=ctx.workspace.id,
        states=state or None,
        subject_id=subject_id,
        aspect=aspect,
        owner_id=owner_id,
    )
    rows = [p for column in board.columns.values() for p in column]
    rows.sort(key=lambda p: -p.people_count)
    return schemas.ProblemList(items=_reads(session, ctx, rows), emerging=board.emerging)


@router.get(PROBLEM, response_model=schemas.ProblemDetail)
def get_problem(number: Number, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """One problem with the people affected, its quotes, the evidence and its history."""
    return _detail(session, ctx, _problem(session, ctx, number))


# --- creating and the lifecycle ---------------------------------------------------------------


@router.post(BASE, response_model=schemas.ProblemDetail, status_code=201)
def create_problem(
    body: schemas.ProblemCreate, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """A problem noticed by hand (confirmed from the start), with the messages that show it."""
    problem = service.create(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        title=body.title,
        message_ids=body.message_ids,
    )
    return _detail(session, ctx, problem)


@router.patch(PROBLEM, response_model=schemas.ProblemDetail)
def update_problem(
    number: Number,
    body: schemas.ProblemUpdate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Change the title, owner, root cause, planned fix or due date (only the fields sent)."""
    problem = _problem(session, ctx, number)
    service.edit(session, problem=problem, actor=ctx.actor, **body.model_dump(exclude_unset=True))
    return _detail(session, ctx, problem)


@router.post(PROBLEM + "/confirm", response_model=schemas.ProblemDetail)
def confirm(
    number: Number,
    body: schemas.ProblemConfirm,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """A person agrees these complaints are one problem (and may name it)."""
    problem = _problem(session, ctx, number)
    service.confirm(session, problem=problem, actor=ctx.actor, title=body.title)
    return _detail(session, ctx, problem)


@router.post(PROBLEM + "/decline", response_model=schemas.ProblemDetail)
def decline(
    number: Number,
    body: schemas.ProblemDecline,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Not a problem we will fix, with the reason."""
    problem = _problem(session, ctx, number)
    service.decline(session, problem=problem, actor=ctx.actor, reason=body.reason)
    return _detail(session, ctx, problem)


@router.post(PROBLEM + "/fixing", response_model=schemas.ProblemDetail)
def start_fixing(
    number: Number,
    body: schemas.ProblemFixing,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """An owner takes the fix: root cause, planned fix and due date."""
    problem = _problem(session, ctx, number)
    service.start_fixing(
        session,
        problem=problem,
        actor=ctx.actor,
        owner_id=body.owner_id,
        root_cause=body.root_cause,
        planned_fix=body.planned_fix,
        fix_due=body.fix_due,
    )
    return _detail(session, ctx, problem)


@router.post(PROBLEM + "/fixed", response_model=schemas.ProblemDetail)
def mark_fixed(
    number: Number,
    body: schemas.ProblemFixed,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """The fix is done; then prepare the follow-ups."""
    problem = _problem(session, ctx, number)
    service.mark_fixed(session, problem=problem, actor=ctx.actor, fix_note=body.fix_note)
    return _detail(session, ctx, problem)


@router.post(PROBLEM + "/verify", response_model=schemas.ProblemDetail)
def verify(number: Number, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep) -> object:
    """Verified when the evidence shows complaints fell; 409 with the numbers otherwise."""
    problem = _problem(session, ctx, number)
    evidence.verify_now(session, problem=problem, actor=ctx.actor)
    return _detail(session, ctx, problem)


@router.post(PROBLEM + "/reopen", response_model=schemas.ProblemDetail)
def reopen(
    number: Number,
    body: schemas.ProblemReopen,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Complaints came back after the fix."""
    problem = _problem(session, ctx, number)
    service.reopen(session, problem=problem, actor=ctx.actor, note=body.note)
    return _detail(session, ctx, problem)


# --- merge, split, move -----------------------------------------------------------------------


@router.post(PROBLEM + "/merge", response_model=schemas.ProblemDetail)
def merge(
    number: Number,
    body: schemas.ProblemMerge,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """This problem joins ``into``; answers the problem that kept every complaint."""
    source = _problem(session, ctx, number)
    target = _other(session, ctx, body.into, "into")
    service.merge(session, source=source, target=target, actor=ctx.actor)
    return _detail(session, ctx, target)


@router.post(PROBLEM + "/split", response_model=schemas.ProblemDetail, status_code=201)
def split(
    number: Number,
    body: schemas.ProblemSplit,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """These complaints are another problem; answers the new one."""
    problem = _problem(session, ctx, number)
    new = service.split(
        session, problem=problem, message_ids=body.message_ids, actor=ctx.actor, title=body.title
    )
    return _detail(session, ctx, new)


@router.post(PROBLEM + "/move", response_model=schemas.CountRead)
def move(
    number: Number,
    body: schemas.ComplaintsMove,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Move complaints to problem ``to``; they stay there (pinned)."""
    source = _problem(session, ctx, number)
    target = _other(session, ctx, body.to, "to")
    count = service.move(
        session, source=source, target=target, message_ids=body.message_ids, actor=ctx.actor
    )
    return schemas.CountRead(count=count)


@router.post(PROBLEM + "/attach", response_model=schemas.CountRead)
def attach(
    number: Number,
    body: schemas.ComplaintsAttach,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Put messages into the problem by hand (from another problem too)."""
    problem = _problem(session, ctx, number)
    count = service.attach(session, problem=problem, message_ids=body.message_ids, actor=ctx.actor)
    return schemas.CountRead(count=count)


@router.post(PROBLEM + "/detach", response_model=schemas.CountRead)
def detach(
    number: Number,
    body: schemas.ComplaintsDetach,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Not about this problem: the messages leave it and are not grouped again."""
    problem = _problem(session, ctx, number)
    count = service.detach(session, problem=problem, message_ids=body.message_ids, actor=ctx.actor)
    return schemas.CountRead(count=count)


# --- follow-ups -------------------------------------------------------------------------------


def _follow_up_page(session: Session, problem: Problem) -> schemas.FollowUpPage:
    items = followups.follow_ups(session, problem=problem)
    return schemas.FollowUpPage(
        items=[_follow_up_read(session, item) for item in items],
        counts=followups.counts(session, problem=problem),
    )


def _follow_up_read(session: Session, item: FollowUp) -> schemas.FollowUpRead:
    number = None
    if item.conversation_id is not None:
        number = inbox.get_conversation(
            session, workspace_id=item.workspace_id, conversation_id=item.conversation_id
        ).number
    read = schemas.FollowUpRead.model_validate(item)
    reason = followups.blocked_text(item) or None
    return read.model_copy(update={"conversation": number, "blocked_reason": reason})


@router.get(FOLLOW_UPS, response_model=schemas.FollowUpPage)
def list_follow_ups(
    number: Number, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """The messages to affected people, with where each goes and its status."""
    return _follow_up_page(session, _problem(session, ctx, number))


@router.post(FOLLOW_UPS + "/prepare", response_model=schemas.FollowUpPage)
def prepare_follow_ups(
    number: Number, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Draft one message per affected person who has none yet (the problem must be fixed)."""
    problem = _problem(session, ctx, number)
    followups.prepare(session, problem=problem, actor=ctx.actor)
    return _follow_up_page(session, problem)


@router.post(FOLLOW_UPS + "/wording", response_model=schemas.FollowUpPage)
def reword_follow_ups(
    number: Number,
    body: schemas.FollowUpWording,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """The common wording for every draft not edited one by one."""
    problem = _problem(session, ctx, number)
    followups.rewrite(session, problem=problem, actor=ctx.actor, text=body.text)
    return _follow_up_page(session, problem)


@router.patch(FOLLOW_UPS + "/{follow_up_id}", response_model=schemas.FollowUpRead)
def update_follow_up(
    number: Number,
    follow_up_id: uuid.UUID,
    body: schemas.FollowUpUpdate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Edit one message's text, or skip it (``skipped: true``) or bring it back."""
    problem = _problem(session, ctx, number)
    try:
        item = followups.get_follow_up(session, problem=problem, follow_up_id=follow_up_id)
    except InvalidInput:
        raise NotFound() from None
    if body.text is not None:
        followups.edit(session, follow_up=item, actor=ctx.actor, text=body.text)
    if body.skipped is not None:
        followups.skip(session, follow_up=item, actor=ctx.actor, skipped=body.skipped)
    return _follow_up_read(session, item)


@router.post(FOLLOW_UPS + "/send", response_model=list[schemas.DeliveryRead])
def send_follow_ups(
    number: Number,
    body: schemas.FollowUpSend,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    jobs: JobsDep,
) -> object:
    """Send the drafts (all, or the ids given); refused while any still has the default text."""
    problem = _problem(session, ctx, number)
    deliveries = followups.send(
        session, problem=problem, actor=ctx.actor, follow_up_ids=body.follow_up_ids
    )
    for delivery in deliveries:
        enqueue_delivery(jobs, session, delivery)
    return deliveries
