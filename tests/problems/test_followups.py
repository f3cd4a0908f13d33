"""Telling affected people about a fix: a reply where they wrote, a new conversation only
with consent, nothing where they asked not to be contacted, never an unedited form letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.inbox import replies
from h2h.inbox.models import DeliveryStatus
from h2h.people import consent_records, privacy
from h2h.people import service as people
from h2h.problems import followups, service
from h2h.problems.models import FollowUpStatus, Problem
from tests.channels.fakes.telegram import ANNA, FakeTelegram
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, customer, make_channel, store


def _fixed_problem(session: Session, cast: Cast, message_ids: list[object]) -> Problem:
    agent = actor_of(cast.agent)
    problem = service.create(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        title="Не проходит оплата картой",
        message_ids=message_ids,
    )
    service.start_fixing(
        session,
        problem=problem,
        actor=agent,
        owner_id=cast.agent.user.id,
        root_cause="Истёк сертификат платёжного шлюза",
        planned_fix="Обновить сертификат",
    )
    service.mark_fixed(
        session, problem=problem, actor=agent, fix_note="обновили сертификат платёжного шлюза"
    )
    return problem


def test_each_affected_person_gets_a_draft_routed_by_the_consent_rules(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    widget = make_channel(session, cast, ChannelKind.WIDGET)
    now = utcnow() - timedelta(hours=2)
    ids = store(
        session,
        cast,
        telegram_channel,
        customer("t1", "Не проходит оплата картой!", handle="111", name="Анна", at=now),
        customer("t2", "Оплата не работает", handle="222", name="Борис", at=now, minutes=1),
    )
    ids += store(
        session,
        cast,
        widget,
        customer("w1", "Карта не принимается", handle="vera@example.com", name="Вера", at=now),
    )
    # Boris asked not to be contacted after he complained: even a reply to that older
    # message is refused.
    boris_message = channels.get_message(session, workspace_id=cast.a.id, message_id=ids[1])
    boris = people.persons_by_identity(
        session, workspace_id=cast.a.id, identity_ids=[boris_message.identity_id]
    )[boris_message.identity_id]
    consent_records.block(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        person_id=boris.id,
        channel="any",
        reason="просил не писать",
    )
    problem = _fixed_problem(session, cast, ids)
    assert followups.prepare(session, problem=problem, actor=actor_of(cast.agent)) == 3
    by_name = {f.name: f for f in followups.follow_ups(session, problem=problem)}
    assert by_name["Анна"].route == "reply" and by_name["Анна"].status is FollowUpStatus.DRAFT
    assert by_name["Борис"].status is FollowUpStatus.BLOCKED and by_name["Борис"].blocked_reason
    # Vera wrote through the site widget: H2H cannot post there and has no other address.
    assert by_name["Вера"].status is FollowUpStatus.BLOCKED
    assert "обновили сертификат" in by_name["Анна"].text  # {fix} filled in
    assert by_name["Анна"].text.startswith("Анна")  # {name}
    assert followups.prepare(session, problem=problem, actor=actor_of(cast.agent)) == 0


def test_the_default_wording_is_never_sent_and_an_edited_one_is_delivered_once(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> None:
    ids = store(
        session,
        cast,
        telegram_channel,
        customer("t1", "Не проходит оплата картой!", handle=str(ANNA["id"]), name="Анна"),
    )
    problem = _fixed_problem(session, cast, ids)
    followups.prepare(session, problem=problem, actor=actor_of(cast.agent))
    with pytest.raises(InvalidInput):
        followups.send(session, problem=problem, actor=actor_of(cast.agent))
    followups.rewrite(
        session,
        problem=problem,
        actor=actor_of(cast.agent),
        text="{name}, оплата картой снова работает: {fix}. Простите, что так вышло.",
    )
    [delivery] = followups.send(session, problem=problem, actor=actor_of(cast.agent))
    [item] = followups.follow_ups(session, problem=problem)
    assert item.status is FollowUpStatus.SENT and item.delivery_id == delivery.id
    session.commit()
    assert replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id) is (
        DeliveryStatus.SENT
    )
    [sent] = telegram.sent
    assert "оплата картой снова работает" in sent["text"]
    with pytest.raises(InvalidInput):  # nothing left to send: no second copy
        followups.send(session, problem=problem, actor=actor_of(cast.agent))


def test_bad_wording_is_refused_with_the_field(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    ids = store(session, cast, telegram_channel, customer("t1", "Оплата!", handle="111"))
    problem = _fixed_problem(session, cast, ids)
    followups.prepare(session, problem=problem, actor=actor_of(cast.agent))
    for text in ("", "{имя}, привет", "{name", "x" * 6000):
        with pytest.raises(InvalidInput) as caught:
            followups.rewrite(session, problem=problem, actor=actor_of(cast.agent), text=text)
        assert caught.value.field == "text"


def test_erasing_a_person_skips_their_draft_and_blanks_it(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    ids = store(
        session,
        cast,
        telegram_channel,
        customer("t1", "Не проходит оплата картой, Анна Петрова", handle="111", name="Анна"),
    )
    problem = _fixed_problem(session, cast, ids)
    followups.prepare(session, problem=problem, actor=actor_of(cast.agent))
    [item] = followups.follow_ups(session, problem=problem)
    assert item.person_id is not None and item.status is FollowUpStatus.DRAFT
    privacy.erase_person(
        session, workspace_id=cast.a.id, actor=actor_of(cast.owner), person_id=item.person_id
    )
    session.expire_all()
    [item] = followups.follow_ups(session, problem=problem)
    assert item.status is FollowUpStatus.SKIPPED
    assert (item.name, item.text, item.person_id) == (None, "", None)
    [complaint] = service.complaints_of(session, problem=problem)
    assert complaint.identity_id is None and complaint.vector is None
    assert problem.complaint_count == 1  # the count stays
