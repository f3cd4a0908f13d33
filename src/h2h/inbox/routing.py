"""Who answers and how soon: the priority of a conversation and its named owner.

Priority follows the NLP urgency of the latest customer message (which already weighs
threats, complaints, negative tone, insults and the author's reach), lifted for threats
and lowered for spam, unless a person set it by hand.

The owner of a new conversation is decided in this order (the first that gives an
available member wins):

1. a threat goes to the workspace's escalation owner;
2. a person who already has an owner in People (the relationship's named employee);
3. the workspace's assignment rules, in their order (language, aspect, intent, channel,
   subject, the person's tags, the author's reach → one member or several in turn);
4. everyone who can answer, in turn (the least recently assigned available agent).

"Available" is the member's own switch (away, on holiday) and their role: viewers never
own conversations. Nobody available leaves the conversation unassigned, where the
"Unassigned" view and the SLA breach notice to admins find it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.errors import N_, InvalidInput
from h2h.inbox import service
from h2h.inbox.models import AssignmentRule, Conversation, Priority
from h2h.nlp.models import INTENTS

URGENT_AT = 0.75
HIGH_AT = 0.5
NORMAL_AT = 0.15
CONDITION_KEYS = ("languages", "aspects", "intents", "channels", "subjects", "tags", "min_reach")


@dataclass
class Context:
    """What routing knows about a new conversation's first customer message."""

    language: str | None = None
    intents: set[str] = field(default_factory=set)
    aspects: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    reach: int | None = None
    urgency: float = 0.0
    urgency_reasons: Sequence[str] = ()
    person_owner_id: uuid.UUID | None = None


def priority_of(context: Context) -> tuple[Priority, list[str]]:
    """The computed priority and why (reason codes from the NLP urgency, plus ours)."""
    reasons = list(context.urgency_reasons)
    if context.urgency >= URGENT_AT:
        priority = Priority.URGENT
    elif context.urgency >= HIGH_AT:
        priority = Priority.HIGH
    elif context.urgency >= NORMAL_AT:
        priority = Priority.NORMAL
    else:
        priority = Priority.LOW
    if "threat" in context.intents and priority in (Priority.LOW, Priority.NORMAL):
        priority = Priority.HIGH
    if "spam" in context.intents and not context.intents & {"threat", "complaint"}:
        priority, reasons = Priority.LOW, ["spam"]
    return priority, reasons


def apply_priority(conversation: Conversation, context: Context) -> bool:
    """Set the computed priority unless overridden; True when it changed."""
    if conversation.priority_manual:
        return False
    priority, reasons = priority_of(context)
    changed = priority is not conversation.priority
    conversation.priority = priority
    conversation.priority_reasons = reasons
    return changed


def _matches(conditions: dict[str, object], context: Context, channel_id: uuid.UUID) -> bool:
    def wanted(key: str) -> set[str]:
        value = conditions.get(key) or []
        return {str(v) for v in value} if isinstance(value, list) else set()

    checks = (
        ("languages", {context.language or ""}),
        ("aspects", context.aspects),
        ("intents", context.intents),
        ("channels", {str(channel_id)}),
        ("subjects", context.subjects),
        ("tags", context.tags),
    )
    for key, have in checks:
        need = wanted(key)
        if need and not need & have:
            return False
    min_reach = conditions.get("min_reach")
    return not isinstance(min_reach, int) or (context.reach or 0) >= min_reach


def _least_recent(candidates: Iterable[service.Member]) -> service.Member | None:
    never = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(candidates, key=lambda m: (m.last_assigned_at or never, m.name))
    return ordered[0] if ordered else None


