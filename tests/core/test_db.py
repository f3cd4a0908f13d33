"""Migrations, SQLite tuning, UTC timestamps and ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import UniqueConstraint, create_engine, inspect, select, text
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import User
from h2h.channels import models as _channels  # noqa: F401 - registers tables
from h2h.db import Base, TenantMixin, make_engine, memoized, new_id, utcnow
from h2h.migrate import downgrade, head_revision, include_object, upgrade
from h2h.subjects import models as _subjects  # noqa: F401
from tests.conftest import make_user


def test_the_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_migrations_go_down_to_nothing_and_up_again(db_url: str) -> None:
    downgrade(db_url, "base")
    engine = create_engine(db_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(db_url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()
    engine.dispose()


def test_every_tenant_table_keys_and_uniques_on_workspace_id() -> None:
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if not issubclass(mapper.class_, TenantMixin):
            continue
        assert list(table.primary_key.columns.keys())[0] == "workspace_id", table.name
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                assert "workspace_id" in constraint.columns, (table.name, constraint)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.sqlite3")
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA busy_timeout")) >= 5000
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()


def test_lower_folds_every_script_on_every_database(session: Session) -> None:
    folded = session.scalar(text("SELECT lower('МАРИЯ Ёлкина Straße ÉCOLE')"))
    assert folded == "мария ёлкина straße école"
    assert session.scalar(text("SELECT lower(NULL)")) is None


def test_timestamps_come_back_as_utc_on_every_database(session: Session) -> None:
    user = make_user(session, "Tz Person")
    moscow = timezone(timedelta(hours=3))
    workspace = accounts.create_workspace(session, name="Tz", owner=user)
    workspace.created_at = datetime(2026, 3, 1, 12, 0, tzinfo=moscow)
    session.commit()
    session.expire_all()
    assert workspace.created_at == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)  # noqa: UP017
    assert workspace.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session: Session) -> None:
    user = make_user(session, "Naive Person")
    workspace = accounts.create_workspace(session, name="Naive", owner=user)
    workspace.created_at = datetime(2026, 3, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()
    session.rollback()


def test_ids_are_time_ordered_version_7_uuids() -> None:
    first, second = new_id(), new_id()
    assert first.version == 7 and first.variant == "specified in RFC 4122"
    assert len({new_id() for _ in range(10_000)}) == 10_000
    later = new_id()
    assert later > first or later.int >> 80 == first.int >> 80
    assert abs(datetime.fromtimestamp((second.int >> 80) / 1000, tz=utcnow().tzinfo) - utcnow()) < (
        timedelta(seconds=5)
    )


def test_a_remembered_read_never_hides_the_sessions_own_writes(session: Session) -> None:
    calls: list[int] = []

    def count_users() -> int:
        calls.append(1)
        return len(session.scalars(select(User.id)).all())

    before = memoized(session, ("users",), count_users)
    assert memoized(session, ("users",), count_users) == before
    assert len(calls) == 1, "the second read was not answered from memory"

    make_user(session, "Pending Person")  # flushed by create_user
    assert memoized(session, ("users",), count_users) == before + 1

    assert memoized(session, ("users",), count_users) == before + 1
    session.add(User(email="pending@h2h.example", name="Pending"))  # added, not yet flushed
    assert memoized(session, ("users",), count_users) == before + 2
    session.commit()
    asked = len(calls)
    memoized(session, ("users",), count_users)
    memoized(session, ("users",), count_users)
    assert len(calls) == asked + 1

    session.execute(text("DELETE FROM user_sessions"))  # a write statement forgets too
    memoized(session, ("users",), count_users)
    assert len(calls) == asked + 2
