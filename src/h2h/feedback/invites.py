"""Asking: personal survey links sent through the inbox, within consent and frequency caps.

Two ways to ask, both as a named person through the inbox (deliveries, retries, signature):

- **a survey round** (``send_round``) — a message we start, so ``consent.may_contact`` with
  the *surveys* purpose decides; without that consent nobody is asked;
- **CSAT after a conversation** (``ask_after_resolved``, a job) — one request, as a reply in
  the resolved conversation, from the agent who handled it; a reply to the person's own
  message needs no consent, and it is asked once per conversation.

Caps: nobody gets a survey round invitation within ``cap_days`` of their last invitation
of any kind, nor a CSAT request within ``csat_cap_days`` of their last CSAT request. A link
needs ``H2H_PUBLIC_URL`` (people open it outside H2H); without it nothing is sent.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h import i18n
from h2h.accounts import service as accounts
from h2h.accounts.models import Role, Workspace
from h2h.channels import service as channels
from h2h.config import get_settings as app_settings
from h2h.db import utcnow
from h2h.errors import N_, InvalidInput
from h2h.feedback import service
from h2h.feedback.models import Invite, Survey, SurveyKind
from h2h.inbox import outreach, replies
from h2h.inbox.models import Conversation, Delivery, State
from h2h.people import service as people
from h2h.people.models import ConsentPurpose, Person

INVITE_TEXT = {
    SurveyKind.NPS: N_("{question} It takes one tap: {link}"),
    SurveyKind.CSAT: N_("Thank you for writing to us. {question} One tap: {link}"),
    SurveyKind.CES: N_("{question} One tap: {link}"),
    SurveyKind.CUSTOM: N_("We would like to hear from you: {name}. It takes a minute: {link}"),
}
REFUSALS = {  # consent.Decision.rule → why a person was not asked
    "no_consent": N_("no consent to surveys"),
    "withdrawn": N_("withdrew their consent"),
    "blocked": N_("asked not to be contacted"),
    "erased": N_("erased at their request"),
    "merged": N_("merged into another profile"),
}
OTHER_REFUSAL = N_("other consent rules")
ROUND_LIMIT = 1000  # people in one round; more is a campaign, send it in parts
CSAT_BATCH = 200


@dataclass
class RoundOutcome:
    deliveries: list[Delivery] = field(default_factory=list)
    capped: int = 0
    no_address: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # consent rule → count

    @property
    def sent(self) -> int:
        return len(self.deliveries)


def public_base() -> str:
    base = app_settings().public_url.rstrip("/")
    if not base:
        raise InvalidInput(
            N_(
                "Set H2H_PUBLIC_URL (the address people open H2H at) first: survey links"
                " are opened outside H2H."
            ),
            field="survey_id",
        )
    return base


def link_of(base: str, token: str, score: int | None = None) -> str:
    return f"{base}/f/{token}" + (f"?score={score}" if score is not None else "")


def invite_text(
    survey: Survey, workspace: Workspace, link: str, gettext: Callable[[str], str]
) -> str:
    name = service.survey_name(survey, gettext)
    question = (
        gettext(service.QUESTIONS[survey.kind]).format(name=workspace.name)
        if survey.kind in service.QUESTIONS
        else name
    )
    intro = f"{survey.intro.strip()}\n\n" if survey.intro else ""
    return intro + gettext(INVITE_TEXT[survey.kind]).format(question=question, name=name, link=link)


def _last_invites(
    session: Session,
    workspace_id: uuid.UUID,
    person_ids: Sequence[uuid.UUID],
    kind: SurveyKind | None,
) -> dict[uuid.UUID, datetime]:
    query = (
        select(Invite.person_id, func.max(Invite.sent_at))
        .where(Invite.workspace_id == workspace_id, Invite.person_id.in_(person_ids))
        .group_by(Invite.person_id)
    )
    if kind is not None:
        query = query.join(
            Survey, (Survey.workspace_id == Invite.workspace_id) & (Survey.id == Invite.survey_id)
        ).where(Survey.kind == kind)
    return {pid: at for pid, at in session.execute(query)}


def capped_people(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_ids: Sequence[uuid.UUID],
    days: int,
    kind: SurveyKind | None = None,
    now: datetime | None = None,
) -> set[uuid.UUID]:
    """Who was asked (any survey, or one of ``kind``) within the last ``days``."""
    if days <= 0 or not person_ids:
        return set()
    since = (now or utcnow()) - timedelta(days=days)
    last = _last_invites(session, workspace_id, person_ids, kind)
    return {pid for pid, at in last.items() if at > since}


def new_invite(
    session: Session,
    survey: Survey,
    person: Person,
    *,
    channel_id: uuid.UUID | None,
    sent_by: uuid.UUID | None,
    now: datetime,
    agent_id: uuid.UUID | None = None,
    about: uuid.UUID | None = None,
) -> tuple[Invite, str]:
    """An invitation row and its link's secret (shown once: only the hash is stored)."""
    token, digest = service.new_token()
    invite = Invite(
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        person_id=person.id,
        token_hash=digest,
        channel_id=channel_id,
        agent_id=agent_id,
        about_conversation_id=about,
        sent_by=sent_by,
        language=person.language,
        sent_at=now,
        expires_at=now + service.link_days(session, workspace_id=survey.workspace_id),
    )
    session.add(invite)
    return invite, token


