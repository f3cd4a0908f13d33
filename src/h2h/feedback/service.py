"""Surveys and answers: what is asked, who answered what, and what an answer sets going.

The public page finds an invitation by the SHA-256 of the secret in its link; a wrong,
tampered or expired link is "not found" or "expired", never another person's survey. An
answer is stored once per invitation and may be changed while the link works (people
correct a mis-tap); every text is length-checked, stripped of control characters and only
ever rendered escaped.

A free-text answer becomes the person's message on the invitation's channel, threaded
under the invitation (``parent_id``), so NLP analyses it, problems may cluster it and the
inbox shows it in the conversation. A detractor's answer (NPS 0–6, CSAT 1–2, CES 1–3)
also makes sure somebody looks after them: the conversation is reopened and given to the
person's relationship owner (for CSAT, the agent who handled it when there is no owner).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role, Workspace
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, RawMessage
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, InvalidInput, NotFound
from h2h.feedback import scores
from h2h.feedback.models import (
    FeedbackSettings,
    Invite,
    InviteStatus,
    QuestionType,
    Response,
    Survey,
    SurveyKind,
)
from h2h.inbox import service as inbox
from h2h.inbox.models import Delivery, State
from h2h.people import service as people

SCALES = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7)}
QUESTIONS = {
    SurveyKind.NPS: N_("How likely are you to recommend {name} to a friend or colleague?"),
    SurveyKind.CSAT: N_("How satisfied are you with how we handled your request?"),
    SurveyKind.CES: N_("How easy was it to get what you needed from {name}?"),
}
ENDS = {  # what the two ends of the scale mean
    SurveyKind.NPS: (N_("Not at all likely"), N_("Extremely likely")),
    SurveyKind.CSAT: (N_("Very unsatisfied"), N_("Very satisfied")),
    SurveyKind.CES: (N_("Very hard"), N_("Very easy")),
}
WHY = N_("What is the main reason for your score?")
DEFAULT_NAMES = {
    SurveyKind.NPS: N_("Would you recommend us?"),
    SurveyKind.CSAT: N_("How did we do?"),
    SurveyKind.CES: N_("Was it easy?"),
}
MAX_NAME = 200
MAX_INTRO = 1000
MAX_QUESTIONS = 20
MAX_LABEL = 300
MAX_OPTIONS = 12
MAX_OPTION = 100
MAX_COMMENT = 5000
TOKEN_BYTES = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


# --- texts --------------------------------------------------------------------------------------


def clean_text(value: Any, *, field: str, limit: int) -> str:
    """Text as typed, minus control characters (newlines and tabs stay), within ``limit``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(N_("Expected text."), field=field)
    text = "".join(
        c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs")
    ).strip()
    if len(text) > limit:
        raise InvalidInput(N_("At most {limit} characters, please."), field=field, limit=limit)
    return text


# --- surveys ------------------------------------------------------------------------------------


def check_questions(raw: Any) -> list[dict[str, Any]]:
    """A custom survey's questions, validated; each gets a stable id ``q1``, ``q2``, …"""
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(N_("Add at least one question."), field="questions")
    if len(raw) > MAX_QUESTIONS:
        raise InvalidInput(
            N_("At most {limit} questions, please."), field="questions", limit=MAX_QUESTIONS
        )
    out: list[dict[str, Any]] = []
    for n, item in enumerate(raw, start=1):
        field = f"questions.{n}"
        if not isinstance(item, Mapping):
            raise InvalidInput(N_("Each question needs a type and a text."), field=field)
        try:
            kind = QuestionType(str(item.get("type", "")))
        except ValueError:
            raise InvalidInput(N_("Unknown question type."), field=f"{field}.type") from None
        label = clean_text(item.get("label"), field=f"{field}.label", limit=MAX_LABEL)
        if not label:
            raise InvalidInput(N_("Write the question."), field=f"{field}.label")
        question: dict[str, Any] = {
            "id": f"q{n}",
            "type": kind.value,
            "label": label,
            "required": bool(item.get("required", kind is not QuestionType.TEXT)),
        }
        if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            options = [
                clean_text(o, field=f"{field}.options", limit=MAX_OPTION)
                for o in item.get("options") or []
            ]
            options = list(dict.fromkeys(o for o in options if o))
            if not 2 <= len(options) <= MAX_OPTIONS:
                raise InvalidInput(
                    N_("A choice needs 2 to {limit} different options."),
                    field=f"{field}.options",
                    limit=MAX_OPTIONS,
                )
            question["options"] = options
        if kind is QuestionType.SCALE:
            try:
                low, high = int(item.get("min", 1)), int(item.get("max", 5))
            except (TypeError, ValueError):
                raise InvalidInput(
                    N_("A scale runs between two whole numbers."), field=field
                ) from None
            if not (0 <= low < high <= 10):
                raise InvalidInput(
                    N_("A scale runs from 0 or more up to 10 at most."), field=f"{field}.max"
                )
            question["min"], question["max"] = low, high
        out.append(question)
    return out


