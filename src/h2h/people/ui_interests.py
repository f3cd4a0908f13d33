"""The interests panel's forms: add an interest or value, confirm or dismiss an inferred one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from h2h.deps import AgentWorkspace, SessionDep, WorkspaceContext, form_csrf
from h2h.errors import N_
from h2h.people import interests
from h2h.people.models import Person, PersonInterest
from h2h.people.ui import person_action

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=1_000)]


def _act(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    person_id: uuid.UUID,
    action: Callable[[Person], PersonInterest],
    done: str,
) -> Response:
    return person_action(
        request,
        ctx,
        session,
        person_id,
        action,
        done,
        anchor="#interests",
        done_params=lambda row: {"label": row.label},
    )


@router.post("/w/{ws}/people/{person_id:uuid}/interests")
def add(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    label: FormStr = "",
    kind: FormStr = "",
) -> Response:
    def act(person: Person) -> Any:
        return interests.add_interest(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            person=person,
            label=label,
            kind=kind or None,
        )

    return _act(request, ctx, session, person_id, act, N_("“{label}” added."))


@router.post("/w/{ws}/people/{person_id:uuid}/interests/{interest_id:uuid}/confirm")
def confirm(
    request: Request,
    person_id: uuid.UUID,
    interest_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
) -> Response:
    def act(person: Person) -> Any:
        return interests.confirm_interest(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            person=person,
            interest_id=interest_id,
        )

    return _act(request, ctx, session, person_id, act, N_("“{label}” confirmed."))


@router.post("/w/{ws}/people/{person_id:uuid}/interests/{interest_id:uuid}/remove")
def remove(
    request: Request,
    person_id: uuid.UUID,
    interest_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
) -> Response:
    def act(person: Person) -> Any:
        return interests.remove_interest(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            person=person,
            interest_id=interest_id,
        )

    return _act(request, ctx, session, person_id, act, N_("“{label}” removed."))
