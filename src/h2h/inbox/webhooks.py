"""Outbound webhooks: conversation events POSTed to a workspace's own endpoints, signed.

An admin registers an endpoint (a URL, the events it wants, a secret). Every conversation
event ``service.log_event`` records (and every new customer message) reaches ``_on_event``,
which queues one ``WebhookDelivery`` per interested endpoint in the same transaction: an
event that rolled back is never announced. The body is fixed when queued, so every retry
sends the same bytes with the same headers:

- ``X-H2H-Event``: the event, e.g. ``conversation.assigned``;
- ``X-H2H-Delivery``: the delivery id, the same on every attempt — the receiver's
  idempotency key;
- ``X-H2H-Signature``: ``sha256=<hex HMAC-SHA256 of the body with the endpoint's secret>``.

Sending mirrors replies: *claim* (queued → sending, committed), *POST* outside any
transaction, *record* (sent on a 2xx; queued again with backoff on a network error, a 5xx,
408 or 429; failed on anything else or after ``MAX_ATTEMPTS``). Delivery is at least once:
a process that died while sending leaves a claim that goes back to the queue after
``STALE_CLAIM``, and the receiver deduplicates by ``X-H2H-Delivery``.

The API enqueues ``inbox.deliver_webhook`` after its commit; events raised elsewhere (a
connector's poll, the SLA job, a page) are sent by the ``inbox.webhooks_due`` sweep.
Customer data leaves the deployment here only because an admin configured the endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets as secrets_module
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from h2h import __version__
from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role, User, Workspace
from h2h.channels import service as channels
from h2h.db import get_in_workspace, new_id, transaction, utcnow
from h2h.errors import N_, InvalidInput
from h2h.inbox import service
from h2h.inbox.models import (
    Conversation,
    ConversationMessage,
    DeliveryStatus,
    State,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from h2h.jobs import Jobs, job
from h2h.nlp.models import intents_of

log = logging.getLogger(__name__)

AUDIT_ACTIONS.update({"inbox.webhook": N_("changed the outbound webhooks")})

SUBSCRIBABLE = tuple(e for e in WebhookEvent if e is not WebhookEvent.AUTOMATION)
# Conversation events (``log_event`` kinds, and the ``message`` emit) → webhook events.
EVENT_OF_KIND = {
    "opened": WebhookEvent.OPENED,
    "message": WebhookEvent.MESSAGE_RECEIVED,
    "responded": WebhookEvent.REPLIED,  # every reply once: sent, recorded, or typed elsewhere
    "assigned": WebhookEvent.ASSIGNED,
    "state": WebhookEvent.STATE_CHANGED,
    "sla_breach": WebhookEvent.SLA_BREACHED,
}
MAX_ENDPOINTS = 20
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
STALE_CLAIM = timedelta(minutes=10)
TIMEOUT = 10  # seconds per attempt
RETRYABLE_STATUSES = frozenset({408, 429})
_CACHE = "h2h.webhook_endpoints"
_QUEUED = "h2h.webhooks_queued"


# --- endpoints ---------------------------------------------------------------------------------


def list_endpoints(session: Session, *, workspace_id: uuid.UUID) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.workspace_id == workspace_id)
            .order_by(WebhookEndpoint.created_at)
        )
    )


def get_endpoint(session: Session, *, workspace_id: uuid.UUID, endpoint_id: Any) -> WebhookEndpoint:
    return get_in_workspace(session, WebhookEndpoint, workspace_id=workspace_id, id=endpoint_id)


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(N_("A webhook URL starts with http:// or https://."), field="url")
    if len(url) > 2000:
        raise InvalidInput(N_("The URL is too long."), field="url")
    return url


def _check_events(events: Sequence[str] | None) -> list[str]:
    if events is None:
        return [e.value for e in SUBSCRIBABLE]
    known = {e.value for e in SUBSCRIBABLE}
    unknown = [e for e in events if e not in known]
    if unknown:
        raise InvalidInput(
            N_("Unknown event: {name}; known: {known}."),
            field="events",
            name=str(unknown[0])[:60],
            known=", ".join(sorted(known)),
        )
    if not events:
        raise InvalidInput(N_("Choose at least one event."), field="events")
    return [e.value for e in SUBSCRIBABLE if e.value in events]


def _check_secret(secret: str | None) -> str:
    if secret is None or not secret.strip():
        return "whsec_" + secrets_module.token_urlsafe(32)
    secret = secret.strip()
    if not 16 <= len(secret) <= 200:
        raise InvalidInput(N_("A secret has 16 to 200 characters."), field="secret")
    return secret


def _audit(
    session: Session, actor: accounts.Actor, endpoint: WebhookEndpoint, **details: Any
) -> None:
    accounts.record(
        session,
        workspace_id=endpoint.workspace_id,
        actor=actor,
        action="inbox.webhook",
        entity_type="webhook_endpoint",
        entity_id=endpoint.id,
        details={"url": endpoint.url, **details},
    )


def create_endpoint(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    url: str,
    events: Sequence[str] | None = None,
    name: str = "",
    secret: str | None = None,
    active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint (admins); without a secret, a random one is made."""
    actor.require(Role.ADMIN)
    if len(list_endpoints(session, workspace_id=workspace_id)) >= MAX_ENDPOINTS:
        raise InvalidInput(
            N_("A workspace has at most {n} webhooks."), field="url", n=MAX_ENDPOINTS
        )
    endpoint = WebhookEndpoint(
        workspace_id=workspace_id,
        id=new_id(),
        name=" ".join((name or "").split())[:200],
        url=_check_url(url),
        secret=_check_secret(secret),
        events=_check_events(events),
        active=active,
    )
    session.add(endpoint)
    _audit(session, actor, endpoint, events=endpoint.events, created=True)
    session.info.pop(_CACHE, None)
    return endpoint


