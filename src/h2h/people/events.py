"""Events: what a person did elsewhere — page views, searches, app events — stored idempotently.

The events API, ``h2h import events`` and the demo all come through ``record``: each item is
checked on its own (a bad item is reported with its index, field and reason and never
costs the good ones), its identity is found or created with ``identities.ensure``, and
rows are inserted with ON CONFLICT DO NOTHING on ``(workspace_id, external_id)``, so a
batch delivered twice is stored once. An item without an external id gets a digest of
who did what when, which makes an exact re-delivery a duplicate too.

Only the identity's ``last_seen_at`` moves with events: a person's ``last_seen_at`` is the
last *contact* (messages, orders), which a page view is not.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.orm import Session

from h2h.db import new_id, utcnow
from h2h.errors import N_, H2HError, InvalidInput
from h2h.people import identities, imports
from h2h.people.identities import Claim
from h2h.people.models import Event, Identity, IdentityKind

EVENTS: Table = Event.__table__  # type: ignore[assignment]
MAX_BATCH = 1000
MAX_PROPERTIES_BYTES = 16 * 1024
MAX_DEPTH = 3  # {"a": {"b": {"c": 1}}} is as deep as properties go
MAX_EXTERNAL_ID = 200
FUTURE_SLACK = timedelta(days=1)  # clocks of phones and browsers are often a little ahead
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
INSERT_CHUNK = 500
STANDARD_NAMES = frozenset(
    {
        "page_view",
        "search",
        "app_open",
        "app_install",
        "signup",
        "login",
        "logout",
        "add_to_cart",
        "remove_from_cart",
        "checkout",
        "purchase",
        "form_submit",
        "click",
        "download",
        "video_play",
        "email_open",
        "email_click",
        "subscribe",
        "unsubscribe",
        "share",
    }
)
CUSTOM_PREFIXES = ("app.", "custom.")  # "app.level_up", "custom.quiz_done"
_CUSTOM = re.compile(r"^(app|custom)\.[a-z0-9][a-z0-9_.\-]{0,90}$")
KINDS = {  # what an event may name its person by
    IdentityKind.EMAIL,
    IdentityKind.PHONE,
    IdentityKind.TELEGRAM,
    IdentityKind.VK,
    IdentityKind.TWITTER,
    IdentityKind.SITE,
    IdentityKind.CUSTOMER_ID,
}


@dataclass(frozen=True)
class ItemError:
    """Why one item was refused: its position in the batch (or its line), field and reason."""

    index: int
    field: str | None
    reason: str


@dataclass(frozen=True)
class Draft:
    """A checked item, ready to store."""

    index: int
    external_id: str
    name: str
    occurred_at: datetime
    properties: dict[str, Any]
    claim: Claim | None  # None: an anonymous event


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    errors: list[ItemError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)


# --- checking one item --------------------------------------------------------------------------


def parse(
    item: Any,
    *,
    index: int = 0,
    region: str = identities.DEFAULT_REGION,
    now: datetime | None = None,
    assume_zone: tzinfo | None = None,
) -> Draft:
    """Check one event as sent (a JSON object); raises InvalidInput naming the bad field."""
    if not isinstance(item, Mapping):
        raise InvalidInput(N_("An event must be a JSON object."))
    name = check_name(item.get("name"))
    occurred_at = check_time(item.get("occurred_at"), now=now or utcnow(), assume_zone=assume_zone)
    properties = check_properties(item.get("properties"))
    claim = check_identity(item.get("identity"), region=region)
    external_id = item.get("external_id")
    if external_id is None or external_id == "":
        external_id = digest(claim, name, occurred_at, properties)
    else:
        external_id = _text(external_id, "external_id", MAX_EXTERNAL_ID)
    return Draft(index, external_id, name, occurred_at, properties, claim)


def check_name(value: Any) -> str:
    """A standard event name or a custom one ("app.…", "custom.…")."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(N_("Every event needs a name, such as page_view."), field="name")
    name = value.strip().lower()
    if name in STANDARD_NAMES or _CUSTOM.match(name):
        return name
    raise InvalidInput(
        N_("Unknown event name “{name}”: use one of {known}, or a custom name such as app.<name>."),
        field="name",
        name=value[:100],
        known=", ".join(sorted(STANDARD_NAMES)),
    )


