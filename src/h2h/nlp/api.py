"""JSON endpoints of the nlp domain: analyse texts, read and correct stored analyses, aspects."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from h2h.channels import service as channels
from h2h.deps import AdminWorkspace, AgentWorkspace, Auth, SessionDep, WorkspaceDep, api_csrf
from h2h.errors import N_, InvalidInput, NotFound
from h2h.nlp import pipeline, schemas
from h2h.nlp import service as nlp
from h2h.nlp.models import Analysis

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["nlp"])


def _stored(row: Analysis) -> schemas.StoredAnalysis:
    return schemas.StoredAnalysis(
        **{**row.details, "sentiment": row.sentiment, "profanity": row.profanity},
        corrected=row.corrected,
        message_id=row.message_id,
        analyzed_at=row.analyzed_at,
    )


@router.post("/workspaces/{ws}/nlp/analyze", response_model=list[schemas.AnalysisOut])
def analyze(
    body: schemas.AnalyzeRequest, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """Analyse up to 100 texts with the workspace's models and aspects; nothing is stored."""
    if body.languages is not None and len(body.languages) != len(body.texts):
        raise InvalidInput(N_("Give one language per text, or none."), field="languages")
    results = pipeline.analyze(
        body.texts,
        body.languages,
        extra_aspects=nlp.workspace_aspect_defs(session, workspace_id=ctx.workspace.id),
        entities=body.entities,
        models=nlp.models_for(session, workspace_id=ctx.workspace.id),
    )
    return [result.to_dict() for result in results]


@router.get(
    "/workspaces/{ws}/messages/{message_id}/analysis", response_model=schemas.StoredAnalysis
)
def read_analysis(
    message_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """The stored analysis of a message, with the fields a person corrected."""
    message = channels.get_message(session, workspace_id=ctx.workspace.id, message_id=message_id)
    row = nlp.analysis_of(session, workspace_id=ctx.workspace.id, message_id=message.id)
    if row is None:
        raise NotFound(N_("This message has not been analysed yet."))
    return _stored(row)


@router.post(
    "/workspaces/{ws}/messages/{message_id}/corrections", response_model=schemas.StoredAnalysis
)
def correct(
    message_id: uuid.UUID,
    body: schemas.CorrectionCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Correct one field of a message's analysis; the correction is kept and used in training."""
    row = nlp.correct(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        message_id=message_id,
        field=body.field,
        value=body.value,
    )
    return _stored(row)


@router.get("/workspaces/{ws}/aspects", response_model=list[schemas.AspectRead])
def list_aspects(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """The workspace's own aspects (the default taxonomy always applies too)."""
    return nlp.list_aspects(session, workspace_id=ctx.workspace.id)


@router.post("/workspaces/{ws}/aspects", response_model=schemas.AspectRead, status_code=201)
def save_aspect(
    body: schemas.AspectCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Add an aspect, or extend a default one, by keywords (stored as lemmas)."""
    return nlp.save_aspect(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        key=body.key,
        name=body.name,
        terms="\n".join(body.terms),
    )


@router.delete("/workspaces/{ws}/aspects/{aspect_id}", status_code=204)
def delete_aspect(
    aspect_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    nlp.delete_aspect(session, workspace_id=ctx.workspace.id, actor=ctx.actor, aspect_id=aspect_id)
    return Response(status_code=204)
