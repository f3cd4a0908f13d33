"""Segments: saved filters over persons, with their counts, members and a CSV export.

A segment stores the People list's filters (``directory.PersonQuery``) as JSON, so a
segment always means "whoever matches now": a new customer joins "Champions" the night
the RFM job scores them. Counts are stored with the time they were taken and recounted by
the nightly job and whenever the segment is opened or saved.

Exports (a segment's members, the People list) are one row per person with their
identities, written by ``h2h.exports`` (CSV with a BOM or XLSX, formula cells defused) and
audited with the filters and the row count: the file carries personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h import exports
from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput
from h2h.nlp.models import Sentiment
from h2h.people import directory, interests, service
from h2h.people import fields as custom_fields
from h2h.people.directory import PersonQuery
from h2h.people.models import (
    AccountKind,
    ConsentPurpose,
    IdentityKind,
    LifecycleStage,
    Person,
    Segment,
)
from h2h.people.rfm import RfmSegment

AUDIT_ACTIONS.update(
    {
        "segment.create": N_("saved a segment"),
        "segment.update": N_("changed a segment"),
        "segment.delete": N_("deleted a segment"),
        "segment.export": N_("exported a segment"),
        "people.export": N_("exported people"),
    }
)

NAME_MAX = 200
DESCRIPTION_MAX = 2000
EXPORT_CHUNK = 1000
_ENUMS: dict[str, type[StrEnum]] = {
    "stage": LifecycleStage,
    "account_kind": AccountKind,
    "reachable_on": IdentityKind,
    "rfm_segment": RfmSegment,
    "consent": ConsentPurpose,
    "sentiment": Sentiment,
}
_DAYS = ("contacted_within_days", "silent_for_days")
_KNOWN = {f.name for f in fields(PersonQuery)}


def definition_of(query: PersonQuery) -> dict[str, Any]:
    """The JSON form of a query: only the filters that are set, enums and ids as text."""
    out: dict[str, Any] = {}
    for key, value in asdict(query).items():
        if value is None or value == "":
            continue
        out[key] = str(value) if isinstance(value, uuid.UUID | StrEnum) else value
    return out


def query_of(
    session: Session, *, workspace_id: uuid.UUID, definition: dict[str, Any]
) -> PersonQuery:
    """A query from its JSON form, checked: unknown keys and bad values are refused by name."""
    if not isinstance(definition, dict):
        raise InvalidInput(N_("A segment's filters are a JSON object."), field="filters")
    unknown = sorted(set(definition) - _KNOWN)
    if unknown:
        raise InvalidInput(N_("Unknown filter “{name}”."), field="filters", name=", ".join(unknown))
    values: dict[str, Any] = {}
    for key, value in definition.items():
        if value is None or value == "":
            continue
        if key in _ENUMS:
            try:
                values[key] = _ENUMS[key](value)
            except ValueError:
                raise InvalidInput(
                    N_("“{value}” is not a value of the filter “{name}”."),
                    field=key,
                    value=str(value)[:100],
                    name=key,
                ) from None
        elif key in _DAYS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36_500:
                raise InvalidInput(N_("Days are a whole number from 0 to 36500."), field=key)
            values[key] = value
        elif key == "owner_id":
            try:
                values[key] = uuid.UUID(str(value))
            except ValueError:
                raise InvalidInput(N_("Not a valid owner."), field=key) from None
        elif key == "tag":
            values[key] = service.clean_tag(str(value))
        elif key == "interest":
            values[key] = interests.clean_label(str(value))
        elif key in ("q", "field_key"):
            values[key] = str(value)[:300]
        else:  # field_value: checked against the field's type below
            values[key] = value
    if "field_key" in values or "field_value" in values:
        values["field_value"] = _field_value(
            session, workspace_id, values.get("field_key"), values.get("field_value")
        )
    return PersonQuery(**values)


def _field_value(
    session: Session, workspace_id: uuid.UUID, key: str | None, value: Any
) -> str | int | float | bool:
    definition = next(
        (f for f in custom_fields.list_fields(session, workspace_id=workspace_id) if f.key == key),
        None,
    )
    if definition is None:
        raise InvalidInput(N_("No custom field has the key “{key}”."), field="field_key", key=key)
    cleaned = custom_fields.clean_value(definition, value)
    if cleaned is None:
        raise InvalidInput(N_("Give the value the field must have."), field="field_value")
    return cleaned  # type: ignore[no-any-return]


def _clean_name(name: str) -> str:
    return accounts.check_name(name, field="name")[:NAME_MAX]


def _clean_description(description: str | None) -> str | None:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            N_("At most {limit} characters."), field="description", limit=DESCRIPTION_MAX
        )
    return text or None


def list_segments(session: Session, *, workspace_id: uuid.UUID) -> list[Segment]:
    return list(
        session.scalars(
            select(Segment).where(Segment.workspace_id == workspace_id).order_by(Segment.name)
        )
    )


def get_segment(session: Session, *, workspace_id: uuid.UUID, segment_id: Any) -> Segment:
    return get_in_workspace(session, Segment, workspace_id=workspace_id, id=segment_id)


def _check_unique(
    session: Session, workspace_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None
) -> None:
    for other in list_segments(session, workspace_id=workspace_id):
        if other.id != exclude and other.name.casefold() == name.casefold():
            raise Conflict(N_("A segment named “{name}” exists already."), field="name", name=name)


def create_segment(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    name: str,
    definition: dict[str, Any],
    description: str | None = None,
) -> Segment:
    """Save a filter as a segment (agents and above); counts it at once."""
    actor.require(Role.AGENT)
    name = _clean_name(name)
    query = query_of(session, workspace_id=workspace_id, definition=definition)
    _check_unique(session, workspace_id, name)
    segment = Segment(
        workspace_id=workspace_id,
        name=name,
        description=_clean_description(description),
        definition=definition_of(query),
        created_by_id=actor.user_id,
    )
    session.add(segment)
    session.flush()
    recount(session, workspace_id=workspace_id, segment=segment)
    _audit(session, workspace_id, actor, "segment.create", segment)
    return segment


def update_segment(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    definition: dict[str, Any] | None = None,
) -> Segment:
    actor.require(Role.AGENT)
    if name is not None:
        name = _clean_name(name)
        _check_unique(session, workspace_id, name, exclude=segment.id)
        segment.name = name
    if description is not None:
        segment.description = _clean_description(description)
    if definition is not None:
        query = query_of(session, workspace_id=workspace_id, definition=definition)
        segment.definition = definition_of(query)
    session.flush()
    recount(session, workspace_id=workspace_id, segment=segment)
    _audit(session, workspace_id, actor, "segment.update", segment)
    return segment


def delete_segment(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, segment: Segment
) -> None:
    actor.require(Role.AGENT)
    _audit(session, workspace_id, actor, "segment.delete", segment)
    session.delete(segment)
    session.flush()


def _audit(
    session: Session, workspace_id: uuid.UUID, actor: accounts.Actor, action: str, segment: Segment
) -> None:
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        entity_type="segment",
        entity_id=segment.id,
        details={"name": segment.name, "filters": segment.definition},
    )


def query_for(session: Session, *, workspace_id: uuid.UUID, segment: Segment) -> PersonQuery:
    """The segment's query. A filter that no longer applies (its custom field was deleted)
    raises InvalidInput naming it, rather than silently widening the segment."""
    return query_of(session, workspace_id=workspace_id, definition=segment.definition)


def count(session: Session, *, workspace_id: uuid.UUID, query: PersonQuery) -> int:
    stmt = directory.filtered(select(Person.id), workspace_id, query)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def recount(session: Session, *, workspace_id: uuid.UUID, segment: Segment) -> int:
    """Count the members now and store the count with the time."""
    query = query_for(session, workspace_id=workspace_id, segment=segment)
    segment.member_count = count(session, workspace_id=workspace_id, query=query)
    segment.computed_at = utcnow()
    session.flush()
    return segment.member_count


def recount_all(session: Session, *, workspace_id: uuid.UUID) -> int:
    """Recount every segment of the workspace; one that no longer applies keeps no count."""
    done = 0
    for segment in list_segments(session, workspace_id=workspace_id):
        try:
            recount(session, workspace_id=workspace_id, segment=segment)
        except InvalidInput:
            segment.member_count, segment.computed_at = None, utcnow()
        done += 1
    session.flush()
    return done


def members(
    session: Session, *, workspace_id: uuid.UUID, segment: Segment, page: int = 1
) -> tuple[list[Person], int]:
    query = query_for(session, workspace_id=workspace_id, segment=segment)
    return service.list_persons(session, workspace_id=workspace_id, filters=query, page=page)


# --- exports ------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "name",
    "stage",
    "account_kind",
    "email",
    "phone",
    "other_identities",
    "tags",
    "city",
    "language",
    "first_seen_at",
    "last_seen_at",
    "message_count",
    "order_count",
    "lifetime_value",
    "currency",
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
    "rfm_segment",
)
# The same columns as people read them in the pages' exports (the API keeps the keys above).
EXPORT_TITLES = (
    exports.Column(N_("ID"), 38),
    exports.Column(N_("Name"), 28),
    exports.Column(N_("Lifecycle stage")),
    exports.Column(N_("Account kind")),
    exports.Column(N_("Email"), 28),
    exports.Column(N_("Phone")),
    exports.Column(N_("Other identities"), 30),
    exports.Column(N_("Tags"), 20),
    exports.Column(N_("City")),
    exports.Column(N_("Language"), 10),
    exports.Column(N_("First seen"), 18),
    exports.Column(N_("Last seen"), 18),
    exports.Column(N_("Messages"), 10),
    exports.Column(N_("Orders"), 10),
    exports.Column(N_("Lifetime value"), 14),
    exports.Column(N_("Currency"), 10),
    exports.Column(N_("Recency (R)"), 10),
    exports.Column(N_("Frequency (F)"), 10),
    exports.Column(N_("Monetary (M)"), 10),
    exports.Column(N_("RFM segment"), 20),
)


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets an apostrophe."""
    return exports.safe_text("" if value is None else str(value))


