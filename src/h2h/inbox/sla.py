"""SLA clocks: when a conversation is due for a first response, a next response, a resolution.

A policy is chosen by priority (and optionally channel kind: a channel's own policy beats
the general one). Its minutes count business hours when the policy says so and the
workspace set hours (an empty setting means around the clock). The clocks:

- *first response* runs from the first customer message until our first reply;
- *next response* runs from a customer message that came after our reply, until the next;
- *resolution* runs from the opening (or the reopening) until the conversation is closed.

Waiting for the customer (``pending``) stops the response clocks; closing stops all.
``due_at`` is the next deadline nobody has been told about: the breach job scans it, and
once a breach is recorded it moves on to the next running clock; ``breached`` stays set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from h2h.db import utcnow
from h2h.errors import N_
from h2h.inbox.hours import BusinessHours
from h2h.inbox.models import (
    ACTIVE_STATES,
    Conversation,
    InboxSettings,
    Priority,
    SlaBreach,
    SlaPolicy,
    SlaTarget,
    State,
)

DUE_SOON = timedelta(minutes=30)


@dataclass(frozen=True)
class Targets:
    name: str
    first_response: int | None
    next_response: int | None
    resolution: int | None
    business_hours: bool
    policy_id: uuid.UUID | None = None


# Used while a workspace has not written its own policy for a priority.
DEFAULTS = {
    Priority.URGENT: Targets(N_("Urgent"), 15, 30, 4 * 60, False),
    Priority.HIGH: Targets(N_("High"), 60, 2 * 60, 8 * 60, True),
    Priority.NORMAL: Targets(N_("Normal"), 4 * 60, 8 * 60, 24 * 60, True),
    Priority.LOW: Targets(N_("Low"), 24 * 60, 24 * 60, 72 * 60, True),
}

STATUS_LABELS = {
    "breached": N_("Overdue"),
    "due_soon": N_("Due soon"),
    "on_track": N_("On track"),
}


def targets_for(
    session: Session, workspace_id: uuid.UUID, priority: Priority, channel_kind: str | None
) -> Targets:
    rows = list(
        session.scalars(
            select(SlaPolicy).where(
                SlaPolicy.workspace_id == workspace_id, SlaPolicy.priority == priority
            )
        )
    )
    chosen = next((r for r in rows if r.channel_kind == channel_kind), None) or next(
        (r for r in rows if r.channel_kind is None), None
    )
    if chosen is None:
        return DEFAULTS[priority]
    return Targets(
        chosen.name,
        chosen.first_response_minutes,
        chosen.next_response_minutes,
        chosen.resolution_minutes,
        chosen.business_hours,
        chosen.id,
    )


def hours_of(session: Session, workspace_id: uuid.UUID) -> BusinessHours:
    settings = session.get(InboxSettings, workspace_id)
    try:
        return BusinessHours.from_config(settings.business_hours if settings else None)
    except ValueError:  # saved settings are validated; an old or hand-edited row is not fatal
        return BusinessHours.always()


def _clock(
    targets: Targets, hours: BusinessHours, start: datetime, minutes: int | None
) -> datetime | None:
    if minutes is None:
        return None
    if targets.business_hours:
        return hours.add(start, minutes)
    return start + timedelta(minutes=minutes)


def _channel_kind(session: Session, conversation: Conversation) -> str | None:
    from h2h.channels import service as channels

    try:
        channel = channels.get_channel(
            session, workspace_id=conversation.workspace_id, channel_id=conversation.channel_id
        )
    except Exception:  # noqa: BLE001 - a channel deleted meanwhile: the general policy applies
        return None
    return channel.kind.value


def apply_policy(
    session: Session, conversation: Conversation, *, now: datetime | None = None
) -> None:
    """(Re)compute the running clocks from the conversation's facts and its priority."""
    targets = targets_for(
        session,
        conversation.workspace_id,
        conversation.priority,
        _channel_kind(session, conversation),
    )
    hours = hours_of(session, conversation.workspace_id)
    conversation.sla_policy_id = targets.policy_id
    active = conversation.state in ACTIVE_STATES
    waiting_for_us = conversation.state is State.OPEN
    if active and waiting_for_us and conversation.first_response_at is None:
        conversation.first_response_due = _clock(
            targets, hours, conversation.opened_at, targets.first_response
        )
    else:
        conversation.first_response_due = None
    customer = conversation.last_customer_at
    agent = conversation.last_agent_at
    if (
        active
        and waiting_for_us
        and conversation.first_response_at is not None
        and customer is not None
        and (agent is None or customer > agent)
    ):
        conversation.next_response_due = _clock(targets, hours, customer, targets.next_response)
    else:
        conversation.next_response_due = None
    # Waiting for the customer (pending) is not our delay: the resolution clock shows only
    # while the conversation is open (measured from when it was opened or reopened).
    if active and waiting_for_us:
        conversation.resolution_due = _clock(
            targets, hours, conversation.opened_at, targets.resolution
        )
    else:
        conversation.resolution_due = None
    _set_due(conversation)