def check_time(value: Any, *, now: datetime, assume_zone: tzinfo | None = None) -> datetime:
    """An aware time (ISO 8601 text or Unix seconds), not before 1990 nor over a day ahead."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput(N_("Every event needs occurred_at, its time."), field="occurred_at")
    at = _time(value)
    if at.tzinfo is None:
        if assume_zone is None:
            raise InvalidInput(
                N_("“{value}” has no time zone; write it as 2026-05-01T12:00:00Z or +03:00."),
                field="occurred_at",
                value=str(value)[:60],
            )
        at = at.replace(tzinfo=assume_zone)
    at = at.astimezone(UTC)
    if at > now + FUTURE_SLACK:
        raise InvalidInput(
            N_("“{value}” is more than a day in the future."), field="occurred_at", value=value
        )
    if at < EARLIEST:
        raise InvalidInput(N_("“{value}” is before 1990."), field="occurred_at", value=value)
    return at


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 100_000_000_000 else value  # milliseconds
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    elif isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            pass
    raise InvalidInput(
        N_("“{value}” is not a time; use ISO 8601 such as 2026-05-01T12:00:00Z."),
        field="occurred_at",
        value=str(value)[:60],
    )


def check_properties(value: Any) -> dict[str, Any]:
    """A JSON object of at most 16 KB, nested at most three levels, without NUL characters."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(N_("properties must be a JSON object."), field="properties")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput(
            N_("properties must hold only JSON values."), field="properties"
        ) from None
    size = len(text.encode("utf-8"))
    if size > MAX_PROPERTIES_BYTES:
        raise InvalidInput(
            N_("properties take {size} bytes; at most {limit} are allowed."),
            field="properties",
            size=size,
            limit=MAX_PROPERTIES_BYTES,
        )
    if "\\u0000" in text or "\x00" in text:
        raise InvalidInput(N_("properties must not contain NUL characters."), field="properties")
    if _depth(value) > MAX_DEPTH:
        raise InvalidInput(
            N_("properties are nested too deeply: at most {limit} levels."),
            field="properties",
            limit=MAX_DEPTH,
        )
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_depth(v) for v in value), default=0)  # a list is not a level of its own
    return 0


def check_identity(value: Any, *, region: str = identities.DEFAULT_REGION) -> Claim | None:
    """The claim of ``{"kind": …, "value": …}``; None (anonymous) when there is none."""
    if value is None or value == {}:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(
            N_("identity must be an object such as {example}."),
            field="identity",
            example='{"kind": "email", "value": "anna@example.com"}',
        )
    kind_text, raw = value.get("kind"), value.get("value")
    try:
        kind = IdentityKind(str(kind_text).strip().lower())
    except ValueError:
        kind = None
    if kind not in KINDS:
        raise InvalidInput(
            N_("Unknown identity kind “{kind}”: use one of {known}."),
            field="identity.kind",
            kind=str(kind_text)[:40],
            known=", ".join(sorted(k.value for k in KINDS)),
        )
    text = raw if isinstance(raw, str) else str(raw) if isinstance(raw, int) else ""
    normal = _normal(kind, text, region)
    if not normal:
        raise InvalidInput(
            N_("“{value}” is not a valid {kind}."),
            field="identity.value",
            value=str(raw)[:100],
            kind=kind.value,
        )
    name = value.get("name")
    return Claim(
        kind, normal, display=text.strip()[:320], name=name[:300] if isinstance(name, str) else None
    )


def _normal(kind: IdentityKind, text: str, region: str) -> str | None:
    if kind is IdentityKind.EMAIL:
        return identities.normalize_email(text)
    if kind is IdentityKind.PHONE:
        return identities.normalize_phone(text, region)
    if kind in (IdentityKind.TELEGRAM, IdentityKind.VK):
        return identities.normalize_numeric_id(text)
    if kind is IdentityKind.TWITTER:
        return identities.normalize_twitter(text)
    value = " ".join(text.split())
    return value if 0 < len(value) <= 200 and "\x00" not in value else None


