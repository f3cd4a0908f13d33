"""The digest's schedule and sending: members' choices, due periods, one digest per period.

**When.** A member chooses off / daily / weekly (a weekday), a local hour and optionally a
time zone of their own (else the workspace's). The *slot* of a period is that local hour on
that day; the digest sent at a slot covers the period that ends there — the 24 hours (or
7 days) since the previous slot, counted in local days, so daylight saving time shifts
nothing and consecutive digests neither overlap nor leave gaps. Only the latest slot is
ever sent: after a long outage members get today's digest, not a backlog. A slot before
the member last saved their choice is not sent either — the first digest comes at the
next send time, not the moment somebody enables it late in the evening.

**Once.** ``send_due`` records a ``DigestRun`` per member and period under a unique
constraint, in a savepoint, *before* composing; the deliveries are queued in the same
transaction. A rerun, a second worker (blocked on the same key until the first commits,
then refused) or a crash after the commit sends nothing twice; a crash before the commit
leaves nothing behind, and the next run does the work.

**Quiet periods are not sent.** A digest with nothing in it — no messages, nobody waiting,
no threats, problems, breaches or answers — is recorded as *quiet* and not sent: an empty
mail every morning teaches people to ignore the digest. The preview and "send me one now"
still show it, saying "A quiet day".

Delivery is notify_out's: its deliveries, its channels (the workspace's own mailbox and
bot), its claims and retries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Membership, Role, User, Workspace
from h2h.db import utcnow
from h2h.errors import N_, InvalidInput, NotFound, PermissionDenied
from h2h.inbox import notify_out
from h2h.inbox.models_notify import Medium
from h2h.people import privacy
from h2h.reports import digest as content
from h2h.reports.digest_render import Rendered, render
from h2h.reports.models_digest import DigestPreference, DigestRun, Frequency, RunStatus

KIND = "digest"
DEFAULT_HOUR = 9
CHUNK = 500


@dataclass(frozen=True)
class Choice:
    """A member's digest choice, with the defaults for members who never chose (off)."""

    frequency: Frequency = Frequency.OFF
    weekday: int = 0
    hour: int = DEFAULT_HOUR
    timezone: str | None = None
    email: bool = True
    telegram: bool = False
    updated_at: datetime | None = None


# --- preferences ------------------------------------------------------------------------------


def _row(session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID) -> DigestPreference | None:
    return session.scalars(
        select(DigestPreference).where(
            DigestPreference.workspace_id == workspace_id, DigestPreference.user_id == user_id
        )
    ).one_or_none()


