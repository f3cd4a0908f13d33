"""Health checks, error answers and security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.config import Environment, Settings
from h2h.web import create_app
from tests.conftest import SECRET, Cast, login


def test_healthz_answers_while_the_process_is_up(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_readyz_reports_the_database_and_migrations(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["migrations"]


def test_readyz_fails_on_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(
        env=Environment.TEST,
        secret_key=SECRET,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    with TestClient(create_app(settings, immediate_jobs=True)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"


def test_readyz_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        env=Environment.TEST,
        secret_key=SECRET,
        data_dir=tmp_path,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    with TestClient(create_app(settings, immediate_jobs=True)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_api_errors_are_problem_details(client: TestClient, cast: Cast) -> None:
    missing = client.get("/api/v1/workspaces/alpha/nothing-here", headers=cast.owner.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    invalid = client.post("/api/v1/workspaces", json={"name": ""}, headers=cast.owner.headers)
    assert invalid.status_code == 422
    problem = invalid.json()
    assert problem["title"] == "Invalid input" and problem["errors"][0]["field"] == "body.name"


def test_ui_errors_are_friendly_pages(client: TestClient, cast: Cast) -> None:
    login(client, cast.owner.user.email)
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Page not found" in page.text and "Traceback" not in page.text


def test_an_unexpected_error_shows_no_stack_trace(app: FastAPI) -> None:
    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    @app.get("/boom")
    def boom_page() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        api = client.get("/api/v1/boom")
        page = client.get("/boom")
    assert api.status_code == page.status_code == 500
    assert "secret internals" not in api.text and "secret internals" not in page.text
    assert api.json()["title"] == "Internal server error"
    assert "Something went wrong on our side" in page.text


def test_pages_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_session_cookies_are_http_only_and_same_site(client: TestClient, cast: Cast) -> None:
    login(client, cast.owner.user.email)
    page = client.get("/login")
    assert page.status_code in (200, 303)
    # The cookie attributes are on the login response; log in again and read them.
    client.cookies.clear()
    from tests.conftest import PASSWORD, csrf_from

    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": cast.owner.user.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_openapi_spec_is_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/workspaces/{ws}/members" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_error_pages_speak_the_users_language_even_when_the_browser_asks_otherwise(
    client: TestClient, cast: Cast, session: Session
) -> None:
    from h2h.accounts import service as accounts

    accounts.update_profile(session, user=cast.owner.user, language="ru")
    session.commit()
    login(client, cast.owner.user.email)
    page = client.get("/w/alpha/audit?page=0", headers={"Accept-Language": "en"})
    assert page.status_code == 422 and "Некорректные данные" in page.text
