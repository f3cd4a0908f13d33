"""Operations on persons: the profile itself, its aggregates and the workspace's policy.

The people domain's writers are split by subject — ``identities`` (creating identities),
``linking`` (message authors), ``merging`` (merge and unmerge), ``commerce`` (orders,
events), ``consent``, ``privacy`` (export, erase), ``segments`` — and this module holds
what they share. Other domains call ``from h2h.people import service``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Message
from h2h.db import get_in_workspace, memoized, utcnow
from h2h.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from h2h.nlp import service as nlp
from h2h.people import fields, identities, lifecycle
from h2h.people.fields import create_field as create_field
from h2h.people.fields import delete_field as delete_field
from h2h.people.fields import get_field as get_field
from h2h.people.fields import list_fields as list_fields
from h2h.people.fields import update_field as update_field
from h2h.people.models import (
    Identity,
    IdentityKind,
    LifecycleStage,
    Note,
    Order,
    Organization,
    PeopleSettings,
    Person,
    PersonTag,
)
from h2h.people.names import name_key

CHUNK = 500
TAG_MAX = 100
NOTE_MAX = 10_000

AUDIT_ACTIONS.update(
    {
        "person.create": N_("added a person"),
        "person.update": N_("changed a person's profile"),
        "person.tag": N_("tagged a person"),
        "person.untag": N_("removed a tag from a person"),
        "note.create": N_("wrote a note about a person"),
        "note.delete": N_("deleted a note about a person"),
    }
)


def get_person(session: Session, *, workspace_id: uuid.UUID, person_id: Any) -> Person:
    """A person of the workspace (merged and erased ones too: callers decide what to show)."""
    return get_in_workspace(session, Person, workspace_id=workspace_id, id=person_id)


def current_person(session: Session, *, workspace_id: uuid.UUID, person: Person) -> Person:
    """The person a merged one lives on in (following merges of merges); else the person."""
    seen = {person.id}
    while person.merged_into_id is not None:
        person = get_person(session, workspace_id=workspace_id, person_id=person.merged_into_id)
        if person.id in seen:  # a cycle would be a bug elsewhere; never loop on it
            break
        seen.add(person.id)
    return person


def identity_ids(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID
) -> list[uuid.UUID]:
    """Ids of the person's identities: what their messages, orders and events point at."""
    stmt = select(Identity.id).where(
        Identity.workspace_id == workspace_id, Identity.person_id == person_id
    )
    return list(
        memoized(
            session, ("identity_ids", workspace_id, person_id), lambda: list(session.scalars(stmt))
        )
    )


# The identity kind a channel addresses people by (Telegram and VK ids are private chats).
ADDRESS_KIND = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.TELEGRAM: IdentityKind.TELEGRAM,
    ChannelKind.VK: IdentityKind.VK,
}


def contact_identity(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID, channel: ChannelKind
) -> Identity | None:
    """The identity to write to this person on a channel of this kind (the newest one)."""
    kind = ADDRESS_KIND.get(ChannelKind(channel))
    if kind is None:
        return None
    return session.scalars(
        select(Identity)
        .where(
            Identity.workspace_id == workspace_id,
            Identity.person_id == person_id,
            Identity.kind == kind,
        )
        .order_by(Identity.last_seen_at.desc())
        .limit(1)
    ).first()


