"""May we send this person this kind of message on this channel now? — ``may_contact``.

The one decision every outbound path makes before sending (the inbox's replies, any
future campaign or survey sender): call ``may_contact`` and send only if it allows, and
show its reason when it does not. The records it reads (consents, do-not-contact blocks)
are written by ``consent_records``; the writers are re-exported here, so callers need
only ``from h2h.people import consent``. This module also registers the "consent"
timeline source and the consent panel of the profile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind, Direction
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.errors import N_, NotFound
from h2h.people import service
from h2h.people.consent_records import (
    CHANNEL_NAMES,
    PURPOSE_LABELS,
    REACHABLE,
    STATUS_LABELS,
    blocks_of,
    check_channel,
    check_purpose,
)
from h2h.people.consent_records import block as block
from h2h.people.consent_records import consent_state as consent_state
from h2h.people.consent_records import deciding as deciding
from h2h.people.consent_records import record_consent as record_consent
from h2h.people.consent_records import unblock as unblock
from h2h.people.consent_records import withdraw as withdraw
from h2h.people.models import (
    ANY_CHANNEL,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    ContactBlock,
    Order,
)
from h2h.people.timeline import Panel, TimelineItem, TimelineQuery, profile_panel, timeline_source

# Service messages without a consent: while a conversation the person started is recent…
SERVICE_WINDOW = timedelta(days=30)
# …or while an order is recent (delivery, a problem with it: performing the contract).
ORDER_WINDOW = timedelta(days=90)

NO_CONSENT = {
    ConsentPurpose.SERVICE: N_(
        "No service consent on {channel}, and no recent conversation or order"
    ),
    ConsentPurpose.MARKETING: N_("No marketing consent on {channel}"),
    ConsentPurpose.SURVEYS: N_("No consent to surveys on {channel}"),
    ConsentPurpose.RESEARCH: N_("No consent to research on {channel}"),
}
GRANTED = {
    ConsentPurpose.SERVICE: N_("Service messages on {channel} allowed since {date}"),
    ConsentPurpose.MARKETING: N_("Marketing consent on {channel} since {date}"),
    ConsentPurpose.SURVEYS: N_("Consent to surveys on {channel} since {date}"),
    ConsentPurpose.RESEARCH: N_("Consent to research on {channel} since {date}"),
}
WITHDRAWN = {
    ConsentPurpose.SERVICE: N_("Service messages on {channel} refused on {date}"),
    ConsentPurpose.MARKETING: N_("Marketing consent on {channel} withdrawn on {date}"),
    ConsentPurpose.SURVEYS: N_("Consent to surveys on {channel} withdrawn on {date}"),
    ConsentPurpose.RESEARCH: N_("Consent to research on {channel} withdrawn on {date}"),
}


@dataclass(frozen=True)
class Decision:
    """The answer of ``may_contact``: yes or no, why (an English msgid), and what decided it."""

    allowed: bool
    reason: str  # msgid; format with ``params`` (``channel`` is a key of CHANNEL_NAMES)
    rule: str  # for programs: erased, merged, blocked, reply, reply_after_block, not_theirs,
    #            granted, withdrawn, no_consent, conversation, order
    params: dict[str, str] = field(default_factory=dict)
    record: Consent | ContactBlock | Message | None = None  # the deciding record

    def text(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        """The reason as a sentence in the reader's language (English by default)."""
        params = dict(self.params)
        if "channel" in params:
            params["channel"] = gettext(CHANNEL_NAMES.get(params["channel"], params["channel"]))
        return gettext(self.reason).format(**params)

    def as_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            "allowed": self.allowed,
            "rule": self.rule,
            "reason": self.reason,
            "params": self.params,
            "message": self.text(),
            "record_type": _record_type(record),
            "record_id": str(record.id) if record is not None else None,
        }


def _record_type(record: Any) -> str | None:
    if isinstance(record, Consent):
        return "consent"
    if isinstance(record, ContactBlock):
        return "contact_block"
    return "message" if isinstance(record, Message) else None


# --- the decision --------------------------------------------------------------------------------


def _day(at: datetime) -> str:
    return at.date().isoformat()


