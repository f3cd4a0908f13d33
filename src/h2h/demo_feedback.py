"""Feedback demo: half a year of NPS answers and CSAT after conversations, in both languages.

«Зерно» asked its customers for NPS every few weeks; answers were mostly passives and
detractors while deliveries ran late and turned into promoters after the fix, so the trend
climbs. CSAT followed resolved conversations, credited to the agent who handled each. The
dentist's NPS rose once reminders were fixed. The answers are backdated and have no channel,
so they are not turned into messages (the live flow is in the tests and on a real channel).
Everything is made through ``feedback.service`` / ``feedback.invites`` as a user would.

Both also ran a giveaway about four months ago. Its entrants followed us and liked the posts
within days and then unfollowed or went quiet, so the Advocates page shows what "interaction
is not engagement" means: they arrive as one-off and are flagged as promotion-driven.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h import demo_inbox
from h2h.db import utcnow
from h2h.feedback import invites, service
from h2h.feedback.models import Survey
from h2h.inbox.models import Conversation, State
from h2h.people import events
from h2h.people import service as people
from h2h.people.models import Person

DAYS = 180
COMMENTS = {
    "ru": {
        "bad": [
            "Кофе опять привезли холодным, курьер опоздал на час",
            "Дважды списали деньги за один заказ, до сих пор не вернули",
            "Утром одна касса, очередь на двадцать минут",
            "Цены подняли, а порции стали меньше",
        ],
        "mid": ["Нормально, но доставка бывает долгой", "Вкусно, но дороговато", "Бывает шумно"],
        "good": [
            "Лучший раф в районе, и бариста всегда помнят, что я беру",
            "Доставка стала быстрой, спасибо, что исправили!",
            "Уютно, вкусно, приветливые люди",
            "Анна лично извинилась за холодный кофе и всё исправила — вот это сервис",
        ],
    },
    "en": {
        "bad": ["No reminder again, I missed my appointment", "Parking is impossible"],
        "mid": ["Good dentist, hard to park", "Fine, but I waited 20 minutes"],
        "good": [
            "Dr Carter explained everything and it did not hurt at all",
            "They fitted me in the same day for a broken tooth",
            "Friendly team, reminders now come on time",
        ],
    },
}


def _band(score: int) -> str:
    return "good" if score >= 9 else "bad" if score <= 6 else "mid"


def _nps_score(rng: random.Random, days_ago: int, improved_after: int) -> int:
    """Mostly unhappy before the fix, mostly promoters after it."""
    if days_ago > improved_after:
        return rng.choices(range(11), weights=[1, 1, 2, 3, 4, 5, 6, 8, 8, 5, 3])[0]
    return rng.choices(range(11), weights=[0, 0, 1, 1, 1, 2, 2, 5, 8, 12, 12])[0]


def _persons(session: Session, workspace_id: uuid.UUID) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.workspace_id == workspace_id,
                Person.merged_into_id.is_(None),
                Person.erased_at.is_(None),
            )
            .order_by(Person.created_at, Person.id)
        )
    )


def _answer_nps(
    session: Session,
    survey: Survey,
    people_: Sequence[Person],
    *,
    lang: str,
    seed: int,
    share: float,
    improved_after: int,
    sent_by: uuid.UUID | None,
) -> None:
    rng = random.Random(seed)  # noqa: S311 - the same demo every time, nothing secret
    now = utcnow()
    for person in people_:
        if rng.random() > share:
            continue
        days_ago = rng.randint(1, DAYS)
        at = now - timedelta(days=days_ago, hours=rng.randint(0, 12))
        score = _nps_score(rng, days_ago, improved_after)
        invite, _token = invites.new_invite(
            session, survey, person, channel_id=None, sent_by=sent_by, now=at - timedelta(hours=3)
        )
        session.flush()
        comment = rng.choice(COMMENTS[lang][_band(score)]) if rng.random() < 0.45 else None
        service.submit(session, invite=invite, score=score, comment=comment, now=at)


def _answer_csat(session: Session, workspace_id: uuid.UUID, *, seed: int, lang: str) -> None:
    """CSAT on the demo's resolved conversations, as the job would have asked."""
    rng = random.Random(seed)  # noqa: S311 - the same demo every time, nothing secret
    survey = service.csat_survey(session, workspace_id=workspace_id)
    rows = session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id,
            Conversation.state == State.RESOLVED,
            Conversation.owner_id.is_not(None),
            Conversation.identity_id.is_not(None),
        )
    ).all()
    owners = people.persons_by_identity(
        session,
        workspace_id=workspace_id,
        identity_ids=[c.identity_id for c in rows if c.identity_id],
    )
    for conversation in rows:
        person = owners.get(conversation.identity_id) if conversation.identity_id else None
        if person is None or conversation.closed_at is None or rng.random() > 0.7:
            continue
        at = conversation.closed_at + timedelta(hours=rng.randint(1, 20))
        invite, _token = invites.new_invite(
            session, survey, person, channel_id=None, sent_by=conversation.owner_id,
            now=conversation.closed_at, agent_id=conversation.owner_id, about=conversation.id,
        )  # fmt: skip
        session.flush()
        score = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 5, 9])[0]
        comment = None
        if score <= 2:
            comment = rng.choice(COMMENTS[lang]["bad"])
        service.submit(session, invite=invite, score=score, comment=comment, now=min(at, utcnow()))