@dataclass(frozen=True)
class Export:
    """What an export will write: the members' query and the workspace's currency."""

    query: PersonQuery
    currency: str
    rows: int = 0


def start_export(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    segment: Segment,
    fmt: str = "csv",
) -> Export:
    """Check the right to export and audit it, with the row count; rows: ``person_rows``."""
    actor.require(Role.AGENT)
    query = query_for(session, workspace_id=workspace_id, segment=segment)
    rows = count(session, workspace_id=workspace_id, query=query)
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="segment.export",
        entity_type="segment",
        entity_id=segment.id,
        details={"name": segment.name, "filters": segment.definition, "rows": rows, "format": fmt},
    )
    currency = service.get_settings(session, workspace_id=workspace_id).currency
    return Export(query, currency, rows)


def start_list_export(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    query: PersonQuery,
    fmt: str,
) -> Export:
    """The People list as a file: agents and above, like a segment's; audited with the
    filters and the number of persons, since the file holds their personal data."""
    actor.require(Role.AGENT)
    rows = count(session, workspace_id=workspace_id, query=query)
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="people.export",
        entity_type="person",
        details={"filters": definition_of(query), "rows": rows, "format": fmt},
    )
    currency = service.get_settings(session, workspace_id=workspace_id).currency
    return Export(query, currency, rows)