def choose_owner(
    session: Session, conversation: Conversation, context: Context
) -> tuple[uuid.UUID | None, str]:
    """(owner, reason) for a new conversation; (None, "nobody") when nobody is available."""
    workspace_id = conversation.workspace_id
    settings = service.settings_of(session, workspace_id=workspace_id)
    members = {m.user_id: m for m in service.agents(session, workspace_id=workspace_id)}
    available = {uid: m for uid, m in members.items() if m.available}
    if "threat" in context.intents and settings.escalation_owner_id in available:
        return settings.escalation_owner_id, "threat"
    if context.person_owner_id in available:
        return context.person_owner_id, "person_owner"
    for rule in rules(session, workspace_id=workspace_id, enabled_only=True):
        if not _matches(rule.conditions, context, conversation.channel_id):
            continue
        pool = [
            available[uuid.UUID(u)]
            for u in rule.user_ids
            if _is_uuid(u) and uuid.UUID(u) in available
        ]
        chosen = _least_recent(pool)
        if chosen is not None:
            return chosen.user_id, f"rule:{rule.name}"
    if not settings.auto_assign:
        return None, "nobody"
    everyone = [m for m in available.values() if m.role is Role.AGENT] or list(available.values())
    chosen = _least_recent(everyone)
    return (chosen.user_id, "round_robin") if chosen else (None, "nobody")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def route(session: Session, conversation: Conversation, context: Context) -> None:
    """Set priority and owner of a new conversation (threats are flagged for the playbook)."""
    conversation.threat = "threat" in context.intents
    apply_priority(conversation, context)
    owner, reason = choose_owner(session, conversation, context)
    if owner is not None:
        service.set_owner(session, conversation, owner, reason=reason)


# --- the rules --------------------------------------------------------------------------------


def rules(
    session: Session, *, workspace_id: uuid.UUID, enabled_only: bool = False
) -> list[AssignmentRule]:
    query = select(AssignmentRule).where(AssignmentRule.workspace_id == workspace_id)
    if enabled_only:
        query = query.where(AssignmentRule.enabled.is_(True))
    return list(session.scalars(query.order_by(AssignmentRule.position, AssignmentRule.created_at)))


def clean_conditions(raw: dict[str, object]) -> dict[str, object]:
    """Validated rule conditions; an error names the condition and why."""
    unknown = sorted(set(raw) - set(CONDITION_KEYS))
    if unknown:
        raise InvalidInput(N_("Unknown condition: {name}."), field="conditions", name=unknown[0])
    clean: dict[str, object] = {}
    for key in CONDITION_KEYS[:-1]:
        value = raw.get(key)
        if value in (None, "", []):
            continue
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise InvalidInput(N_("A list is expected."), field=key)
        values = [str(v).strip() for v in items if str(v).strip()]
        if key == "intents":
            bad = [v for v in values if v not in INTENTS]
            if bad:
                raise InvalidInput(N_("Unknown intent: {name}."), field=key, name=bad[0])
        if values:
            clean[key] = values
    reach = raw.get("min_reach")
    if reach not in (None, "", 0):
        try:
            number = int(str(reach))
        except ValueError:
            raise InvalidInput(N_("A whole number is expected."), field="min_reach") from None
        if number < 0:
            raise InvalidInput(N_("A whole number is expected."), field="min_reach")
        clean["min_reach"] = number
    return clean


def save_rule(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    conditions: dict[str, object],
    user_ids: Sequence[str],
    rule: AssignmentRule | None = None,
    enabled: bool = True,
) -> AssignmentRule:
    """Create or change an assignment rule (admins); new rules go last."""
    actor.require(Role.ADMIN)
    name = (name or "").strip()[:200]
    if not name:
        raise InvalidInput(N_("Name the rule."), field="name")
    members = {str(m.user_id) for m in service.agents(session, workspace_id=workspace_id)}
    chosen = [str(u) for u in user_ids if str(u)]
    if not chosen:
        raise InvalidInput(N_("Choose who gets these conversations."), field="user_ids")
    if any(u not in members for u in chosen):
        raise InvalidInput(N_("Choose members of this workspace."), field="user_ids")
    clean = clean_conditions(conditions)
    if rule is None:
        position = len(rules(session, workspace_id=workspace_id))
        rule = AssignmentRule(workspace_id=workspace_id, position=position)
        session.add(rule)
    rule.name, rule.conditions, rule.user_ids, rule.enabled = name, clean, chosen, enabled
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="inbox.settings",
        entity_type="assignment_rule",
        entity_id=rule.id,
        details={"name": name, "conditions": clean, "users": chosen},
    )
    session.flush()
    return rule


def delete_rule(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, rule: AssignmentRule
) -> None:
    actor.require(Role.ADMIN)
    session.delete(rule)
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="inbox.settings",
        entity_type="assignment_rule",
        entity_id=rule.id,
        details={"deleted": rule.name},
    )
