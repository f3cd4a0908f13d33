"""Acting on advocates: a personal message from a named member, within consent, tracked.

Four kinds (``ActionKind``): thank personally, invite to a beta or community, ask for a
review, ask for a referral. Each goes out through the inbox (a delivery, so retries and the
member's signature are the inbox's), to one person at a time:

- **a thank-you** is a service message: as a direct reply in their latest conversation when
  H2H can post there (their own message needs no consent, DESIGN.md), else a new
  conversation where ``consent.may_contact`` allows service messages;
- **a request** (invite, review, referral) asks them to do something for us, which is
  marketing: only a new conversation on a channel where they consented to marketing. At
  most one request per person in ``CAP_DAYS`` (30) days, whatever its kind.

The member writes the text (``{name}``, ``{agent}``, ``{workspace}``, ``{link}``, ``{code}``
are filled per person); our default wording is a starting point and is refused unedited.
A **reward** (reviews and referrals only) is never hidden: a disclosure line in the person's
language ends the message ("For this review we offer: …") and the row keeps ``rewarded``
and ``reward``. A referral request carries a code of its own, so a referral can be traced
back to it (``outcomes``). Who was not asked is counted by reason, like survey rounds.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from h2h import i18n
from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.advocacy.models import (
    REQUESTS,
    REWARDABLE,
    ActionKind,
    ActionState,
    AdvocacyAction,
)
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, InvalidInput, PermissionDenied
from h2h.inbox import outreach, replies, templates
from h2h.inbox import service as inbox
from h2h.inbox.models import Conversation, Delivery
from h2h.people import consent
from h2h.people import service as people
from h2h.people.models import ConsentPurpose, Person

CAP_DAYS = 30
MAX_TEXT = 5000
MAX_LINK = 2000
MAX_REWARD = 500
MAX_NOTE = 2000
MAX_PEOPLE = 200  # one batch; every message is still personal and edited
VARIABLES = ("name", "agent", "workspace", "link", "code")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand

PURPOSES = {
    ActionKind.THANK: ConsentPurpose.SERVICE,
    ActionKind.INVITE: ConsentPurpose.MARKETING,
    ActionKind.REVIEW: ConsentPurpose.MARKETING,
    ActionKind.REFERRAL: ConsentPurpose.MARKETING,
}
NEEDS_LINK = (ActionKind.INVITE, ActionKind.REVIEW)
DEFAULT_TEXT = {
    ActionKind.THANK: N_(
        "{name}, thank you for what you say about us. It means a lot to the whole team."
    ),
    ActionKind.INVITE: N_(
        "{name}, we are opening our beta to a few people whose opinion we value. Would you"
        " like to join? {link}"
    ),
    ActionKind.REVIEW: N_(
        "{name}, would you share your experience with others in a short review? {link}"
    ),
    ActionKind.REFERRAL: N_(
        "{name}, if you know someone we could help too, please tell them about us and give"
        " them your code {code}."
    ),
}
DISCLOSURE = {
    ActionKind.REVIEW: N_(
        "For this review we offer: {reward}. Please say so in your review, so that readers know."
    ),
    ActionKind.REFERRAL: N_("For a referral we offer: {reward}."),
}
CODE_LINE = N_("Your referral code: {code}")
SUBJECTS = {
    ActionKind.THANK: N_("Thank you"),
    ActionKind.INVITE: N_("An invitation"),
    ActionKind.REVIEW: N_("Would you write a review?"),
    ActionKind.REFERRAL: N_("Would you recommend us?"),
}
REFUSALS = {  # consent.Decision.rule → why a person was not written to
    "no_consent": N_("no consent to such messages on any channel we can write on"),
    "withdrawn": N_("withdrew their consent"),
    "blocked": N_("asked not to be contacted"),
    "erased": N_("erased at their request"),
    "merged": N_("merged into another profile"),
}
OTHER_REFUSAL = N_("other consent rules")
# What a member may set by hand, per kind (any kind may also go back to sent).
MANUAL = {
    ActionKind.THANK: (ActionState.REPLIED,),
    ActionKind.INVITE: (ActionState.REPLIED, ActionState.CONVERTED),
    ActionKind.REVIEW: (ActionState.REPLIED, ActionState.POSTED),
    ActionKind.REFERRAL: (ActionState.REPLIED, ActionState.REFERRED, ActionState.CONVERTED),
}
CLOSING = (ActionState.DECLINED, ActionState.NO_RESPONSE)
MILESTONES = {
    ActionState.REPLIED: "replied_at",
    ActionState.POSTED: "posted_at",
    ActionState.REFERRED: "referred_at",
    ActionState.CONVERTED: "converted_at",
}
# How far an outcome got: detection only ever moves an action up this ladder.
RANK = {
    ActionState.SENT: 0,
    ActionState.NO_RESPONSE: 1,
    ActionState.REPLIED: 2,
    ActionState.POSTED: 3,
    ActionState.REFERRED: 3,
    ActionState.CONVERTED: 4,
    ActionState.DECLINED: 5,
}


@dataclass(frozen=True)
class Request:
    """What a member asked to send, checked: the same for everybody in the batch."""

    kind: ActionKind
    text: str
    link: str | None
    reward: str | None


@dataclass
class SendOutcome:
    actions: list[AdvocacyAction] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    capped: int = 0
    no_address: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # consent rule → count

    @property
    def sent(self) -> int:
        return len(self.actions)


# --- checking what the member wrote ---------------------------------------------------------


def check_kind(kind: Any) -> ActionKind:
    try:
        return ActionKind(str(kind))
    except ValueError:
        raise InvalidInput(
            N_("Unknown kind “{kind}”: use thank, invite, review or referral."),
            field="kind",
            kind=str(kind)[:40],
        ) from None


def default_text(kind: ActionKind, language: str | None) -> str:
    """Our starting wording in this language; the member edits it before sending."""
    return i18n.translations(language if language in ("ru", "en") else "en").gettext(
        DEFAULT_TEXT[kind]
    )


def _unedited(kind: ActionKind, text: str) -> bool:
    squeeze = " ".join(text.split())
    return any(squeeze == " ".join(default_text(kind, lang).split()) for lang in ("en", "ru"))


def check_request(
    *, kind: Any, text: str | None, link: str | None = None, reward: str | None = None,
    rewarded: bool | None = None,
) -> Request:  # fmt: skip
    """The kind, text, link and reward checked, with the field that is wrong named."""
    kind = check_kind(kind)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(N_("Write the message first."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            N_("The message is too long ({limit} characters at most)."),
            field="text",
            limit=MAX_TEXT,
        )
    templates.check_variables(text, VARIABLES, field="text")
    if _unedited(kind, text):
        raise InvalidInput(
            N_(
                "Edit the message before sending: say it in your words, to this person —"
                " advocates should hear from a person, not a form letter."
            ),
            field="text",
        )
    request = Request(kind, text, _check_link(kind, link), _check_reward(kind, reward, rewarded))
    if "{code}" in text and kind is not ActionKind.REFERRAL:
        raise InvalidInput(N_("Only a referral request has a {{code}}."), field="text")
    if "{link}" in text and request.link is None:
        raise InvalidInput(N_("The text has {{link}}: give the link."), field="link")
    return request


def _check_link(kind: ActionKind, link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        if kind in NEEDS_LINK:
            what = N_("the review page") if kind is ActionKind.REVIEW else N_("the invitation")
            raise InvalidInput(N_("Give the link to {what}."), field="link", what=what)
        return None
    if len(link) > MAX_LINK or not link.startswith(("http://", "https://")) or " " in link:
        raise InvalidInput(
            N_("A link starts with http:// or https:// and has no spaces."), field="link"
        )
    return link


def _check_reward(kind: ActionKind, reward: str | None, rewarded: bool | None) -> str | None:
    reward = " ".join((reward or "").split())
    if rewarded and not reward:
        raise InvalidInput(
            N_("Say what the reward is: it is stated in the message, never hidden."),
            field="reward",
        )
    if not reward:
        return None
    if kind not in REWARDABLE:
        raise InvalidInput(
            N_("Only a review or a referral request can come with a reward."), field="reward"
        )
    if len(reward) > MAX_REWARD:
        raise InvalidInput(
            N_("Describe the reward in at most {limit} characters."),
            field="reward",
            limit=MAX_REWARD,
        )
    return reward


# --- composing one person's message ---------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def compose_text(
    request: Request,
    *,
    values: dict[str, str],
    code: str | None,
    gettext: Callable[[str], str],
) -> str:
    """The message as the person gets it: the member's text filled in, then the link and the
    code if the text did not place them, then the reward's disclosure line, always last."""
    filled = templates.fill(
        request.text, {**values, "link": request.link or "", "code": code or ""}
    )
    lines = [filled.strip()]
    if request.link and request.link not in filled:
        lines.append(request.link)
    if code and code not in filled:
        lines.append(gettext(CODE_LINE).format(code=code))
    if request.reward:
        lines.append(gettext(DISCLOSURE[request.kind]).format(reward=request.reward))
    return "\n\n".join(lines)


