"""Automation rules: on an event, if the conditions hold, run the actions (as Chatwoot does).

A rule names one event (``AutomationEvent``), conditions that must all hold (each list
matches any of its values; a condition left out holds) and actions run in order:

- conditions: ``channels`` (channel ids or kinds), ``languages``, ``sentiments``,
  ``intents``, ``aspects``, ``priorities``, ``states``, ``tags`` (the person's),
  ``min_reach``, ``text_contains`` (words or phrases, any case, in the customer's message);
- actions: ``assign`` (``user_id``), ``set_priority`` (``priority``), ``add_tag`` (``tag``,
  on the person), ``add_note`` (``text``, internal), ``notify`` (``user_ids``, in-app),
  ``send_webhook`` (``endpoint_id``), ``set_state`` (``state``: open, pending, resolved).

Rules hear the same events as webhooks (``service.on_event``) and run inside the event's
transaction. Every firing is audited (``automation.fire``) with what each action did; an
action that cannot run any more (a member left, the person was erased) is recorded as
skipped and the others still run. No rule sends a message to a customer: answers are
written by a named person.

Loops: while a rule's actions run for a conversation, that rule does not fire again for
that conversation, however its actions' events chain into other rules (A sets *pending*,
B hearing that sets *resolved*, A would hear that — and is skipped).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.db import get_in_workspace, new_id, utcnow
from h2h.errors import N_, Conflict, H2HError, InvalidInput
from h2h.inbox import service, webhooks
from h2h.inbox.models import (
    AutomationEvent,
    AutomationRule,
    Conversation,
    Priority,
    State,
)
from h2h.nlp import service as nlp
from h2h.nlp.models import INTENTS, Sentiment, intents_of
from h2h.people import service as people
from h2h.people.models import Person

AUDIT_ACTIONS.update(
    {
        "automation.fire": N_("an automation rule fired"),
        "inbox.automation": N_("changed the automation rules"),
    }
)

EVENT_OF_KIND = {
    "message": AutomationEvent.MESSAGE_CREATED,
    "opened": AutomationEvent.CONVERSATION_OPENED,
    "sla_breach": AutomationEvent.SLA_BREACHED,
    "state": AutomationEvent.STATE_CHANGED,
}
LIST_CONDITIONS = (
    "channels",
    "languages",
    "sentiments",
    "intents",
    "aspects",
    "priorities",
    "states",
    "tags",
    "text_contains",
)
CONDITION_KEYS = (*LIST_CONDITIONS, "min_reach")
ACTION_TYPES = (
    "assign",
    "set_priority",
    "add_tag",
    "add_note",
    "notify",
    "send_webhook",
    "set_state",
)
SETTABLE_STATES = (State.OPEN, State.PENDING, State.RESOLVED)
MAX_RULES = 200
MAX_ACTIONS = 20
MAX_VALUES = 50
_CACHE = "h2h.automation_rules"
_CHAIN = "h2h.automation_chain"


# --- validation -------------------------------------------------------------------------------


def _no_nul(value: str, field: str) -> str:
    # PostgreSQL cannot store NUL in text; in a rule it is never meaningful anyway.
    if "\x00" in value:
        raise InvalidInput(N_("Remove the NUL character."), field=field)
    return value


def _values(raw: Any, key: str) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise InvalidInput(N_("A list is expected."), field=f"conditions.{key}")
    for item in items:
        _no_nul(str(item), f"conditions.{key}")
    values = list(dict.fromkeys(" ".join(str(v).split())[:200] for v in items))
    values = [v for v in values if v]
    if len(values) > MAX_VALUES:
        raise InvalidInput(N_("At most {n} values."), field=f"conditions.{key}", n=MAX_VALUES)
    return values


def _one_of(values: list[str], allowed: Sequence[str], key: str) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput(
            N_("Unknown value “{value}”; one of: {known}."),
            field=f"conditions.{key}",
            value=bad[0][:60],
            known=", ".join(allowed),
        )
    return values


def clean_conditions(
    session: Session, *, workspace_id: uuid.UUID, raw: dict[str, Any]
) -> dict[str, Any]:
    """Validated conditions; an error names the condition (``conditions.<key>``) and why."""
    unknown = sorted(set(raw) - set(CONDITION_KEYS))
    if unknown:
        raise InvalidInput(
            N_("Unknown condition: {name}."), field="conditions", name=str(unknown[0])[:60]
        )
    clean: dict[str, Any] = {}
    for key in LIST_CONDITIONS:
        if raw.get(key) in (None, "", []):
            continue
        values = _values(raw[key], key)
        if key == "channels":
            mine = {str(c.id) for c in channels.list_channels(session, workspace_id=workspace_id)}
            _one_of(values, sorted(mine | {k.value for k in ChannelKind}), key)
        elif key == "sentiments":
            _one_of(values, [s.value for s in Sentiment], key)
        elif key == "intents":
            _one_of(values, INTENTS, key)
        elif key == "priorities":
            _one_of(values, [p.value for p in Priority], key)
        elif key == "states":
            _one_of(values, [s.value for s in State], key)
        elif key == "tags":
            try:
                values = [people.clean_tag(v) for v in values]
            except InvalidInput as exc:
                raise InvalidInput(exc.message, field="conditions.tags", **exc.params) from None
        elif key in ("languages", "aspects"):
            values = [v.lower() for v in values]
        if values:
            clean[key] = values
    reach = raw.get("min_reach")
    if reach not in (None, "", 0):
        try:
            number = int(str(reach))
        except ValueError:
            number = -1
        if not 0 <= number <= 10**12:
            raise InvalidInput(N_("A whole number is expected."), field="conditions.min_reach")
        clean["min_reach"] = number
    return clean


def _param(action: dict[str, Any], name: str, field: str) -> str:
    value = action.get(name)
    if value is None or not str(value).strip():
        raise InvalidInput(N_("This action needs “{name}”."), field=field, name=name)
    return _no_nul(str(value).strip(), field)


def _member_id(members: set[str], value: str, field: str) -> str:
    try:
        wanted = str(uuid.UUID(value))
    except ValueError:
        wanted = ""
    if wanted not in members:
        raise InvalidInput(N_("Choose a member of this workspace."), field=field)
    return wanted


def _clean_action(
    session: Session, workspace_id: uuid.UUID, action: Any, field: str, members: set[str]
) -> dict[str, Any]:
    if not isinstance(action, dict):
        raise InvalidInput(N_("An action is an object with a “type”."), field=field)
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        raise InvalidInput(
            N_("Unknown action; one of: {known}."),
            field=f"{field}.type",
            known=", ".join(ACTION_TYPES),
        )
    if kind == "assign":
        user = _member_id(
            members, _param(action, "user_id", f"{field}.user_id"), f"{field}.user_id"
        )
        return {"type": kind, "user_id": user}
    if kind == "set_priority":
        value = _param(action, "priority", f"{field}.priority")
        if value not in {p.value for p in Priority}:
            raise InvalidInput(N_("Unknown priority."), field=f"{field}.priority")
        return {"type": kind, "priority": value}
    if kind == "add_tag":
        tag = _param(action, "tag", f"{field}.tag")
        try:
            return {"type": kind, "tag": people.clean_tag(tag)}
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"{field}.tag", **exc.params) from None
    if kind == "add_note":
        text = _param(action, "text", f"{field}.text")
        if len(text) > service.MAX_NOTE:
            raise InvalidInput(N_("The note is too long."), field=f"{field}.text")
        return {"type": kind, "text": text}
    if kind == "notify":
        raw = action.get("user_ids")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_VALUES:
            raise InvalidInput(N_("Choose who is told."), field=f"{field}.user_ids")
        users = [_member_id(members, str(u), f"{field}.user_ids") for u in raw]
        return {"type": kind, "user_ids": list(dict.fromkeys(users))}
    if kind == "send_webhook":
        endpoint_id = _param(action, "endpoint_id", f"{field}.endpoint_id")
        try:
            endpoint = webhooks.get_endpoint(
                session, workspace_id=workspace_id, endpoint_id=endpoint_id
            )
        except LookupError:
            raise InvalidInput(
                N_("Choose a webhook of this workspace."), field=f"{field}.endpoint_id"
            ) from None
        return {"type": kind, "endpoint_id": str(endpoint.id)}
    state = _param(action, "state", f"{field}.state")
    if state not in {s.value for s in SETTABLE_STATES}:
        raise InvalidInput(
            N_(
                "A rule can set open, pending or resolved;"
                " closing without an answer needs a person."
            ),
            field=f"{field}.state",
        )
    return {"type": kind, "state": state}


def clean_actions(
    session: Session, *, workspace_id: uuid.UUID, raw: Sequence[Any]
) -> list[dict[str, Any]]:
    """Validated actions, in order; an error names the action (``actions.<n>.<param>``)."""
    if not raw:
        raise InvalidInput(N_("Add at least one action."), field="actions")
    if len(raw) > MAX_ACTIONS:
        raise InvalidInput(N_("At most {n} actions."), field="actions", n=MAX_ACTIONS)
    members = {str(m.user_id) for m in service.agents(session, workspace_id=workspace_id)}
    return [
        _clean_action(session, workspace_id, action, f"actions.{n}", members)
        for n, action in enumerate(raw)
    ]


# --- the rules --------------------------------------------------------------------------------


def list_rules(session: Session, *, workspace_id: uuid.UUID) -> list[AutomationRule]:
    return list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.workspace_id == workspace_id)
            .order_by(AutomationRule.position, AutomationRule.created_at)
        )
    )


def get_rule(session: Session, *, workspace_id: uuid.UUID, rule_id: Any) -> AutomationRule:
    return get_in_workspace(session, AutomationRule, workspace_id=workspace_id, id=rule_id)


def _check_name(
    session: Session, workspace_id: uuid.UUID, name: str, rule: AutomationRule | None
) -> str:
    name = " ".join((name or "").split())[:200]
    if not name:
        raise InvalidInput(N_("Name the rule."), field="name")
    clash = session.scalars(
        select(AutomationRule).where(
            AutomationRule.workspace_id == workspace_id, AutomationRule.name == name
        )
    ).first()
    if clash is not None and clash is not rule:
        raise Conflict(
            N_("A rule named “{name}” exists; choose another name."), field="name", name=name
        )
    return name


def _event(value: Any) -> AutomationEvent:
    try:
        return AutomationEvent(value)
    except ValueError:
        raise InvalidInput(
            N_("Unknown event; one of: {known}."),
            field="event",
            known=", ".join(e.value for e in AutomationEvent),
        ) from None


def _audit(session: Session, actor: accounts.Actor, rule: AutomationRule, **details: Any) -> None:
    accounts.record(
        session,
        workspace_id=rule.workspace_id,
        actor=actor,
        action="inbox.automation",
        entity_type="automation_rule",
        entity_id=rule.id,
        details={"name": rule.name, **details},
    )


def create_rule(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    event: Any,
    conditions: dict[str, Any],
    actions: Sequence[Any],
    enabled: bool = True,
) -> AutomationRule:
    """A new rule (admins), evaluated after the existing ones."""
    actor.require(Role.ADMIN)
    existing = list_rules(session, workspace_id=workspace_id)
    if len(existing) >= MAX_RULES:
        raise InvalidInput(N_("A workspace has at most {n} rules."), field="name", n=MAX_RULES)
    rule = AutomationRule(
        workspace_id=workspace_id,
        id=new_id(),
        name=_check_name(session, workspace_id, name, None),
        event=_event(event),
        conditions=clean_conditions(session, workspace_id=workspace_id, raw=conditions),
        actions=clean_actions(session, workspace_id=workspace_id, raw=actions),
        enabled=enabled,
        position=max((r.position for r in existing), default=-1) + 1,
    )
    session.add(rule)
    _audit(session, actor, rule, event=rule.event.value, conditions=rule.conditions,
           actions=rule.actions)  # fmt: skip
    session.info.pop(_CACHE, None)
    return rule


def update_rule(
    session: Session, *, rule: AutomationRule, actor: accounts.Actor, changes: dict[str, Any]
) -> AutomationRule:
    """Change a rule; only what is given changes."""
    actor.require(Role.ADMIN)
    workspace_id = rule.workspace_id
    if "name" in changes:
        rule.name = _check_name(session, workspace_id, changes["name"], rule)
    if changes.get("event") is not None:
        rule.event = _event(changes["event"])
    if changes.get("conditions") is not None:
        rule.conditions = clean_conditions(
            session, workspace_id=workspace_id, raw=changes["conditions"]
        )
    if changes.get("actions") is not None:
        rule.actions = clean_actions(session, workspace_id=workspace_id, raw=changes["actions"])
    if changes.get("enabled") is not None:
        rule.enabled = bool(changes["enabled"])
    if changes.get("position") is not None:
        rule.position = int(changes["position"])
    rule.updated_at = utcnow()
    _audit(session, actor, rule, changes=changes)
    session.info.pop(_CACHE, None)
    session.flush()
    return rule


def delete_rule(session: Session, *, rule: AutomationRule, actor: accounts.Actor) -> None:
    actor.require(Role.ADMIN)
    _audit(session, actor, rule, deleted=True)
    session.delete(rule)
    session.info.pop(_CACHE, None)
    session.flush()


# --- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    id: uuid.UUID
    name: str
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]


def _rules_for(session: Session, workspace_id: uuid.UUID, event: AutomationEvent) -> list[_Rule]:
    # Asked on every event of a burst of messages: remembered for the transaction.
    cache: dict[uuid.UUID, dict[str, list[_Rule]]] = session.info.setdefault(_CACHE, {})
    if workspace_id not in cache:
        by_event: dict[str, list[_Rule]] = {}
        rows = session.scalars(
            select(AutomationRule)
            .where(AutomationRule.workspace_id == workspace_id, AutomationRule.enabled.is_(True))
            .order_by(AutomationRule.position, AutomationRule.created_at)
        )
        for row in rows:
            by_event.setdefault(row.event.value, []).append(
                _Rule(row.id, row.name, dict(row.conditions), list(row.actions))
            )
        cache[workspace_id] = by_event
    return cache[workspace_id].get(event.value, [])


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CACHE, None)


def _person(session: Session, conversation: Conversation) -> Person | None:
    if conversation.identity_id is None:
        return None
    return people.persons_by_identity(
        session, workspace_id=conversation.workspace_id, identity_ids=[conversation.identity_id]
    ).get(conversation.identity_id)


class Facts:
    """What the conditions look at, read only when a condition asks."""

    def __init__(self, session: Session, happened: service.Happened) -> None:
        self.session = session
        self.conversation = happened.conversation
        self.workspace_id = happened.conversation.workspace_id
        self.message_id = happened.data.get("message") or self.conversation.last_inbound_id
        # The state the event announced: a later rule's action may have changed it since.
        self.state = str(happened.data.get("state") or self.conversation.state.value)

    @cached_property
    def channel(self) -> tuple[str, str]:
        channel = channels.get_channel(
            self.session, workspace_id=self.workspace_id, channel_id=self.conversation.channel_id
        )
        return str(channel.id), channel.kind.value

    @cached_property
    def text(self) -> str:
        if not self.message_id:
            return ""
        try:
            message = channels.get_message(
                self.session, workspace_id=self.workspace_id, message_id=self.message_id
            )
        except LookupError:
            return ""
        return message.text.casefold()

    @cached_property
    def aspects(self) -> set[str]:
        if not self.message_id:
            return set()
        ids = [uuid.UUID(str(self.message_id))]
        analysis = nlp.analyses_of(self.session, workspace_id=self.workspace_id, message_ids=ids)
        details = analysis[ids[0]].details if ids[0] in analysis else {}
        return {str(a.get("aspect")).lower() for a in details.get("aspects") or []}

    @cached_property
    def tags(self) -> set[str]:
        person = _person(self.session, self.conversation)
        if person is None:
            return set()
        found = people.tags_of(self.session, workspace_id=self.workspace_id, person_ids=[person.id])
        return set(found.get(person.id, []))

    def have(self, key: str) -> set[str]:
        conversation = self.conversation
        if key == "channels":
            return set(self.channel)
        if key == "languages":
            return {(conversation.language or "").lower()}
        if key == "sentiments":
            return {conversation.sentiment or ""}
        if key == "intents":
            return set(intents_of(conversation.intents))
        if key == "aspects":
            return self.aspects
        if key == "priorities":
            return {conversation.priority.value}
        if key == "states":
            return {self.state}
        if key == "tags":
            return self.tags
        raise KeyError(key)


def matches(conditions: dict[str, Any], facts: Facts) -> bool:
    """Do all the conditions hold (each list: any of its values)?"""
    for key in LIST_CONDITIONS:
        wanted = conditions.get(key)
        if not wanted:
            continue
        if key == "text_contains":
            if not any(str(w).casefold() in facts.text for w in wanted):
                return False
        elif not set(wanted) & facts.have(key):
            return False
    min_reach = conditions.get("min_reach")
    return not isinstance(min_reach, int) or (facts.conversation.reach or 0) >= min_reach


@service.on_event
def _on_event(session: Session, happened: service.Happened) -> None:
    event = EVENT_OF_KIND.get(happened.kind)
    if event is None:
        return
    conversation = happened.conversation
    rules = _rules_for(session, conversation.workspace_id, event)
    if not rules:
        return
    facts = Facts(session, happened)
    chain: set[tuple[uuid.UUID, uuid.UUID]] = session.info.setdefault(_CHAIN, set())
    for rule in rules:
        key = (rule.id, conversation.id)
        if key in chain:
            continue  # this rule's own actions led here: firing again would loop
        if not matches(rule.conditions, facts):
            continue
        chain.add(key)
        try:
            fire(session, rule=rule, event=event, conversation=conversation)
        finally:
            chain.discard(key)


def fire(
    session: Session, *, rule: _Rule, event: AutomationEvent, conversation: Conversation
) -> list[dict[str, str]]:
    """Run a rule's actions on a conversation and audit the firing; what each action did."""
    done = []
    for action in rule.actions:
        try:
            outcome = _run(session, action, conversation, rule)
        except H2HError as exc:
            # Validation raises before anything changes, so the other actions still run.
            outcome = f"skipped: {exc}"
        done.append({"type": str(action.get("type")), "result": outcome})
    row = session.get(AutomationRule, (conversation.workspace_id, rule.id))
    if row is not None:
        row.fired_count += 1
        row.last_fired_at = utcnow()
    accounts.record(
        session,
        workspace_id=conversation.workspace_id,
        actor=accounts.SYSTEM,
        action="automation.fire",
        entity_type="automation_rule",
        entity_id=rule.id,
        details={
            "rule": rule.name,
            "event": event.value,
            "conversation": conversation.number,
            "actions": done,
        },
    )
    return done