def update_endpoint(
    session: Session,
    *,
    endpoint: WebhookEndpoint,
    actor: accounts.Actor,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    """Change URL, name, events, secret or the on/off switch; only what is given changes."""
    actor.require(Role.ADMIN)
    if "url" in changes:
        endpoint.url = _check_url(changes["url"])
    if "name" in changes:
        endpoint.name = " ".join((changes["name"] or "").split())[:200]
    if "events" in changes:
        endpoint.events = _check_events(changes["events"] or [])
    if changes.get("secret"):
        endpoint.secret = _check_secret(changes["secret"])
    if changes.get("active") is not None:
        endpoint.active = bool(changes["active"])
    shown = {k: v for k, v in changes.items() if k != "secret"}
    _audit(session, actor, endpoint, changes=shown, secret_changed=bool(changes.get("secret")))
    session.info.pop(_CACHE, None)
    session.flush()
    return endpoint


def delete_endpoint(session: Session, *, endpoint: WebhookEndpoint, actor: accounts.Actor) -> None:
    """Remove an endpoint and its delivery log."""
    actor.require(Role.ADMIN)
    _audit(session, actor, endpoint, deleted=True)
    session.delete(endpoint)
    session.info.pop(_CACHE, None)
    session.flush()


def deliveries_of(
    session: Session, *, endpoint: WebhookEndpoint, limit: int = 50
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first (what an admin checks when it fails)."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.workspace_id == endpoint.workspace_id,
                WebhookDelivery.endpoint_id == endpoint.id,
            )
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def signature(secret: str, body: bytes) -> str:
    """The ``X-H2H-Signature`` header of a body: what a receiver recomputes and compares."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- queueing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    id: uuid.UUID
    events: frozenset[str]


def _targets(session: Session, workspace_id: uuid.UUID) -> list[_Target]:
    # Asked on every event of a burst of messages: remembered for the transaction.
    cache: dict[uuid.UUID, list[_Target]] = session.info.setdefault(_CACHE, {})
    if workspace_id not in cache:
        rows = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.workspace_id == workspace_id,
                WebhookEndpoint.active.is_(True),
            )
        ).all()
        cache[workspace_id] = [_Target(row[0], frozenset(row[1] or [])) for row in rows]
    return cache[workspace_id]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CACHE, None)
        # Committed ones not dispatched are sent by the sweep; rolled-back ones do not exist.
        session.info.pop(_QUEUED, None)


def events_for(happened: service.Happened) -> list[WebhookEvent]:
    """The webhook events a conversation event is announced as."""
    found = EVENT_OF_KIND.get(happened.kind)
    if found is None:
        return []
    if found is WebhookEvent.STATE_CHANGED and happened.data.get("state") == State.NOT_ANSWERING:
        return [found, WebhookEvent.NOT_ANSWERING]
    return [found]


@service.on_event
def _on_event(session: Session, happened: service.Happened) -> None:
    events = events_for(happened)
    if not events:
        return
    targets = _targets(session, happened.conversation.workspace_id)
    for event in events:
        for target in targets:
            if event.value in target.events:
                queue(session, endpoint_id=target.id, event=event, happened=happened)


def send(
    session: Session, *, endpoint: WebhookEndpoint, conversation: Conversation, **data: Any
) -> WebhookDelivery:
    """Queue an ``automation.webhook`` for one endpoint (an automation rule's action)."""
    happened = service.Happened(conversation, "automation", None, data, utcnow())
    return queue(session, endpoint_id=endpoint.id, event=WebhookEvent.AUTOMATION, happened=happened)


def announce(
    session: Session, *, workspace_id: uuid.UUID, event: WebhookEvent, data: dict[str, Any]
) -> int:
    """Queue an event that is about the workspace, not one conversation (a problem alert)
    to every endpoint subscribed to it; returns how many deliveries were queued."""
    queued = 0
    for target in _targets(session, workspace_id):
        if event.value not in target.events:
            continue
        delivery_id = new_id()
        body = {
            "id": str(delivery_id),
            "event": event.value,
            "created_at": utcnow().isoformat(),
            "workspace": _workspace(session, workspace_id),
            "data": data,
        }
        session.add(
            WebhookDelivery(
                workspace_id=workspace_id,
                id=delivery_id,
                endpoint_id=target.id,
                event=event.value,
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
                status=DeliveryStatus.QUEUED,
                next_attempt_at=utcnow(),
            )
        )
        session.info.setdefault(_QUEUED, []).append((workspace_id, delivery_id))
        queued += 1
    return queued


def queue(
    session: Session, *, endpoint_id: uuid.UUID, event: WebhookEvent, happened: service.Happened
) -> WebhookDelivery:
    """A delivery of ``event`` to the endpoint, its body fixed now; sent after commit."""
    conversation = happened.conversation
    delivery_id = new_id()
    body = {
        "id": str(delivery_id),
        "event": event.value,
        "created_at": happened.at.isoformat(),
        "workspace": _workspace(session, conversation.workspace_id),
        "conversation": conversation_payload(session, conversation),
        "data": _data(session, happened),
    }
    delivery = WebhookDelivery(
        workspace_id=conversation.workspace_id,
        id=delivery_id,
        endpoint_id=endpoint_id,
        event=event.value,
        conversation_id=conversation.id,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
        status=DeliveryStatus.QUEUED,
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    session.info.setdefault(_QUEUED, []).append((conversation.workspace_id, delivery_id))
    return delivery


def _workspace(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    workspace = session.get(Workspace, workspace_id)
    return {"id": str(workspace_id), "slug": workspace.slug if workspace else None}


def conversation_payload(session: Session, conversation: Conversation) -> dict[str, Any]:
    """What a receiver is told about the conversation, as it is after the event."""
    owner = session.get(User, conversation.owner_id) if conversation.owner_id else None
    channel = channels.get_channel(
        session, workspace_id=conversation.workspace_id, channel_id=conversation.channel_id
    )
    return {
        "id": str(conversation.id),
        "number": conversation.number,
        "state": conversation.state.value,
        "priority": conversation.priority.value,
        "owner": {"id": str(owner.id), "name": owner.name} if owner else None,
        "channel": {"id": str(channel.id), "kind": channel.kind.value, "name": channel.name},
        "subject": conversation.subject,
        "preview": conversation.preview,
        "author_name": conversation.author_name,
        "identity_id": str(conversation.identity_id) if conversation.identity_id else None,
        "language": conversation.language,
        "sentiment": conversation.sentiment,
        "intents": intents_of(conversation.intents),
        "threat": conversation.threat,
        "message_count": conversation.message_count,
        "opened_at": conversation.opened_at.isoformat(),
        "last_message_at": conversation.last_message_at.isoformat(),
        "due_at": conversation.due_at.isoformat() if conversation.due_at else None,
        "breached": conversation.breached,
        "close_reason": conversation.close_reason,
        "close_note": conversation.close_note,
    }


def _message(session: Session, workspace_id: uuid.UUID, message_id: Any) -> dict[str, Any] | None:
    try:
        message = channels.get_message(session, workspace_id=workspace_id, message_id=message_id)
    except LookupError:
        return None
    return {
        "id": str(message.id),
        "direction": message.direction.value,
        "author_name": message.author_name,
        "author_handle": message.author_handle,
        "text": message.text,
        "url": message.url,
        "created_at": message.created_at.isoformat(),
    }


def _data(session: Session, happened: service.Happened) -> dict[str, Any]:
    data = dict(happened.data)
    if happened.actor_id is not None:
        data["actor_id"] = str(happened.actor_id)
    conversation = happened.conversation
    if happened.kind == "message" and data.get("message"):
        data["message"] = _message(session, conversation.workspace_id, data["message"])
    elif happened.kind == "responded":
        latest = session.scalars(
            select(ConversationMessage.id)
            .where(
                ConversationMessage.workspace_id == conversation.workspace_id,
                ConversationMessage.conversation_id == conversation.id,
                ConversationMessage.inbound.is_(False),
            )
            .order_by(ConversationMessage.created_at.desc())
            .limit(1)
        ).first()
        data["message"] = _message(session, conversation.workspace_id, latest) if latest else None
    return data


def dispatch_after_commit(session: Session, jobs: Jobs) -> int:
    """Enqueue a send of every delivery this session queued, for after its commit."""
    queued: list[tuple[uuid.UUID, uuid.UUID]] = session.info.pop(_QUEUED, [])
    for workspace_id, delivery_id in queued:
        jobs.enqueue_after_commit(
            session,
            "inbox.deliver_webhook",
            workspace_id=str(workspace_id),
            delivery_id=str(delivery_id),
        )
    return len(queued)


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    url: str
    secret: str
    event: str
    body: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would lose its body or go somewhere nobody configured: a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _claim(
    session: Session, workspace_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> _Claimed | None:
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.workspace_id == workspace_id,
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.QUEUED,
        )
        .values(
            status=DeliveryStatus.SENDING, attempts=WebhookDelivery.attempts + 1, claimed_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):
        return None  # sent, failed, or another worker holds it
    delivery = session.get(WebhookDelivery, (workspace_id, delivery_id))
    if delivery is None:  # pragma: no cover - deleted with its endpoint between the two
        return None
    session.refresh(delivery)
    endpoint = session.get(WebhookEndpoint, (workspace_id, delivery.endpoint_id))
    if endpoint is None or not endpoint.active:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = "the webhook is switched off"
        return None
    return _Claimed(endpoint.url, endpoint.secret, delivery.event, delivery.body.encode())


def _post(claimed: _Claimed, delivery_id: uuid.UUID) -> tuple[int | None, str | None]:
    """(HTTP status, error) of one attempt; status None when nothing answered."""
    request = urllib.request.Request(  # noqa: S310 - an admin's http(s) URL, checked on save
        claimed.url,
        data=claimed.body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"H2H-Webhooks/{__version__}",
            "X-H2H-Event": claimed.event,
            "X-H2H-Delivery": str(delivery_id),
            "X-H2H-Signature": signature(claimed.secret, claimed.body),
        },
    )
    try:
        try:
            with _OPENER.open(request, timeout=TIMEOUT) as response:
                return int(response.status), None
        except urllib.error.HTTPError as error:
            with error:
                answer = error.read(500).decode("utf-8", "replace")
            return error.code, f"HTTP {error.code}: {answer}".strip()
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or type(error).__name__
        return None, f"unreachable: {reason}"


def _backoff(attempts: int) -> timedelta:
    step: timedelta = FIRST_BACKOFF * (2 ** max(0, attempts - 1))
    return min(MAX_BACKOFF, step)


def deliver(
    factory: sessionmaker[Session], *, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryStatus | None:
    """One attempt at one delivery; its status afterwards (None: nothing to send)."""
    with transaction(factory) as session:
        claimed = _claim(session, workspace_id, delivery_id, utcnow())
    if claimed is None:
        return None
    status, error = _post(claimed, delivery_id)
    with transaction(factory) as session:
        delivery = session.get(WebhookDelivery, (workspace_id, delivery_id))
        if delivery is None:
            return None  # its endpoint was deleted meanwhile
        delivery.response_status = status
        if status is not None and 200 <= status < 300:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = utcnow()
            delivery.last_error = None
        elif (
            status is None or status >= 500 or status in RETRYABLE_STATUSES
        ) and delivery.attempts < MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.QUEUED
            delivery.next_attempt_at = utcnow() + _backoff(delivery.attempts)
            delivery.last_error = (error or "")[:2000]
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = (error or f"HTTP {status}")[:2000]
        return delivery.status


def due(
    session: Session, *, now: datetime | None = None, limit: int = 200
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace, delivery) pairs due for an attempt; claims a dead process left are requeued."""
    now = now or utcnow()
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.SENDING,
            WebhookDelivery.claimed_at < now - STALE_CLAIM,
        )
        .values(status=DeliveryStatus.QUEUED, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(WebhookDelivery.workspace_id, WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.QUEUED,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _factory(session: Session) -> sessionmaker[Session]:
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


@job("inbox.deliver_webhook")
def deliver_job(session: Session, *, workspace_id: str, delivery_id: str) -> str | None:
    """One attempt at one webhook delivery (enqueued after the event is committed)."""
    status = deliver(
        _factory(session), workspace_id=uuid.UUID(workspace_id), delivery_id=uuid.UUID(delivery_id)
    )
    return status.value if status else None


@job("inbox.webhooks_due")
def deliver_due(session: Session) -> int:
    """Send every webhook delivery that is due: new ones from jobs and pages, and retries."""
    factory = _factory(session)
    with transaction(factory) as own:
        pending = due(own)
    for workspace_id, delivery_id in pending:
        try:
            deliver(factory, workspace_id=workspace_id, delivery_id=delivery_id)
        except Exception:
            log.exception("webhook delivery %s failed", delivery_id)
    return len(pending)