def choice_of(session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Choice:
    """What the member chose in this workspace; off when they never chose."""
    row = _row(session, workspace_id, user_id)
    if row is None:
        return Choice()
    return Choice(
        row.frequency, row.weekday, row.hour, row.timezone, row.email, row.telegram, row.updated_at
    )


def _number(value: Any, field: str, low: int, high: int, message: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(message, field=field) from None
    if not low <= number <= high:
        raise InvalidInput(message, field=field)
    return number


def _timezone(value: str) -> str | None:
    name = (value or "").strip()
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            N_("Unknown time zone “{name}”: use a name like Europe/Moscow."),
            field="timezone",
            name=name[:64],
        ) from None
    return name


def _user_of(actor: accounts.Actor) -> uuid.UUID:
    actor.require(Role.AGENT)  # viewers write nothing, as with notification settings
    if actor.user_id is None:
        raise PermissionDenied(N_("Only a named person can do this."))
    return actor.user_id


def save_choice(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    frequency: str,
    weekday: Any,
    hour: Any,
    timezone: str,
    email: bool,
    telegram: bool,
) -> DigestPreference:
    """A member chooses, for themselves, whether and when a digest comes, and where to."""
    user_id = _user_of(actor)
    if frequency not in {f.value for f in Frequency}:
        raise InvalidInput(N_("Choose off, daily or weekly."), field="frequency")
    hour_n = _number(hour, "hour", 0, 23, N_("The hour is a whole number from 0 to 23."))
    day = _number(weekday, "weekday", 0, 6, N_("Choose a day of the week."))
    zone = _timezone(timezone)
    if frequency != Frequency.OFF and not (email or telegram):
        raise InvalidInput(N_("Choose email, Telegram or both."), field="email")
    if telegram:
        chat = notify_out.preference_of(session, workspace_id=workspace_id, user_id=user_id)
        if not chat.telegram_chat_id:
            raise InvalidInput(
                N_("Save your Telegram chat id on the notifications page first."),
                field="telegram",
            )
    row = _row(session, workspace_id, user_id)
    if row is None:
        row = DigestPreference(workspace_id=workspace_id, user_id=user_id)
        session.add(row)
    row.frequency = Frequency(frequency)
    row.weekday, row.hour, row.timezone = day, hour_n, zone
    row.email, row.telegram = bool(email), bool(telegram)
    row.updated_at = utcnow()
    session.flush()
    return row


# --- when -------------------------------------------------------------------------------------


def zone_of(choice: Choice, workspace: Workspace) -> ZoneInfo:
    """The member's own time zone, else the workspace's, else UTC."""
    for name in (choice.timezone, workspace.timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _at(day: Any, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def last_slot(choice: Choice, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The latest send time at or before ``now`` (UTC); None when the digest is off."""
    if choice.frequency is Frequency.OFF:
        return None
    local = now.astimezone(zone)
    day = local.date()
    step = 1
    if choice.frequency is Frequency.WEEKLY:
        day -= timedelta(days=(local.weekday() - choice.weekday) % 7)
        step = 7
    if _at(day, choice.hour, zone) > now:
        day -= timedelta(days=step)
    return _at(day, choice.hour, zone)


def window_of(frequency: Frequency, slot: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period a digest sent at ``slot`` covers: since the previous slot, in local days."""
    local = slot.astimezone(zone)
    days = 7 if frequency is Frequency.WEEKLY else 1
    return _at(local.date() - timedelta(days=days), local.hour, zone), slot


def period_of(frequency: Frequency, slot: datetime, zone: ZoneInfo) -> str:
    return f"{frequency.value}:{slot.astimezone(zone).date().isoformat()}"


# --- composing and queueing -------------------------------------------------------------------


def _targets(
    session: Session, workspace_id: uuid.UUID, user: User, choice: Choice
) -> list[tuple[Medium, str]]:
    chat = notify_out.preference_of(session, workspace_id=workspace_id, user_id=user.id)
    wanted = []
    if choice.email and user.email:
        wanted.append((Medium.EMAIL, user.email))
    if choice.telegram and chat.telegram_chat_id:
        wanted.append((Medium.TELEGRAM, chat.telegram_chat_id))
    return [
        (medium, to)
        for medium, to in wanted
        if notify_out.sending_channel(session, workspace_id=workspace_id, medium=medium)
    ]


def compose(
    session: Session,
    *,
    workspace: Workspace,
    user: User,
    choice: Choice,
    since: datetime,
    until: datetime,
    language: str | None = None,
) -> tuple[content.Digest, Rendered]:
    """The digest of the window, written for this member (in their language by default)."""
    digest = content.build(session, workspace=workspace, since=since, until=until)
    frequency = Frequency.WEEKLY if choice.frequency is Frequency.WEEKLY else Frequency.DAILY
    rendered = render(
        digest,
        language=language or notify_out.language_of(user, workspace),
        timezone=str(zone_of(choice, workspace)),
        frequency=frequency,
    )
    return digest, rendered


def _queue(
    session: Session, run: DigestRun, targets: list[tuple[Medium, str]], rendered: Rendered
) -> None:
    ids = []
    for medium, to in targets:
        delivery = notify_out.queue_message(
            session,
            workspace_id=run.workspace_id,
            user_id=run.user_id,
            kind=KIND,
            medium=medium,
            to=to,
            subject=rendered.subject,
            text=rendered.text if medium is Medium.EMAIL else rendered.telegram,
            html=rendered.html if medium is Medium.EMAIL else None,
        )
        ids.append(str(delivery.id))
    run.delivery_ids = ids


def _claim_period(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID, period: str, window: Any
) -> DigestRun | None:
    run = DigestRun(
        workspace_id=workspace_id,
        user_id=user_id,
        period=period,
        since=window[0],
        until=window[1],
        status=RunStatus.NO_TARGET,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None  # another run got there first: this period is done
    return run


def _send_one(
    session: Session, workspace: Workspace, user: User, choice: Choice, now: datetime
) -> DigestRun | None:
    zone = zone_of(choice, workspace)
    slot = last_slot(choice, zone, now)
    if slot is None or (choice.updated_at is not None and slot < choice.updated_at):
        return None
    period = period_of(choice.frequency, slot, zone)
    done = select(DigestRun.id).where(
        DigestRun.workspace_id == workspace.id,
        DigestRun.user_id == user.id,
        DigestRun.period == period,
    )
    if session.scalar(done) is not None:
        return None
    window = window_of(choice.frequency, slot, zone)
    run = _claim_period(session, workspace.id, user.id, period, window)
    if run is None:
        return None
    digest, rendered = compose(
        session, workspace=workspace, user=user, choice=choice, since=window[0], until=window[1]
    )
    _finish(session, run, digest, rendered, _targets(session, workspace.id, user, choice))
    return run


def _finish(
    session: Session,
    run: DigestRun,
    digest: content.Digest,
    rendered: Rendered,
    targets: list[tuple[Medium, str]],
    *,
    send_quiet: bool = False,
) -> None:
    run.quoted = {"messages": digest.quoted_messages, "conversations": digest.quoted_conversations}
    if digest.quiet and not send_quiet:
        run.status = RunStatus.QUIET
    elif targets:
        run.status = RunStatus.QUEUED
        _queue(session, run, targets, rendered)
    session.flush()


def _members(session: Session, workspace_id: uuid.UUID) -> list[tuple[DigestPreference, User]]:
    rows = session.execute(
        select(DigestPreference, User)
        .join(User, User.id == DigestPreference.user_id)
        .join(
            Membership,
            (Membership.workspace_id == DigestPreference.workspace_id)
            & (Membership.user_id == DigestPreference.user_id),
        )
        .where(
            DigestPreference.workspace_id == workspace_id,
            DigestPreference.frequency != Frequency.OFF,
            User.is_active.is_(True),
        )
    ).all()
    return [(row[0], row[1]) for row in rows]


def send_due(session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None) -> int:
    """Queue this period's digest for every member whose send time passed; how many runs."""
    now = now or utcnow()
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        return 0
    done = 0
    for _, user in _members(session, workspace_id):
        choice = choice_of(session, workspace_id=workspace_id, user_id=user.id)
        if _send_one(session, workspace, user, choice, now) is not None:
            done += 1
    return done


def preview_window(choice: Choice, now: datetime | None = None) -> tuple[datetime, datetime]:
    """What "today's" (or this week's) digest would cover if it were sent now."""
    now = now or utcnow()
    days = 7 if choice.frequency is Frequency.WEEKLY else 1
    return now - timedelta(days=days), now


def preview(
    session: Session,
    *,
    workspace: Workspace,
    user: User,
    language: str | None = None,
    now: datetime | None = None,
) -> tuple[content.Digest, Rendered]:
    """The digest as it would be sent to this member now (in the page's language)."""
    choice = choice_of(session, workspace_id=workspace.id, user_id=user.id)
    since, until = preview_window(choice, now)
    return compose(
        session,
        workspace=workspace,
        user=user,
        choice=choice,
        since=since,
        until=until,
        language=language,
    )


def send_now(
    session: Session, *, workspace: Workspace, actor: accounts.Actor, now: datetime | None = None
) -> DigestRun:
    """ "Send me one now": the preview, queued for the member, quiet or not."""
    user = session.get(User, _user_of(actor))
    if user is None:
        raise NotFound()
    now = now or utcnow()
    choice = choice_of(session, workspace_id=workspace.id, user_id=user.id)
    if choice.frequency is Frequency.OFF:
        choice = Choice(email=True, telegram=bool(choice.telegram))
    targets = _targets(session, workspace.id, user, choice)
    if not targets:
        raise InvalidInput(
            N_(
                "Nothing can send it: choose email or Telegram, and ask an admin for an email "
                "channel or a Telegram bot that can send."
            ),
            field="send",
        )
    since, until = preview_window(choice, now)
    period = f"now:{now.isoformat(timespec='microseconds')}"
    run = _claim_period(session, workspace.id, user.id, period, (since, until))
    if run is None:
        raise InvalidInput(N_("A digest is being sent already."), field="send")
    digest, rendered = compose(
        session, workspace=workspace, user=user, choice=choice, since=since, until=until
    )
    _finish(session, run, digest, rendered, targets, send_quiet=True)
    return run


def runs_of(
    session: Session, *, workspace_id: uuid.UUID, user_id: uuid.UUID, limit: int = 10
) -> list[DigestRun]:
    """A member's latest digests, newest first: sent, quiet or not deliverable."""
    return list(
        session.scalars(
            select(DigestRun)
            .where(DigestRun.workspace_id == workspace_id, DigestRun.user_id == user_id)
            .order_by(DigestRun.created_at.desc(), DigestRun.id.desc())
            .limit(limit)
        )
    )


# --- erasure ----------------------------------------------------------------------------------


@privacy.on_erase
def erase_digests(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    message_ids: list[uuid.UUID],
) -> None:
    """Digests that quoted an erased person's words lose them (queued ones are not sent).

    Runs are matched by the quoted messages and by the conversations of the person's
    messages: a digest quotes a conversation's latest words.
    """
    from h2h.inbox.models import Conversation, ConversationMessage

    messages = {str(i) for i in message_ids}
    conversations: set[str] = set()
    for start in range(0, max(len(identity_ids), len(message_ids)), CHUNK):
        conversations.update(
            str(i)
            for i in session.scalars(
                select(Conversation.id).where(
                    Conversation.workspace_id == workspace_id,
                    Conversation.identity_id.in_(identity_ids[start : start + CHUNK]),
                )
            )
        )
        conversations.update(
            str(i)
            for i in session.scalars(
                select(ConversationMessage.conversation_id).where(
                    ConversationMessage.workspace_id == workspace_id,
                    ConversationMessage.id.in_(message_ids[start : start + CHUNK]),
                )
            )
        )
    hit: list[uuid.UUID] = []
    for run in session.scalars(select(DigestRun).where(DigestRun.workspace_id == workspace_id)):
        quoted = run.quoted or {}
        if messages & set(quoted.get("messages") or []) or conversations & set(
            quoted.get("conversations") or []
        ):
            hit += [uuid.UUID(i) for i in run.delivery_ids or []]
            run.quoted = {}
    notify_out.blank(session, workspace_id=workspace_id, delivery_ids=hit)
