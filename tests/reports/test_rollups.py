"""The dashboard's counts against direct counts of the raw rows: before any rollup, after a
refresh, with rows that arrive between two refreshes, with late analyses, corrections and
back-dated imports, and after deletions (which only a rebuild sees)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.nlp import service as nlp
from h2h.nlp.models import Analysis, AnalysisAspect, CorrectionField
from h2h.reports import dashboard, rollups
from h2h.reports.models import MessageHour
from h2h.subjects import service as subjects
from h2h.subjects.models import Mention, SubjectKind
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, make_channel, store

ZONE = ZoneInfo("Europe/Moscow")
TEXTS = [
    "Кофейня Зерно — лучший капучино в городе, спасибо бариста!",
    "В Зерне опять полчаса ждали заказ, ужасное обслуживание",
    "Зерно или Бобы — где вкуснее?",
    "Бобы снова подняли цены, очень дорого",
    "Заказал доставку из Зерна, курьер опоздал на час, кофе холодный",
    "Thank you Zerno, the staff were lovely and the cake was great",
    "Какой у вас график работы в праздники?",
]


WORDS = (  # noqa: SIM905 - a sentence reads better than thirty quoted words
    "утром вечером вчера сегодня снова впервые опять наконец филиал центр север юг запад "
    "восток метро парк вокзал офис дома работа друзья семья коллеги дети мама папа сестра "
    "брат соседи"
).split()


def _text(n: int) -> str:
    """A base text with a tail of its own, so near-duplicate detection keeps them apart."""
    tail = " ".join(random.Random(n).sample(WORDS, 12))  # noqa: S311 - test texts
    return f"{TEXTS[n % len(TEXTS)]} {tail} {n}"


def _raw(n: int, at: datetime, *, url: bool = False, out: bool = False) -> RawMessage:
    return RawMessage(
        f"m-{uuid.uuid4().hex[:10]}",
        _text(n),
        at,
        Author(f"c{n % 5}@example.com", f"Клиент {n % 5}"),
        direction=Direction.OUTBOUND if out else Direction.INBOUND,
        url=f"https://reviews.example/{n}" if url else None,
    )


@pytest.fixture
def world(session: Session, cast: Cast) -> dict[str, Any]:
    """Two channels and two subjects in workspace A, messages over the last ten days, an
    outbound reply and a repeated text (a duplicate) that are not counted, and workspace B's
    messages that must not leak in."""
    admin = actor_of(cast.owner)
    brand = subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=admin,
        kind=SubjectKind.BRAND,
        name="Зерно",
        query="Зерно OR Зерна OR Зерне OR Zerno",
    )
    rival = subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=admin,
        kind=SubjectKind.COMPETITOR,
        name="Бобы",
        query="Бобы",
    )
    mail = make_channel(session, cast, ChannelKind.WIDGET, name="Site chat")
    reviews = make_channel(session, cast, ChannelKind.FILE, name="Reviews")
    now = utcnow()
    items_mail = [_raw(i, now - timedelta(days=i % 10, hours=i % 7)) for i in range(40)]
    items_mail.append(_raw(99, now - timedelta(hours=2), out=True))
    items_reviews = [
        _raw(100 + i, now - timedelta(days=i % 9, hours=3), url=True) for i in range(20)
    ]
    store(session, cast, mail, *items_mail)
    store(session, cast, reviews, *items_reviews)
    # The same review again under another id: stored as a duplicate, counted once.
    store(
        session,
        cast,
        reviews,
        RawMessage("dup-1", items_reviews[0].text, now, items_reviews[0].author),
    )
    other = channels.create_channel(
        session,
        workspace_id=cast.b.id,
        actor=accounts.SYSTEM,
        kind=ChannelKind.WIDGET,
        name="B mail",
        config={},
        secrets={},
    )
    ingest.store(
        session,
        workspace_id=cast.b.id,
        channel_id=other.id,
        items=[_raw(i, now - timedelta(days=i % 5)) for i in range(15)],
    )
    session.flush()
    return {"brand": brand, "rival": rival, "mail": mail, "reviews": reviews}


def _direct(session: Session, workspace_id: uuid.UUID, span: dashboard.Period) -> dict[str, Any]:
    """Counts straight from messages, analyses, mentions and aspects, day by local day."""
    rows = session.execute(
        select(Message.created_at, Message.channel_id, Message.url, Analysis.sentiment)
        .outerjoin(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == "in",
            Message.duplicate_of_id.is_(None),
            Message.created_at >= span.since,
            Message.created_at < span.until,
        )
    ).all()
    days: Counter[date] = Counter()
    sentiments: Counter[str] = Counter()
    channels: Counter[uuid.UUID] = Counter()
    public = 0
    for created, channel_id, url, sentiment in rows:
        days[created.astimezone(span.zone).date()] += 1
        sentiments[str(sentiment.value) if sentiment else ""] += 1
        channels[channel_id] += 1
        public += url is not None
    mentions = {
        subject_id: n
        for subject_id, n in _per_message(session, workspace_id, span, Mention, Mention.subject_id)
    }
    aspects = {
        (aspect, str(sentiment.value)): n
        for aspect, sentiment, n in _per_message(
            session, workspace_id, span, AnalysisAspect, AnalysisAspect.aspect,
            AnalysisAspect.sentiment,
        )
    }  # fmt: skip
    return {
        "days": [days[d] for d in span.days],
        "sentiments": {k: v for k, v in sentiments.items() if v},
        "channels": dict(channels),
        "public": public,
        "mentions": mentions,
        "aspects": aspects,
    }


def _per_message(
    session: Session, workspace_id: uuid.UUID, span: dashboard.Period, model: Any, *keys: Any
) -> list[Any]:
    """Rows of ``model`` (mentions, aspects) of the counted messages, counted per ``keys``."""
    query = select(*keys, func.count()).join(
        Message, (Message.workspace_id == model.workspace_id) & (Message.id == model.message_id)
    )
    return list(
        session.execute(
            query.where(
                model.workspace_id == workspace_id,
                Message.direction == "in",
                Message.duplicate_of_id.is_(None),
                Message.created_at >= span.since,
                Message.created_at < span.until,
            ).group_by(*keys)
        ).all()
    )


def _seen(session: Session, workspace_id: uuid.UUID, span: dashboard.Period) -> dict[str, Any]:
    """The same numbers as the dashboard computes them."""
    volume = dashboard.volume(session, workspace_id=workspace_id, span=span)
    voices = dashboard.share_of_voice(session, workspace_id=workspace_id, span=span)
    rows = rollups.counts(
        session, rollups.ASPECTS, workspace_id=workspace_id, since=span.since, until=span.until
    )
    aspects: Counter[tuple[str, str]] = Counter()
    for _, aspect, sentiment, n in rows:
        aspects[(aspect, sentiment)] += n
    return {
        "days": volume.per_day(),
        "sentiments": {k: v for k, v in volume.by_sentiment.items() if v},
        "channels": volume.by_channel,
        "public": volume.public,
        "mentions": {v.subject.id: v.messages for v in voices if v.messages},
        "aspects": aspects,
    }


def _span() -> dashboard.Period:
    return dashboard.last_days(ZONE, 14)


def test_counts_match_the_raw_rows_before_any_rollup(
    session: Session, cast: Cast, world: dict[str, Any]
) -> None:
    span = _span()
    direct = _direct(session, cast.a.id, span)
    assert sum(direct["days"]) == 60  # 40 mails and 20 reviews; the reply and the duplicate not
    assert direct["public"] == 20
    assert direct["aspects"], "the texts mention service, price and delivery"
    assert rollups.state_of(session, workspace_id=cast.a.id) is None
    assert _seen(session, cast.a.id, span) == direct


def test_counts_match_after_a_refresh_and_between_refreshes(
    session: Session, cast: Cast, world: dict[str, Any]
) -> None:
    span = _span()
    assert rollups.refresh(session, workspace_id=cast.a.id) > 0  # the first run rebuilds
    rolled = session.scalar(
        select(func.sum(MessageHour.messages)).where(MessageHour.workspace_id == cast.a.id)
    )
    assert rolled == 60
    assert _seen(session, cast.a.id, span) == _direct(session, cast.a.id, span)

    # New messages after the refresh: counted from the raw rows until the next one.
    later = utcnow() + timedelta(seconds=1)
    store(session, cast, world["mail"], *[_raw(200 + i, later) for i in range(3)])
    direct = _direct(session, cast.a.id, dashboard.last_days(ZONE, 14))
    assert sum(direct["days"]) == 63
    assert _seen(session, cast.a.id, dashboard.last_days(ZONE, 14)) == direct


def test_refresh_recounts_late_analyses_corrections_and_back_dated_messages(
    session: Session, cast: Cast, world: dict[str, Any]
) -> None:
    span = _span()
    rollups.refresh(session, workspace_id=cast.a.id, now=utcnow() - timedelta(minutes=30))
    # A message from five days ago imported now, and a human's correction of a sentiment.
    old = store(session, cast, world["mail"], _raw(300, utcnow() - timedelta(days=5)))[0]
    positive = session.scalars(
        select(Analysis).where(Analysis.workspace_id == cast.a.id, Analysis.sentiment == "positive")
    ).first()
    assert positive is not None
    nlp.correct(
        session,
        workspace_id=cast.a.id,
        actor=accounts.Actor(user_id=cast.owner.user.id, role=cast.owner.membership.role),
        message_id=positive.message_id,
        field=CorrectionField.SENTIMENT,
        value="negative",
    )
    # A late analysis: drop one and analyse again (analysed now, written days ago).
    session.execute(
        delete(Analysis).where(Analysis.workspace_id == cast.a.id, Analysis.message_id == old)
    )
    nlp.analyze_messages(session, workspace_id=cast.a.id, message_ids=[old])
    session.flush()
    assert rollups.refresh(session, workspace_id=cast.a.id) >= 2
    # Everything is now rolled up (no raw tail): the rollup alone must be right.
    assert _seen(session, cast.a.id, span) == _direct(session, cast.a.id, span)


def test_deletions_need_the_nightly_rebuild(
    session: Session, cast: Cast, world: dict[str, Any]
) -> None:
    span = _span()
    rollups.refresh(session, workspace_id=cast.a.id, now=utcnow() + timedelta(hours=2))
    gone = session.scalars(
        select(Message.id)
        .where(Message.workspace_id == cast.a.id, Message.url.is_not(None))
        .limit(5)
    ).all()
    for model in (Mention, AnalysisAspect, Analysis):
        session.execute(
            delete(model).where(model.workspace_id == cast.a.id, model.message_id.in_(gone))
        )
    session.execute(delete(Message).where(Message.workspace_id == cast.a.id, Message.id.in_(gone)))
    rollups.refresh(session, workspace_id=cast.a.id, now=utcnow() + timedelta(hours=2))
    assert _seen(session, cast.a.id, span)["public"] == 20  # a refresh cannot see a deletion
    rollups.rebuild(session, workspace_id=cast.a.id, now=utcnow() + timedelta(hours=2))
    assert _seen(session, cast.a.id, span) == _direct(session, cast.a.id, span)
    assert _direct(session, cast.a.id, span)["public"] == 15


def test_a_subject_filter_counts_only_its_mentions(
    session: Session, cast: Cast, world: dict[str, Any]
) -> None:
    span = _span()
    rollups.refresh(session, workspace_id=cast.a.id)
    direct = _direct(session, cast.a.id, span)["mentions"]
    brand = dashboard.volume(
        session, workspace_id=cast.a.id, span=span, subject_id=world["brand"].id
    )
    assert brand.total == direct[world["brand"].id] > 0
    voices = {
        v.subject.id: v
        for v in dashboard.share_of_voice(session, workspace_id=cast.a.id, span=span)
    }
    total = direct[world["brand"].id] + direct[world["rival"].id]
    assert voices[world["rival"].id].share == pytest.approx(direct[world["rival"].id] / total)


def test_days_are_the_workspaces_days(session: Session, cast: Cast, world: dict[str, Any]) -> None:
    """A message at 22:30 UTC belongs to the next day in Moscow (UTC+3)."""
    day = datetime.now(ZONE).date() - timedelta(days=3)
    late = datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=22, minute=30)
    before = dashboard.volume(
        session, workspace_id=cast.a.id, span=dashboard.period(ZONE, day, day + timedelta(days=1))
    )
    store(session, cast, world["mail"], _raw(400, late))
    rollups.refresh(session, workspace_id=cast.a.id, now=utcnow() + timedelta(hours=1))
    after = dashboard.volume(
        session, workspace_id=cast.a.id, span=dashboard.period(ZONE, day, day + timedelta(days=1))
    )
    assert after.per_day()[0] == before.per_day()[0]
    assert after.per_day()[1] == before.per_day()[1] + 1
