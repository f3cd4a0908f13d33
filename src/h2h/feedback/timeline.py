"""Survey answers on a person's profile: a timeline item per answer and a panel with their
latest scores (what the relationship owner should know before writing to them)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.errors import N_
from h2h.feedback import scores, service
from h2h.feedback.models import Response, Survey, SurveyKind
from h2h.people.timeline import Panel, TimelineItem, TimelineQuery, profile_panel, timeline_source

TITLES = {
    True: N_("Answered “{survey}”: {score} of {top}"),
    False: N_("Answered “{survey}”"),
}


@timeline_source("survey")
def survey_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    rows = (
        select(Response, Survey)
        .join(
            Survey,
            (Survey.workspace_id == Response.workspace_id) & (Survey.id == Response.survey_id),
        )
        .where(Response.workspace_id == query.workspace_id, Response.person_id == query.person_id)
    )
    if query.before is not None:
        rows = rows.where(Response.created_at < query.before)
    items = []
    for response, survey in session.execute(
        rows.order_by(Response.created_at.desc()).limit(query.limit)
    ):
        top = service.SCALES.get(survey.kind, (0, 0))[1]
        items.append(
            TimelineItem(
                kind="survey",
                at=response.created_at,
                id=str(response.id),
                title=TITLES[response.score is not None],
                body=response.comment,
                url=f"/feedback/surveys/{survey.id}",
                data={
                    "survey": service.survey_name(survey),
                    "score": response.score,
                    "top": top,
                    "survey_kind": survey.kind.value,
                    "band": scores.band(survey.kind, response.score)
                    if response.score is not None
                    else 0,
                },
            )
        )
    return items


def _panel(session: Session, workspace_id: uuid.UUID, person: Any) -> dict[str, Any]:
    latest: dict[SurveyKind, Response] = {}
    answers = service.responses_of_person(session, workspace_id=workspace_id, person_id=person.id)
    for response in answers:
        if response.score is not None:
            latest.setdefault(response.kind, response)
    return {
        "latest": latest,
        "count": len(answers),
        "scales": service.SCALES,
        "band": scores.band,
    }


profile_panel(Panel("feedback", "feedback/_profile_panel.html", _panel, order=45))
