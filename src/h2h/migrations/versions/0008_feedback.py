"""feedback: surveys, invites and responses

Revision ID: 0008_feedback
Revises: 0007_notify_out
Create Date: 2026-12-07 17:29:24.253807
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_feedback"
down_revision: str | Sequence[str] | None = "0007_notify_out"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "feedback_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("csat_after_resolve", sa.Boolean(), nullable=False),
        sa.Column("csat_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("cap_days", sa.Integer(), nullable=False),
        sa.Column("csat_cap_days", sa.Integer(), nullable=False),
        sa.Column("link_days", sa.Integer(), nullable=False),
        sa.Column("detractor_conversation", sa.Boolean(), nullable=False),
        sa.Column("csat_scanned_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_feedback_settings")),
    )
    op.create_table(
        "surveys",
        sa.Column(
            "kind",
            sa.Enum(
                "nps", "csat", "ces", "custom", name="surveykind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("intro", sa.Text(), nullable=True),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_surveys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_surveys_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_surveys")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_surveys_workspace_id_kind", ["workspace_id", "kind", "active"], unique=False
        )

    op.create_table(
        "survey_invites",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("about_conversation_id", sa.Uuid(), nullable=True),
        sa.Column("delivery_id", sa.Uuid(), nullable=True),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("sent_by", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "sent", "answered", "expired", name="invitestatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "person_id"],
            ["persons.workspace_id", "persons.id"],
            name=op.f("fk_survey_invites_workspace_id_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "survey_id"],
            ["surveys.workspace_id", "surveys.id"],
            name=op.f("fk_survey_invites_workspace_id_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_survey_invites_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_survey_invites")),
    )
    with op.batch_alter_table("survey_invites", schema=None) as batch_op:
        batch_op.create_index("ix_survey_invites_token_hash", ["token_hash"], unique=False)
        batch_op.create_index(
            "ix_survey_invites_workspace_id_conversation_id",
            ["workspace_id", "conversation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_survey_invites_workspace_id_person_id",
            ["workspace_id", "person_id", "sent_at"],
            unique=False,
        )

    op.create_table(
        "survey_responses",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("invite_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "nps", "csat", "ces", "custom", name="surveykind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("about_conversation_id", sa.Uuid(), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "person_id"],
            ["persons.workspace_id", "persons.id"],
            name=op.f("fk_survey_responses_workspace_id_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "survey_id"],
            ["surveys.workspace_id", "surveys.id"],
            name=op.f("fk_survey_responses_workspace_id_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_survey_responses_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "workspace_id", "invite_id", name=op.f("uq_survey_responses_workspace_id_invite_id")
        ),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_responses_workspace_id_kind",
            ["workspace_id", "kind", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_survey_responses_workspace_id_person_id",
            ["workspace_id", "person_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_workspace_id_person_id")
        batch_op.drop_index("ix_survey_responses_workspace_id_kind")

    op.drop_table("survey_responses")
    with op.batch_alter_table("survey_invites", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invites_workspace_id_person_id")
        batch_op.drop_index("ix_survey_invites_workspace_id_conversation_id")
        batch_op.drop_index("ix_survey_invites_token_hash")

    op.drop_table("survey_invites")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_surveys_workspace_id_kind")

    op.drop_table("surveys")
    op.drop_table("feedback_settings")
