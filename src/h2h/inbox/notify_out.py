"""Staff notifications that leave the app: by email and Telegram, through the workspace's channels.

``service.notify`` writes the bell's rows and hands them to ``fan_out``, which queues one
``NotifyDelivery`` per medium the member chose for that kind, in the same transaction (a
notification that rolled back is never sent). The text is written then, in the member's
language, so every retry sends the same words.

Sending mirrors replies: *claim* (queued → sending, committed: a second worker finds nothing
to claim), *send* outside any transaction, *record* (sent; queued again with backoff on a
retryable error; failed otherwise or after ``MAX_ATTEMPTS``). A claim left behind by a dead
process becomes a visible failure ("outcome unknown"), never a second message. Email goes out
through one of the workspace's email channels' SMTP with a Message-ID fixed per delivery (a
retry that did reach the server is dropped by mail clients); Telegram through its bot's
``sendMessage``. Which channel: the admins' choice per kind, else the first active one.

Links are ``H2H_PUBLIC_URL`` + the path (``/w/<ws>/inbox/<number>``), bare paths without it.
The API enqueues ``inbox.notify_out`` after its commit (``dispatch_after_commit``); the
``inbox.notify_out_due`` sweep sends what jobs and pages queued, and the retries.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from h2h import i18n
from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Membership, Role, User, Workspace
from h2h.channels import service as channels
from h2h.channels.connectors.base import (
    ChannelKind,
    ConnectorError,
    Reply,
    ReplyingConnector,
    get_connector,
)
from h2h.channels.models import Channel, ChannelStatus
from h2h.config import get_settings
from h2h.db import new_id, transaction, utcnow
from h2h.errors import N_, InvalidInput
from h2h.inbox import service
from h2h.inbox.models import (
    SLA_TARGET_LABELS,
    Conversation,
    ConversationMessage,
    DeliveryStatus,
    Notification,
)
from h2h.inbox.models_notify import (
    DEFAULT_KINDS,
    Medium,
    NotifyDelivery,
    NotifyKind,
    NotifyPreference,
    NotifySettings,
)
from h2h.jobs import Jobs, job
from h2h.people import privacy

log = logging.getLogger(__name__)

AUDIT_ACTIONS.update({"inbox.notify_channels": N_("chose the channels of staff notifications")})

MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
STALE_CLAIM = timedelta(minutes=10)
UNKNOWN_OUTCOME = "outcome unknown: the sender stopped while sending; it is not sent again"
SENDER_NAME = "H2H"
CHAT_ID = re.compile(r"-?\d{1,20}")
MAX_PREVIEW = 200
KIND_OF_MEDIUM = {Medium.EMAIL: ChannelKind.EMAIL, Medium.TELEGRAM: ChannelKind.TELEGRAM}
USABLE = (ChannelStatus.ACTIVE, ChannelStatus.FAILING)  # failing polls may still send
_QUEUED = "h2h.notify_out_queued"
_KINDS = frozenset(k.value for k in NotifyKind)
CHUNK = 500

SUBJECTS = {
    NotifyKind.MENTION: N_("You were mentioned in #{number}"),
    NotifyKind.ASSIGNED: N_("#{number} was assigned to you"),
    NotifyKind.SLA_BREACH: N_("#{number} is overdue"),
    NotifyKind.AUTOMATION: N_("Automation rule “{rule}”: #{number}"),
    NotifyKind.PROBLEM_ALERT: N_("Problem alert: {title}"),
}
MISSED = N_("Missed: {target}")
OPEN = N_("Open in H2H: {link}")
FOOTER = N_("You get this because you chose it in your notification settings of {workspace}.")
UNTITLED_PROBLEM = N_("unusual number of complaints")
USUAL = N_("Today: {observed}; usually about {expected}.")


# --- preferences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preference:
    """A member's choice; members who never chose get email off, no Telegram, the defaults."""

    email: bool
    telegram_chat_id: str | None
    kinds: frozenset[str]


