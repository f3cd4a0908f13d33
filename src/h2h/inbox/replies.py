"""Replies: written by a named agent, checked against consent, delivered once, retried.

``compose`` turns what an agent wrote into a ``Delivery``; the ``inbox.deliver`` job sends
it through the channel the conversation came from. Sending is three steps so that no
reply is sent twice: *claim* (queued → sending, committed: a second worker finds nothing
to claim), *send* (outside any transaction), *record* (sent, or queued again with backoff
for a retryable error, or failed). A process that dies between claim and record leaves a
``sending`` delivery; after ``STALE_CLAIM`` it is marked failed with "outcome unknown",
never re-sent on its own — a person checks the channel and presses "send again".

Channels H2H cannot post to (review sites imported from files, the offline log, RSS)
take a *recorded* reply: the answer given elsewhere, with a link, so that the customer's
conversation shows it and its clock stops.

Consent (DESIGN.md): a reply to the customer's own message is allowed unless they are
erased or blocked us before writing; anything else needs ``consent.may_contact`` to say
yes for the service purpose.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import (
    Author,
    ConnectorError,
    RawMessage,
    Reply,
    ReplyingConnector,
    get_connector,
)
from h2h.channels.connectors.base import Direction as MessageDirection
from h2h.db import transaction, utcnow
from h2h.errors import N_, Conflict, InvalidInput, PermissionDenied
from h2h.inbox import service, templates, threading
from h2h.inbox.models import Conversation, Delivery, DeliveryStatus, Draft
from h2h.people import consent
from h2h.people import service as people
from h2h.people.models import ConsentPurpose

log = logging.getLogger(__name__)

MAX_TEXT = 20_000
MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
STALE_CLAIM = timedelta(minutes=10)
UNKNOWN_OUTCOME = (
    "outcome unknown: the sender stopped while sending; check the channel, then send again"
)


class ConsentRefused(Conflict):
    """``may_contact`` said no; the reason is the decision's, in the reader's language."""

    def __init__(self, decision: consent.Decision) -> None:
        super().__init__(decision.reason, **decision.params)
        self.decision = decision

    def translated(self, gettext: Callable[[str], str]) -> str:
        return self.decision.text(gettext)


def can_send(session: Session, conversation: Conversation) -> bool:
    """Can H2H post to this conversation's channel (else replies are recorded)?"""
    return channels.can_post(
        channels.get_channel(
            session, workspace_id=conversation.workspace_id, channel_id=conversation.channel_id
        )
    )


def signature_of(session: Session, workspace_id: uuid.UUID, user: User) -> str:
    """The agent's signature: their own, else their name and the workspace's."""
    agent = service.agent_row(session, workspace_id=workspace_id, user_id=user.id)
    if agent.signature:
        return agent.signature
    workspace = session.get(Workspace, workspace_id)
    return f"{user.name}, {workspace.name}" if workspace else user.name


def check_consent(session: Session, conversation: Conversation) -> consent.Decision | None:
    """The consent decision for replying now; None for an anonymous author (a reply only)."""
    if conversation.identity_id is None:
        return None
    person = people.persons_by_identity(
        session, workspace_id=conversation.workspace_id, identity_ids=[conversation.identity_id]
    ).get(conversation.identity_id)
    if person is None:
        return None
    channel = channels.get_channel(
        session, workspace_id=conversation.workspace_id, channel_id=conversation.channel_id
    )
    return consent.may_contact(
        session,
        workspace_id=conversation.workspace_id,
        person_id=person.id,
        channel=channel.kind,
        purpose=ConsentPurpose.SERVICE,
        in_reply_to=conversation.last_inbound_id,
    )


