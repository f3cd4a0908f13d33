"""Messages we start: a follow-up, a "fixed it" notice — only where consent allows.

A reply answers the customer's own message and needs no consent (DESIGN.md); a message we
start is not a reply, so ``consent.may_contact`` decides with no ``in_reply_to``: the
purpose must be consented to, or (service only) the person wrote to us or ordered
recently. It opens a conversation waiting for the customer, so their answer threads into
it and is routed like any other message; the delivery runs through the same job, retries
and signature as a reply.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import User
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.errors import N_, InvalidInput, PermissionDenied
from h2h.inbox import service
from h2h.inbox.models import Conversation, Delivery, DeliveryStatus, State
from h2h.inbox.replies import MAX_TEXT, ConsentRefused
from h2h.people import consent
from h2h.people import service as people
from h2h.people.models import ConsentPurpose

PREVIEW = 300


def start_conversation(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person_id: Any,
    channel_id: Any,
    text: str,
    purpose: ConsentPurpose | str = ConsentPurpose.SERVICE,
    subject: str | None = None,
) -> Delivery:
    """Write to a person first; the caller enqueues ``inbox.deliver`` after the commit."""
    user_id = service.person_of(actor)
    user = session.get(User, user_id)
    if user is None:
        raise PermissionDenied(N_("Only a named person can do this."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(N_("Write the message first."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            N_("The message is too long ({limit} characters at most)."),
            field="text",
            limit=MAX_TEXT,
        )
    person = people.get_person(session, workspace_id=workspace_id, person_id=person_id)
    channel = channels.get_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    identity = people.contact_identity(
        session, workspace_id=workspace_id, person_id=person.id, channel=channel.kind
    )
    if identity is None:
        raise InvalidInput(
            N_("We have no address of this person on that channel."), field="channel_id"
        )
    decision = consent.may_contact(
        session,
        workspace_id=workspace_id,
        person_id=person.id,
        channel=channel.kind,
        purpose=purpose,
    )
    if not decision.allowed:
        raise ConsentRefused(decision)
    now = utcnow()
    conversation = Conversation(
        workspace_id=workspace_id,
        number=service.next_number(session, workspace_id=workspace_id),
        channel_id=channel.id,
        identity_id=identity.id,
        author_name=person.name,
        subject=(subject or "").strip()[:300] or None,
        preview=text[:PREVIEW],
        state=State.PENDING,
        message_count=0,
        intents=0,
        opened_at=now,
        last_message_at=now,
        last_agent_at=now,
        updated_at=now,
    )
    session.add(conversation)
    session.flush()
    service.set_owner(session, conversation, user.id, reason="started")
    service.log_event(
        session, conversation, "started", actor_id=user.id, purpose=str(ConsentPurpose(purpose))
    )
    delivery = Delivery(
        workspace_id=workspace_id,
        conversation_id=conversation.id,
        author_id=user.id,
        author_name=user.name,
        text=text,
        to_handle=identity.value,
        subject=conversation.subject,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery
