"""Operations of the nlp domain: analysing messages, corrections, workspace aspects and models.

The only writer of analyses, analysis aspects, corrections, workspace aspects and
workspace models. New messages are analysed right after ingest when the batch is small
(webhooks, polls, the widget); big imports are left to the ``nlp.analyze_pending`` job, so
an import of a million rows is not held up by the analysis of each one. The same job
re-analyses messages whose analysis came from another model version, which is how a
model change reaches the stored messages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.channels import ingest
from h2h.channels.connectors.base import Direction
from h2h.channels.models import Message
from h2h.db import get_in_workspace, new_id, utcnow
from h2h.errors import N_, Conflict, InvalidInput
from h2h.nlp import aspects as aspects_mod
from h2h.nlp import pipeline, runtime
from h2h.nlp.models import (
    ASPECT_LABELS,
    INTENTS,
    Analysis,
    AnalysisAspect,
    Correction,
    CorrectionField,
    Sentiment,
    WorkspaceAspect,
    WorkspaceModel,
    intent_mask,
)

INLINE_LIMIT = 500  # new messages analysed inside the ingest transaction; more go to the job
CHUNK = 1000
# The model version of an analysis whose text was erased: frozen, never analysed again.
ERASED_VERSION = "erased"

AUDIT_ACTIONS.update(
    {
        "analysis.correct": N_("corrected an analysis"),
        "analysis.reanalyze": N_("started a re-analysis of all messages"),
        "aspect.create": N_("added an aspect"),
        "aspect.update": N_("changed an aspect"),
        "aspect.delete": N_("deleted an aspect"),
        "model.activate": N_("switched the analysis model"),
    }
)


# --- analysing --------------------------------------------------------------------------------


@ingest.after_ingest
def analyze_new_messages(
    session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Post-ingest step: analyse a small batch now; a big one waits for the pending job."""
    if 0 < len(messages) <= INLINE_LIMIT:
        analyze_messages(session, workspace_id=workspace_id, message_ids=[m for m, _ in messages])


def analyze_messages(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> int:
    """Analyse (or re-analyse) these inbound messages; returns how many were analysed."""
    rows = session.execute(
        select(Message.id, Message.text, Message.author_followers).where(
            Message.workspace_id == workspace_id,
            Message.id.in_(message_ids),
            Message.direction == Direction.INBOUND,
        )
    ).all()
    if not rows:
        return 0
    results = pipeline.analyze(
        [row.text for row in rows],
        extra_aspects=workspace_aspect_defs(session, workspace_id=workspace_id),
        reach=[row.author_followers for row in rows],
        entities=True,
        models=models_for(session, workspace_id=workspace_id),
    )
    _store(session, workspace_id, [row.id for row in rows], results)
    return len(rows)


def _store(
    session: Session,
    workspace_id: uuid.UUID,
    ids: list[uuid.UUID],
    results: list[pipeline.Analysis],
) -> None:
    session.execute(
        delete(Analysis).where(Analysis.workspace_id == workspace_id, Analysis.message_id.in_(ids))
    )
    session.execute(
        delete(AnalysisAspect).where(
            AnalysisAspect.workspace_id == workspace_id, AnalysisAspect.message_id.in_(ids)
        )
    )
    corrections = _corrections(session, workspace_id, ids)
    now = utcnow()
    analyses: list[dict[str, Any]] = []
    aspect_rows: list[dict[str, Any]] = []
    for message_id, result in zip(ids, results, strict=True):
        details = result.to_dict()
        row: dict[str, Any] = {
            "workspace_id": workspace_id,
            "id": new_id(),
            "message_id": message_id,
            "model_version": result.model_version,
            "language": result.language,
            "sentiment": result.sentiment,
            "sentiment_score": result.sentiment_score,
            "intents": intent_mask(result.intents),
            "urgency": result.urgency,
            "profanity": result.profanity,
            "insult": result.insult,
            "details": details,
            "corrected": [],
            "analyzed_at": now,
        }
        for correction in corrections.get(message_id, ()):
            _apply(row, correction.field, correction.value)
        analyses.append(row)
        aspect_rows += _aspect_rows(workspace_id, message_id, row["details"]["aspects"])
    session.execute(insert(Analysis), analyses)
    if aspect_rows:
        session.execute(insert(AnalysisAspect), aspect_rows)
    ingest.set_languages(
        session,
        workspace_id=workspace_id,
        languages={m: r.language for m, r in zip(ids, results, strict=True)},
    )


def _aspect_rows(
    workspace_id: uuid.UUID, message_id: uuid.UUID, aspects: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [
        {
            "workspace_id": workspace_id,
            "id": new_id(),
            "message_id": message_id,
            "aspect": hit["aspect"],
            "sentiment": hit["sentiment"],
        }
        for hit in {hit["aspect"]: hit for hit in aspects}.values()
    ]


def pending_ids(
    session: Session, *, workspace_id: uuid.UUID, version: str, limit: int = CHUNK
) -> list[uuid.UUID]:
    """Inbound messages with no analysis or one from another model version, newest first."""
    query = (
        select(Message.id)
        .outerjoin(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == Direction.INBOUND,
            or_(
                Analysis.id.is_(None),
                Analysis.model_version.not_in([version, ERASED_VERSION]),
            ),
        )
        .order_by(Message.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def progress(session: Session, *, workspace_id: uuid.UUID) -> dict[str, int]:
    """How many inbound messages there are and how many carry a current analysis."""
    version = models_for(session, workspace_id=workspace_id).version
    total = session.scalar(
        select(func.count()).where(
            Message.workspace_id == workspace_id, Message.direction == Direction.INBOUND
        )
    )
    current = session.scalar(
        select(func.count()).where(
            Analysis.workspace_id == workspace_id,
            Analysis.model_version.in_([version, ERASED_VERSION]),
        )
    )
    return {"total": total or 0, "analyzed": current or 0}


def analyze_pending(session: Session, *, workspace_id: uuid.UUID, limit: int = CHUNK) -> int:
    """Analyse one chunk of pending or stale messages; returns how many (0: all current)."""
    version = models_for(session, workspace_id=workspace_id).version
    ids = pending_ids(session, workspace_id=workspace_id, version=version, limit=limit)
    return analyze_messages(session, workspace_id=workspace_id, message_ids=ids) if ids else 0


def forget_analyses(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor = accounts.SYSTEM
) -> None:
    """Mark every analysis of the workspace stale, so the pending job redoes all of them."""
    actor.require(Role.ADMIN)
    session.execute(
        update(Analysis)
        .where(Analysis.workspace_id == workspace_id, Analysis.model_version != ERASED_VERSION)
        .values(model_version="stale")
    )
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="analysis.reanalyze",
        entity_type="workspace",
        entity_id=workspace_id,
    )


def analysis_of(
    session: Session, *, workspace_id: uuid.UUID, message_id: uuid.UUID
) -> Analysis | None:
    return session.scalars(
        select(Analysis).where(
            Analysis.workspace_id == workspace_id, Analysis.message_id == message_id
        )
    ).one_or_none()


def analyses_of(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Analysis]:
    """Analyses of a page of messages, by message id."""
    if not message_ids:
        return {}
    rows = session.scalars(
        select(Analysis).where(
            Analysis.workspace_id == workspace_id, Analysis.message_id.in_(message_ids)
        )
    )
    return {row.message_id: row for row in rows}


def sentiment_by_month(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    identity_ids: Sequence[uuid.UUID],
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Sentiment counts per UTC month of these authors' latest ``limit`` analysed messages."""
    if not identity_ids:
        return []
    rows = session.execute(
        select(Message.created_at, Analysis.sentiment)
        .join(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(Message.workspace_id == workspace_id, Message.identity_id.in_(identity_ids))
        .order_by(Message.created_at.desc())
        .limit(limit)
    )
    months: dict[str, dict[str, Any]] = {}
    for created_at, sentiment in rows:
        key = created_at.strftime("%Y-%m")
        month = months.setdefault(key, {"month": key, **{s.value: 0 for s in Sentiment}})
        month[Sentiment(sentiment).value] += 1
    for month in months.values():
        total = sum(month[s.value] for s in Sentiment)
        month["net"] = round((month["positive"] - month["negative"]) / total, 3)
    return [months[key] for key in sorted(months)]


def _by_author(workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]) -> Any:
    return (Message.workspace_id == workspace_id) & Message.identity_id.in_(identity_ids)


def aspect_counts(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, dict[str, int]]]:
    """Per author identity: how many of their messages touch each aspect, by sentiment."""
    if not identity_ids:
        return {}
    rows = session.execute(
        select(Message.identity_id, AnalysisAspect.aspect, AnalysisAspect.sentiment, func.count())
        .join(
            Message,
            (Message.workspace_id == AnalysisAspect.workspace_id)
            & (Message.id == AnalysisAspect.message_id),
        )
        .where(AnalysisAspect.workspace_id == workspace_id, _by_author(workspace_id, identity_ids))
        .group_by(Message.identity_id, AnalysisAspect.aspect, AnalysisAspect.sentiment)
    )
    found: dict[uuid.UUID, dict[str, dict[str, int]]] = {}
    for identity_id, aspect, sentiment, count in rows:
        if identity_id is None:  # the filter is on identity ids: never, but say so to mypy
            continue
        found.setdefault(identity_id, {}).setdefault(aspect, {})[Sentiment(sentiment).value] = count
    return found


# Aspects that make a question a question about buying ("how much is delivery to Kazan?").
BUYING_ASPECTS = ("price", "payment", "delivery", "booking")


def buying_signals(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Per author identity: messages that mean to buy (purchase intent or a buying question)."""
    if not identity_ids:
        return {}
    purchase, question = (1 << INTENTS.index(name) for name in ("purchase", "question"))
    buying_aspect = (
        select(AnalysisAspect.id)
        .where(
            AnalysisAspect.workspace_id == Analysis.workspace_id,
            AnalysisAspect.message_id == Analysis.message_id,
            AnalysisAspect.aspect.in_(BUYING_ASPECTS),
        )
        .exists()
    )
    rows = session.execute(
        select(Message.identity_id, func.count())
        .join(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            _by_author(workspace_id, identity_ids),
            or_(
                Analysis.intents.op("&")(purchase) != 0,
                (Analysis.intents.op("&")(question) != 0) & buying_aspect,
            ),
        )
        .group_by(Message.identity_id)
    )
    return {row[0]: row[1] for row in rows if row[0] is not None}


def praise_counts(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Per author identity: messages that praise or thank (and are not negative in tone)."""
    if not identity_ids:
        return {}
    praise = 1 << INTENTS.index("praise")
    rows = session.execute(
        select(Message.identity_id, func.count())
        .join(
            Analysis,
            (Analysis.workspace_id == Message.workspace_id) & (Analysis.message_id == Message.id),
        )
        .where(
            _by_author(workspace_id, identity_ids),
            Analysis.intents.op("&")(praise) != 0,
            Analysis.sentiment != Sentiment.NEGATIVE,
        )
        .group_by(Message.identity_id)
    )
    return {row[0]: row[1] for row in rows if row[0] is not None}


# --- corrections ------------------------------------------------------------------------------


def _corrections(
    session: Session, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Correction]]:
    out: dict[uuid.UUID, list[Correction]] = {}
    for row in session.scalars(
        select(Correction).where(
            Correction.workspace_id == workspace_id, Correction.message_id.in_(ids)
        )
    ):
        out.setdefault(row.message_id, []).append(row)
    return out


def check_correction(field: CorrectionField, value: Any, known_aspects: set[str]) -> Any:
    """The value in canonical form if it is valid for the field; InvalidInput otherwise."""
    if field is CorrectionField.SENTIMENT:
        if value not in {s.value for s in Sentiment}:
            raise InvalidInput(N_("Unknown sentiment {value!r}."), field="value", value=value)
        return value
    if field is CorrectionField.PROFANITY:
        if not isinstance(value, bool):
            raise InvalidInput(N_("Profanity is true or false."), field="value")
        return value
    if field is CorrectionField.INTENTS:
        labels = value if isinstance(value, list) else []
        unknown = [label for label in labels if label not in INTENTS]
        if not labels or unknown or ("other" in labels and len(labels) > 1):
            raise InvalidInput(
                N_("Intents must be a non-empty list of known intents; 'other' only alone."),
                field="value",
            )
        return [label for label in INTENTS if label in labels]
    aspects = value if isinstance(value, dict) else None
    if aspects is None or any(
        k not in known_aspects or v not in {s.value for s in Sentiment} for k, v in aspects.items()
    ):
        raise InvalidInput(
            N_("Aspects map known aspects to negative, neutral or positive."), field="value"
        )
    return dict(sorted(aspects.items()))


def _apply(row: dict[str, Any], field: str, value: Any) -> None:
    """Put a human's value into an analysis row (a dict of columns), marking it corrected."""
    details = dict(row["details"])
    if field == CorrectionField.SENTIMENT:
        row["sentiment"] = value
        details["sentiment"] = value
        details["sentiment_by_intent"] = False
    elif field == CorrectionField.INTENTS:
        row["intents"] = intent_mask(value)
        details["intents"] = list(value)
    elif field == CorrectionField.PROFANITY:
        row["profanity"] = value
        details["profanity"] = value
    else:
        details["aspects"] = [
            {"aspect": key, "sentiment": sentiment, "score": 0.0, "cues": []}
            for key, sentiment in value.items()
        ]
    row["details"] = details
    row["corrected"] = sorted({*row.get("corrected", []), str(field)})


def correct(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    message_id: Any,
    field: CorrectionField,
    value: Any,
) -> Analysis:
    """Record a person's correction of one field and apply it to the stored analysis."""
    actor.require(Role.AGENT)
    message = get_in_workspace(session, Message, workspace_id=workspace_id, id=message_id)
    analysis = analysis_of(session, workspace_id=workspace_id, message_id=message.id)
    if analysis is None:
        analyze_messages(session, workspace_id=workspace_id, message_ids=[message.id])
        analysis = analysis_of(session, workspace_id=workspace_id, message_id=message.id)
    if analysis is None:
        raise Conflict(N_("Only inbound messages are analysed."))
    value = check_correction(field, value, set(aspect_keys(session, workspace_id=workspace_id)))
    previous = _current(analysis, field)
    existing = session.scalars(
        select(Correction).where(
            Correction.workspace_id == workspace_id,
            Correction.message_id == message.id,
            Correction.field == field,
        )
    ).one_or_none()
    if existing is None:
        existing = Correction(workspace_id=workspace_id, message_id=message.id, field=field)
        session.add(existing)
    existing.value, existing.previous = value, previous
    existing.user_id, existing.created_at = actor.user_id, utcnow()
    row = {
        c: getattr(analysis, c)
        for c in ("sentiment", "intents", "profanity", "details", "corrected")
    }
    _apply(row, field, value)
    for column, new in row.items():
        setattr(analysis, column, new)
    if field is CorrectionField.ASPECTS:
        session.execute(
            delete(AnalysisAspect).where(
                AnalysisAspect.workspace_id == workspace_id, AnalysisAspect.message_id == message.id
            )
        )
        rows = _aspect_rows(workspace_id, message.id, row["details"]["aspects"])
        if rows:
            session.execute(insert(AnalysisAspect), rows)
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="analysis.correct",
        entity_type="message",
        entity_id=message.id,
        details={"field": str(field), "from": previous, "to": value},
    )
    session.flush()
    return analysis


def _current(analysis: Analysis, field: CorrectionField) -> Any:
    details = analysis.details or {}
    if field is CorrectionField.ASPECTS:
        return {hit["aspect"]: hit["sentiment"] for hit in details.get("aspects", [])}
    return details.get(str(field))


def list_corrections(
    session: Session, *, workspace_id: uuid.UUID, field: CorrectionField | None = None
) -> list[tuple[Correction, str]]:
    """Corrections with the corrected message's text, oldest first (for training)."""
    query = (
        select(Correction, Message.text)
        .join(
            Message,
            (Message.workspace_id == Correction.workspace_id)
            & (Message.id == Correction.message_id),
        )
        .where(Correction.workspace_id == workspace_id)
        .order_by(Correction.created_at, Correction.id)
    )
    if field is not None:
        query = query.where(Correction.field == field)
    return [(row[0], row[1]) for row in session.execute(query)]


def correction_counts(session: Session, *, workspace_id: uuid.UUID) -> dict[str, int]:
    """How many corrections the workspace has made, per field."""
    rows = session.execute(
        select(Correction.field, func.count())
        .where(Correction.workspace_id == workspace_id)
        .group_by(Correction.field)
    )
    return {str(field): count for field, count in rows}


# --- workspace aspects ------------------------------------------------------------------------

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


def aspect_keys(session: Session, *, workspace_id: uuid.UUID) -> list[str]:
    custom = [row.key for row in list_aspects(session, workspace_id=workspace_id)]
    return list(aspects_mod.ASPECTS) + [key for key in custom if key not in aspects_mod.ASPECTS]


def list_aspects(session: Session, *, workspace_id: uuid.UUID) -> list[WorkspaceAspect]:
    return list(
        session.scalars(
            select(WorkspaceAspect)
            .where(WorkspaceAspect.workspace_id == workspace_id)
            .order_by(WorkspaceAspect.key)
        )
    )


def aspect_labels(session: Session, *, workspace_id: uuid.UUID) -> dict[str, str]:
    """Aspect key → label: translatable msgids for the defaults, the workspace's own names."""
    labels: dict[str, str] = dict(ASPECT_LABELS)
    for row in list_aspects(session, workspace_id=workspace_id):
        if row.key not in labels:
            labels[row.key] = row.name
    return labels


def workspace_aspect_defs(
    session: Session, *, workspace_id: uuid.UUID
) -> tuple[aspects_mod.AspectDef, ...]:
    """The workspace's aspects as the detector takes them: keywords per key."""
    return tuple(
        aspects_mod.AspectDef(row.key, frozenset(row.terms))
        for row in list_aspects(session, workspace_id=workspace_id)
    )


def clean_terms(raw: str) -> list[str]:
    """Keywords as typed (comma, semicolon or newline separated), lower-cased, each once.

    They are kept as written, so people read them back as they typed them; the detector
    accepts every form of each word.
    """
    terms: list[str] = []
    for item in re.split(r"[,\n;]+", raw):
        term = " ".join(item.lower().split())[:100]
        if term and term not in terms:
            terms.append(term)
    return terms


def save_aspect(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    key: str,
    name: str,
    terms: str,
) -> WorkspaceAspect:
    """Create or change a workspace aspect (a new key, or extra terms for a default one)."""
    actor.require(Role.ADMIN)
    key = key.strip().lower()
    if not _KEY.match(key):
        raise InvalidInput(
            N_("The key is 2–41 lower-case Latin letters, digits or underscores."), field="key"
        )
    cleaned = clean_terms(terms)
    if not cleaned:
        raise InvalidInput(N_("Give at least one keyword."), field="terms")
    if len(cleaned) > 300:
        raise InvalidInput(N_("At most 300 keywords per aspect."), field="terms")
    row = session.scalars(
        select(WorkspaceAspect).where(
            WorkspaceAspect.workspace_id == workspace_id, WorkspaceAspect.key == key
        )
    ).one_or_none()
    action = "aspect.update" if row else "aspect.create"
    if row is None:
        row = WorkspaceAspect(workspace_id=workspace_id, key=key)
        session.add(row)
    row.name = name.strip()[:200] or key
    row.terms = cleaned
    session.flush()
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        entity_type="aspect",
        entity_id=row.id,
        details={"key": key, "terms": cleaned},
    )
    return row


def delete_aspect(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, aspect_id: Any
) -> None:
    actor.require(Role.ADMIN)
    row = get_in_workspace(session, WorkspaceAspect, workspace_id=workspace_id, id=aspect_id)
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="aspect.delete",
        entity_type="aspect",
        entity_id=row.id,
        details={"key": row.key},
    )
    session.delete(row)
    session.flush()


# --- workspace models -------------------------------------------------------------------------


def models_for(session: Session, *, workspace_id: uuid.UUID) -> runtime.Models:
    """The shipped models, with the workspace's active models in their place where it has one."""
    active = session.scalars(
        select(WorkspaceModel).where(
            WorkspaceModel.workspace_id == workspace_id, WorkspaceModel.active.is_(True)
        )
    ).all()
    if not active:
        return runtime.shipped()
    return runtime.workspace_models({row.language: Path(row.path) for row in active})


def register_model(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    language: str,
    version: str,
    path: Path,
    metrics: dict[str, Any],
    activate: bool,
) -> WorkspaceModel:
    """Record a trained workspace model; activating it makes every analysis stale."""
    actor.require(Role.ADMIN)
    row = WorkspaceModel(
        workspace_id=workspace_id,
        language=language,
        version=version,
        path=str(path),
        metrics=metrics,
    )
    session.add(row)
    if activate:
        for other in session.scalars(
            select(WorkspaceModel).where(
                WorkspaceModel.workspace_id == workspace_id,
                WorkspaceModel.language == language,
                WorkspaceModel.active.is_(True),
            )
        ):
            other.active = False
        row.active = True
        accounts.record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action="model.activate",
            entity_type="model",
            entity_id=row.id,
            details={"language": language, "version": version, "metrics": metrics},
        )
    session.flush()
    return row


