"""Data-subject rights (152-FZ, GDPR): export everything about a person, or erase them.

A person is one human across their profile and every profile merged into it, so both
operations take the whole merge tree: the profile asked about and the tombstones merged
into it (each still holding the fields it had before the merge).

Erasure keeps what counts and drops who it was. Messages stay (channel, direction, dates,
language, sentiment and other labels) so that reports add up as before; their words,
author and raw payload go. Orders and events stay with their amounts but lose the link to
the person. The person row stays as a tombstone named "—" with ``erased_at`` set, and the
audit log keeps the erasure — with ids and counts, never a name.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.errors import N_, Conflict
from h2h.nlp import service as nlp
from h2h.people import fields, service
from h2h.people.models import (
    AccountKind,
    Consent,
    ContactBlock,
    Event,
    Identity,
    Merge,
    MergeSuggestion,
    Note,
    Order,
    OrderLine,
    Person,
    PersonInterest,
    PersonMatchKey,
    PersonTag,
)

# Domains that keep copies of a person's words (the inbox's previews, drafts, replies) erase
# them here; people cannot import those domains, so they register. Called with the session,
# the workspace, the person's identity ids and the ids of the messages being erased.
Eraser = Callable[[Session, uuid.UUID, list[uuid.UUID], list[uuid.UUID]], None]
ERASERS: list[Eraser] = []


def on_erase(eraser: Eraser) -> Eraser:
    """Register what another domain must forget when a person is erased."""
    if eraser not in ERASERS:
        ERASERS.append(eraser)
    return eraser


EXPORT_FORMAT = "h2h.person-export"
EXPORT_VERSION = 1
ERASED_NAME = "—"
CHUNK = 500
AUDIT_ACTIONS.update(
    {
        "person.export": N_("exported everything about a person"),
        "person.erase": N_("erased a person at their request"),
    }
)
# Audit details of an erased person's own events that identify nobody.
AUDIT_KEPT = frozenset(
    {"merge_id", "winner_id", "loser_id", "winner", "loser", "automatic", "note_id",
     "consent_id", "channel", "purpose", "status", "identities", "counts"}
)  # fmt: skip
NOT_EXPORTED = frozenset(
    {"workspace_id", "search_text", "text_hash", "minhash", "band0", "band1", "band2", "band3"}
)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def _row(row: Any) -> dict[str, Any]:
    """A row's columns as JSON values (without the workspace and the search internals)."""
    return {
        c.key: _plain(getattr(row, c.key))
        for c in row.__table__.columns
        if c.key not in NOT_EXPORTED
    }


def _chunks(ids: list[Any]) -> list[list[Any]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def merge_tree(session: Session, *, workspace_id: uuid.UUID, person: Person) -> list[Person]:
    """The person and every profile merged into them, at any depth (the person first)."""
    tree, frontier = [person], [person.id]
    while frontier:
        found = list(
            session.scalars(
                select(Person).where(
                    Person.workspace_id == workspace_id, Person.merged_into_id.in_(frontier)
                )
            )
        )
        known = {p.id for p in tree}
        found = [p for p in found if p.id not in known]
        tree += found
        frontier = [p.id for p in found]
    return tree


def _current(session: Session, workspace_id: uuid.UUID, person_id: Any) -> Person:
    person = service.get_person(session, workspace_id=workspace_id, person_id=person_id)
    if person.merged_into_id is not None and person.erased_at is None:
        current = service.current_person(session, workspace_id=workspace_id, person=person)
        raise Conflict(
            N_("This profile was merged into {name}; use that profile instead."),
            field="person_id",
            name=current.name,
        )
    return person


def _identities(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> list[Identity]:
    return list(
        session.scalars(
            select(Identity)
            .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(person_ids))
            .order_by(Identity.created_at)
        )
    )


def _of_person(session: Session, model: Any, workspace_id: uuid.UUID, ids: list[Any]) -> list[Any]:
    return list(
        session.scalars(
            select(model).where(model.workspace_id == workspace_id, model.person_id.in_(ids))
        )
    )


def _by_identity(
    session: Session, model: Any, workspace_id: uuid.UUID, ids: list[Any]
) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows += session.scalars(
            select(model).where(model.workspace_id == workspace_id, model.identity_id.in_(chunk))
        )
    return rows


# --- export -------------------------------------------------------------------------------------


def export_person(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: Any,
    actor: accounts.Actor | None = None,
) -> dict[str, Any]:
    """Everything the workspace holds about the person, as JSON values (an access request).

    With an ``actor`` the export is audited: who took a copy of someone's data matters.
    """
    person = _current(session, workspace_id, person_id)
    if actor is not None:
        accounts.record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action="person.export",
            entity_type="person",
            entity_id=person.id,
        )
    tree = merge_tree(session, workspace_id=workspace_id, person=person)
    ids = [p.id for p in tree]
    identities = _identities(session, workspace_id, ids)
    identity_ids = [i.id for i in identities]
    inbound = channels.inbound_of(session, workspace_id=workspace_id, identity_ids=identity_ids)
    replies = channels.replies_to(session, workspace_id=workspace_id, messages=inbound)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": utcnow().isoformat(),
        "person": _person(session, workspace_id, person),
        "merged_profiles": [_row(p) for p in tree[1:]],
        "tags": sorted({t.tag for t in _of_person(session, PersonTag, workspace_id, ids)}),
        "interests": [_row(i) for i in _of_person(session, PersonInterest, workspace_id, ids)],
        "identities": [_row(i) for i in identities],
        "messages": _messages(session, workspace_id, inbound, analysed=True),
        "replies": _messages(session, workspace_id, replies, analysed=False),
        "orders": _orders(session, workspace_id, identity_ids),
        "events": [_row(e) for e in _by_identity(session, Event, workspace_id, identity_ids)],
        "consents": [_row(c) for c in _of_person(session, Consent, workspace_id, ids)],
        "contact_blocks": [_row(b) for b in _of_person(session, ContactBlock, workspace_id, ids)],
        "notes": _notes(session, workspace_id, ids),
        "merges": _merges(session, workspace_id, {str(i) for i in ids}),
    }