def first_name(person: Person) -> str:
    words = (person.first_name or person.name or "").split()
    return words[0] if words else ""


# --- where it goes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    conversation: Conversation | None = None  # a direct reply in it
    channel: Channel | None = None  # a new conversation on it
    refusal: consent.Decision | None = None
    no_address: bool = False


def latest_conversation(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID
) -> Conversation | None:
    """The person's newest conversation with a message of theirs to answer."""
    ids = people.identity_ids(session, workspace_id=workspace_id, person_id=person_id)
    if not ids:
        return None
    return session.scalars(
        select(Conversation)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.identity_id.in_(ids),
            Conversation.merged_into_id.is_(None),
            Conversation.last_inbound_id.is_not(None),
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    ).first()


def _reply_route(session: Session, person: Person) -> Route | None:
    conversation = latest_conversation(
        session, workspace_id=person.workspace_id, person_id=person.id
    )
    if conversation is None or not replies.can_send(session, conversation):
        return None
    decision = replies.check_consent(session, conversation)
    if decision is not None and not decision.allowed:
        return Route(refusal=decision)
    return Route(conversation=conversation)


def route(
    session: Session, *, person: Person, kind: ActionKind, channels_in_order: Sequence[Channel]
) -> Route:
    """How to reach this person with this kind of message, or why not."""
    if person.erased_at is not None or person.merged_into_id is not None:
        return Route(refusal=_gone(session, person, kind))
    refusal: consent.Decision | None = None
    if kind is ActionKind.THANK:
        found = _reply_route(session, person)
        if found is not None and found.conversation is not None:
            return found
        refusal = found.refusal if found else None
    addressed = False
    for channel in channels_in_order:
        identity = people.contact_identity(
            session, workspace_id=person.workspace_id, person_id=person.id, channel=channel.kind
        )
        if identity is None:
            continue
        addressed = True
        try:
            decision = consent.may_contact(
                session,
                workspace_id=person.workspace_id,
                person_id=person.id,
                channel=channel.kind,
                purpose=PURPOSES[kind],
            )
        except InvalidInput:
            continue  # a channel kind consent does not know
        if decision.allowed:
            return Route(channel=channel)
        refusal = refusal or decision
    if refusal is not None:
        return Route(refusal=refusal)
    return Route(no_address=not addressed)


