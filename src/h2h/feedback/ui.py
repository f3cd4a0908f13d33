"""The Feedback pages under /w/<ws>/feedback: scores, surveys, sending a round, settings.

The overview shows NPS, CSAT and CES for a period with their 95% intervals, the weekly
trend and the scores by channel, agent, lifecycle stage and survey (a group under
``scores.MIN_ANSWERS`` answers is marked too small to read), and the latest answers with
what people wrote. Admins make surveys and send rounds; the page says how many people
were asked and why the others were not (consent, caps, no address).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.deps import (
    AdminWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
    language_for,
)
from h2h.errors import N_, H2HError, InvalidInput
from h2h.feedback import invites, scores, service
from h2h.feedback.models import KIND_LABELS, QuestionType, SurveyKind
from h2h.inbox.ui_actions import enqueue_delivery
from h2h.people import segments
from h2h.people import service as people
from h2h.people.models import STAGE_LABELS
from h2h.templating import NavItem, add_nav, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]

add_nav(NavItem("feedback", N_("Feedback"), "/feedback", "star"), after="problems")

PERIODS = (30, 90, 180, 365)
GROUP_LABELS = {
    "channel": N_("By channel"),
    "agent": N_("By agent"),
    "stage": N_("By lifecycle stage"),
    "survey": N_("By survey"),
}
SCORE_NAMES = {SurveyKind.NPS: N_("NPS"), SurveyKind.CSAT: N_("CSAT"), SurveyKind.CES: N_("CES")}
TYPE_WORDS = {
    "scale": QuestionType.SCALE,
    "one": QuestionType.SINGLE,
    "many": QuestionType.MULTIPLE,
    "text": QuestionType.TEXT,
}


def _common(request: Request, session: Session, ctx: WorkspaceContext) -> dict[str, Any]:
    lang = language_for(request, getattr(request.state, "user", None))
    gettext = page_gettext(request)
    return {
        "active": "feedback",
        "kind_labels": KIND_LABELS,
        "score_names": SCORE_NAMES,
        "kinds": SurveyKind,
        "survey_name": lambda s: service.survey_name(s, gettext),
        "format_day": lambda day: format_date(day, format="medium", locale=lang) if day else "",
        "is_admin": ctx.role.at_least(Role.ADMIN),
    }


def _refusal(request: Request, exc: H2HError) -> dict[str, Any]:
    """What a form page shows when the service refused: the reason, its field, the status."""
    return {
        "error": exc.translated(page_gettext(request)),
        "field": exc.field,
        "status_code": exc.status_code,
    }


def _days(raw: str) -> int:
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else 90


@router.get("/w/{ws}/feedback", response_class=HTMLResponse)
def overview(request: Request, ctx: WorkspaceDep, session: SessionDep, days: str = "") -> Response:
    ws = ctx.workspace.id
    period = _days(days)
    until = utcnow()
    since = until - timedelta(days=period)
    names = {
        "channel": {str(c.id): c.name for c in channels.list_channels(session, workspace_id=ws)},
        "agent": {str(k): v for k, v in people.member_names(session, workspace_id=ws).items()},
        "survey": {str(s.id): s for s in service.list_surveys(session, workspace_id=ws)},
    }
    cards, groups, trends = {}, {}, {}
    for kind in (SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES):
        found = scores.summary(session, workspace_id=ws, kind=kind, since=since, until=until)
        if not found.n:
            continue
        cards[kind] = found
        trends[kind] = scores.trend(
            session,
            workspace_id=ws,
            kind=kind,
            since=since,
            until=until,
            days=7 if period <= 90 else 30,
        )
        groups[kind] = {
            group: scores.by_group(
                session, workspace_id=ws, kind=kind, group=group, since=since, until=until
            )
            for group in scores.GROUPS
        }
    persons = {}
    recent = service.recent_responses(session, workspace_id=ws, since=since, limit=30)
    for item in recent:
        persons[item.person_id] = people.get_person(
            session, workspace_id=ws, person_id=item.person_id
        )
    context = {
        **_common(request, session, ctx),
        "period": period,
        "periods": PERIODS,
        "cards": cards,
        "trends": trends,
        "groups": groups,
        "group_labels": GROUP_LABELS,
        "names": names,
        "stage_labels": STAGE_LABELS,
        "recent": recent,
        "persons": persons,
        "min_answers": scores.MIN_ANSWERS,
        "surveys": service.list_surveys(session, workspace_id=ws),
        "is_detractor": scores.is_detractor,
        "is_promoter": scores.is_promoter,
    }
    return render(request, "feedback/overview.html", context)


# --- surveys ----------------------------------------------------------------------------------


def parse_questions(text: str) -> list[dict[str, Any]]:
    """Questions typed one per line: ``scale 1-5: Label``, ``one: Label | A | B``,
    ``many: Label | A | B``, ``text: Label`` (a trailing ``?`` in the type is "optional")."""
    out: list[dict[str, Any]] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, sep, rest = line.partition(":")
        words = head.strip().lower().split()
        if not sep or not words or words[0].rstrip("?") not in TYPE_WORDS:
            raise InvalidInput(
                N_("Line {line}: start with scale, one, many or text and a colon."),
                field="questions",
                line=n,
            )
        kind = TYPE_WORDS[words[0].rstrip("?")]
        label, *options = [part.strip() for part in rest.split("|")]
        item: dict[str, Any] = {"type": kind.value, "label": label, "options": options}
        item["required"] = not words[0].endswith("?") and kind is not QuestionType.TEXT
        if kind is QuestionType.SCALE:
            low, _, high = (words[1] if len(words) > 1 else "1-5").partition("-")
            item["min"], item["max"] = low, high or low
        out.append(item)
    return out


def questions_text(questions: list[dict[str, Any]]) -> str:
    back = {v.value: k for k, v in TYPE_WORDS.items()}
    lines = []
    for q in questions:
        head = back[q["type"]] + ("" if q.get("required", True) or q["type"] == "text" else "?")
        if q["type"] == QuestionType.SCALE.value:
            head += f" {q['min']}-{q['max']}"
        lines.append(" | ".join([f"{head}: {q['label']}", *q.get("options", [])]))
    return "\n".join(lines)


def _survey_form(
    request: Request, session: Session, ctx: WorkspaceContext, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        **_common(request, session, ctx),
        "form": {},
        "error": None,
        "field": None,
        "survey": None,
        **extra,
    }
    return render(request, "feedback/survey_form.html", context, status_code=status)


@router.get("/w/{ws}/feedback/surveys/new", response_class=HTMLResponse)
def new_survey(
    request: Request, ctx: AdminWorkspace, session: SessionDep, kind: str = "nps"
) -> Response:
    gettext = page_gettext(request)
    chosen = kind if kind in {k.value for k in SurveyKind} else "nps"
    default = service.DEFAULT_NAMES.get(SurveyKind(chosen))
    return _survey_form(
        request, session, ctx, form={"kind": chosen, "name": gettext(default) if default else ""}
    )


@router.post("/w/{ws}/feedback/surveys/new", response_class=HTMLResponse)
def create_survey(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    kind: FormStr = "",
    name: FormStr = "",
    intro: FormStr = "",
    questions: FormStr = "",
) -> Response:
    form = {"kind": kind, "name": name, "intro": intro, "questions": questions}
    try:
        survey = service.create_survey(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            kind=kind,
            name=name,
            intro=intro,
            questions=parse_questions(questions) if kind == SurveyKind.CUSTOM.value else None,
        )
    except H2HError as exc:
        session.rollback()
        return _survey_form(
            request,
            session,
            ctx,
            form=form,
            **_refusal(request, exc),
        )
    response = redirect(f"/w/{ctx.workspace.slug}/feedback/surveys/{survey.id}")
    flash(response, request, N_("Survey created. Now choose who to ask."))
    return response


def _survey_page(
    request: Request, session: Session, ctx: WorkspaceContext, survey_id: str, **extra: Any
) -> Response:
    ws = ctx.workspace.id
    status = int(extra.pop("status_code", 200))
    survey = service.get_survey(session, workspace_id=ws, survey_id=survey_id)
    sendable = [c for c in channels.list_channels(session, workspace_id=ws) if channels.can_post(c)]
    responses = service.recent_responses(session, workspace_id=ws, survey_id=survey.id, limit=50)
    found = (
        scores.score(survey.kind, [r.score for r in responses if r.score is not None])
        if survey.kind is not SurveyKind.CUSTOM
        else None
    )
    context = {
        **_common(request, session, ctx),
        "survey": survey,
        "counts": invites.invites_of(session, workspace_id=ws, survey_id=survey.id),
        "answers": service.answer_count(session, survey=survey),
        "responses": responses,
        "persons": {
            r.person_id: people.get_person(session, workspace_id=ws, person_id=r.person_id)
            for r in responses
        },
        "score": found,
        "channels": sendable,
        "segments": segments.list_segments(session, workspace_id=ws),
        "settings": service.get_settings(session, workspace_id=ws),
        "questions_text": questions_text(survey.questions),
        "outcome": None,
        "refusals": invites.REFUSALS,
        "other_refusal": invites.OTHER_REFUSAL,
        "error": None,
        "field": None,
        **extra,
    }
    return render(request, "feedback/survey.html", context, status_code=status)


@router.get("/w/{ws}/feedback/surveys/{survey_id}", response_class=HTMLResponse)
def survey_page(
    request: Request, ctx: WorkspaceDep, session: SessionDep, survey_id: str
) -> Response:
    return _survey_page(request, session, ctx, survey_id)


@router.post("/w/{ws}/feedback/surveys/{survey_id}/send", response_class=HTMLResponse)
def send_round(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    survey_id: str,
    channel_id: FormStr = "",
    segment_id: FormStr = "",
) -> Response:
    ws = ctx.workspace.id
    jobs = request.app.state.jobs
    try:
        survey = service.get_survey(session, workspace_id=ws, survey_id=survey_id)
        if not channel_id:
            raise InvalidInput(N_("Choose the channel to ask through."), field="channel_id")
        ids = invites.audience(
            session, workspace_id=ws, channel_id=channel_id, segment_id=segment_id or None
        )
        if not ids:
            raise InvalidInput(
                N_("Nobody in this audience has an address on that channel."), field="segment_id"
            )
        outcome = invites.send_round(
            session, survey=survey, actor=ctx.actor, person_ids=ids, channel_id=channel_id
        )
        for delivery in outcome.deliveries:
            enqueue_delivery(jobs, session, delivery)
        session.commit()
    except H2HError as exc:
        session.rollback()
        return _survey_page(
            request,
            session,
            ctx,
            survey_id,
            **_refusal(request, exc),
        )
    return _survey_page(request, session, ctx, survey_id, outcome=outcome)


@router.post("/w/{ws}/feedback/surveys/{survey_id}/edit", response_class=HTMLResponse)
def edit_survey(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    survey_id: str,
    name: FormStr = "",
    intro: FormStr = "",
    questions: FormStr = "",
    active: FormStr = "",
) -> Response:
    survey = service.get_survey(session, workspace_id=ctx.workspace.id, survey_id=survey_id)
    try:
        service.update_survey(
            session,
            survey=survey,
            actor=ctx.actor,
            name=name,
            intro=intro,
            questions=parse_questions(questions) if survey.kind is SurveyKind.CUSTOM else None,
            active=bool(active),
        )
    except H2HError as exc:
        session.rollback()
        return _survey_page(
            request,
            session,
            ctx,
            survey_id,
            **_refusal(request, exc),
        )
    response = redirect(f"/w/{ctx.workspace.slug}/feedback/surveys/{survey.id}")
    flash(response, request, N_("Survey saved."))
    return response


# --- settings ---------------------------------------------------------------------------------


def _settings_page(
    request: Request, session: Session, ctx: WorkspaceContext, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        **_common(request, session, ctx),
        "settings": service.get_settings(session, workspace_id=ctx.workspace.id),
        "error": None,
        "field": None,
        **extra,
    }
    return render(request, "feedback/settings.html", context, status_code=status)


@router.get("/w/{ws}/feedback/settings", response_class=HTMLResponse)
def settings_page(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    return _settings_page(request, session, ctx)


@router.post("/w/{ws}/feedback/settings", response_class=HTMLResponse)
async def save_settings(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for flag in ("csat_after_resolve", "detractor_conversation"):
        values[flag] = bool(values.get(flag))
    try:
        service.save_settings(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, values=values
        )
    except H2HError as exc:
        session.rollback()
        return _settings_page(
            request,
            session,
            ctx,
            **_refusal(request, exc),
        )
    response = redirect(f"/w/{ctx.workspace.slug}/feedback/settings")
    flash(response, request, N_("Feedback settings saved."))
    return response
