"""The "Notifications" page: what reaches me outside the app (email, Telegram), and through what.

``/w/<ws>/inbox/me/notifications`` (agents): my choice of kinds and where they go, and what
was sent lately with its failures. Admins also choose there which mailbox and which bot send
staff notifications, and see the workspace's recent failures.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.deps import AdminWorkspace, AgentWorkspace, SessionDep, WorkspaceContext, form_csrf
from h2h.errors import N_, H2HError
from h2h.inbox import notify_out, service
from h2h.inbox.models_notify import KIND_LABELS, MEDIUM_LABELS, Medium, NotifyKind
from h2h.inbox.ui import labels
from h2h.inbox.ui_settings import FormMulti
from h2h.templating import explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)


def _first(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0]


def _page(request: Request, ctx: WorkspaceContext, session: Session, **extra: Any) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace.id
    user_id = service.person_of(ctx.actor)
    preference = notify_out.preference_of(session, workspace_id=ws, user_id=user_id)
    admin = ctx.role.at_least(Role.ADMIN)
    settings = notify_out.settings_of(session, workspace_id=ws)
    context = {
        **labels(session, ws),
        "tab": "me",
        "preference": preference,
        "kinds": list(NotifyKind),
        "kind_labels": KIND_LABELS,
        "medium_labels": MEDIUM_LABELS,
        "email_channel": notify_out.sending_channel(session, workspace_id=ws, medium=Medium.EMAIL),
        "telegram_channel": notify_out.sending_channel(
            session, workspace_id=ws, medium=Medium.TELEGRAM
        ),
        "sent": notify_out.deliveries_of(session, workspace_id=ws, user_id=user_id),
        "is_admin": admin,
        "email_candidates": notify_out.candidates(session, workspace_id=ws, medium=Medium.EMAIL),
        "telegram_candidates": notify_out.candidates(
            session, workspace_id=ws, medium=Medium.TELEGRAM
        ),
        "chosen_email": str(settings.email_channel_id or "") if settings else "",
        "chosen_telegram": str(settings.telegram_channel_id or "") if settings else "",
        "failures": notify_out.failures(session, workspace_id=ws) if admin else [],
        "errors": {},
        "form": None,
        **extra,
    }
    return render(request, "inbox/notify.html", context, status_code=status)


@router.get("/w/{ws}/inbox/me/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    return _page(request, ctx, session)


@router.post("/w/{ws}/inbox/me/notifications", response_class=HTMLResponse)
def save_preference(
    request: Request, ctx: AgentWorkspace, session: SessionDep, form: FormMulti
) -> Response:
    """A member's own choice: email on or off, a Telegram chat id, the kinds sent out."""
    email, chat, kinds = (
        _first(form, "email") == "1",
        _first(form, "telegram_chat_id"),
        form.get("kinds", []),
    )
    values = {"email": email, "telegram_chat_id": chat, "kinds": kinds}
    try:
        notify_out.save_preference(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            email=email,
            telegram_chat_id=chat,
            kinds=kinds,
        )
    except H2HError as exc:
        session.rollback()
        return _page(
            request,
            ctx,
            session,
            errors={"preference": explain(request, exc)},
            form=values,
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/me/notifications")
    flash(response, request, N_("Your notification settings are saved."))
    return response


@router.post("/w/{ws}/inbox/me/notifications/channels", response_class=HTMLResponse)
def save_channels(
    request: Request, ctx: AdminWorkspace, session: SessionDep, form: FormMulti
) -> Response:
    """Admins: the mailbox and the bot that send staff notifications."""
    try:
        notify_out.save_channels(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            email_channel_id=_first(form, "email_channel_id"),
            telegram_channel_id=_first(form, "telegram_channel_id"),
        )
    except H2HError as exc:
        session.rollback()
        return _page(
            request,
            ctx,
            session,
            errors={"channels": explain(request, exc)},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/me/notifications#channels")
    flash(response, request, N_("Staff notification channels saved."))
    return response
