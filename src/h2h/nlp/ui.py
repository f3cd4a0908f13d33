"""HTML pages of the nlp domain: corrections on a message, and the Understanding page
(analysis progress, models, the aspect taxonomy and the workspace's own aspects)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels.models import Message
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, H2HError, InvalidInput
from h2h.nlp import aspects as aspects_mod
from h2h.nlp import service as nlp
from h2h.nlp.models import (
    ASPECT_LABELS,
    INTENTS,
    SENTIMENT_LABELS,
    URGENCY_REASON_LABELS,
    CorrectionField,
)
from h2h.templating import NavItem, add_nav, explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]

add_nav(NavItem("understanding", N_("Understanding"), "/understanding", "spark"), after="subjects")


def aspect_labels(session: Session, workspace_id: uuid.UUID) -> dict[str, str]:
    return nlp.aspect_labels(session, workspace_id=workspace_id)


def analysis_context(session: Session, ctx: WorkspaceContext, message: Message) -> dict[str, Any]:
    """What the message page shows about the analysis, and what the correction forms need."""
    return {
        "analysis": nlp.analysis_of(session, workspace_id=ctx.workspace.id, message_id=message.id),
        "aspect_labels": aspect_labels(session, ctx.workspace.id),
        "intent_choices": INTENTS,
        "reason_labels": URGENCY_REASON_LABELS,
        "can_correct": ctx.role.at_least(Role.AGENT),
    }


def _correction_value(field: CorrectionField, form: dict[str, Any]) -> Any:
    if field is CorrectionField.SENTIMENT:
        return form.get("sentiment", "")
    if field is CorrectionField.PROFANITY:
        return form.get("profanity") == "1"
    if field is CorrectionField.INTENTS:
        return [label for label in INTENTS if form.get(f"intent_{label}")]
    return {
        key.removeprefix("aspect_"): value
        for key, value in form.items()
        if key.startswith("aspect_") and value in SENTIMENT_LABELS
    }


@router.post("/w/{ws}/mentions/{message_id}/analysis")
async def correct(
    request: Request, message_id: uuid.UUID, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    """Save a person's correction of one field of the analysis."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    target = f"/w/{ctx.workspace.slug}/mentions/{message_id}#analysis"
    try:
        field = CorrectionField(form.get("field", ""))
    except ValueError:
        field = None
    try:
        if field is None:
            raise InvalidInput(N_("Choose what to correct."), field="field")
        nlp.correct(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            message_id=message_id,
            field=field,
            value=_correction_value(field, form),
        )
    except InvalidInput as exc:
        session.rollback()
        response = redirect(target)
        flash(response, request, explain(request, exc), kind="error")
        return response
    response = redirect(target)
    flash(response, request, N_("Correction saved; the model learns from it at the next training."))
    return response


def _page(request: Request, ctx: WorkspaceContext, session: Session, **extra: Any) -> Response:
    status = int(extra.pop("status_code", 200))
    workspace_id = ctx.workspace.id
    models = nlp.models_for(session, workspace_id=workspace_id)
    context = {
        "active": "understanding",
        "progress": nlp.progress(session, workspace_id=workspace_id),
        "version": models.version,
        "model_meta": {code: models.meta(code) for code in ("ru", "en")},
        "workspace_models": nlp.list_models(session, workspace_id=workspace_id),
        "defaults": [(a.key, sorted(a.terms)) for a in aspects_mod.DEFAULT],
        "custom": nlp.list_aspects(session, workspace_id=workspace_id),
        "aspect_labels": ASPECT_LABELS,
        "corrections": nlp.correction_counts(session, workspace_id=workspace_id),
        "can_manage": ctx.role.at_least(Role.ADMIN),
        "form": {},
        **extra,
    }
    return render(request, "nlp/understanding.html", context, status_code=status)


@router.get("/w/{ws}/understanding", response_class=HTMLResponse)
def understanding(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _page(request, ctx, session)


@router.post("/w/{ws}/understanding/aspects", response_class=HTMLResponse)
def save_aspect(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    key: FormStr = "",
    name: FormStr = "",
    terms: FormStr = "",
) -> Response:
    try:
        row = nlp.save_aspect(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, key=key, name=name, terms=terms
        )
    except H2HError as exc:
        session.rollback()
        return _page(
            request,
            ctx,
            session,
            form={"key": key, "name": name, "terms": terms},
            error=explain(request, exc),
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/understanding#aspects")
    flash(
        response,
        request,
        N_("Aspect “{name}” saved; new messages are tagged with it, older ones at re-analysis."),
        name=row.name,
    )
    return response


@router.post("/w/{ws}/understanding/aspects/{aspect_id}/delete")
def delete_aspect(
    request: Request, aspect_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    nlp.delete_aspect(session, workspace_id=ctx.workspace.id, actor=ctx.actor, aspect_id=aspect_id)
    response = redirect(f"/w/{ctx.workspace.slug}/understanding#aspects")
    flash(response, request, N_("Aspect deleted."))
    return response


@router.post("/w/{ws}/understanding/reanalyze")
def reanalyze(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    """Mark every analysis stale; the background job redoes them with the current models."""
    nlp.forget_analyses(session, workspace_id=ctx.workspace.id, actor=ctx.actor)
    response = redirect(f"/w/{ctx.workspace.slug}/understanding")
    flash(response, request, N_("Re-analysis started; progress is shown below."))
    return response