def export_rows(session: Session, *, workspace_id: uuid.UUID, export: Export) -> Iterator[str]:
    """The members as CSV text with the column keys, in pieces (the API's format)."""
    rows = person_rows(session, workspace_id=workspace_id, export=export, in_list_order=False)
    return (chunk.decode() for chunk in exports.csv_chunks(EXPORT_COLUMNS, rows))


def person_rows(
    session: Session, *, workspace_id: uuid.UUID, export: Export, in_list_order: bool = True
) -> Iterator[list[Any]]:
    """One row per person with identities and tags; in the People list's order, or by id."""
    if in_list_order:
        stmt = directory.list_statement(workspace_id, export.query)
        pages = exports.scalars_in_pages(session, stmt, EXPORT_CHUNK)
    else:
        pages = _pages_by_id(session, workspace_id, export.query)
    for persons in pages:
        ids = [p.id for p in persons]
        found = directory.identities_of(session, workspace_id=workspace_id, person_ids=ids)
        tags = service.tags_of(session, workspace_id=workspace_id, person_ids=ids)
        for person in persons:
            yield _row(person, found, tags, export.currency)


def _pages_by_id(
    session: Session, workspace_id: uuid.UUID, query: PersonQuery
) -> Iterator[list[Person]]:
    after: uuid.UUID | None = None
    while True:  # keyset pages by id: stable while persons are added during the export
        stmt = directory.filtered(select(Person), workspace_id, query)
        if after is not None:
            stmt = stmt.where(Person.id > after)
        persons = list(session.scalars(stmt.order_by(Person.id).limit(EXPORT_CHUNK)))
        if not persons:
            return
        yield persons
        after = persons[-1].id


def _row(
    person: Person,
    found: dict[uuid.UUID, list[Any]],
    tags: dict[uuid.UUID, list[str]],
    currency: str,
) -> list[Any]:
    by_kind: dict[str, list[str]] = {}
    for identity in found.get(person.id, []):
        by_kind.setdefault(str(identity.kind), []).append(identity.value)
    emails, phones = by_kind.pop("email", []), by_kind.pop("phone", [])
    others = [f"{kind}:{value}" for kind, values in by_kind.items() for value in values]
    return [
        str(person.id),
        person.name,
        str(person.stage),
        str(person.account_kind),
        "; ".join(emails),
        "; ".join(phones),
        "; ".join(others),
        "; ".join(tags.get(person.id, [])),
        person.city,
        person.language,
        person.first_seen_at,
        person.last_seen_at,
        person.message_count,
        person.order_count,
        Decimal(person.lifetime_value).scaleb(-get_currency_precision(currency)),
        currency,
        person.rfm_recency,
        person.rfm_frequency,
        person.rfm_monetary,
        str(person.rfm_segment) if person.rfm_segment else None,
    ]
