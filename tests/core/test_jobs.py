"""Background jobs: own transactions, JSON arguments, after-commit dispatch, scheduling."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts import service as accounts
from h2h.accounts.models import Workspace
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker, utcnow
from h2h.jobs import ImmediateBackend, Jobs, ThreadBackend, job, run_now
from tests.conftest import make_user

RENAMES: list[str] = []
DONE = threading.Event()


@job("tests.rename_workspace")
def _rename(session: Session, *, workspace_id: str, name: str) -> str:
    workspace = session.get(Workspace, uuid.UUID(workspace_id))
    assert workspace is not None
    workspace.name = name
    RENAMES.append(name)
    return name


@job("tests.fail")
def _fail(session: Session, *, workspace_id: str) -> None:
    workspace = session.get(Workspace, uuid.UUID(workspace_id))
    assert workspace is not None
    workspace.name = "half-done"
    raise RuntimeError("boom")


@job("tests.signal")
def _signal(session: Session, **_: Any) -> None:
    DONE.set()


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = engine_from_settings(settings)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def workspace_id(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        owner = make_user(session, "Job Owner")
        workspace = accounts.create_workspace(session, name="Jobs", owner=owner)
        session.commit()
        return str(workspace.id)


def _name(factory: sessionmaker[Session], workspace_id: str) -> str:
    with factory() as session:
        return session.scalars(
            select(Workspace.name).where(Workspace.id == uuid.UUID(workspace_id))
        ).one()


def test_a_job_commits_its_own_transaction(
    factory: sessionmaker[Session], workspace_id: str
) -> None:
    assert run_now(factory, "tests.rename_workspace", workspace_id=workspace_id, name="A") == "A"
    assert _name(factory, workspace_id) == "A"


def test_a_failing_job_leaves_nothing_half_done(
    factory: sessionmaker[Session], workspace_id: str
) -> None:
    with pytest.raises(RuntimeError):
        run_now(factory, "tests.fail", workspace_id=workspace_id)
    assert _name(factory, workspace_id) == "Jobs"


def test_job_arguments_must_survive_json(factory: sessionmaker[Session]) -> None:
    jobs = Jobs(ImmediateBackend(factory))
    with pytest.raises(TypeError):
        jobs.enqueue("tests.signal", when=utcnow())
    with pytest.raises(KeyError):
        jobs.enqueue("tests.no_such_job")


def test_after_commit_jobs_run_only_when_the_transaction_commits(
    factory: sessionmaker[Session], workspace_id: str
) -> None:
    jobs = Jobs(ImmediateBackend(factory))
    RENAMES.clear()
    with factory() as session:
        jobs.enqueue_after_commit(
            session, "tests.rename_workspace", workspace_id=workspace_id, name="rolled back"
        )
        session.rollback()
        jobs.enqueue_after_commit(
            session, "tests.rename_workspace", workspace_id=workspace_id, name="committed"
        )
        assert RENAMES == []
        session.commit()
    assert RENAMES == ["committed"]
    assert _name(factory, workspace_id) == "committed"


def test_the_thread_backend_runs_delayed_and_periodic_jobs(
    factory: sessionmaker[Session], workspace_id: str
) -> None:
    backend = ThreadBackend(factory, workers=2)
    jobs = Jobs(backend)
    try:
        DONE.clear()
        jobs.enqueue("tests.signal", at=utcnow() + timedelta(milliseconds=50))
        assert DONE.wait(timeout=10), "the delayed job never ran"
        DONE.clear()
        jobs.every(timedelta(milliseconds=20), "tests.signal")
        assert DONE.wait(timeout=10), "the periodic job never ran"
        # A failing job is logged and does not stop the worker.
        jobs.enqueue("tests.fail", workspace_id=workspace_id)
        DONE.clear()
        assert DONE.wait(timeout=10), "the periodic job stopped after a failure"
    finally:
        jobs.shutdown()
    assert _name(factory, workspace_id) == "Jobs"


def test_registering_two_handlers_under_one_name_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        job("tests.signal")(lambda session: None)
