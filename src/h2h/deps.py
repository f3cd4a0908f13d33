"""Request dependencies shared by every domain's api.py and ui.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from h2h import i18n
from h2h.accounts import security
from h2h.accounts import service as accounts
from h2h.accounts.models import Membership, Role, User, UserSession, Workspace
from h2h.config import Settings
from h2h.db import transaction
from h2h.errors import N_, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from h2h.jobs import Jobs

SESSION_COOKIE = "h2h_session"
ANON_COOKIE = "h2h_anon"
LANG_COOKIE = "h2h_lang"
LAST_WORKSPACE_COOKIE = "h2h_ws"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed if the handler returns, rolled back if it raises."""
    with transaction(request.app.state.sessions) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]


@dataclass(frozen=True)
class UserView:
    """What pages show of the current user, copied at authentication time.

    Error pages render after the request's transaction was rolled back, when ORM objects
    can no longer be read; these plain copies can.
    """

    id: uuid.UUID
    name: str
    email: str
    language: str | None


@dataclass(frozen=True)
class WorkspaceView:
    id: uuid.UUID
    slug: str
    name: str
    language: str
    timezone: str


@dataclass(frozen=True)
class MembershipView:
    id: uuid.UUID
    role: Role


@dataclass
class Auth:
    user: User
    login: UserSession | None  # None when authenticated by an API token


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def language_for(request: Request, user: User | UserView | None = None) -> str:
    """User setting, then the language cookie, then Accept-Language, then the default."""
    if user is not None and user.language in i18n.LANGUAGES:
        return user.language
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.LANGUAGES:
        return cookie
    negotiated = i18n.negotiate(request.headers.get("accept-language"))
    return negotiated or request.app.state.settings.default_language


def csrf_binding(request: Request) -> str | None:
    """What the CSRF token is bound to: the login session, else the anonymous cookie."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)


def optional_auth(request: Request, session: SessionDep, settings: SettingsDep) -> Auth | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        user = accounts.resolve_api_token(session, raw=raw.strip())
        if scheme.lower() != "bearer" or user is None:
            raise Unauthenticated(N_("The API token is missing, invalid or revoked."))
        auth = Auth(user=user, login=None)
    else:
        raw_cookie = request.cookies.get(SESSION_COOKIE)
        login = raw_cookie and accounts.resolve_session(
            session, raw=raw_cookie, days=settings.session_days
        )
        if not login:
            return None
        auth = Auth(user=login.user, login=login)
    user = auth.user
    request.state.user = UserView(user.id, user.name, user.email, user.language)
    return auth


def require_auth(request: Request, auth: Annotated[Auth | None, Depends(optional_auth)]) -> Auth:
    if auth is None:
        raise Unauthenticated(N_("Please log in."))
    return auth


def api_csrf(request: Request, auth: Annotated[Auth, Depends(require_auth)]) -> Auth:
    """Cookie-authenticated API writes must echo the CSRF token in a header."""
    if auth.login is not None and request.method in UNSAFE_METHODS:
        binding = csrf_binding(request) or ""
        if not security.csrf_matches(
            request.app.state.settings.secret_key, binding, request.headers.get("x-csrf-token")
        ):
            raise PermissionDenied(N_("The security token is missing or stale. Reload the page."))
    return auth


async def form_csrf(request: Request) -> None:
    """Every HTML form that changes something carries the CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    form = await request.form()
    # PostgreSQL cannot store or even compare text holding NUL; it is never meaningful input.
    if any(isinstance(v, str) and "\x00" in v for v in form.values()):
        raise InvalidInput(N_("The form contains a NUL character; remove it and try again."))
    presented = request.headers.get("x-csrf-token")
    if presented is None:
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    binding = csrf_binding(request) or ""
    if not security.csrf_matches(request.app.state.settings.secret_key, binding, presented):
        raise PermissionDenied(N_("The security token is missing or stale. Reload the page."))


CurrentAuth = Annotated[Auth, Depends(require_auth)]


def current_user(auth: CurrentAuth) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass
class WorkspaceContext:
    """The workspace named in the URL, and the current user's place in it."""

    workspace: Workspace
    membership: Membership
    actor: accounts.Actor

    @property
    def role(self) -> Role:
        return self.membership.role


def workspace_context(
    ws: str, request: Request, session: SessionDep, user: CurrentUser
) -> WorkspaceContext:
    # A workspace the user is not a member of answers exactly like one that does not exist.
    try:
        workspace = accounts.get_workspace(session, slug=ws)
    except NotFound:
        raise NotFound() from None
    membership = accounts.get_membership(session, user=user, workspace=workspace)
    if membership is None:
        raise NotFound()
    actor = accounts.Actor(user_id=user.id, role=membership.role, ip=client_ip(request))
    request.state.workspace = WorkspaceView(
        workspace.id, workspace.slug, workspace.name, workspace.language, workspace.timezone
    )
    request.state.membership = MembershipView(membership.id, membership.role)
    return WorkspaceContext(workspace=workspace, membership=membership, actor=actor)


WorkspaceDep = Annotated[WorkspaceContext, Depends(workspace_context)]


def require_role(role: Role) -> Callable[[WorkspaceContext], WorkspaceContext]:
    """A dependency that lets only members with at least this role through."""

    def check(ctx: WorkspaceDep) -> WorkspaceContext:
        ctx.actor.require(role)
        return ctx

    return check


AdminWorkspace = Annotated[WorkspaceContext, Depends(require_role(Role.ADMIN))]
AgentWorkspace = Annotated[WorkspaceContext, Depends(require_role(Role.AGENT))]
