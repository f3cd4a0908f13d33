"""Survey answers as a file: the overview's period (/w/<ws>/feedback/export.csv|xlsx?days=)
and one survey's (/w/<ws>/feedback/surveys/<id>/export.csv|xlsx).

The pages show the latest answers; the file holds every answer of the same period or
survey, newest first, read in pages through ``service.responses_statement``. Answers of
erased persons are left out. Answers name people and quote them, so the export is
audited like the People list's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Select
from sqlalchemy.orm import Session

from h2h import exports
from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.deps import SessionDep, WorkspaceContext, WorkspaceDep
from h2h.errors import N_
from h2h.feedback import service
from h2h.feedback.models import KIND_LABELS, Survey
from h2h.feedback.models import Response as Answer
from h2h.feedback.ui import _days
from h2h.people import service as people
from h2h.people.models import Person
from h2h.templating import page_gettext

router = APIRouter(include_in_schema=False)

AUDIT_ACTIONS.update({"feedback.export": N_("exported survey answers")})

COLUMNS = (
    exports.Column(N_("Date"), 18),
    exports.Column(N_("Survey"), 24),
    exports.Column(N_("Kind"), 16),
    exports.Column(N_("Score"), 8),
    exports.Column(N_("Person"), 24),
    exports.Column(N_("Comment"), 50),
    exports.Column(N_("Answers"), 40),
    exports.Column(N_("Channel"), 18),
    exports.Column(N_("Agent"), 20),
    exports.Column(N_("Language"), 8),
    exports.Column(N_("Looked after in the inbox"), 12),
)


@router.get("/w/{ws}/feedback/export.csv")
@router.get("/w/{ws}/feedback/export.xlsx")
def export_period(
    request: Request, ctx: WorkspaceDep, session: SessionDep, days: str = ""
) -> Response:
    """Every answer of the overview's period (the ``days`` it shows)."""
    period = _days(days)
    since = utcnow() - timedelta(days=period)
    stmt = service.responses_statement(workspace_id=ctx.workspace.id, since=since)
    name = f"{ctx.workspace.slug}-feedback-{utcnow().date().isoformat()}"
    return _answers_file(request, session, ctx, stmt, name, {"days": period})


@router.get("/w/{ws}/feedback/surveys/{survey_id}/export.csv")
@router.get("/w/{ws}/feedback/surveys/{survey_id}/export.xlsx")
def export_survey(
    request: Request, ctx: WorkspaceDep, session: SessionDep, survey_id: str
) -> Response:
    """Every answer of one survey."""
    survey = service.get_survey(session, workspace_id=ctx.workspace.id, survey_id=survey_id)
    stmt = service.responses_statement(workspace_id=ctx.workspace.id, survey_id=survey.id)
    name = f"{ctx.workspace.slug}-survey-{survey.name}"
    return _answers_file(request, session, ctx, stmt, name, {"survey": str(survey.id)})


def _answers_file(
    request: Request,
    session: Session,
    ctx: WorkspaceContext,
    stmt: Select[Answer],
    filename: str,
    filters: dict[str, Any],
) -> Response:
    fmt = exports.requested_format(request)
    ws = ctx.workspace.id
    # Erased persons' answers stay for the scores but never leave in a file.
    live = stmt.join(
        Person, (Person.workspace_id == Answer.workspace_id) & (Person.id == Answer.person_id)
    ).where(Person.erased_at.is_(None))
    accounts.record(
        session,
        workspace_id=ws,
        actor=ctx.actor,
        action="feedback.export",
        entity_type="survey_response",
        details={**filters, "format": fmt.value},
    )
    row = _row_maker(session, ws, page_gettext(request))

    def rows(reading: Session) -> Iterator[list[Any]]:
        for page in exports.rows_in_pages(reading, live.add_columns(Person.name)):
            yield from (row(answer, name) for answer, name in page)

    table = exports.Export(filename, COLUMNS, rows, ctx.workspace.timezone)
    return exports.respond(request, session, table, fmt)


def _row_maker(
    session: Session, ws: uuid.UUID, gettext: Callable[[str], str]
) -> Callable[[Answer, str], list[Any]]:
    surveys = {s.id: s for s in service.list_surveys(session, workspace_id=ws)}
    names = {c.id: c.name for c in channels.list_channels(session, workspace_id=ws)}
    members = people.member_names(session, workspace_id=ws)

    def row(answer: Answer, person: str) -> list[Any]:
        survey = surveys.get(answer.survey_id)
        return [
            answer.created_at,
            service.survey_name(survey, gettext) if survey else None,
            gettext(KIND_LABELS[answer.kind]),
            answer.score,
            person,
            answer.comment,
            _answers(survey, answer.answers or {}),
            names.get(answer.channel_id) if answer.channel_id else None,
            members.get(answer.agent_id) if answer.agent_id else None,
            answer.language,
            answer.conversation_id is not None,
        ]

    return row


def _answers(survey: Survey | None, answers: dict[str, Any]) -> str:
    """Custom answers as "question: answer; …", in the survey's order of questions."""
    labels = {str(q.get("id")): q.get("label", "") for q in (survey.questions if survey else [])}
    parts = []
    for key, value in answers.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{labels.get(key, key)}: {shown}")
    return "; ".join(parts)
