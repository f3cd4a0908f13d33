"""advocacy: engagement and influence settings per workspace

Revision ID: 0010_engagement_settings
Revises: 0009_advocacy_actions
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_engagement_settings"
down_revision: str | Sequence[str] | None = "0009_advocacy_actions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advocacy_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("engagement", sa.JSON(), nullable=False),
        sa.Column("influence", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_advocacy_settings_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_advocacy_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_advocacy_settings")),
    )


def downgrade() -> None:
    op.drop_table("advocacy_settings")