def identity_owners(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Identity id → person id for the identities of these persons (to sum per person what
    the NLP and subjects domains count per author identity)."""
    rows = session.execute(
        select(Identity.id, Identity.person_id).where(
            Identity.workspace_id == workspace_id, Identity.person_id.in_(list(person_ids))
        )
    )
    return {identity_id: person_id for identity_id, person_id in rows}


def persons_by_identity(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Person]:
    """Identity id → the person it belongs to now (merges move identities, not messages)."""
    if not identity_ids:
        return {}
    rows = session.execute(
        select(Identity.id, Person)
        .join(
            Person,
            (Person.workspace_id == Identity.workspace_id) & (Person.id == Identity.person_id),
        )
        .where(Identity.workspace_id == workspace_id, Identity.id.in_(list(identity_ids)))
    )
    return {identity_id: person for identity_id, person in rows}


def get_settings(session: Session, *, workspace_id: uuid.UUID) -> PeopleSettings:
    """The workspace's people policy; the defaults until someone changes them."""
    found = session.scalars(
        select(PeopleSettings).where(PeopleSettings.workspace_id == workspace_id)
    ).one_or_none()
    if found is None:
        found = PeopleSettings(workspace_id=workspace_id)
        session.add(found)
        session.flush()
    return found


def refresh_aggregates(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> None:
    """Recount messages and orders of these persons from their identities; re-derive stage."""
    policy = get_settings(session, workspace_id=workspace_id)
    now = utcnow()
    ids = list(dict.fromkeys(person_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        messages = _message_figures(session, workspace_id, chunk)
        orders = _order_figures(session, workspace_id, chunk)
        signals = _signals(session, workspace_id, chunk)
        persons = session.scalars(
            select(Person).where(Person.workspace_id == workspace_id, Person.id.in_(chunk))
        ).all()
        rows = []
        for person in persons:
            count, first, last = messages.get(person.id, (0, None, None))
            n_orders, value, first_order, last_order = orders.get(person.id, (0, 0, None, None))
            person.message_count, person.order_count, person.lifetime_value = count, n_orders, value
            person.first_order_at, person.last_order_at = first_order, last_order
            seen = [t for t in (first, first_order, person.first_seen_at) if t is not None]
            last_seen = [t for t in (last, last_order) if t is not None]
            rows.append(
                {
                    "workspace_id": workspace_id,
                    "id": person.id,
                    "message_count": count,
                    "order_count": n_orders,
                    "lifetime_value": value,
                    "first_order_at": first_order,
                    "last_order_at": last_order,
                    "first_seen_at": min(seen) if seen else None,
                    "last_seen_at": max(last_seen) if last_seen else person.last_seen_at,
                    "stage": lifecycle.derive_stage(
                        person=person,
                        lapsed_after_days=policy.lapsed_after_days,
                        now=now,
                        signals=signals.get(person.id),
                    ),
                }
            )
        if rows:
            session.execute(update(Person), rows)
    session.expire_all()


def _message_figures(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, Any, Any]]:
    rows = session.execute(
        select(
            Identity.person_id,
            func.count(Message.id),
            func.min(Message.created_at),
            func.max(Message.created_at),
        )
        .join(
            Message,
            (Message.workspace_id == Identity.workspace_id) & (Message.identity_id == Identity.id),
        )
        .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(person_ids))
        .group_by(Identity.person_id)
    )
    return {row[0]: (row[1], as_utc(row[2]), as_utc(row[3])) for row in rows}


def _signals(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, lifecycle.Signals]:
    """Buying and praising messages per person, for the lifecycle stage."""
    owners = identity_owners(session, workspace_id=workspace_id, person_ids=person_ids)
    buying = nlp.buying_signals(session, workspace_id=workspace_id, identity_ids=list(owners))
    praise = nlp.praise_counts(session, workspace_id=workspace_id, identity_ids=list(owners))
    per_person: dict[uuid.UUID, list[int]] = {}
    for counts, slot in ((buying, 0), (praise, 1)):
        for identity_id, count in counts.items():
            per_person.setdefault(owners[identity_id], [0, 0])[slot] += count
    return {pid: lifecycle.Signals(buying=b, praise=p) for pid, (b, p) in per_person.items()}


def _order_figures(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int, Any, Any]]:
    # A cancellation refunds money but is not an order of its own.
    purchases = func.count(case((Order.is_cancellation.is_(False), 1)))
    rows = session.execute(
        select(
            Identity.person_id,
            purchases,
            func.coalesce(func.sum(Order.total), 0),
            func.min(Order.placed_at),
            func.max(Order.placed_at),
        )
        .join(
            Order,
            (Order.workspace_id == Identity.workspace_id) & (Order.identity_id == Identity.id),
        )
        .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(person_ids))
        .group_by(Identity.person_id)
    )
    return {row[0]: (int(row[1] or 0), int(row[2]), as_utc(row[3]), as_utc(row[4])) for row in rows}


def as_utc(value: Any) -> Any:
    """Aggregates come back naive from SQLite (the column type is not applied to them)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def list_persons(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    filters: Any = None,
    page: int = 1,
) -> tuple[list[Person], int]:
    """A page of the People list and the number of matches (see ``directory``)."""
    from h2h.people import directory  # directory searches with this module's normalisers

    return directory.list_persons(session, workspace_id=workspace_id, filters=filters, page=page)


# --- members of the workspace ----------------------------------------------------------------


def member_names(session: Session, *, workspace_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Names of the workspace's members by user id: owners of persons, authors of notes."""

    def compute() -> dict[uuid.UUID, str]:
        members = accounts.list_members(session, workspace_id=workspace_id)
        return {m.user_id: m.user.name for m in members}

    return dict(memoized(session, ("member_names", workspace_id), compute))