def send_round(
    session: Session,
    *,
    survey: Survey,
    actor: accounts.Actor,
    person_ids: Sequence[Any],
    channel_id: Any,
) -> RoundOutcome:
    """Invite these people on this channel; the caller enqueues ``inbox.deliver`` for each
    delivery after the commit. Who may not be asked is counted by reason, not asked."""
    actor.require(Role.ADMIN)
    if not survey.active:
        raise InvalidInput(N_("This survey is closed."), field="survey_id")
    base = public_base()
    channel = channels.get_channel(session, workspace_id=survey.workspace_id, channel_id=channel_id)
    if not channels.can_post(channel):
        raise InvalidInput(N_("H2H cannot send messages through this channel."), field="channel_id")
    ids = list(dict.fromkeys(_uuid(p) for p in person_ids))
    if not ids:
        raise InvalidInput(N_("Choose who to ask."), field="person_ids")
    if len(ids) > ROUND_LIMIT:
        raise InvalidInput(
            N_("At most {limit} people in one round."), field="person_ids", limit=ROUND_LIMIT
        )
    workspace = service.workspace_of(session, survey.workspace_id)
    settings = service.get_settings(session, workspace_id=survey.workspace_id)
    capped = capped_people(
        session, workspace_id=survey.workspace_id, person_ids=ids, days=settings.cap_days
    )
    outcome = RoundOutcome()
    now = utcnow()
    for person_id in ids:
        if person_id in capped:
            outcome.capped += 1
            continue
        person = people.get_person(session, workspace_id=survey.workspace_id, person_id=person_id)
        if (
            people.contact_identity(
                session, workspace_id=survey.workspace_id, person_id=person.id, channel=channel.kind
            )
            is None
        ):
            outcome.no_address += 1
            continue
        gettext = i18n.translations(person.language or workspace.language).gettext
        try:
            with session.begin_nested():
                invite, token = new_invite(
                    session, survey, person, channel_id=channel.id, sent_by=actor.user_id, now=now
                )
                text = invite_text(survey, workspace, link_of(base, token), gettext)
                delivery = outreach.start_conversation(
                    session,
                    workspace_id=survey.workspace_id,
                    actor=actor,
                    person_id=person.id,
                    channel_id=channel.id,
                    text=text,
                    purpose=ConsentPurpose.SURVEYS,
                    subject=service.survey_name(survey, gettext),
                )
        except replies.ConsentRefused as refused:
            outcome.refused[refused.decision.rule] += 1
            continue
        invite.delivery_id, invite.conversation_id = delivery.id, delivery.conversation_id
        outcome.deliveries.append(delivery)
    session.flush()
    accounts.record(
        session,
        workspace_id=survey.workspace_id,
        actor=actor,
        action="survey.send",
        entity_type="survey",
        entity_id=survey.id,
        details={
            "sent": outcome.sent,
            "capped": outcome.capped,
            "refused": sum(outcome.refused.values()),
            "no_address": outcome.no_address,
        },
    )
    return outcome


def _uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(N_("Unknown person."), field="person_ids") from None


