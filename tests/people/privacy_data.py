"""Builders for consent and privacy tests: channels, people who wrote to us, our replies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h import registry
from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage
from h2h.channels.models import Channel, Message
from h2h.db import utcnow
from h2h.people import service
from h2h.people.models import Identity, Person

registry.load()  # linking and analysis run after ingest, as in the app

CONFIGS: dict[ChannelKind, tuple[dict[str, Any], dict[str, str]]] = {
    ChannelKind.EMAIL: (
        {"imap_host": "imap.example", "smtp_host": "smtp.example", "from_address": "us@example"},
        {"username": "u", "password": "p"},
    ),
    ChannelKind.TELEGRAM: ({}, {"bot_token": "1:x"}),
}


def make_channel(session: Session, workspace_id: uuid.UUID, kind: ChannelKind) -> Channel:
    config, secrets = CONFIGS.get(kind, ({}, {}))
    return channels.create_channel(
        session,
        workspace_id=workspace_id,
        actor=accounts.SYSTEM,
        kind=kind,
        name=f"{kind.value} {uuid.uuid4().hex[:4]}",
        config=config,
        secrets=secrets,
    )


@dataclass
class World:
    workspace_id: uuid.UUID
    telegram: Channel
    email: Channel
    stored: dict[str, uuid.UUID] = field(default_factory=dict)  # external id → message id

    def write(
        self,
        session: Session,
        channel: Channel,
        external_id: str,
        handle: str,
        text: str,
        at: datetime,
        *,
        name: str | None = None,
        thread: str | None = None,
        parent: str | None = None,
        direction: Direction = Direction.INBOUND,
    ) -> uuid.UUID:
        """Store one message (linked to its author by the post-ingest step); its id."""
        item = RawMessage(
            external_id,
            text,
            at,
            Author(handle, name=name, url=f"https://t.me/{handle}" if name else None),
            thread_id=thread,
            parent_id=parent,
            direction=direction,
            raw={"from": handle, "text": text},
        )
        ingest.store(session, workspace_id=self.workspace_id, channel_id=channel.id, items=[item])
        message_id = session.scalars(
            select(Message.id).where(
                Message.workspace_id == self.workspace_id,
                Message.channel_id == channel.id,
                Message.external_id == external_id,
            )
        ).one()
        self.stored[external_id] = message_id
        return message_id

    def person_of(self, session: Session, message_id: uuid.UUID) -> Person:
        """The person the message's author was linked to."""
        identity_id = session.scalars(
            select(Message.identity_id).where(
                Message.workspace_id == self.workspace_id, Message.id == message_id
            )
        ).one()
        assert identity_id is not None, "the message was not linked to its author"
        person_id = session.scalars(
            select(Identity.person_id).where(
                Identity.workspace_id == self.workspace_id, Identity.id == identity_id
            )
        ).one()
        return service.get_person(session, workspace_id=self.workspace_id, person_id=person_id)


def world(session: Session, workspace_id: uuid.UUID) -> World:
    return World(
        workspace_id=workspace_id,
        telegram=make_channel(session, workspace_id, ChannelKind.TELEGRAM),
        email=make_channel(session, workspace_id, ChannelKind.EMAIL),
    )


def ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)