def _gone(session: Session, person: Person, kind: ActionKind) -> consent.Decision:
    """Erased or merged: ``may_contact`` refuses before looking at the channel."""
    return consent.may_contact(
        session,
        workspace_id=person.workspace_id,
        person_id=person.id,
        channel=ChannelKind.EMAIL,
        purpose=PURPOSES[kind],
    )


def sendable_channels(
    session: Session, *, workspace_id: uuid.UUID, channel_id: Any = None
) -> list[Channel]:
    """The chosen channel (which must take messages), or every channel that does."""
    if channel_id:
        channel = channels.get_channel(session, workspace_id=workspace_id, channel_id=channel_id)
        if not channels.can_post(channel):
            raise InvalidInput(
                N_("H2H cannot send messages through this channel."), field="channel_id"
            )
        return [channel]
    found = channels.list_channels(session, workspace_id=workspace_id)
    return sorted((c for c in found if channels.can_post(c)), key=lambda c: c.name)


# --- sending ---------------------------------------------------------------------------------


def capped_people(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_ids: Sequence[uuid.UUID],
    now: datetime | None = None,
) -> set[uuid.UUID]:
    """Who got a request (invite, review, referral) within the last ``CAP_DAYS`` days."""
    if not person_ids:
        return set()
    since = (now or utcnow()) - timedelta(days=CAP_DAYS)
    return set(
        session.scalars(
            select(AdvocacyAction.person_id).where(
                AdvocacyAction.workspace_id == workspace_id,
                AdvocacyAction.person_id.in_(person_ids),
                AdvocacyAction.kind.in_(REQUESTS),
                AdvocacyAction.sent_at > since,
            )
        )
    )


def _uuids(values: Sequence[Any]) -> list[uuid.UUID]:
    out = []
    for value in values:
        try:
            out.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            raise InvalidInput(N_("Unknown person."), field="person_ids") from None
    ids = list(dict.fromkeys(out))
    if not ids:
        raise InvalidInput(N_("Choose who to write to."), field="person_ids")
    if len(ids) > MAX_PEOPLE:
        raise InvalidInput(
            N_("At most {limit} people at once."), field="person_ids", limit=MAX_PEOPLE
        )
    return ids


