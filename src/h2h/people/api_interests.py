"""JSON endpoints of interests and values: /api/v1/workspaces/<ws>/people/<id>/interests…"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.deps import AgentWorkspace, Auth, SessionDep, WorkspaceDep, api_csrf
from h2h.people import interests, service
from h2h.people.models import InterestKind, InterestSource

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["people"])


class InterestRead(ORMModel):
    id: uuid.UUID
    label: str
    kind: InterestKind
    source: InterestSource
    weight: float
    evidence: dict[str, Any]
    dismissed_at: datetime | None
    updated_at: datetime


class InterestCreate(Input):
    label: str = Field(min_length=1, max_length=interests.LABEL_MAX)
    kind: InterestKind = InterestKind.INTEREST


BASE = "/workspaces/{ws}/people/{person_id:uuid}/interests"


@router.get(BASE, response_model=list[InterestRead])
def list_interests(
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    include_dismissed: Annotated[bool, Query()] = False,
) -> object:
    """The person's interests and values: explicit first, then inferred by weight."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    return interests.interests_of(
        session,
        workspace_id=ctx.workspace.id,
        person_id=person.id,
        include_dismissed=include_dismissed,
    )


@router.post(BASE, response_model=InterestRead, status_code=201)
def add_interest(
    person_id: uuid.UUID,
    body: InterestCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Record an interest or value; one already inferred (any case) becomes explicit."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    return interests.add_interest(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person=person,
        label=body.label,
        kind=body.kind,
    )


@router.post(BASE + "/{interest_id:uuid}/confirm", response_model=InterestRead)
def confirm_interest(
    person_id: uuid.UUID,
    interest_id: uuid.UUID,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Agree with an inferred interest: it becomes explicit and inference leaves it alone."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    return interests.confirm_interest(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person=person,
        interest_id=interest_id,
    )


@router.delete(BASE + "/{interest_id:uuid}", status_code=204)
def remove_interest(
    person_id: uuid.UUID,
    interest_id: uuid.UUID,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> Response:
    """Remove an explicit interest, or dismiss an inferred one so it does not come back."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    interests.remove_interest(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person=person,
        interest_id=interest_id,
    )
    return Response(status_code=204)
