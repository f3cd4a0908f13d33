"""create channels, messages and subjects

Revision ID: 0002_listening
Revises: 0001_accounts
Create Date: 2026-11-23 17:13:30.592599
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_listening"
down_revision: str | Sequence[str] | None = "0001_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "channels",
        sa.Column(
            "kind",
            sa.Enum(
                "file",
                "webhook",
                "rss",
                "email",
                "telegram",
                "vk",
                "widget",
                "offline",
                name="channelkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "paused",
                "failing",
                "broken",
                name="channelstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("poll_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_channels_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_channels")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_channels_workspace_id_name")),
    )
    op.create_table(
        "column_mappings",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("date_format", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_column_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_column_mappings")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_column_mappings_workspace_id_name")
        ),
    )
    op.create_table(
        "import_rejections",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_import_rejections_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_import_rejections")),
    )
    with op.batch_alter_table("import_rejections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_rejections_workspace_id_import_id",
            ["workspace_id", "import_id"],
            unique=False,
        )

    op.create_table(
        "import_runs",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("running", "done", "failed", name="importstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_import_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_import_runs")),
    )
    op.create_table(
        "subjects",
        sa.Column(
            "kind",
            sa.Enum(
                "brand",
                "person",
                "product",
                "competitor",
                name="subjectkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_subjects_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_subjects_workspace_id_name")),
    )
    op.create_table(
        "messages",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("thread_id", sa.String(length=300), nullable=True),
        sa.Column("parent_id", sa.String(length=300), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("in", "out", name="direction", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("author_handle", sa.String(length=300), nullable=False),
        sa.Column("author_name", sa.String(length=300), nullable=True),
        sa.Column("author_url", sa.String(length=1000), nullable=True),
        sa.Column("author_followers", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("text_hash", sa.BigInteger(), nullable=True),
        sa.Column("minhash", sa.LargeBinary(), nullable=True),
        sa.Column("band0", sa.BigInteger(), nullable=True),
        sa.Column("band1", sa.BigInteger(), nullable=True),
        sa.Column("band2", sa.BigInteger(), nullable=True),
        sa.Column("band3", sa.BigInteger(), nullable=True),
        sa.Column("duplicate_of_id", sa.Uuid(), nullable=True),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "channel_id"],
            ["channels.workspace_id", "channels.id"],
            name=op.f("fk_messages_workspace_id_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_messages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "workspace_id",
            "channel_id",
            "external_id",
            name=op.f("uq_messages_workspace_id_channel_id_external_id"),
        ),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_workspace_id_author_handle",
            ["workspace_id", "author_handle"],
            unique=False,
        )
        batch_op.create_index(
            "ix_messages_workspace_id_band0", ["workspace_id", "band0", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_messages_workspace_id_band1", ["workspace_id", "band1", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_messages_workspace_id_band2", ["workspace_id", "band2", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_messages_workspace_id_band3", ["workspace_id", "band3", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_messages_workspace_id_created_at", ["workspace_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_messages_workspace_id_text_hash",
            ["workspace_id", "text_hash", "created_at"],
            unique=False,
        )

    op.create_table(
        "mentions",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "message_id"],
            ["messages.workspace_id", "messages.id"],
            name=op.f("fk_mentions_workspace_id_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "subject_id"],
            ["subjects.workspace_id", "subjects.id"],
            name=op.f("fk_mentions_workspace_id_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_mentions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_mentions")),
        sa.UniqueConstraint(
            "workspace_id",
            "message_id",
            "subject_id",
            name=op.f("uq_mentions_workspace_id_message_id_subject_id"),
        ),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mentions_workspace_id_subject_id", ["workspace_id", "subject_id"], unique=False
        )

    _create_search()


def downgrade() -> None:
    _drop_search()

    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_workspace_id_subject_id")

    op.drop_table("mentions")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_workspace_id_text_hash")
        batch_op.drop_index("ix_messages_workspace_id_created_at")
        batch_op.drop_index("ix_messages_workspace_id_band3")
        batch_op.drop_index("ix_messages_workspace_id_band2")
        batch_op.drop_index("ix_messages_workspace_id_band1")
        batch_op.drop_index("ix_messages_workspace_id_band0")
        batch_op.drop_index("ix_messages_workspace_id_author_handle")

    op.drop_table("messages")
    op.drop_table("subjects")
    op.drop_table("import_runs")
    with op.batch_alter_table("import_rejections", schema=None) as batch_op:
        batch_op.drop_index("ix_import_rejections_workspace_id_import_id")

    op.drop_table("import_rejections")
    op.drop_table("column_mappings")
    op.drop_table("channels")


# Full-text search over Message.search_text (the lemmas of the text), kept out of the models
# because each database does it its own way. See h2h.migrate.UNMODELLED_PREFIXES.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(search_text, content='messages', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO messages_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
]


def _create_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(
            "CREATE INDEX ix_messages_search ON messages "
            "USING gin (to_tsvector('simple', search_text))"
        )


def _drop_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