def _survey_fields(
    kind: SurveyKind, name: Any, intro: Any, questions: Any
) -> tuple[str, str | None, list[dict[str, Any]]]:
    name_ = clean_text(name, field="name", limit=MAX_NAME)
    if not name_:
        raise InvalidInput(N_("Give the survey a name."), field="name")
    intro_ = clean_text(intro, field="intro", limit=MAX_INTRO) or None
    return name_, intro_, check_questions(questions) if kind is SurveyKind.CUSTOM else []


def create_survey(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    kind: SurveyKind | str,
    name: Any,
    intro: Any = None,
    questions: Any = None,
) -> Survey:
    actor.require(Role.ADMIN)
    try:
        kind = SurveyKind(kind)
    except ValueError:
        raise InvalidInput(N_("Unknown survey kind."), field="kind") from None
    name_, intro_, questions_ = _survey_fields(kind, name, intro, questions)
    survey = Survey(
        workspace_id=workspace_id,
        kind=kind,
        name=name_,
        intro=intro_,
        questions=questions_,
        created_by=actor.user_id,
    )
    session.add(survey)
    session.flush()
    _audit(session, actor, survey, "survey.create", kind=kind.value)
    return survey


def update_survey(
    session: Session,
    *,
    survey: Survey,
    actor: accounts.Actor,
    name: Any,
    intro: Any = None,
    questions: Any = None,
    active: bool = True,
) -> Survey:
    """Rename, reword or close a survey. A custom survey's questions are fixed once answered:
    the answers would no longer say what they answered."""
    actor.require(Role.ADMIN)
    name_, intro_, questions_ = _survey_fields(
        survey.kind, name, intro, questions or survey.questions
    )
    if questions_ != survey.questions and answer_count(session, survey=survey):
        raise InvalidInput(
            N_("People have answered these questions; make a new survey to ask others."),
            field="questions",
        )
    survey.name, survey.intro, survey.questions, survey.active = name_, intro_, questions_, active
    survey.updated_at = utcnow()
    _audit(session, actor, survey, "survey.update", active=active)
    return survey


def get_survey(session: Session, *, workspace_id: uuid.UUID, survey_id: Any) -> Survey:
    return get_in_workspace(session, Survey, workspace_id=workspace_id, id=survey_id)


def list_surveys(session: Session, *, workspace_id: uuid.UUID) -> list[Survey]:
    return list(
        session.scalars(
            select(Survey)
            .where(Survey.workspace_id == workspace_id)
            .order_by(Survey.active.desc(), Survey.created_at.desc())
        )
    )


def csat_survey(session: Session, *, workspace_id: uuid.UUID) -> Survey:
    """The survey the after-conversation CSAT requests belong to (made on first use)."""
    found = session.scalars(
        select(Survey)
        .where(Survey.workspace_id == workspace_id, Survey.kind == SurveyKind.CSAT)
        .order_by(Survey.active.desc(), Survey.created_at)
        .limit(1)
    ).first()
    if found is not None:
        return found
    survey = Survey(
        workspace_id=workspace_id,
        kind=SurveyKind.CSAT,
        name=DEFAULT_NAMES[SurveyKind.CSAT],
        questions=[],
    )
    session.add(survey)
    session.flush()
    return survey


