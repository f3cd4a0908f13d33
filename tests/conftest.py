"""Shared fixtures: the same suite runs on SQLite and, where reachable, on PostgreSQL.

Every test that touches the database gets ``db_url`` in two flavours. SQLite tests work on
a fresh copy of a database migrated once per run; PostgreSQL tests share one migrated
database that is emptied after each test. Either way, a test sees only its own rows and
the app commits for real, as in production.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from h2h import registry
from h2h.accounts import service as accounts
from h2h.accounts.models import Membership, Role, User, Workspace
from h2h.config import Environment, Settings
from h2h.db import Base, engine_from_settings, make_sessionmaker
from h2h.migrate import upgrade
from h2h.web import create_app

pytest_plugins = ["tests.browserkit"]

POSTGRES_URL = os.environ.get(
    "H2H_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/h2h_test"
)
PASSWORD = "correct horse battery"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _admin_engine(url: str) -> Any:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _create_postgres(base_url: str) -> tuple[str | None, str | None]:
    """A fresh, migrated database for this run; (url, None) or (None, why not).

    Each run gets its own database, named after the configured one, so two suites on one
    server (a developer's and CI's, or parallel helpers) never block each other.
    """
    parsed = make_url(base_url)
    name = f"{parsed.database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = _admin_engine(base_url)
        with admin.connect() as connection:
            _drop_leftovers(connection, str(parsed.database))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = parsed.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
    except Exception as exc:  # any failure means "no PostgreSQL here", reported as the skip reason
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return url, None


def _drop_leftovers(connection: Any, base: str) -> None:
    """Drop databases of earlier runs on this machine whose process is gone (killed runs)."""
    names = connection.scalars(
        text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"{base}\\_%"}
    ).all()
    for name in names:
        pid = name[len(base) + 1 :].split("_")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _drop_postgres(url: str) -> None:
    admin = _admin_engine(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url, reason = _create_postgres(POSTGRES_URL)
    if url is None:
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({reason}); "
            "set H2H_TEST_POSTGRES_URL to run the PostgreSQL half of the suite"
        )
    yield url
    _drop_postgres(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "h2h.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "h2h.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    try:
        yield url
    finally:
        _truncate_all(url)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env=Environment.TEST,
        secret_key=SECRET,
        database_url=db_url,
        data_dir=tmp_path,
        default_language="en",
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings, immediate_jobs=True)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A session on the test database for arranging data and checking results."""
    engine = engine_from_settings(settings)
    db = make_sessionmaker(engine)()
    try:
        yield db
        db.commit()
    finally:
        db.close()
        engine.dispose()


@dataclass
class Member:
    user: User
    membership: Membership
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Cast:
    """Workspace A with one member of each role, and workspace B with an outsider owner."""

    a: Workspace
    b: Workspace
    members: dict[str, Member] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Member:
        try:
            return self.members[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings by environment, as the CLI reads them: this test's database and data dir."""
    monkeypatch.setenv("H2H_DATABASE_URL", db_url)
    monkeypatch.setenv("H2H_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the test


def make_user(session: Session, name: str, email: str | None = None) -> User:
    email = email or f"{re.sub(r'[^a-z]', '', name.lower())}-{uuid.uuid4().hex[:6]}@h2h.example"
    return accounts.create_user(session, email=email, name=name, password=PASSWORD)


@pytest.fixture
def cast(session: Session) -> Cast:
    owner = make_user(session, "Olga Owner")
    a = accounts.create_workspace(session, name="Alpha Coffee", slug="alpha", owner=owner)
    outsider = make_user(session, "Boris Outsider")
    b = accounts.create_workspace(session, name="Beta Dental", slug="beta", owner=outsider)
    result = Cast(a=a, b=b)
    system = accounts.SYSTEM
    for key, user, workspace in (("owner", owner, a), ("outsider", outsider, b)):
        membership = accounts.get_membership(session, user=user, workspace=workspace)
        assert membership is not None
        raw, _ = accounts.create_api_token(session, user=user, name="tests")
        result.members[key] = Member(user, membership, raw)
    for role in (Role.ADMIN, Role.AGENT, Role.VIEWER):
        user = make_user(session, f"{role.value.title()} Person")
        membership = accounts.add_member(
            session, workspace_id=a.id, actor=system, user=user, role=role
        )
        raw, _ = accounts.create_api_token(session, user=user, name="tests")
        result.members[role.value] = Member(user, membership, raw)
    session.commit()
    return result


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the CSRF token of the new session."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/account").text)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at production cost makes every login take ~100 ms; tests check behaviour, not cost."""
    from argon2 import PasswordHasher

    from h2h.accounts import security

    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original


@pytest.fixture(autouse=True, scope="session")
def _every_module_registered() -> None:
    """Post-ingest steps, jobs and panels as the app, the CLI and a worker load them.

    Without this, which steps run after an ingest would depend on which test modules
    happened to import which domain first.
    """
    registry.load()
