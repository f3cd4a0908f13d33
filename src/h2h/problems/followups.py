"""Telling every affected person that their problem is fixed — as a person, with consent.

When a problem is marked fixed, ``prepare`` drafts one message per affected person. Where
it goes, in order:

1. **reply** — into the conversation of their latest complaint, when H2H can post to that
   channel: a direct reply to their own message, which needs no consent (DESIGN.md) unless
   they blocked contact;
2. **consent** — a new conversation on a channel where we have their address and
   ``consent.may_contact`` allows a service message (their consent, or they wrote to us or
   ordered recently);
3. otherwise the draft is **blocked**, with the reason, and nothing is sent.

The owner edits the wording (variables ``{name}``, ``{problem}``, ``{fix}``, ``{agent}``,
``{workspace}``), can edit or skip any single message, then sends. The default wording is
never sent as is: like reply templates, a fix notice must say what was done for *them*.
Replies come back into the inbox like any other message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, User, Workspace
from h2h.channels import service as channels
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput, PermissionDenied
from h2h.i18n import translations
from h2h.inbox import outreach, replies, templates
from h2h.inbox import service as inbox
from h2h.inbox.models import Delivery
from h2h.people import consent
from h2h.people import service as people
from h2h.people.models import ConsentPurpose
from h2h.problems import service
from h2h.problems.models import FollowUp, FollowUpStatus, Problem, ProblemState

VARIABLES = ("name", "problem", "fix", "agent", "workspace")
MAX_TEXT = 5000
DEFAULT_TEXT = N_(
    "{name}, hello! You wrote to us about a problem: {problem}. We have fixed it: {fix}."
    " Thank you for telling us — it helped. If anything is still wrong, just reply to this"
    " message."
)


NO_PERSON = N_("We cannot post to that channel and do not know who the author is.")
NO_ADDRESS = N_("No address of this person on a channel we can send to.")


def _because(reason: str) -> consent.Decision:
    return consent.Decision(False, reason, "no_route")


def blocked_text(item: FollowUp, gettext: Callable[[str], str] = lambda s: s) -> str:
    """Why a follow-up cannot be sent, in the reader's language."""
    if not item.blocked_reason:
        return ""
    return consent.Decision(False, item.blocked_reason, "", dict(item.blocked_params or {})).text(
        gettext
    )


def default_text(session: Session, *, workspace_id: uuid.UUID, language: str | None) -> str:
    """The workspace's own wording, else ours in the problem's language."""
    own = service.settings_of(session, workspace_id=workspace_id).follow_up_text
    if own:
        return own
    return translations(language if language in ("ru", "en") else "en").gettext(DEFAULT_TEXT)


def check_text(text: str) -> str:
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
    return text


def render(
    session: Session, *, problem: Problem, text: str, name: str | None, agent: User | None
) -> str:
    workspace = session.get(Workspace, problem.workspace_id)
    values = {
        "name": name or "",
        "problem": service.title_of(problem),
        "fix": problem.fix_note or "",
        "agent": agent.name if agent else "",
        "workspace": workspace.name if workspace else "",
    }
    return templates.fill(text, values).strip()


def follow_ups(session: Session, *, problem: Problem) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.workspace_id == problem.workspace_id, FollowUp.problem_id == problem.id)
            .order_by(FollowUp.status, FollowUp.name, FollowUp.id)
        )
    )


def get_follow_up(session: Session, *, problem: Problem, follow_up_id: Any) -> FollowUp:
    found = get_in_workspace(session, FollowUp, workspace_id=problem.workspace_id, id=follow_up_id)
    if found.problem_id != problem.id:
        raise InvalidInput(N_("That message is not about this problem."), field="follow_up_id")
    return found


