"""advocacy: actions on advocates and their outcomes

Revision ID: 0009_advocacy_actions
Revises: 0008_feedback
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_advocacy_actions"
down_revision: str | Sequence[str] | None = "0008_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("thank", "invite", "review", "referral")
STATES = ("sent", "replied", "posted", "referred", "converted", "declined", "no_response")


def upgrade() -> None:
    op.create_table(
        "advocacy_actions",
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="actionkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*STATES, name="actionstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("rewarded", sa.Boolean(), nullable=False),
        sa.Column("reward", sa.String(length=500), nullable=True),
        sa.Column("referral_code", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("delivery_id", sa.Uuid(), nullable=True),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("sent_by", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referred_person_id", sa.Uuid(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("outcome_manual", sa.Boolean(), nullable=False),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outcome_by"],
            ["users.id"],
            name=op.f("fk_advocacy_actions_outcome_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"],
            ["users.id"],
            name=op.f("fk_advocacy_actions_sent_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "person_id"],
            ["persons.workspace_id", "persons.id"],
            name=op.f("fk_advocacy_actions_workspace_id_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_advocacy_actions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_advocacy_actions")),
        sa.UniqueConstraint(
            "workspace_id",
            "referral_code",
            name=op.f("uq_advocacy_actions_workspace_id_referral_code"),
        ),
    )
    with op.batch_alter_table("advocacy_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_advocacy_actions_workspace_id_conversation_id",
            ["workspace_id", "conversation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_advocacy_actions_workspace_id_person_id",
            ["workspace_id", "person_id", "sent_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_advocacy_actions_workspace_id_state",
            ["workspace_id", "state", "sent_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("advocacy_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_advocacy_actions_workspace_id_state")
        batch_op.drop_index("ix_advocacy_actions_workspace_id_person_id")
        batch_op.drop_index("ix_advocacy_actions_workspace_id_conversation_id")

    op.drop_table("advocacy_actions")
