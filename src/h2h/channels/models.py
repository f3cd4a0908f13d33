"""Tables of the channels domain: channels, messages, column mappings and imports."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from h2h.channels.connectors.base import ChannelKind, Direction
from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


class ChannelStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    FAILING = "failing"  # retried with backoff
    BROKEN = "broken"  # needs a human: bad credentials, wrong URL


CHANNEL_LABELS = {
    ChannelKind.FILE: N_("File import"),
    ChannelKind.WEBHOOK: N_("Webhook"),
    ChannelKind.RSS: N_("RSS / Atom feed"),
    ChannelKind.EMAIL: N_("Email (IMAP/SMTP)"),
    ChannelKind.TELEGRAM: N_("Telegram bot"),
    ChannelKind.VK: N_("VK community"),
    ChannelKind.WIDGET: N_("Website widget"),
    ChannelKind.OFFLINE: N_("Offline log"),
}


class Channel(TenantMixin, Base):
    """A place customers speak: a mailbox, a bot, a feed, a file source, the shop floor."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Credentials the connector needs (tokens, passwords, webhook secret). Never rendered back
    # in full; see docs/architecture.md for why they are not yet encrypted at rest.
    secrets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[ChannelStatus] = mapped_column(
        str_enum(ChannelStatus), default=ChannelStatus.ACTIVE
    )
    cursor: Mapped[str | None] = mapped_column(Text)
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    next_poll_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(TenantMixin, Base):
    """Every inbound and outbound message, from every channel."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "external_id"),
        ForeignKeyConstraint(
            ["workspace_id", "channel_id"],
            ["channels.workspace_id", "channels.id"],
            ondelete="CASCADE",
        ),
        Index("ix_messages_workspace_id_created_at", "workspace_id", "created_at"),
        Index("ix_messages_workspace_id_author_handle", "workspace_id", "author_handle"),
        Index("ix_messages_workspace_id_text_hash", "workspace_id", "text_hash", "created_at"),
        Index("ix_messages_workspace_id_band0", "workspace_id", "band0", "created_at"),
        Index("ix_messages_workspace_id_band1", "workspace_id", "band1", "created_at"),
        Index("ix_messages_workspace_id_band2", "workspace_id", "band2", "created_at"),
        Index("ix_messages_workspace_id_band3", "workspace_id", "band3", "created_at"),
        Index("ix_messages_workspace_id_identity_id", "workspace_id", "identity_id", "created_at"),
        # A person's profile shows our replies in the conversations they wrote in.
        Index(
            "ix_messages_workspace_id_thread",
            "workspace_id",
            "channel_id",
            "thread_id",
            "created_at",
        ),
    )

    channel_id: Mapped[uuid.UUID]
    external_id: Mapped[str] = mapped_column(String(300))
    thread_id: Mapped[str | None] = mapped_column(String(300))
    parent_id: Mapped[str | None] = mapped_column(String(300))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 8), default=Direction.INBOUND)
    author_handle: Mapped[str] = mapped_column(String(300))
    author_name: Mapped[str | None] = mapped_column(String(300))
    author_url: Mapped[str | None] = mapped_column(String(1000))
    author_followers: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    # Lemmas of the text, space-separated: what full-text search indexes, so that Russian
    # word forms match on SQLite (FTS5) and PostgreSQL (tsvector 'simple') alike.
    search_text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Near-duplicate detection: a hash of the normalised text (exact copies) and a MinHash
    # signature whose four band keys find candidates through an index (see textproc).
    text_hash: Mapped[int | None] = mapped_column(BigInteger)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    band0: Mapped[int | None] = mapped_column(BigInteger)
    band1: Mapped[int | None] = mapped_column(BigInteger)
    band2: Mapped[int | None] = mapped_column(BigInteger)
    band3: Mapped[int | None] = mapped_column(BigInteger)
    duplicate_of_id: Mapped[uuid.UUID | None]
    import_id: Mapped[uuid.UUID | None]
    # The author's identity in the people domain (set after ingest); the person follows from it.
    identity_id: Mapped[uuid.UUID | None]


class ColumnMapping(TenantMixin, Base):
    """How the columns of a file source map to message fields; saved per source."""

    __tablename__ = "column_mappings"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    # field -> column name, e.g. {"text": "Текст", "created_at": "Дата", "author_handle": "Автор"}
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    date_format: Mapped[str | None] = mapped_column(String(64))  # strptime; None = detect
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportRun(TenantMixin, Base):
    """One file brought in: counts and the report of rejected rows."""

    __tablename__ = "import_runs"

    channel_id: Mapped[uuid.UUID]
    filename: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus), default=ImportStatus.RUNNING
    )
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ImportRejection(TenantMixin, Base):
    """A row that could not be imported, and why (the import report)."""

    __tablename__ = "import_rejections"
    __table_args__ = (
        Index("ix_import_rejections_workspace_id_import_id", "workspace_id", "import_id"),
    )

    import_id: Mapped[uuid.UUID]
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
