"""Fixtures of the feedback tests: the inbox's local Telegram Bot API and channel, people
known from a message they wrote, consent to surveys, and the public address links use."""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.feedback import invites
from h2h.people import consent_records
from h2h.people import service as people
from h2h.people.models import ConsentPurpose, Person
from tests.channels.fakes.telegram import ANNA, IVAN, JOHN
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

PUBLIC = "http://testserver"
USERS = {"anna": ANNA, "ivan": IVAN, "john": JOHN}
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def public_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """Links start with the address people open H2H at (``H2H_PUBLIC_URL``)."""
    monkeypatch.setattr(invites, "app_settings", lambda: SimpleNamespace(public_url=PUBLIC))
    return PUBLIC


def known(
    session: Session,
    cast: Cast,
    channel: Channel,
    who: str,
    *,
    days_ago: int = 2,
    text: str = "Здравствуйте!",
) -> Person:
    """A person known from a Telegram message they wrote ``days_ago`` days ago."""
    user = USERS[who]
    at = utcnow() - timedelta(days=days_ago)
    [m] = store(
        session,
        cast,
        channel,
        customer(
            f"{who}-{next(_ids)}",
            text,
            handle=str(user["id"]),
            name=str(user["first_name"]),
            at=at,
        ),
    )
    message = channels.get_message(session, workspace_id=cast.a.id, message_id=m)
    assert message.identity_id is not None
    return people.persons_by_identity(
        session, workspace_id=cast.a.id, identity_ids=[message.identity_id]
    )[message.identity_id]


def agree_to_surveys(session: Session, cast: Cast, person: Person, **kw: Any) -> None:
    consent_records.record_consent(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        person_id=person.id,
        channel="telegram",
        purpose=ConsentPurpose.SURVEYS,
        source="ticked the box at checkout",
        **kw,
    )


def token_in(text: str) -> str:
    """The link's secret in a message we sent."""
    start = text.index(PUBLIC + "/f/") + len(PUBLIC + "/f/")
    return text[start:].split()[0].split("?")[0]