DEFAULT = Preference(False, None, frozenset(DEFAULT_KINDS))


def _row(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> NotifyPreference | None:
    return session.scalars(
        select(NotifyPreference).where(
            NotifyPreference.workspace_id == workspace_id, NotifyPreference.user_id == user_id
        )
    ).one_or_none()


def preference_of(session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Preference:
    """What the member chose in this workspace (the defaults when they never chose)."""
    row = _row(session, workspace_id, user_id)
    if row is None:
        return DEFAULT
    return Preference(row.email, row.telegram_chat_id, frozenset(row.kinds or []))


def save_preference(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    email: bool,
    telegram_chat_id: str,
    kinds: Sequence[str],
) -> NotifyPreference:
    """A member chooses, for themselves, what leaves the app and where to."""
    user_id = service.person_of(actor)
    chat = (telegram_chat_id or "").strip() or None
    if chat is not None and not CHAT_ID.fullmatch(chat):
        raise InvalidInput(
            N_("A Telegram chat id is a number, like 123456789."), field="telegram_chat_id"
        )
    known = {k.value for k in NotifyKind}
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise InvalidInput(N_("Unknown kind of notification."), field="kinds")
    row = _row(session, workspace_id, user_id)
    if row is None:
        row = NotifyPreference(workspace_id=workspace_id, user_id=user_id)
        session.add(row)
    row.email = bool(email)
    row.telegram_chat_id = chat
    row.kinds = [k.value for k in NotifyKind if k.value in kinds]
    row.updated_at = utcnow()
    session.flush()
    return row


# --- the workspace's sending channels ---------------------------------------------------------


def can_send(channel: Channel, medium: Medium) -> bool:
    """Is this channel switched on and set up to send this medium?"""
    if channel.kind is not KIND_OF_MEDIUM[medium] or channel.status not in USABLE:
        return False
    if medium is Medium.EMAIL:
        config = channel.config or {}
        return bool(config.get("smtp_host") and config.get("from_address"))
    return bool((channel.secrets or {}).get("bot_token"))


def candidates(session: Session, *, workspace_id: uuid.UUID, medium: Medium) -> list[Channel]:
    """The workspace's channels that can send this medium, oldest first."""
    found = channels.list_channels(session, workspace_id=workspace_id)
    return sorted((c for c in found if can_send(c, medium)), key=lambda c: c.created_at)


def settings_of(session: Session, *, workspace_id: uuid.UUID) -> NotifySettings | None:
    return session.get(NotifySettings, workspace_id)


def sending_channel(session: Session, *, workspace_id: uuid.UUID, medium: Medium) -> Channel | None:
    """The admins' choice for this medium if it can still send, else the first that can."""
    usable = candidates(session, workspace_id=workspace_id, medium=medium)
    settings = settings_of(session, workspace_id=workspace_id)
    chosen = None
    if settings is not None:
        chosen = (
            settings.email_channel_id if medium is Medium.EMAIL else settings.telegram_channel_id
        )
    for channel in usable:
        if channel.id == chosen:
            return channel
    return usable[0] if usable else None


def _channel_id(session: Session, workspace_id: uuid.UUID, medium: Medium, value: Any) -> Any:
    if value in (None, ""):
        return None
    for channel in candidates(session, workspace_id=workspace_id, medium=medium):
        if str(channel.id) == str(value):
            return channel.id
    raise InvalidInput(N_("Choose a channel of this workspace that can send."), field=medium.value)


def save_channels(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    email_channel_id: Any,
    telegram_channel_id: Any,
) -> NotifySettings:
    """Admins choose the mailbox and the bot that send staff notifications (empty: the first)."""
    actor.require(Role.ADMIN)
    email_id = _channel_id(session, workspace_id, Medium.EMAIL, email_channel_id)
    telegram_id = _channel_id(session, workspace_id, Medium.TELEGRAM, telegram_channel_id)
    settings = settings_of(session, workspace_id=workspace_id)
    if settings is None:
        settings = NotifySettings(workspace_id=workspace_id)
        session.add(settings)
    settings.email_channel_id = email_id
    settings.telegram_channel_id = telegram_id
    settings.updated_at = utcnow()
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="inbox.notify_channels",
        entity_type="workspace",
        entity_id=workspace_id,
        details={"email": str(email_id), "telegram": str(telegram_id)},
    )
    session.flush()
    return settings


# --- what the message says --------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    link: str | None


def language_of(user: User, workspace: Workspace) -> str:
    """The member's own language, else the workspace's."""
    for language in (user.language, workspace.language):
        if language in i18n.LANGUAGES:
            return language
    return i18n.SOURCE_LANGUAGE


def link_of(workspace: Workspace, notification: Notification) -> str | None:
    """Where the notification points: its conversation, or the problem of an alert."""
    data = notification.data or {}
    if notification.kind == NotifyKind.PROBLEM_ALERT:
        path = data.get("path")
        if isinstance(path, str) and path.startswith("/"):
            return path
        return f"/w/{workspace.slug}/problems/{data['problem']}" if data.get("problem") else None
    number = data.get("number")
    return f"/w/{workspace.slug}/inbox/{number}" if number else None


def _clip(text: str, limit: int = MAX_PREVIEW) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _details(
    notification: Notification, conversation: Conversation | None, gettext: Callable[[str], str]
) -> list[str]:
    data = notification.data or {}
    lines = []
    if conversation is not None:
        who = conversation.author_name or ""
        what = conversation.subject or conversation.preview or ""
        if who or what:
            lines.append(_clip(f"{who}: {what}" if who and what else who or what))
    if notification.kind == NotifyKind.SLA_BREACH and data.get("target"):
        label = SLA_TARGET_LABELS.get(data["target"], data["target"])
        lines.append(gettext(MISSED).format(target=gettext(label)))
    if notification.kind == NotifyKind.PROBLEM_ALERT:
        if data.get("summary"):
            lines.append(_clip(str(data["summary"])))
        elif data.get("observed") is not None and data.get("expected") is not None:
            lines.append(gettext(USUAL).format(**_amounts(data)))
        lines += [f"«{_clip(str(q))}»" for q in list(data.get("quotes") or [])[:3]]
    return lines


def _amounts(data: dict[str, Any]) -> dict[str, str]:
    observed, expected = float(data["observed"]), float(data["expected"])
    if data.get("spike") == "negative_share" or (observed <= 1 and expected < 1 and observed % 1):
        return {"observed": f"{observed:.0%}", "expected": f"{expected:.0%}"}
    return {"observed": f"{observed:g}", "expected": f"{expected:.1f}"}


def compose(
    session: Session, notification: Notification, user: User, workspace: Workspace
) -> Message:
    """The notification in the member's language: a subject line, a few lines, a link."""
    gettext = i18n.translations(language_of(user, workspace)).gettext
    data = notification.data or {}
    kind = NotifyKind(notification.kind)
    params = {
        "number": data.get("number") or "",
        "rule": _clip(str(data.get("rule") or ""), 100),
        "title": _clip(
            str(data.get("title") or data.get("name") or gettext(UNTITLED_PROBLEM)), 150
        ),
    }
    subject = gettext(SUBJECTS[kind]).format(**params)
    conversation = (
        session.get(Conversation, (workspace.id, notification.conversation_id))
        if notification.conversation_id
        else None
    )
    link = link_of(workspace, notification)
    if link and (base := get_settings().public_url.rstrip("/")):
        link = base + link
    lines = _details(notification, conversation, gettext)
    if link:
        lines += ["", gettext(OPEN).format(link=link)]
    lines += ["", "— " + gettext(FOOTER).format(workspace=workspace.name)]
    return Message(subject=_clip(subject, 300), text="\n".join(lines).strip(), link=link)


# --- queueing ---------------------------------------------------------------------------------


def _member(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    """The user if they are an active member of this workspace: nobody else is told anything."""
    return session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.workspace_id == workspace_id,
            User.id == user_id,
            User.is_active.is_(True),
        )
    ).one_or_none()