def _person(session: Session, workspace_id: uuid.UUID, person: Person) -> dict[str, Any]:
    data = _row(person)
    labels = {f.key: f.label for f in fields.list_fields(session, workspace_id=workspace_id)}
    data["custom_fields"] = [
        {"key": key, "label": labels.get(key, key), "value": value}
        for key, value in (person.attributes or {}).items()
    ]
    if person.organization_id is not None:
        data["organization"] = service.get_organization(
            session, workspace_id=workspace_id, organization_id=person.organization_id
        ).name
    if person.owner_id is not None:
        data["owner"] = service.member_names(session, workspace_id=workspace_id).get(
            person.owner_id
        )
    return data


def _messages(
    session: Session, workspace_id: uuid.UUID, messages: list[Message], *, analysed: bool
) -> list[dict[str, Any]]:
    names = {c.id: c for c in channels.list_channels(session, workspace_id=workspace_id)}
    analyses: dict[uuid.UUID, Any] = {}
    if analysed:
        for chunk in _chunks([m.id for m in messages]):
            analyses.update(nlp.analyses_of(session, workspace_id=workspace_id, message_ids=chunk))
    out = []
    for message in messages:
        data = _row(message)
        channel = names.get(message.channel_id)
        data["channel"] = {"name": channel.name, "kind": channel.kind.value} if channel else None
        found = analyses.get(message.id)
        if analysed:
            data["analysis"] = {**found.details, "corrected": found.corrected} if found else None
        out.append(data)
    return out


def _orders(
    session: Session, workspace_id: uuid.UUID, identity_ids: list[uuid.UUID]
) -> list[dict[str, Any]]:
    orders = sorted(
        _by_identity(session, Order, workspace_id, identity_ids), key=lambda o: o.placed_at
    )
    lines: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for chunk in _chunks([o.id for o in orders]):
        for line in session.scalars(
            select(OrderLine).where(
                OrderLine.workspace_id == workspace_id, OrderLine.order_id.in_(chunk)
            )
        ):
            lines.setdefault(line.order_id, []).append(_row(line))
    return [{**_row(o), "lines": lines.get(o.id, [])} for o in orders]


def _notes(session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    authors = service.member_names(session, workspace_id=workspace_id)
    notes = sorted(_of_person(session, Note, workspace_id, ids), key=lambda n: n.created_at)
    return [{**_row(n), "author": authors.get(n.author_id) if n.author_id else None} for n in notes]


def _merges(session: Session, workspace_id: uuid.UUID, tree: set[str]) -> list[dict[str, Any]]:
    out = []
    for record in _merges_of(session, workspace_id, tree):
        # An undone merge joined two different humans: nothing of the other one goes out.
        own = {str(record.winner_id), str(record.loser_id)} <= tree
        out.append(
            {
                "id": str(record.id),
                "winner_id": str(record.winner_id),
                "loser_id": str(record.loser_id),
                "merged_at": _plain(record.merged_at),
                "undone_at": _plain(record.undone_at),
                "automatic": record.automatic,
                "score": record.score,
                "evidence": record.evidence if own else [],
            }
        )
    return out


def _merges_of(session: Session, workspace_id: uuid.UUID, tree: set[str]) -> list[Merge]:
    ids = [uuid.UUID(i) for i in tree]
    return list(
        session.scalars(
            select(Merge)
            .where(
                Merge.workspace_id == workspace_id,
                or_(Merge.winner_id.in_(ids), Merge.loser_id.in_(ids)),
            )
            .order_by(Merge.merged_at)
        )
    )


# --- erase ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed: counts only, safe to log and to show."""

    person_id: str
    erased_at: str
    profiles: int
    identities: int
    messages: int
    replies: int
    orders: int
    events: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erase_person(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, person_id: Any
) -> Erasure:
    """Erase a person at their request: irreversible; owners and admins only.

    The edges ask for an explicit confirmation first (a typed word, ``--yes``).
    """
    actor.require(Role.ADMIN)
    person = _current(session, workspace_id, person_id)
    if person.erased_at is not None:
        raise Conflict(N_("This person was already erased."))
    if session.get_bind().dialect.name == "sqlite":
        # Deleted and overwritten cells are zeroed in the file, not only unlinked.
        session.execute(text("PRAGMA secure_delete = ON"))
    report = _erase(session, workspace_id, person)
    counts = {k: v for k, v in report.as_dict().items() if isinstance(v, int)}
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="person.erase",
        entity_type="person",
        entity_id=person.id,
        details={"counts": counts},
    )
    session.flush()
    session.expire_all()  # rows loaded above were changed by bulk statements
    return report