def ask_after_resolved(
    session: Session, *, workspace_id: uuid.UUID, now: datetime | None = None
) -> list[Delivery]:
    """The one-time CSAT request in conversations resolved at least ``csat_delay_minutes`` ago
    (since the watermark); returns the deliveries to enqueue after the commit."""
    settings = service.get_settings(session, workspace_id=workspace_id)
    if not settings.csat_after_resolve:
        return []
    try:
        base = public_base()
    except InvalidInput:
        return []
    now = now or utcnow()
    until = now - timedelta(minutes=settings.csat_delay_minutes)
    since = settings.csat_scanned_until or until - timedelta(days=2)
    rows = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.state == State.RESOLVED,
                Conversation.merged_into_id.is_(None),
                Conversation.identity_id.is_not(None),
                Conversation.owner_id.is_not(None),
                Conversation.closed_at > since,
                Conversation.closed_at <= until,
            )
            .order_by(Conversation.closed_at)
            .limit(CSAT_BATCH)
        )
    )
    if not rows:
        settings.csat_scanned_until = max(since, until)
        return []
    asked = set(
        session.scalars(
            select(Invite.about_conversation_id).where(
                Invite.workspace_id == workspace_id,
                Invite.about_conversation_id.in_([c.id for c in rows]),
            )
        )
    )
    owners = people.persons_by_identity(
        session,
        workspace_id=workspace_id,
        identity_ids=[c.identity_id for c in rows if c.identity_id],
    )
    person_ids = [p.id for p in owners.values()]
    capped = capped_people(
        session,
        workspace_id=workspace_id,
        person_ids=person_ids,
        days=settings.csat_cap_days,
        kind=SurveyKind.CSAT,
        now=now,
    )
    workspace = service.workspace_of(session, workspace_id)
    survey = service.csat_survey(session, workspace_id=workspace_id)
    out: list[Delivery] = []
    for conversation in rows:
        settings.csat_scanned_until = conversation.closed_at
        person = owners.get(conversation.identity_id) if conversation.identity_id else None
        if conversation.id in asked or person is None or person.id in capped:
            continue
        channel = channels.get_channel(
            session, workspace_id=workspace_id, channel_id=conversation.channel_id
        )
        if not channels.can_post(channel):
            continue
        gettext = i18n.translations(
            conversation.language or person.language or workspace.language
        ).gettext
        agent = accounts.Actor(user_id=conversation.owner_id, role=Role.AGENT)
        try:
            with session.begin_nested():
                invite, token = new_invite(
                    session,
                    survey,
                    person,
                    channel_id=channel.id,
                    sent_by=conversation.owner_id,
                    now=now,
                    agent_id=conversation.owner_id,
                    about=conversation.id,
                )
                invite.language = conversation.language or person.language
                text = invite_text(survey, workspace, link_of(base, token), gettext)
                delivery = replies.compose(
                    session, conversation=conversation, actor=agent, text=text
                )
        except (replies.ConsentRefused, InvalidInput):
            continue
        invite.delivery_id, invite.conversation_id = delivery.id, conversation.id
        capped.add(person.id)
        out.append(delivery)
    session.flush()
    return out


def invites_of(
    session: Session, *, workspace_id: uuid.UUID, survey_id: uuid.UUID
) -> dict[str, int]:
    """How many invitations of a survey are sent, answered and expired."""
    rows = session.execute(
        select(Invite.status, func.count())
        .where(Invite.workspace_id == workspace_id, Invite.survey_id == survey_id)
        .group_by(Invite.status)
    )
    return {str(status): int(n) for status, n in rows}


def audience(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    channel_id: Any,
    segment_id: Any = None,
    limit: int = ROUND_LIMIT,
) -> list[uuid.UUID]:
    """Who a round would ask: the segment's people (or everybody) with an address on the
    channel, at most ``limit``. Consent and caps are checked when sending."""
    from h2h.people import segments
    from h2h.people.models import Identity
    from h2h.people.service import ADDRESS_KIND

    channel = channels.get_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    kind = ADDRESS_KIND.get(channel.kind)
    if kind is None:
        return []
    query = (
        select(Identity.person_id)
        .join(
            Person,
            (Person.workspace_id == Identity.workspace_id) & (Person.id == Identity.person_id),
        )
        .where(
            Identity.workspace_id == workspace_id,
            Identity.kind == kind,
            Person.merged_into_id.is_(None),
            Person.erased_at.is_(None),
        )
        .distinct()
    )
    if segment_id:
        segment = segments.get_segment(session, workspace_id=workspace_id, segment_id=segment_id)
        wanted: set[uuid.UUID] = set()
        page = 1
        while len(wanted) < 2 * limit:  # some may have no address on the channel
            found, total = segments.members(
                session, workspace_id=workspace_id, segment=segment, page=page
            )
            wanted.update(p.id for p in found)
            if not found or len(wanted) >= total:
                break
            page += 1
        query = query.where(Identity.person_id.in_(wanted))
    return [pid for pid in session.scalars(query.limit(limit)) if pid is not None]
