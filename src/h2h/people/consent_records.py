"""Consent records and do-not-contact blocks: validation, writing, reading, the matrix.

Consents are append-only statements (granted or withdrawn, with a source, the time the
person said so and evidence); a do-not-contact block stands over all of them for its
channel, or for every channel when set on "any". ``consent.may_contact`` turns them into
a decision; this module also puts them on the person's timeline and profile.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.db import utcnow
from h2h.errors import N_, Conflict, InvalidInput, NotFound
from h2h.people import service
from h2h.people.models import (
    ANY_CHANNEL,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    ContactBlock,
    Person,
)

SOURCE_MAX = 200
EVIDENCE_MAX = 10_000
CHANNEL_CHOICES = (ANY_CHANNEL, *(kind.value for kind in ChannelKind))
# Channels we can write to a person on; the others (feeds, files, webhooks) only listen.
REACHABLE = ("email", "telegram", "vk", "widget", "offline")


AUDIT_ACTIONS.update(
    {
        "consent.grant": N_("recorded a person's consent"),
        "consent.withdraw": N_("recorded a withdrawal of consent"),
        "person.block": N_("set do-not-contact for a person"),
        "person.unblock": N_("lifted a do-not-contact"),
    }
)
PURPOSE_LABELS = {
    ConsentPurpose.SERVICE: N_("Service messages"),
    ConsentPurpose.MARKETING: N_("Marketing"),
    ConsentPurpose.SURVEYS: N_("Surveys"),
    ConsentPurpose.RESEARCH: N_("Research"),
}
STATUS_LABELS = {ConsentStatus.GRANTED: N_("Granted"), ConsentStatus.WITHDRAWN: N_("Withdrawn")}
# Short names for sentences ("No marketing consent on Telegram").
CHANNEL_NAMES = {
    ANY_CHANNEL: N_("any channel"),
    ChannelKind.EMAIL.value: N_("email"),
    ChannelKind.TELEGRAM.value: N_("Telegram"),
    ChannelKind.VK.value: N_("VK"),
    ChannelKind.WIDGET.value: N_("the website widget"),
    ChannelKind.OFFLINE.value: N_("offline contact"),
    ChannelKind.RSS.value: N_("RSS"),
    ChannelKind.WEBHOOK.value: N_("webhook"),
    ChannelKind.FILE.value: N_("file import"),
}

# --- validation ----------------------------------------------------------------------------------


def check_channel(value: Any, *, allow_any: bool = True) -> str:
    """A consent's channel: a ChannelKind value, or "any" where allowed."""
    text = str(value or "").strip().lower()
    if text == ANY_CHANNEL and allow_any:
        return text
    try:
        return ChannelKind(text).value
    except ValueError:
        raise InvalidInput(
            N_("Unknown channel “{channel}”."), field="channel", channel=text[:40]
        ) from None


def check_purpose(value: Any) -> ConsentPurpose:
    try:
        return ConsentPurpose(str(value or "").strip().lower())
    except ValueError:
        raise InvalidInput(
            N_("Unknown purpose “{purpose}”."), field="purpose", purpose=str(value)[:40]
        ) from None


def _check_status(value: Any) -> ConsentStatus:
    try:
        return ConsentStatus(str(value or "").strip().lower())
    except ValueError:
        raise InvalidInput(N_("A consent is granted or withdrawn."), field="status") from None


def _text(value: str | None, field: str, limit: int, *, required: bool) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(N_("Say where this comes from (a form, a call, a letter)."), field=field)
    if len(text) > limit:
        raise InvalidInput(N_("At most {n} characters, please."), field=field, n=limit)
    return text or None


def _live_person(session: Session, workspace_id: uuid.UUID, person_id: Any) -> Person:
    person = service.get_person(session, workspace_id=workspace_id, person_id=person_id)
    if person.erased_at is not None:
        raise Conflict(N_("This person was erased; nothing about them can be changed."))
    if person.merged_into_id is not None:
        raise Conflict(N_("This person was merged into another; change that profile instead."))
    return person


# --- writing -------------------------------------------------------------------------------------


def record_consent(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person_id: Any,
    channel: str,
    purpose: ConsentPurpose | str,
    status: ConsentStatus | str = ConsentStatus.GRANTED,
    source: str,
    evidence: str | None = None,
    recorded_at: datetime | None = None,
) -> Consent:
    """Record that the person granted (or withdrew) consent; ``recorded_at``: when they did."""
    actor.require(Role.AGENT)
    person = _live_person(session, workspace_id, person_id)
    now = utcnow()
    if recorded_at is not None and recorded_at.tzinfo is None:
        raise InvalidInput(N_("Give the time with its time zone."), field="recorded_at")
    if recorded_at is not None and recorded_at > now + timedelta(minutes=5):
        raise InvalidInput(N_("A consent cannot be given in the future."), field="recorded_at")
    consent = Consent(
        workspace_id=workspace_id,
        person_id=person.id,
        channel=check_channel(channel),
        purpose=check_purpose(purpose),
        status=_check_status(status),
        source=_text(source, "source", SOURCE_MAX, required=True),
        evidence=_text(evidence, "evidence", EVIDENCE_MAX, required=False),
        recorded_at=recorded_at or now,
        recorded_by_id=actor.user_id,
    )
    session.add(consent)
    session.flush()
    action = "consent.grant" if consent.status is ConsentStatus.GRANTED else "consent.withdraw"
    # Ids, channels and purposes only: sources and evidence may quote the person.
    service.audit_person(
        session,
        workspace_id,
        actor,
        action,
        person,
        consent_id=str(consent.id),
        channel=consent.channel,
        purpose=consent.purpose.value,
        status=consent.status.value,
    )
    return consent


