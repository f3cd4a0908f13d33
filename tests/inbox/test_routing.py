"""Every conversation gets a named owner and a priority; threats go to the escalation owner."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.inbox import routing, service
from h2h.inbox.models import Priority
from h2h.people import service as people
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

THREAT = "Если не вернёте деньги, напишу во все отзовики и пожалуюсь в Роспотребнадзор!"


def test_a_threat_is_flagged_urgent_and_goes_to_the_escalation_owner(
    session: Session, cast: Cast
) -> None:
    settings = service.settings_of(session, workspace_id=cast.a.id)
    settings.escalation_owner_id = cast.admin.user.id
    widget = make_channel(session, cast)
    [quiet] = store(
        session, cast, widget, customer("m0", "Hello, what time do you open on Sunday?")
    )
    [threat] = store(session, cast, widget, customer("m1", THREAT, handle="angry@example.com"))
    calm, loud = conversation_of(session, cast, quiet), conversation_of(session, cast, threat)
    assert loud.threat and not calm.threat
    assert loud.owner_id == cast.admin.user.id
    assert loud.priority in (Priority.HIGH, Priority.URGENT)
    assert "threat" in loud.priority_reasons
    assert calm.priority is Priority.LOW
    assert calm.owner_id != cast.admin.user.id or calm.owner_id is None


def test_a_threat_later_in_a_conversation_moves_it_to_the_escalation_owner(
    session: Session, cast: Cast
) -> None:
    settings = service.settings_of(session, workspace_id=cast.a.id)
    settings.escalation_owner_id = cast.owner.user.id
    widget = make_channel(session, cast)
    [first] = store(session, cast, widget, customer("m1", "Где мой заказ 1042?"))
    conversation = conversation_of(session, cast, first)
    service.assign(
        session, conversation=conversation, actor=actor_of(cast.admin), owner_id=cast.agent.user.id
    )
    store(session, cast, widget, customer("m2", THREAT, minutes=10))
    assert conversation.threat
    assert conversation.owner_id == cast.owner.user.id
    kinds = [e.kind for e in service.history(session, conversation=conversation)]
    assert kinds.count("assigned") == 2


def test_round_robin_skips_agents_who_are_away(session: Session, cast: Cast) -> None:
    service.set_status(session, workspace_id=cast.a.id, actor=actor_of(cast.agent), available=False)
    widget = make_channel(session, cast)
    owners = []
    for n in range(4):
        [m] = store(session, cast, widget, customer(f"m{n}", "Вопрос", handle=f"c{n}@example.com"))
        owners.append(conversation_of(session, cast, m).owner_id)
    assert cast.agent.user.id not in owners
    assert None not in owners
    # Least recently assigned first: nobody gets a second one before everyone had one.
    available = {m.user_id for m in service.agents(session, workspace_id=cast.a.id) if m.available}
    assert len(set(owners[: len(available)])) == min(len(available), len(owners))


def test_rules_route_by_language_before_round_robin(session: Session, cast: Cast) -> None:
    routing.save_rule(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        name="English speakers",
        conditions={"languages": ["en"]},
        user_ids=[str(cast.agent.user.id)],
    )
    widget = make_channel(session, cast)
    [en] = store(session, cast, widget, customer("m1", "Hello, my order never arrived, help"))
    [ru] = store(
        session, cast, widget, customer("m2", "Здравствуйте, где заказ?", handle="b@ex.ru")
    )
    assert conversation_of(session, cast, en).owner_id == cast.agent.user.id
    events = service.history(session, conversation=conversation_of(session, cast, en))
    assert any(e.data.get("reason") == "rule:English speakers" for e in events)
    assert conversation_of(session, cast, ru).owner_id is not None


def test_the_persons_relationship_owner_gets_their_conversations(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    [first] = store(session, cast, widget, customer("m1", "Добрый день"))
    person = people.persons_by_identity(
        session,
        workspace_id=cast.a.id,
        identity_ids=[conversation_of(session, cast, first).identity_id],
    )
    [owned] = person.values()
    owned.owner_id = cast.agent.user.id
    service.set_state(
        session,
        conversation=conversation_of(session, cast, first),
        actor=actor_of(cast.admin),
        state="resolved",
    )
    later = customer(
        "m2", "Снова здравствуйте", at=first_at(session, cast, first) + timedelta(days=3)
    )
    [second] = store(session, cast, widget, later)
    assert conversation_of(session, cast, second).id != conversation_of(session, cast, first).id
    assert conversation_of(session, cast, second).owner_id == cast.agent.user.id


def first_at(session: Session, cast: Cast, message_id: object) -> object:
    return conversation_of(session, cast, message_id).opened_at


def test_a_manual_priority_sticks_when_the_customer_writes_again(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    [first] = store(session, cast, widget, customer("m1", "Hello, what time do you open?"))
    conversation = conversation_of(session, cast, first)
    service.set_priority(
        session, conversation=conversation, actor=actor_of(cast.agent), priority=Priority.URGENT
    )
    store(session, cast, widget, customer("m2", "Thanks a lot!", minutes=3))
    assert (conversation.priority, conversation.priority_manual) == (Priority.URGENT, True)
    service.set_priority(
        session, conversation=conversation, actor=actor_of(cast.agent), priority=None
    )
    assert not conversation.priority_manual


def test_the_system_cannot_be_the_owner_and_outsiders_cannot_be_assigned(
    session: Session, cast: Cast
) -> None:
    widget = make_channel(session, cast)
    [m] = store(session, cast, widget, customer("m1", "Вопрос"))
    conversation = conversation_of(session, cast, m)
    try:
        service.assign(
            session,
            conversation=conversation,
            actor=actor_of(cast.agent),
            owner_id=cast.outsider.user.id,
        )
    except Exception as exc:  # noqa: BLE001 - the kind is checked below
        assert type(exc).__name__ in {"InvalidInput", "NotFound"}
    else:
        raise AssertionError("an outsider was made the owner")
    assert conversation.owner_id != cast.outsider.user.id
    assert accounts.SYSTEM.user_id is None