def _run(session: Session, action: dict[str, Any], conversation: Conversation, rule: _Rule) -> str:
    system = accounts.SYSTEM
    kind = action.get("type")
    reason = f"rule:{rule.name}"
    if kind == "assign":
        service.assign(
            session,
            conversation=conversation,
            actor=system,
            owner_id=action["user_id"],
            reason=reason,
        )
        return "done"
    if kind == "set_priority":
        service.set_priority(
            session, conversation=conversation, actor=system, priority=action["priority"]
        )
        return "done"
    if kind == "add_tag":
        person = _person(session, conversation)
        if person is None:
            return "skipped: no person"
        people.add_tag(
            session,
            workspace_id=conversation.workspace_id,
            actor=system,
            person=person,
            tag=action["tag"],
        )
        return "done"
    if kind == "add_note":
        service.add_note(session, conversation=conversation, actor=system, text=action["text"])
        return "done"
    if kind == "notify":
        members = {
            str(m.user_id) for m in service.agents(session, workspace_id=conversation.workspace_id)
        }
        users = [uuid.UUID(u) for u in action.get("user_ids") or [] if u in members]
        written = service.notify(
            session,
            workspace_id=conversation.workspace_id,
            user_ids=users,
            kind="automation",
            conversation=conversation,
            rule=rule.name,
        )
        return "done" if written else "skipped: nobody to tell"
    if kind == "send_webhook":
        endpoint = webhooks.get_endpoint(
            session, workspace_id=conversation.workspace_id, endpoint_id=action["endpoint_id"]
        )
        if not endpoint.active:
            return "skipped: the webhook is switched off"
        webhooks.send(session, endpoint=endpoint, conversation=conversation, rule=rule.name)
        return "done"
    if kind == "set_state":
        service.set_state(session, conversation=conversation, actor=system, state=action["state"])
        return "done"
    return "skipped: unknown action"