def may_contact(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: Any,
    channel: ChannelKind | str,
    purpose: ConsentPurpose | str,
    in_reply_to: Any = None,
    now: datetime | None = None,
) -> Decision:
    """May we send this person a message of ``purpose`` on ``channel`` now? With the reason.

    The rules, in order (the first that applies decides):

    1. An erased person, or a profile merged into another, is never contacted (ask about
       the profile it was merged into).
    2. ``in_reply_to`` must be an inbound message this person wrote on a channel of this
       kind; anything else (someone else's message, our own, another channel) is refused:
       a caller that claims a reply it is not sending is a bug, not a reason to send.
    3. A do-not-contact block on the channel, or on "any", refuses everything — except a
       direct service reply to a message the person sent *after* the block was set: by
       writing to us again they asked for an answer, and the answer is all we send.
    4. A direct reply (service purpose) to their own message is allowed without consent
       (DESIGN.md: "…except a direct reply to their own message").
    5. Otherwise the latest consent statement covering the purpose on this channel decides:
       the newest of the latest record on this channel and the latest record on "any" — so
       a channel's own record beats "any" only if it is newer, and "any" given later
       overrides an older channel record. At the same instant a withdrawal beats a grant,
       and the channel's own record beats "any". Granted allows; withdrawn refuses.
    6. With no statement at all, service messages are allowed while the person wrote to us
       on this channel within ``SERVICE_WINDOW`` or ordered within ``ORDER_WINDOW`` (we
       answer what they started and serve what they bought); marketing, surveys and
       research are refused: they need consent.
    """
    kind = ChannelKind(check_channel(channel, allow_any=False))
    purpose = check_purpose(purpose)
    now = now or utcnow()
    person = service.get_person(session, workspace_id=workspace_id, person_id=person_id)
    if person.erased_at is not None:
        return Decision(
            False,
            N_("Erased at their request on {date}"),
            "erased",
            {"date": _day(person.erased_at)},
        )
    if person.merged_into_id is not None:
        return Decision(False, N_("Merged into another profile: ask about that one"), "merged")
    ids = service.identity_ids(session, workspace_id=workspace_id, person_id=person.id)
    params = {"channel": kind.value}
    reply = None
    if in_reply_to is not None and str(in_reply_to) != "":
        reply = _their_message(session, workspace_id, ids, kind, in_reply_to)
        if reply is None:
            return Decision(
                False,
                N_("Not a message they sent on {channel}: no direct reply"),
                "not_theirs",
                params,
            )
    blocks = blocks_of(session, workspace_id=workspace_id, person_id=person.id)
    applying = [b for key, b in blocks.items() if key in (kind.value, ANY_CHANNEL)]
    if applying:  # the newest: a reply must come after every block that covers the channel
        return _blocked(max(applying, key=lambda b: b.created_at), reply, purpose, params)
    if reply is not None and purpose is ConsentPurpose.SERVICE:
        return Decision(True, N_("A direct reply to their own message"), "reply", params, reply)
    return _by_statement(session, workspace_id, person.id, ids, kind, purpose, now)


def _by_statement(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    kind: ChannelKind,
    purpose: ConsentPurpose,
    now: datetime,
) -> Decision:
    """Rules 5 and 6 of ``may_contact``: the deciding consent, else a recent relationship."""
    params = {"channel": kind.value}
    records = list(
        session.scalars(
            select(Consent).where(
                Consent.workspace_id == workspace_id,
                Consent.person_id == person_id,
                Consent.purpose == purpose,
                Consent.channel.in_([kind.value, ANY_CHANNEL]),
            )
        )
    )
    record = deciding(records, kind.value, purpose)
    if record is not None:
        dated = {**params, "date": _day(record.recorded_at)}
        if record.status is ConsentStatus.GRANTED:
            return Decision(True, GRANTED[purpose], "granted", dated, record)
        return Decision(False, WITHDRAWN[purpose], "withdrawn", dated, record)
    if purpose is ConsentPurpose.SERVICE:
        relationship = _relationship(session, workspace_id, identity_ids, kind, now)
        if relationship is not None:
            return relationship
    return Decision(False, NO_CONSENT[purpose], "no_consent", params)


def _blocked(
    found: ContactBlock, reply: Message | None, purpose: ConsentPurpose, params: dict[str, str]
) -> Decision:
    dated = {**params, "date": _day(found.created_at)}
    if (
        reply is not None
        and purpose is ConsentPurpose.SERVICE
        and reply.created_at > found.created_at
    ):
        return Decision(
            True,
            N_("A direct reply to a message they sent after the do-not-contact of {date}"),
            "reply_after_block",
            dated,
            reply,
        )
    if found.channel == ANY_CHANNEL:
        return Decision(
            False, N_("Do not contact on any channel since {date}"), "blocked", dated, found
        )
    return Decision(False, N_("Do not contact on {channel} since {date}"), "blocked", dated, found)


def _their_message(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    kind: ChannelKind,
    message_id: Any,
) -> Message | None:
    """The message if this person wrote it to us on a channel of this kind; else None."""
    try:
        message = channels.get_message(session, workspace_id=workspace_id, message_id=message_id)
    except NotFound:
        return None
    if message.direction is not Direction.INBOUND or message.identity_id not in identity_ids:
        return None
    channel = channels.get_channel(
        session, workspace_id=workspace_id, channel_id=message.channel_id
    )
    return message if channel.kind is kind else None


