"""Roles, invitations, workspaces and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Invitation, Role
from h2h.db import utcnow
from h2h.errors import Conflict, PermissionDenied
from tests.conftest import Cast, csrf_from, login

API = "/api/v1/workspaces/alpha"


def _actions(session: Session, cast: Cast) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.workspace_id == cast.a.id)
            .order_by(AuditEvent.created_at)
        )
    )


def test_an_owner_invites_and_the_invitee_joins_with_the_role(
    client: TestClient, cast: Cast, session: Session
) -> None:
    created = client.post(
        f"{API}/invitations",
        json={"email": "New.Agent@H2H.example", "role": "agent"},
        headers=cast.owner.headers,
    )
    assert created.status_code == 201
    url = created.json()["url"]
    assert created.json()["email"] == "new.agent@h2h.example"
    path = url.split("testserver", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "Alpha Coffee" in page.text
    joined = client.post(
        path,
        data={
            "name": "Nina Newcomer",
            "password": "a good long password",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/w/alpha/"
    members = client.get(f"{API}/members", headers=cast.owner.headers).json()
    assert {"Nina Newcomer": "agent"}.items() <= {
        m["user"]["name"]: m["role"] for m in members
    }.items()
    again = client.get(path)
    assert again.status_code == 409 and "already been used" in again.text
    assert _actions(session, cast)[-2:] == ["invitation.create", "invitation.accept"]


def test_an_existing_user_accepts_an_invitation_while_logged_in(
    client: TestClient, cast: Cast
) -> None:
    created = client.post(
        "/api/v1/workspaces/beta/invitations",
        json={"email": cast.agent.user.email, "role": "viewer"},
        headers=cast.outsider.headers,
    )
    path = created.json()["url"].split("testserver", 1)[1]
    csrf = login(client, cast.agent.user.email)
    joined = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
    assert joined.headers["location"] == "/w/beta/"
    slugs = {w["slug"]: w["role"] for w in client.get("/api/v1/workspaces").json()}
    assert slugs == {"alpha": "agent", "beta": "viewer"}


def test_expired_and_withdrawn_invitations_do_not_work(
    client: TestClient, cast: Cast, session: Session
) -> None:
    raw_old, old = accounts.invite(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        email="late@h2h.example",
        role=Role.AGENT,
    )
    old.expires_at = utcnow() - timedelta(minutes=1)
    raw_gone, gone = accounts.invite(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        email="gone@h2h.example",
        role=Role.AGENT,
    )
    session.commit()
    assert (
        client.delete(f"{API}/invitations/{gone.id}", headers=cast.admin.headers).status_code == 204
    )
    assert client.get(f"/invite/{raw_old}").status_code == 409
    assert client.get(f"/invite/{raw_gone}").status_code == 404
    listed = client.get(f"{API}/invitations", headers=cast.owner.headers).json()
    assert "gone@h2h.example" not in [i["email"] for i in listed]


def test_inviting_a_member_again_is_a_conflict(client: TestClient, cast: Cast) -> None:
    response = client.post(
        f"{API}/invitations", json={"email": cast.agent.user.email}, headers=cast.owner.headers
    )
    assert response.status_code == 409
    assert "already a member" in response.json()["detail"]


def test_an_admin_manages_agents_but_not_owners(client: TestClient, cast: Cast) -> None:
    headers = cast.admin.headers
    agent_id, owner_id = cast.agent.membership.id, cast.owner.membership.id
    assert (
        client.patch(f"{API}/members/{agent_id}", json={"role": "viewer"}, headers=headers).json()[
            "role"
        ]
        == "viewer"
    )
    promote = client.patch(f"{API}/members/{agent_id}", json={"role": "owner"}, headers=headers)
    demote_owner = client.patch(
        f"{API}/members/{owner_id}", json={"role": "agent"}, headers=headers
    )
    invite_owner = client.post(
        f"{API}/invitations", json={"email": "boss@h2h.example", "role": "owner"}, headers=headers
    )
    assert promote.status_code == demote_owner.status_code == invite_owner.status_code == 403
    assert "Only an owner" in promote.json()["detail"]


def test_an_agent_cannot_manage_users(client: TestClient, cast: Cast) -> None:
    headers = cast.agent.headers
    assert client.get(f"{API}/invitations", headers=headers).status_code == 403
    assert (
        client.post(
            f"{API}/invitations", json={"email": "x@h2h.example"}, headers=headers
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"{API}/members/{cast.viewer.membership.id}", json={"role": "agent"}, headers=headers
        ).status_code
        == 403
    )
    assert client.get(f"{API}/members", headers=headers).status_code == 200


def test_a_viewer_reads_but_cannot_write(client: TestClient, cast: Cast) -> None:
    headers = cast.viewer.headers
    assert client.get(f"{API}", headers=headers).json()["role"] == "viewer"
    assert client.patch(f"{API}", json={"name": "Mine now"}, headers=headers).status_code == 403
    assert client.get(f"{API}/audit", headers=headers).status_code == 403


def test_the_last_owner_can_neither_leave_nor_be_demoted(
    client: TestClient, cast: Cast, session: Session
) -> None:
    owner_id = cast.owner.membership.id
    leave = client.delete(f"{API}/members/{owner_id}", headers=cast.owner.headers)
    demote = client.patch(
        f"{API}/members/{owner_id}", json={"role": "admin"}, headers=cast.owner.headers
    )
    assert leave.status_code == demote.status_code == 409
    assert "at least one owner" in leave.json()["detail"]
    with pytest.raises(Conflict):
        accounts.change_role(
            session,
            workspace_id=cast.a.id,
            actor=accounts.SYSTEM,
            membership_id=owner_id,
            role=Role.VIEWER,
        )


def test_members_may_leave_a_workspace(client: TestClient, cast: Cast) -> None:
    leave = client.delete(f"{API}/members/{cast.viewer.membership.id}", headers=cast.viewer.headers)
    assert leave.status_code == 204
    assert client.get(f"{API}", headers=cast.viewer.headers).status_code == 404


def test_any_user_creates_a_workspace_and_owns_it(client: TestClient, cast: Cast) -> None:
    created = client.post(
        "/api/v1/workspaces", json={"name": "Салон «Ромашка»"}, headers=cast.viewer.headers
    )
    assert created.status_code == 201
    assert created.json()["slug"] == "salon-romashka"
    again = client.post(
        "/api/v1/workspaces", json={"name": "Салон «Ромашка»"}, headers=cast.viewer.headers
    )
    assert again.json()["slug"] == "salon-romashka-2"
    taken = client.post(
        "/api/v1/workspaces", json={"name": "X", "slug": "alpha"}, headers=cast.viewer.headers
    )
    assert taken.status_code == 409
    mine = client.get("/api/v1/workspaces/salon-romashka", headers=cast.viewer.headers).json()
    assert mine["role"] == "owner"


def test_workspace_settings_reject_an_unknown_time_zone(client: TestClient, cast: Cast) -> None:
    response = client.patch(API, json={"timezone": "Mars/Olympus"}, headers=cast.owner.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "timezone"


def test_the_audit_log_records_who_did_what(
    client: TestClient, cast: Cast, session: Session
) -> None:
    client.patch(API, json={"name": "Alpha Coffee Roasters"}, headers=cast.admin.headers)
    client.patch(
        f"{API}/members/{cast.agent.membership.id}",
        json={"role": "viewer"},
        headers=cast.owner.headers,
    )
    page = client.get(f"{API}/audit", headers=cast.admin.headers).json()
    newest, previous = page["items"][0], page["items"][1]
    assert newest["action"] == "member.role_change"
    assert newest["actor"]["email"] == cast.owner.user.email
    assert newest["details"] == {"user": cast.agent.user.email, "from": "agent", "to": "viewer"}
    assert previous["action"] == "workspace.update"
    assert previous["details"] == {"name": "Alpha Coffee Roasters"}
    assert page["total"] == len(_actions(session, cast))


def test_audit_page_shows_events_to_admins_only(client: TestClient, cast: Cast) -> None:
    login(client, cast.admin.user.email)
    page = client.get("/w/alpha/audit")
    assert page.status_code == 200 and "member.add" in page.text
    client.cookies.clear()
    login(client, cast.agent.user.email)
    assert client.get("/w/alpha/audit").status_code == 403


def test_service_refuses_an_actor_without_the_role(session: Session, cast: Cast) -> None:
    viewer = accounts.Actor(user_id=cast.viewer.user.id, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        accounts.invite(
            session, workspace_id=cast.a.id, actor=viewer, email="v@h2h.example", role=Role.VIEWER
        )
    assert (
        session.scalars(select(Invitation).where(Invitation.email == "v@h2h.example")).all() == []
    )


def test_ui_invite_form_shows_the_link_once_and_explains_errors(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.owner.user.email)
    ok = client.post(
        "/w/alpha/invitations",
        data={"email": "ui@h2h.example", "role": "agent", "csrf_token": csrf},
    )
    assert ok.status_code == 200 and "/invite/h2hi_" in ok.text
    bad = client.post(
        "/w/alpha/invitations", data={"email": "not an email", "role": "agent", "csrf_token": csrf}
    )
    assert bad.status_code == 422 and "is not a valid email address" in bad.text
    assert "/invite/h2hi_" not in client.get("/w/alpha/members").text
