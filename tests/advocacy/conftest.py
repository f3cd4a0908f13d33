"""Fixtures of the advocacy tests: the inbox's local Telegram Bot API and its channel."""

from __future__ import annotations

from tests.inbox.conftest import (  # noqa: F401 - fixtures
    factory,
    telegram,
    telegram_channel,
)
