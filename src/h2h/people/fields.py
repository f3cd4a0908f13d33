"""Custom fields of a workspace's persons: typed definitions, and values checked against them.

Values live in ``persons.attributes`` under the field's key. Deleting a definition leaves
the values where they are (rewriting a million rows for it is not worth it); they are not
shown or accepted until a field with that key exists again, which is why a field's type
cannot change: stored values would no longer fit it.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.db import get_in_workspace
from h2h.errors import N_, Conflict, InvalidInput
from h2h.people.models import FieldDefinition, FieldType

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_MAX = 1000
CHOICES_MAX = 100

AUDIT_ACTIONS.update(
    {
        "field.create": N_("added a custom field"),
        "field.update": N_("changed a custom field"),
        "field.delete": N_("deleted a custom field"),
    }
)

FIELD_TYPE_LABELS = {
    FieldType.TEXT: N_("Text"),
    FieldType.NUMBER: N_("Number"),
    FieldType.DATE: N_("Date"),
    FieldType.BOOLEAN: N_("Yes / no"),
    FieldType.CHOICE: N_("Choice"),
}


def list_fields(session: Session, *, workspace_id: uuid.UUID) -> list[FieldDefinition]:
    """The workspace's custom fields, by label."""
    return list(
        session.scalars(
            select(FieldDefinition)
            .where(FieldDefinition.workspace_id == workspace_id)
            .order_by(FieldDefinition.label, FieldDefinition.key)
        )
    )


def get_field(session: Session, *, workspace_id: uuid.UUID, field_id: Any) -> FieldDefinition:
    return get_in_workspace(session, FieldDefinition, workspace_id=workspace_id, id=field_id)


def _clean_choices(field_type: FieldType, choices: list[str] | None) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(c.split()) for c in choices or [] if c.strip()))
    if field_type is not FieldType.CHOICE:
        return []
    if not cleaned:
        raise InvalidInput(N_("A choice field needs at least one choice."), field="choices")
    if len(cleaned) > CHOICES_MAX or any(len(c) > 200 for c in cleaned):
        raise InvalidInput(
            N_("At most {n} choices of up to 200 characters each."), field="choices", n=CHOICES_MAX
        )
    return cleaned


def create_field(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    key: str,
    label: str,
    type: FieldType,
    choices: list[str] | None = None,
) -> FieldDefinition:
    """Add a custom field; its key names the value in the API and in imports."""
    actor.require(Role.ADMIN)
    key = key.strip().lower()
    if not KEY.match(key):
        raise InvalidInput(
            N_("A key is a Latin letter, then letters, digits or _ (at most 64), e.g. shoe_size."),
            field="key",
        )
    if any(f.key == key for f in list_fields(session, workspace_id=workspace_id)):
        raise Conflict(N_("A field with the key “{key}” exists already."), field="key", key=key)
    definition = FieldDefinition(
        workspace_id=workspace_id,
        key=key,
        label=accounts.check_name(label, field="label"),
        type=type,
        choices=_clean_choices(type, choices),
    )
    session.add(definition)
    session.flush()
    _audit(session, workspace_id, actor, "field.create", definition)
    return definition


def update_field(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    definition: FieldDefinition,
    label: str | None = None,
    choices: list[str] | None = None,
) -> FieldDefinition:
    """Rename a field or change its choices (its key and type stay: stored values rely on them)."""
    actor.require(Role.ADMIN)
    if label is not None:
        definition.label = accounts.check_name(label, field="label")
    if choices is not None and definition.type is FieldType.CHOICE:
        definition.choices = _clean_choices(definition.type, choices)
    session.flush()
    _audit(session, workspace_id, actor, "field.update", definition)
    return definition


def delete_field(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, definition: FieldDefinition
) -> None:
    """Delete a field definition; values stay stored but hidden (see the module docstring)."""
    actor.require(Role.ADMIN)
    _audit(session, workspace_id, actor, "field.delete", definition)
    session.delete(definition)
    session.flush()


def _audit(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    action: str,
    definition: FieldDefinition,
) -> None:
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        entity_type="field",
        entity_id=definition.id,
        details={"key": definition.key, "label": definition.label, "type": str(definition.type)},
    )


# --- values ------------------------------------------------------------------------------------


def clean_value(definition: FieldDefinition, value: Any) -> Any:
    """A value fit for this field (form text or JSON), None for "empty"; else a clear error."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    cleaner = _CLEANERS[definition.type]
    try:
        return cleaner(definition, value)
    except (ValueError, TypeError):
        raise InvalidInput(
            N_("“{value}” does not fit the field “{label}”: {expected}."),
            field=f"attributes.{definition.key}",
            value=str(value)[:60],
            label=definition.label,
            expected=InvalidInput(_EXPECTED[definition.type]),
        ) from None


def _text(definition: FieldDefinition, value: Any) -> str:
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise ValueError(value)
    return value.strip()


def _number(definition: FieldDefinition, value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int | float):
        number = value
    else:
        text = str(value).strip().replace(" ", "").replace(",", ".")
        number = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(number, float) and (number != number or number in (float("inf"), float("-inf"))):
        raise ValueError(value)
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _date(definition: FieldDefinition, value: Any) -> str:
    return date.fromisoformat(str(value).strip()[:10]).isoformat()


def _boolean(definition: FieldDefinition, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "да"):
        return True
    if text in ("0", "false", "no", "off", "нет"):
        return False
    raise ValueError(value)


def _choice(definition: FieldDefinition, value: Any) -> str:
    text = " ".join(str(value).split())
    if text not in definition.choices:
        raise ValueError(value)
    return text


_CLEANERS = {
    FieldType.TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
    FieldType.BOOLEAN: _boolean,
    FieldType.CHOICE: _choice,
}
_EXPECTED = {
    FieldType.TEXT: N_("text of at most 1000 characters"),
    FieldType.NUMBER: N_("a number"),
    FieldType.DATE: N_("a date such as 2026-03-31"),
    FieldType.BOOLEAN: N_("yes or no"),
    FieldType.CHOICE: N_("one of its choices"),
}


def merged_attributes(
    session: Session, *, workspace_id: uuid.UUID, current: dict[str, Any], changes: Any
) -> dict[str, Any]:
    """The person's attributes with ``changes`` applied, each checked against its field."""
    if not isinstance(changes, dict):
        raise InvalidInput(N_("Custom fields are an object of key and value."), field="attributes")
    definitions = {f.key: f for f in list_fields(session, workspace_id=workspace_id)}
    unknown = sorted(set(changes) - set(definitions))
    if unknown:
        raise InvalidInput(
            N_("Unknown custom fields: {keys}."), field="attributes", keys=", ".join(unknown)[:200]
        )
    merged = dict(current or {})
    for key, raw in changes.items():
        value = clean_value(definitions[key], raw)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