def list_models(session: Session, *, workspace_id: uuid.UUID) -> list[WorkspaceModel]:
    return list(
        session.scalars(
            select(WorkspaceModel)
            .where(WorkspaceModel.workspace_id == workspace_id)
            .order_by(WorkspaceModel.created_at.desc())
        )
    )


# --- data-subject erasure -----------------------------------------------------------------------

# What an erased analysis keeps: labels and scores that reports count, nothing that quotes.
_KEPT_DETAILS = (
    "language", "sentiment", "sentiment_score", "scores", "sentiment_by_intent", "intents",
    "intent_scores", "profanity", "insult", "urgency", "urgency_reasons", "model_version",
)  # fmt: skip


def _stripped(details: dict[str, Any]) -> dict[str, Any]:
    kept = {key: details[key] for key in _KEPT_DETAILS if key in details}
    kept["aspects"] = [
        {"aspect": hit["aspect"], "sentiment": hit["sentiment"], "cues": []}
        for hit in details.get("aspects", [])
    ]
    return {**kept, "sentiment_cues": [], "intent_cues": {}, "entities": []}


def erase_analyses(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> int:
    """Strip the quoted words and names from these messages' analyses before their text goes.

    Call it before ``ingest.erase_messages``: an inbound message not analysed yet is
    analysed first, so that it counts in reports like every other. The analyses keep
    their labels (sentiment, intents, aspects, urgency), so counts by label stay right,
    and are frozen (``ERASED_VERSION``): no model change ever re-analyses an empty text.
    Corrections of these messages go too (they are training pairs with the text).
    """
    ids = list(message_ids)
    chunks = [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]
    for chunk in chunks:
        known = set(analyses_of(session, workspace_id=workspace_id, message_ids=chunk))
        missing = [message_id for message_id in chunk if message_id not in known]
        if missing:
            analyze_messages(session, workspace_id=workspace_id, message_ids=missing)
    erased = 0
    for chunk in chunks:
        for analysis in analyses_of(session, workspace_id=workspace_id, message_ids=chunk).values():
            analysis.details = _stripped(analysis.details or {})
            analysis.model_version = ERASED_VERSION
            erased += 1
        session.execute(
            delete(Correction).where(
                Correction.workspace_id == workspace_id, Correction.message_id.in_(chunk)
            )
        )
    session.flush()
    return erased
