"""The understanding in the web UI and the API: badges and reasons in the stream, filters,
corrections by agents, the Understanding page and aspects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.nlp.models import Analysis, Correction, WorkspaceAspect
from tests.conftest import Cast, login

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
THREAT = "Верните деньги до пятницы, иначе подам в суд и напишу отзывы на всех сайтах"
RUDE = "Курьер опять опоздал, это пиздец какой-то"
CALM = "The shop opens at nine tomorrow."


def _messages(session: Session, cast: Cast) -> list:
    actor = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    channel = channels.create_channel(
        session, workspace_id=cast.a.id, actor=actor, kind=ChannelKind.FILE, name="Reviews"
    )
    items = [
        RawMessage(
            external_id=str(n), text=text, created_at=T0 + timedelta(minutes=n), author=Author("x")
        )
        for n, text in enumerate([THREAT, RUDE, CALM])
    ]
    ids = ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=items).inserted
    session.commit()
    return ids


def test_the_stream_shows_what_was_understood_and_why(
    client: TestClient, cast: Cast, session: Session
) -> None:
    _messages(session, cast)
    login(client, cast.viewer.user.email)
    page = client.get("/w/alpha/mentions")
    assert page.status_code == 200
    assert 'data-testid="mention-sentiment"' in page.text
    assert "intent-threat" in page.text
    assert 'data-testid="why"' in page.text
    assert "пиздец" not in page.text, "profanity is masked in lists"
    assert "п*****" in page.text


def test_the_stream_filters_by_intent_and_sorts_by_urgency(
    client: TestClient, cast: Cast, session: Session
) -> None:
    _messages(session, cast)
    login(client, cast.viewer.user.email)
    threats = client.get("/w/alpha/mentions", params={"intent": "threat"})
    assert threats.text.count('data-testid="mention"') == 1
    assert "иначе подам в суд" in threats.text
    urgent = client.get("/w/alpha/mentions", params={"sort": "urgent"})
    assert urgent.text.index("иначе подам в суд") < urgent.text.index("The shop opens")
    unknown = client.get("/w/alpha/mentions", params={"intent": "nonsense", "sentiment": "x"})
    assert unknown.text.count('data-testid="mention"') == 3


def test_an_agent_corrects_the_sentiment_on_the_message_page(
    client: TestClient, cast: Cast, session: Session
) -> None:
    ids = _messages(session, cast)
    csrf = login(client, cast.agent.user.email)
    page = client.get(f"/w/alpha/mentions/{ids[2]}")
    assert 'data-testid="analysis"' in page.text and 'data-testid="corrections"' in page.text
    done = client.post(
        f"/w/alpha/mentions/{ids[2]}/analysis",
        data={"csrf_token": csrf, "field": "sentiment", "sentiment": "negative"},
    )
    assert done.status_code == 200
    assert 'data-testid="corrected-sentiment"' in done.text
    session.expire_all()
    analysis = session.scalars(select(Analysis).where(Analysis.message_id == ids[2])).one()
    assert analysis.sentiment == "negative" and analysis.corrected == ["sentiment"]


def test_a_bad_correction_says_why_and_a_viewer_cannot_correct(
    client: TestClient, cast: Cast, session: Session
) -> None:
    ids = _messages(session, cast)
    csrf = login(client, cast.agent.user.email)
    page = client.post(
        f"/w/alpha/mentions/{ids[2]}/analysis",
        data={"csrf_token": csrf, "field": "intents"},  # no intent ticked
    )
    assert "non-empty list of known intents" in page.text
    assert session.scalars(select(Correction)).all() == []
    csrf = login(client, cast.viewer.user.email)
    viewer_page = client.get(f"/w/alpha/mentions/{ids[2]}")
    assert 'data-testid="corrections"' not in viewer_page.text
    refused = client.post(
        f"/w/alpha/mentions/{ids[2]}/analysis",
        data={"csrf_token": csrf, "field": "sentiment", "sentiment": "negative"},
    )
    assert refused.status_code == 403


def test_an_admin_adds_an_aspect_and_a_bad_key_is_explained(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.admin.user.email)
    page = client.get("/w/alpha/understanding")
    assert page.status_code == 200 and 'data-testid="aspect-form"' in page.text
    bad = client.post(
        "/w/alpha/understanding/aspects",
        data={"csrf_token": csrf, "key": "Парковка!", "name": "P", "terms": "парковка"},
    )
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    good = client.post(
        "/w/alpha/understanding/aspects",
        data={"csrf_token": csrf, "key": "parking", "name": "Парковка", "terms": "парковки"},
    )
    assert good.status_code == 200 and 'data-testid="custom-aspect"' in good.text
    assert session.scalars(select(WorkspaceAspect.terms)).one() == ["парковки"]


def test_the_api_analyses_texts_and_takes_corrections(
    client: TestClient, cast: Cast, session: Session
) -> None:
    ids = _messages(session, cast)
    analysed = client.post(
        "/api/v1/workspaces/alpha/nlp/analyze",
        json={"texts": [THREAT, CALM], "languages": ["ru", None]},
        headers=cast.viewer.headers,
    )
    assert analysed.status_code == 200
    first, second = analysed.json()
    assert "threat" in first["intents"] and second["language"] == "en"
    mismatch = client.post(
        "/api/v1/workspaces/alpha/nlp/analyze",
        json={"texts": ["a", "b"], "languages": ["ru"]},
        headers=cast.viewer.headers,
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["field"] == "languages"
    stored = client.get(
        f"/api/v1/workspaces/alpha/messages/{ids[0]}/analysis", headers=cast.viewer.headers
    )
    assert stored.json()["message_id"] == str(ids[0])
    corrected = client.post(
        f"/api/v1/workspaces/alpha/messages/{ids[0]}/corrections",
        json={"field": "intents", "value": ["complaint", "threat", "request"]},
        headers=cast.agent.headers,
    )
    assert corrected.status_code == 200
    assert corrected.json()["intents"] == ["complaint", "request", "threat"]
    assert corrected.json()["corrected"] == ["intents"]
    filtered = client.get(
        "/api/v1/workspaces/alpha/messages",
        params={"intent": "request"},
        headers=cast.viewer.headers,
    )
    assert [m["id"] for m in filtered.json()["items"]] == [str(ids[0])]


def test_the_api_manages_aspects(client: TestClient, cast: Cast) -> None:
    created = client.post(
        "/api/v1/workspaces/alpha/aspects",
        json={"key": "kids", "name": "Дети", "terms": ["детская комната", "детей"]},
        headers=cast.admin.headers,
    )
    assert created.status_code == 201
    assert created.json()["terms"] == ["детская комната", "детей"]
    listed = client.get("/api/v1/workspaces/alpha/aspects", headers=cast.viewer.headers).json()
    assert [a["key"] for a in listed] == ["kids"]
    deleted = client.delete(
        f"/api/v1/workspaces/alpha/aspects/{created.json()['id']}", headers=cast.admin.headers
    )
    assert deleted.status_code == 204
    assert client.get("/api/v1/workspaces/alpha/aspects", headers=cast.viewer.headers).json() == []
