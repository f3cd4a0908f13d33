"""The demo shows feedback as it accumulates: half a year of NPS that climbs after the fix,
CSAT credited to the agents who handled the conversations, and a custom survey."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.db import engine_from_settings, make_sessionmaker, utcnow
from h2h.feedback import scores, service
from h2h.feedback.models import Response, SurveyKind
from tests.livesrv import demo_settings


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    settings = demo_settings(tmp_path_factory.mktemp("feedback-demo"))
    engine = engine_from_settings(settings)
    session = make_sessionmaker(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


@pytest.mark.parametrize("slug", ["zerno", "carter-dental"])
def test_nps_climbs_after_the_fix(loaded: Session, slug: str) -> None:
    ws = accounts.get_workspace(loaded, slug=slug).id
    now = utcnow()
    series = scores.trend(
        loaded, workspace_id=ws, kind=SurveyKind.NPS, since=now - timedelta(days=180),
        until=now, days=60,
    )  # fmt: skip
    first, last = series[0][1], series[-1][1]
    assert first.readable and last.readable
    assert last.value is not None and first.value is not None and last.value > first.value + 20


def test_csat_is_credited_to_the_agents_who_handled_the_conversations(loaded: Session) -> None:
    ws = accounts.get_workspace(loaded, slug="zerno").id
    now = utcnow()
    by_agent = scores.by_group(
        loaded, workspace_id=ws, kind=SurveyKind.CSAT, group="agent",
        since=now - timedelta(days=400), until=now,
    )  # fmt: skip
    assert len(by_agent) >= 2 and all(s.n for s in by_agent.values())
    rated = loaded.scalars(
        select(Response).where(Response.workspace_id == ws, Response.kind == SurveyKind.CSAT)
    ).all()
    assert rated and all(r.about_conversation_id and r.agent_id for r in rated)


def test_the_coffee_shop_also_has_a_custom_survey(loaded: Session) -> None:
    ws = accounts.get_workspace(loaded, slug="zerno").id
    kinds = {s.kind for s in service.list_surveys(loaded, workspace_id=ws)}
    assert kinds == {SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CUSTOM}
