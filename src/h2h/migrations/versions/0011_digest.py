"""reports: digest preferences per member

Revision ID: 0011_digest
Revises: 0010_engagement_settings
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_digest"
down_revision: str | Sequence[str] | None = "0010_engagement_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "digest_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum("off", "daily", "weekly", name="frequency", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("telegram", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("digest_preferences"),
        sa.UniqueConstraint(
            "workspace_id", "user_id", name=op.f("uq_digest_preferences_workspace_id_user_id")
        ),
    )
    op.create_table(
        "digest_runs",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "quiet", "no_target", name="runstatus", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("delivery_ids", sa.JSON(), nullable=False),
        sa.Column("quoted", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("digest_runs"),
        sa.UniqueConstraint(
            "workspace_id",
            "user_id",
            "period",
            name=op.f("uq_digest_runs_workspace_id_user_id_period"),
        ),
    )
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_runs_workspace_id_user_id",
            ["workspace_id", "user_id", "created_at"],
            unique=False,
        )
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.drop_column("html")
    with op.batch_alter_table("digest_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_runs_workspace_id_user_id")
    op.drop_table("digest_runs")
    op.drop_table("digest_preferences")
