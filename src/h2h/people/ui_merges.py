"""Pages of identity resolution under /w/<ws>/people/merges: decide, undo, configure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, Conflict, InvalidInput
from h2h.people import merging, service, suggestions
from h2h.templating import explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=300)]


def _page(
    request: Request, ctx: WorkspaceContext, session: Session, page: int = 1, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace.id
    found, total = suggestions.list_suggestions(session, workspace_id=ws, page=page)
    context = {
        "active": "people",
        "suggestions": found,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // suggestions.PAGE)),
        "merges": suggestions.list_merges(session, workspace_id=ws),
        "policy": service.get_settings(session, workspace_id=ws),
        "members": service.member_names(session, workspace_id=ws),
        "labels": suggestions.EVIDENCE_LABELS,
        "can_edit": ctx.role.at_least(Role.AGENT),
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "error": None,
        **extra,
    }
    return render(request, "people/merges.html", context, status_code=status)


@router.get("/w/{ws}/people/merges", response_class=HTMLResponse)
def merges_page(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _page(request, ctx, session, page)


def _back(ctx: WorkspaceContext, back: str) -> str:
    """Where to return after an action: a page of this workspace's people, never elsewhere."""
    base = f"/w/{ctx.workspace.slug}/people"
    if back.startswith(base + "/") and "//" not in back and "\\" not in back:
        return back
    return base + "/merges"


def _act(
    request: Request,
    session: Session,
    url: str,
    action: Callable[[], Any],
    done: Callable[[Any], tuple[str, dict[str, Any]]],
) -> Response:
    try:
        result = action()
    except (InvalidInput, Conflict) as exc:
        # A record of another workspace stays a 404; only a decision that failed is a flash.
        session.rollback()
        response = redirect(url)
        flash(response, request, exc.message, "error", **exc.params)
        return response
    message, params = done(result)
    response = redirect(url)
    flash(response, request, message, **params)
    return response


def _merged(record: Any) -> tuple[str, dict[str, Any]]:
    names = record.snapshot
    return N_("{loser} merged into {winner}."), {
        "loser": names["loser"]["name"],
        "winner": names["winner"]["name"],
    }


@router.post("/w/{ws}/people/merges/suggestions/{suggestion_id:uuid}/merge")
def merge_suggestion(
    request: Request,
    suggestion_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    back: FormStr = "",
) -> Response:
    return _act(
        request,
        session,
        _back(ctx, back),
        lambda: suggestions.merge_suggestion(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, suggestion_id=suggestion_id
        ),
        _merged,
    )


@router.post("/w/{ws}/people/merges/suggestions/{suggestion_id:uuid}/dismiss")
def dismiss_suggestion(
    request: Request,
    suggestion_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    back: FormStr = "",
) -> Response:
    return _act(
        request,
        session,
        _back(ctx, back),
        lambda: suggestions.dismiss(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, suggestion_id=suggestion_id
        ),
        lambda _: (N_("Noted: these are two different people."), {}),
    )


@router.post("/w/{ws}/people/merges/{merge_id:uuid}/undo")
def undo_merge(
    request: Request,
    merge_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    back: FormStr = "",
) -> Response:
    def done(record: Any) -> tuple[str, dict[str, Any]]:
        return N_("Merge undone: {loser} and {winner} are two persons again."), {
            "loser": record.snapshot["loser"]["name"],
            "winner": record.snapshot["winner"]["name"],
        }

    return _act(
        request,
        session,
        _back(ctx, back),
        lambda: merging.unmerge(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, merge_id=merge_id
        ),
        done,
    )


@router.post("/w/{ws}/people/merges/settings", response_class=HTMLResponse)
def save_settings(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    auto_merge_threshold: FormStr = "",
    suggest_threshold: FormStr = "",
) -> Response:
    try:
        suggestions.update_settings(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            auto_merge_threshold=auto_merge_threshold.strip().replace(",", "."),
            suggest_threshold=suggest_threshold.strip().replace(",", "."),
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _page(
            request, ctx, session, error=explain(request, exc), status_code=exc.status_code
        )
    response = redirect(f"/w/{ctx.workspace.slug}/people/merges")
    flash(response, request, N_("Merge settings saved."))
    return response