def _route(
    session: Session, problem: Problem, affected: service.Affected
) -> tuple[str, uuid.UUID | None, uuid.UUID | None, consent.Decision | None]:
    """(route, channel, conversation, why not) for one affected person."""
    workspace_id = problem.workspace_id
    conversation = inbox.conversation_of(
        session, workspace_id=workspace_id, message_id=affected.message_id
    )
    while conversation is not None and conversation.merged_into_id is not None:
        conversation = inbox.get_conversation(
            session, workspace_id=workspace_id, conversation_id=conversation.merged_into_id
        )
    refusal: consent.Decision | None = None
    if conversation is not None and replies.can_send(session, conversation):
        decision = replies.check_consent(session, conversation)
        if decision is None or decision.allowed:
            return "reply", conversation.channel_id, conversation.id, None
        refusal = decision
    if affected.person_id is None:
        return "none", None, None, refusal or _because(NO_PERSON)
    ordered = sorted(
        channels.list_channels(session, workspace_id=workspace_id),
        key=lambda c: (c.id != affected.channel_id, c.name),
    )
    for channel in ordered:
        if not channels.can_post(channel):
            continue
        identity = people.contact_identity(
            session, workspace_id=workspace_id, person_id=affected.person_id, channel=channel.kind
        )
        if identity is None:
            continue
        try:
            decision = consent.may_contact(
                session,
                workspace_id=workspace_id,
                person_id=affected.person_id,
                channel=channel.kind,
                purpose=ConsentPurpose.SERVICE,
            )
        except InvalidInput:
            continue  # a channel kind consent does not know (offline log, review sites)
        if decision.allowed:
            return "consent", channel.id, None, None
        refusal = refusal or decision
    return "none", None, None, refusal or _because(NO_ADDRESS)


def prepare(session: Session, *, problem: Problem, actor: accounts.Actor) -> int:
    """Draft a message to each affected person who has none yet; returns how many drafts."""
    actor.require(Role.AGENT)
    if problem.state not in (ProblemState.FIXED, ProblemState.VERIFIED):
        raise Conflict(N_("Mark the problem fixed first."))
    existing = {f.recipient for f in follow_ups(session, problem=problem)}
    agent = session.get(User, actor.user_id) if actor.user_id else None
    wording = default_text(session, workspace_id=problem.workspace_id, language=problem.language)
    made = 0
    for person in service.affected(session, problem=problem):
        if person.key in existing:
            continue
        route, channel_id, conversation_id, reason = _route(session, problem, person)
        first = person.name.split()[0] if person.name.split() else person.name
        session.add(
            FollowUp(
                workspace_id=problem.workspace_id,
                problem_id=problem.id,
                recipient=person.key,
                person_id=person.person_id,
                identity_id=person.identity_id,
                name=person.name[:300],
                message_id=person.message_id,
                channel_id=channel_id,
                conversation_id=conversation_id,
                route=route,
                status=FollowUpStatus.BLOCKED if route == "none" else FollowUpStatus.DRAFT,
                blocked_reason=reason.reason[:300] if reason else None,
                blocked_params=dict(reason.params) if reason else {},
                text=render(session, problem=problem, text=wording, name=first, agent=agent),
            )
        )
        made += 1
    session.flush()
    service.log_event(session, problem, "follow_ups_prepared", actor_id=actor.user_id, count=made)
    return made


def rewrite(session: Session, *, problem: Problem, actor: accounts.Actor, text: str) -> int:
    """The owner's wording for every draft not edited one by one; returns how many changed."""
    actor.require(Role.AGENT)
    text = check_text(text)
    agent = session.get(User, actor.user_id) if actor.user_id else None
    changed = 0
    for item in follow_ups(session, problem=problem):
        if item.status is FollowUpStatus.DRAFT and not item.edited:
            first = (item.name or "").split()[0] if (item.name or "").split() else item.name
            item.text = render(session, problem=problem, text=text, name=first, agent=agent)
            changed += 1
    problem.follow_up_wording = text
    return changed