def withdraw(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person_id: Any,
    channel: str,
    purpose: ConsentPurpose | str,
    source: str,
    evidence: str | None = None,
    recorded_at: datetime | None = None,
) -> Consent:
    """Record that the person withdrew consent (a new record: the history stays)."""
    return record_consent(
        session,
        workspace_id=workspace_id,
        actor=actor,
        person_id=person_id,
        channel=channel,
        purpose=purpose,
        status=ConsentStatus.WITHDRAWN,
        source=source,
        evidence=evidence,
        recorded_at=recorded_at,
    )


def block(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person_id: Any,
    channel: str,
    reason: str | None = None,
) -> ContactBlock:
    """Do not contact the person on this channel ("any": on every channel); kept if already set."""
    actor.require(Role.AGENT)
    person = _live_person(session, workspace_id, person_id)
    channel = check_channel(channel)
    existing = blocks_of(session, workspace_id=workspace_id, person_id=person.id).get(channel)
    if existing is not None:
        return existing
    row = ContactBlock(
        workspace_id=workspace_id,
        person_id=person.id,
        channel=channel,
        reason=_text(reason, "reason", EVIDENCE_MAX, required=False),
        created_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    service.audit_person(session, workspace_id, actor, "person.block", person, channel=channel)
    return row


def unblock(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person_id: Any,
    channel: str,
) -> None:
    """Lift a do-not-contact; consents decide again on that channel."""
    actor.require(Role.AGENT)
    person = _live_person(session, workspace_id, person_id)
    channel = check_channel(channel)
    result = session.execute(
        delete(ContactBlock).where(
            ContactBlock.workspace_id == workspace_id,
            ContactBlock.person_id == person.id,
            ContactBlock.channel == channel,
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(N_("No do-not-contact on {channel} for this person."), channel=channel)
    service.audit_person(session, workspace_id, actor, "person.unblock", person, channel=channel)


# --- reading -------------------------------------------------------------------------------------


def consents_of(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID
) -> list[Consent]:
    """Every consent record of the person, newest first."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.workspace_id == workspace_id, Consent.person_id == person_id)
            .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        )
    )


def blocks_of(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID
) -> dict[str, ContactBlock]:
    """The person's do-not-contact blocks by channel ("any" for every channel)."""
    rows = session.scalars(
        select(ContactBlock).where(
            ContactBlock.workspace_id == workspace_id, ContactBlock.person_id == person_id
        )
    )
    return {row.channel: row for row in rows}


def deciding(records: list[Consent], channel: str, purpose: ConsentPurpose) -> Consent | None:
    """The record that decides ``purpose`` on ``channel``: see ``may_contact`` for the rule."""
    covering = [
        r
        for r in records
        if r.purpose is purpose and (r.channel == channel or r.channel == ANY_CHANNEL)
    ]
    if not covering:
        return None
    return max(
        covering,
        key=lambda r: (
            r.recorded_at,
            r.status is ConsentStatus.WITHDRAWN,
            r.channel != ANY_CHANNEL,
        ),
    )


@dataclass(frozen=True)
class Cell:
    """One purpose on one channel: the deciding record, and whether it came from "any"."""

    record: Consent | None
    inherited: bool  # decided by a record on "any", not on this channel itself

    @property
    def granted(self) -> bool:
        return self.record is not None and self.record.status is ConsentStatus.GRANTED


@dataclass(frozen=True)
class ConsentState:
    """The person's consent matrix (channel × purpose) and do-not-contact blocks."""

    channels: list[str]  # rows: "any" first, then channels
    cells: dict[tuple[str, ConsentPurpose], Cell]
    blocks: dict[str, ContactBlock]
    history: list[Consent]  # every record, newest first

    def cell(self, channel: str, purpose: ConsentPurpose) -> Cell:
        return self.cells[(channel, purpose)]


def consent_state(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID,
    channels_shown: list[str] | None = None,
) -> ConsentState:
    """The matrix for "any" and the given channels (default: the kinds of the workspace's
    channels we can write on, and any channel the person has a record on)."""
    history = consents_of(session, workspace_id=workspace_id, person_id=person_id)
    blocks = blocks_of(session, workspace_id=workspace_id, person_id=person_id)
    if channels_shown is None:
        kinds = {c.kind.value for c in channels.list_channels(session, workspace_id=workspace_id)}
        shown = {k for k in kinds if k in REACHABLE} | {r.channel for r in history} | set(blocks)
        channels_shown = [k for k in CHANNEL_CHOICES[1:] if k in shown]
    rows = [ANY_CHANNEL, *(c for c in channels_shown if c != ANY_CHANNEL)]
    cells = {}
    for channel in rows:
        for purpose in ConsentPurpose:
            record = deciding(history, channel, purpose)
            inherited = record is not None and record.channel != channel
            cells[(channel, purpose)] = Cell(record, inherited)
    return ConsentState(channels=rows, cells=cells, blocks=blocks, history=history)
