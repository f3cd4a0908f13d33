"""The workspace's inbox policy: SLA policies, business hours, escalation, the threat playbook.

Close reasons live in ``service`` (``save_reasons``), assignment rules in ``routing``,
reply templates in ``templates``; this module writes the rest. Every change is audited
as ``inbox.settings`` and re-validated here, whatever form or API sent it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels.connectors.base import ChannelKind
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, InvalidInput
from h2h.inbox import service
from h2h.inbox.hours import DAY_NAMES, BusinessHours
from h2h.inbox.models import InboxSettings, Priority, SlaPolicy

# Shown on a threat while the workspace has not written its own playbook.
DEFAULT_PLAYBOOK = (
    N_("Do not give in by reflex: no refunds, deletions or promises in the first reply."),
    N_("Check the facts: the order, the messages, what our side actually did."),
    N_("Tell the escalation owner and agree on one voice before answering."),
    N_("If the problem is real, fix it and say so plainly; if it is not, say what you can offer."),
    N_("Threats of courts or regulators go to whoever handles legal matters; keep a record."),
    N_("Answer calmly, as a named person, and write a note of what was decided and why."),
)
MAX_STEPS = 20
MAX_MINUTES = 365 * 24 * 60
DAY_LABELS = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}


def _audit(
    session: Session, workspace_id: uuid.UUID, actor: accounts.Actor, **details: Any
) -> None:
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="inbox.settings",
        entity_type="workspace",
        entity_id=workspace_id,
        details=details,
    )


def playbook(settings: InboxSettings) -> tuple[list[str], bool]:
    """The threat playbook's steps, and whether they are the default (msgids) ones."""
    own = [step for step in settings.playbook or [] if str(step).strip()]
    return (own, False) if own else (list(DEFAULT_PLAYBOOK), True)


def save_general(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    escalation_owner_id: str,
    auto_assign: bool,
    steps: Sequence[str],
) -> InboxSettings:
    """The escalation owner, automatic assignment and the playbook (empty: the default)."""
    actor.require(Role.ADMIN)
    settings = service.settings_of(session, workspace_id=workspace_id)
    owner = None
    if escalation_owner_id:
        members = {str(m.user_id): m for m in service.agents(session, workspace_id=workspace_id)}
        if escalation_owner_id not in members:
            raise InvalidInput(
                N_("The escalation owner must be an agent of this workspace."),
                field="escalation_owner_id",
            )
        owner = members[escalation_owner_id].user_id
    clean = [" ".join(step.split())[:500] for step in steps if step.strip()]
    if len(clean) > MAX_STEPS:
        raise InvalidInput(
            N_("The playbook has at most {limit} steps."), field="playbook", limit=MAX_STEPS
        )
    settings.escalation_owner_id = owner
    settings.auto_assign = auto_assign
    settings.playbook = clean
    settings.updated_at = utcnow()
    _audit(
        session,
        workspace_id,
        actor,
        escalation_owner=str(owner) if owner else None,
        auto_assign=auto_assign,
        playbook=len(clean),
    )
    return settings


# --- business hours -----------------------------------------------------------------------------


def hours_from_form(form: Mapping[str, str], default_timezone: str) -> BusinessHours:
    """Business hours from the settings form: ``open_mon``/``close_mon``… , ``timezone``,
    ``holidays`` (one date a line). Empty times close the day; errors name the field."""
    timezone = (form.get("timezone") or default_timezone).strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            N_("Unknown time zone “{zone}”; write it as Europe/Moscow."),
            field="timezone",
            zone=timezone[:60],
        ) from None
    days: dict[str, list[str] | None] = {}
    for name in DAY_NAMES:
        opens = (form.get(f"open_{name}") or "").strip()
        closes = (form.get(f"close_{name}") or "").strip()
        if not opens and not closes:
            days[name] = None
            continue
        if not opens or not closes:
            raise InvalidInput(
                N_("{day}: give both the opening and the closing time, or neither."),
                field=f"open_{name}",
                day=DAY_LABELS[name],
            )
        if closes == "00:00":
            closes = "24:00"
        if closes != "24:00" and closes <= opens:
            raise InvalidInput(
                N_("{day}: the closing time must be after the opening time."),
                field=f"close_{name}",
                day=DAY_LABELS[name],
            )
        days[name] = [opens, closes]
    holidays = [line.strip() for line in (form.get("holidays") or "").splitlines() if line.strip()]
    config = {"timezone": timezone, "days": days, "holidays": holidays}
    try:
        hours = BusinessHours.from_config(config)
    except ValueError as exc:
        raise InvalidInput(
            N_("The business hours are not valid: {problem}."), field="hours", problem=str(exc)
        ) from None
    if not hours.days:
        raise InvalidInput(N_("Open on at least one day of the week."), field="hours")
    return hours


