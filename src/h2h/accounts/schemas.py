"""Pydantic models of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from h2h.accounts.models import Role

Language = Literal["ru", "en"]


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Input(BaseModel):
    """A request body: unknown fields are refused, and so is NUL in any text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL cannot store NUL in text columns: left through, it would be a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class UserRead(ORMModel):
    id: uuid.UUID
    email: str
    name: str
    language: str | None


class UserUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    language: Language | None = None


class PasswordChange(Input):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class WorkspaceRead(ORMModel):
    id: uuid.UUID
    slug: str
    name: str
    language: str
    timezone: str
    created_at: datetime


class WorkspaceWithRole(WorkspaceRead):
    role: Role


class WorkspaceCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=48, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
    language: Language = "ru"
    timezone: str = Field("Europe/Moscow", max_length=64)


class WorkspaceUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    language: Language | None = None
    timezone: str | None = Field(None, max_length=64)


class MemberRead(ORMModel):
    id: uuid.UUID
    role: Role
    created_at: datetime
    user: UserRead


class MemberUpdate(Input):
    role: Role


class InvitationCreate(Input):
    email: str = Field(max_length=320)
    role: Role = Role.AGENT


class InvitationRead(ORMModel):
    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


class InvitationCreated(InvitationRead):
    url: str = Field(description="The link to send; it is shown only once.")


class TokenCreate(Input):
    name: str = Field(min_length=1, max_length=100)


class TokenRead(ORMModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret; shown only once.")


class AuditEventRead(ORMModel):
    id: uuid.UUID
    action: str
    entity_type: str
    entity_id: str | None
    details: dict[str, Any]
    ip: str | None
    created_at: datetime
    actor: UserRead | None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    total: int
    page: int
    page_size: int