def answer_count(session: Session, *, survey: Survey) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.workspace_id == survey.workspace_id, Response.survey_id == survey.id)
        )
        or 0
    )


def survey_name(survey: Survey, gettext: Any = lambda s: s) -> str:
    """The name as the respondent reads it: a default name is translated."""
    return gettext(survey.name) if survey.name in DEFAULT_NAMES.values() else survey.name


# --- settings -----------------------------------------------------------------------------------


def get_settings(session: Session, *, workspace_id: uuid.UUID) -> FeedbackSettings:
    row = session.get(FeedbackSettings, workspace_id)
    if row is None:
        row = FeedbackSettings(
            workspace_id=workspace_id,
            csat_after_resolve=True,
            csat_delay_minutes=60,
            cap_days=30,
            csat_cap_days=7,
            link_days=30,
            detractor_conversation=True,
        )
        session.add(row)
        session.flush()
    return row


LIMITS = {
    "csat_delay_minutes": (0, 7 * 24 * 60),
    "cap_days": (0, 365),
    "csat_cap_days": (0, 365),
    "link_days": (1, 365),
}


def save_settings(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    values: Mapping[str, Any],
) -> FeedbackSettings:
    actor.require(Role.ADMIN)
    row = get_settings(session, workspace_id=workspace_id)
    for key, (low, high) in LIMITS.items():
        if key not in values:
            continue
        try:
            number = int(values[key])
        except (TypeError, ValueError):
            raise InvalidInput(N_("Enter a whole number."), field=key) from None
        if not low <= number <= high:
            raise InvalidInput(
                N_("Enter a number from {low} to {high}."), field=key, low=low, high=high
            )
        setattr(row, key, number)
    for key in ("csat_after_resolve", "detractor_conversation"):
        if key in values:
            setattr(row, key, bool(values[key]))
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="feedback.settings",
        entity_type="workspace",
        entity_id=workspace_id,
    )
    return row


# --- links --------------------------------------------------------------------------------------


def new_token() -> tuple[str, str]:
    """A fresh link secret and the hash stored for it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_by_token(session: Session, *, token: str) -> Invite:
    """The invitation a link points at; anything else is simply not found."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise NotFound(N_("This survey link is not valid."))
    invite = session.scalars(
        select(Invite).where(Invite.token_hash == token_hash(token)).limit(1)
    ).first()
    if invite is None:
        raise NotFound(N_("This survey link is not valid."))
    return invite


