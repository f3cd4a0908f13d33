"""Pages of consent and data-subject rights: the consent panel's forms, export, erase."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, Conflict, InvalidInput
from h2h.people import consent, privacy, service
from h2h.people.models import ConsentStatus, Person
from h2h.people.ui import person_action
from h2h.templating import explain, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=10_000)]
# The word an admin types to erase; the page's language or English both count.
ERASE_WORD = N_("ERASE")


def _back(ctx: WorkspaceContext, person_id: uuid.UUID) -> str:
    return f"/w/{ctx.workspace.slug}/people/{person_id}"


@router.post("/w/{ws}/people/{person_id:uuid}/consents")
def record_consent(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    channel: FormStr = "",
    purpose: FormStr = "",
    status: FormStr = "granted",
    source: FormStr = "",
    evidence: FormStr = "",
) -> Response:
    def act(person: Person) -> Any:
        return consent.record_consent(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            person_id=person.id,
            channel=channel,
            purpose=purpose,
            status=status,
            source=source,
            evidence=evidence or None,
        )

    done = (
        N_("Consent recorded.") if status == ConsentStatus.GRANTED else N_("Withdrawal recorded.")
    )
    return person_action(request, ctx, session, person_id, act, done, anchor="#consent")


@router.post("/w/{ws}/people/{person_id:uuid}/blocks")
def block(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    channel: FormStr = "",
    reason: FormStr = "",
) -> Response:
    def act(person: Person) -> Any:
        return consent.block(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            person_id=person.id,
            channel=channel,
            reason=reason or None,
        )

    return person_action(
        request, ctx, session, person_id, act, N_("Do-not-contact set."), anchor="#consent"
    )


@router.post("/w/{ws}/people/{person_id:uuid}/blocks/remove")
def unblock(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    channel: FormStr = "",
) -> Response:
    def act(person: Person) -> None:
        consent.unblock(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            person_id=person.id,
            channel=channel,
        )

    return person_action(
        request, ctx, session, person_id, act, N_("Do-not-contact lifted."), anchor="#consent"
    )


@router.get("/w/{ws}/people/{person_id:uuid}/export.json")
def export_json(person_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep) -> Response:
    """Everything about the person as a JSON file (a subject access request)."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    data = privacy.export_person(
        session, workspace_id=ctx.workspace.id, person_id=person.id, actor=ctx.actor
    )
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="person-{person.id}.json"'},
    )


def _erase_page(
    request: Request, ctx: WorkspaceContext, session: Session, person: Person, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        "active": "people",
        "person": person,
        "word": page_gettext(request)(ERASE_WORD),
        "error": None,
        **extra,
    }
    return render(request, "people/erase.html", context, status_code=status)


@router.get("/w/{ws}/people/{person_id:uuid}/erase", response_class=HTMLResponse)
def erase_page(
    request: Request, person_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    """The confirmation page: what erasure removes, what it keeps, and the word to type."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    if person.erased_at is not None or person.merged_into_id is not None:
        return redirect(_back(ctx, person.id))
    return _erase_page(request, ctx, session, person)


@router.post("/w/{ws}/people/{person_id:uuid}/erase", response_class=HTMLResponse)
def erase(
    request: Request,
    person_id: uuid.UUID,
    ctx: AdminWorkspace,
    session: SessionDep,
    confirm: FormStr = "",
) -> Response:
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    typed = confirm.strip().casefold()
    if typed not in {ERASE_WORD.casefold(), page_gettext(request)(ERASE_WORD).casefold()}:
        error = InvalidInput(N_("Type the word to confirm: nothing was erased."), field="confirm")
        return _erase_page(
            request, ctx, session, person, error=explain(request, error), status_code=422
        )
    try:
        privacy.erase_person(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, person_id=person.id
        )
    except Conflict as exc:
        session.rollback()
        response = redirect(_back(ctx, person_id))
        flash(response, request, exc.message, "error", **exc.params)
        return response
    response = redirect(f"/w/{ctx.workspace.slug}/people")
    flash(response, request, N_("The person was erased. Their activity still counts in totals."))
    return response