def _check_owner(session: Session, workspace_id: uuid.UUID, owner_id: uuid.UUID | None) -> None:
    if owner_id is not None and owner_id not in member_names(session, workspace_id=workspace_id):
        raise InvalidInput(N_("The owner must be a member of this workspace."), field="owner_id")


# --- creating and changing persons -------------------------------------------------------------


def normal_email(raw: str) -> str:
    """An email address as identities store it; a clear error if it is not one."""
    value = identities.normalize_email(raw)
    if value is None:
        raise InvalidInput(
            N_("“{email}” is not a valid email address."), field="email", email=raw[:100]
        )
    return value


def normal_phone(raw: str, region: str = identities.DEFAULT_REGION) -> str:
    """A phone number in E.164 as identities store it; a clear error if it is not one."""
    value = identities.normalize_phone(raw, region)
    if value is None:
        raise InvalidInput(
            N_("“{phone}” is not a phone number we can read; write it with the country code."),
            field="phone",
            phone=raw[:60],
        )
    return value


def _claims(name: str, email: str | None, phone: str | None) -> list[identities.Claim]:
    claims = []
    if email and email.strip():
        claims.append(
            identities.Claim(
                IdentityKind.EMAIL, normal_email(email), display=email.strip(), name=name
            )
        )
    if phone and phone.strip():
        claims.append(
            identities.Claim(
                IdentityKind.PHONE, normal_phone(phone), display=phone.strip(), name=name
            )
        )
    if not claims:
        # Someone staff met (a fair, a call): a walk-in identity keeps offline activity theirs.
        claims.append(
            identities.Claim(IdentityKind.WALKIN, uuid.uuid4().hex, display=name, name=name)
        )
    return claims


def _refuse_known(
    session: Session, workspace_id: uuid.UUID, claims: list[identities.Claim]
) -> None:
    for claim in claims:
        known = session.scalars(
            select(Identity).where(
                Identity.workspace_id == workspace_id,
                Identity.kind == claim.kind,
                Identity.namespace == claim.namespace,
                Identity.value == claim.value,
            )
        ).one_or_none()
        if known is not None:
            owner = get_person(session, workspace_id=workspace_id, person_id=known.person_id)
            raise Conflict(
                N_("{value} already belongs to {name}."),
                field=str(claim.kind),
                value=known.display,
                name=owner.name,
            )


def create_person(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Person:
    """Add a person by hand, with an email and/or a phone if known (else a walk-in)."""
    actor.require(Role.AGENT)
    name = accounts.check_name(name, max_length=300)
    claims = _claims(name, email, phone)
    _refuse_known(session, workspace_id, claims)
    found = identities.ensure(session, workspace_id=workspace_id, claims=claims[:1])
    person = get_person(
        session, workspace_id=workspace_id, person_id=found[claims[0].key].person_id
    )
    for claim in claims[1:]:
        _attach(session, workspace_id, person, claim)
    person.name, person.name_key = name, name_key(name)
    if changes:
        _apply(session, workspace_id, person, dict(changes))
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="person.create",
        entity_type="person",
        entity_id=person.id,
        details={"name": name, "identities": [c.kind.value for c in claims]},
    )
    session.flush()
    return person


def _attach(
    session: Session, workspace_id: uuid.UUID, person: Person, claim: identities.Claim
) -> None:
    """A second identity of a new person: ``ensure`` would give it a person of its own."""
    found = identities.ensure(session, workspace_id=workspace_id, claims=[claim])[claim.key]
    session.execute(
        update(Identity)
        .where(Identity.workspace_id == workspace_id, Identity.id == found.identity_id)
        .values(person_id=person.id)
    )
    session.execute(
        delete(Person).where(Person.workspace_id == workspace_id, Person.id == found.person_id)
    )


TEXT_FIELDS = {"first_name": 150, "last_name": 150, "city": 150}
PERSON_FIELDS = {
    "name",
    "language",
    "organization",
    "owner_id",
    "stage",
    "attributes",
    *TEXT_FIELDS,
}


