"""Survey answers as a file: the overview's period and one survey, every answer, audited,
without erased persons."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.models import AuditEvent
from h2h.channels.models import Channel
from h2h.feedback import invites, service
from h2h.feedback.models import Invite, Response
from h2h.people import privacy
from tests.conftest import Cast, login
from tests.feedback.conftest import agree_to_surveys, known
from tests.inbox.conftest import actor_of


def test_answers_export_with_scores_as_numbers_and_without_erased_persons(
    client: TestClient, session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    persons = [known(session, cast, telegram_channel, who) for who in ("anna", "ivan", "john")]
    for person in persons:
        agree_to_surveys(session, cast, person)
    survey = service.create_survey(
        session, workspace_id=cast.a.id, actor=actor_of(cast.admin), kind="nps", name="Советуете?"
    )
    invites.send_round(
        session,
        survey=survey,
        actor=actor_of(cast.admin),
        person_ids=[p.id for p in persons],
        channel_id=telegram_channel.id,
    )
    by_person = {i.person_id: i for i in session.scalars(select(Invite))}
    comments = {0: "Отлично, спасибо", 1: "=cmd|' /C calc'!A0", 2: "Всё хорошо"}
    for n, person in enumerate(persons):
        service.submit(session, invite=by_person[person.id], score=str(10 - n), comment=comments[n])
    privacy.erase_person(
        session, workspace_id=cast.a.id, actor=actor_of(cast.admin), person_id=persons[2].id
    )
    session.commit()
    # The erased answer keeps its score for the counts, but not what the person wrote.
    kept = session.scalars(select(Response).where(Response.score == 8)).one()
    assert kept.comment is None and kept.answers == {}
    login(client, cast.viewer.user.email)
    overview = client.get("/w/alpha/feedback?days=30")
    assert "/w/alpha/feedback/export.csv?days=30" in overview.text
    response = client.get("/w/alpha/feedback/export.csv?days=30")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert sorted((r["Score"], r["Comment"]) for r in rows) == [
        ("10", "Отлично, спасибо"),
        ("9", "'=cmd|' /C calc'!A0"),
    ]
    assert {r["Survey"] for r in rows} == {"Советуете?"}
    page = client.get(f"/w/alpha/feedback/surveys/{survey.id}")
    assert f"/feedback/surveys/{survey.id}/export.xlsx" in page.text
    book = load_workbook(
        io.BytesIO(client.get(f"/w/alpha/feedback/surveys/{survey.id}/export.xlsx").content)
    )
    values = list(book.active.iter_rows(values_only=True))
    header, data = values[0], [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    assert "Score" in header and sorted(r["Score"] for r in data) == [9, 10]
    assert all(isinstance(r["Date"], datetime) for r in data)
    assert "Всё хорошо" not in str(values)  # the erased person's answer stays out
    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "feedback.export")
    ).all()
    assert sorted(e.details["format"] for e in audited) == ["csv", "xlsx"]
    assert client.get(f"/w/beta/feedback/surveys/{survey.id}/export.csv").status_code == 404