# (campaign, names of the entrants, first VK id) per workspace slug
GIVEAWAYS = {
    "zerno": (
        "розыгрыш-абонемента",
        [
            "Виктория Халявина",
            "Денис Призов",
            "Алина Лайкина",
            "Глеб Репостов",
            "Ника Удачина",
            "Тимур Конкурсов",
            "Злата Подарочная",
            "Egor Freebie",
        ],
        7_770_001,
    ),
    "carter-dental": (
        "free-whitening-draw",
        ["Chloe Winner", "Liam Lucky", "Ava Freebie", "Noah Prizeman", "Mia Giveaway"],
        8_880_001,
    ),
}
GIVEAWAY_DAYS_AGO = 125


def _giveaway(session: Session, workspace_id: uuid.UUID, slug: str, *, seed: int) -> None:
    """Entrants followed us and liked the giveaway posts within a few days; most unfollowed
    right after the draw, the rest went silent."""
    rng = random.Random(seed)  # noqa: S311 - the same demo every time, nothing secret
    campaign, names, first_id = GIVEAWAYS[slug]
    start = utcnow() - timedelta(days=GIVEAWAY_DAYS_AGO)
    items: list[dict[str, object]] = []
    for n, name in enumerate(names):
        who = {"kind": "vk", "value": str(first_id + n), "name": name}
        steps = [("app.follow", 1), *(("app.like", 2 + i) for i in range(rng.randint(5, 9)))]
        if rng.random() < 0.7:
            steps.append(("app.unfollow", 24 * 9 + rng.randint(0, 48)))
        for i, (event, hours) in enumerate(steps):
            items.append(
                {
                    "external_id": f"demo-giveaway-{slug}-{n}-{i}",
                    "name": event,
                    "occurred_at": (start + timedelta(hours=hours + n)).isoformat(),
                    "identity": who,
                    "properties": {"campaign": campaign} if event != "app.unfollow" else {},
                }
            )
    outcome = events.record(session, workspace_id=workspace_id, items=items, source="demo")
    if outcome.errors:  # the demo data is ours: a refusal is a bug
        raise ValueError(f"demo giveaway refused: {outcome.errors}")


def load(
    session: Session, *, workspace_ids: Mapping[str, uuid.UUID], crew: demo_inbox.Crew
) -> None:
    zerno, dental = workspace_ids["zerno"], workspace_ids["carter-dental"]
    for workspace_id in (zerno, dental):
        service.save_settings(
            session, workspace_id=workspace_id, actor=crew.anna, values={"csat_delay_minutes": 30}
        )
    nps_ru = service.create_survey(
        session, workspace_id=zerno, actor=crew.anna, kind="nps", name="Порекомендуете «Зерно»?",
        intro="Здравствуйте! Это Анна из «Зерна». Нам правда важно ваше мнение.",
    )  # fmt: skip
    _answer_nps(
        session, nps_ru, _persons(session, zerno), lang="ru", seed=8, share=0.8,
        improved_after=45, sent_by=crew.anna.user_id,
    )  # fmt: skip
    service.create_survey(
        session, workspace_id=zerno, actor=crew.anna, kind="custom", name="Новое меню",
        questions=[
            {"type": "scale", "label": "Насколько вкусным был новый десерт?", "min": 1, "max": 5},
            {"type": "multiple", "label": "Что добавить?", "required": False,
             "options": ["Овсяное молоко", "Выпечку без сахара", "Чай"]},
            {"type": "text", "label": "Что нам изменить?"},
        ],
    )  # fmt: skip
    _answer_csat(session, zerno, seed=9, lang="ru")
    nps_en = service.create_survey(
        session, workspace_id=dental, actor=crew.anna, kind="nps", name="Would you recommend us?"
    )
    _answer_nps(
        session, nps_en, _persons(session, dental), lang="en", seed=10, share=0.9,
        improved_after=100, sent_by=crew.anna.user_id,
    )  # fmt: skip
    _answer_csat(session, dental, seed=11, lang="en")
    _giveaway(session, zerno, "zerno", seed=12)
    _giveaway(session, dental, "carter-dental", seed=13)
