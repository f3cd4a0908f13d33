"""Fixtures of the channels tests: a workspace with an owner actor and a file channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, Workspace
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.channels.models import Channel
from tests.conftest import make_user

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class Place:
    workspace: Workspace
    actor: accounts.Actor
    channel: Channel


@pytest.fixture
def place(session: Session) -> Place:
    owner = make_user(session, "Channel Owner")
    workspace = accounts.create_workspace(session, name="Кофейня Тест", owner=owner)
    actor = accounts.Actor(user_id=owner.id, role=Role.OWNER)
    channel = channels.create_channel(
        session, workspace_id=workspace.id, actor=actor, kind=ChannelKind.FILE, name="Exports"
    )
    session.commit()
    return Place(workspace, actor, channel)


def item(external_id: str, text: str, minutes: int = 0, handle: str = "anna") -> RawMessage:
    return RawMessage(
        external_id=external_id,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        author=Author(handle=handle, name=handle.title()),
    )
