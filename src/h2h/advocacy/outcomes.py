"""Where each message to an advocate led, read from what the data already shows.

``detect`` looks at the actions still open (not converted, not declined, sent within
``TRACK_DAYS``) with one statement per source for all of them, and moves each up the ladder
with ``actions.advance`` (which audits):

- **replied** — an inbound message in the action's conversation after it was sent;
- **posted** (review requests) — a public message by the person afterwards: with a public
  link, or in no conversation; and about us: it matched a subject, or its link is on the
  site the request pointed to;
- **referred** (referral requests) — an event named ``referral`` (``app.referral``,
  ``custom.referral``) whose ``properties.referrer`` is the person's id or the request's
  code (``properties.referral_code``, ``ref`` or ``code`` work too), or a ``signup``,
  ``purchase`` or ``checkout`` event carrying the code; the event's author is the referred
  person (never the advocate themselves);
- **converted** — the referred person ordered (an order, not a cancellation, or a
  ``purchase``/``checkout`` event) at or after the referral;
- **no_response** — still only *sent* ``RESPONSE_DAYS`` (30) after sending.

After a member set an outcome by hand, only what happened after that counts.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from h2h.advocacy import actions
from h2h.advocacy.models import ActionKind, ActionState, AdvocacyAction
from h2h.channels.connectors.base import Direction
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.inbox.models import ConversationMessage
from h2h.people import service as people
from h2h.people.models import Event, Identity, Order
from h2h.subjects.models import Mention

TRACK_DAYS = 180
RESPONSE_DAYS = 30
PREFIXES = ("", "app.", "custom.")
REFERRAL_EVENTS = tuple(p + n for p in PREFIXES for n in ("referral", "referred"))
SIGNUP_EVENTS = ("signup", "app.signup", "custom.signup")
PURCHASE_EVENTS = ("purchase", "checkout", "app.purchase", "custom.purchase")
CODE_KEYS = ("referrer", "referral_code", "ref", "code")


def since(action: AdvocacyAction) -> datetime:
    """From when evidence counts: the sending, or a member's later word on the outcome."""
    if action.outcome_at is not None and action.outcome_at > action.sent_at:
        return action.outcome_at
    return action.sent_at


def open_actions(
    session: Session, *, workspace_id: uuid.UUID, now: datetime
) -> list[AdvocacyAction]:
    return list(
        session.scalars(
            select(AdvocacyAction).where(
                AdvocacyAction.workspace_id == workspace_id,
                AdvocacyAction.state.not_in((ActionState.CONVERTED, ActionState.DECLINED)),
                AdvocacyAction.sent_at > now - timedelta(days=TRACK_DAYS),
            )
        )
    )


def detect(session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None) -> int:
    """Move the workspace's open actions to the outcomes the data shows; returns how many
    changes were recorded."""
    now = now or utcnow()
    found = open_actions(session, workspace_id=workspace_id, now=now)
    if not found:
        return 0
    referrals = [a for a in found if a.kind is ActionKind.REFERRAL]
    changed = _replies(session, workspace_id, found)
    changed += _posts(session, workspace_id, [a for a in found if a.kind is ActionKind.REVIEW])
    changed += _referrals(session, workspace_id, referrals)
    changed += _conversions(session, workspace_id, referrals)
    changed += _expire(session, found, now)
    session.flush()
    return changed


def _below(items: Iterable[AdvocacyAction], state: ActionState) -> list[AdvocacyAction]:
    return [a for a in items if actions.RANK[a.state] < actions.RANK[state]]


def _replies(session: Session, workspace_id: uuid.UUID, found: Sequence[AdvocacyAction]) -> int:
    waiting = [a for a in _below(found, ActionState.REPLIED) if a.conversation_id]
    if not waiting:
        return 0
    cm = ConversationMessage
    rows = session.execute(
        select(cm.conversation_id, cm.id, cm.created_at)
        .where(
            cm.workspace_id == workspace_id,
            cm.conversation_id.in_({a.conversation_id for a in waiting}),
            cm.inbound.is_(True),
            cm.created_at > min(since(a) for a in waiting),
        )
        .order_by(cm.created_at)
    ).all()
    by_conversation: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = defaultdict(list)
    for conversation_id, message_id, at in rows:
        by_conversation[conversation_id].append((message_id, at))
    changed = 0
    for action in waiting:
        first = next(
            (
                (m, at)
                for m, at in by_conversation.get(action.conversation_id or uuid.UUID(int=0), [])
                if at > since(action)
            ),
            None,
        )
        if first is not None:
            changed += actions.advance(
                session,
                action=action,
                state=ActionState.REPLIED,
                at=first[1],
                evidence={"message_id": str(first[0])},
            )
    return changed