def compose(
    session: Session,
    *,
    conversation: Conversation,
    actor: accounts.Actor,
    text: str,
    template_id: Any = None,
    link: str | None = None,
    elsewhere: bool = False,
) -> Delivery:
    """Queue a reply (or record one made elsewhere); the caller enqueues ``inbox.deliver``.

    ``elsewhere`` records the reply even on a channel H2H can post to (answered by phone).
    """
    user_id = service.person_of(actor)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(N_("Write the reply first."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            N_("The reply is too long ({limit} characters at most)."), field="text", limit=MAX_TEXT
        )
    user = session.get(User, user_id)
    if user is None:
        raise PermissionDenied(N_("Only a named person can do this."))
    if template_id:
        template = templates.get_template(
            session, workspace_id=conversation.workspace_id, template_id=template_id
        )
        if (
            text
            == templates.render(
                session, conversation=conversation, template=template, agent=user
            ).strip()
        ):
            raise InvalidInput(
                N_(
                    "Edit the template before sending: the customer should get an answer"
                    " to them, not a form letter."
                ),
                field="text",
            )
    decision = check_consent(session, conversation)
    if decision is not None and not decision.allowed:
        raise ConsentRefused(decision)
    if conversation.last_inbound_id is None and decision is None:
        raise InvalidInput(N_("There is no customer message to answer."), field="text")
    answered = (
        channels.get_message(
            session, workspace_id=conversation.workspace_id, message_id=conversation.last_inbound_id
        )
        if conversation.last_inbound_id
        else None
    )
    sendable = not elsewhere and can_send(session, conversation)
    link = (link or "").strip()[:2000] or None
    if link and not link.startswith(("http://", "https://")):
        raise InvalidInput(N_("A link starts with http:// or https://."), field="link")
    delivery = Delivery(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        author_id=user.id,
        author_name=user.name,
        text=text,
        to_handle=answered.author_handle if answered else "",
        thread_id=conversation.thread_key,
        in_reply_to_id=answered.id if answered else None,
        subject=conversation.subject,
        link=link,
        status=DeliveryStatus.QUEUED if sendable else DeliveryStatus.RECORDED,
        next_attempt_at=utcnow() if sendable else None,
    )
    session.add(delivery)
    session.flush()
    _clear_draft(session, conversation, user.id)
    service.log_event(
        session,
        conversation,
        "reply" if sendable else "reply_recorded",
        actor_id=user.id,
        delivery=str(delivery.id),
    )
    if not sendable:
        _store_outbound(
            session, conversation, delivery, external_id=f"h2h:{delivery.id}", text=text
        )
    return delivery


def _clear_draft(session: Session, conversation: Conversation, user_id: uuid.UUID) -> None:
    session.execute(
        update(Draft)
        .where(
            Draft.workspace_id == conversation.workspace_id,
            Draft.conversation_id == conversation.id,
            Draft.user_id == user_id,
        )
        .values(text="", updated_at=utcnow())
    )


def _store_outbound(
    session: Session, conversation: Conversation, delivery: Delivery, *, external_id: str, text: str
) -> None:
    """The reply as an outbound message of the channel, in its conversation; clocks stop."""
    now = utcnow()
    answered = (
        channels.get_message(
            session, workspace_id=conversation.workspace_id, message_id=delivery.in_reply_to_id
        )
        if delivery.in_reply_to_id
        else None
    )
    result = ingest.store(
        session,
        workspace_id=conversation.workspace_id,
        channel_id=conversation.channel_id,
        items=[
            RawMessage(
                external_id=external_id,
                text=text,
                created_at=now,
                author=Author(handle=f"agent:{delivery.author_id}", name=delivery.author_name),
                thread_id=conversation.thread_key,
                parent_id=answered.external_id if answered else None,
                url=delivery.link,
                direction=MessageDirection.OUTBOUND,
                raw={"h2h_delivery": str(delivery.id)},
            )
        ],
    )
    message_id = result.inserted[0] if result.inserted else None
    if message_id is not None:
        message = channels.get_message(
            session, workspace_id=conversation.workspace_id, message_id=message_id
        )
        if (
            service.conversation_of(
                session, workspace_id=conversation.workspace_id, message_id=message_id
            )
            is None
        ):
            threading.link_outbound(session, conversation, message)
    delivery.message_id = message_id
    delivery.external_id = external_id
    delivery.sent_at = now
    threading.record_response(session, conversation, at=now)


# --- delivering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    kind: Any
    config: Mapping[str, Any]
    secrets: Mapping[str, str]
    reply: Reply


def _backoff(attempts: int) -> timedelta:
    step: timedelta = FIRST_BACKOFF * (2 ** max(0, attempts - 1))
    return min(MAX_BACKOFF, step)


def _claim(
    session: Session, workspace_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> _Claimed | None:
    claimed = session.execute(
        update(Delivery)
        .where(
            Delivery.workspace_id == workspace_id,
            Delivery.id == delivery_id,
            Delivery.status == DeliveryStatus.QUEUED,
        )
        .values(status=DeliveryStatus.SENDING, attempts=Delivery.attempts + 1, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):
        return None  # sent, failed, or another worker holds it
    delivery = session.get(Delivery, (workspace_id, delivery_id))
    if delivery is None:
        return None  # erased with its person meanwhile
    session.refresh(delivery)
    conversation = service.get_conversation(
        session, workspace_id=workspace_id, conversation_id=delivery.conversation_id
    )
    channel = channels.get_channel(
        session, workspace_id=workspace_id, channel_id=conversation.channel_id
    )
    answered = (
        channels.get_message(session, workspace_id=workspace_id, message_id=delivery.in_reply_to_id)
        if delivery.in_reply_to_id
        else None
    )
    user = session.get(User, delivery.author_id) if delivery.author_id else None
    signature = signature_of(session, workspace_id, user) if user else delivery.author_name
    text = f"{delivery.text}\n\n— {signature}" if signature else delivery.text
    reply = Reply(
        text=text,
        to_handle=delivery.to_handle,
        thread_id=delivery.thread_id,
        in_reply_to=answered.external_id if answered else None,
        subject=delivery.subject,
        sender_name=delivery.author_name,
        key=str(delivery.id),
    )
    return _Claimed(channel.kind, dict(channel.config or {}), dict(channel.secrets or {}), reply)


def deliver(
    factory: sessionmaker[Session], *, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryStatus | None:
    """One attempt at one delivery; returns its status afterwards (None: nothing to do)."""
    now = utcnow()
    with transaction(factory) as session:
        claimed = _claim(session, workspace_id, delivery_id, now)
    if claimed is None:
        return None
    error: ConnectorError | None = None
    external_id = None
    try:
        connector = get_connector(claimed.kind)
        if not isinstance(connector, ReplyingConnector):
            raise ConnectorError("this channel does not send replies", retryable=False)
        external_id = connector.send(claimed.config, claimed.secrets, claimed.reply)
    except ConnectorError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is retried like a network one
        log.exception("delivery %s failed", delivery_id)
        error = ConnectorError(f"{type(exc).__name__}: {exc}")
    with transaction(factory) as session:
        delivery = session.get(Delivery, (workspace_id, delivery_id))
        if delivery is None:
            return None
        conversation = service.get_conversation(
            session, workspace_id=workspace_id, conversation_id=delivery.conversation_id
        )
        if error is None:
            delivery.status = DeliveryStatus.SENT
            delivery.last_error = None
            _store_outbound(
                session,
                conversation,
                delivery,
                external_id=str(external_id),
                text=claimed.reply.text,
            )
            service.log_event(session, conversation, "reply_sent", delivery=str(delivery.id))
        elif error.retryable and delivery.attempts < MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.QUEUED
            delay = (
                timedelta(seconds=error.retry_after)
                if error.retry_after
                else _backoff(delivery.attempts)
            )
            delivery.next_attempt_at = utcnow() + delay
            delivery.last_error = str(error)[:2000]
            conversation.updated_at = utcnow()
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = str(error)[:2000]
            service.log_event(session, conversation, "reply_failed", delivery=str(delivery.id))
            service.notify(
                session,
                workspace_id=workspace_id,
                user_ids=[delivery.author_id],
                kind="reply_failed",
                conversation=conversation,
            )
        return delivery.status


def mark_sent(
    session: Session, conversation: Conversation, delivery: Delivery, *, external_id: str
) -> None:
    """Complete a queued delivery as ``deliver`` does once the channel took it, in the
    caller's transaction, without calling the channel (the demo, which has no internet)."""
    claimed = _claim(session, conversation.workspace_id, delivery.id, utcnow())
    if claimed is None:
        raise Conflict(N_("This reply is not waiting to be sent."))
    delivery.status = DeliveryStatus.SENT
    delivery.last_error = None
    _store_outbound(
        session, conversation, delivery, external_id=external_id, text=claimed.reply.text
    )
    service.log_event(session, conversation, "reply_sent", delivery=str(delivery.id))


def due(
    session: Session, *, now: datetime | None = None, limit: int = 200
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace, delivery) pairs whose next attempt is due; stale claims are failed first."""
    now = now or utcnow()
    stale = list(
        session.scalars(
            select(Delivery).where(
                Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < now - STALE_CLAIM
            )
        )
    )
    for delivery in stale:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = UNKNOWN_OUTCOME
    rows = session.execute(
        select(Delivery.workspace_id, Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.QUEUED,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def retry(session: Session, *, delivery: Delivery, actor: accounts.Actor) -> Delivery:
    """Send a failed delivery again (the same delivery: one reply, however many attempts)."""
    actor.require(Role.AGENT)
    if delivery.status is not DeliveryStatus.FAILED:
        raise Conflict(N_("Only a failed reply can be sent again."))
    delivery.status = DeliveryStatus.QUEUED
    delivery.next_attempt_at = utcnow()
    delivery.last_error = None
    return delivery


def get_delivery(session: Session, *, workspace_id: uuid.UUID, delivery_id: Any) -> Delivery:
    from h2h.db import get_in_workspace

    return get_in_workspace(session, Delivery, workspace_id=workspace_id, id=delivery_id)


def deliveries_of(session: Session, *, conversation: Conversation) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.workspace_id == conversation.workspace_id,
                Delivery.conversation_id == conversation.id,
            )
            .order_by(Delivery.created_at)
        )
    )


# --- drafts -----------------------------------------------------------------------------------


def save_draft(
    session: Session, *, conversation: Conversation, actor: accounts.Actor, text: str
) -> Draft:
    """Autosave what an agent is typing (also what the collision warning shows as typing)."""
    user_id = service.person_of(actor)
    found = draft_of(session, conversation=conversation, user_id=user_id)
    if found is None:
        found = Draft(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            user_id=actor.user_id,
        )
        session.add(found)
    found.text = (text or "")[:MAX_TEXT]
    found.updated_at = utcnow()
    session.flush()
    return found


def draft_of(session: Session, *, conversation: Conversation, user_id: uuid.UUID) -> Draft | None:
    return session.scalars(
        select(Draft).where(
            Draft.workspace_id == conversation.workspace_id,
            Draft.conversation_id == conversation.id,
            Draft.user_id == user_id,
        )
    ).one_or_none()
