"""Messages we start are not replies: they go out only where consent allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.inbox import outreach, replies
from h2h.inbox.models import DeliveryStatus, State
from h2h.people import consent_records
from h2h.people import service as people
from h2h.people.models import ConsentPurpose, Person
from tests.channels.fakes.telegram import ANNA, FakeTelegram
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store


def anna(session: Session, cast: Cast, channel: Channel, *, days_ago: int) -> Person:
    """Anna, known from a Telegram message she wrote ``days_ago`` days ago."""
    at = utcnow() - timedelta(days=days_ago)
    [m] = store(session, cast, channel, customer("m1", "Спасибо!", handle=str(ANNA["id"]), at=at))
    message = channels.get_message(session, workspace_id=cast.a.id, message_id=m)
    assert message.identity_id is not None
    found = people.persons_by_identity(
        session, workspace_id=cast.a.id, identity_ids=[message.identity_id]
    )
    return found[message.identity_id]


def start(session: Session, cast: Cast, person: Person, channel: Channel, **kw: object) -> object:
    return outreach.start_conversation(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        person_id=person.id,
        channel_id=channel.id,
        text="Анна, мы починили оплату картой — попробуйте ещё раз?",
        **kw,
    )


def test_without_consent_only_a_recent_customer_hears_from_us_and_never_marketing(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    person = anna(session, cast, telegram_channel, days_ago=60)
    with pytest.raises(replies.ConsentRefused):
        start(session, cast, person, telegram_channel)  # no message from her for 60 days
    with pytest.raises(replies.ConsentRefused):
        start(session, cast, person, telegram_channel, purpose=ConsentPurpose.MARKETING)
    consent_records.record_consent(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        person_id=person.id,
        channel="telegram",
        purpose=ConsentPurpose.SERVICE,
        source="asked in the shop",
    )
    assert start(session, cast, person, telegram_channel) is not None
    with pytest.raises(replies.ConsentRefused):
        start(session, cast, person, telegram_channel, purpose=ConsentPurpose.MARKETING)


def test_a_started_conversation_is_delivered_and_the_answer_threads_into_it(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    person = anna(session, cast, telegram_channel, days_ago=3)
    delivery = start(session, cast, person, telegram_channel)
    session.commit()
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.SENT
    )
    [sent] = telegram.sent
    assert str(sent["chat_id"]) == str(ANNA["id"])
    assert "reply_parameters" not in sent and "reply_to_message_id" not in sent
    session.expire_all()
    [answer] = store(
        session,
        cast,
        telegram_channel,
        customer("m2", "Да, всё прошло, спасибо!", handle=str(ANNA["id"]), at=utcnow()),
    )
    conversation = conversation_of(session, cast, answer)
    assert conversation.id == delivery.conversation_id
    assert conversation.state is State.OPEN
    assert conversation.owner_id == cast.agent.user.id


def test_a_channel_without_the_persons_address_is_refused(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    person = anna(session, cast, telegram_channel, days_ago=1)
    mail = make_channel(
        session,
        cast,
        kind=ChannelKind.EMAIL,
        config={
            "imap_host": "imap.example",
            "smtp_host": "smtp.example",
            "from_address": "us@example.com",
        },
        secrets={"username": "u", "password": "p"},
    )
    with pytest.raises(InvalidInput):
        start(session, cast, person, mail)
