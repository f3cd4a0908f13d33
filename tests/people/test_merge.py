"""Merging two persons and undoing it exactly, also after further activity and in chains."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.channels.connectors.base import ChannelKind
from h2h.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from h2h.people import merging, profile, resolution, service
from h2h.people.models import (
    Consent,
    ConsentPurpose,
    ConsentStatus,
    ContactBlock,
    Identity,
    MergeSuggestion,
    Note,
    Order,
    Person,
    PersonInterest,
    PersonTag,
    SuggestionStatus,
)
from tests.conftest import Cast
from tests.people.test_linking import make_channel, message, store

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def actor(cast: Cast, role: str = "agent") -> accounts.Actor:
    member = cast.members[role]
    return accounts.Actor(user_id=member.user.id, role=member.membership.role)


def person(session: Session, cast: Cast, name: str, **kwargs: Any) -> Person:
    return service.create_person(
        session, workspace_id=cast.a.id, actor=actor(cast), name=name, **kwargs
    )


def state(session: Session, cast: Cast, person_id: uuid.UUID) -> dict[str, Any]:
    """Everything about a person an unmerge must restore."""
    session.expire_all()
    p = service.get_person(session, workspace_id=cast.a.id, person_id=person_id)
    rows: dict[str, Any] = {name: getattr(p, name) for name in merging.SNAPSHOT_FIELDS}
    rows.update(
        merged_into_id=p.merged_into_id,
        message_count=p.message_count,
        order_count=p.order_count,
        lifetime_value=p.lifetime_value,
    )
    for label, model, column in (
        ("identities", Identity, Identity.value),
        ("notes", Note, Note.text),
        ("tags", PersonTag, PersonTag.tag),
        ("consents", Consent, Consent.purpose),
        ("blocks", ContactBlock, ContactBlock.channel),
        ("interests", PersonInterest, PersonInterest.label),
    ):
        rows[label] = sorted(
            [
                (str(i), str(v))
                for i, v in session.execute(
                    select(model.id, column).where(
                        model.workspace_id == cast.a.id, model.person_id == person_id
                    )
                )
            ],
            key=lambda row: (row[1], row[0]),
        )
    return rows


@pytest.fixture
def pair(session: Session, cast: Cast) -> tuple[Person, Person]:
    """Two profiles of one human: a busy one by email and a quieter one by phone."""
    ws, agent = cast.a.id, actor(cast)
    winner = person(session, cast, "Александр Иванов", email="sasha@example.com")
    loser = person(
        session,
        cast,
        "Alexander Ivanov",
        phone="+7 916 123 45 67",
        changes={"city": "Москва", "first_name": "Alexander"},
    )
    service.update_person(
        session, workspace_id=ws, actor=agent, person=winner, changes={"last_name": "Иванов"}
    )
    for p, tags in ((winner, ["vip", "coffee"]), (loser, ["vip", "tea"])):
        for tag in tags:
            service.add_tag(session, workspace_id=ws, actor=agent, person=p, tag=tag)
    service.add_note(session, workspace_id=ws, actor=agent, person=loser, text="Звонил в пятницу")
    session.add_all(
        [
            Consent(
                workspace_id=ws,
                person_id=loser.id,
                channel="any",
                purpose=ConsentPurpose.MARKETING,
                status=ConsentStatus.GRANTED,
                source="widget form",
            ),
            ContactBlock(workspace_id=ws, person_id=winner.id, channel="sms", reason="asked"),
            ContactBlock(workspace_id=ws, person_id=loser.id, channel="sms", reason="also asked"),
            ContactBlock(workspace_id=ws, person_id=loser.id, channel="email"),
            PersonInterest(
                workspace_id=ws, person_id=loser.id, label="espresso", source="explicit"
            ),
        ]
    )
    phone = session.scalars(select(Identity).where(Identity.person_id == loser.id)).one()
    session.add(
        Order(workspace_id=ws, external_id="INV-1", identity_id=phone.id, placed_at=T0, total=9900)
    )
    channel = make_channel(session, cast, ChannelKind.EMAIL)
    store(session, cast, channel, [message("w1", "sasha@example.com", at=T0)])
    session.flush()
    service.refresh_aggregates(session, workspace_id=ws, person_ids=[winner.id, loser.id])
    session.commit()
    return winner, loser


def merge(session: Session, cast: Cast, winner: Person, loser: Person, role: str = "agent") -> Any:
    return merging.merge(
        session,
        workspace_id=cast.a.id,
        actor=actor(cast, role),
        winner_id=winner.id,
        loser_id=loser.id,
    )


def unmerge(session: Session, cast: Cast, record: Any) -> Any:
    return merging.unmerge(session, workspace_id=cast.a.id, actor=actor(cast), merge_id=record.id)


def test_merge_moves_everything_to_the_winner_and_fills_blank_fields(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    merge(session, cast, winner, loser)
    after = state(session, cast, winner.id)
    assert [v for _, v in after["identities"]] == sorted(["sasha@example.com", "+79161234567"])
    assert sorted(v for _, v in after["tags"]) == ["coffee", "tea", "vip"]
    assert [v for _, v in after["notes"]] == ["Звонил в пятницу"]
    assert sorted(v for _, v in after["blocks"]) == ["email", "sms"]
    assert [v for _, v in after["interests"]] == ["espresso"]
    assert len(after["consents"]) == 1
    assert (after["city"], after["first_name"], after["last_name"]) == (
        "Москва",
        "Alexander",
        "Иванов",
    )
    assert (after["message_count"], after["order_count"], after["lifetime_value"]) == (1, 1, 9900)
    gone = state(session, cast, loser.id)
    assert gone["merged_into_id"] == winner.id and gone["identities"] == []


def test_unmerge_restores_both_persons_exactly(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    before = (state(session, cast, winner.id), state(session, cast, loser.id))
    record = merge(session, cast, winner, loser)
    session.commit()
    unmerge(session, cast, record)
    session.commit()
    assert (state(session, cast, winner.id), state(session, cast, loser.id)) == before


def test_unmerge_restores_both_persons_after_new_activity(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    ws = cast.a.id
    loser_before = state(session, cast, loser.id)
    record = merge(session, cast, winner, loser)
    session.commit()
    # After the merge: the loser's old phone writes again, staff write a note on the winner
    # and correct the city the merge brought over.
    widget = make_channel(session, cast, ChannelKind.WIDGET)
    later = T0 + timedelta(days=3)
    store(session, cast, widget, [message("late", "8 (916) 123-45-67", at=later)])
    merged = service.get_person(session, workspace_id=ws, person_id=winner.id)
    service.add_note(session, workspace_id=ws, actor=actor(cast), person=merged, text="После")
    service.update_person(
        session, workspace_id=ws, actor=actor(cast), person=merged, changes={"city": "Казань"}
    )
    session.commit()
    assert state(session, cast, winner.id)["message_count"] == 2
    unmerge(session, cast, record)
    session.commit()
    w, lo = state(session, cast, winner.id), state(session, cast, loser.id)
    assert w["city"] == "Казань"  # changed after the merge: the winner keeps it
    assert w["first_name"] is None  # filled by the merge and untouched: blank again
    assert [v for _, v in w["notes"]] == ["После"]
    assert [v for _, v in w["identities"]] == ["sasha@example.com"]
    assert (w["message_count"], w["order_count"]) == (1, 0)
    assert (lo["message_count"], lo["order_count"], lo["last_seen_at"]) == (1, 1, later)
    moved_on = ("message_count", "last_seen_at")  # the loser's new message counts for the loser
    assert {k: v for k, v in lo.items() if k not in moved_on} == {
        k: v for k, v in loser_before.items() if k not in moved_on
    }


def test_clashing_tags_and_contact_blocks_come_back_to_the_loser_as_they_were(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    blocks = session.execute(
        select(ContactBlock.id, ContactBlock.reason).where(ContactBlock.person_id == loser.id)
    ).all()
    record = merge(session, cast, winner, loser)
    assert [d["tag"] for d in record.snapshot["dropped"]["tags"]] == ["vip"]
    unmerge(session, cast, record)
    session.commit()
    back = session.execute(
        select(ContactBlock.id, ContactBlock.reason).where(ContactBlock.person_id == loser.id)
    ).all()
    assert sorted(back) == sorted(blocks)
    assert [t for _, t in state(session, cast, winner.id)["tags"]] == ["coffee", "vip"]
    assert sorted(t for _, t in state(session, cast, loser.id)["tags"]) == ["tea", "vip"]


def test_a_chain_is_undone_newest_first(session: Session, cast: Cast) -> None:
    a = person(session, cast, "Катя Смирнова", email="katya@example.com")
    b = person(session, cast, "Ekaterina Smirnova", phone="+79031112233")
    c = person(session, cast, "Catherine Smirnova", email="kate@example.org")
    first = merge(session, cast, b, a)  # A into B
    second = merge(session, cast, c, b)  # then B into C
    session.commit()
    with pytest.raises(Conflict):
        unmerge(session, cast, first)
    session.rollback()
    unmerge(session, cast, second)
    unmerge(session, cast, first)
    session.commit()
    for p, value in ((a, "katya@example.com"), (b, "+79031112233"), (c, "kate@example.org")):
        s = state(session, cast, p.id)
        assert s["merged_into_id"] is None and [v for _, v in s["identities"]] == [value]
    with pytest.raises(Conflict):
        unmerge(session, cast, first)  # already undone


def test_refuses_merging_a_person_with_itself_a_merged_or_erased_one_or_across_workspaces(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    with pytest.raises(InvalidInput):
        merge(session, cast, winner, winner)
    other = service.create_person(
        session,
        workspace_id=cast.b.id,
        actor=accounts.Actor(user_id=cast.outsider.user.id, role=Role.OWNER),
        name="Чужой",
    )
    with pytest.raises(NotFound):
        merge(session, cast, winner, other)
    merge(session, cast, winner, loser)
    third = person(session, cast, "Третий")
    with pytest.raises(Conflict):
        merge(session, cast, third, loser)
    third.erased_at = T0
    with pytest.raises(Conflict):
        merge(session, cast, winner, third)
    with pytest.raises(PermissionDenied):
        merge(session, cast, winner, person(session, cast, "Четвёртый"), role="viewer")


def test_an_undone_merge_is_never_proposed_again(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    record = merge(session, cast, winner, loser)
    unmerge(session, cast, record)
    a, b = sorted((winner.id, loser.id))
    suggestion = session.scalars(
        select(MergeSuggestion).where(
            MergeSuggestion.person_a_id == a, MergeSuggestion.person_b_id == b
        )
    ).one()
    assert suggestion.status is SuggestionStatus.DISMISSED
    resolution.suggest(session, workspace_id=cast.a.id)
    assert session.scalars(select(MergeSuggestion.status)).all() == [SuggestionStatus.DISMISSED]


def test_merges_show_on_the_timeline(
    session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    record = merge(session, cast, winner, loser)
    session.commit()
    unmerge(session, cast, record)
    session.commit()
    items, _ = profile.timeline(session, workspace_id=cast.a.id, person_id=winner.id)
    merges = [i for i in items if i.kind == "merge"]
    assert [i.title for i in merges] == [
        "Merge with {other} undone",
        "{other} merged into this profile",
    ]
    assert merges[0].data["other"] == "Alexander Ivanov"


def test_a_viewer_cannot_merge_but_an_agent_can_and_undo_through_the_api(
    client: TestClient, session: Session, cast: Cast, pair: tuple[Person, Person]
) -> None:
    winner, loser = pair
    url = f"/api/v1/workspaces/alpha/people/{winner.id}/merge"
    body = {"other_id": str(loser.id)}
    assert client.post(url, json=body, headers=cast.viewer.headers).status_code == 403
    response = client.post(url, json=body, headers=cast.agent.headers)
    assert response.status_code == 201, response.text
    merge_id = response.json()["id"]
    history = client.get("/api/v1/workspaces/alpha/people/merges", headers=cast.viewer.headers)
    assert [m["id"] for m in history.json()] == [merge_id]
    undo = f"/api/v1/workspaces/alpha/people/merges/{merge_id}/undo"
    assert client.post(undo, headers=cast.viewer.headers).status_code == 403
    answer = client.post(undo, headers=cast.agent.headers)
    assert answer.status_code == 200 and answer.json()["undone_at"]
    again = client.post(undo, headers=cast.agent.headers)
    assert again.status_code == 409
    session.expire_all()
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.workspace_id == cast.a.id, AuditEvent.action.like("person.%merge"))
        .order_by(AuditEvent.created_at)
    ).all()
    assert actions == ["person.merge", "person.unmerge"]