def send(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    request: Request,
    person_ids: Sequence[Any],
    channel_id: Any = None,
) -> SendOutcome:
    """Write to each person; the caller enqueues ``inbox.deliver`` for each delivery after the
    commit. Who may not be written to is counted by reason, and gets nothing."""
    user = session.get(User, inbox.person_of(actor))
    if user is None:
        raise PermissionDenied(N_("Only a named person can do this."))
    ids = _uuids(person_ids)
    order = sendable_channels(session, workspace_id=workspace_id, channel_id=channel_id)
    workspace = session.get(Workspace, workspace_id)
    capped = (
        capped_people(session, workspace_id=workspace_id, person_ids=ids)
        if request.kind in REQUESTS
        else set()
    )
    outcome = SendOutcome()
    for person_id in ids:
        person = people.get_person(session, workspace_id=workspace_id, person_id=person_id)
        if person.id in capped:
            outcome.capped += 1
            continue
        way = route(session, person=person, kind=request.kind, channels_in_order=order)
        if way.refusal is not None:
            outcome.refused[way.refusal.rule] += 1
            continue
        if way.conversation is None and way.channel is None:
            outcome.no_address += 1
            continue
        language = person.language or (workspace.language if workspace else None)
        try:
            with session.begin_nested():
                action, delivery = _send_one(session, actor, user, person, request, way, language)
        except replies.ConsentRefused as refused:  # the decision changed since the route
            outcome.refused[refused.decision.rule] += 1
            continue
        outcome.actions.append(action)
        outcome.deliveries.append(delivery)
    session.flush()
    return outcome


def _send_one(
    session: Session,
    actor: accounts.Actor,
    user: User,
    person: Person,
    request: Request,
    way: Route,
    language: str | None,
) -> tuple[AdvocacyAction, Delivery]:
    workspace_id = person.workspace_id
    gettext = i18n.translations(language if language in ("ru", "en") else "en").gettext
    workspace = session.get(Workspace, workspace_id)
    code = new_code() if request.kind is ActionKind.REFERRAL else None
    values = {
        "name": first_name(person),
        "agent": user.name,
        "workspace": workspace.name if workspace else "",
    }
    text = compose_text(request, values=values, code=code, gettext=gettext)
    if way.conversation is not None:
        delivery = replies.compose(session, conversation=way.conversation, actor=actor, text=text)
    elif way.channel is None:
        raise InvalidInput(N_("There is no way to reach this person."), field="person_ids")
    else:
        delivery = outreach.start_conversation(
            session,
            workspace_id=workspace_id,
            actor=actor,
            person_id=person.id,
            channel_id=way.channel.id,
            text=text,
            purpose=PURPOSES[request.kind],
            subject=gettext(SUBJECTS[request.kind]),
        )
    conversation = inbox.get_conversation(
        session, workspace_id=workspace_id, conversation_id=delivery.conversation_id
    )
    action = AdvocacyAction(
        workspace_id=workspace_id,
        kind=request.kind,
        person_id=person.id,
        state=ActionState.SENT,
        text=text,
        link=request.link,
        rewarded=request.reward is not None,
        reward=request.reward,
        referral_code=code,
        language=language,
        channel_id=conversation.channel_id,
        conversation_id=conversation.id,
        delivery_id=delivery.id,
        route="reply" if way.conversation is not None else "new",
        sent_by=user.id,
        sent_at=utcnow(),
    )
    session.add(action)
    session.flush()
    _audit(session, actor, action, "advocacy.send", kind=request.kind.value,
           person_id=str(person.id), rewarded=action.rewarded, reward=action.reward,
           route=action.route)  # fmt: skip
    return action, delivery


def _audit(
    session: Session, actor: accounts.Actor, action: AdvocacyAction, what: str, **details: Any
) -> None:
    accounts.record(
        session,
        workspace_id=action.workspace_id,
        actor=actor,
        action=what,
        entity_type="advocacy_action",
        entity_id=action.id,
        details=details,
    )


# --- reading ---------------------------------------------------------------------------------


def get_action(session: Session, *, workspace_id: uuid.UUID, action_id: Any) -> AdvocacyAction:
    return get_in_workspace(session, AdvocacyAction, workspace_id=workspace_id, id=action_id)


