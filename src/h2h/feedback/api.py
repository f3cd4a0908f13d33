"""Feedback over JSON: surveys, sending a round, scores with intervals, answers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from h2h.db import utcnow
from h2h.deps import (
    AdminWorkspace,
    Auth,
    JobsDep,
    SessionDep,
    WorkspaceDep,
    api_csrf,
)
from h2h.feedback import invites, schemas, scores, service
from h2h.feedback.models import Survey, SurveyKind
from h2h.inbox.ui_actions import enqueue_delivery

AuthDep = Annotated[Auth, Depends(api_csrf)]
BASE = "/workspaces/{ws}/feedback"
router = APIRouter(tags=["feedback"])


def _read(session: Session, survey: Survey) -> schemas.SurveyRead:
    read = schemas.SurveyRead.model_validate(survey)
    read.invitations = invites.invites_of(
        session, workspace_id=survey.workspace_id, survey_id=survey.id
    )
    read.answers = service.answer_count(session, survey=survey)
    return read


@router.get(BASE + "/surveys", response_model=list[schemas.SurveyRead])
def list_surveys(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    return [_read(session, s) for s in service.list_surveys(session, workspace_id=ctx.workspace.id)]


@router.post(BASE + "/surveys", response_model=schemas.SurveyRead, status_code=201)
def create_survey(
    body: schemas.SurveyCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    survey = service.create_survey(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        kind=body.kind,
        name=body.name,
        intro=body.intro,
        questions=body.questions,
    )
    return _read(session, survey)


@router.get(BASE + "/surveys/{survey_id}", response_model=schemas.SurveyRead)
def get_survey(
    survey_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    return _read(
        session, service.get_survey(session, workspace_id=ctx.workspace.id, survey_id=survey_id)
    )


@router.post(BASE + "/surveys/{survey_id}/rounds", response_model=schemas.RoundRead)
def send_round(
    survey_id: uuid.UUID,
    body: schemas.RoundCreate,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
    jobs: JobsDep,
) -> object:
    """Invite people (the given ones, a segment or everybody with an address on the channel);
    those not asked are counted by reason."""
    survey = service.get_survey(session, workspace_id=ctx.workspace.id, survey_id=survey_id)
    ids = body.person_ids
    if ids is None:
        ids = invites.audience(
            session,
            workspace_id=ctx.workspace.id,
            channel_id=body.channel_id,
            segment_id=body.segment_id,
        )
    outcome = invites.send_round(
        session, survey=survey, actor=ctx.actor, person_ids=ids, channel_id=body.channel_id
    )
    for delivery in outcome.deliveries:
        enqueue_delivery(jobs, session, delivery)
    return schemas.RoundRead(
        sent=outcome.sent,
        capped=outcome.capped,
        no_address=outcome.no_address,
        refused=dict(outcome.refused),
    )


def _score(found: scores.Score) -> schemas.ScoreRead:
    return schemas.ScoreRead(**found.as_dict())


@router.get(BASE + "/scores", response_model=schemas.ScoresRead)
def get_scores(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    kind: SurveyKind = SurveyKind.NPS,
    days: Annotated[int, Query(ge=1, le=3660)] = 90,
    period_days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> object:
    """The score over ``days`` with its 95% interval, per period, and by group."""
    until = utcnow()
    since = until - timedelta(days=days)
    ws = ctx.workspace.id
    return schemas.ScoresRead(
        since=since,
        until=until,
        overall=_score(
            scores.summary(session, workspace_id=ws, kind=kind, since=since, until=until)
        ),
        trend=[
            schemas.PeriodScore(start=start, score=_score(found))
            for start, found in scores.trend(
                session, workspace_id=ws, kind=kind, since=since, until=until, days=period_days
            )
        ],
        groups={
            group: {
                key: _score(found)
                for key, found in scores.by_group(
                    session, workspace_id=ws, kind=kind, group=group, since=since, until=until
                ).items()
            }
            for group in scores.GROUPS
        },
    )


@router.get(BASE + "/responses", response_model=list[schemas.ResponseRead])
def list_responses(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    survey_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    if person_id is not None:
        return service.responses_of_person(
            session, workspace_id=ctx.workspace.id, person_id=person_id, limit=limit
        )
    return service.recent_responses(
        session, workspace_id=ctx.workspace.id, survey_id=survey_id, limit=limit
    )
