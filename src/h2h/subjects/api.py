"""JSON endpoints of the subjects domain."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from h2h.deps import AdminWorkspace, Auth, SessionDep, WorkspaceDep, api_csrf
from h2h.subjects import schemas
from h2h.subjects import service as subjects
from h2h.subjects.models import Subject
from h2h.subjects.query import QueryError, parse

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["subjects"])


def _read(subject: Subject, counts: dict[uuid.UUID, int]) -> schemas.SubjectRead:
    data = schemas.SubjectRead.model_validate(subject).model_dump(exclude={"mentions"})
    return schemas.SubjectRead(**data, mentions=counts.get(subject.id, 0))


@router.get("/workspaces/{ws}/subjects", response_model=list[schemas.SubjectRead])
def list_subjects(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """Brands, persons, products and competitors the workspace listens for."""
    counts = subjects.mention_counts(session, workspace_id=ctx.workspace.id)
    return [
        _read(s, counts) for s in subjects.list_subjects(session, workspace_id=ctx.workspace.id)
    ]


@router.post("/workspaces/{ws}/subjects", response_model=schemas.SubjectRead, status_code=201)
def create_subject(
    body: schemas.SubjectCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Start listening for a subject; new messages are matched against its query."""
    subject = subjects.create_subject(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        kind=body.kind,
        name=body.name,
        query=body.query,
    )
    return _read(subject, {})


@router.patch("/workspaces/{ws}/subjects/{subject_id}", response_model=schemas.SubjectRead)
def update_subject(
    subject_id: uuid.UUID,
    body: schemas.SubjectUpdate,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Rename, re-kind, re-query or pause a subject."""
    subject = subjects.get_subject(session, workspace_id=ctx.workspace.id, subject_id=subject_id)
    subjects.update_subject(
        session,
        subject=subject,
        actor=ctx.actor,
        name=body.name,
        kind=body.kind,
        query=body.query,
        is_active=body.is_active,
    )
    return _read(subject, subjects.mention_counts(session, workspace_id=ctx.workspace.id))


@router.delete("/workspaces/{ws}/subjects/{subject_id}", status_code=204)
def delete_subject(
    subject_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    """Stop listening for a subject and forget its mentions (the messages stay)."""
    subject = subjects.get_subject(session, workspace_id=ctx.workspace.id, subject_id=subject_id)
    subjects.delete_subject(session, subject=subject, actor=ctx.actor)
    return Response(status_code=204)


@router.post("/workspaces/{ws}/subjects/check-query", response_model=schemas.QueryCheckResult)
def check_query(body: schemas.QueryCheck, ctx: WorkspaceDep, auth: AuthDep) -> object:
    """Check a query without saving it: where and why it is wrong, if it is."""
    try:
        parse(body.query)
    except QueryError as exc:
        return schemas.QueryCheckResult(ok=False, error=str(exc), position=exc.position)
    return schemas.QueryCheckResult(ok=True)