def edit(session: Session, *, follow_up: FollowUp, actor: accounts.Actor, text: str) -> FollowUp:
    actor.require(Role.AGENT)
    if follow_up.status is not FollowUpStatus.DRAFT:
        raise Conflict(N_("This message was already sent or skipped."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(N_("Write the message first."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            N_("The message is too long ({limit} characters at most)."),
            field="text",
            limit=MAX_TEXT,
        )
    follow_up.text, follow_up.edited = text, True
    return follow_up


def skip(
    session: Session, *, follow_up: FollowUp, actor: accounts.Actor, skipped: bool = True
) -> FollowUp:
    actor.require(Role.AGENT)
    if follow_up.status not in (FollowUpStatus.DRAFT, FollowUpStatus.SKIPPED):
        raise Conflict(N_("This message was already sent or skipped."))
    follow_up.status = FollowUpStatus.SKIPPED if skipped else FollowUpStatus.DRAFT
    return follow_up


def _unedited(session: Session, problem: Problem, item: FollowUp, agent: User) -> bool:
    wording = default_text(session, workspace_id=problem.workspace_id, language=problem.language)
    first = (item.name or "").split()[0] if (item.name or "").split() else item.name
    return item.text == render(session, problem=problem, text=wording, name=first, agent=agent)


def send(
    session: Session,
    *,
    problem: Problem,
    actor: accounts.Actor,
    follow_up_ids: Sequence[Any] | None = None,
) -> list[Delivery]:
    """Send the drafts (all, or the chosen ones); the caller enqueues ``inbox.deliver`` for
    each returned delivery after the commit. A draft the consent rules now refuse becomes
    blocked, with the reason; the others still go."""
    user_id = inbox.person_of(actor)
    agent = session.get(User, user_id)
    if agent is None:
        raise PermissionDenied(N_("Only a named person can do this."))
    items = [f for f in follow_ups(session, problem=problem) if f.status is FollowUpStatus.DRAFT]
    if follow_up_ids is not None:
        chosen = {str(i) for i in follow_up_ids}
        items = [f for f in items if str(f.id) in chosen]
    if not items:
        raise InvalidInput(N_("There is nothing to send."), field="follow_up_ids")
    if any(_unedited(session, problem, item, agent) for item in items):
        raise InvalidInput(
            N_(
                "Edit the message before sending: say what was fixed, in your words —"
                " people should hear from a person, not a form letter."
            ),
            field="text",
        )
    sent: list[Delivery] = []
    for item in items:
        try:
            delivery = _send_one(session, problem, item, actor)
        except replies.ConsentRefused as refused:
            item.status = FollowUpStatus.BLOCKED
            item.blocked_reason = refused.decision.reason[:300]
            item.blocked_params = dict(refused.decision.params)
            continue
        except InvalidInput as bad:
            item.status = FollowUpStatus.BLOCKED
            item.blocked_reason = str(bad.message)[:300]
            item.blocked_params = {k: str(v) for k, v in bad.params.items()}
            continue
        item.status, item.delivery_id = FollowUpStatus.SENT, delivery.id
        item.conversation_id = delivery.conversation_id
        item.sent_by, item.sent_at = user_id, utcnow()
        sent.append(delivery)
    service.log_event(session, problem, "follow_ups_sent", actor_id=user_id, count=len(sent))
    service._audit(session, actor, problem, "problem.follow_ups", count=len(sent))
    return sent


def _send_one(
    session: Session, problem: Problem, item: FollowUp, actor: accounts.Actor
) -> Delivery:
    if item.route == "reply" and item.conversation_id is not None:
        conversation = inbox.get_conversation(
            session, workspace_id=problem.workspace_id, conversation_id=item.conversation_id
        )
        return replies.compose(session, conversation=conversation, actor=actor, text=item.text)
    if item.route == "consent" and item.person_id and item.channel_id:
        return outreach.start_conversation(
            session,
            workspace_id=problem.workspace_id,
            actor=actor,
            person_id=item.person_id,
            channel_id=item.channel_id,
            text=item.text,
            purpose=ConsentPurpose.SERVICE,
            subject=service.title_of(problem),
        )
    raise InvalidInput(N_("There is no way to reach this person."), field="follow_up_id")


def counts(session: Session, *, problem: Problem) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in follow_ups(session, problem=problem):
        found[item.status.value] = found.get(item.status.value, 0) + 1
    return found
