"""Logging in and out, sessions, CSRF, throttling, passwords and API tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.models import ApiToken, UserSession
from h2h.deps import SESSION_COOKIE
from tests.conftest import PASSWORD, Cast, csrf_from, login


def _post_login(client: TestClient, email: str, password: str) -> int:
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    ).status_code


def test_login_with_the_right_password_opens_a_session(client: TestClient, cast: Cast) -> None:
    assert _post_login(client, cast.owner.user.email, PASSWORD) == 303
    assert client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/v1/me").json()["email"] == cast.owner.user.email


def test_login_email_is_case_insensitive(client: TestClient, cast: Cast) -> None:
    assert _post_login(client, cast.owner.user.email.upper(), PASSWORD) == 303


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient, cast: Cast
) -> None:
    token = csrf_from(client.get("/login").text)
    wrong_password = client.post(
        "/login",
        data={"email": cast.owner.user.email, "password": "nope-nope-nope", "csrf_token": token},
    )
    unknown_user = client.post(
        "/login",
        data={"email": "ghost@h2h.example", "password": "nope-nope-nope", "csrf_token": token},
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Wrong email or password." in wrong_password.text
    assert "Wrong email or password." in unknown_user.text
    assert SESSION_COOKIE not in client.cookies


def test_repeated_failures_lock_the_login_even_for_the_right_password(
    client: TestClient, cast: Cast
) -> None:
    for _ in range(5):
        assert _post_login(client, cast.owner.user.email, "wrong-password-1") == 401
    assert _post_login(client, cast.owner.user.email, PASSWORD) == 429
    # Other people are not locked out by someone guessing one account.
    assert _post_login(client, cast.agent.user.email, PASSWORD) == 303


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, cast: Cast) -> None:
    response = client.post("/login", data={"email": cast.owner.user.email, "password": PASSWORD})
    assert response.status_code == 403
    login(client, cast.owner.user.email)
    forged = client.post(
        "/w/alpha/settings",
        data={"name": "Forged", "language": "en", "timezone": "UTC", "csrf_token": "0" * 64},
    )
    assert forged.status_code == 403
    assert "Alpha Coffee" in client.get("/w/alpha/settings").text


def test_cookie_authenticated_api_writes_need_the_csrf_header(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.owner.user.email)
    assert client.patch("/api/v1/me", json={"name": "X"}).status_code == 403
    ok = client.patch("/api/v1/me", json={"name": "Olga O."}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["name"] == "Olga O."


def test_logout_ends_the_session_on_the_server(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.owner.user.email)
    stolen_cookie = client.cookies.get(SESSION_COOKIE)
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    client.cookies.set(SESSION_COOKIE, stolen_cookie or "")
    assert client.get("/api/v1/me").status_code == 401
    assert (
        session.scalars(select(UserSession).where(UserSession.user_id == cast.owner.user.id)).all()
        == []
    )


def test_pages_redirect_to_login_and_back(client: TestClient, cast: Cast) -> None:
    response = client.get("/w/alpha/members", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/w/alpha/members"
    token = csrf_from(client.get("/login?next=/w/alpha/members").text)
    after = client.post(
        "/login",
        data={
            "email": cast.owner.user.email,
            "password": PASSWORD,
            "next": "/w/alpha/members",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert after.headers["location"] == "/w/alpha/members"


def test_login_never_redirects_to_another_site(client: TestClient, cast: Cast) -> None:
    token = csrf_from(client.get("/login").text)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        token = csrf_from(client.get("/login").text)
        response = client.post(
            "/login",
            data={
                "email": cast.owner.user.email,
                "password": PASSWORD,
                "next": target,
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", target


def test_changing_the_password_logs_out_other_sessions(
    app: object, client: TestClient, cast: Cast
) -> None:
    other = TestClient(client.app)
    login(other, cast.owner.user.email)
    csrf = login(client, cast.owner.user.email)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    assert (
        _post_login(TestClient(client.app), cast.owner.user.email, "a brand new passphrase") == 303
    )


def test_a_wrong_current_password_or_a_short_new_one_is_explained(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.owner.user.email)
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "long enough pass",
            "csrf_token": csrf,
        },
    )
    short = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "csrf_token": csrf},
    )
    assert wrong.status_code == 422 and "The current password is wrong." in wrong.text
    assert short.status_code == 422 and "at least 10 characters" in short.text


def test_api_token_is_shown_once_and_stored_only_as_a_hash(
    client: TestClient, cast: Cast, session: Session
) -> None:
    created = client.post(
        "/api/v1/tokens", json={"name": "site widget"}, headers=cast.agent.headers
    )
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("h2h_")
    stored = session.scalars(select(ApiToken).where(ApiToken.name == "site widget")).one()
    assert raw not in (stored.token_hash, stored.prefix)
    listed = client.get("/api/v1/tokens", headers=cast.agent.headers).json()
    assert all("token" not in item for item in listed)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_a_revoked_or_malformed_token_is_refused(client: TestClient, cast: Cast) -> None:
    created = client.post("/api/v1/tokens", json={"name": "temp"}, headers=cast.agent.headers)
    token_id, raw = created.json()["id"], created.json()["token"]
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=cast.agent.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    for header in (f"Bearer {raw}", "Bearer nonsense", "Basic abc", "Bearer"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["content-type"] == "application/problem+json"


def test_api_without_credentials_answers_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/workspaces")
    assert response.status_code == 401
    assert response.json()["detail"] == "Please log in."


def test_tokens_page_shows_a_new_token_once(client: TestClient, cast: Cast) -> None:
    csrf = login(client, cast.owner.user.email)
    page = client.post("/account/tokens", data={"name": "zapier", "csrf_token": csrf})
    assert page.status_code == 200 and 'data-testid="new-token"' in page.text
    assert 'data-testid="new-token"' not in client.get("/account").text


def test_the_purge_job_removes_expired_sessions_and_old_attempts(
    client: TestClient, cast: Cast, session: Session
) -> None:
    from datetime import timedelta

    from h2h.accounts.models import LoginAttempt
    from h2h.db import utcnow
    from h2h.jobs import run_now

    login(client, cast.owner.user.email)
    _post_login(client, cast.agent.user.email, "wrong-password-1")
    live = session.scalars(select(UserSession)).one()
    live.expires_at = utcnow() - timedelta(seconds=1)
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.created_at = utcnow() - timedelta(days=8)
    session.commit()
    assert run_now(client.app.state.sessions, "accounts.purge_expired") == 3
    session.expire_all()
    assert session.scalars(select(UserSession)).all() == []
    assert session.scalars(select(LoginAttempt)).all() == []
    assert client.get("/api/v1/me").status_code == 401
