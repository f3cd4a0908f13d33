"""People in the demo: customers who wrote on several channels, merges and suggestions,
consent, notes, tags and a named owner — in the coffee shop (Russian) and the dentist (English).

Every author of the listening demo already became a person when their messages were
stored (linking runs after ingest). Here a few customers write again on other channels
under other spellings of their names, so identity resolution has something to propose;
one such pair is merged by the agent, the rest wait on the suggestions page.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h import demo_events, demo_orders
from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.db import utcnow
from h2h.people import consent, interests, refresh, resolution, service, suggestions
from h2h.people.models import ConsentPurpose, Identity, IdentityKind, InterestKind, Person

# (channel kind, handle, name, text, days ago): the same human, three spellings.
ZERNO_VOICES = [
    (
        ChannelKind.TELEGRAM,
        "5551234",
        "Саша Иванов",
        "Добрый день! Можно заказать 2 кг эфиопии в зёрнах к субботе? Заберу сам.",
        20,
    ),
    (
        ChannelKind.WIDGET,
        "a.ivanov@mail.example",
        "Alexander Ivanov",
        "Забрал заказ, зёрна отличные. Спасибо Дмитрию за совет по помолу!",
        12,
    ),
    (
        ChannelKind.VK,
        "id4420017",
        "Александр Иванов",
        "А когда снова будет кения? В прошлый раз разобрали за день.",
        3,
    ),
    (
        ChannelKind.TELEGRAM,
        "5551234",
        "Саша Иванов",
        "Кения пришла — лучший кофе в городе, спасибо! Всем друзьям вас советую.",
        1,
    ),
    (
        ChannelKind.TELEGRAM,
        "5559876",
        "Катя Лебедева",
        "Здравствуйте! Есть ли у вас подарочные сертификаты на 3000 ₽?",
        9,
    ),
    (
        ChannelKind.WIDGET,
        "+7 (927) 555-01-02",
        "Екатерина Лебедева",
        "Купила сертификат, подруга в восторге. Можно ещё один на день рождения мамы?",
        2,
    ),
]
DENTAL_VOICES = [
    (
        ChannelKind.EMAIL,
        "sarah.mitchell@mail.example",
        "Sarah Mitchell",
        "Hi, could I move my check-up to a Friday afternoon? Thanks, Sarah",
        15,
    ),
    (
        ChannelKind.RSS,
        "Sarah M.",
        "Sarah M.",
        "Dr Carter explained every step of my filling. No pain at all — thank you!",
        6,
    ),
    (
        ChannelKind.EMAIL,
        "j.oconnor@mail.example",
        "Jim O'Connor",
        "Do you offer payment plans for implants? I'd like a consultation.",
        4,
    ),
]


def load(
    session: Session,
    *,
    workspace_ids: dict[str, uuid.UUID],
    owner: accounts.Actor,
    agent: accounts.Actor,
) -> None:
    """Multi-channel customers, a merge, open suggestions, consent and notes in both workspaces."""
    zerno, dental = workspace_ids["zerno"], workspace_ids["carter-dental"]
    _voices(session, zerno, owner, ZERNO_VOICES)
    _voices(session, dental, owner, DENTAL_VOICES)
    for workspace_id in (zerno, dental):
        resolution.suggest(session, workspace_id=workspace_id)
    _zerno_story(session, zerno, agent)
    _dental_story(session, dental, owner)
    demo_events.load(session, workspace_ids=workspace_ids)  # page views and searches
    demo_orders.load(session, workspace_ids=workspace_ids, agent=agent)  # purchases, RFM
    for workspace_id in (zerno, dental):  # figures, stages and liveness of everyone
        refresh.refresh_workspace(session, workspace_id=workspace_id)


def _voices(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    voices: list[tuple[ChannelKind, str, str, str, int]],
) -> None:
    by_kind = {c.kind: c for c in channels.list_channels(session, workspace_id=workspace_id)}
    now = utcnow()
    for n, (kind, handle, name, text, days) in enumerate(voices):
        item = RawMessage(
            external_id=f"demo-people-{n}",
            text=text,
            created_at=now - timedelta(days=days, hours=n),
            author=Author(handle=handle, name=name),
            thread_id=f"demo-people-thread-{n}",
            raw={"demo": True},
        )
        ingest.store(session, workspace_id=workspace_id, channel_id=by_kind[kind].id, items=[item])


def _person(session: Session, workspace_id: uuid.UUID, kind: IdentityKind, value: str) -> Person:
    person_id = session.scalar(
        select(Identity.person_id).where(
            Identity.workspace_id == workspace_id, Identity.kind == kind, Identity.value == value
        )
    )
    return service.get_person(session, workspace_id=workspace_id, person_id=person_id)


def _merge_pair(
    session: Session, workspace_id: uuid.UUID, actor: accounts.Actor, a: Person, b: Person
) -> Person:
    """Merge two persons through their open suggestion, as an agent would; the winner."""
    views, _ = suggestions.list_suggestions(session, workspace_id=workspace_id, person_id=a.id)
    for view in views:
        if {view.a.id, view.b.id} == {a.id, b.id}:
            merge = suggestions.merge_suggestion(
                session, workspace_id=workspace_id, actor=actor, suggestion_id=view.suggestion.id
            )
            return service.get_person(session, workspace_id=workspace_id, person_id=merge.winner_id)
    return a  # resolution did not pair them: leave both, the demo still shows them


def _zerno_story(session: Session, workspace_id: uuid.UUID, agent: accounts.Actor) -> None:
    sasha = _merge_pair(
        session,
        workspace_id,
        agent,
        _person(session, workspace_id, IdentityKind.TELEGRAM, "5551234"),
        _person(session, workspace_id, IdentityKind.EMAIL, "a.ivanov@mail.example"),
    )
    _tag_and_note(
        session,
        workspace_id,
        agent,
        sasha,
        ["постоянный гость", "зерно домой"],
        "Любит светлую обжарку, берёт эфиопию и кению. Предложить дегустацию новых лотов.",
        [("Светлая обжарка", InterestKind.INTEREST), ("Кофе в зёрнах", InterestKind.INTEREST)],
    )
    service.update_person(
        session,
        workspace_id=workspace_id,
        actor=agent,
        person=sasha,
        changes={"owner_id": agent.user_id, "city": "Ульяновск"},
    )
    consent.record_consent(
        session,
        workspace_id=workspace_id,
        actor=agent,
        person_id=sasha.id,
        channel=ChannelKind.TELEGRAM.value,
        purpose=ConsentPurpose.MARKETING,
        source="Подписался на новости в боте",
        evidence="/subscribe",
    )
    katya = _person(session, workspace_id, IdentityKind.PHONE, "+79275550102")
    _tag_and_note(
        session,
        workspace_id,
        agent,
        katya,
        ["сертификаты"],
        "Покупает сертификаты в подарок. Напомнить о новых наборах к праздникам.",
        [("Подарки", InterestKind.INTEREST)],
    )
    consent.block(
        session,
        workspace_id=workspace_id,
        actor=agent,
        person_id=katya.id,
        channel=ChannelKind.VK.value,
        reason="Попросила не писать ей в личные сообщения ВКонтакте",
    )


def _dental_story(session: Session, workspace_id: uuid.UUID, owner: accounts.Actor) -> None:
    jim = _person(session, workspace_id, IdentityKind.EMAIL, "j.oconnor@mail.example")
    _tag_and_note(
        session,
        workspace_id,
        owner,
        jim,
        ["implant consultation"],
        "Nervous about the cost. Send the payment-plan leaflet before the consultation.",
        [("Payment by instalments", InterestKind.VALUE)],
    )
    sarah = _person(session, workspace_id, IdentityKind.EMAIL, "sarah.mitchell@mail.example")
    consent.withdraw(
        session,
        workspace_id=workspace_id,
        actor=owner,
        person_id=sarah.id,
        channel=ChannelKind.EMAIL.value,
        purpose=ConsentPurpose.MARKETING,
        source="Unsubscribe link in the spring newsletter",
    )


def _tag_and_note(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person: Person,
    tags: list[str],
    note: str,
    known: list[tuple[str, InterestKind]],
) -> None:
    for label, kind in known:
        interests.add_interest(
            session, workspace_id=workspace_id, actor=actor, person=person, label=label, kind=kind
        )
    for tag in tags:
        service.add_tag(session, workspace_id=workspace_id, actor=actor, person=person, tag=tag)
    service.add_note(session, workspace_id=workspace_id, actor=actor, person=person, text=note)
