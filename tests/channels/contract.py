"""The contract every channel connector passes, against a real server on loopback.

A connector's test module provides a ``harness`` fixture returning a ``Harness`` for a
running local server (an IMAP server, an HTTP server speaking the Telegram Bot API, ...)
and then re-exports the checks:

    from tests.channels.contract import *  # noqa: F403 - the shared contract tests

Each check is a plain pytest test function taking ``harness``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from h2h.channels.connectors.base import (
    Connector,
    ConnectorError,
    RawMessage,
    Reply,
    ReplyingConnector,
)


class Harness(Protocol):
    """A local server the contract can drive."""

    connector: Connector
    config: dict[str, Any]
    secrets: dict[str, str]

    def publish(self, count: int) -> list[str]:
        """Make ``count`` new items appear on the server; their expected external ids."""
        ...

    def fail_next(self, kind: str) -> None:
        """Make the next request fail: ``"server"`` (5xx or a dropped connection) or
        ``"rate_limit"`` (429 / the channel's flood error)."""
        ...

    def break_credentials(self) -> None:
        """From now on the server refuses the credentials in ``secrets``."""
        ...

    def sent(self) -> list[Mapping[str, Any]]:
        """What the server received through ``send`` (for replying connectors)."""
        ...


@dataclass
class Reader:
    """Follows the cursor the way the poller does: keep the old one on failure."""

    harness: Harness
    cursor: str | None = None
    seen: list[RawMessage] = field(default_factory=list)

    def poll(self) -> list[RawMessage]:
        result = self.harness.connector.fetch(
            self.harness.config, self.harness.secrets, self.cursor
        )
        if result.cursor is not None:
            self.cursor = result.cursor
        self.seen += result.items
        return result.items


def _check_item(item: RawMessage) -> None:
    assert item.external_id and isinstance(item.external_id, str)
    assert item.created_at.tzinfo is not None, "created_at must be timezone-aware"
    assert item.author.handle, "every item needs a stable author handle"
    assert isinstance(item.text, str)
    json.dumps(dict(item.raw))  # the raw payload is kept as JSON


def test_contract_fetch_returns_new_items_with_stable_ids(harness: Harness) -> None:
    expected = harness.publish(3)
    reader = Reader(harness)
    items = reader.poll()
    for item in items:
        _check_item(item)
    assert sorted(i.external_id for i in items) == sorted(expected)


def test_contract_cursor_moves_past_what_was_read(harness: Harness) -> None:
    reader = Reader(harness)
    harness.publish(2)
    first = {i.external_id for i in reader.poll()}
    assert reader.poll() == [], "a second poll with the new cursor returned old items"
    more = harness.publish(2)
    second = {i.external_id for i in reader.poll()}
    assert second == set(more) and not first & second


def test_contract_transient_failure_is_retryable_and_loses_nothing(harness: Harness) -> None:
    reader = Reader(harness)
    reader.poll()
    expected = harness.publish(2)
    for kind in ("server", "rate_limit"):
        harness.fail_next(kind)
        with pytest.raises(ConnectorError) as failure:
            reader.poll()
        assert failure.value.retryable, f"a {kind} failure must be retried"
    assert sorted(i.external_id for i in reader.poll()) == sorted(expected)


def test_contract_bad_credentials_are_not_retried(harness: Harness) -> None:
    assert isinstance(harness.connector.check(harness.config, harness.secrets), str)
    harness.break_credentials()
    with pytest.raises(ConnectorError) as failure:
        harness.connector.fetch(harness.config, harness.secrets, None)
    assert not failure.value.retryable
    with pytest.raises(ConnectorError):
        harness.connector.check(harness.config, harness.secrets)


def test_contract_replies_go_out_through_the_channel(harness: Harness) -> None:
    connector = harness.connector
    if not isinstance(connector, ReplyingConnector):
        pytest.skip(f"{connector.kind} connectors do not send replies")
    harness.publish(1)
    item = Reader(harness).poll()[0]
    reply = Reply(
        text="Спасибо, что написали! — Анна",
        to_handle=item.author.handle,
        thread_id=item.thread_id,
        in_reply_to=item.external_id,
        subject="Re: test",
    )
    external_id = connector.send(harness.config, harness.secrets, reply)
    assert external_id
    assert any(
        "Спасибо, что написали!" in json.dumps(s, ensure_ascii=False) for s in harness.sent()
    )


__all__ = [name for name in dir() if name.startswith("test_contract_")]
