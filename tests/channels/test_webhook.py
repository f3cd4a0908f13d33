"""The webhook: signed deliveries only, recent ones only, each message stored once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from tests.conftest import Cast


@pytest.fixture
def hook(session: Session, cast: Cast) -> Channel:
    actor = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    channel = channels.create_channel(
        session, workspace_id=cast.a.id, actor=actor, kind=ChannelKind.WEBHOOK, name="Site form"
    )
    session.commit()
    return channel


def _delivery(*ids: str) -> bytes:
    messages = [
        {
            "external_id": i,
            "text": f"Сообщение {i}: где мой заказ?",
            "created_at": "2026-11-20T10:00:00+03:00",
            "author": {"handle": "client@example.com", "name": "Клиент"},
        }
        for i in ids
    ]
    return json.dumps({"messages": messages}, ensure_ascii=False).encode()


def _post(
    client: TestClient,
    channel: Channel,
    body: bytes,
    secret: str | None = None,
    timestamp: int | None = None,
) -> tuple[int, dict[str, object]]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    key = (secret or channel.secrets["signing_secret"]).encode()
    signature = hmac.new(key, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    response = client.post(
        f"/api/v1/channels/{channel.id}/webhook",
        content=body,
        headers={
            "X-H2H-Timestamp": ts,
            "X-H2H-Signature": f"sha256={signature}",
            "Content-Type": "application/json",
        },
    )
    return response.status_code, response.json()


def test_a_signed_delivery_is_stored_and_a_resend_adds_nothing(
    client: TestClient, hook: Channel
) -> None:
    assert _post(client, hook, _delivery("1", "2")) == (
        200,
        {"received": 2, "stored": 2, "duplicates": 0},
    )
    assert _post(client, hook, _delivery("2", "3"))[1] == {
        "received": 2,
        "stored": 1,
        "duplicates": 1,
    }


def test_a_wrong_signature_or_a_stale_timestamp_is_refused(
    client: TestClient, hook: Channel
) -> None:
    status, problem = _post(client, hook, _delivery("1"), secret="whsec_guessed")
    assert status == 403 and "signature does not match" in str(problem["detail"])
    status, problem = _post(client, hook, _delivery("1"), timestamp=int(time.time()) - 3600)
    assert status == 403 and "too old" in str(problem["detail"])
    response = client.post(f"/api/v1/channels/{hook.id}/webhook", content=_delivery("1"))
    assert response.status_code == 403


def test_a_malformed_delivery_says_where_it_is_wrong(client: TestClient, hook: Channel) -> None:
    body = json.dumps(
        {
            "messages": [
                {
                    "external_id": "1",
                    "text": "x",
                    "created_at": "not a date",
                    "author": {"handle": "a"},
                }
            ]
        }
    )
    status, problem = _post(client, hook, body.encode())
    assert status == 422 and "messages.0.created_at" in str(problem["detail"])
    status, problem = _post(client, hook, b"{not json")
    assert status == 422


def test_only_webhook_channels_take_deliveries(
    client: TestClient, session: Session, cast: Cast
) -> None:
    actor = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    files = channels.create_channel(
        session, workspace_id=cast.a.id, actor=actor, kind=ChannelKind.FILE, name="Files"
    )
    session.commit()
    response = client.post(f"/api/v1/channels/{files.id}/webhook", content=_delivery("1"))
    assert response.status_code == 404


def test_another_channels_secret_does_not_open_this_one(
    client: TestClient, session: Session, cast: Cast, hook: Channel
) -> None:
    actor = accounts.Actor(user_id=cast.outsider.user.id, role=Role.OWNER)
    theirs = channels.create_channel(
        session, workspace_id=cast.b.id, actor=actor, kind=ChannelKind.WEBHOOK, name="Their hook"
    )
    session.commit()
    status, _ = _post(client, hook, _delivery("x"), secret=theirs.secrets["signing_secret"])
    assert status == 403
