"""Finding persons: the People list with its filters, and search by name or identity.

Search compares ``name_key`` (transliterated, lower case), so "Ivanov" finds "Иванов"
and "иванов" finds "Ivanov"; a word matches at the start of any word of the name. It also
finds the person behind an identity value: an email address, a phone in any format, a
handle with or without "@". Merged and erased persons are not listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased

from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.nlp.models import Analysis, Sentiment
from h2h.people import identities
from h2h.people.models import (
    ANY_CHANNEL,
    AccountKind,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    ContactBlock,
    Identity,
    IdentityKind,
    LifecycleStage,
    Person,
    PersonInterest,
    PersonTag,
)
from h2h.people.names import name_key

PAGE_SIZE = 50


@dataclass(frozen=True)
class PersonQuery:
    """What the People list shows: a search and filters (all optional, combined with AND)."""

    q: str = ""
    stage: LifecycleStage | None = None
    account_kind: AccountKind | None = None
    tag: str | None = None
    interest: str | None = None  # an interest or value (explicit or inferred, not dismissed)
    reachable_on: IdentityKind | None = None  # has an identity of this kind
    owner_id: uuid.UUID | None = None
    contacted_within_days: int | None = None
    silent_for_days: int | None = None  # no contact for at least this many days
    rfm_segment: str | None = None  # an rfm.RfmSegment value
    consent: ConsentPurpose | None = None  # may receive this on at least one channel
    sentiment: Sentiment | None = None  # wrote a message of this tone in the last 90 days
    field_key: str | None = None  # a custom field equal to ``field_value`` (already cleaned)
    field_value: str | int | float | bool | None = None


SENTIMENT_WINDOW_DAYS = 90


def list_persons(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    filters: PersonQuery | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Person], int]:
    """A page of persons, most recently in contact first, and how many match in all."""
    stmt = filtered(select(Person), workspace_id, filters or PersonQuery())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    persons = session.scalars(
        _in_list_order(stmt).offset((max(page, 1) - 1) * page_size).limit(page_size)
    ).all()
    return list(persons), int(total)


def list_statement(workspace_id: uuid.UUID, filters: PersonQuery) -> Select[Any]:
    """Every person the list shows, in its order (the exports read it in pages)."""
    return _in_list_order(filtered(select(Person), workspace_id, filters))


def _in_list_order(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(Person.last_seen_at.desc(), Person.id.desc())


def filtered(stmt: Select[Any], workspace_id: uuid.UUID, filters: PersonQuery) -> Select[Any]:
    """``stmt`` over persons limited to the workspace's live persons matching ``filters``."""
    stmt = stmt.where(
        Person.workspace_id == workspace_id,
        Person.merged_into_id.is_(None),
        Person.erased_at.is_(None),
    )
    if filters.q.strip():
        stmt = stmt.where(search_condition(workspace_id, filters.q))
    if filters.stage is not None:
        stmt = stmt.where(Person.stage == filters.stage)
    if filters.account_kind is not None:
        stmt = stmt.where(Person.account_kind == filters.account_kind)
    if filters.owner_id is not None:
        stmt = stmt.where(Person.owner_id == filters.owner_id)
    if filters.tag:
        tagged = select(PersonTag.person_id).where(
            PersonTag.workspace_id == workspace_id, PersonTag.tag == filters.tag
        )
        stmt = stmt.where(Person.id.in_(tagged))
    if filters.interest:
        interested = select(PersonInterest.person_id).where(
            PersonInterest.workspace_id == workspace_id,
            PersonInterest.label == filters.interest,
            PersonInterest.dismissed_at.is_(None),
        )
        stmt = stmt.where(Person.id.in_(interested))
    if filters.reachable_on is not None:
        reachable = select(Identity.person_id).where(
            Identity.workspace_id == workspace_id, Identity.kind == filters.reachable_on
        )
        stmt = stmt.where(Person.id.in_(reachable))
    now = utcnow()
    if filters.contacted_within_days is not None:
        stmt = stmt.where(
            Person.last_seen_at >= now - timedelta(days=filters.contacted_within_days)
        )
    if filters.silent_for_days is not None:
        stmt = stmt.where(Person.last_seen_at < now - timedelta(days=filters.silent_for_days))
    if filters.rfm_segment:
        stmt = stmt.where(Person.rfm_segment == filters.rfm_segment)
    if filters.consent is not None:
        stmt = stmt.where(Person.id.in_(consenting(workspace_id, filters.consent)))
    if filters.sentiment is not None:
        since = now - timedelta(days=SENTIMENT_WINDOW_DAYS)
        stmt = stmt.where(Person.id.in_(wrote_with(workspace_id, filters.sentiment, since)))
    if filters.field_key and filters.field_value is not None:
        stmt = stmt.where(field_condition(filters.field_key, filters.field_value))
    return stmt