def _text(value: Any, name: str, limit: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise InvalidInput(
            N_("{field} must be text of 1 to {limit} characters."),
            field=name,
            limit=limit,
        )
    return value.strip()


def digest(claim: Claim | None, name: str, at: datetime, properties: dict[str, Any]) -> str:
    """A stable id for an event sent without one: who, what, when and its properties."""
    who = list(claim.key) if claim else None
    blob = json.dumps(
        [who, name, at.astimezone(UTC).isoformat(), properties],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --- storing ------------------------------------------------------------------------------------


def record(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    items: Sequence[Any],
    source: str | None = None,
    region: str = identities.DEFAULT_REGION,
    import_id: uuid.UUID | None = None,
) -> Outcome:
    """Check and store a batch of events; bad items are reported, good ones stored once."""
    outcome = Outcome()
    drafts: list[Draft] = []
    now = utcnow()
    for index, item in enumerate(items):
        try:
            drafts.append(parse(item, index=index, region=region, now=now))
        except H2HError as exc:
            outcome.errors.append(ItemError(index, exc.field, str(exc)))
    accepted, duplicates = store(
        session, workspace_id=workspace_id, drafts=drafts, source=source, import_id=import_id
    )
    outcome.accepted, outcome.duplicates = accepted, duplicates
    return outcome


def store(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    drafts: Sequence[Draft],
    source: str | None = None,
    import_id: uuid.UUID | None = None,
) -> tuple[int, int]:
    """Insert checked events that are not stored yet: (inserted, duplicates)."""
    if not drafts:
        return 0, 0
    claims = {d.claim.key: d.claim for d in drafts if d.claim is not None}
    first_seen: dict[tuple[str, str, str], datetime] = {}
    for d in drafts:
        if d.claim is not None:
            key = d.claim.key
            first_seen[key] = min(first_seen.get(key, d.occurred_at), d.occurred_at)
    found = identities.ensure(
        session,
        workspace_id=workspace_id,
        claims=[_seen(claim, first_seen[key]) for key, claim in claims.items()],
    )
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for d in drafts:
        rows.setdefault(d.external_id, _row(workspace_id, d, found, source, import_id, now))
    inserted: list[dict[str, Any]] = []
    values = list(rows.values())
    for start in range(0, len(values), INSERT_CHUNK):
        chunk = values[start : start + INSERT_CHUNK]
        ids = imports.insert_ignore(session, EVENTS, chunk, ["workspace_id", "external_id"])
        inserted.extend(row for row in chunk if row["id"] in ids)
    _touch_identities(session, workspace_id, inserted)
    return len(inserted), len(drafts) - len(inserted)


def _seen(claim: Claim, at: datetime) -> Claim:
    return Claim(**{**claim.__dict__, "seen_at": at})


def _row(
    workspace_id: uuid.UUID,
    draft: Draft,
    found: Mapping[tuple[str, str, str], identities.Found],
    source: str | None,
    import_id: uuid.UUID | None,
    now: datetime,
) -> dict[str, Any]:
    identity = found[draft.claim.key].identity_id if draft.claim is not None else None
    return {
        "workspace_id": workspace_id,
        "id": new_id(),
        "external_id": draft.external_id,
        "identity_id": identity,
        "name": draft.name,
        "occurred_at": draft.occurred_at,
        "properties": draft.properties,
        "source": source[:200] if source else None,
        "import_id": import_id,
        "received_at": now,
    }


def _touch_identities(
    session: Session, workspace_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> None:
    """Move each identity's last_seen_at forward to its newest new event (one statement)."""
    latest: dict[uuid.UUID, datetime] = {}
    for row in rows:
        identity, at = row["identity_id"], row["occurred_at"]
        if identity is not None and (identity not in latest or at > latest[identity]):
            latest[identity] = at
    if not latest:
        return
    table: Table = Identity.__table__  # type: ignore[assignment]
    stmt = (
        update(table)
        .where(
            table.c.workspace_id == workspace_id,
            table.c.id == bindparam("b_id"),
            or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < bindparam("b_at")),
        )
        .values(last_seen_at=bindparam("b_at"))
    )
    params = [{"b_id": i, "b_at": at} for i, at in latest.items()]
    session.connection().execute(stmt, params)
