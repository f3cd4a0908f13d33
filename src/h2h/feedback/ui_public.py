"""The public survey page: a personal link opened on a phone, no login.

``/f/{token}`` shows the survey in the person's language (their profile's, else the
browser's, else the workspace's). A link from the message may carry ``?score=N``: the
page then saves that score at once (a tiny script submits the form, so one tap in the
message is an answer — link scanners that fetch without running scripts answer nothing)
and asks why. The form posts back to the same address; the secret in the link is the only
authority, so there is no cookie and no CSRF token to go stale in a mail app's browser.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h import i18n
from h2h.deps import SessionDep
from h2h.errors import InvalidInput, NotFound
from h2h.feedback import service
from h2h.feedback.models import Invite, QuestionType, SurveyKind
from h2h.templating import ENV, redirect

public_router = APIRouter(include_in_schema=False)
Token = Annotated[str, PathParam(max_length=100)]
CSP = (
    "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAX_FORM_FIELDS = 200


def _language(request: Request, session: Session, invite: Invite) -> str:
    if invite.language in i18n.LANGUAGES:
        return str(invite.language)
    workspace = service.workspace_of(session, invite.workspace_id)
    return i18n.negotiate(request.headers.get("accept-language")) or workspace.language


def _page(
    request: Request,
    session: Session,
    invite: Invite | None,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    lang = (
        _language(request, session, invite)
        if invite is not None
        else i18n.negotiate(request.headers.get("accept-language")) or i18n.SOURCE_LANGUAGE
    )
    gettext = i18n.translations(lang).gettext
    context: dict[str, Any] = {
        "lang": lang,
        "_": gettext,
        "gettext": gettext,
        "version": ENV.globals["version"],
        "invite": invite,
        **extra,
    }
    if invite is not None:
        survey = service.get_survey(
            session, workspace_id=invite.workspace_id, survey_id=invite.survey_id
        )
        workspace = service.workspace_of(session, invite.workspace_id)
        response_ = service.response_of(session, invite=invite)
        context.update(
            survey=survey,
            kinds=SurveyKind,
            types=QuestionType,
            workspace_name=workspace.name,
            name=service.survey_name(survey, gettext),
            question=gettext(service.QUESTIONS[survey.kind]).format(name=workspace.name)
            if survey.kind in service.QUESTIONS
            else "",
            why=gettext(service.WHY),
            scale=range(service.SCALES[survey.kind][0], service.SCALES[survey.kind][1] + 1)
            if survey.kind in service.SCALES
            else range(0),
            ends=[gettext(e) for e in service.ENDS.get(survey.kind, ("", ""))],
            answered=response_,
            expired=service.is_expired(invite),
        )
        context.setdefault("form", {})
    html = ENV.get_template("feedback/public.html").render(context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "no-store"
    return response


def _invite(session: Session, token: str) -> Invite | None:
    try:
        return service.invite_by_token(session, token=token)
    except NotFound:
        return None


@public_router.get("/f/{token}", response_class=HTMLResponse)
def survey_page(
    request: Request, token: Token, session: SessionDep, score: str = "", saved: bool = False
) -> Response:
    invite = _invite(session, token)
    if invite is None:
        return _page(request, session, None, status_code=404, missing=True)
    service.opened(session, invite=invite)
    session.commit()
    preset = score if score.isdigit() and len(score) <= 2 else ""
    answered = service.response_of(session, invite=invite)
    return _page(
        request,
        session,
        invite,
        saved=saved,
        # One tap from the message: submit the tapped score unless an answer is already there.
        autosubmit=bool(preset) and answered is None and not service.is_expired(invite),
        form={
            "score": preset
            or (str(answered.score) if answered and answered.score is not None else "")
        },
    )


@public_router.post("/f/{token}", response_class=HTMLResponse)
async def survey_submit(request: Request, token: Token, session: SessionDep) -> Response:
    invite = _invite(session, token)
    if invite is None:
        return _page(request, session, None, status_code=404, missing=True)
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    answers: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        answers[key] = values if len(values) > 1 else (values[0] if values else None)
    typed = {k: v for k, v in answers.items() if isinstance(v, str)}
    try:
        service.submit(
            session,
            invite=invite,
            score=answers.get("score"),
            answers=answers,
            comment=answers.get("comment"),
        )
        session.commit()
    except InvalidInput as exc:
        session.rollback()
        lang = _language(request, session, invite)
        return _page(
            request,
            session,
            invite,
            status_code=exc.status_code,
            error=exc.translated(i18n.translations(lang).gettext),
            error_field=exc.field,
            form=typed,
        )
    response = redirect(f"/f/{token}?saved=true")
    response.headers["Content-Security-Policy"] = CSP
    return response