def list_actions(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    kind: ActionKind | None = None,
    state: ActionState | None = None,
    person_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[AdvocacyAction]:
    query = select(AdvocacyAction).where(AdvocacyAction.workspace_id == workspace_id)
    if kind is not None:
        query = query.where(AdvocacyAction.kind == kind)
    if state is not None:
        query = query.where(AdvocacyAction.state == state)
    if person_id is not None:
        query = query.where(AdvocacyAction.person_id == person_id)
    order = (AdvocacyAction.sent_at.desc(), AdvocacyAction.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def counts(
    session: Session, *, workspace_id: uuid.UUID, since: datetime | None = None
) -> dict[ActionKind, dict[str, float]]:
    """Per kind: sent, and how many got each outcome; ``share`` is the share of those sent
    that led anywhere (a reply, a post, a referral, a purchase). One statement."""
    a = AdvocacyAction
    positive = or_(
        a.replied_at.is_not(None),
        a.posted_at.is_not(None),
        a.referred_at.is_not(None),
        a.converted_at.is_not(None),
    )
    query = (
        select(
            a.kind,
            func.count(),
            func.count(a.replied_at),
            func.count(a.posted_at),
            func.count(a.referred_at),
            func.count(a.converted_at),
            func.sum(case((a.state == ActionState.DECLINED, 1), else_=0)),
            func.sum(case((a.state == ActionState.NO_RESPONSE, 1), else_=0)),
            func.sum(case((positive, 1), else_=0)),
            func.sum(case((a.rewarded, 1), else_=0)),
        )
        .where(a.workspace_id == workspace_id)
        .group_by(a.kind)
    )
    if since is not None:
        query = query.where(a.sent_at >= since)
    found = {kind: dict.fromkeys(COUNT_KEYS, 0.0) for kind in ActionKind}
    for kind, sent, *rest in session.execute(query):
        values = dict(zip(COUNT_KEYS[1:-1], (int(v or 0) for v in rest), strict=True))
        found[kind] = {"sent": sent, **values, "share": values["led"] / sent if sent else 0.0}
    return found


COUNT_KEYS = (
    "sent", "replied", "posted", "referred", "converted", "declined", "no_response", "led",
    "rewarded", "share",
)  # fmt: skip


# --- outcomes --------------------------------------------------------------------------------


def advance(
    session: Session,
    *,
    action: AdvocacyAction,
    state: ActionState,
    at: datetime,
    evidence: dict[str, str] | None = None,
    referred_person_id: uuid.UUID | None = None,
) -> bool:
    """Record a detected outcome if it is further than the current one (never past a
    decline a member set); returns whether anything changed. Audited as the system."""
    if action.state is ActionState.DECLINED or RANK[state] <= RANK[action.state]:
        return False
    before = action.state
    _mark(action, state, at)
    if referred_person_id is not None:
        action.referred_person_id = referred_person_id
    action.evidence = {**(action.evidence or {}), **(evidence or {})}
    action.updated_at = utcnow()
    _audit(session, accounts.SYSTEM, action, "advocacy.outcome", before=before.value,
           after=state.value, detected=True, evidence=evidence or {})  # fmt: skip
    return True


def _mark(action: AdvocacyAction, state: ActionState, at: datetime) -> None:
    action.state = state
    if state in CLOSING:
        action.closed_at = at
        return
    action.closed_at = None
    if state is ActionState.CONVERTED and action.kind is ActionKind.REFERRAL:
        action.referred_at = action.referred_at or at  # a purchase by someone they referred
    column = MILESTONES.get(state)
    if column and getattr(action, column) is None:
        setattr(action, column, at)


def set_outcome(
    session: Session, *, action: AdvocacyAction, actor: accounts.Actor, state: Any, note: str
) -> AdvocacyAction:
    """A member records the outcome by hand, saying how they know (the note)."""
    actor.require(Role.AGENT)
    allowed = (ActionState.SENT, *MANUAL[action.kind], *CLOSING)
    chosen = next((s for s in allowed if s.value == str(state)), None)
    if chosen is None:
        raise InvalidInput(
            N_("This message can be marked only as: {allowed}."),
            field="state",
            allowed=", ".join(s.value for s in allowed),
        )
    note = (note or "").strip()
    if not note:
        raise InvalidInput(N_("Add a note: how do you know?"), field="note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(
            N_("The note is too long ({limit} characters at most)."), field="note", limit=MAX_NOTE
        )
    before, now = action.state, utcnow()
    _mark(action, chosen, now)
    if chosen not in CLOSING:  # a correction: what it was not, it is not counted as
        for state, column in MILESTONES.items():
            if RANK[state] > RANK[chosen]:
                setattr(action, column, None)
    action.outcome_manual, action.outcome_note = True, note
    action.outcome_by, action.outcome_at, action.updated_at = actor.user_id, now, now
    _audit(session, actor, action, "advocacy.outcome", before=before.value, after=chosen.value,
           detected=False, note=note)  # fmt: skip
    session.flush()
    return action
