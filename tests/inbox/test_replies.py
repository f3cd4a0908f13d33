"""Replies go out through the customer's own channel, once, signed by a named person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels.connectors.base import ChannelKind, get_connector
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.errors import InvalidInput, PermissionDenied
from h2h.inbox import replies, service, templates
from h2h.inbox.models import Conversation, Delivery, DeliveryStatus, Notification, State
from h2h.people import consent_records
from h2h.people import service as people
from tests.channels.fakes.telegram import ANNA, FakeTelegram, private_chat
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store


def from_telegram(
    session: Session, cast: Cast, channel: Channel, telegram: FakeTelegram, text: str
) -> Conversation:
    telegram.post(private_chat(ANNA), ANNA, text)
    fetched = get_connector(ChannelKind.TELEGRAM).fetch(channel.config, channel.secrets, None)
    [message_id] = store(session, cast, channel, *fetched.items)
    return conversation_of(session, cast, message_id)


def reply(session: Session, cast: Cast, conversation: Conversation, text: str) -> Delivery:
    delivery = replies.compose(
        session, conversation=conversation, actor=actor_of(cast.agent), text=text
    )
    session.commit()  # the delivery job runs in its own transaction, after the request's
    return delivery


def refreshed(session: Session, row: object) -> None:
    session.expire_all()
    session.refresh(row)


def test_a_reply_reaches_the_chat_threaded_and_signed_and_the_clock_stops(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    conversation = from_telegram(session, cast, telegram_channel, telegram, "Где мой заказ?")
    assert conversation.first_response_due is not None
    delivery = reply(session, cast, conversation, "Анна, заказ уже у курьера, будет к 18:00.")
    assert delivery.status is DeliveryStatus.QUEUED
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.SENT
    )
    [sent] = telegram.sent
    assert str(sent["chat_id"]) == str(ANNA["id"])
    assert sent["text"].startswith("Анна, заказ уже у курьера")
    assert sent["text"].endswith(f"— {cast.agent.user.name}, {cast.a.name}")
    assert "reply_parameters" in sent or "reply_to_message_id" in sent
    refreshed(session, conversation)
    assert conversation.state is State.PENDING
    assert conversation.first_response_at is not None
    assert conversation.first_response_due is None and conversation.next_response_due is None
    assert conversation.message_count == 2  # the reply is in the conversation as our message
    refreshed(session, delivery)
    assert delivery.message_id is not None and delivery.external_id


def test_a_failed_attempt_is_retried_without_sending_twice(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    conversation = from_telegram(session, cast, telegram_channel, telegram, "Не проходит оплата")
    delivery = reply(session, cast, conversation, "Проверяю платёж, минуту")
    telegram.failures.push("server")
    status = replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id)
    assert status is DeliveryStatus.QUEUED
    refreshed(session, delivery)
    assert delivery.attempts == 1 and "502" in (delivery.last_error or "")
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > utcnow()
    assert telegram.sent == []
    # Not due yet; then due: the retry job sends it, and only once however often it runs.
    assert (cast.a.id, delivery.id) not in replies.due(session)
    later = utcnow() + timedelta(hours=2)
    assert (cast.a.id, delivery.id) in replies.due(session, now=later)
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.SENT
    )
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is None
    assert len(telegram.sent) == 1
    refreshed(session, delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.SENT,
        2,
        None,
    )


def test_a_claim_left_by_a_dead_worker_fails_visibly_instead_of_sending_again(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    conversation = from_telegram(session, cast, telegram_channel, telegram, "Здравствуйте")
    delivery = reply(session, cast, conversation, "Добрый день!")
    delivery.status = DeliveryStatus.SENDING  # a worker claimed it and died mid-send
    delivery.claimed_at = utcnow() - replies.STALE_CLAIM - timedelta(minutes=1)
    session.commit()
    assert replies.due(session) == []
    session.commit()
    refreshed(session, delivery)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == replies.UNKNOWN_OUTCOME
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is None
    assert telegram.sent == []
    replies.retry(session, delivery=delivery, actor=actor_of(cast.agent))  # a human decides
    session.commit()
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.SENT
    )
    assert len(telegram.sent) == 1


def test_a_permanent_failure_is_shown_and_the_author_told(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    conversation = from_telegram(session, cast, telegram_channel, telegram, "Алло")
    delivery = reply(session, cast, conversation, "Слушаю вас")
    telegram.token = "123456789:AAH-revoked-by-BotFather"
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.FAILED
    )
    refreshed(session, conversation)
    assert conversation.first_response_at is None  # the customer got nothing: the clock runs
    kinds = session.scalars(
        select(Notification.kind).where(Notification.user_id == cast.agent.user.id)
    ).all()
    assert "reply_failed" in kinds


def test_a_person_who_asked_not_to_be_contacted_is_not_messaged(
    session: Session, cast: Cast, telegram_channel: Channel, telegram: FakeTelegram
) -> None:
    conversation = from_telegram(session, cast, telegram_channel, telegram, "Вопрос")
    [person] = people.persons_by_identity(
        session, workspace_id=cast.a.id, identity_ids=[conversation.identity_id]
    ).values()
    consent_records.block(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        person_id=person.id,
        channel="any",
        reason="asked by phone",
    )
    with pytest.raises(replies.ConsentRefused):
        replies.compose(session, conversation=conversation, actor=actor_of(cast.agent), text="Hi")
    assert replies.deliveries_of(session, conversation=conversation) == []
    # Writing to us again after the block asks for an answer: a direct reply is allowed.
    telegram.clock = int(utcnow().timestamp())
    later = from_telegram(session, cast, telegram_channel, telegram, "Ответьте, пожалуйста")
    assert later.id == conversation.id
    assert replies.compose(
        session, conversation=conversation, actor=actor_of(cast.agent), text="Отвечаю"
    )


def test_an_unedited_template_is_refused_and_an_edited_one_goes(
    session: Session, cast: Cast, telegram_channel: Channel, telegram: FakeTelegram
) -> None:
    conversation = from_telegram(session, cast, telegram_channel, telegram, "Сколько стоит?")
    template = templates.save_template(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        name="Цена",
        body="{name}, добрый день! Цены на сайте. {agent_first}",
    )
    agent = actor_of(cast.agent)
    text = templates.render(
        session, conversation=conversation, template=template, agent=cast.agent.user
    )
    assert text.startswith("Анна, добрый день!")
    with pytest.raises(InvalidInput):
        replies.compose(
            session, conversation=conversation, actor=agent, text=text, template_id=template.id
        )
    edited = text.replace("Цены на сайте.", "Капучино стоит 250 ₽.")
    delivery = replies.compose(
        session, conversation=conversation, actor=agent, text=edited, template_id=template.id
    )
    assert delivery.text == edited


def test_a_reply_elsewhere_is_recorded_with_its_link_and_stops_the_clock(
    session: Session, cast: Cast
) -> None:
    reviews = make_channel(session, cast, ChannelKind.OFFLINE)
    [m] = store(session, cast, reviews, customer("r1", "Ужасный сервис, официант хамил"))
    conversation = conversation_of(session, cast, m)
    assert not replies.can_send(session, conversation)
    with pytest.raises(InvalidInput):
        replies.compose(
            session,
            conversation=conversation,
            actor=actor_of(cast.agent),
            text="Извинились лично",
            link="javascript:alert(1)",
        )
    delivery = replies.compose(
        session,
        conversation=conversation,
        actor=actor_of(cast.agent),
        text="Извинились лично, пригласили снова",
        link="https://maps.example/review/1#reply",
    )
    assert delivery.status is DeliveryStatus.RECORDED
    assert conversation.first_response_at is not None
    assert conversation.state is State.PENDING


def test_only_a_named_person_replies(session: Session, cast: Cast) -> None:
    widget = make_channel(session, cast, ChannelKind.OFFLINE)
    [m] = store(session, cast, widget, customer("m1", "Вопрос"))
    conversation = conversation_of(session, cast, m)
    from h2h.accounts import service as accounts

    with pytest.raises(PermissionDenied):
        replies.compose(session, conversation=conversation, actor=accounts.SYSTEM, text="Ответ")
    with pytest.raises(PermissionDenied):
        replies.compose(
            session, conversation=conversation, actor=actor_of(cast.viewer), text="Ответ"
        )
    with pytest.raises(InvalidInput):
        replies.compose(session, conversation=conversation, actor=actor_of(cast.agent), text="  ")
    assert service.history(session, conversation=conversation)[-1].kind != "reply"
