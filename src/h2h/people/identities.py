"""Identities: find the identity (and so the person) behind a handle, creating both if new.

``ensure`` is the one way rows of ``identities`` come to exist: message linking, order and
event imports and the events API all call it with claims, in batches. Each claim either
finds its identity by ``(kind, namespace, value)`` or gets a new identity with a new
person of its own; merging persons is for identity resolution, never for this function.

The normalisers below turn what people type ("8 (916) 123-45-67", "Anna@Example.COM ",
"@Ivan") into the one value an identity stores, so the same handle written twice is found.
``claim_for_author`` decides which identity a message author is, by channel.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Table, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import Author, ChannelKind
from h2h.db import new_id, utcnow
from h2h.people.models import Identity, IdentityKind, Person
from h2h.people.names import name_key

LOOKUP_CHUNK = 500
IDENTITIES: Table = Identity.__table__  # type: ignore[assignment]
REGIONS = {"ru": "RU", "en": "GB"}  # a workspace's language → the default phone region
DEFAULT_REGION = "RU"
# Placeholders connectors and imports write when they do not know the author: many
# different people hide behind them, so they never become one person.
ANONYMOUS_HANDLES = frozenset({"", "unknown", "unknown-sender"})
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{7,24}$")
_NUMERIC_ID = re.compile(r"^-?\d{1,20}$")
_TWITTER = re.compile(r"^[a-z0-9_]{1,15}$")


# --- normalisers --------------------------------------------------------------------------------


def region_for(language: str | None) -> str:
    """The phone region numbers without a country code are read in, from a language."""
    return REGIONS.get((language or "").split("-")[0].lower(), DEFAULT_REGION)


def normalize_email(raw: str | None) -> str | None:
    """An email address in lower case, or None if it is not one."""
    text = (raw or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if "@" not in text or len(text) > 320:
        return None
    try:
        return str(validate_email(text, check_deliverability=False).normalized).lower()
    except EmailNotValidError:
        return None


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """A phone number in E.164 ("+79161234567"), or None if it is not a valid number.

    Numbers without a country code are read as numbers of ``region``; in Russia that
    includes the trunk prefix 8 ("8 916 …" and "916 …" are both "+7 916 …").
    """
    text = (raw or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def looks_like_phone(text: str) -> bool:
    """Digits with phone punctuation only: a handle such as "ivan" or "id123" never is one."""
    return bool(_PHONE_LIKE.match(text)) and sum(c.isdigit() for c in text) >= 7


def normalize_numeric_id(raw: str | int | None) -> str | None:
    """A Telegram or VK id as digits (negative for chats and communities), or None."""
    text = str(raw if raw is not None else "").strip()
    if not _NUMERIC_ID.match(text):
        return None
    return str(int(text))


def normalize_twitter(raw: str | None) -> str | None:
    """A Twitter/X handle in lower case without "@" or the profile URL around it."""
    text = (raw or "").strip().lower()
    for prefix in ("https://", "http://", "www.", "twitter.com/", "x.com/", "@"):
        text = text.removeprefix(prefix)
    text = text.split("/")[0].split("?")[0]
    return text if _TWITTER.match(text) else None


# --- who wrote a message ------------------------------------------------------------------------

_GLOBAL_BY_CHANNEL = {ChannelKind.TELEGRAM: IdentityKind.TELEGRAM, ChannelKind.VK: IdentityKind.VK}


def claim_for_author(
    channel_kind: ChannelKind | str,
    channel_id: uuid.UUID,
    author: Author,
    region: str = DEFAULT_REGION,
    seen_at: datetime | None = None,
) -> Claim | None:
    """The identity a message author is; None for a placeholder such as "unknown".

    Email, Telegram and VK authors are global identities (the same address or id in two
    channels is one identity). Anywhere else a handle that reads as an email address or
    a phone number becomes that global identity; any other handle means something only in
    its channel (HANDLE, namespaced by the channel), and an offline conversation with no
    contact is a walk-in known by name within that log.
    """
    handle = " ".join(author.handle.split())
    if handle.lower() in ANONYMOUS_HANDLES:
        return None
    kind = ChannelKind(channel_kind)
    common: dict[str, Any] = {
        "name": author.name or None,
        "url": author.url or None,
        "followers": author.followers,
        "channel_id": channel_id,
        "seen_at": seen_at,
    }
    if kind in _GLOBAL_BY_CHANNEL:
        number = normalize_numeric_id(handle)
        if number is not None:
            display = _telegram_display(author.url) if kind is ChannelKind.TELEGRAM else None
            return Claim(_GLOBAL_BY_CHANNEL[kind], number, display=display or number, **common)
    contact = contact_claim(handle, region, **common)
    if contact is not None:
        return contact
    namespace = str(channel_id)
    if kind is ChannelKind.OFFLINE:
        return Claim(IdentityKind.WALKIN, handle.lower(), namespace, display=handle, **common)
    return Claim(IdentityKind.HANDLE, handle.lower(), namespace, display=handle, **common)


def contact_claim(text: str, region: str = DEFAULT_REGION, **extra: Any) -> Claim | None:
    """An EMAIL or PHONE claim if ``text`` is an email address or a phone number."""
    email = normalize_email(text)
    if email is not None:
        return Claim(IdentityKind.EMAIL, email, display=text.strip(), **extra)
    if looks_like_phone(text):
        phone = normalize_phone(text, region)
        if phone is not None:
            return Claim(IdentityKind.PHONE, phone, display=text.strip(), **extra)
    return None


def _telegram_display(url: str | None) -> str | None:
    if url and url.startswith("https://t.me/"):
        return "@" + url.removeprefix("https://t.me/")
    return None


# --- get or create ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """Someone the data says exists: a normalised handle plus what came with it."""

    kind: IdentityKind
    value: str  # already normalised (see the normalisers in this module)
    namespace: str = ""
    display: str | None = None
    name: str | None = None
    url: str | None = None
    avatar_url: str | None = None
    followers: int | None = None
    channel_id: uuid.UUID | None = None
    seen_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind.value, self.namespace, self.value)


@dataclass(frozen=True)
class Found:
    identity_id: uuid.UUID
    person_id: uuid.UUID
    created: bool  # a new identity (and a new person) was made for this claim


def ensure(
    session: Session, *, workspace_id: uuid.UUID, claims: Sequence[Claim]
) -> dict[tuple[str, str, str], Found]:
    """The identity of every claim, by ``claim.key``; unknown ones get a new person each."""
    wanted = {claim.key: claim for claim in claims}
    found = _lookup(session, workspace_id, list(wanted))
    missing = [claim for key, claim in wanted.items() if key not in found]
    if missing:
        found.update(_create(session, workspace_id, missing))
    return found


def _lookup(
    session: Session, workspace_id: uuid.UUID, keys: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Found]:
    found: dict[tuple[str, str, str], Found] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        rows = session.execute(
            select(
                Identity.id, Identity.person_id, Identity.kind, Identity.namespace, Identity.value
            ).where(
                Identity.workspace_id == workspace_id,
                tuple_(Identity.kind, Identity.namespace, Identity.value).in_(chunk),
            )
        )
        for row in rows:
            found[(str(row.kind), row.namespace, row.value)] = Found(row.id, row.person_id, False)
    return found


def _create(
    session: Session, workspace_id: uuid.UUID, claims: list[Claim]
) -> dict[tuple[str, str, str], Found]:
    now = utcnow()
    persons: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    planned: dict[tuple[str, str, str], Found] = {}
    for claim in claims:
        person_id, identity_id = new_id(), new_id()
        seen = claim.seen_at or now
        persons.append(_person_row(workspace_id, person_id, claim, seen, now))
        identities.append(_identity_row(workspace_id, identity_id, person_id, claim, seen, now))
        planned[claim.key] = Found(identity_id, person_id, True)
    session.execute(insert(Person), persons)
    inserted = {row.id for row in session.execute(_insert_identities(session), identities)}
    lost = [key for key, found in planned.items() if found.identity_id not in inserted]
    if not lost:
        return planned
    # Another transaction created some of these identities since our lookup: use theirs
    # and drop the persons made for ours, which nothing points at yet.
    theirs = _lookup(session, workspace_id, lost)
    orphans = [planned[key].person_id for key in lost]
    for start in range(0, len(orphans), LOOKUP_CHUNK):
        session.execute(
            delete(Person).where(
                Person.workspace_id == workspace_id,
                Person.id.in_(orphans[start : start + LOOKUP_CHUNK]),
            )
        )
    planned.update(theirs)
    return planned


def _insert_identities(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert_(IDENTITIES)
        .on_conflict_do_nothing(index_elements=["workspace_id", "kind", "namespace", "value"])
        .returning(IDENTITIES.c.id)
    )


def _person_row(
    workspace_id: uuid.UUID, person_id: uuid.UUID, claim: Claim, seen: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "id": person_id,
        "name": (claim.name or claim.display or claim.value)[:300],
        "name_key": name_key(claim.name),
        "avatar_url": claim.avatar_url,
        "first_seen_at": seen,
        "last_seen_at": seen,
        "created_at": now,
        "updated_at": now,
    }


def _identity_row(
    workspace_id: uuid.UUID,
    identity_id: uuid.UUID,
    person_id: uuid.UUID,
    claim: Claim,
    seen: datetime,
    now: datetime,
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "id": identity_id,
        "person_id": person_id,
        "kind": claim.kind,
        "namespace": claim.namespace,
        "value": claim.value,
        "display": (claim.display or claim.value)[:320],
        "name": claim.name[:300] if claim.name else None,
        "avatar_url": claim.avatar_url,
        "url": claim.url,
        "followers": claim.followers,
        "channel_id": claim.channel_id,
        "verified": False,
        "first_seen_at": seen,
        "last_seen_at": seen,
        "created_at": now,
    }
