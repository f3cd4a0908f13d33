"""The "Digest" page: my digest's schedule, a preview of what it would say now, "send me one".

``/w/<ws>/reports/digest``: any member sees the preview; agents and above choose their own
digest (viewers write nothing in a workspace, their own settings included, as with
notifications).
The preview is built from the same ``Digest`` the job sends, in the page's language; the
plain text below it is exactly what would go out (email text part and Telegram).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role, User
from h2h.deps import (
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
    language_for,
)
from h2h.errors import N_, H2HError, NotFound
from h2h.inbox import notify_out
from h2h.inbox.models_notify import Medium
from h2h.inbox.ui_settings import FormMulti
from h2h.reports import digest_render, digest_service
from h2h.reports.models_digest import (
    FREQUENCY_LABELS,
    RUN_STATUS_LABELS,
    WEEKDAY_LABELS,
    Frequency,
)
from h2h.templating import explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)


def _first(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0]


def _user(session: Session, ctx: WorkspaceContext) -> User:
    user = session.get(User, ctx.actor.user_id) if ctx.actor.user_id else None
    if user is None:
        raise NotFound()
    return user


def _page(request: Request, ctx: WorkspaceContext, session: Session, **extra: Any) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace
    user = _user(session, ctx)
    choice = digest_service.choice_of(session, workspace_id=ws.id, user_id=user.id)
    language = language_for(request, user)
    digest, rendered = digest_service.preview(session, workspace=ws, user=user, language=language)
    frequency = Frequency.WEEKLY if choice.frequency is Frequency.WEEKLY else Frequency.DAILY
    zone = str(digest_service.zone_of(choice, ws))
    chat = notify_out.preference_of(session, workspace_id=ws.id, user_id=user.id)
    context = {
        "active": "reports",
        "choice": choice,
        "digest": digest,
        "rendered": rendered,
        "w": digest_render.Words(language, zone, frequency),
        "m": digest_render.msgids(),
        "frequencies": list(Frequency),
        "frequency_labels": FREQUENCY_LABELS,
        "weekday_labels": WEEKDAY_LABELS,
        "run_labels": RUN_STATUS_LABELS,
        "zone": zone,
        "workspace_zone": ws.timezone,
        "chat_id": chat.telegram_chat_id,
        "email_channel": notify_out.sending_channel(
            session, workspace_id=ws.id, medium=Medium.EMAIL
        ),
        "telegram_channel": notify_out.sending_channel(
            session, workspace_id=ws.id, medium=Medium.TELEGRAM
        ),
        "runs": digest_service.runs_of(session, workspace_id=ws.id, user_id=user.id),
        "sentiment_label": digest_render.sentiment_label,
        "can_choose": ctx.role.at_least(Role.AGENT),
        "errors": {},
        "form": None,
        **extra,
    }
    return render(request, "reports/digest.html", context, status_code=status)


@router.get("/w/{ws}/reports/digest", response_class=HTMLResponse)
def digest_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _page(request, ctx, session)


@router.post("/w/{ws}/reports/digest", response_class=HTMLResponse)
def save_choice(
    request: Request, ctx: AgentWorkspace, session: SessionDep, form: FormMulti
) -> Response:
    """A member's own digest: how often, when, by email and/or Telegram."""
    values: dict[str, Any] = {
        "frequency": _first(form, "frequency"),
        "weekday": _first(form, "weekday"),
        "hour": _first(form, "hour"),
        "timezone": _first(form, "timezone")[:64],
        "email": _first(form, "email") == "1",
        "telegram": _first(form, "telegram") == "1",
    }
    try:
        digest_service.save_choice(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, **values
        )
    except H2HError as exc:
        session.rollback()
        field = exc.field or "choice"
        return _page(
            request,
            ctx,
            session,
            errors={field: explain(request, exc)},
            form=values,
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/reports/digest")
    flash(response, request, N_("Your digest settings are saved."))
    return response


@router.post("/w/{ws}/reports/digest/send", response_class=HTMLResponse)
def send_now(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    """Queue the preview for me, now (the notification sweep sends it within seconds)."""
    try:
        digest_service.send_now(session, workspace=ctx.workspace, actor=ctx.actor)
    except H2HError as exc:
        session.rollback()
        return _page(
            request,
            ctx,
            session,
            errors={"send": explain(request, exc)},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/reports/digest")
    flash(response, request, N_("Your digest is on its way."))
    return response
