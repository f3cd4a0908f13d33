"""Engine, sessions, the declarative Base and the workspace-scoping helpers."""

from __future__ import annotations

import enum
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    MetaData,
    Uuid,
    cast,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from h2h.config import Settings
from h2h.errors import NotFound

# Named constraints let Alembic alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout): index-friendly and not guessable."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def str_enum(cls: type[enum.StrEnum], length: int = 16) -> Enum:
    """A StrEnum stored as its values in a plain string column (no native enum type)."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database; SQLite stores naive values, so we re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, uuid.UUID: Uuid}


class TenantMixin:
    """A row that belongs to one workspace.

    The primary key starts with ``workspace_id``, so every key carries the tenant and the
    tables can be distributed by workspace (Citus) without schema changes.
    """

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


ModelT = TypeVar("ModelT", bound=TenantMixin)
T = TypeVar("T")


def utc_day(session: Session, column: Any) -> Any:
    """SQL for the UTC calendar day of a timestamp column, as text ``YYYY-MM-DD``, on both
    databases (PostgreSQL's ``date()`` would use the session's time zone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)


def utc_hour(session: Session, column: Any) -> Any:
    """SQL for the hours since 1970-01-01 UTC of a timestamp column, as an integer, on both
    databases (SQLite keeps naive UTC text, which ``strftime('%s')`` reads as UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / 3600), BigInteger)
    return cast(func.strftime("%s", column), BigInteger) // 3600


def get_in_workspace(
    session: Session, model: type[ModelT], *, workspace_id: uuid.UUID, id: Any
) -> ModelT:
    """Load a tenant row by id, scoped to the workspace; NotFound otherwise."""
    try:
        record_id = id if isinstance(id, uuid.UUID) else uuid.UUID(str(id))
    except ValueError as exc:
        raise NotFound() from exc
    row = session.scalars(
        select(model).where(model.workspace_id == workspace_id, model.id == record_id)
    ).one_or_none()
    if row is None:
        raise NotFound()
    return row


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer commits; busy_timeout makes concurrent
    # writers wait instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache per connection (the default is 2 MB): the messages table carries
    # several indexes, and inserting into them thrashes a small cache.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    # SQLite's own lower() folds ASCII only, so a search for "мария" missed "Мария";
    # PostgreSQL's folds every script. One behaviour on both: Python's str.lower.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str) -> Engine:
    """Create an engine for SQLite or PostgreSQL with the settings H2H relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def engine_from_settings(settings: Settings) -> Engine:
    if settings.sqlalchemy_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.sqlalchemy_url)


# --- reads remembered for one unit of work ---------------------------------------------------

_MEMO = "h2h.memo"


def memoized(session: Session, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per session for ``key``, until the session writes anything.

    A page asks the same small questions from several places (a person's identity ids, the
    workspace's member names); this answers the repeats from memory. Any flush, statement
    other than a SELECT, commit or rollback forgets everything, and a session holding
    unflushed changes is never answered from memory, so a caller never reads past its own
    writes.
    """
    if session.new or session.deleted or session.dirty:
        return compute()
    memo: dict[tuple[Any, ...], Any] = session.info.setdefault(_MEMO, {})
    if key in memo:
        return memo[key]  # type: ignore[no-any-return]
    value = compute()
    if session.info.get(_MEMO) is memo:  # compute() itself may have flushed
        memo[key] = value
    return value


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_MEMO, None)


event.listen(Session, "after_flush", _forget)
event.listen(Session, "after_transaction_end", _forget)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        _forget(state.session)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