def is_expired(invite: Invite, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= invite.expires_at


def opened(session: Session, *, invite: Invite) -> None:
    if invite.opened_at is None:
        invite.opened_at = utcnow()


def response_of(session: Session, *, invite: Invite) -> Response | None:
    return session.scalars(
        select(Response).where(
            Response.workspace_id == invite.workspace_id, Response.invite_id == invite.id
        )
    ).first()


# --- answers ------------------------------------------------------------------------------------


def _check_score(kind: SurveyKind, value: Any, field: str = "score") -> int | None:
    if kind is SurveyKind.CUSTOM:
        return None
    low, high = SCALES[kind]
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(N_("Choose a score."), field=field) from None
    if not low <= number <= high:
        raise InvalidInput(
            N_("Choose a score from {low} to {high}."), field=field, low=low, high=high
        )
    return number


def _check_answers(survey: Survey, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Custom answers by question id: a scale's number, a choice among the options, text."""
    out: dict[str, Any] = {}
    for question in survey.questions:
        key, kind = question["id"], QuestionType(question["type"])
        value = raw.get(key)
        if kind is QuestionType.MULTIPLE:
            chosen = value if isinstance(value, list) else [value] if value else []
            chosen = [str(v) for v in chosen]
            if any(v not in question["options"] for v in chosen):
                raise InvalidInput(N_("Choose among the options given."), field=key)
            answer: Any = [o for o in question["options"] if o in chosen] or None
        elif kind is QuestionType.SINGLE:
            answer = str(value) if value not in (None, "") else None
            if answer is not None and answer not in question["options"]:
                raise InvalidInput(N_("Choose among the options given."), field=key)
        elif kind is QuestionType.SCALE:
            answer = None
            if value not in (None, ""):
                try:
                    answer = int(str(value))
                except ValueError:
                    raise InvalidInput(N_("Choose a number on the scale."), field=key) from None
                if not question["min"] <= answer <= question["max"]:
                    raise InvalidInput(N_("Choose a number on the scale."), field=key)
        else:
            answer = clean_text(value, field=key, limit=MAX_COMMENT) or None
        if answer is None and question.get("required"):
            raise InvalidInput(N_("Please answer this question."), field=key)
        if answer is not None:
            out[key] = answer
    return out


def submit(
    session: Session,
    *,
    invite: Invite,
    score: Any = None,
    answers: Mapping[str, Any] | None = None,
    comment: Any = None,
    now: datetime | None = None,
) -> Response:
    """Store (or change) the answer to an invitation, and act on it."""
    now = now or utcnow()
    if is_expired(invite, now):
        raise InvalidInput(N_("This survey link has expired."), field="token")
    survey = get_survey(session, workspace_id=invite.workspace_id, survey_id=invite.survey_id)
    value = _check_score(survey.kind, score)
    custom = _check_answers(survey, answers or {}) if survey.kind is SurveyKind.CUSTOM else {}
    text = clean_text(comment, field="comment", limit=MAX_COMMENT) or None
    response = response_of(session, invite=invite)
    if response is None:
        response = Response(
            workspace_id=invite.workspace_id,
            survey_id=survey.id,
            invite_id=invite.id,
            person_id=invite.person_id,
            kind=survey.kind,
            channel_id=invite.channel_id,
            agent_id=invite.agent_id,
            about_conversation_id=invite.about_conversation_id,
            language=invite.language,
            created_at=now,
        )
        session.add(response)
    said = _said(survey, value, custom, text)
    changed = said and said != _said(
        survey, response.score, response.answers or {}, response.comment
    )
    response.score, response.answers, response.comment = value, custom, text
    response.updated_at = now
    invite.status, invite.answered_at = InviteStatus.ANSWERED, now
    session.flush()
    detractor = scores.is_detractor(survey.kind, value)
    if said and (changed or response.message_id is None) and (text or detractor):
        _as_message(session, invite, survey, response, said, now)
    if detractor and get_settings(session, workspace_id=invite.workspace_id).detractor_conversation:
        _look_after(session, invite, response)
    return response


def _said(survey: Survey, value: int | None, custom: Mapping[str, Any], text: str | None) -> str:
    """What the person said, as the text of their message: the comment, or the score."""
    parts = []
    if value is not None:
        parts.append(f"{survey.kind.value.upper()} {value}/{SCALES[survey.kind][1]}")
    parts += [f"{v}" for v in custom.values() if isinstance(v, str) and v not in ("",)]
    if text:
        parts.append(text)
    return " — ".join(parts) if (text or value is not None) else ""


def _as_message(
    session: Session, invite: Invite, survey: Survey, response: Response, said: str, now: datetime
) -> None:
    """The answer as the person's own message, threaded under the invitation."""
    if invite.channel_id is None:
        return
    channel = channels.get_channel(
        session, workspace_id=invite.workspace_id, channel_id=invite.channel_id
    )
    identity = people.contact_identity(
        session, workspace_id=invite.workspace_id, person_id=invite.person_id, channel=channel.kind
    )
    if identity is None:
        return
    delivery = (
        session.get(Delivery, (invite.workspace_id, invite.delivery_id))
        if invite.delivery_id
        else None
    )
    conversation = (
        inbox.get_conversation(
            session, workspace_id=invite.workspace_id, conversation_id=invite.conversation_id
        )
        if invite.conversation_id
        else None
    )
    digest = hashlib.sha256(said.encode()).hexdigest()[:16]
    person = people.get_person(
        session, workspace_id=invite.workspace_id, person_id=invite.person_id
    )
    result = ingest.store(
        session,
        workspace_id=invite.workspace_id,
        channel_id=channel.id,
        items=[
            RawMessage(
                external_id=f"survey:{invite.id}:{digest}",
                text=said,
                created_at=now,
                author=Author(handle=identity.value, name=person.name),
                thread_id=conversation.thread_key if conversation else None,
                parent_id=delivery.external_id if delivery and delivery.external_id else None,
                language=invite.language,
                raw={
                    "survey": str(survey.id),
                    "survey_kind": survey.kind.value,
                    "score": response.score,
                    "invite": str(invite.id),
                },
            )
        ],
    )
    if result.inserted:
        response.message_id = result.inserted[0]


def _look_after(session: Session, invite: Invite, response: Response) -> None:
    """A detractor gets a person: their conversation, open, with their relationship owner."""
    conversation = None
    if response.message_id is not None:
        conversation = inbox.conversations_of_messages(
            session, workspace_id=invite.workspace_id, message_ids=[response.message_id]
        ).get(response.message_id)
    if conversation is None and invite.conversation_id is not None:
        conversation = inbox.get_conversation(
            session, workspace_id=invite.workspace_id, conversation_id=invite.conversation_id
        )
    if conversation is None:
        return
    person = people.get_person(
        session, workspace_id=invite.workspace_id, person_id=invite.person_id
    )
    owner = person.owner_id or invite.agent_id or conversation.owner_id
    if conversation.state is not State.OPEN:  # they wait for us now
        inbox.change_state(session, conversation, State.OPEN, reason="detractor")
    if owner is not None and conversation.owner_id != owner:
        inbox.set_owner(session, conversation, owner, reason="detractor")
    inbox.log_event(
        session, conversation, "detractor", survey_kind=response.kind.value, score=response.score
    )
    response.conversation_id = conversation.id


def responses_of_person(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID, limit: int = 50
) -> list[Response]:
    return list(
        session.scalars(
            select(Response)
            .where(Response.workspace_id == workspace_id, Response.person_id == person_id)
            .order_by(Response.created_at.desc())
            .limit(limit)
        )
    )


def recent_responses(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[Response]:
    query = responses_statement(workspace_id=workspace_id, survey_id=survey_id, since=since)
    return list(session.scalars(query.limit(limit)))


def responses_statement(
    *, workspace_id: uuid.UUID, survey_id: uuid.UUID | None = None, since: datetime | None = None
) -> Select[Response]:
    """Answers newest first, of one survey or all, since a time (the lists and exports)."""
    query = select(Response).where(Response.workspace_id == workspace_id)
    if survey_id is not None:
        query = query.where(Response.survey_id == survey_id)
    if since is not None:
        query = query.where(Response.created_at >= since)
    return query.order_by(Response.created_at.desc())


def expire_links(session: Session, *, now: datetime | None = None) -> int:
    """Mark unanswered invitations whose link ran out (the page already refuses them)."""
    result = session.execute(
        update(Invite)
        .where(Invite.status == InviteStatus.SENT, Invite.expires_at <= (now or utcnow()))
        .values(status=InviteStatus.EXPIRED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def workspace_of(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:  # the foreign key guarantees it
        raise NotFound()
    return workspace


def _audit(
    session: Session, actor: accounts.Actor, survey: Survey, action: str, **details: Any
) -> None:
    accounts.record(
        session,
        workspace_id=survey.workspace_id,
        actor=actor,
        action=action,
        entity_type="survey",
        entity_id=survey.id,
        details=details,
    )


def link_days(session: Session, *, workspace_id: uuid.UUID) -> timedelta:
    return timedelta(days=get_settings(session, workspace_id=workspace_id).link_days)


def csat_of_conversations(
    session: Session, *, workspace_id: uuid.UUID, since: datetime
) -> dict[uuid.UUID, int]:
    """The CSAT score of each conversation rated since ``since`` (the latest answer wins), for
    the staff figures."""
    rows = session.execute(
        select(Response.about_conversation_id, Response.score)
        .where(
            Response.workspace_id == workspace_id,
            Response.kind == SurveyKind.CSAT,
            Response.about_conversation_id.is_not(None),
            Response.score.is_not(None),
            Response.created_at >= since,
        )
        .order_by(Response.updated_at)
    )
    return {conversation: score for conversation, score in rows if conversation and score}