def update_person(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person: Person,
    changes: dict[str, Any],
) -> Person:
    """Change what staff know of a person; ``changes`` holds only the fields to change.

    Keys: name, first_name, last_name, city, language, organization (a name, or None),
    owner_id (a member, or None), stage (a LifecycleStage, or None to derive it from
    activity again) and attributes (custom field key → value, None to clear).
    """
    actor.require(Role.AGENT)
    check_editable(person)
    unknown = sorted(set(changes) - PERSON_FIELDS)
    if unknown:
        raise InvalidInput(N_("Unknown person fields: {fields}."), fields=", ".join(unknown))
    diff = _apply(session, workspace_id, person, changes)
    if diff:
        accounts.record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action="person.update",
            entity_type="person",
            entity_id=person.id,
            details=diff,
        )
    session.flush()
    return person


def check_editable(person: Person) -> None:
    if person.erased_at is not None:
        raise Conflict(N_("This person was erased; nothing about them can be changed."))
    if person.merged_into_id is not None:
        raise Conflict(N_("This person was merged into another; change that profile instead."))


def _apply(
    session: Session, workspace_id: uuid.UUID, person: Person, changes: dict[str, Any]
) -> dict[str, Any]:
    """Validate and set the changes; returns {field: [before, after]} of what really changed."""
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = accounts.check_name(changes["name"] or "", max_length=300)
    for key, limit in TEXT_FIELDS.items():
        if key in changes:
            values[key] = _short_text(changes[key], key, limit)
    if "language" in changes:
        values["language"] = _language(changes["language"])
    if "owner_id" in changes:
        _check_owner(session, workspace_id, changes["owner_id"])
        values["owner_id"] = changes["owner_id"]
    if "organization" in changes:
        org = (changes["organization"] or "").strip()
        values["organization_id"] = (
            get_or_create_organization(session, workspace_id=workspace_id, name=org).id
            if org
            else None
        )
    if "attributes" in changes:
        values["attributes"] = fields.merged_attributes(
            session,
            workspace_id=workspace_id,
            current=person.attributes,
            changes=changes["attributes"],
        )
    diff = {
        key: [_plain(getattr(person, key)), _plain(value)]
        for key, value in values.items()
        if getattr(person, key) != value
    }
    for key, value in values.items():
        setattr(person, key, value)
    if "name" in values:
        person.name_key = name_key(values["name"])
    if "stage" in changes:
        diff.update(_set_stage(session, workspace_id, person, changes["stage"]))
    return diff


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _short_text(value: Any, field: str, limit: int) -> str | None:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise InvalidInput(N_("At most {n} characters, please."), field=field, n=limit)
    return text or None


def _language(value: Any) -> str | None:
    code = str(value or "").strip().lower()
    if code and (len(code) > 8 or not code.replace("-", "").isalpha()):
        raise InvalidInput(N_("A language is a code such as “ru” or “en”."), field="language")
    return code or None


def _set_stage(
    session: Session, workspace_id: uuid.UUID, person: Person, stage: Any
) -> dict[str, Any]:
    before = [person.stage.value, person.stage_manual]
    if stage is None or stage == "":
        # Back to automatic: the stage follows the rules (lifecycle.py) again.
        person.stage_manual = False
        session.flush()
        refresh_aggregates(session, workspace_id=workspace_id, person_ids=[person.id])
        session.refresh(person)
    else:
        try:
            person.stage = LifecycleStage(stage)
        except ValueError:
            raise InvalidInput(N_("Unknown lifecycle stage."), field="stage") from None
        person.stage_manual = True
    after = [person.stage.value, person.stage_manual]
    return {"stage": [before, after]} if before != after else {}


# --- tags ----------------------------------------------------------------------------------------


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, single-spaced, lower case."""
    cleaned = " ".join(tag.split()).lower()
    if not cleaned:
        raise InvalidInput(N_("Write the tag."), field="tag")
    if len(cleaned) > TAG_MAX:
        raise InvalidInput(N_("A tag has at most {n} characters."), field="tag", n=TAG_MAX)
    return cleaned


def tags_of(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Tags of these persons, alphabetically, by person id."""
    out: dict[uuid.UUID, list[str]] = {}
    if not person_ids:
        return out
    rows = session.execute(
        select(PersonTag.person_id, PersonTag.tag)
        .where(PersonTag.workspace_id == workspace_id, PersonTag.person_id.in_(list(person_ids)))
        .order_by(PersonTag.tag)
    )
    for person_id, tag in rows:
        out.setdefault(person_id, []).append(tag)
    return out


