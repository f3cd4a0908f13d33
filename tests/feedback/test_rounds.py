"""A survey round and the public page: consent and caps decide who is asked, the personal
link is the only key, and an answer lands on the profile, in NPS and — when unhappy — with
a person in the inbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from h2h.channels.models import Channel, Message
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.feedback import invites, scores, service
from h2h.feedback.models import Invite, InviteStatus, Response, Survey, SurveyKind
from h2h.inbox import replies
from h2h.inbox import service as inbox
from h2h.inbox.models import DeliveryStatus, State
from h2h.people.models import Person
from h2h.people.timeline import SOURCES, TimelineQuery
from tests.channels.fakes.telegram import FakeTelegram
from tests.conftest import Cast
from tests.feedback.conftest import agree_to_surveys, known, token_in
from tests.inbox.conftest import actor_of


def nps(session: Session, cast: Cast) -> Survey:
    return service.create_survey(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        kind="nps",
        name="Would you recommend us?",
    )


def test_only_people_who_agreed_and_were_not_asked_lately_are_invited(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    anna, ivan, john = (known(session, cast, telegram_channel, w) for w in ("anna", "ivan", "john"))
    agree_to_surveys(session, cast, anna)
    agree_to_surveys(session, cast, john)
    survey = nps(session, cast)
    first = invites.send_round(
        session,
        survey=survey,
        actor=actor_of(cast.admin),
        person_ids=[john.id],
        channel_id=telegram_channel.id,
    )
    assert first.sent == 1
    outcome = invites.send_round(
        session,
        survey=survey,
        actor=actor_of(cast.admin),
        person_ids=[anna.id, ivan.id, john.id],
        channel_id=telegram_channel.id,
    )
    assert (outcome.sent, outcome.capped, dict(outcome.refused)) == (1, 1, {"no_consent": 1})
    invited = session.scalars(
        select(Invite.person_id).where(Invite.workspace_id == cast.a.id)
    ).all()
    assert sorted(map(str, invited)) == sorted(
        [str(john.id), str(anna.id)]
    )  # nobody twice, ivan never
    [delivery] = outcome.deliveries
    assert delivery.author_id == cast.admin.user.id  # from a named person
    assert "http://testserver/f/" in delivery.text


def test_a_round_needs_the_public_address_and_an_admin(
    session: Session, cast: Cast, telegram_channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = known(session, cast, telegram_channel, "anna")
    survey = nps(session, cast)
    with pytest.raises(Exception, match="role"):
        invites.send_round(
            session,
            survey=survey,
            actor=actor_of(cast.agent),
            person_ids=[anna.id],
            channel_id=telegram_channel.id,
        )
    monkeypatch.setattr(invites, "app_settings", lambda: type("S", (), {"public_url": ""})())
    with pytest.raises(InvalidInput) as refused:
        invites.send_round(
            session,
            survey=survey,
            actor=actor_of(cast.admin),
            person_ids=[anna.id],
            channel_id=telegram_channel.id,
        )
    assert "H2H_PUBLIC_URL" in refused.value.message


def _invited(
    session: Session,
    cast: Cast,
    channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
) -> tuple[Person, str]:
    anna = known(session, cast, channel, "anna")
    anna.owner_id = cast.admin.user.id  # her relationship owner
    agree_to_surveys(session, cast, anna)
    outcome = invites.send_round(
        session,
        survey=nps(session, cast),
        actor=actor_of(cast.admin),
        person_ids=[anna.id],
        channel_id=channel.id,
    )
    session.commit()
    [delivery] = outcome.deliveries
    assert (
        replies.deliver(factory, workspace_id=cast.a.id, delivery_id=delivery.id)
        is DeliveryStatus.SENT
    )
    [sent] = telegram.sent
    session.expire_all()
    return anna, token_in(sent["text"])


def test_an_unhappy_answer_lands_everywhere_and_gets_a_person(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    anna, token = _invited(session, cast, telegram_channel, telegram, factory)
    page = client.get(f"/f/{token}", headers={"accept-language": "ru"})
    assert page.status_code == 200
    assert "Насколько вероятно" in page.text and 'name="score"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    said = "<script>alert(1)</script> Кофе привезли холодным, третий раз"
    answer = client.post(
        f"/f/{token}", data={"score": "3", "comment": said}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/f/{token}?saved=true"
    shown = client.get(f"/f/{token}?saved=true", headers={"accept-language": "ru"}).text
    assert "<script>alert" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown

    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.score, response.comment, response.person_id) == (3, said, anna.id)
    message = session.get(Message, (cast.a.id, response.message_id))
    assert message is not None and "Кофе привезли холодным" in message.text
    conversation = inbox.get_conversation(
        session, workspace_id=cast.a.id, conversation_id=response.conversation_id
    )
    invite = session.scalars(select(Invite)).one()
    assert conversation.id == invite.conversation_id  # threaded under the invitation
    assert conversation.state is State.OPEN and conversation.owner_id == cast.admin.user.id
    assert invite.status is InviteStatus.ANSWERED

    items = SOURCES["survey"](session, TimelineQuery(cast.a.id, anna.id, [], None, 10))
    assert [(i.data["score"], i.body) for i in items] == [(3, said)]
    found = scores.summary(
        session,
        workspace_id=cast.a.id,
        kind=SurveyKind.NPS,
        since=utcnow() - timedelta(days=1),
        until=utcnow() + timedelta(minutes=1),
    )
    assert (found.n, found.value, found.bad) == (1, -100.0, 1)


def test_answering_again_changes_the_answer_and_stores_one(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    _anna, token = _invited(session, cast, telegram_channel, telegram, factory)
    for score in ("9", "9", "10"):
        assert (
            client.post(f"/f/{token}", data={"score": score}, follow_redirects=False).status_code
            == 303
        )
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    assert session.scalars(select(Response.score)).one() == 10
    # A promoter's plain score is not a message: nothing for NLP, no conversation reopened.
    assert session.scalars(select(Response.message_id)).one() is None


def test_one_tap_from_the_message_preselects_and_autosubmits_the_score(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    _anna, token = _invited(session, cast, telegram_channel, telegram, factory)
    page = client.get(f"/f/{token}?score=9").text
    assert "data-autosubmit" in page and re.search(r'value="9" required checked', page)
    client.post(f"/f/{token}", data={"score": "9"})
    assert "data-autosubmit" not in client.get(f"/f/{token}?score=2").text  # never overwrites


@pytest.mark.parametrize(
    "token",
    ["x" * 32, "short", "../../etc/passwd", "a" * 100, "%00" * 10],
)
def test_a_tampered_link_is_not_found(client: TestClient, token: str) -> None:
    page = client.get(f"/f/{token}")
    assert page.status_code in (400, 404, 422)  # 400: the app refuses NUL in any URL
    assert client.post(f"/f/{token}", data={"score": "10"}).status_code in (400, 404, 422)


def test_bad_answers_are_refused_with_the_reason_and_keep_what_was_typed(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    _anna, token = _invited(session, cast, telegram_channel, telegram, factory)
    for score in ("11", "-1", "abc", ""):
        page = client.post(f"/f/{token}", data={"score": score, "comment": "почему-то"})
        assert page.status_code == 422 and "почему-то" in page.text
    huge = client.post(f"/f/{token}", data={"score": "5", "comment": "я" * 6000})
    assert huge.status_code == 422
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_an_expired_link_says_so_and_takes_no_answer(
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
    factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    _anna, token = _invited(session, cast, telegram_channel, telegram, factory)
    invite = session.scalars(select(Invite)).one()
    invite.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert "expired" in client.get(f"/f/{token}").text
    assert client.post(f"/f/{token}", data={"score": "7"}).status_code == 422
    assert service.expire_links(session) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Response)) == 0
