"""Customer messages become conversations: threads, reply chains, the same author, reopening."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels.connectors.base import ChannelKind, Direction
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.inbox import listing, service, threading
from h2h.inbox.models import Conversation, State
from h2h.nlp import service as nlp
from h2h.people import linking
from tests.conftest import Cast
from tests.inbox.conftest import (
    actor_of,
    conversation_of,
    conversations,
    customer,
    make_channel,
    store,
)


def test_a_customer_message_opens_a_numbered_conversation_with_its_labels(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    [first] = store(session, cast, widget, customer("m1", "Курьер опоздал на два часа, ужасно!"))
    conversation = conversation_of(session, cast, first)
    assert conversation.number == 1
    assert conversation.state is State.OPEN
    assert conversation.last_inbound_id == first
    assert conversation.sentiment == "negative"
    assert conversation.language == "ru"
    assert conversation.message_count == 1
    assert "Курьер опоздал" in conversation.preview
    assert conversation.first_response_due is not None
    [event] = [e.kind for e in service.history(session, conversation=conversation)][:1]
    assert event == "opened"


def test_the_same_author_within_a_day_continues_the_conversation(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    [a] = store(session, cast, widget, customer("m1", "Здравствуйте, вопрос по заказу"))
    [b] = store(session, cast, widget, customer("m2", "Номер 1042", minutes=5))
    [c] = store(session, cast, widget, customer("m3", "Другой человек", handle="ivan@example.com"))
    assert conversation_of(session, cast, a).id == conversation_of(session, cast, b).id
    assert conversation_of(session, cast, c).id != conversation_of(session, cast, a).id
    assert conversation_of(session, cast, a).message_count == 2
    assert [x.number for x in conversations(session, cast)] == [1, 2]


def test_a_channel_thread_keeps_its_own_conversation(session: Session, cast: Cast) -> None:
    mail = make_channel(session, cast, ChannelKind.WIDGET)
    [a] = store(session, cast, mail, customer("m1", "Про доставку", thread_id="t-1"))
    [b] = store(session, cast, mail, customer("m2", "Про оплату", thread_id="t-2", minutes=1))
    [c] = store(session, cast, mail, customer("m3", "Ещё про доставку", thread_id="t-1", minutes=2))
    assert conversation_of(session, cast, a).id == conversation_of(session, cast, c).id
    assert conversation_of(session, cast, b).id != conversation_of(session, cast, a).id


def test_an_answer_to_our_message_joins_the_conversation_it_answers(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    at = utcnow() - timedelta(days=3)
    [a] = store(session, cast, widget, customer("m1", "Где мой заказ?", at=at))
    [ours] = store(
        session,
        cast,
        widget,
        customer(
            "r1",
            "Уже едет",
            handle="shop",
            at=at,
            minutes=10,
            parent_id="m1",
            direction=Direction.OUTBOUND,
        ),
    )
    conversation = conversation_of(session, cast, a)
    assert conversation_of(session, cast, ours).id == conversation.id
    assert conversation.state is State.PENDING  # answered outside H2H: the customer's turn
    assert conversation.first_response_at is not None
    # Two days later (beyond the same-author window) the customer answers our message.
    [b] = store(
        session,
        cast,
        widget,
        customer("m2", "Так и не приехал", at=at, minutes=3000, parent_id="r1"),
    )
    assert conversation_of(session, cast, b).id == conversation.id
    assert conversation.state is State.OPEN


def resolve(session: Session, conversation: Conversation, at: datetime) -> None:
    service.set_state(
        session, conversation=conversation, actor=accounts.SYSTEM, state=State.RESOLVED
    )
    conversation.closed_at = at  # resolved back then


def test_a_new_message_reopens_a_resolved_conversation_the_same_day(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    at = utcnow() - timedelta(days=5)
    [a] = store(session, cast, widget, customer("m1", "Вопрос", at=at))
    conversation = conversation_of(session, cast, a)
    resolve(session, conversation, at + timedelta(hours=1))
    [b] = store(session, cast, widget, customer("m2", "Ещё вопрос", at=at, minutes=180))
    assert conversation_of(session, cast, b).id == conversation.id
    assert conversation.state is State.OPEN
    events = service.history(session, conversation=conversation)
    assert ("resolved", "open", "customer_wrote") in [
        (e.data.get("previous"), e.data.get("state"), e.data.get("reason")) for e in events
    ]
    # Two days later on a channel without threads it is a new topic: a new conversation.
    resolve(session, conversation, at + timedelta(hours=4))
    [c] = store(session, cast, widget, customer("m3", "Снова я", at=at, minutes=2 * 24 * 60))
    assert conversation_of(session, cast, c).id != conversation.id


def test_a_thread_reopens_within_a_week_of_closing_and_then_starts_over(
    session: Session, cast: Cast
) -> None:
    mail = make_channel(session, cast)
    at = utcnow() - timedelta(days=13)
    [a] = store(session, cast, mail, customer("m1", "Счёт", at=at, thread_id="t"))
    conversation = conversation_of(session, cast, a)
    resolve(session, conversation, at + timedelta(hours=1))
    [b] = store(
        session, cast, mail, customer("m2", "Re: Счёт", at=at, minutes=3 * 1440, thread_id="t")
    )
    assert conversation_of(session, cast, b).id == conversation.id
    resolve(session, conversation, at + timedelta(days=3, hours=1))
    [c] = store(
        session, cast, mail, customer("m3", "Re: Счёт", at=at, minutes=11 * 1440, thread_id="t")
    )
    assert conversation_of(session, cast, c).id != conversation.id


def test_listening_channels_stay_out_of_the_inbox_unless_asked(
    session: Session, cast: Cast
) -> None:
    rss = make_channel(session, cast, ChannelKind.RSS, config={"url": "https://blog.example/feed"})
    [post] = store(session, cast, rss, customer("p1", "Обзор кофеен города", handle="blog"))
    assert service.conversation_of(session, workspace_id=cast.a.id, message_id=post) is None
    rss.config = {**rss.config, "inbox": True}
    session.flush()
    threading.thread_messages(session, workspace_id=cast.a.id, message_ids=[post])
    assert conversation_of(session, cast, post).state is State.OPEN


def test_a_big_batch_is_left_to_the_pending_job_and_threaded_once(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    items = [
        customer(f"m{n}", f"Сообщение {n}", handle=f"user{n}@example.com")
        for n in range(threading.INLINE_LIMIT + 1)
    ]
    store(session, cast, widget, *items)
    assert conversations(session, cast) == []
    # Not before NLP and people linking have caught up (or the grace period is over).
    assert threading.thread_pending(session, workspace_id=cast.a.id, limit=10_000) == 0
    while nlp.analyze_pending(session, workspace_id=cast.a.id):
        pass
    while linking.link_pending(session, workspace_id=cast.a.id):
        pass
    assert threading.thread_pending(session, workspace_id=cast.a.id, limit=10_000) == len(items)
    assert threading.thread_pending(session, workspace_id=cast.a.id, limit=10_000) == 0
    numbers = [c.number for c in conversations(session, cast)]
    assert numbers == list(range(1, len(items) + 1))


def test_merge_moves_messages_and_split_makes_a_new_conversation(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    [a] = store(session, cast, widget, customer("m1", "Первое"))
    [b] = store(session, cast, widget, customer("m2", "Второе", handle="anna2@example.com"))
    [c] = store(
        session, cast, widget, customer("m3", "Третье", handle="anna2@example.com", minutes=1)
    )
    first, second = conversation_of(session, cast, a), conversation_of(session, cast, b)
    service.merge(session, source=second, target=first, actor=actor_of(cast.agent))
    assert {conversation_of(session, cast, m).id for m in (a, b, c)} == {first.id}
    assert first.message_count == 3
    assert second.merged_into_id == first.id
    with pytest.raises(InvalidInput):
        service.split(session, conversation=first, from_message_id=a, actor=actor_of(cast.agent))
    new = service.split(session, conversation=first, from_message_id=b, actor=actor_of(cast.agent))
    assert {conversation_of(session, cast, m).id for m in (b, c)} == {new.id}
    assert (first.message_count, new.message_count) == (1, 2)


def test_the_inbox_search_finds_a_cyrillic_name_in_any_case(session: Session, cast: Cast) -> None:
    widget = make_channel(session, cast)
    [m] = store(session, cast, widget, customer("m1", "Добрый день", name="Мария Ёлкина"))
    number = conversation_of(session, cast, m).number
    for q in ("мария", "ЁЛКИНА", "Мария Ё"):
        found, _ = listing.list_conversations(
            session, workspace_id=cast.a.id, query=listing.InboxQuery(q=q), user_id=None
        )
        assert [c.number for c in found] == [number], q