def _targets(preference: Preference, user: User) -> list[tuple[Medium, str]]:
    targets = []
    if preference.email and user.email:
        targets.append((Medium.EMAIL, user.email))
    if preference.telegram_chat_id:
        targets.append((Medium.TELEGRAM, preference.telegram_chat_id))
    return targets


def fan_out(session: Session, notifications: Sequence[Notification]) -> int:
    """Queue the email and Telegram copies the members chose; how many were queued."""
    queued = 0
    for notification in notifications:
        if notification.kind not in _KINDS:
            continue  # kinds that stay in the app (a reply that failed, ...)
        workspace_id, user_id = notification.workspace_id, notification.user_id
        preference = preference_of(session, workspace_id=workspace_id, user_id=user_id)
        if notification.kind not in preference.kinds:
            continue
        user = _member(session, workspace_id, user_id)
        workspace = session.get(Workspace, workspace_id)
        if user is None or workspace is None:
            continue
        targets = [
            (medium, to)
            for medium, to in _targets(preference, user)
            if sending_channel(session, workspace_id=workspace_id, medium=medium) is not None
        ]
        if not targets:
            continue
        if notification.id is None:
            notification.id = new_id()
        message = compose(session, notification, user, workspace)
        for medium, to in targets:
            queued += _queue(session, notification, medium, to, message)
    return queued


