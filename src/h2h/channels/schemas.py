"""Pydantic models of the channels API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from h2h.accounts.schemas import Input, ORMModel
from h2h.channels.connectors.base import ChannelKind, Direction
from h2h.channels.models import ChannelStatus, ImportStatus


class ChannelCreate(Input):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, str | int | bool] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="Write-only.")
    poll_interval_seconds: int = Field(300, ge=60, le=86_400)


class ChannelRead(ORMModel):
    id: uuid.UUID
    kind: ChannelKind
    name: str
    config: dict[str, Any]
    status: ChannelStatus
    poll_interval_seconds: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    created_at: datetime


class CheckResult(BaseModel):
    ok: bool
    detail: str


class PollResult(BaseModel):
    fetched: int
    inserted: int
    error: str | None


class AuthorRead(BaseModel):
    handle: str
    name: str | None
    url: str | None
    followers: int | None


class MessageRead(ORMModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel_id: uuid.UUID
    external_id: str
    thread_id: str | None
    parent_id: str | None
    direction: Direction
    author_handle: str
    author_name: str | None
    author_url: str | None
    author_followers: int | None
    text: str
    language: str | None
    url: str | None
    created_at: datetime
    received_at: datetime
    duplicate_of_id: uuid.UUID | None
    subjects: list[str] = Field(default_factory=list)


class MessageDetail(MessageRead):
    raw: dict[str, Any]


class MessagePage(BaseModel):
    items: list[MessageRead]
    total: int
    page: int
    page_size: int


class WebhookAuthor(Input):
    handle: str = Field(min_length=1, max_length=300)
    name: str | None = Field(None, max_length=300)
    url: str | None = Field(None, max_length=1000)
    followers: int | None = Field(None, ge=0)


class WebhookMessage(Input):
    external_id: str = Field(min_length=1, max_length=300)
    text: str = Field(max_length=100_000)
    created_at: datetime
    author: WebhookAuthor
    thread_id: str | None = Field(None, max_length=300)
    parent_id: str | None = Field(None, max_length=300)
    url: str | None = Field(None, max_length=2000)
    language: str | None = Field(None, max_length=8)


class WebhookDelivery(Input):
    messages: list[WebhookMessage] = Field(min_length=1, max_length=1000)


class WebhookAccepted(BaseModel):
    received: int
    stored: int
    duplicates: int


class OfflineEntry(Input):
    who: str = Field(min_length=1, max_length=200, description="The customer's name.")
    gist: str = Field(min_length=1, max_length=20_000)
    happened_at: datetime
    felt: str | None = Field(None, pattern="^(negative|neutral|positive)$")
    contact: str | None = Field(None, max_length=300, description="Phone or email, if known.")


class Created(BaseModel):
    id: uuid.UUID


class MappingCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    columns: dict[str, str]
    date_format: str | None = Field(None, max_length=64)
    timezone: str = Field("UTC", max_length=64)


class MappingRead(ORMModel):
    id: uuid.UUID
    name: str
    columns: dict[str, str]
    date_format: str | None
    timezone: str


class ImportRead(ORMModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    filename: str
    status: ImportStatus
    rows_read: int
    imported: int
    duplicates: int
    rejected: int
    error: str | None
    started_at: datetime
    finished_at: datetime | None