def workspace_tags(session: Session, *, workspace_id: uuid.UUID, limit: int = 500) -> list[str]:
    """Tags in use in the workspace, alphabetically (for filters and suggestions)."""
    return list(
        session.scalars(
            select(PersonTag.tag)
            .where(PersonTag.workspace_id == workspace_id)
            .group_by(PersonTag.tag)
            .order_by(PersonTag.tag)
            .limit(limit)
        )
    )


def add_tag(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, person: Person, tag: str
) -> str:
    """Tag a person (a tag they already have is kept once)."""
    actor.require(Role.AGENT)
    check_editable(person)
    tag = clean_tag(tag)
    if tag in tags_of(session, workspace_id=workspace_id, person_ids=[person.id]).get(
        person.id, []
    ):
        return tag
    session.add(PersonTag(workspace_id=workspace_id, person_id=person.id, tag=tag))
    audit_person(session, workspace_id, actor, "person.tag", person, tag=tag)
    return tag


def remove_tag(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, person: Person, tag: str
) -> None:
    """Take a tag off a person; a tag they do not have is not found."""
    actor.require(Role.AGENT)
    check_editable(person)
    cleaned = " ".join(tag.split()).lower()
    result = session.execute(
        delete(PersonTag).where(
            PersonTag.workspace_id == workspace_id,
            PersonTag.person_id == person.id,
            PersonTag.tag == cleaned,
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(N_("This person has no tag “{tag}”."), tag=cleaned[:TAG_MAX])
    audit_person(session, workspace_id, actor, "person.untag", person, tag=cleaned)


def audit_person(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    action: str,
    person: Person,
    **details: Any,
) -> None:
    """An audit entry about a person. ``details`` must not quote them: the entry outlives an
    erasure."""
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        entity_type="person",
        entity_id=person.id,
        details=details,
    )


# --- notes -----------------------------------------------------------------------------------


def add_note(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, person: Person, text: str
) -> Note:
    """Write a note about a person; it shows on their timeline."""
    actor.require(Role.AGENT)
    check_editable(person)
    text = text.strip()
    if not text:
        raise InvalidInput(N_("Write the note."), field="text")
    if len(text) > NOTE_MAX:
        raise InvalidInput(N_("A note has at most {n} characters."), field="text", n=NOTE_MAX)
    note = Note(workspace_id=workspace_id, person_id=person.id, author_id=actor.user_id, text=text)
    session.add(note)
    session.flush()
    audit_person(session, workspace_id, actor, "note.create", person, note_id=str(note.id))
    return note


def get_note(session: Session, *, workspace_id: uuid.UUID, note_id: Any) -> Note:
    return get_in_workspace(session, Note, workspace_id=workspace_id, id=note_id)


def delete_note(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, note: Note
) -> None:
    """Delete a note: its author may, and so may admins."""
    actor.require(Role.AGENT)
    if note.author_id != actor.user_id and not (actor.role and actor.role.at_least(Role.ADMIN)):
        raise PermissionDenied(N_("Only the author of a note or an admin may delete it."))
    person = get_person(session, workspace_id=workspace_id, person_id=note.person_id)
    session.delete(note)
    session.flush()
    audit_person(session, workspace_id, actor, "note.delete", person, note_id=str(note.id))


# --- organizations -------------------------------------------------------------------------------


def get_or_create_organization(
    session: Session, *, workspace_id: uuid.UUID, name: str
) -> Organization:
    """The workspace's organization of this name, created if new."""
    name = accounts.check_name(name, field="organization", max_length=300)
    found = session.scalars(
        select(Organization).where(
            Organization.workspace_id == workspace_id, Organization.name == name
        )
    ).one_or_none()
    if found is None:
        found = Organization(workspace_id=workspace_id, name=name)
        session.add(found)
        session.flush()
    return found


def list_organizations(
    session: Session, *, workspace_id: uuid.UUID, limit: int = 500
) -> list[Organization]:
    """Organizations of the workspace by name (for the profile form's suggestions)."""
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.workspace_id == workspace_id)
            .order_by(Organization.name)
            .limit(limit)
        )
    )


def get_organization(
    session: Session, *, workspace_id: uuid.UUID, organization_id: Any
) -> Organization:
    return get_in_workspace(session, Organization, workspace_id=workspace_id, id=organization_id)
