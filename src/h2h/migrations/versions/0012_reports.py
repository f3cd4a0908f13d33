"""reports: hourly rollups of messages, mentions and aspects, and the rollup state

Revision ID: 0012_reports
Revises: 0011_digest
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_reports"
down_revision: str | Sequence[str] | None = "0011_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_aspect_hours",
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("aspect", sa.String(length=64), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_aspect_hours_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_report_aspect_hours")),
        sa.UniqueConstraint(
            "workspace_id",
            "hour",
            "aspect",
            "sentiment",
            name=op.f("uq_report_aspect_hours_workspace_id_hour_aspect_sentiment"),
        ),
    )
    op.create_table(
        "report_mention_hours",
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_mention_hours_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_report_mention_hours")),
        sa.UniqueConstraint(
            "workspace_id",
            "hour",
            "subject_id",
            "channel_id",
            "sentiment",
            "public",
            name=op.f(
                "uq_report_mention_hours_workspace_id_hour_subject_id_channel_id_sentiment_public"
            ),
        ),
    )
    op.create_table(
        "report_message_hours",
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_message_hours_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_report_message_hours")),
        sa.UniqueConstraint(
            "workspace_id",
            "hour",
            "channel_id",
            "sentiment",
            "public",
            name=op.f("uq_report_message_hours_workspace_id_hour_channel_id_sentiment_public"),
        ),
    )
    op.create_table(
        "report_states",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("rolled_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_states_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_report_states")),
    )


def downgrade() -> None:
    op.drop_table("report_states")
    op.drop_table("report_message_hours")
    op.drop_table("report_mention_hours")
    op.drop_table("report_aspect_hours")
