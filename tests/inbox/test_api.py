"""The inbox API: list and read conversations, reply, note, assign, close, merge and split."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import ChannelKind, get_connector
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.inbox.models import Conversation, Delivery, DeliveryStatus
from tests.channels.fakes.telegram import ANNA, FakeTelegram, private_chat
from tests.conftest import Cast, Member
from tests.inbox.conftest import conversation_of, customer, make_channel, store

BASE = "/api/v1/workspaces/alpha/inbox"


def url(conversation: Conversation | int, tail: str = "") -> str:
    number = conversation if isinstance(conversation, int) else conversation.number
    return f"{BASE}/conversations/{number}{tail}"


def post(client: TestClient, who: Member, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers=who.headers)


def three_customers(session: Session, cast: Cast) -> tuple[Channel, list[Conversation]]:
    widget = make_channel(session, cast)
    ids = store(
        session,
        cast,
        widget,
        customer("c1", "Где мой заказ? Уже неделю жду", handle="anna@example.com", minutes=1),
        customer("c2", "Hello, do you ship to Canada?", handle="john@example.com", name="John",
                 minutes=2),
        customer("c3", "Спасибо за быструю доставку", handle="ivan@example.com", name="Иван",
                 minutes=3),
    )  # fmt: skip
    found = [conversation_of(session, cast, i) for i in ids]
    session.commit()
    return widget, found


def numbers(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


def test_the_list_puts_overdue_first_then_priority_then_the_latest_and_filters(
    client: TestClient, session: Session, cast: Cast
) -> None:
    widget, (anna, john, ivan) = three_customers(session, cast)
    agent = cast.agent
    assert post(client, agent, url(john, "/priority"), {"priority": "urgent"}).status_code == 200
    assert post(client, agent, url(ivan, "/priority"), {"priority": "low"}).status_code == 200
    session.expire_all()
    anna.priority_manual = True
    anna.due_at = utcnow() - timedelta(hours=3)  # its first response is long overdue
    session.commit()
    listed = client.get(f"{BASE}/conversations", headers=agent.headers)
    assert numbers(listed) == [anna.number, john.number, ivan.number]
    page = listed.json()
    assert page["total"] == 3 and page["page"] == 1 and page["page_size"] >= 3
    first = page["items"][0]
    assert first["sla_status"] == "breached" and first["channel_kind"] == "widget"
    assert first["owner"] == {"id": str(agent.user.id), "name": agent.user.name}
    assert first["person_id"] is not None
    get = client.get
    h = agent.headers
    assert numbers(get(f"{BASE}/conversations?priority=urgent", headers=h)) == [john.number]
    # Urgent gives John 15 minutes from his message an hour ago: overdue too, but less.
    assert numbers(get(f"{BASE}/conversations?sla_status=breached", headers=h)) == [
        anna.number,
        john.number,
    ]
    assert numbers(get(f"{BASE}/conversations?sla_status=on_track", headers=h)) == [ivan.number]
    assert numbers(get(f"{BASE}/conversations?language=en", headers=h)) == [john.number]
    assert numbers(get(f"{BASE}/conversations?q=canada", headers=h)) == [john.number]
    assert numbers(get(f"{BASE}/conversations?owner=me", headers=h)) == [
        anna.number,
        john.number,
        ivan.number,
    ]
    assert post(client, agent, url(ivan, "/assign"), {"owner_id": None}).status_code == 200
    assert numbers(get(f"{BASE}/conversations?owner=none", headers=h)) == [ivan.number]
    owner_filter = f"{BASE}/conversations?owner={cast.admin.user.id}"
    assert numbers(get(owner_filter, headers=h)) == []
    assert numbers(get(f"{BASE}/conversations?channel_id={widget.id}", headers=h)) == [
        anna.number,
        john.number,
        ivan.number,
    ]
    assert post(client, agent, url(ivan, "/state"), {"state": "resolved"}).status_code == 200
    assert numbers(get(f"{BASE}/conversations", headers=h)) == [anna.number, john.number]
    assert numbers(get(f"{BASE}/conversations?state=resolved", headers=h)) == [ivan.number]
    assert len(numbers(get(f"{BASE}/conversations?state=all", headers=h))) == 3
    bad = get(f"{BASE}/conversations?owner=somebody", headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "owner"
    bad = get(f"{BASE}/conversations?intent=bribery", headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "intent"


def test_a_conversation_reads_with_messages_history_notes_and_replies(
    client: TestClient, session: Session, cast: Cast
) -> None:
    _, (anna, _, _) = three_customers(session, cast)
    agent = cast.agent
    note = post(client, agent, url(anna, "/notes"), {"text": "@admin посмотри, VIP"})
    assert note.status_code == 201 and note.json()["mentions"] == [str(cast.admin.user.id)]
    recorded = post(
        client,
        agent,
        url(anna, "/replies"),
        {"text": "Анна, заказ у курьера, будет сегодня."},
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["status"] == "recorded"  # the widget takes no posts from H2H
    detail = client.get(url(anna), headers=cast.viewer.headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["number"] == anna.number and body["can_send"] is False
    assert [m["direction"] for m in body["messages"]] == ["in", "out"]
    assert body["messages"][0]["text"] == "Где мой заказ? Уже неделю жду"
    assert body["messages"][1]["author_name"] == agent.user.name
    assert [n["text"] for n in body["notes"]] == ["@admin посмотри, VIP"]
    assert [d["status"] for d in body["deliveries"]] == ["recorded"]
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[0] == "opened" and {"note", "reply_recorded", "responded"} <= set(kinds)
    assert body["state"] == "pending" and body["first_response_at"] is not None
    assert client.get(url(999), headers=agent.headers).status_code == 404
    assert client.get(url(0), headers=agent.headers).status_code == 422


def test_a_reply_goes_out_through_the_customers_chat_once_committed(
    client: TestClient,
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
) -> None:
    telegram.post(private_chat(ANNA), ANNA, "Не проходит оплата картой")
    fetched = get_connector(ChannelKind.TELEGRAM).fetch(
        telegram_channel.config, telegram_channel.secrets, None
    )
    [message_id] = store(session, cast, telegram_channel, *fetched.items)
    conversation = conversation_of(session, cast, message_id)
    session.commit()
    sent = post(
        client, cast.agent, url(conversation, "/replies"), {"text": "Анна, проверяю платёж"}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "queued"  # as committed; the job ran right after
    [out] = telegram.sent
    assert str(out["chat_id"]) == str(ANNA["id"]) and out["text"].startswith("Анна, проверяю")
    detail = client.get(url(conversation), headers=cast.agent.headers).json()
    assert detail["can_send"] is True
    [delivery] = detail["deliveries"]
    assert delivery["status"] == "sent" and delivery["attempts"] == 1
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    # A failed reply is sent again as the same delivery.
    failed = session.get(Delivery, (cast.a.id, uuid.UUID(delivery["id"])))
    assert failed is not None
    failed.status = DeliveryStatus.FAILED
    session.commit()
    again = client.post(
        url(conversation, f"/deliveries/{delivery['id']}/retry"), headers=cast.agent.headers
    )
    assert again.status_code == 200, again.text
    assert len(telegram.sent) == 2
    retry_sent = client.post(
        url(conversation, f"/deliveries/{delivery['id']}/retry"), headers=cast.agent.headers
    )
    assert retry_sent.status_code == 409  # only a failed reply is sent again
    elsewhere = post(
        client,
        cast.agent,
        url(conversation, "/replies/elsewhere"),
        {"text": "Позвонил Анне, оплату провели", "link": "https://crm.example/call/7"},
    )
    assert elsewhere.status_code == 201
    assert elsewhere.json()["status"] == "recorded"
    assert elsewhere.json()["link"] == "https://crm.example/call/7"
    assert len(telegram.sent) == 2, "a reply recorded as made elsewhere is not sent"
    bad_link = post(
        client, cast.agent, url(conversation, "/replies/elsewhere"), {"text": "x", "link": "ftp:x"}
    )
    assert bad_link.status_code == 422 and bad_link.json()["errors"][0]["field"] == "link"


def test_owner_state_priority_and_conscious_non_response(
    client: TestClient, session: Session, cast: Cast
) -> None:
    _, (anna, john, _) = three_customers(session, cast)
    agent = cast.agent
    mine = post(client, cast.admin, url(anna, "/assign"), {"owner_id": "me"})
    assert mine.json()["owner"]["id"] == str(cast.admin.user.id)
    stranger = post(client, agent, url(anna, "/assign"), {"owner_id": str(cast.outsider.user.id)})
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "owner_id"
    pending = post(client, agent, url(anna, "/state"), {"state": "pending"})
    assert pending.json()["state"] == "pending"
    wrong = post(client, agent, url(anna, "/state"), {"state": "not_answering"})
    assert wrong.status_code == 422  # closing without an answer needs a reason and a note
    reasons = client.get(f"{BASE}/close-reasons", headers=cast.viewer.headers).json()
    assert {"key": "spam", "label": "Spam or advertising"} in reasons
    no_note = post(client, agent, url(john, "/not-answering"), {"reason": "spam", "note": " "})
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    unknown = post(client, agent, url(john, "/not-answering"), {"reason": "bored", "note": "x"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "reason"
    closed = post(
        client, agent, url(john, "/not-answering"), {"reason": "spam", "note": "Рассылка"}
    )
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["close_reason"]) == ("not_answering", "spam")
    assert closed.json()["close_note"] == "Рассылка" and closed.json()["closed_at"]
    urgent = post(client, agent, url(anna, "/priority"), {"priority": "urgent"})
    assert (urgent.json()["priority"], urgent.json()["priority_manual"]) == ("urgent", True)
    back = post(client, agent, url(anna, "/priority"), {"priority": None})
    assert back.json()["priority_manual"] is False


def test_merge_and_split(client: TestClient, session: Session, cast: Cast) -> None:
    widget = make_channel(session, cast)
    first = store(session, cast, widget, customer("s1", "Где заказ 1042?"))
    later = store(session, cast, widget, customer("s2", "И ещё: можно сменить адрес?", minutes=5))
    other = store(session, cast, widget, customer("s3", "Это снова я", handle="anna@work.example"))
    conversation = conversation_of(session, cast, first[0])
    second = conversation_of(session, cast, other[0])
    session.commit()
    split = post(client, cast.agent, url(conversation, "/split"), {"message_id": str(later[0])})
    assert split.status_code == 201, split.text
    new = split.json()
    assert new["number"] not in (conversation.number, second.number)
    assert new["message_count"] == 1
    assert client.get(url(conversation), headers=cast.agent.headers).json()["message_count"] == 1
    first_message = {"message_id": str(first[0])}
    refused = post(client, cast.agent, url(conversation, "/split"), first_message)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "message_id"
    merged = post(client, cast.agent, url(second, "/merge"), {"into": conversation.number})
    assert merged.status_code == 200, merged.text
    assert merged.json()["number"] == conversation.number
    assert merged.json()["message_count"] == 2
    source = client.get(url(second), headers=cast.agent.headers).json()
    assert source["merged_into"] == conversation.number and source["state"] == "resolved"
    again = post(client, cast.agent, url(second, "/merge"), {"into": conversation.number})
    assert again.status_code == 409
    missing = post(client, cast.agent, url(new["number"], "/merge"), {"into": 999})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "into"


def test_viewers_read_but_cannot_act(client: TestClient, session: Session, cast: Cast) -> None:
    _, (anna, _, _) = three_customers(session, cast)
    viewer = cast.viewer
    assert client.get(f"{BASE}/conversations", headers=viewer.headers).status_code == 200
    assert client.get(url(anna), headers=viewer.headers).status_code == 200
    for tail, body in (
        ("/notes", {"text": "x"}),
        ("/replies", {"text": "x"}),
        ("/assign", {"owner_id": "me"}),
        ("/state", {"state": "resolved"}),
    ):
        answer = post(client, viewer, url(anna, tail), body)
        assert answer.status_code == 403, (tail, answer.text)
    outsider = client.get(url(anna), headers=cast.outsider.headers)
    assert outsider.status_code == 404
