"""The connector interface every channel implements, and the shapes it speaks.

A connector knows one kind of channel (Telegram, IMAP, RSS, ...). It is stateless: the
channel's settings, secrets and cursor come in as arguments, and it returns what it read
plus the next cursor. It never touches the database; ingestion stores what it returns,
idempotently on (workspace, channel, external_id), and only then saves the new cursor.
So a failure anywhere leaves the old cursor in place and the next poll re-reads the same
items, which the unique key turns into no-ops.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable


class ChannelKind(enum.StrEnum):
    FILE = "file"
    WEBHOOK = "webhook"
    RSS = "rss"
    EMAIL = "email"
    TELEGRAM = "telegram"
    VK = "vk"
    WIDGET = "widget"
    OFFLINE = "offline"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


@dataclass(frozen=True)
class Author:
    """Who wrote a message, as the channel knows them."""

    handle: str  # stable per channel: a user id, an email address, a username
    name: str | None = None
    url: str | None = None
    followers: int | None = None


@dataclass(frozen=True)
class RawMessage:
    """One item read from a channel, before it is stored.

    ``external_id`` must be stable across re-reads: it is what makes ingestion idempotent.
    ``created_at`` must be timezone-aware. ``raw`` is the item as the channel sent it
    (JSON-serialisable), kept for audit.
    """

    external_id: str
    text: str
    created_at: datetime
    author: Author
    thread_id: str | None = None
    parent_id: str | None = None
    url: str | None = None
    language: str | None = None
    direction: Direction = Direction.INBOUND
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchResult:
    items: list[RawMessage]
    cursor: str | None  # what to pass to the next fetch; None keeps the previous one


@dataclass(frozen=True)
class Reply:
    """An outbound message: an answer in the thread it belongs to."""

    text: str
    to_handle: str
    thread_id: str | None = None
    in_reply_to: str | None = None  # external id of the message answered
    subject: str | None = None  # email only
    html: str | None = None  # email only: an HTML alternative to ``text`` (a staff digest)
    sender_name: str | None = None  # the named person answering, where the channel shows one
    # Stable across attempts of one reply: channels that can deduplicate (email Message-ID) do.
    key: str | None = None


class ConnectorError(Exception):
    """A channel could not be read or written.

    ``retryable`` tells the poller whether to try again with backoff (network, 5xx, rate
    limit) or to stop and show the error until someone fixes the settings (bad token).
    ``retry_after`` is the delay the service asked for, in seconds, when it said one.
    """

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@runtime_checkable
class Connector(Protocol):
    kind: ClassVar[ChannelKind]

    def fetch(
        self, config: Mapping[str, Any], secrets: Mapping[str, str], cursor: str | None
    ) -> FetchResult:
        """Read items newer than ``cursor``; raise ConnectorError on failure."""
        ...

    def check(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        """Test the connection ("test connection" button); a short description on success."""
        ...


@runtime_checkable
class ReplyingConnector(Connector, Protocol):
    def send(self, config: Mapping[str, Any], secrets: Mapping[str, str], reply: Reply) -> str:
        """Send a reply through the channel; returns the external id of the sent message."""
        ...


_CONNECTORS: dict[ChannelKind, Connector] = {}


def register(connector: Connector) -> Connector:
    _CONNECTORS[connector.kind] = connector
    return connector


def get_connector(kind: ChannelKind) -> Connector:
    try:
        return _CONNECTORS[kind]
    except KeyError:
        raise LookupError(f"no connector for channel kind {kind!r}") from None


def pollable_kinds() -> list[ChannelKind]:
    return sorted(_CONNECTORS)
