"""Identities: find the identity (and so the person) behind a handle, creating both if new.

``ensure`` is the one way rows of ``identities`` come to exist: message linking, order and
event imports and the events API all call it with claims, in batches. Each claim either
finds its identity by ``(kind, namespace, value)`` or gets a new identity with a new
person of its own; merging persons is for identity resolution, never for this function.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from h2h.db import new_id, utcnow
from h2h.people.models import Identity, IdentityKind, Person
from h2h.people.names import name_key

LOOKUP_CHUNK = 500


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
    found: dict[tuple[str, str, str], Found] = {}
    for claim in claims:
        person_id, identity_id = new_id(), new_id()
        seen = claim.seen_at or now
        name = (claim.name or claim.display or claim.value)[:300]
        persons.append(
            {
                "workspace_id": workspace_id,
                "id": person_id,
                "name": name,
                "name_key": name_key(claim.name),
                "avatar_url": claim.avatar_url,
                "first_seen_at": seen,
                "last_seen_at": seen,
                "created_at": now,
                "updated_at": now,
            }
        )
        identities.append(
            {
                "workspace_id": workspace_id,
                "id": identity_id,
                "person_id": person_id,
                "kind": claim.kind,
                "namespace": claim.namespace,
                "value": claim.value,
                "display": (claim.display or claim.value)[:320],
                "name": claim.name,
                "avatar_url": claim.avatar_url,
                "url": claim.url,
                "followers": claim.followers,
                "channel_id": claim.channel_id,
                "first_seen_at": seen,
                "last_seen_at": seen,
                "created_at": now,
            }
        )
        found[claim.key] = Found(identity_id, person_id, True)
    session.execute(insert(Person), persons)
    session.execute(insert(Identity), identities)
    return found
