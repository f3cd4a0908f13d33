"""Learning from corrections: a workspace model is trained, compared on held-out
corrections and switched on only when it is not worse; then everything is re-analysed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.cli import app
from h2h.nlp import pipeline, runtime
from h2h.nlp import service as nlp
from h2h.nlp.models import Analysis, CorrectionField, WorkspaceModel
from tests.conftest import Cast

runner = CliRunner()
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
FILLERS = ["today", "again", "this morning", "at the store", "for my order", "as usual"]


def _corrected_messages(session: Session, cast: Cast, count: int) -> list:
    """Messages in a house jargon the shipped model cannot know, corrected by an agent:
    "zorblax" is how this shop's customers say the cake was bad, "flimflam" that it was good."""
    actor = accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)
    channel = channels.create_channel(
        session, workspace_id=cast.a.id, actor=actor, kind=ChannelKind.FILE, name="Jargon"
    )
    texts = [
        f"{'zorblax' if n % 2 else 'flimflam'} cake {FILLERS[n % len(FILLERS)]} number {n}"
        for n in range(count)
    ]
    items = [
        RawMessage(str(n), text, T0 + timedelta(minutes=n), Author(f"a{n}"))
        for n, text in enumerate(texts)
    ]
    ids = ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=items).inserted
    agent = accounts.Actor(user_id=cast.agent.user.id, role=Role.AGENT)
    for n, message_id in enumerate(ids):
        nlp.correct(
            session,
            workspace_id=cast.a.id,
            actor=agent,
            message_id=message_id,
            field=CorrectionField.SENTIMENT,
            value="negative" if n % 2 else "positive",
        )
    session.commit()
    return ids


def test_a_workspace_model_learns_its_jargon_and_replaces_the_shipped_one(
    env: None, session: Session, cast: Cast
) -> None:
    _corrected_messages(session, cast, 60)
    result = runner.invoke(app, ["nlp", "train", "--workspace", "alpha", "--own-data-only"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["en"]
    assert report["activated"] is True
    assert report["new_macro_f1"] >= report["current_macro_f1"]
    session.expire_all()
    model = session.scalars(select(WorkspaceModel)).one()
    assert model.active and Path(model.path, "model.npz").is_file()
    models = nlp.models_for(session, workspace_id=cast.a.id)
    assert models.version != runtime.shipped().version
    assert nlp.progress(session, workspace_id=cast.a.id)["analyzed"] == 0  # all stale now
    while nlp.analyze_pending(session, workspace_id=cast.a.id):
        session.commit()
    [fresh] = pipeline.analyze(["zorblax cake yesterday number 99"], models=models)
    assert fresh.sentiment == "negative"
    assert {a.model_version for a in session.scalars(select(Analysis))} == {models.version}


def test_too_few_corrections_train_nothing(env: None, session: Session, cast: Cast) -> None:
    _corrected_messages(session, cast, 10)
    result = runner.invoke(app, ["nlp", "train", "--workspace", "alpha", "--own-data-only"])
    assert result.exit_code == 0, result.output
    assert "at least 30 are needed" in json.loads(result.output)["en"]["skipped"]
    assert session.scalars(select(WorkspaceModel)).all() == []


def test_reanalyze_brings_every_message_up_to_the_current_models(
    env: None, session: Session, cast: Cast
) -> None:
    ids = _corrected_messages(session, cast, 6)
    result = runner.invoke(app, ["nlp", "reanalyze", "--workspace", "alpha", "--force"])
    assert result.exit_code == 0, result.output
    assert "All messages carry a current analysis" in result.output
    session.expire_all()
    rows = session.scalars(select(Analysis)).all()
    assert {row.message_id for row in rows} == set(ids)
    assert {row.model_version for row in rows} == {runtime.shipped().version}
    assert all(row.corrected == ["sentiment"] for row in rows), "corrections survive"
