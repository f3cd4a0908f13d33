"""Outbound webhooks: conversation events reach a real HTTP server, signed, retried, once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts import service as accounts
from h2h.db import utcnow
from h2h.inbox import service, sla, webhooks
from h2h.inbox.models import Conversation, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from h2h.jobs import run_now
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

SECRET = "a-shared-secret-of-the-receiver"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.headers["x-h2h-event"]


class Receiver:
    """A webhook receiver on loopback: records every request, answers the queued statuses."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with lock:
                    receiver.received.append(Received(headers, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/h2h"

    def events(self) -> list[str]:
        return [r.event for r in self.received]

    def of(self, event: str) -> list[Received]:
        return [r for r in self.received if r.event == event]

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


def endpoint(
    session: Session, cast: Cast, receiver: Receiver, events: list[str] | None = None
) -> WebhookEndpoint:
    created = webhooks.create_endpoint(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        url=receiver.url,
        events=events,
        secret=SECRET,
    )
    session.commit()
    return created


def sweep(factory: sessionmaker[Session]) -> int:
    sent: int = run_now(factory, "inbox.webhooks_due")
    return sent


def verified(request: Received) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["x-h2h-signature"])


def deliveries(session: Session, cast: Cast) -> list[WebhookDelivery]:
    session.expire_all()
    query = select(WebhookDelivery).where(WebhookDelivery.workspace_id == cast.a.id)
    return list(session.scalars(query.order_by(WebhookDelivery.created_at)))


def incoming(session: Session, cast: Cast, text: str = "Где мой заказ 1042?") -> Conversation:
    widget = make_channel(session, cast)
    [message_id] = store(session, cast, widget, customer("w1", text))
    conversation = conversation_of(session, cast, message_id)
    session.commit()
    return conversation


def test_a_new_conversation_is_posted_signed_with_the_endpoints_secret(
    session: Session, cast: Cast, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    endpoint(session, cast, receiver)
    conversation = incoming(session, cast)
    assert sweep(factory) == len(deliveries(session, cast)) >= 3
    assert receiver.events() == [
        "conversation.assigned",
        "conversation.opened",
        "message.received",
    ]
    for request in receiver.received:
        assert verified(request)
        body = request.json
        assert body["event"] == request.event
        assert body["id"] == request.headers["x-h2h-delivery"]
        assert body["workspace"]["slug"] == "alpha"
        assert body["conversation"]["number"] == conversation.number
        assert request.headers["content-type"].startswith("application/json")
    opened = receiver.of("conversation.opened")[0].json
    assert opened["conversation"]["owner"]["name"] == cast.agent.user.name  # routed before
    assert opened["conversation"]["channel"]["kind"] == "widget"
    message = receiver.of("message.received")[0].json["data"]["message"]
    assert message["text"] == "Где мой заказ 1042?" and message["direction"] == "in"
    assert {d.status for d in deliveries(session, cast)} == {DeliveryStatus.SENT}
    assert sweep(factory) == 0, "a sent delivery is never sent again"


def test_an_api_action_is_posted_right_after_its_commit(
    client: TestClient, session: Session, cast: Cast, receiver: Receiver
) -> None:
    endpoint(session, cast, receiver, events=["conversation.assigned", "conversation.replied"])
    conversation = incoming(session, cast)
    receiver.received.clear()
    response = client.post(
        f"/api/v1/workspaces/alpha/inbox/conversations/{conversation.number}/assign",
        json={"owner_id": str(cast.admin.user.id)},
        headers=cast.agent.headers,
    )
    assert response.status_code == 200, response.text
    [assigned] = receiver.received  # no sweep: the request enqueued it after its commit
    assert assigned.event == "conversation.assigned"
    assert assigned.json["data"]["owner"] == str(cast.admin.user.id)
    assert assigned.json["data"]["actor_id"] == str(cast.agent.user.id)
    response = client.post(
        f"/api/v1/workspaces/alpha/inbox/conversations/{conversation.number}/replies/elsewhere",
        json={"text": "Позвонили клиенту, всё решили", "link": None},
        headers=cast.agent.headers,
    )
    assert response.status_code == 201, response.text
    [replied] = receiver.of("conversation.replied")
    assert replied.json["data"]["message"]["text"] == "Позвонили клиенту, всё решили"
    assert replied.json["data"]["message"]["direction"] == "out"


def test_a_500_is_retried_with_the_same_delivery_and_body_and_never_sent_twice(
    session: Session, cast: Cast, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    endpoint(session, cast, receiver, events=["conversation.opened"])
    incoming(session, cast)
    [delivery] = deliveries(session, cast)
    receiver.statuses = [500]
    assert webhooks.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.QUEUED
    )
    [failed] = deliveries(session, cast)
    assert failed.attempts == 1 and failed.response_status == 500
    assert failed.next_attempt_at is not None and failed.next_attempt_at > utcnow()
    assert "HTTP 500" in (failed.last_error or "")
    assert sweep(factory) == 0, "the retry waits for its backoff"
    with factory() as own:
        assert webhooks.due(own, now=utcnow() + timedelta(minutes=1)) == [(cast.a.id, delivery.id)]
    failed.next_attempt_at = utcnow() - timedelta(seconds=1)  # as if the backoff had passed
    session.commit()
    assert sweep(factory) == 1
    first, second = receiver.received
    assert first.body == second.body and verified(second)
    assert first.headers["x-h2h-delivery"] == second.headers["x-h2h-delivery"] == str(delivery.id)
    [sent] = deliveries(session, cast)
    assert sent.status is DeliveryStatus.SENT and sent.attempts == 2
    assert webhooks.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is None
    assert sweep(factory) == 0
    assert len(receiver.received) == 2


def test_a_refusal_fails_at_once_and_an_unreachable_receiver_is_retried(
    session: Session, cast: Cast, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    endpoint(session, cast, receiver, events=["conversation.opened"])
    incoming(session, cast)
    [delivery] = deliveries(session, cast)
    receiver.statuses = [403]
    assert sweep(factory) == 1
    [refused] = deliveries(session, cast)
    assert refused.status is DeliveryStatus.FAILED and refused.response_status == 403
    gone = webhooks.create_endpoint(
        session,
        workspace_id=cast.a.id,
        actor=accounts.SYSTEM,
        url="http://127.0.0.1:9/nobody-listens",
        events=["conversation.state_changed"],
    )
    conversation = session.get(Conversation, (cast.a.id, delivery.conversation_id))
    assert conversation is not None
    service.set_state(
        session, conversation=conversation, actor=actor_of(cast.agent), state="resolved"
    )
    session.commit()
    assert sweep(factory) == 1
    [unreachable] = [d for d in deliveries(session, cast) if d.endpoint_id == gone.id]
    assert unreachable.status is DeliveryStatus.QUEUED and unreachable.response_status is None
    assert (unreachable.last_error or "").startswith("unreachable")


def test_endpoints_get_only_their_events_and_a_switched_off_one_nothing(
    session: Session, cast: Cast, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    chosen = endpoint(session, cast, receiver, events=["conversation.not_answering"])
    off = endpoint(session, cast, receiver)
    webhooks.update_endpoint(
        session, endpoint=off, actor=actor_of(cast.admin), changes={"active": False}
    )
    conversation = incoming(session, cast)
    service.not_answering(
        session,
        conversation=conversation,
        actor=actor_of(cast.agent),
        reason="spam",
        note="Реклама казино",
    )
    session.commit()
    sweep(factory)
    [closed] = receiver.received
    assert closed.event == "conversation.not_answering"
    assert closed.json["conversation"]["close_reason"] == "spam"
    assert closed.json["conversation"]["close_note"] == "Реклама казино"
    assert {d.endpoint_id for d in deliveries(session, cast)} == {chosen.id}


def test_an_sla_breach_is_announced(
    session: Session, cast: Cast, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    endpoint(session, cast, receiver, events=["conversation.sla_breached"])
    conversation = incoming(session, cast)
    assert conversation.due_at is not None
    assert sla.check_breaches(session, now=conversation.due_at + timedelta(minutes=1)) >= 1
    session.commit()
    sweep(factory)
    breach = receiver.of("conversation.sla_breached")[0].json
    assert breach["data"]["target"] == "first_response"


def test_an_event_that_rolled_back_is_never_announced(
    session: Session, cast: Cast, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    endpoint(session, cast, receiver, events=["conversation.state_changed"])
    conversation = incoming(session, cast)
    service.set_state(
        session, conversation=conversation, actor=actor_of(cast.agent), state="pending"
    )
    session.flush()
    session.rollback()
    assert sweep(factory) == 0
    assert receiver.received == [] and deliveries(session, cast) == []


def test_admins_manage_endpoints_through_the_api_and_the_secret_is_shown_once(
    client: TestClient, cast: Cast, receiver: Receiver
) -> None:
    base = "/api/v1/workspaces/alpha/inbox/webhooks"
    admin = cast.admin.headers
    created = client.post(base, json={"url": receiver.url, "name": "CRM"}, headers=admin)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 30
    assert "conversation.opened" in hook["events"] and "automation.webhook" not in hook["events"]
    [listed] = client.get(base, headers=admin).json()
    assert listed["id"] == hook["id"] and "secret" not in listed
    changed = client.patch(
        f"{base}/{hook['id']}", json={"events": ["conversation.replied"]}, headers=admin
    )
    assert changed.json()["events"] == ["conversation.replied"]
    assert client.get(f"{base}/{hook['id']}/deliveries", headers=admin).json() == []
    bad_url = client.post(base, json={"url": "ftp://example.com"}, headers=admin)
    assert bad_url.status_code == 422
    assert bad_url.json()["errors"][0]["field"] == "url"
    bad_event = client.post(base, json={"url": receiver.url, "events": ["x"]}, headers=admin)
    assert bad_event.json()["errors"][0]["field"] == "events"
    assert client.get(base, headers=cast.agent.headers).status_code == 403
    assert client.post(
        base, json={"url": receiver.url}, headers=cast.agent.headers
    ).status_code == (403)
    assert client.delete(f"{base}/{hook['id']}", headers=admin).status_code == 204
    assert client.get(base, headers=admin).json() == []
    assert client.delete(f"{base}/{hook['id']}", headers=admin).status_code == 404