def _erase(session: Session, workspace_id: uuid.UUID, person: Person) -> Erasure:
    tree = merge_tree(session, workspace_id=workspace_id, person=person)
    ids = [p.id for p in tree]
    identity_ids = [i.id for i in _identities(session, workspace_id, ids)]
    inbound = channels.inbound_of(session, workspace_id=workspace_id, identity_ids=identity_ids)
    replies = channels.replies_to(session, workspace_id=workspace_id, messages=inbound)
    # Analyses first: a message not analysed yet must be, while its text still exists.
    nlp.erase_analyses(session, workspace_id=workspace_id, message_ids=[m.id for m in inbound])
    for eraser in ERASERS:
        eraser(session, workspace_id, identity_ids, [m.id for m in inbound + replies])
    ingest.erase_messages(
        session, workspace_id=workspace_id, message_ids=[m.id for m in inbound + replies]
    )
    orders = _unlink(session, Order, workspace_id, identity_ids)
    events = _unlink(session, Event, workspace_id, identity_ids, properties={})
    _delete_personal(session, workspace_id, ids)
    tree_ids = {str(i) for i in ids}
    winners = _strip_merges(session, workspace_id, tree_ids)
    _tombstone(tree)
    accounts.redact_audit(
        session,
        workspace_id=workspace_id,
        entity_type="person",
        entity_ids=sorted(tree_ids | winners),
        redact=_redactor(tree_ids),
    )
    return Erasure(
        person_id=str(person.id),
        erased_at=_plain(person.erased_at),
        profiles=len(tree),
        identities=len(identity_ids),
        messages=len(inbound),
        replies=len(replies),
        orders=orders,
        events=events,
    )


def _unlink(
    session: Session,
    model: Any,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    **values: Any,
) -> int:
    """Orders and events stay (revenue and traffic totals) but no longer point at anyone."""
    count = 0
    for chunk in _chunks(identity_ids):
        result = session.execute(
            update(model)
            .where(model.workspace_id == workspace_id, model.identity_id.in_(chunk))
            .values(identity_id=None, **values)
            .execution_options(synchronize_session=False)
        )
        count += getattr(result, "rowcount", 0) or 0
    return count


def _delete_personal(session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    models = (
        Identity,
        Note,
        Consent,
        ContactBlock,
        PersonTag,
        PersonInterest,
        PersonMatchKey,
    )
    for model in models:
        session.execute(
            delete(model)
            .where(model.workspace_id == workspace_id, model.person_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(MergeSuggestion)
        .where(
            MergeSuggestion.workspace_id == workspace_id,
            or_(MergeSuggestion.person_a_id.in_(ids), MergeSuggestion.person_b_id.in_(ids)),
        )
        .execution_options(synchronize_session=False)
    )


def _strip_merges(session: Session, workspace_id: uuid.UUID, tree: set[str]) -> set[str]:
    """Merge records keep who and when, not what the erased side looked like; returns the
    winners (whose audit events name both sides)."""
    winners = set()
    for record in _merges_of(session, workspace_id, tree):
        snapshot = dict(record.snapshot or {})
        for side in ("winner", "loser"):
            if str(getattr(record, f"{side}_id")) in tree:
                snapshot[side] = {"name": ERASED_NAME}
        snapshot.update(dropped={}, filled={"fields": {}, "attributes": {}})
        record.snapshot, record.evidence = snapshot, []
        winners.add(str(record.winner_id))
    return winners


def _tombstone(tree: list[Person]) -> None:
    now = utcnow()
    for person in tree:
        person.name, person.name_key = ERASED_NAME, ""
        person.first_name = person.last_name = person.avatar_url = None
        person.language = person.city = None
        person.organization_id = person.owner_id = None
        person.account_kind, person.liveness, person.liveness_reasons = (
            AccountKind.UNKNOWN,
            None,
            [],
        )
        person.attributes = {}
        person.erased_at = now


def _redactor(tree: set[str]) -> Any:
    def redact(entity_id: str | None, details: dict[str, Any]) -> dict[str, Any]:
        out = dict(details)
        for side in ("winner", "loser"):
            if str(out.get(f"{side}_id")) in tree and side in out:
                out[side] = ERASED_NAME
        if entity_id in tree:
            out = {key: value for key, value in out.items() if key in AUDIT_KEPT}
        return out

    return redact