def _identities(
    session: Session, workspace_id: uuid.UUID, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Identity id → person id, for these persons (one statement)."""
    ids = set(person_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Identity.id, Identity.person_id).where(
            Identity.workspace_id == workspace_id, Identity.person_id.in_(ids)
        )
    )
    return {identity: person for identity, person in rows}


def _host(url: str | None) -> str:
    host = (urlsplit(url or "").hostname or "").lower()
    return host.removeprefix("www.")


def _posts(session: Session, workspace_id: uuid.UUID, found: Sequence[AdvocacyAction]) -> int:
    waiting = _below(found, ActionState.POSTED)
    owners = _identities(session, workspace_id, (a.person_id for a in waiting))
    if not owners:
        return 0
    in_conversation = exists().where(
        ConversationMessage.workspace_id == Message.workspace_id,
        ConversationMessage.id == Message.id,
    )
    mentioned = exists().where(
        Mention.workspace_id == Message.workspace_id, Mention.message_id == Message.id
    )
    rows = session.execute(
        select(Message.id, Message.identity_id, Message.created_at, Message.url, mentioned)
        .where(
            Message.workspace_id == workspace_id,
            Message.identity_id.in_(owners),
            Message.direction == Direction.INBOUND,
            Message.created_at > min(since(a) for a in waiting),
            or_(Message.url.is_not(None), ~in_conversation),
        )
        .order_by(Message.created_at)
    ).all()
    changed = 0
    for action in waiting:
        site = _host(action.link)
        for message_id, identity_id, at, url, about_us in rows:
            if identity_id is None or owners.get(identity_id) != action.person_id:
                continue
            if at <= since(action):
                continue
            if about_us or (site and _host(url) == site):
                changed += actions.advance(
                    session,
                    action=action,
                    state=ActionState.POSTED,
                    at=at,
                    evidence={"message_id": str(message_id)},
                )
                break
    return changed


def _referrals(session: Session, workspace_id: uuid.UUID, found: Sequence[AdvocacyAction]) -> int:
    waiting = _below(found, ActionState.REFERRED)
    if not waiting:
        return 0
    names = (*REFERRAL_EVENTS, *SIGNUP_EVENTS, *PURCHASE_EVENTS)
    events = list(
        session.scalars(
            select(Event)
            .where(
                Event.workspace_id == workspace_id,
                Event.name.in_(names),
                Event.occurred_at > min(since(a) for a in waiting),
            )
            .order_by(Event.occurred_at)
        )
    )
    authors = people.persons_by_identity(
        session,
        workspace_id=workspace_id,
        identity_ids=list({e.identity_id for e in events if e.identity_id}),
    )
    changed = 0
    for event in events:
        action = _claimed_by(event, waiting)
        referred = authors.get(event.identity_id) if event.identity_id else None
        if action is None or (referred is not None and referred.id == action.person_id):
            continue  # no request of ours, or an advocate "referring" themselves
        evidence = {"event_id": str(event.id)}
        changed += actions.advance(
            session,
            action=action,
            state=ActionState.REFERRED,
            at=event.occurred_at,
            evidence=evidence,
            referred_person_id=referred.id if referred else None,
        )
        if event.name in PURCHASE_EVENTS:
            changed += actions.advance(
                session, action=action, state=ActionState.CONVERTED, at=event.occurred_at,
                evidence=evidence,
            )  # fmt: skip
    return changed


def _claimed_by(event: Event, waiting: Sequence[AdvocacyAction]) -> AdvocacyAction | None:
    """The referral request an event names: by its code, or the latest one sent before the
    event to the person it names as the referrer."""
    properties = event.properties if isinstance(event.properties, dict) else {}
    values = {str(properties[k]).strip() for k in CODE_KEYS if properties.get(k) is not None}
    if not values:
        return None
    codes = {v.upper() for v in values}
    by_person = event.name in REFERRAL_EVENTS
    best: AdvocacyAction | None = None
    for action in waiting:
        if since(action) >= event.occurred_at:
            continue
        if action.referral_code in codes:
            return action
        named = by_person and str(action.person_id) in values
        if named and (best is None or action.sent_at > best.sent_at):
            best = action
    return best


def _conversions(session: Session, workspace_id: uuid.UUID, found: Sequence[AdvocacyAction]) -> int:
    waiting = [
        a
        for a in found
        if a.state is ActionState.REFERRED and a.referred_person_id and a.referred_at
    ]
    owners = _identities(
        session, workspace_id, (a.referred_person_id for a in waiting if a.referred_person_id)
    )
    if not owners:
        return 0
    start = min(a.referred_at for a in waiting if a.referred_at)
    bought: list[tuple[uuid.UUID, datetime, dict[str, str]]] = [
        (owners[identity], at, {"order_id": str(order_id)})
        for order_id, identity, at in session.execute(
            select(Order.id, Order.identity_id, Order.placed_at).where(
                Order.workspace_id == workspace_id,
                Order.identity_id.in_(owners),
                Order.is_cancellation.is_(False),
                Order.placed_at >= start,
            )
        )
        if identity is not None
    ]
    bought += [
        (owners[identity], at, {"event_id": str(event_id)})
        for event_id, identity, at in session.execute(
            select(Event.id, Event.identity_id, Event.occurred_at).where(
                Event.workspace_id == workspace_id,
                Event.identity_id.in_(owners),
                Event.name.in_(PURCHASE_EVENTS),
                Event.occurred_at >= start,
            )
        )
        if identity is not None
    ]
    bought.sort(key=lambda item: item[1])
    changed = 0
    for action in waiting:
        referred_at = action.referred_at or start
        first = next(
            (b for b in bought if b[0] == action.referred_person_id and b[1] >= referred_at),
            None,
        )
        if first is not None:
            changed += actions.advance(
                session, action=action, state=ActionState.CONVERTED, at=first[1], evidence=first[2]
            )
    return changed


def _expire(session: Session, found: Sequence[AdvocacyAction], now: datetime) -> int:
    cutoff = now - timedelta(days=RESPONSE_DAYS)
    changed = 0
    for action in found:
        if action.state is ActionState.SENT and since(action) <= cutoff:
            changed += actions.advance(
                session, action=action, state=ActionState.NO_RESPONSE, at=now
            )
    return changed
