"""HTML pages of the accounts domain: login, workspaces, members, account, audit log."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from h2h.accounts import service as accounts
from h2h.accounts.models import ROLE_LABELS, AuditEvent, Role
from h2h.db import utcnow
from h2h.deps import (
    LANG_COOKIE,
    LAST_WORKSPACE_COOKIE,
    SESSION_COOKIE,
    AdminWorkspace,
    Auth,
    CurrentAuth,
    CurrentUser,
    SessionDep,
    SettingsDep,
    WorkspaceDep,
    client_ip,
    form_csrf,
    optional_auth,
)
from h2h.errors import N_, Conflict, InvalidInput, TooManyAttempts, Unauthenticated
from h2h.templating import NavItem, add_nav, explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
MaybeAuth = Annotated[Auth | None, Depends(optional_auth)]
FormStr = Annotated[str, Form(max_length=10_000)]

add_nav(NavItem("dashboard", N_("Overview"), "/", "home"))
add_nav(NavItem("members", N_("Team"), "/members", "users"))
add_nav(NavItem("audit", N_("Audit log"), "/audit", "list", Role.ADMIN))
add_nav(NavItem("settings", N_("Settings"), "/settings", "cog", Role.ADMIN))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//host" and "/\\host" would send the user elsewhere after login.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


# --- login and language ---------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request, auth: MaybeAuth, session: SessionDep) -> Response:
    if auth is None:
        return redirect("/login")
    memberships = accounts.list_memberships_of(session, user=auth.user)
    if not memberships:
        return redirect("/workspaces/new")
    # The workspace used last on this browser, else the one joined first.
    last = request.cookies.get(LAST_WORKSPACE_COOKIE)
    if last not in {m.workspace.slug for m in memberships}:
        last = min(memberships, key=lambda m: m.created_at).workspace.slug
    return redirect(f"/w/{last}/")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, auth: MaybeAuth, next: str | None = None) -> Response:
    if auth is not None:
        return redirect(_safe_next(next))
    return render(request, "accounts/login.html", {"next": _safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = "/",
) -> Response:
    try:
        user = accounts.authenticate(
            session,
            email=email,
            password=password,
            ip=client_ip(request),
            max_failures=settings.login_max_failures,
            window_minutes=settings.login_lockout_minutes,
        )
    except (Unauthenticated, TooManyAttempts) as exc:
        # Returned, not raised: the failed attempt must be committed to count for throttling.
        context = {"next": _safe_next(next), "email": email[:320], "error": explain(request, exc)}
        return render(request, "accounts/login.html", context, status_code=exc.status_code)
    raw, _ = accounts.start_session(
        session,
        user=user,
        days=settings.session_days,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = redirect(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        accounts.end_session(session, raw=raw)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
def switch_language(
    request: Request,
    auth: MaybeAuth,
    session: SessionDep,
    settings: SettingsDep,
    lang: FormStr = "",
    next: FormStr = "/",
) -> Response:
    lang = accounts.check_language(lang, field="lang")
    if auth is not None:
        accounts.update_profile(session, user=auth.user, language=lang)
    response = redirect(_safe_next(next))
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", secure=settings.cookie_secure
    )
    return response


# --- workspaces -------------------------------------------------------------------------------


@router.get("/workspaces/new", response_class=HTMLResponse)
def new_workspace_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "accounts/workspace_new.html", {"form": {}})


@router.post("/workspaces/new", response_class=HTMLResponse)
def create_workspace(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    name: FormStr = "",
    language: FormStr = "ru",
    timezone: FormStr = "Europe/Moscow",
) -> Response:
    try:
        workspace = accounts.create_workspace(
            session,
            name=name,
            owner=user,
            language=language,
            timezone=timezone,
            ip=client_ip(request),
        )
    except (InvalidInput, Conflict) as exc:
        form = {"name": name, "language": language, "timezone": timezone}
        return render(
            request,
            "accounts/workspace_new.html",
            {"form": form, "error": explain(request, exc)},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{workspace.slug}/")
    flash(response, request, N_("Workspace “{name}” created."), name=workspace.name)
    return response


@router.get("/w/{ws}/", response_class=HTMLResponse)
def dashboard(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    members = accounts.list_members(session, workspace_id=ctx.workspace.id)
    recent: list[AuditEvent] = []
    if ctx.role.at_least(Role.ADMIN):
        recent, _ = accounts.list_audit(session, workspace_id=ctx.workspace.id, actor=ctx.actor)
    invitations = accounts.list_invitations(session, workspace_id=ctx.workspace.id)
    return render(
        request,
        "accounts/dashboard.html",
        {
            "listening": _listening_summary(session, ctx.workspace.id),
            "members": members,
            "recent": recent[:8],
            "invitations": invitations,
            "active": "dashboard",
            "has_tokens": bool(accounts.list_api_tokens(session, user=ctx.membership.user)),
        },
    )


def _listening_summary(session: SessionDep, workspace_id: uuid.UUID) -> dict[str, object]:
    """The week in one card, until the reports domain brings the real dashboard."""
    from h2h.channels import service as channels
    from h2h.subjects import service as subjects

    week = channels.MessageFilter(since=utcnow() - timedelta(days=7))
    _, messages_this_week = channels.list_messages(
        session, workspace_id=workspace_id, filters=week, page=1
    )
    counts = subjects.mention_counts(session, workspace_id=workspace_id)
    listened = subjects.list_subjects(session, workspace_id=workspace_id)
    top = sorted(listened, key=lambda s: -counts.get(s.id, 0))[:5]
    return {
        "week": messages_this_week,
        "channels": len(channels.list_channels(session, workspace_id=workspace_id)),
        "subjects": [(s, counts.get(s.id, 0)) for s in top],
        "has_subjects": bool(listened),
        "has_messages": bool(channels.message_counts(session, workspace_id=workspace_id)),
    }


@router.get("/w/{ws}/settings", response_class=HTMLResponse)
def settings_page(request: Request, ctx: AdminWorkspace) -> Response:
    return render(request, "accounts/settings.html", {"active": "settings"})


@router.post("/w/{ws}/settings", response_class=HTMLResponse)
def update_settings(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    name: FormStr = "",
    language: FormStr = "",
    timezone: FormStr = "",
) -> Response:
    try:
        accounts.update_workspace(
            session,
            workspace=ctx.workspace,
            actor=ctx.actor,
            name=name,
            language=language,
            timezone=timezone,
        )
    except InvalidInput as exc:
        session.rollback()
        return render(
            request,
            "accounts/settings.html",
            {"active": "settings", "error": explain(request, exc)},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/settings")
    flash(response, request, N_("Settings saved."))
    return response


# --- members and invitations -----------------------------------------------------------------


def _members_page(
    request: Request, ctx: WorkspaceDep, session: SessionDep, **extra: object
) -> Response:
    status = int(str(extra.pop("status_code", 200)))
    context = {
        "active": "members",
        "members": accounts.list_members(session, workspace_id=ctx.workspace.id),
        "invitations": accounts.list_invitations(session, workspace_id=ctx.workspace.id)
        if ctx.role.at_least(Role.ADMIN)
        else [],
        "roles": list(Role),
        "can_manage": ctx.role.at_least(Role.ADMIN),
        **extra,
    }
    return render(request, "accounts/members.html", context, status_code=status)


@router.get("/w/{ws}/members", response_class=HTMLResponse)
def members_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _members_page(request, ctx, session)


@router.post("/w/{ws}/invitations", response_class=HTMLResponse)
def invite(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    email: FormStr = "",
    role: FormStr = "agent",
) -> Response:
    try:
        raw, invitation = accounts.invite(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            email=email,
            role=accounts.parse_role(role),
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _members_page(
            request,
            ctx,
            session,
            error=explain(request, exc),
            invite_form={"email": email, "role": role},
            status_code=exc.status_code,
        )
    url = str(request.url_for("invitation_page", token=raw))
    return _members_page(request, ctx, session, new_invite={"email": invitation.email, "url": url})


@router.post("/w/{ws}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, invitation_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    accounts.revoke_invitation(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, invitation_id=invitation_id
    )
    response = redirect(f"/w/{ctx.workspace.slug}/members")
    flash(response, request, N_("Invitation withdrawn."))
    return response


@router.post("/w/{ws}/members/{member_id}/role")
def change_role(
    request: Request,
    member_id: uuid.UUID,
    ctx: AdminWorkspace,
    session: SessionDep,
    role: FormStr = "",
) -> Response:
    member = accounts.change_role(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        membership_id=member_id,
        role=accounts.parse_role(role),
    )
    response = redirect(f"/w/{ctx.workspace.slug}/members")
    flash(
        response,
        request,
        N_("{name} is now {role}."),
        name=member.user.name,
        role=ROLE_LABELS[member.role],
        translate=("role",),
    )
    return response


@router.post("/w/{ws}/members/{member_id}/remove")
def remove_member(
    request: Request, member_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep
) -> Response:
    accounts.remove_member(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, membership_id=member_id
    )
    leaving = ctx.membership.id == member_id
    response = redirect("/" if leaving else f"/w/{ctx.workspace.slug}/members")
    flash(response, request, N_("You left the workspace.") if leaving else N_("Member removed."))
    return response


@router.get("/w/{ws}/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    events, total = accounts.list_audit(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, page=page
    )
    pages = max(1, -(-total // accounts.AUDIT_PAGE_SIZE))
    return render(
        request,
        "accounts/audit.html",
        {"active": "audit", "events": events, "page": page, "pages": pages, "total": total},
    )


# --- invitation links ------------------------------------------------------------------------


@router.get("/invite/{token}", response_class=HTMLResponse, name="invitation_page")
def invitation_page(request: Request, token: str, auth: MaybeAuth, session: SessionDep) -> Response:
    invitation = accounts.get_open_invitation(session, raw=token)
    return render(request, "accounts/invitation.html", {"invitation": invitation, "form": {}})


@router.post("/invite/{token}", response_class=HTMLResponse)
def accept_invitation(
    request: Request,
    token: str,
    auth: MaybeAuth,
    session: SessionDep,
    settings: SettingsDep,
    name: FormStr = "",
    password: FormStr = "",
) -> Response:
    invitation = accounts.get_open_invitation(session, raw=token)
    try:
        user, membership = accounts.accept_invitation(
            session,
            raw=token,
            user=auth.user if auth else None,
            name=name,
            password=password,
            ip=client_ip(request),
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return render(
            request,
            "accounts/invitation.html",
            {"invitation": invitation, "form": {"name": name}, "error": explain(request, exc)},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{membership.workspace.slug}/")
    if auth is None:
        raw, _ = accounts.start_session(
            session,
            user=user,
            days=settings.session_days,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
        response.set_cookie(
            SESSION_COOKIE,
            raw,
            max_age=settings.session_days * 86400,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
        )
    flash(response, request, N_("Welcome to {workspace}!"), workspace=membership.workspace.name)
    return response


# --- one's own account ------------------------------------------------------------------------


def _account_page(request: Request, auth: Auth, session: SessionDep, **extra: object) -> Response:
    status = int(str(extra.pop("status_code", 200)))
    context = {
        "tokens": accounts.list_api_tokens(session, user=auth.user),
        "password_min": accounts.PASSWORD_MIN_LENGTH,
        "memberships": accounts.list_memberships_of(session, user=auth.user),
        **extra,
    }
    return render(request, "accounts/account.html", context, status_code=status)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, auth: CurrentAuth, session: SessionDep) -> Response:
    return _account_page(request, auth, session)


@router.post("/account/profile", response_class=HTMLResponse)
def update_profile(
    request: Request,
    auth: CurrentAuth,
    session: SessionDep,
    name: FormStr = "",
    language: FormStr = "",
) -> Response:
    try:
        accounts.update_profile(session, user=auth.user, name=name, language=language)
    except InvalidInput as exc:
        session.rollback()
        return _account_page(
            request, auth, session, status_code=exc.status_code, error=explain(request, exc)
        )
    response = redirect("/account")
    flash(response, request, N_("Profile saved."))
    return response


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    auth: CurrentAuth,
    session: SessionDep,
    current_password: FormStr = "",
    new_password: FormStr = "",
) -> Response:
    try:
        accounts.change_password(
            session,
            user=auth.user,
            current=current_password,
            new=new_password,
            keep_session_id=auth.login.id if auth.login else None,
        )
    except InvalidInput as exc:
        return _account_page(
            request,
            auth,
            session,
            status_code=exc.status_code,
            password_error=explain(request, exc),
        )
    response = redirect("/account")
    flash(response, request, N_("Password changed. Other sessions were logged out."))
    return response


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, auth: CurrentAuth, session: SessionDep, name: FormStr = ""
) -> Response:
    try:
        raw, token = accounts.create_api_token(session, user=auth.user, name=name)
    except InvalidInput as exc:
        return _account_page(
            request, auth, session, status_code=exc.status_code, token_error=explain(request, exc)
        )
    return _account_page(request, auth, session, new_token=raw, new_token_name=token.name)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: uuid.UUID, auth: CurrentAuth, session: SessionDep
) -> RedirectResponse:
    token = accounts.revoke_api_token(session, user=auth.user, token_id=token_id)
    response = redirect("/account")
    flash(response, request, N_("Token “{name}” revoked."), name=token.name)
    return response