def consenting(workspace_id: uuid.UUID, purpose: ConsentPurpose) -> Select[Any]:
    """Persons the latest statements allow ``purpose`` on at least one channel, unblocked.

    The SQL form of ``consent.may_contact`` rule 5 for "some channel": a grant on a channel
    (or on "any") with no withdrawal on that channel or on "any" at or after it — a
    withdrawal at the same instant wins — and no do-not-contact block on that channel or
    on "any". Persons with no statement are not included: marketing needs consent.
    """
    grant, later = aliased(Consent), aliased(Consent)
    withdrawn_since = (
        select(later.id)
        .where(
            later.workspace_id == grant.workspace_id,
            later.person_id == grant.person_id,
            later.purpose == grant.purpose,
            later.status == ConsentStatus.WITHDRAWN,
            later.recorded_at >= grant.recorded_at,
            or_(later.channel == grant.channel, later.channel == ANY_CHANNEL),
        )
        .exists()
    )
    blocked = (
        select(ContactBlock.id)
        .where(
            ContactBlock.workspace_id == grant.workspace_id,
            ContactBlock.person_id == grant.person_id,
            or_(ContactBlock.channel == grant.channel, ContactBlock.channel == ANY_CHANNEL),
        )
        .exists()
    )
    return select(grant.person_id).where(
        grant.workspace_id == workspace_id,
        grant.purpose == purpose,
        grant.status == ConsentStatus.GRANTED,
        ~withdrawn_since,
        ~blocked,
    )


def wrote_with(workspace_id: uuid.UUID, sentiment: Sentiment, since: Any) -> Select[Any]:
    """Persons who wrote at least one message of this sentiment since ``since``."""
    return (
        select(Identity.person_id)
        .join(
            Message,
            (Message.workspace_id == Identity.workspace_id) & (Message.identity_id == Identity.id),
        )
        .join(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            Identity.workspace_id == workspace_id,
            Analysis.sentiment == sentiment,
            Message.created_at >= since,
        )
    )


def field_condition(key: str, value: str | int | float | bool) -> Any:
    """A custom field (in ``persons.attributes``) equal to a value of the field's type."""
    element = Person.attributes[key]
    if isinstance(value, bool):
        return element.as_boolean() == value
    if isinstance(value, int | float):
        return element.as_float() == float(value)
    return element.as_string() == value


def identity_values(q: str) -> list[str]:
    """The normalised values a search text could be: as typed, lower case, a phone, a handle."""
    text = q.strip()
    values = {text, text.lower(), text.lstrip("@").lower()}
    values.add(identities.normalize_email(text) or "")
    if identities.looks_like_phone(text):
        values.add(identities.normalize_phone(text) or "")
    return sorted(v for v in values if v)


class NameWords(ColumnElement[bool]):
    """Every word given starts a word of ``persons.name_key``.

    PostgreSQL answers from the GIN index ``ix_persons_search`` (a ``simple`` tsvector of
    name_key, prefix queries); SQLite compares with LIKE, which is quick enough for the
    sizes SQLite serves.
    """

    inherit_cache = False  # the words are part of the SQL; each search compiles its own
    type = Boolean()

    def __init__(self, words: list[str]) -> None:
        self.words = words


@compiles(NameWords, "postgresql")
def _name_words_postgresql(element: NameWords, compiler: Any, **kw: Any) -> str:
    # name_key holds only [a-z0-9 ], so a word can never be tsquery syntax.
    query = " & ".join(f"'{word}':*" for word in element.words)
    vector = func.to_tsvector(literal_column("'simple'"), Person.name_key)
    condition = vector.op("@@")(func.to_tsquery(literal_column("'simple'"), query))
    return str(compiler.process(condition, **kw))


@compiles(NameWords)
def _name_words(element: NameWords, compiler: Any, **kw: Any) -> str:
    condition = and_(
        *(
            or_(Person.name_key.like(f"{word}%"), Person.name_key.like(f"% {word}%"))
            for word in element.words
        )
    )
    return str(compiler.process(condition, **kw))


def search_condition(workspace_id: uuid.UUID, q: str) -> Any:
    """Persons with a name whose words start with those of ``q``, or with the identity ``q``."""
    by_identity = select(Identity.person_id).where(
        Identity.workspace_id == workspace_id, Identity.value.in_(identity_values(q))
    )
    words = name_key(q).split()
    if not words:  # a name in a script without a Latin spelling: compare as written
        pattern = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        by_name = select(Person.id).where(
            Person.workspace_id == workspace_id, Person.name.like(f"%{pattern}%", escape="\\")
        )
    else:
        by_name = select(Person.id).where(Person.workspace_id == workspace_id, NameWords(words))
    # A union, so that each half is answered from its own index.
    return Person.id.in_(union(by_name, by_identity))


def identities_of(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Identity]]:
    """The identities of a page of persons, by person id (kind, then when first seen)."""
    out: dict[uuid.UUID, list[Identity]] = {}
    if not person_ids:
        return out
    rows = session.scalars(
        select(Identity)
        .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(list(person_ids)))
        .order_by(Identity.kind, Identity.first_seen_at)
    )
    for identity in rows:
        out.setdefault(identity.person_id, []).append(identity)
    return out