def _relationship(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    kind: ChannelKind,
    now: datetime,
) -> Decision | None:
    """Allowed service without a consent: a recent conversation or order, if any."""
    wrote = channels.last_inbound_at(
        session, workspace_id=workspace_id, identity_ids=identity_ids, kind=kind
    )
    if wrote is not None and now - wrote <= SERVICE_WINDOW:
        return Decision(
            True,
            N_("They wrote to us on {channel} on {date}: service messages allowed"),
            "conversation",
            {"channel": kind.value, "date": _day(wrote)},
        )
    if not identity_ids:
        return None
    ordered = service.as_utc(
        session.scalar(
            select(func.max(Order.placed_at)).where(
                Order.workspace_id == workspace_id, Order.identity_id.in_(identity_ids)
            )
        )
    )
    if ordered is not None and now - ordered <= ORDER_WINDOW:
        return Decision(
            True,
            N_("They ordered on {date}: service messages about it allowed"),
            "order",
            {"channel": kind.value, "date": _day(ordered)},
        )
    return None


# --- the timeline and the profile panel ----------------------------------------------------------

_GRANTED, _WITHDRAWN = ConsentStatus.GRANTED, ConsentStatus.WITHDRAWN
TIMELINE_TITLES = {
    (_GRANTED, ConsentPurpose.SERVICE): N_("Agreed to service messages on {channel_name}"),
    (_GRANTED, ConsentPurpose.MARKETING): N_("Agreed to marketing on {channel_name}"),
    (_GRANTED, ConsentPurpose.SURVEYS): N_("Agreed to surveys on {channel_name}"),
    (_GRANTED, ConsentPurpose.RESEARCH): N_("Agreed to research on {channel_name}"),
    (_WITHDRAWN, ConsentPurpose.SERVICE): N_("Refused service messages on {channel_name}"),
    (_WITHDRAWN, ConsentPurpose.MARKETING): N_("Withdrew marketing consent on {channel_name}"),
    (_WITHDRAWN, ConsentPurpose.SURVEYS): N_("Withdrew consent to surveys on {channel_name}"),
    (_WITHDRAWN, ConsentPurpose.RESEARCH): N_("Withdrew consent to research on {channel_name}"),
}


def _consent_item(record: Consent) -> TimelineItem:
    body = record.source + (f" — {record.evidence}" if record.evidence else "")
    return TimelineItem(
        kind="consent",
        at=record.recorded_at,
        id=str(record.id),
        title=TIMELINE_TITLES[(record.status, record.purpose)],
        body=body,
        data={
            "channel": record.channel,
            "channel_name": CHANNEL_NAMES.get(record.channel, record.channel),
            "purpose": record.purpose.value,
            "status": record.status.value,
        },
    )


def _block_item(row: ContactBlock) -> TimelineItem:
    return TimelineItem(
        kind="consent",
        at=row.created_at,
        id=str(row.id),
        title=N_("Do not contact on {channel_name}"),
        body=row.reason,
        data={
            "channel": row.channel,
            "channel_name": CHANNEL_NAMES.get(row.channel, row.channel),
            "status": "blocked",
        },
    )


@timeline_source("consent")
def consent_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """Consents given and withdrawn, and do-not-contact blocks in force."""
    consents = select(Consent).where(
        Consent.workspace_id == query.workspace_id, Consent.person_id == query.person_id
    )
    blocks = select(ContactBlock).where(
        ContactBlock.workspace_id == query.workspace_id, ContactBlock.person_id == query.person_id
    )
    if query.before is not None:
        consents = consents.where(Consent.recorded_at < query.before)
        blocks = blocks.where(ContactBlock.created_at < query.before)
    limit = query.limit
    items = [
        *map(
            _consent_item,
            session.scalars(consents.order_by(Consent.recorded_at.desc()).limit(limit)),
        ),
        *map(
            _block_item,
            session.scalars(blocks.order_by(ContactBlock.created_at.desc()).limit(limit)),
        ),
    ]
    items.sort(key=lambda i: (i.at, i.id), reverse=True)
    return items[:limit]


def _panel(session: Session, workspace_id: uuid.UUID, person: Any) -> dict[str, Any]:
    return {
        "person_id": person.id,
        "state": consent_state(session, workspace_id=workspace_id, person_id=person.id),
        "purposes": list(ConsentPurpose),
        "purpose_labels": PURPOSE_LABELS,
        "status_labels": STATUS_LABELS,
        "channel_names": CHANNEL_NAMES,
        "channel_choices": [ANY_CHANNEL, *REACHABLE],
    }


profile_panel(Panel("consent", "people/_consent_panel.html", _panel, order=40))
