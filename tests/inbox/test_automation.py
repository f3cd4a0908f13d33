"""Automation rules: event → conditions → actions, audited on every firing, never in a loop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h2h.accounts.models import AUDIT_ACTIONS, AuditEvent
from h2h.channels.connectors.base import ChannelKind
from h2h.inbox import automation, service, sla
from h2h.inbox.models import (
    AutomationRule,
    Conversation,
    Notification,
    Priority,
    State,
)
from h2h.jobs import run_now
from h2h.people import service as people
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store
from tests.inbox.test_webhooks import SECRET, Receiver, verified

BASE = "/api/v1/workspaces/alpha/inbox/automations"


def rule(
    session: Session,
    cast: Cast,
    event: str,
    actions: list[dict[str, Any]],
    name: str = "",
    **conditions: Any,
) -> AutomationRule:
    created = automation.create_rule(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        name=name or f"{event} rule",
        event=event,
        conditions=conditions,
        actions=actions,
    )
    session.commit()
    return created


def firings(session: Session, cast: Cast, created: AutomationRule | None = None) -> list[Any]:
    query = select(AuditEvent).where(
        AuditEvent.workspace_id == cast.a.id, AuditEvent.action == "automation.fire"
    )
    if created is not None:
        query = query.where(AuditEvent.entity_id == str(created.id))
    return list(session.scalars(query.order_by(AuditEvent.created_at)))


def incoming(session: Session, cast: Cast, text: str, external_id: str = "a1") -> Conversation:
    widget = make_channel(session, cast, name=f"Widget {external_id}")
    [message_id] = store(session, cast, widget, customer(external_id, text))
    return conversation_of(session, cast, message_id)


def test_a_matching_message_assigns_sets_priority_tags_the_person_and_notes(
    session: Session, cast: Cast
) -> None:
    admin = str(cast.admin.user.id)
    refunds = rule(
        session,
        cast,
        "message_created",
        [
            {"type": "assign", "user_id": admin},
            {"type": "set_priority", "priority": "urgent"},
            {"type": "add_tag", "tag": "Refund"},
            {"type": "add_note", "text": "Refunds go to @admin first."},
        ],
        channels=["widget"],
        text_contains=["ВОЗВРАТ", "refund"],
    )
    conversation = incoming(session, cast, "Хочу возврат денег за заказ 1042")
    assert conversation.owner_id == cast.admin.user.id
    assert conversation.priority is Priority.URGENT and conversation.priority_manual
    [note] = service.notes(session, conversation=conversation)
    assert note.text == "Refunds go to @admin first." and note.author_id is None
    person = people.persons_by_identity(
        session, workspace_id=cast.a.id, identity_ids=[conversation.identity_id]
    )[conversation.identity_id]
    assert people.tags_of(session, workspace_id=cast.a.id, person_ids=[person.id]) == {
        person.id: ["refund"]
    }
    [fired] = firings(session, cast, refunds)
    assert fired.details["conversation"] == conversation.number
    assert fired.details["event"] == "message_created"
    assert [a["result"] for a in fired.details["actions"]] == ["done"] * 4
    assert "automation.fire" in AUDIT_ACTIONS
    session.refresh(refunds)
    assert refunds.fired_count == 1 and refunds.last_fired_at is not None
    kinds = [e.kind for e in service.history(session, conversation=conversation)]
    assert kinds.count("assigned") == 2  # routing first, then the rule
    assert kinds.index("opened") < kinds.index("note")


def test_a_rule_whose_conditions_do_not_hold_stays_quiet(session: Session, cast: Cast) -> None:
    quiet = rule(
        session,
        cast,
        "conversation_opened",
        [{"type": "set_priority", "priority": "low"}],
        languages=["en"],
        priorities=["urgent"],
    )
    off = rule(
        session, cast, "conversation_opened", [{"type": "add_note", "text": "x"}], name="Off"
    )
    automation.update_rule(
        session, rule=off, actor=actor_of(cast.admin), changes={"enabled": False}
    )
    session.commit()
    conversation = incoming(session, cast, "Где мой заказ? Жду уже неделю.")
    assert conversation.language == "ru"
    assert firings(session, cast, quiet) == [] and firings(session, cast, off) == []
    assert service.notes(session, conversation=conversation) == []


def test_an_sla_breach_rule_notifies_a_colleague(session: Session, cast: Cast) -> None:
    escalate = rule(
        session,
        cast,
        "sla_breached",
        [{"type": "notify", "user_ids": [str(cast.owner.user.id)]}],
        min_reach=0,
    )
    conversation = incoming(session, cast, "Ответьте, пожалуйста")
    assert conversation.due_at is not None
    sla.check_breaches(session, now=conversation.due_at + timedelta(minutes=1))
    session.commit()
    told = session.scalars(
        select(Notification).where(
            Notification.user_id == cast.owner.user.id, Notification.kind == "automation"
        )
    ).all()
    assert [n.data["rule"] for n in told] == [escalate.name]
    assert len(firings(session, cast, escalate)) == 1  # one breach recorded, one firing


def test_rules_that_set_off_each_other_fire_once_per_chain_instead_of_looping(
    session: Session, cast: Cast
) -> None:
    first = rule(
        session,
        cast,
        "state_changed",
        [{"type": "set_state", "state": "pending"}],
        name="Resolved means wait",
        states=["resolved"],
    )
    second = rule(
        session,
        cast,
        "state_changed",
        [{"type": "set_state", "state": "resolved"}],
        name="Waiting means resolved",
        states=["pending"],
    )
    conversation = incoming(session, cast, "Спасибо, всё получил")
    service.set_state(
        session, conversation=conversation, actor=actor_of(cast.agent), state="resolved"
    )
    session.commit()
    # resolved → rule 1 sets pending → rule 2 sets resolved → rule 1 would again: skipped.
    assert conversation.state is State.RESOLVED
    assert len(firings(session, cast, first)) == 1
    assert len(firings(session, cast, second)) == 1
    # A new chain (the next change a person makes) may fire them again.
    service.set_state(session, conversation=conversation, actor=actor_of(cast.agent), state="open")
    service.set_state(
        session, conversation=conversation, actor=actor_of(cast.agent), state="resolved"
    )
    session.commit()
    assert len(firings(session, cast, first)) == 2


def test_an_action_that_cannot_run_is_recorded_as_skipped_and_the_others_still_run(
    session: Session, cast: Cast
) -> None:
    leaver = rule(
        session,
        cast,
        "conversation_opened",
        [
            {"type": "assign", "user_id": str(cast.admin.user.id)},
            {"type": "set_priority", "priority": "high"},
        ],
    )
    session.delete(cast.admin.membership)  # the admin left the workspace after the rule was made
    session.commit()
    conversation = incoming(session, cast, "Здравствуйте")
    assert conversation.owner_id != cast.admin.user.id
    assert conversation.priority is Priority.HIGH
    [fired] = firings(session, cast, leaver)
    results = [a["result"] for a in fired.details["actions"]]
    assert results[0].startswith("skipped") and results[1] == "done"


def test_a_send_webhook_action_posts_the_conversation_signed(
    session: Session, cast: Cast, factory: sessionmaker[Session]
) -> None:
    from h2h.inbox import webhooks

    server = Receiver().start()
    try:
        hook = webhooks.create_endpoint(
            session,
            workspace_id=cast.a.id,
            actor=actor_of(cast.admin),
            url=server.url,
            events=["conversation.replied"],  # not subscribed to openings: the rule sends anyway
            secret=SECRET,
        )
        rule(
            session,
            cast,
            "conversation_opened",
            [{"type": "send_webhook", "endpoint_id": str(hook.id)}],
            name="Threats to legal",
            intents=["threat"],
        )
        incoming(session, cast, "Если не вернёте деньги, подам в суд и напишу в Роспотребнадзор!")
        session.commit()
        run_now(factory, "inbox.webhooks_due")
        [posted] = server.received
    finally:
        server.stop()
    assert posted.event == "automation.webhook" and verified(posted)
    assert posted.json["data"]["rule"] == "Threats to legal"
    assert "threat" in posted.json["conversation"]["intents"]


def test_admins_write_rules_through_the_api_and_errors_name_the_field(
    client: TestClient, session: Session, cast: Cast
) -> None:
    admin = cast.admin.headers
    body = {
        "name": "VIP to the owner",
        "event": "conversation_opened",
        "conditions": {"tags": ["vip"], "min_reach": 1000},
        "actions": [{"type": "assign", "user_id": str(cast.owner.user.id)}],
    }
    created = client.post(BASE, json=body, headers=admin)
    assert created.status_code == 201, created.text
    read = created.json()
    assert read["conditions"] == {"tags": ["vip"], "min_reach": 1000}
    assert read["fired_count"] == 0 and read["enabled"] is True
    assert client.post(BASE, json=body, headers=admin).status_code == 409
    [listed] = client.get(BASE, headers=admin).json()
    assert listed["id"] == read["id"]
    patched = client.patch(f"{BASE}/{read['id']}", json={"enabled": False}, headers=admin)
    assert patched.json()["enabled"] is False
    cases = [
        ({"conditions": {"intents": ["bribery"]}}, "conditions.intents"),
        ({"conditions": {"colour": ["red"]}}, "conditions"),
        ({"conditions": {"channels": ["nowhere"]}}, "conditions.channels"),
        ({"actions": [{"type": "assign", "user_id": "nobody"}]}, "actions.0.user_id"),
        ({"actions": [{"type": "explode"}]}, "actions.0.type"),
        ({"actions": [{"type": "set_state", "state": "not_answering"}]}, "actions.0.state"),
        (
            {"actions": [{"type": "add_note", "text": "ok"}, {"type": "send_webhook"}]},
            "actions.1.endpoint_id",
        ),
    ]
    for change, field in cases:
        answer = client.post(BASE, json={**body, "name": field, **change}, headers=admin)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    assert client.get(BASE, headers=cast.agent.headers).status_code == 403
    assert client.post(BASE, json=body, headers=cast.agent.headers).status_code == 403
    assert client.delete(f"{BASE}/{read['id']}", headers=admin).status_code == 204
    assert client.get(f"{BASE}/{read['id']}", headers=admin).status_code == 404
    audited = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.workspace_id == cast.a.id, AuditEvent.entity_type == "automation_rule"
        )
    ).all()
    assert audited == ["inbox.automation"] * 3  # created, switched off, deleted


def test_channel_conditions_take_ids_or_kinds(session: Session, cast: Cast) -> None:
    email_like = make_channel(session, cast, ChannelKind.WEBHOOK, name="Site form")
    by_id = rule(
        session,
        cast,
        "conversation_opened",
        [{"type": "set_priority", "priority": "high"}],
        name="By id",
        channels=[str(email_like.id)],
    )
    [message_id] = store(session, cast, email_like, customer("f1", "Вопрос с формы"))
    incoming(session, cast, "Вопрос из виджета", external_id="w9")
    [fired] = firings(session, cast, by_id)
    assert fired.details["conversation"] == conversation_of(session, cast, message_id).number
