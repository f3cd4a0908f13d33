"""Reply templates: a starting point the agent edits, with the customer's details filled in.

Variables, in braces: ``{name}`` (how we address them: the custom field "address" /
"обращение" when set, else their first name), ``{full_name}``, ``{order}`` (their latest
order's number), ``{agent}`` (the answering agent's name), ``{agent_first}`` and
``{workspace}``. An unknown or empty variable stays visible in braces, so the agent sees
what to fill in by hand. There is no way to send a template unedited (``replies``).
"""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.db import get_in_workspace
from h2h.errors import N_, Conflict, InvalidInput
from h2h.inbox.models import Conversation, ReplyTemplate
from h2h.people import orders
from h2h.people import service as people

VARIABLES = ("name", "full_name", "order", "agent", "agent_first", "workspace")
ADDRESS_FIELDS = ("address", "обращение", "form_of_address")
MAX_BODY = 5000


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def check_variables(text: str, known: Sequence[str], *, field: str) -> None:
    """Braces balanced and every ``{variable}`` one of ``known`` (also used by follow-ups)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise InvalidInput(
            N_("Unbalanced braces: write variables as {name}."), field=field
        ) from None
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(
            N_("Unknown variable {{{variable}}}; known: {known}."),
            field=field,
            variable=unknown[0],
            known=", ".join(known),
        )


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with its variables filled; an unknown or empty one stays visible in braces."""
    filled = text.format_map(_Keep({k: v for k, v in values.items() if v}))
    return re.sub(r"[ \t]+\n", "\n", filled)


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput(N_("Write the template text."), field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(N_("The template is too long."), field="body")
    check_variables(body, VARIABLES, field="body")
    return body


def list_templates(session: Session, *, workspace_id: uuid.UUID) -> list[ReplyTemplate]:
    return list(
        session.scalars(
            select(ReplyTemplate)
            .where(ReplyTemplate.workspace_id == workspace_id)
            .order_by(ReplyTemplate.name)
        )
    )


def get_template(session: Session, *, workspace_id: uuid.UUID, template_id: Any) -> ReplyTemplate:
    return get_in_workspace(session, ReplyTemplate, workspace_id=workspace_id, id=template_id)


def save_template(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    body: str,
    language: str | None = None,
    template: ReplyTemplate | None = None,
) -> ReplyTemplate:
    actor.require(Role.AGENT)
    name = (name or "").strip()[:200]
    if not name:
        raise InvalidInput(N_("Name the template."), field="name")
    body = _check_body(body)
    clash = session.scalars(
        select(ReplyTemplate).where(
            ReplyTemplate.workspace_id == workspace_id, ReplyTemplate.name == name
        )
    ).one_or_none()
    if clash is not None and clash is not template:
        raise Conflict(N_("A template with this name exists."), field="name")
    if template is None:
        template = ReplyTemplate(workspace_id=workspace_id)
        session.add(template)
    template.name, template.body = name, body
    template.language = language if language in ("ru", "en") else None
    session.flush()
    return template


def delete_template(session: Session, *, actor: accounts.Actor, template: ReplyTemplate) -> None:
    actor.require(Role.AGENT)
    session.delete(template)


def values_for(session: Session, *, conversation: Conversation, agent: User) -> dict[str, str]:
    """The variables' values for this conversation and agent (empty ones left out)."""
    workspace = session.get(Workspace, conversation.workspace_id)
    values = {
        "agent": agent.name,
        "agent_first": agent.name.split()[0] if agent.name.split() else agent.name,
        "workspace": workspace.name if workspace else "",
    }
    person = None
    if conversation.identity_id is not None:
        person = people.persons_by_identity(
            session, workspace_id=conversation.workspace_id, identity_ids=[conversation.identity_id]
        ).get(conversation.identity_id)
    if person is not None and person.erased_at is None:
        attributes = person.attributes or {}
        address = next((str(attributes[k]) for k in ADDRESS_FIELDS if attributes.get(k)), None)
        first = person.first_name or (person.name.split()[0] if person.name.split() else "")
        values["name"] = address or first
        values["full_name"] = person.name
        latest, _ = orders.person_orders(
            session,
            workspace_id=conversation.workspace_id,
            person_id=person.id,
            page=1,
            page_size=1,
        )
        if latest:
            values["order"] = latest[0].external_id
    elif conversation.author_name:
        values["name"] = conversation.author_name.split()[0]
        values["full_name"] = conversation.author_name
    return {k: v for k, v in values.items() if v}


def render(
    session: Session, *, conversation: Conversation, template: ReplyTemplate, agent: User
) -> str:
    return fill(template.body, values_for(session, conversation=conversation, agent=agent))
