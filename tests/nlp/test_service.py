"""Analyses stored on ingest, the stream's NLP filters, corrections, aspects and re-analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent, Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage
from h2h.channels.models import Message
from h2h.errors import InvalidInput, PermissionDenied
from h2h.nlp import service as nlp
from h2h.nlp.models import Analysis, AnalysisAspect, CorrectionField, intents_of
from tests.conftest import Cast

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TEXTS = [
    "Если не вернёте деньги до пятницы, подам в суд и напишу отзывы везде",
    "Спасибо, кофе и десерты были очень вкусные, бариста молодцы!",
    "Курьер опоздал на час, доставка ужасная",
    "The store opens at nine tomorrow.",
]


def _owner(cast: Cast) -> accounts.Actor:
    return accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)


def _store(session: Session, cast: Cast, texts: list[str], prefix: str = "m") -> list:
    channel = channels.get_or_create_channel(
        session, workspace_id=cast.a.id, actor=_owner(cast), kind=ChannelKind.FILE, name="Reviews"
    )
    items = [
        RawMessage(
            external_id=f"{prefix}{n}",
            text=text,
            created_at=T0 + timedelta(minutes=n),
            author=Author(handle=f"author{n}", followers=50_000 if n == 0 else None),
        )
        for n, text in enumerate(texts)
    ]
    result = ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=items)
    session.commit()
    return result.inserted


def _analysis(session: Session, message_id: object) -> Analysis:
    return session.scalars(select(Analysis).where(Analysis.message_id == message_id)).one()


def test_ingested_messages_are_analysed_and_get_their_language(
    session: Session, cast: Cast
) -> None:
    ids = _store(session, cast, TEXTS)
    threat, praise, late, weather = (_analysis(session, i) for i in ids)
    assert "threat" in intents_of(threat.intents)
    assert threat.urgency >= 0.6 and "reach" in threat.details["urgency_reasons"]
    assert praise.sentiment == "positive"
    assert late.sentiment == "negative"
    assert weather.language == "en"
    aspects = set(
        session.scalars(select(AnalysisAspect.aspect).where(AnalysisAspect.message_id == ids[2]))
    )
    assert "delivery" in aspects
    languages = dict(session.execute(select(Message.id, Message.language)).all())
    assert languages[ids[0]] == "ru" and languages[ids[3]] == "en"


def test_the_stream_filters_by_sentiment_intent_aspect_and_urgency(
    session: Session, cast: Cast
) -> None:
    ids = _store(session, cast, TEXTS)

    def listed(**filters: object) -> list:
        items, total = channels.list_messages(
            session, workspace_id=cast.a.id, filters=channels.MessageFilter(**filters)
        )
        assert total == len(items)
        return [m.id for m in items]

    assert listed(sentiment="positive") == [ids[1]]
    assert listed(intent="threat") == [ids[0]]
    assert ids[2] in listed(aspect="delivery") and ids[3] not in listed(aspect="delivery")
    assert listed(min_urgency=0.6)[0] == ids[0]
    assert listed(most_urgent_first=True)[0] == ids[0]
    assert set(listed()) == set(ids)


def test_big_batches_wait_for_the_pending_job_which_catches_up(
    session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nlp, "INLINE_LIMIT", 2)
    ids = _store(session, cast, TEXTS)
    assert session.scalar(select(func.count()).select_from(Analysis)) == 0
    assert nlp.progress(session, workspace_id=cast.a.id) == {"total": 4, "analyzed": 0}
    assert nlp.analyze_pending(session, workspace_id=cast.a.id, limit=3) == 3
    assert nlp.analyze_pending(session, workspace_id=cast.a.id, limit=3) == 1
    assert nlp.analyze_pending(session, workspace_id=cast.a.id) == 0
    assert nlp.progress(session, workspace_id=cast.a.id) == {"total": 4, "analyzed": 4}
    assert {a.message_id for a in session.scalars(select(Analysis))} == set(ids)


def test_outbound_messages_are_not_analysed(session: Session, cast: Cast) -> None:
    channel = channels.get_or_create_channel(
        session, workspace_id=cast.a.id, actor=_owner(cast), kind=ChannelKind.FILE, name="Out"
    )
    reply = RawMessage(
        external_id="r1",
        text="Thank you, we are sorry!",
        created_at=T0,
        author=Author(handle="us"),
        direction=Direction.OUTBOUND,
    )
    ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=[reply])
    assert session.scalar(select(func.count()).select_from(Analysis)) == 0


def test_a_correction_replaces_the_label_is_audited_and_survives_reanalysis(
    session: Session, cast: Cast
) -> None:
    ids = _store(session, cast, TEXTS)
    agent = accounts.Actor(user_id=cast.agent.user.id, role=Role.AGENT)
    nlp.correct(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        message_id=ids[3],
        field=CorrectionField.SENTIMENT,
        value="negative",
    )
    nlp.correct(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        message_id=ids[3],
        field=CorrectionField.INTENTS,
        value=["question", "complaint"],
    )
    nlp.correct(
        session,
        workspace_id=cast.a.id,
        actor=agent,
        message_id=ids[3],
        field=CorrectionField.ASPECTS,
        value={"timing": "negative"},
    )
    session.commit()
    nlp.forget_analyses(session, workspace_id=cast.a.id, actor=_owner(cast))
    assert nlp.analyze_pending(session, workspace_id=cast.a.id) == 4
    session.commit()
    again = _analysis(session, ids[3])
    assert again.sentiment == "negative"
    assert intents_of(again.intents) == ["complaint", "question"]
    assert set(again.corrected) == {"sentiment", "intents", "aspects"}
    aspects = session.execute(
        select(AnalysisAspect.aspect, AnalysisAspect.sentiment).where(
            AnalysisAspect.message_id == ids[3]
        )
    ).all()
    assert [(a, s.value) for a, s in aspects] == [("timing", "negative")]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.workspace_id == cast.a.id))
    assert list(actions).count("analysis.correct") == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (CorrectionField.SENTIMENT, "furious"),
        (CorrectionField.INTENTS, []),
        (CorrectionField.INTENTS, ["other", "complaint"]),
        (CorrectionField.INTENTS, ["blackmail"]),
        (CorrectionField.ASPECTS, {"unknown_aspect": "negative"}),
        (CorrectionField.ASPECTS, {"food": "tasty"}),
        (CorrectionField.PROFANITY, "yes"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(
    session: Session, cast: Cast, field: CorrectionField, value: object
) -> None:
    [message_id] = _store(session, cast, ["Всё хорошо"])
    before = _analysis(session, message_id).details
    with pytest.raises(InvalidInput):
        nlp.correct(
            session,
            workspace_id=cast.a.id,
            actor=_owner(cast),
            message_id=message_id,
            field=field,
            value=value,
        )
    session.rollback()
    assert _analysis(session, message_id).details == before


def test_viewers_cannot_correct(session: Session, cast: Cast) -> None:
    [message_id] = _store(session, cast, ["Всё хорошо"])
    viewer = accounts.Actor(user_id=cast.viewer.user.id, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        nlp.correct(
            session,
            workspace_id=cast.a.id,
            actor=viewer,
            message_id=message_id,
            field=CorrectionField.SENTIMENT,
            value="negative",
        )


def test_a_workspace_aspect_is_found_in_any_word_form(session: Session, cast: Cast) -> None:
    aspect = nlp.save_aspect(
        session,
        workspace_id=cast.a.id,
        actor=_owner(cast),
        key="parking",
        name="Парковка",
        terms="парковка, место для машины\nparking",
    )
    assert aspect.terms == ["парковка", "место для машины", "parking"]
    ids = _store(session, cast, ["Возле кофейни нет парковки, машину бросить негде"])
    found = session.scalars(
        select(AnalysisAspect.aspect).where(AnalysisAspect.message_id == ids[0])
    )
    assert "parking" in set(found)
    assert "parking" in nlp.aspect_keys(session, workspace_id=cast.a.id)


@pytest.mark.parametrize(("key", "terms"), [("Bad Key!", "x"), ("ok_key", " , ,\n")])
def test_an_aspect_needs_a_clean_key_and_keywords(
    session: Session, cast: Cast, key: str, terms: str
) -> None:
    with pytest.raises(InvalidInput):
        nlp.save_aspect(
            session, workspace_id=cast.a.id, actor=_owner(cast), key=key, name="X", terms=terms
        )


def test_a_stale_model_version_is_reanalysed(session: Session, cast: Cast) -> None:
    ids = _store(session, cast, TEXTS[:2])
    session.execute(update(Analysis).values(model_version="old-model"))
    session.commit()
    assert nlp.progress(session, workspace_id=cast.a.id)["analyzed"] == 0
    assert nlp.analyze_pending(session, workspace_id=cast.a.id) == 2
    versions = set(session.scalars(select(Analysis.model_version)))
    assert versions == {nlp.models_for(session, workspace_id=cast.a.id).version}
    assert len(ids) == 2
