"""Fixtures of the problems tests: a channel, the agent as an actor, complaints stored through
``channels.ingest`` (so NLP, people linking, the inbox and clustering run as in production),
problems made by hand from them, and the inbox's local Telegram Bot API."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.problems import service
from h2h.problems.models import Problem
from tests.conftest import Cast
from tests.inbox.conftest import (  # noqa: F401 - fixtures
    actor_of,
    customer,
    factory,
    make_channel,
    store,
    telegram,
    telegram_channel,
)

_ids = itertools.count(1)


@pytest.fixture
def channel(session: Session, cast: Cast) -> Channel:
    """A site widget of workspace A: H2H can reply there, so follow-ups can go out."""
    return make_channel(session, cast, ChannelKind.WIDGET, name="Site chat")


@pytest.fixture
def agent(cast: Cast) -> accounts.Actor:
    return actor_of(cast.agent)


def complain(
    session: Session,
    cast: Cast,
    channel: Channel,
    texts: list[str],
    *,
    days_ago: float = 0.1,
    authors: list[tuple[str, str]] | None = None,
) -> list[Any]:
    """Store customer messages in workspace A, one author each unless ``authors`` (handle,
    name) are given, round robin; returns the new message ids."""
    at = utcnow() - timedelta(days=days_ago)
    items = []
    for i, text in enumerate(texts):
        n = next(_ids)
        handle, name = (
            authors[i % len(authors)] if authors else (f"p{n}@example.com", f"Покупатель {n}")
        )
        items.append(customer(f"pc-{n}", text, handle=handle, name=name, at=at, minutes=i))
    return store(session, cast, channel, *items)


def make_problem(
    session: Session,
    cast: Cast,
    channel: Channel,
    title: str = "Курьер опаздывает",
    texts: list[str] | None = None,
    *,
    days_ago: float = 0.1,
    actor: accounts.Actor | None = None,
) -> Problem:
    """A problem created by hand with its complaints attached (independent of clustering)."""
    texts = texts or [
        "Курьер опоздал на два часа, ужасно",
        "Доставка опять опоздала, курьер не звонил",
        "Третий раз курьер приезжает с опозданием",
    ]
    ids = complain(session, cast, channel, texts, days_ago=days_ago)
    return service.create(
        session,
        workspace_id=cast.a.id,
        actor=actor or actor_of(cast.agent),
        title=title,
        message_ids=ids,
    )
