"""Advocacy from the database: histories built through the real services (ingest, inbox
threading, events, survey answers) come out as the engagement model and the two lists say,
with their reasons, on the page too — and never across workspaces."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.advocacy import service
from h2h.advocacy.engagement import ActivityKind, Level
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.feedback import invites
from h2h.feedback import service as feedback
from h2h.feedback.models import SurveyKind
from h2h.inbox import service as inbox
from h2h.inbox import threading
from h2h.inbox.models import State
from h2h.nlp.models import Analysis, Sentiment
from h2h.people import events
from h2h.people import service as people
from h2h.people.models import Event, Identity, Order, Person
from h2h.problems import service as problems
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind
from tests.conftest import Cast, login
from tests.inbox.conftest import actor_of, customer, make_channel

NOW = utcnow()
_numbers = iter(range(1, 10**6))


def say(
    session: Session,
    workspace_id: uuid.UUID,
    channel: Channel,
    text: str,
    *,
    at: datetime,
    handle: str,
    name: str,
    followers: int | None = None,
) -> uuid.UUID:
    """A customer message at ``at``, threaded into the inbox as it was then."""
    item = customer(
        f"m-{next(_numbers)}", text, handle=handle, name=name, at=at, followers=followers
    )
    [message_id] = ingest.store(
        session, workspace_id=workspace_id, channel_id=channel.id, items=[item]
    ).inserted
    threading.thread_messages(
        session, workspace_id=workspace_id, message_ids=[message_id], now=at + timedelta(hours=1)
    )
    session.flush()
    return message_id


def person_of(session: Session, workspace_id: uuid.UUID, message_id: uuid.UUID) -> Person:
    message = channels.get_message(session, workspace_id=workspace_id, message_id=message_id)
    assert message.identity_id is not None
    return people.persons_by_identity(
        session, workspace_id=workspace_id, identity_ids=[message.identity_id]
    )[message.identity_id]


def answer(session: Session, survey: Any, person: Person, score: int, *, at: datetime) -> None:
    invite, _ = invites.new_invite(session, survey, person, channel_id=None, sent_by=None, now=at)
    session.flush()
    feedback.submit(session, invite=invite, score=str(score), now=at)
    session.flush()


def survey_of(session: Session, cast: Cast, kind: SurveyKind) -> Any:
    return feedback.create_survey(
        session, workspace_id=cast.a.id, actor=accounts.SYSTEM, kind=kind, name=kind.value
    )


def steady_customer(session: Session, cast: Cast, channel: Channel) -> Person:
    """Ten months of conversations (a question and a follow-up, then resolved by us), an
    order a month and a CSAT 5."""
    first = None
    for month in reversed(range(10)):
        at = NOW - timedelta(days=30 * month + 5)
        first = say(
            session,
            cast.a.id,
            channel,
            "Здравствуйте, вопрос по заказу",
            at=at,
            handle="steady@example.com",
            name="Степан Постоянный",
        )
        say(
            session,
            cast.a.id,
            channel,
            "И ещё: доставка в субботу возможна?",
            at=at + timedelta(minutes=10),
            handle="steady@example.com",
            name="Степан Постоянный",
        )
        conversation = inbox.conversation_of(session, workspace_id=cast.a.id, message_id=first)
        assert conversation is not None
        inbox.change_state(session, conversation, State.RESOLVED, at=at + timedelta(hours=2))
    assert first is not None
    person = person_of(session, cast.a.id, first)
    (identity_id,) = people.identity_ids(session, workspace_id=cast.a.id, person_id=person.id)
    for month in range(10):
        session.add(
            Order(
                workspace_id=cast.a.id,
                external_id=f"INV-{month}",
                identity_id=identity_id,
                placed_at=NOW - timedelta(days=30 * month + 3),
                total=150_000,
            )
        )
    answer(
        session, survey_of(session, cast, SurveyKind.CSAT), person, 5, at=NOW - timedelta(days=4)
    )
    return person


def giveaway_liker(session: Session, workspace_id: uuid.UUID) -> Person:
    """Thirty likes tagged with the giveaway within a week two months ago, then an unfollow."""
    start = NOW - timedelta(days=60)
    who = {"kind": "email", "value": "liker@example.com", "name": "Лиза Лайкова"}
    items: list[dict[str, Any]] = [
        {
            "name": "app.like",
            "occurred_at": (start + timedelta(hours=5 * i)).isoformat(),
            "identity": who,
            "properties": {"campaign": "giveaway", "post": i},
        }
        for i in range(30)
    ]
    items.append(
        {
            "name": "App.Unfollow",
            "occurred_at": (start + timedelta(days=9)).isoformat(),
            "identity": who,
        }
    )
    outcome = events.record(session, workspace_id=workspace_id, items=items)
    assert (outcome.accepted, outcome.errors) == (31, [])
    session.flush()
    identity_id = session.scalars(
        select(Event.identity_id).where(Event.workspace_id == workspace_id).limit(1)
    ).one()
    assert identity_id is not None
    return people.persons_by_identity(
        session, workspace_id=workspace_id, identity_ids=[identity_id]
    )[identity_id]


def promoter(session: Session, cast: Cast, channel: Channel) -> Person:
    message = say(
        session,
        cast.a.id,
        channel,
        "Добрый день",
        at=NOW - timedelta(days=20),
        handle="fan@example.com",
        name="Пётр Промоутеров",
    )
    person = person_of(session, cast.a.id, message)
    answer(
        session, survey_of(session, cast, SurveyKind.NPS), person, 10, at=NOW - timedelta(days=2)
    )
    return person


def unhappy_loud(session: Session, cast: Cast, channel: Channel) -> tuple[Person, uuid.UUID]:
    """An author with 50,000 followers, angry twice lately, whose conversation is open."""
    first = say(
        session,
        cast.a.id,
        channel,
        "Ужасный сервис, заказ потеряли, деньги не вернули. Больше никогда!",
        at=NOW - timedelta(days=3),
        handle="loud@example.com",
        name="Громкий Блогер",
        followers=50_000,
    )
    say(
        session,
        cast.a.id,
        channel,
        "Отвратительно! Третий день никто не отвечает, позор",
        at=NOW - timedelta(days=1),
        handle="loud@example.com",
        name="Громкий Блогер",
        followers=50_000,
    )
    return person_of(session, cast.a.id, first), first


def test_a_steady_customer_is_deep_and_a_giveaway_liker_is_one_off_and_flagged(
    session: Session, cast: Cast
) -> None:
    channel = make_channel(session, cast)
    steady = steady_customer(session, cast, channel)
    liker = giveaway_liker(session, cast.a.id)
    found = service.engagement_of(session, workspace_id=cast.a.id, now=NOW)
    assert found[steady.id].level is Level.DEEP
    assert found[steady.id].active_periods == 10
    counts = {r.msgid: r.params.get("count") for r in found[steady.id].reasons}
    assert counts["Conversations started: {count}"] == 10
    assert counts["Replies: {count}"] == 10
    assert counts["Purchases: {count}"] == 10
    assert counts["Survey answers: {count}"] == 1
    assert not found[steady.id].promotion_driven
    assert found[liker.id].level is Level.ONE_OFF
    assert found[liker.id].promotion_driven
    assert found[liker.id].discounted == 30
    texts = [r.text() for r in found[liker.id].reasons]
    assert "Interactions only around the promotion giveaway (30), then unfollowed" in texts


def test_events_are_read_by_name_whatever_the_prefix_or_case() -> None:
    assert service.event_kind("app.like") is ActivityKind.LIKE
    assert service.event_kind("Custom.Giveaway-Entry") is ActivityKind.CAMPAIGN_ENTRY
    assert service.event_kind("unsubscribe") is ActivityKind.UNFOLLOW
    assert service.event_kind("page_view") is None


def test_a_promoter_is_on_the_advocates_board_with_reasons(session: Session, cast: Cast) -> None:
    channel = make_channel(session, cast)
    fan = promoter(session, cast, channel)
    board = service.boards(session, workspace_id=cast.a.id, now=NOW)
    [(person, standing)] = board.advocates
    assert person.id == fan.id and standing.advocate_score > 0
    texts = [r.text() for r in standing.reasons]
    assert texts[0] == "Advocate: a promoter who is not unhappy"
    assert "Promoter: answered 10 to the NPS question" in texts
    assert board.at_risk == []


def test_an_unhappy_widely_heard_author_with_an_open_conversation_is_at_risk(
    session: Session, cast: Cast
) -> None:
    channel = make_channel(session, cast)
    loud, message_id = unhappy_loud(session, cast, channel)
    fan = promoter(session, cast, channel)
    answer(session, survey_of(session, cast, SurveyKind.CSAT), loud, 1, at=NOW - timedelta(hours=2))
    found = service.person_standing(session, workspace_id=cast.a.id, person_id=loud.id, now=NOW)
    assert found.voice.followers == 50_000
    assert found.voice.csat == 1 and found.voice.nps is None
    assert found.voice.open_issues == 1  # their conversation, open: they wait for us
    analysis = session.scalars(select(Analysis).where(Analysis.message_id == message_id)).one()
    signs = {Sentiment.NEGATIVE: -1, Sentiment.NEUTRAL: 0, Sentiment.POSITIVE: 1}
    [first, *_] = sorted(found.voice.sentiment)
    assert first[1] == signs[analysis.sentiment] * analysis.sentiment_score
    board = service.boards(session, workspace_id=cast.a.id, now=NOW)
    assert [p.id for p, _ in board.at_risk] == [loud.id]
    assert [p.id for p, _ in board.advocates] == [fan.id]
    texts = [r.text() for r in board.at_risk[0][1].reasons]
    assert texts[0] == "At risk: unhappy, widely heard and with open issues"
    assert "Unhappy in the latest CSAT answer: 1" in texts


def test_open_issues_are_open_conversations_and_open_problems_they_complained_in(
    session: Session, cast: Cast
) -> None:
    channel = make_channel(session, cast)
    loud, message_id = unhappy_loud(session, cast, channel)
    agent = actor_of(cast.agent)
    problem = problems.create(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        title="Потерянные заказы",
        message_ids=[message_id],
    )
    session.flush()

    def issues() -> int:
        found = service.person_standing(session, workspace_id=cast.a.id, person_id=loud.id, now=NOW)
        return found.voice.open_issues

    assert issues() == 2
    problems.decline(session, problem=problem, actor=agent, reason="Не наша доставка")
    session.flush()
    assert issues() == 1
    conversation = inbox.conversation_of(session, workspace_id=cast.a.id, message_id=message_id)
    assert conversation is not None
    inbox.change_state(session, conversation, State.RESOLVED)
    session.flush()
    assert issues() == 0


def test_public_posts_count_with_their_subjects_and_the_answers_of_others(
    session: Session, cast: Cast
) -> None:
    subjects.create_subject(
        session, workspace_id=cast.a.id, actor=actor_of(cast.admin), kind=SubjectKind.BRAND,
        name="Альфа", query="альфа",
    )  # fmt: skip
    feed = make_channel(session, cast, ChannelKind.RSS, config={"url": "https://example.com/rss"})
    blogger: dict[str, Any] = {"handle": "blogger", "name": "Блогер Бложкин", "followers": 2_000}
    posts = [
        customer("p1", "Зашёл в Альфа, кофе отличный", at=NOW - timedelta(days=3), **blogger),
        customer("p2", "В Альфа опять новая выпечка", at=NOW - timedelta(days=2), **blogger),
        customer("p3", "Погода сегодня чудесная", at=NOW - timedelta(days=1), **blogger),
        customer("p4", "Согласен!", parent_id="p1", handle="reader", name="Читатель"),
        customer("p5", "И капучино там тоже", parent_id="p1", **blogger),  # their own: no echo
    ]
    ingest.store(session, workspace_id=cast.a.id, channel_id=feed.id, items=posts)
    session.flush()
    identity = session.scalars(
        select(Identity).where(Identity.workspace_id == cast.a.id, Identity.value == "blogger")
    ).one()
    found = service.person_standing(
        session, workspace_id=cast.a.id, person_id=identity.person_id, now=NOW
    )
    voice = found.voice
    assert (voice.posts, voice.relevant_posts, voice.replies_received) == (4, 2, 1)
    assert voice.followers == 2_000
    assert found.engagement.level is Level.ONE_OFF  # mentions are interactions, not choices
    assert len(voice.sentiment) == 4


def test_the_page_shows_both_lists_and_the_levels_to_a_member(
    client: TestClient, session: Session, cast: Cast
) -> None:
    channel = make_channel(session, cast)
    steady_customer(session, cast, channel)
    giveaway_liker(session, cast.a.id)
    promoter(session, cast, channel)
    loud, _ = unhappy_loud(session, cast, channel)
    answer(session, survey_of(session, cast, SurveyKind.NPS), loud, 2, at=NOW - timedelta(hours=2))
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/feedback/advocates")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="tab-advocates"' in html
    assert "Пётр Промоутеров" in html and "Advocate: a promoter who is not unhappy" in html
    assert "Громкий Блогер" in html and "Detractor: answered 2 to the NPS question" in html
    assert "Interaction is not engagement" in html
    assert "Flagged as promotion-driven: 1 of 4 people." in html
    deep = html.split('data-testid="level-deep"')[1].split("</tr>")[0]
    assert "<td>1</td>" in deep
    russian = client.get("/w/alpha/feedback/advocates", headers={"accept-language": "ru"})
    assert russian.status_code == 200
    assert '<html lang="ru">' in russian.text and "Отзывы" in russian.text
    assert "Пётр Промоутеров" in russian.text


def test_another_workspaces_people_never_appear(
    client: TestClient, session: Session, cast: Cast
) -> None:
    theirs = channels_in(session, cast.b.id)
    message = say(
        session,
        cast.b.id,
        theirs,
        "Отличный кофе!",
        at=NOW - timedelta(days=1),
        handle="other@example.com",
        name="Чужой Клиент",
    )
    stranger = person_of(session, cast.b.id, message)
    giveaway_liker(session, cast.b.id)
    nps = feedback.create_survey(
        session, workspace_id=cast.b.id, actor=accounts.SYSTEM, kind="nps", name="b"
    )
    answer(session, nps, stranger, 10, at=NOW - timedelta(hours=1))
    fan = promoter(session, cast, make_channel(session, cast))
    session.commit()
    mine = service.engagement_of(session, workspace_id=cast.a.id, now=NOW)
    assert set(mine) == {fan.id}
    board = service.boards(session, workspace_id=cast.a.id, now=NOW)
    assert [p.id for p, _ in board.advocates] == [fan.id] and board.people == 1
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/feedback/advocates")
    assert page.status_code == 200 and "Чужой Клиент" not in page.text
    login(client, cast.outsider.user.email)
    assert client.get("/w/alpha/feedback/advocates").status_code == 404
    theirs_found = service.engagement_of(session, workspace_id=cast.b.id, now=NOW)
    assert stranger.id in theirs_found and fan.id not in theirs_found


def channels_in(session: Session, workspace_id: uuid.UUID) -> Channel:
    return channels.create_channel(
        session,
        workspace_id=workspace_id,
        actor=accounts.SYSTEM,
        kind=ChannelKind.WIDGET,
        name="widget",
        config={},
        secrets={},
    )
