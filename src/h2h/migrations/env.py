"""Alembic environment: SQLite runs in batch mode so ALTERs work there too."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from h2h.accounts import models as _accounts_models  # noqa: F401 - registers tables
from h2h.advocacy import models as _advocacy_models  # noqa: F401
from h2h.advocacy import models_settings as _advocacy_settings_models  # noqa: F401
from h2h.channels import models as _channels_models  # noqa: F401
from h2h.db import Base, UTCDateTime, make_engine
from h2h.feedback import models as _feedback_models  # noqa: F401
from h2h.inbox import models as _inbox_models  # noqa: F401
from h2h.inbox import models_notify as _inbox_notify_models  # noqa: F401
from h2h.migrate import include_object
from h2h.nlp import models as _nlp_models  # noqa: F401
from h2h.people import models as _people_models  # noqa: F401
from h2h.problems import models as _problems_models  # noqa: F401
from h2h.reports import models as _reports_models  # noqa: F401
from h2h.reports import models_digest as _reports_digest_models  # noqa: F401
from h2h.subjects import models as _subjects_models  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=bool(url and url.startswith("sqlite")),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(url)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Our UTCDateTime is a Python-side wrapper; in the schema it is a plain timezone-aware column.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