def _set_due(conversation: Conversation) -> None:
    running = [
        at
        for at in (
            conversation.first_response_due,
            conversation.next_response_due,
            conversation.resolution_due,
        )
        if at is not None
    ]
    conversation.due_at = min(running) if running else None


def restart(session: Session, conversation: Conversation, *, at: datetime, reopened: bool) -> None:
    """After a state change: reopening starts the resolution clock again from ``at``."""
    if reopened and conversation.state in ACTIVE_STATES:
        conversation.opened_at = at
        conversation.breached = False
    apply_policy(session, conversation)


def responded(session: Session, conversation: Conversation, *, at: datetime) -> None:
    """We answered: the response clocks stop."""
    if conversation.first_response_at is None:
        conversation.first_response_at = at
    conversation.last_agent_at = max(conversation.last_agent_at or at, at)
    apply_policy(session, conversation)


def status(conversation: Conversation, now: datetime | None = None) -> str | None:
    """ "breached", "due_soon", "on_track", or None when no clock runs."""
    if conversation.due_at is None:
        return "breached" if conversation.breached and conversation.state in ACTIVE_STATES else None
    now = now or utcnow()
    if conversation.due_at <= now:
        return "breached"
    if conversation.due_at - now <= DUE_SOON:
        return "due_soon"
    return "breached" if conversation.breached else "on_track"


def running_clocks(conversation: Conversation) -> list[tuple[SlaTarget, datetime]]:
    return [
        (target, at)
        for target, at in (
            (SlaTarget.FIRST_RESPONSE, conversation.first_response_due),
            (SlaTarget.NEXT_RESPONSE, conversation.next_response_due),
            (SlaTarget.RESOLUTION, conversation.resolution_due),
        )
        if at is not None
    ]


def check_breaches(session: Session, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Record every clock that ran out (once per clock) and tell the owner; returns how many."""
    from h2h.inbox import service

    now = now or utcnow()
    overdue = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.due_at.is_not(None),
                Conversation.due_at <= now,
                Conversation.state.in_(ACTIVE_STATES),
            )
            .order_by(Conversation.due_at)
            .limit(limit)
        )
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    recorded = 0
    for conversation in overdue:
        for target, due in running_clocks(conversation):
            if due > now:
                continue
            inserted = session.execute(
                insert(SlaBreach)
                .values(
                    workspace_id=conversation.workspace_id,
                    id=uuid.uuid4(),
                    conversation_id=conversation.id,
                    target=target,
                    due_at=due,
                    breached_at=now,
                    owner_id=conversation.owner_id,
                    priority=conversation.priority,
                )
                .on_conflict_do_nothing()
                .returning(SlaBreach.id)
            ).first()
            if inserted is None:  # recorded by an earlier run
                continue
            recorded += 1
            conversation.breached = True
            service.log_event(session, conversation, "sla_breach", target=target.value, at=now)
            owners = (
                [conversation.owner_id] if conversation.owner_id else _admins(session, conversation)
            )
            service.notify(
                session,
                workspace_id=conversation.workspace_id,
                user_ids=owners,
                kind="sla_breach",
                conversation=conversation,
                target=target.value,
            )
        # ``due_at`` moves on to the next deadline, so this conversation leaves the scan.
        upcoming = [at for _, at in running_clocks(conversation) if at > now]
        conversation.due_at = min(upcoming) if upcoming else None
    return recorded


def _admins(session: Session, conversation: Conversation) -> list[uuid.UUID | None]:
    from h2h.accounts.models import Role
    from h2h.inbox import service

    return [
        m.user_id
        for m in service.agents(session, workspace_id=conversation.workspace_id)
        if m.role.at_least(Role.ADMIN)
    ]


def breaches(session: Session, *, conversation: Conversation) -> list[SlaBreach]:
    return list(
        session.scalars(
            select(SlaBreach)
            .where(
                SlaBreach.workspace_id == conversation.workspace_id,
                SlaBreach.conversation_id == conversation.id,
            )
            .order_by(SlaBreach.breached_at)
        )
    )
