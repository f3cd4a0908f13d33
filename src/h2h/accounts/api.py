"""JSON endpoints of the accounts domain under /api/v1."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from h2h.accounts import schemas
from h2h.accounts import service as accounts
from h2h.deps import AdminWorkspace, SessionDep, WorkspaceDep, api_csrf, client_ip
from h2h.deps import Auth as AuthContext

Auth = Annotated[AuthContext, Depends(api_csrf)]

router = APIRouter(tags=["accounts"])


def _invite_url(request: Request, raw: str) -> str:
    return str(request.url_for("invitation_page", token=raw))


@router.get("/me", response_model=schemas.UserRead)
def read_me(auth: Auth) -> object:
    """The user behind this session or token."""
    return auth.user


@router.patch("/me", response_model=schemas.UserRead)
def update_me(body: schemas.UserUpdate, auth: Auth, session: SessionDep) -> object:
    """Change one's name or interface language."""
    return accounts.update_profile(session, user=auth.user, name=body.name, language=body.language)


@router.post("/me/password", status_code=204)
def change_password(body: schemas.PasswordChange, auth: Auth, session: SessionDep) -> Response:
    """Change one's password; every other session is logged out."""
    accounts.change_password(
        session,
        user=auth.user,
        current=body.current_password,
        new=body.new_password,
        keep_session_id=auth.login.id if auth.login else None,
    )
    return Response(status_code=204)


@router.get("/tokens", response_model=list[schemas.TokenRead])
def list_tokens(auth: Auth, session: SessionDep) -> object:
    """One's API tokens (never their secrets)."""
    return accounts.list_api_tokens(session, user=auth.user)


@router.post("/tokens", response_model=schemas.TokenCreated, status_code=201)
def create_token(body: schemas.TokenCreate, auth: Auth, session: SessionDep) -> object:
    """Create a token; the secret is in this response only."""
    raw, token = accounts.create_api_token(session, user=auth.user, name=body.name)
    return schemas.TokenCreated(**schemas.TokenRead.model_validate(token).model_dump(), token=raw)


@router.delete("/tokens/{token_id}", response_model=schemas.TokenRead)
def revoke_token(token_id: uuid.UUID, auth: Auth, session: SessionDep) -> object:
    """Revoke a token; requests with it fail from now on."""
    return accounts.revoke_api_token(session, user=auth.user, token_id=token_id)


@router.get("/workspaces", response_model=list[schemas.WorkspaceWithRole])
def list_workspaces(auth: Auth, session: SessionDep) -> object:
    """The workspaces one belongs to, with one's role in each."""
    return [
        schemas.WorkspaceWithRole(
            **schemas.WorkspaceRead.model_validate(m.workspace).model_dump(), role=m.role
        )
        for m in accounts.list_memberships_of(session, user=auth.user)
    ]


@router.post("/workspaces", response_model=schemas.WorkspaceRead, status_code=201)
def create_workspace(
    body: schemas.WorkspaceCreate, auth: Auth, session: SessionDep, request: Request
) -> object:
    """Create a workspace; its creator becomes the owner."""
    return accounts.create_workspace(
        session,
        name=body.name,
        slug=body.slug,
        owner=auth.user,
        language=body.language,
        timezone=body.timezone,
        ip=client_ip(request),
    )


@router.get("/workspaces/{ws}", response_model=schemas.WorkspaceWithRole)
def read_workspace(ctx: WorkspaceDep, auth: Auth) -> object:
    """One workspace, with one's role in it."""
    data = schemas.WorkspaceRead.model_validate(ctx.workspace).model_dump()
    return schemas.WorkspaceWithRole(**data, role=ctx.role)


@router.patch("/workspaces/{ws}", response_model=schemas.WorkspaceRead)
def update_workspace(
    body: schemas.WorkspaceUpdate, ctx: AdminWorkspace, auth: Auth, session: SessionDep
) -> object:
    """Rename a workspace or change its language or time zone (owners and admins)."""
    return accounts.update_workspace(
        session,
        workspace=ctx.workspace,
        actor=ctx.actor,
        name=body.name,
        language=body.language,
        timezone=body.timezone,
    )


@router.get("/workspaces/{ws}/members", response_model=list[schemas.MemberRead])
def list_members(ctx: WorkspaceDep, auth: Auth, session: SessionDep) -> object:
    """Everyone in the workspace and their roles."""
    return accounts.list_members(session, workspace_id=ctx.workspace.id)


@router.patch("/workspaces/{ws}/members/{member_id}", response_model=schemas.MemberRead)
def update_member(
    member_id: uuid.UUID,
    body: schemas.MemberUpdate,
    ctx: AdminWorkspace,
    auth: Auth,
    session: SessionDep,
) -> object:
    """Change a member's role (admins manage agents and viewers; owners manage everyone)."""
    return accounts.change_role(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        membership_id=member_id,
        role=body.role,
    )


@router.delete("/workspaces/{ws}/members/{member_id}", status_code=204)
def remove_member(
    member_id: uuid.UUID, ctx: WorkspaceDep, auth: Auth, session: SessionDep
) -> Response:
    """Remove a member (or leave, when it is oneself); the last owner cannot go."""
    accounts.remove_member(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, membership_id=member_id
    )
    return Response(status_code=204)


@router.get("/workspaces/{ws}/invitations", response_model=list[schemas.InvitationRead])
def list_invitations(ctx: AdminWorkspace, auth: Auth, session: SessionDep) -> object:
    """Invitations waiting to be accepted."""
    return accounts.list_invitations(session, workspace_id=ctx.workspace.id)


@router.post(
    "/workspaces/{ws}/invitations", response_model=schemas.InvitationCreated, status_code=201
)
def create_invitation(
    body: schemas.InvitationCreate,
    ctx: AdminWorkspace,
    auth: Auth,
    session: SessionDep,
    request: Request,
) -> object:
    """Invite someone by email; the response holds the link to send them."""
    raw, invitation = accounts.invite(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, email=body.email, role=body.role
    )
    data = schemas.InvitationRead.model_validate(invitation).model_dump()
    return schemas.InvitationCreated(**data, url=_invite_url(request, raw))


@router.delete("/workspaces/{ws}/invitations/{invitation_id}", status_code=204)
def revoke_invitation(
    invitation_id: uuid.UUID, ctx: AdminWorkspace, auth: Auth, session: SessionDep
) -> Response:
    """Withdraw an invitation; its link stops working."""
    accounts.revoke_invitation(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, invitation_id=invitation_id
    )
    return Response(status_code=204)


@router.get("/workspaces/{ws}/audit", response_model=schemas.AuditPage)
def list_audit(
    ctx: AdminWorkspace,
    auth: Auth,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """The audit log, newest first (owners and admins)."""
    items, total = accounts.list_audit(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, page=page
    )
    return schemas.AuditPage(
        items=[schemas.AuditEventRead.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=accounts.AUDIT_PAGE_SIZE,
    )