def _queue(
    session: Session, notification: Notification, medium: Medium, to: str, message: Message
) -> int:
    delivery = NotifyDelivery(
        workspace_id=notification.workspace_id,
        id=new_id(),
        notification_id=notification.id,
        conversation_id=notification.conversation_id,
        user_id=notification.user_id,
        kind=notification.kind,
        medium=medium,
        to_address=to,
        subject=message.subject,
        text=message.text,
        link=message.link,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    session.info.setdefault(_QUEUED, []).append((delivery.workspace_id, delivery.id))
    return 1


def queue_message(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    medium: Medium,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    link: str | None = None,
) -> NotifyDelivery:
    """Queue a message that is no bell's copy (a digest); the sweep sends it like the others."""
    delivery = NotifyDelivery(
        workspace_id=workspace_id,
        id=new_id(),
        user_id=user_id,
        kind=kind[:32],
        medium=medium,
        to_address=to,
        subject=_clip(subject, 300),
        text=text,
        html=html,
        link=(link or "")[:2000] or None,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    session.flush()
    session.info.setdefault(_QUEUED, []).append((delivery.workspace_id, delivery.id))
    return delivery


def blank(session: Session, *, workspace_id: uuid.UUID, delivery_ids: Sequence[uuid.UUID]) -> None:
    """Queued copies are not sent, and every copy loses its words (an erasure asked for it)."""
    for start in range(0, len(delivery_ids), CHUNK):
        in_chunk = (NotifyDelivery.workspace_id == workspace_id) & NotifyDelivery.id.in_(
            delivery_ids[start : start + CHUNK]
        )
        session.execute(
            update(NotifyDelivery)
            .where(in_chunk, NotifyDelivery.status == DeliveryStatus.QUEUED)
            .values(status=DeliveryStatus.FAILED, last_error="erased")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(NotifyDelivery)
            .where(in_chunk)
            .values(text="", html=None)
            .execution_options(synchronize_session=False)
        )


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        # Committed ones not dispatched are sent by the sweep; rolled-back ones do not exist.
        session.info.pop(_QUEUED, None)


def dispatch_after_commit(session: Session, jobs: Jobs) -> int:
    """Enqueue a send of every delivery this session queued, for after its commit."""
    queued: list[tuple[uuid.UUID, uuid.UUID]] = session.info.pop(_QUEUED, [])
    for workspace_id, delivery_id in queued:
        jobs.enqueue_after_commit(
            session,
            "inbox.notify_out",
            workspace_id=str(workspace_id),
            delivery_id=str(delivery_id),
        )
    return len(queued)


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    kind: ChannelKind | None  # None: no channel can send it any more
    config: dict[str, Any]
    secrets: dict[str, str]
    reply: Reply


def _reply(delivery: NotifyDelivery) -> Reply:
    if delivery.medium is Medium.EMAIL:
        return Reply(
            text=delivery.text,
            to_handle=delivery.to_address,
            subject=delivery.subject,
            sender_name=SENDER_NAME,
            key=f"notify.{delivery.id}",  # one Message-ID however often it is retried
            html=delivery.html or None,
        )
    return Reply(
        text=f"{delivery.subject}\n\n{delivery.text}",
        to_handle=delivery.to_address,
        key=str(delivery.id),
    )


def _claim(
    session: Session, workspace_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> _Claimed | None:
    claimed = session.execute(
        update(NotifyDelivery)
        .where(
            NotifyDelivery.workspace_id == workspace_id,
            NotifyDelivery.id == delivery_id,
            NotifyDelivery.status == DeliveryStatus.QUEUED,
        )
        .values(status=DeliveryStatus.SENDING, attempts=NotifyDelivery.attempts + 1, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):
        return None  # sent, failed, or another worker holds it
    delivery = session.get(NotifyDelivery, (workspace_id, delivery_id))
    if delivery is None:  # pragma: no cover - deleted with its member between the two
        return None
    session.refresh(delivery)
    channel = sending_channel(session, workspace_id=workspace_id, medium=delivery.medium)
    delivery.channel_id = channel.id if channel else None
    if channel is None:
        return _Claimed(None, {}, {}, _reply(delivery))
    return _Claimed(
        channel.kind, dict(channel.config or {}), dict(channel.secrets or {}), _reply(delivery)
    )


def _send(claimed: _Claimed, delivery_id: uuid.UUID) -> tuple[str | None, ConnectorError | None]:
    if claimed.kind is None:
        return None, ConnectorError("no active channel can send it", retryable=False)
    try:
        connector = get_connector(claimed.kind)
        if not isinstance(connector, ReplyingConnector):
            raise ConnectorError("this channel does not send messages", retryable=False)
        return connector.send(claimed.config, claimed.secrets, claimed.reply), None
    except ConnectorError as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is retried like a network one
        log.exception("staff notification %s failed", delivery_id)
        return None, ConnectorError(f"{type(exc).__name__}: {exc}")


def _backoff(attempts: int) -> timedelta:
    step: timedelta = FIRST_BACKOFF * (2 ** max(0, attempts - 1))
    return min(MAX_BACKOFF, step)


def deliver(
    factory: sessionmaker[Session], *, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryStatus | None:
    """One attempt at one staff notification; its status afterwards (None: nothing to do)."""
    with transaction(factory) as session:
        claimed = _claim(session, workspace_id, delivery_id, utcnow())
    if claimed is None:
        return None
    external_id, error = _send(claimed, delivery_id)
    with transaction(factory) as session:
        delivery = session.get(NotifyDelivery, (workspace_id, delivery_id))
        if delivery is None:
            return None
        if error is None:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = utcnow()
            delivery.external_id = (external_id or "")[:300] or None
            delivery.last_error = None
        elif error.retryable and delivery.attempts < MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.QUEUED
            delay = (
                timedelta(seconds=error.retry_after)
                if error.retry_after
                else _backoff(delivery.attempts)
            )
            delivery.next_attempt_at = utcnow() + delay
            delivery.last_error = str(error)[:2000]
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = str(error)[:2000]
        return delivery.status


def due(
    session: Session, *, now: datetime | None = None, limit: int = 200
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace, delivery) pairs due for an attempt; stale claims are failed first."""
    now = now or utcnow()
    session.execute(
        update(NotifyDelivery)
        .where(
            NotifyDelivery.status == DeliveryStatus.SENDING,
            NotifyDelivery.claimed_at < now - STALE_CLAIM,
        )
        .values(status=DeliveryStatus.FAILED, last_error=UNKNOWN_OUTCOME)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(NotifyDelivery.workspace_id, NotifyDelivery.id)
        .where(
            NotifyDelivery.status == DeliveryStatus.QUEUED,
            or_(NotifyDelivery.next_attempt_at.is_(None), NotifyDelivery.next_attempt_at <= now),
        )
        .order_by(NotifyDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def deliveries_of(
    session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID, limit: int = 20
) -> list[NotifyDelivery]:
    """A member's latest notifications sent out, newest first, failures with their error."""
    return list(
        session.scalars(
            select(NotifyDelivery)
            .where(NotifyDelivery.workspace_id == workspace_id, NotifyDelivery.user_id == user_id)
            .order_by(NotifyDelivery.created_at.desc(), NotifyDelivery.id.desc())
            .limit(limit)
        )
    )


def failures(session: Session, *, workspace_id: uuid.UUID, limit: int = 20) -> list[NotifyDelivery]:
    """The workspace's latest notifications that could not be sent (what admins check)."""
    return list(
        session.scalars(
            select(NotifyDelivery)
            .where(
                NotifyDelivery.workspace_id == workspace_id,
                NotifyDelivery.status == DeliveryStatus.FAILED,
            )
            .order_by(NotifyDelivery.created_at.desc(), NotifyDelivery.id.desc())
            .limit(limit)
        )
    )


# --- jobs and erasure -------------------------------------------------------------------------


def _factory(session: Session) -> sessionmaker[Session]:
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


@job("inbox.notify_out")
def deliver_job(session: Session, *, workspace_id: str, delivery_id: str) -> str | None:
    """One attempt at one staff notification (enqueued after its notification is committed)."""
    status = deliver(
        _factory(session), workspace_id=uuid.UUID(workspace_id), delivery_id=uuid.UUID(delivery_id)
    )
    return status.value if status else None


@job("inbox.notify_out_due")
def deliver_due(session: Session) -> int:
    """Send the staff notifications that are due: new ones from jobs and pages, and retries."""
    factory = _factory(session)
    with transaction(factory) as own:
        pending = due(own)
    for workspace_id, delivery_id in pending:
        try:
            deliver(factory, workspace_id=workspace_id, delivery_id=delivery_id)
        except Exception:
            log.exception("staff notification %s failed", delivery_id)
    return len(pending)


@privacy.on_erase
def erase_notifications(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    message_ids: list[uuid.UUID],
) -> None:
    """Copies of notifications about an erased person's conversations lose their words.

    Found through the person's messages as well as their identities: the inbox's own eraser
    may already have unlinked the conversations from the identities.
    """
    ids: set[uuid.UUID] = set()
    for start in range(0, max(len(identity_ids), len(message_ids)), CHUNK):
        identities = identity_ids[start : start + CHUNK]
        messages = message_ids[start : start + CHUNK]
        ids.update(
            session.scalars(
                select(Conversation.id).where(
                    Conversation.workspace_id == workspace_id,
                    Conversation.identity_id.in_(identities),
                )
            )
        )
        ids.update(
            session.scalars(
                select(ConversationMessage.conversation_id).where(
                    ConversationMessage.workspace_id == workspace_id,
                    ConversationMessage.id.in_(messages),
                )
            )
        )
    found = sorted(ids)
    for start in range(0, len(found), CHUNK):
        chunk = found[start : start + CHUNK]
        in_chunk = (
            NotifyDelivery.workspace_id == workspace_id
        ) & NotifyDelivery.conversation_id.in_(chunk)
        session.execute(
            update(NotifyDelivery)
            .where(in_chunk, NotifyDelivery.status == DeliveryStatus.QUEUED)
            .values(status=DeliveryStatus.FAILED, last_error="erased")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(NotifyDelivery)
            .where(in_chunk)
            .values(text="", html=None)
            .execution_options(synchronize_session=False)
        )
