"""The demo workspace shows what the inbox does: routed, answered, waiting, overdue, closed
on purpose — with agents, rules, a threat playbook, notes, templates and saved views."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h import demo
from h2h.accounts import service as accounts
from h2h.accounts.models import User
from h2h.channels.models import Message
from h2h.inbox import listing, service, settings, sla, templates
from h2h.inbox.models import (
    ACTIVE_STATES,
    AssignmentRule,
    Conversation,
    ConversationEvent,
    ConversationMessage,
    Delivery,
    DeliveryStatus,
    InternalNote,
    Notification,
    SlaBreach,
    State,
)


def _user(session: Session, email: str) -> uuid.UUID:
    return session.scalars(select(User.id).where(User.email == email)).one()


def _conversations(session: Session, workspace_id: uuid.UUID) -> list[Conversation]:
    return list(
        session.scalars(select(Conversation).where(Conversation.workspace_id == workspace_id))
    )


def _reasons(session: Session, conversation: Conversation) -> set[str]:
    return {
        str(e.data.get("reason"))
        for e in service.history(session, conversation=conversation)
        if e.kind == "assigned"
    }


def test_the_demo_inbox_shows_routing_replies_slas_and_decisions(session: Session) -> None:
    assert demo.load_demo(session)
    session.flush()
    zerno = accounts.get_workspace(session, slug="zerno").id
    dental = accounts.get_workspace(session, slug="carter-dental").id
    anna, dmitry = _user(session, demo.ANNA.email), _user(session, demo.DMITRY.email)
    tom = _user(session, demo.TOM.email)
    for workspace_id, escalation in ((zerno, anna), (dental, tom)):
        conversations = _conversations(session, workspace_id)
        by_state = {s: [c for c in conversations if c.state is s] for s in State}
        assert len(by_state[State.RESOLVED]) >= 5 and len(by_state[State.PENDING]) >= 2
        assert by_state[State.OPEN], "the agents have nothing left to do"
        closed = by_state[State.NOT_ANSWERING]
        keys = {key for key, _ in service.reasons(session, workspace_id=workspace_id)}
        assert closed and all(c.close_reason in keys and c.close_note for c in closed)
        # A threat went to the escalation owner because routing sent it there.
        threats = [c for c in conversations if c.threat]
        assert threats and all(c.owner_id == escalation for c in threats)
        assert all("threat" in _reasons(session, c) for c in threats)
        inbox = service.settings_of(session, workspace_id=workspace_id)
        assert inbox.escalation_owner_id == escalation
        assert any("rule:" in r for c in conversations for r in _reasons(session, c))
        assert session.scalars(
            select(AssignmentRule).where(AssignmentRule.workspace_id == workspace_id)
        ).all()
        # Replies went out, or were recorded; none waits for a job that would go online.
        deliveries = session.scalars(
            select(Delivery).where(Delivery.workspace_id == workspace_id)
        ).all()
        statuses = {d.status for d in deliveries}
        assert DeliveryStatus.RECORDED in statuses
        assert statuses <= {DeliveryStatus.SENT, DeliveryStatus.RECORDED}
        for delivery in deliveries:
            assert delivery.message_id is not None
            linked = session.get(ConversationMessage, (workspace_id, delivery.message_id))
            assert linked is not None and linked.conversation_id == delivery.conversation_id
        for resolved in by_state[State.RESOLVED]:
            assert resolved.first_response_at is not None
        names = {t.language for t in templates.list_templates(session, workspace_id=workspace_id)}
        assert {"ru", "en"} <= names
        members = service.agents(session, workspace_id=workspace_id)
        assert all(m.signature for m in members if m.user_id in (anna, dmitry, tom))
    zerno_threat = next(c for c in _conversations(session, zerno) if c.threat)
    own, default = settings.playbook(service.settings_of(session, workspace_id=zerno))
    assert own and not default
    assert settings.playbook(service.settings_of(session, workspace_id=dental))[1]
    assert session.scalar(
        select(func.count())
        .select_from(InternalNote)
        .where(InternalNote.conversation_id == zerno_threat.id)
    )
    # Dental sends by email: those replies were sent, signed by the agent.
    sent = session.scalars(
        select(Delivery).where(
            Delivery.workspace_id == dental, Delivery.status == DeliveryStatus.SENT
        )
    ).all()
    assert sent
    outbound = session.get(Message, (dental, sent[0].message_id))
    assert outbound is not None
    assert "\n\n— Tom Hughes" in outbound.text or "\n\n— Anna" in outbound.text

    # One conversation is overdue: the breach is recorded, its owner told, it tops the list.
    overdue = [c for c in _conversations(session, zerno) if c.breached and c.state in ACTIVE_STATES]
    assert len(overdue) == 1 and sla.status(overdue[0]) == "breached"
    assert session.scalars(
        select(SlaBreach).where(SlaBreach.conversation_id == overdue[0].id)
    ).all()
    assert session.scalars(
        select(Notification).where(
            Notification.user_id == overdue[0].owner_id, Notification.kind == "sla_breach"
        )
    ).all()
    page, _ = listing.list_conversations(
        session, workspace_id=zerno, query=listing.InboxQuery(), user_id=dmitry
    )
    assert page[0].id == overdue[0].id
    for workspace_id in (zerno, dental):  # nothing else is overdue, whatever the hour
        active = [c for c in _conversations(session, workspace_id) if c.state in ACTIVE_STATES]
        assert [c for c in active if sla.status(c) == "breached"] == (
            overdue if workspace_id == zerno else []
        )

    # Notes mention colleagues, who were notified; Anna is away from the dental practice.
    mentioned = session.scalars(
        select(InternalNote).where(InternalNote.workspace_id == zerno)
    ).all()
    assert {str(anna), str(dmitry)} <= {m for n in mentioned for m in n.mentions}
    assert session.scalars(
        select(Notification).where(Notification.user_id == anna, Notification.kind == "mention")
    ).all()
    away = {m.user_id: m.available for m in service.agents(session, workspace_id=dental)}
    assert away[anna] is False and away[tom] is True
    assert not [
        c
        for c in _conversations(session, dental)
        if c.owner_id == anna and c.state in ACTIVE_STATES
    ]
    # Saved views: shared ones and an agent's own, which the list accepts as filters.
    views = listing.list_views(session, workspace_id=zerno, user_id=dmitry)
    assert {v.user_id for v in views} == {None, dmitry}
    breached_view = next(v for v in views if v.filters == {"sla": "breached"})
    rows, total = listing.list_conversations(
        session,
        workspace_id=zerno,
        query=listing.InboxQuery.from_params(breached_view.filters),
        user_id=dmitry,
    )
    assert total == 1 and rows[0].id == overdue[0].id
    # Three-week-old history stays out of the inbox (older than the threading horizon).
    old = session.scalars(
        select(Message).where(Message.workspace_id == zerno, Message.text.like("%эфиопии%"))
    ).one()
    assert service.conversation_of(session, workspace_id=zerno, message_id=old.id) is None
    assert session.scalar(
        select(func.count())
        .select_from(ConversationEvent)
        .where(ConversationEvent.workspace_id == zerno, ConversationEvent.kind == "sla_breach")
    )
