"""Acting on advocates over JSON: list the messages sent, send new ones, record outcomes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from h2h.advocacy import actions, schemas
from h2h.advocacy.models import ActionKind, ActionState
from h2h.deps import AgentWorkspace, Auth, JobsDep, SessionDep, WorkspaceDep, api_csrf
from h2h.inbox.ui_actions import enqueue_delivery

AuthDep = Annotated[Auth, Depends(api_csrf)]
BASE = "/workspaces/{ws}/advocacy"
router = APIRouter(tags=["advocacy"])


@router.get(BASE + "/actions", response_model=list[schemas.ActionRead])
def list_actions(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    kind: ActionKind | None = None,
    state: ActionState | None = None,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    """Messages sent to advocates, newest first, with their outcomes."""
    return actions.list_actions(
        session,
        workspace_id=ctx.workspace.id,
        kind=kind,
        state=state,
        person_id=person_id,
        limit=limit,
    )


@router.post(BASE + "/actions", response_model=schemas.SendRead)
def send_actions(
    body: schemas.ActionCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    jobs: JobsDep,
) -> object:
    """Write to each person as yourself; those not written to are counted by reason."""
    request = actions.check_request(
        kind=body.kind, text=body.text, link=body.link, reward=body.reward, rewarded=body.rewarded
    )
    outcome = actions.send(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        request=request,
        person_ids=body.person_ids,
        channel_id=body.channel_id,
    )
    for delivery in outcome.deliveries:
        enqueue_delivery(jobs, session, delivery)
    return schemas.SendRead(
        sent=outcome.sent,
        capped=outcome.capped,
        no_address=outcome.no_address,
        refused=dict(outcome.refused),
        actions=[schemas.ActionRead.model_validate(a) for a in outcome.actions],
    )


@router.get(BASE + "/actions/{action_id}", response_model=schemas.ActionRead)
def get_action(
    action_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    return actions.get_action(session, workspace_id=ctx.workspace.id, action_id=action_id)


@router.patch(BASE + "/actions/{action_id}", response_model=schemas.ActionRead)
def set_outcome(
    action_id: uuid.UUID,
    body: schemas.OutcomeUpdate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Record the outcome by hand, with a note saying how you know."""
    action = actions.get_action(session, workspace_id=ctx.workspace.id, action_id=action_id)
    return actions.set_outcome(
        session, action=action, actor=ctx.actor, state=body.state, note=body.note
    )


@router.get(BASE + "/outcomes", response_model=dict[ActionKind, schemas.KindCounts])
def outcome_counts(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """Per kind: how many were sent and how many led to each outcome."""
    return actions.counts(session, workspace_id=ctx.workspace.id)