def save_hours(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, hours: BusinessHours
) -> InboxSettings:
    """Store the business hours; SLA clocks of new changes count only open time."""
    actor.require(Role.ADMIN)
    settings = service.settings_of(session, workspace_id=workspace_id)
    settings.business_hours = hours.to_config()
    settings.updated_at = utcnow()
    _audit(session, workspace_id, actor, business_hours=settings.business_hours)
    return settings


def hours_of(settings: InboxSettings) -> BusinessHours | None:
    """The stored hours, None while the workspace is open around the clock (no setting)."""
    if not settings.business_hours:
        return None
    try:
        return BusinessHours.from_config(settings.business_hours)
    except ValueError:
        return None


# --- SLA policies -------------------------------------------------------------------------------


def list_policies(session: Session, *, workspace_id: uuid.UUID) -> list[SlaPolicy]:
    rows = session.scalars(select(SlaPolicy).where(SlaPolicy.workspace_id == workspace_id))
    order = {p: i for i, p in enumerate((Priority.URGENT, Priority.HIGH, Priority.NORMAL))}
    return sorted(rows, key=lambda p: (order.get(p.priority, 3), p.channel_kind or ""))


def get_policy(session: Session, *, workspace_id: uuid.UUID, policy_id: Any) -> SlaPolicy:
    return get_in_workspace(session, SlaPolicy, workspace_id=workspace_id, id=policy_id)


def _minutes(value: str, field: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_MINUTES:
        raise InvalidInput(
            N_("Write the time in whole minutes, from 1 to {limit}, or leave it empty."),
            field=field,
            limit=MAX_MINUTES,
        )
    return int(value)


def save_policy(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    priority: str,
    channel_kind: str,
    name: str,
    first_response: str,
    next_response: str,
    resolution: str,
    business_hours: bool,
) -> SlaPolicy:
    """Create or replace the policy for a priority (and a channel kind, or every channel)."""
    actor.require(Role.ADMIN)
    try:
        level = Priority(priority)
    except ValueError:
        raise InvalidInput(N_("Choose a priority."), field="priority") from None
    kind = channel_kind or None
    if kind is not None and kind not in {k.value for k in ChannelKind}:
        raise InvalidInput(N_("Choose a kind of channel, or every channel."), field="channel_kind")
    targets = {
        "first_response_minutes": _minutes(first_response, "first_response"),
        "next_response_minutes": _minutes(next_response, "next_response"),
        "resolution_minutes": _minutes(resolution, "resolution"),
    }
    if all(v is None for v in targets.values()):
        raise InvalidInput(N_("Set at least one target time."), field="first_response")
    policy = session.scalars(
        select(SlaPolicy).where(
            SlaPolicy.workspace_id == workspace_id,
            SlaPolicy.priority == level,
            SlaPolicy.channel_kind.is_(None) if kind is None else SlaPolicy.channel_kind == kind,
        )
    ).first()
    if policy is None:
        policy = SlaPolicy(workspace_id=workspace_id, priority=level, channel_kind=kind)
        session.add(policy)
    policy.name = " ".join((name or "").split())[:200] or level.value
    for column, value in targets.items():
        setattr(policy, column, value)
    policy.business_hours = business_hours
    _audit(
        session,
        workspace_id,
        actor,
        sla_policy=policy.name,
        priority=level.value,
        channel_kind=kind,
        **targets,
    )
    session.flush()
    return policy


def delete_policy(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, policy: SlaPolicy
) -> None:
    """Remove a policy; its priority falls back to the general policy or the defaults."""
    actor.require(Role.ADMIN)
    _audit(session, workspace_id, actor, deleted_sla_policy=policy.name)
    session.delete(policy)
