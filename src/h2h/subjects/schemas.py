"""Pydantic models of the subjects API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.subjects.models import SubjectKind


class SubjectCreate(Input):
    kind: SubjectKind
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=2000)


class SubjectUpdate(Input):
    kind: SubjectKind | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    query: str | None = Field(None, min_length=1, max_length=2000)
    is_active: bool | None = None


class SubjectRead(ORMModel):
    id: uuid.UUID
    kind: SubjectKind
    name: str
    query: str
    is_active: bool
    created_at: datetime
    mentions: int = 0


class QueryCheck(Input):
    query: str = Field(max_length=2000)


class QueryCheckResult(BaseModel):
    ok: bool
    error: str | None = None
    position: int | None = None
