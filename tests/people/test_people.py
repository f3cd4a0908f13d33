"""Persons by hand, their profile fields, tags and notes, the People list, and the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.channels.connectors.base import Direction
from h2h.errors import Conflict, InvalidInput, PermissionDenied
from h2h.people import directory, fields, profile, service
from h2h.people.models import FieldType, IdentityKind, LifecycleStage, Person
from tests.conftest import Cast
from tests.people import profile_data
from tests.people.profile_data import T0


def actor(cast: Cast, role: str) -> accounts.Actor:
    member = cast.members[role]
    return accounts.Actor(user_id=member.user.id, role=member.membership.role)


def kinds_of(session: Session, cast: Cast, person: Person) -> list[IdentityKind]:
    found = directory.identities_of(session, workspace_id=cast.a.id, person_ids=[person.id])
    return sorted(i.kind for i in found[person.id])


def names(persons: list[Person]) -> set[str]:
    return {p.name for p in persons}


def test_a_person_added_with_email_and_phone_is_one_person_with_both_identities(
    session: Session, cast: Cast
) -> None:
    person = service.create_person(
        session,
        workspace_id=cast.a.id,
        actor=actor(cast, "agent"),
        name="  Иван   Иванов ",
        email="Ivan.Ivanov@Example.COM",
        phone="8 (916) 123-45-67",
        changes={"city": "Ульяновск"},
    )
    assert (person.name, person.name_key, person.city) == (
        "Иван Иванов",
        "ivan ivanov",
        "Ульяновск",
    )
    assert kinds_of(session, cast, person) == [IdentityKind.EMAIL, IdentityKind.PHONE]
    values = {
        i.value
        for i in directory.identities_of(session, workspace_id=cast.a.id, person_ids=[person.id])[
            person.id
        ]
    }
    assert values == {"ivan.ivanov@example.com", "+79161234567"}
    assert session.scalars(select(Person).where(Person.workspace_id == cast.a.id)).all() == [person]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "person.create")).one()
    assert event.entity_id == str(person.id)


def test_a_known_email_is_refused_with_the_name_of_its_person(session: Session, cast: Cast) -> None:
    agent = actor(cast, "agent")
    service.create_person(
        session, workspace_id=cast.a.id, actor=agent, name="Anna", email="a@example.com"
    )
    with pytest.raises(Conflict) as caught:
        service.create_person(
            session, workspace_id=cast.a.id, actor=agent, name="Other", email="A@example.com"
        )
    assert "Anna" in str(caught.value)
    with pytest.raises(InvalidInput) as bad:
        service.create_person(
            session, workspace_id=cast.a.id, actor=agent, name="X", phone="call me"
        )
    assert bad.value.field == "phone"


def test_a_person_without_contacts_gets_a_walk_in_identity_and_viewers_cannot_add(
    session: Session, cast: Cast
) -> None:
    person = service.create_person(
        session, workspace_id=cast.a.id, actor=actor(cast, "agent"), name="Met at the fair"
    )
    assert kinds_of(session, cast, person) == [IdentityKind.WALKIN]
    with pytest.raises(PermissionDenied):
        service.create_person(
            session, workspace_id=cast.a.id, actor=actor(cast, "viewer"), name="No"
        )


def test_an_update_checks_the_owner_and_custom_fields_and_is_audited(
    session: Session, cast: Cast
) -> None:
    admin, agent = actor(cast, "admin"), actor(cast, "agent")
    fields.create_field(
        session,
        workspace_id=cast.a.id,
        actor=admin,
        key="shoe_size",
        label="Shoe size",
        type=FieldType.NUMBER,
    )
    fields.create_field(
        session,
        workspace_id=cast.a.id,
        actor=admin,
        key="plan",
        label="Plan",
        type=FieldType.CHOICE,
        choices=["basic", "pro"],
    )
    person = profile_data.person(session, cast.a.id, "Olga")
    with pytest.raises(InvalidInput) as bad:
        service.update_person(
            session,
            workspace_id=cast.a.id,
            actor=agent,
            person=person,
            changes={"attributes": {"shoe_size": "big"}},
        )
    assert bad.value.field == "attributes.shoe_size"
    with pytest.raises(InvalidInput):
        service.update_person(
            session,
            workspace_id=cast.a.id,
            actor=agent,
            person=person,
            changes={"owner_id": cast.outsider.user.id},
        )
    with pytest.raises(InvalidInput):
        service.update_person(
            session,
            workspace_id=cast.a.id,
            actor=agent,
            person=person,
            changes={"attributes": {"unknown": 1}},
        )
    service.update_person(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        person=person,
        changes={
            "name": "Ольга Смирнова",
            "owner_id": cast.agent.user.id,
            "organization": "ООО Ромашка",
            "attributes": {"shoe_size": "38,5", "plan": "pro"},
        },
    )
    assert person.attributes == {"shoe_size": 38.5, "plan": "pro"}
    assert person.name_key == "olga smirnova" and person.owner_id == cast.agent.user.id
    org = service.get_organization(
        session, workspace_id=cast.a.id, organization_id=person.organization_id
    )
    assert org.name == "ООО Ромашка"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "person.update")).one()
    assert event.details["name"] == ["Olga", "Ольга Смирнова"]
    service.update_person(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        person=person,
        changes={"attributes": {"plan": ""}},
    )
    assert person.attributes == {"shoe_size": 38.5}


def test_a_stage_set_by_hand_is_kept_until_set_back_to_automatic(
    session: Session, cast: Cast
) -> None:
    agent = actor(cast, "agent")
    person = profile_data.person(session, cast.a.id, "Lead Person")
    service.update_person(
        session, workspace_id=cast.a.id, actor=agent, person=person, changes={"stage": "advocate"}
    )
    service.refresh_aggregates(session, workspace_id=cast.a.id, person_ids=[person.id])
    person = service.get_person(session, workspace_id=cast.a.id, person_id=person.id)
    assert (person.stage, person.stage_manual) == (LifecycleStage.ADVOCATE, True)
    service.update_person(
        session, workspace_id=cast.a.id, actor=agent, person=person, changes={"stage": None}
    )
    assert (person.stage, person.stage_manual) == (LifecycleStage.VISITOR, False)
    with pytest.raises(InvalidInput):
        service.update_person(
            session, workspace_id=cast.a.id, actor=agent, person=person, changes={"stage": "king"}
        )


def test_tags_are_tidied_kept_once_and_can_be_removed(session: Session, cast: Cast) -> None:
    agent = actor(cast, "agent")
    person = profile_data.person(session, cast.a.id, "Tagged")
    assert (
        service.add_tag(
            session, workspace_id=cast.a.id, actor=agent, person=person, tag="  VIP   Client "
        )
        == "vip client"
    )
    service.add_tag(session, workspace_id=cast.a.id, actor=agent, person=person, tag="vip client")
    service.add_tag(session, workspace_id=cast.a.id, actor=agent, person=person, tag="кофе")
    session.flush()
    assert service.tags_of(session, workspace_id=cast.a.id, person_ids=[person.id])[person.id] == [
        "vip client",
        "кофе",
    ]
    service.remove_tag(
        session, workspace_id=cast.a.id, actor=agent, person=person, tag="VIP client"
    )
    assert service.workspace_tags(session, workspace_id=cast.a.id) == ["кофе"]
    with pytest.raises(InvalidInput):
        service.add_tag(session, workspace_id=cast.a.id, actor=agent, person=person, tag="   ")


def test_only_the_author_or_an_admin_deletes_a_note(session: Session, cast: Cast) -> None:
    person = profile_data.person(session, cast.a.id, "Noted")
    note = service.add_note(
        session,
        workspace_id=cast.a.id,
        actor=actor(cast, "agent"),
        person=person,
        text=" Called back. ",
    )
    assert note.text == "Called back." and note.author_id == cast.agent.user.id
    other = accounts.Actor(user_id=cast.owner.user.id, role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        service.delete_note(session, workspace_id=cast.a.id, actor=other, note=note)
    service.delete_note(session, workspace_id=cast.a.id, actor=actor(cast, "admin"), note=note)
    with pytest.raises(InvalidInput):
        service.add_note(
            session, workspace_id=cast.a.id, actor=actor(cast, "agent"), person=person, text=" "
        )


def test_search_finds_names_across_scripts_and_persons_by_identity_values(
    session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    profile_data.person(session, ws, "Иван Иванов", email="ivan@example.com")
    profile_data.person(session, ws, "Petr Ivanovsky")
    service.create_person(
        session, workspace_id=ws, actor=accounts.SYSTEM, name="Мария", phone="+7 916 765-43-21"
    )
    profile_data.person(session, ws, "Sidorov")

    def find(q: str) -> set[str]:
        return names(
            service.list_persons(session, workspace_id=ws, filters=directory.PersonQuery(q=q))[0]
        )

    assert find("Ivanov") == {"Иван Иванов", "Petr Ivanovsky"}
    assert find("иванов") == {"Иван Иванов", "Petr Ivanovsky"}
    assert find("ivanovs") == {"Petr Ivanovsky"}
    assert find("IVAN@example.com") == {"Иван Иванов"}
    assert find("8 916 765 43 21") == {"Мария"}
    assert find("van") == set()  # a word must start with it


def test_the_list_filters_and_hides_merged_and_erased_persons(session: Session, cast: Cast) -> None:
    ws, agent = cast.a.id, actor(cast, "agent")
    first = profile_data.person(session, ws, "First")
    second = profile_data.person(session, ws, "Second")
    gone = profile_data.person(session, ws, "Merged away")
    erased = profile_data.person(session, ws, "Erased")
    service.update_person(
        session,
        workspace_id=ws,
        actor=agent,
        person=first,
        changes={"stage": "lead", "owner_id": cast.agent.user.id},
    )
    service.add_tag(session, workspace_id=ws, actor=agent, person=second, tag="vip")
    session.execute(update(Person).where(Person.id == gone.id).values(merged_into_id=first.id))
    session.execute(update(Person).where(Person.id == erased.id).values(erased_at=T0))
    session.execute(
        update(Person).where(Person.id == second.id).values(last_seen_at=T0 - timedelta(days=400))
    )
    session.flush()

    def listed(**filters: Any) -> set[str]:
        found, total = service.list_persons(
            session, workspace_id=ws, filters=directory.PersonQuery(**filters)
        )
        assert total == len(found)
        return names(found)

    assert listed() == {"First", "Second"}
    assert listed(stage=LifecycleStage.LEAD) == {"First"}
    assert listed(tag="vip") == {"Second"}
    assert listed(owner_id=cast.agent.user.id) == {"First"}
    assert listed(reachable_on=IdentityKind.WALKIN) == {"First", "Second"}
    assert listed(reachable_on=IdentityKind.TELEGRAM) == set()
    assert listed(silent_for_days=365) == {"Second"}
    assert listed(contacted_within_days=30) == {"First"}


def test_the_timeline_merges_messages_replies_and_notes_newest_first(
    session: Session, cast: Cast
) -> None:
    story = profile_data.story(session, cast.a.id)
    items, cursor = profile.timeline(session, workspace_id=cast.a.id, person_id=story.person.id)
    assert cursor is None
    assert [i.kind for i in items] == ["message", "note", "reply", "message"]
    assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)
    newest = items[0]
    assert newest.url == f"/mentions/{story.inbound[1]}"
    assert newest.data["sentiment"] == "positive"
    assert items[2].id == str(story.replies[0]) and items[2].data["channel"] == "Support mail"
    assert items[1].body == "Prefers oat milk."


def test_timeline_pages_lose_nothing_when_many_items_share_a_timestamp(
    session: Session, cast: Cast
) -> None:
    story = profile_data.story(session, cast.a.id)
    (identity_id,) = service.identity_ids(
        session, workspace_id=cast.a.id, person_id=story.person.id
    )
    same = T0 + timedelta(days=5)
    profile_data.messages(
        session,
        workspace_id=cast.a.id,
        channel_id=story.channel.id,
        identity_id=identity_id,
        texts=[(f"Same instant {i}", same) for i in range(9)],
    )
    for i in range(7):
        profile_data.note(session, cast.a.id, story.person.id, f"Note {i}", same)
    everything, _ = profile.timeline(
        session, workspace_id=cast.a.id, person_id=story.person.id, limit=200
    )
    assert len(everything) == 20
    for limit in (1, 2, 3, 5):
        seen, cursor, pages = [], None, 0
        while True:
            items, cursor = profile.timeline(
                session,
                workspace_id=cast.a.id,
                person_id=story.person.id,
                before=cursor,
                limit=limit,
            )
            seen.extend(items)
            pages += 1
            assert pages < 100 and len(items) <= limit
            if cursor is None:
                break
        assert [(i.kind, i.id) for i in seen] == [(i.kind, i.id) for i in everything], limit


def test_a_bad_cursor_is_explained(session: Session, cast: Cast) -> None:
    person = profile_data.person(session, cast.a.id, "Cursor")
    with pytest.raises(InvalidInput) as bad:
        profile.timeline(session, workspace_id=cast.a.id, person_id=person.id, before="yesterday")
    assert bad.value.field == "before"


def test_key_figures_show_open_conversations_and_sentiment_by_month(
    session: Session, cast: Cast
) -> None:
    story = profile_data.story(session, cast.a.id)
    person = service.get_person(session, workspace_id=cast.a.id, person_id=story.person.id)
    figures = profile.key_figures(session, workspace_id=cast.a.id, person=person)
    assert figures.message_count == 2 and figures.first_contact == T0
    assert figures.last_contact == T0 + timedelta(days=2)
    # Her thank-you came after our reply and nobody answered it yet.
    assert figures.open_message_ids == [story.inbound[1]]
    assert [m["month"] for m in figures.sentiment] == ["2026-03"]
    assert figures.sentiment[0]["positive"] >= 1
    profile_data.messages(
        session,
        workspace_id=cast.a.id,
        channel_id=story.channel.id,
        identity_id=None,
        texts=[("Рады помочь!", T0 + timedelta(days=3))],
        thread="thread-anna",
        direction=Direction.OUTBOUND,
    )
    assert (
        profile.open_conversations(
            session,
            workspace_id=cast.a.id,
            identity_ids=service.identity_ids(session, workspace_id=cast.a.id, person_id=person.id),
        )
        == []
    )


def test_custom_fields_are_for_admins_and_keep_their_type(session: Session, cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        fields.create_field(
            session,
            workspace_id=cast.a.id,
            actor=actor(cast, "agent"),
            key="x",
            label="X",
            type=FieldType.TEXT,
        )
    admin = actor(cast, "admin")
    with pytest.raises(InvalidInput):
        fields.create_field(
            session,
            workspace_id=cast.a.id,
            actor=admin,
            key="1 bad",
            label="X",
            type=FieldType.TEXT,
        )
    with pytest.raises(InvalidInput):
        fields.create_field(
            session,
            workspace_id=cast.a.id,
            actor=admin,
            key="plan",
            label="Plan",
            type=FieldType.CHOICE,
        )
    born = fields.create_field(
        session, workspace_id=cast.a.id, actor=admin, key="born", label="Born", type=FieldType.DATE
    )
    with pytest.raises(Conflict):
        fields.create_field(
            session,
            workspace_id=cast.a.id,
            actor=admin,
            key="born",
            label="Again",
            type=FieldType.TEXT,
        )
    assert fields.clean_value(born, "2001-02-03") == "2001-02-03"
    with pytest.raises(InvalidInput):
        fields.clean_value(born, "03.02.2001")
    fields.update_field(
        session, workspace_id=cast.a.id, actor=admin, definition=born, label="Birthday"
    )
    assert [f.label for f in fields.list_fields(session, workspace_id=cast.a.id)] == ["Birthday"]
    fields.delete_field(session, workspace_id=cast.a.id, actor=admin, definition=born)
    assert fields.list_fields(session, workspace_id=cast.a.id) == []
