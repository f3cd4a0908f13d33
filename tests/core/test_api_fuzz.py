"""The API answers any input, however malformed, with a readable 4xx and never with a 500.

Schemathesis generates requests for every operation in the OpenAPI document (valid ones,
boundary values and deliberately wrong ones), authenticated as the owner of workspace
``alpha``, and sends them to the app in-process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans

from h2h.config import Environment, Settings
from h2h.web import create_app
from tests.conftest import SECRET, Cast

PROBLEM_JSON = "application/problem+json"
EXAMPLES_PER_OPERATION = 25


def _openapi_document() -> dict[str, object]:
    # The document depends only on the routes, so an app that never touches a database will do.
    # (The schema is built at import, not from a fixture: schemathesis.pytest.from_fixture
    # fails under pytest 9.2, whose nodes no longer have the `_nodeid` it rewrites.)
    settings = Settings(
        env=Environment.TEST,
        secret_key=SECRET,
        database_url="sqlite://",
        data_dir=Path(tempfile.gettempdir()),
    )
    return create_app(settings).openapi()


schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            # A fuzzed slug only ever reaches "not found"; the cast owner's workspace goes deeper.
            "parameters": {"path.ws": "alpha"},
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
        }
    ),
)


@pytest.fixture
def owner_app(app: FastAPI, cast: Cast) -> Iterator[FastAPI]:
    assert cast.a.slug == "alpha"
    yield app
    # Schemathesis starts the app's lifespan on the first call and keeps it for the whole process.
    shutdown_lifespans()


def client_errors_are_problem_details(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """A 4xx says what was wrong, as RFC 9457 problem details a client can show."""
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM_JSON), f"{response.status_code} with {content_type}"
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"].strip(), body


@schema.parametrize()
# The database fixtures are set up once per operation, not per example; that is intended.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_never_answers_with_a_server_error(
    case: schemathesis.Case, owner_app: FastAPI, cast: Cast
) -> None:
    checks = [not_a_server_error, client_errors_are_problem_details]
    case.call_and_validate(app=owner_app, headers=cast.owner.headers, checks=checks)


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        pytest.param('{"name": "Tea house", ', "body", "JSON", id="invalid-json"),
        pytest.param('{"name": 42}', "body.name", "string", id="wrong-type"),
        pytest.param(
            '{"name": "Tea", "language": "de"}',
            "body.language",
            "'ru' or 'en'",
            id="unknown-language",
        ),
        pytest.param(
            '{"name": "Tea", "owner": "me"}', "body.owner", "Extra inputs", id="unknown-field"
        ),
        pytest.param("{}", "body.name", "required", id="missing"),
        pytest.param('["Tea house"]', "body", "dictionary", id="not-an-object"),
        pytest.param('{"name": "Tea\\u0000"}', "body.name", "NUL", id="nul-character"),
    ],
)
def test_bad_workspace_body_is_a_422_naming_the_field(
    client: TestClient, cast: Cast, body: str, field: str, problem: str
) -> None:
    headers = {**cast.owner.headers, "Content-Type": "application/json"}
    response = client.post("/api/v1/workspaces", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    errors = response.json()["errors"]
    assert any(e["field"] == field and problem in e["message"] for e in errors), errors
    assert field in response.json()["detail"]


def test_nul_in_the_url_is_a_400_not_a_server_error(client: TestClient, cast: Cast) -> None:
    # PostgreSQL refuses NUL even in a WHERE clause, so a NUL slug used to be a 500 there.
    headers = cast.owner.headers
    response = client.get("/api/v1/workspaces/al%00pha", headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "NUL" in response.json()["detail"]
    assert client.get("/w/al%00pha/", headers=headers).status_code == 400
    assert client.get("/api/v1/workspaces/alpha/audit?page=%00", headers=headers).status_code == 400
