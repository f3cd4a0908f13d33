"""Tables of the subjects domain: what a workspace listens for, and what matched."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


class SubjectKind(enum.StrEnum):
    BRAND = "brand"
    PERSON = "person"
    PRODUCT = "product"
    COMPETITOR = "competitor"


SUBJECT_LABELS = {
    SubjectKind.BRAND: N_("Brand"),
    SubjectKind.PERSON: N_("Person"),
    SubjectKind.PRODUCT: N_("Product"),
    SubjectKind.COMPETITOR: N_("Competitor"),
}


class Subject(TenantMixin, Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind))
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(TenantMixin, Base):
    """A message that matched a subject's query."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id", "subject_id"),
        ForeignKeyConstraint(
            ["workspace_id", "message_id"],
            ["messages.workspace_id", "messages.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["workspace_id", "subject_id"],
            ["subjects.workspace_id", "subjects.id"],
            ondelete="CASCADE",
        ),
        Index("ix_mentions_workspace_id_subject_id", "workspace_id", "subject_id"),
    )

    message_id: Mapped[uuid.UUID]
    subject_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
