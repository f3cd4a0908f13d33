"""The analysis pipeline: normalise → language → sentiment → profanity → intents → aspects
→ urgency, and, as a separate slower stage, entities. Batch in, analyses out, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from h2h.nlp import aspects as aspects_mod
from h2h.nlp import entities as entities_mod
from h2h.nlp import intents as intents_mod
from h2h.nlp import language as language_mod
from h2h.nlp import profanity as profanity_mod
from h2h.nlp import runtime, urgency
from h2h.nlp.normalize import normalize, sentence_spans
from h2h.nlp.sentiment import LABELS
from h2h.subjects.text import AnalyzedText
from h2h.subjects.text import analyze as lemmatize

NEGATIVE_INTENTS = frozenset({"threat", "complaint"})


@dataclass(slots=True)
class Analysis:
    """Everything H2H understands about one text."""

    language: str | None
    sentiment: str
    sentiment_score: float  # the calibrated probability of ``sentiment``
    scores: dict[str, float]  # negative / neutral / positive probabilities
    sentiment_cues: list[str]
    sentiment_by_intent: bool  # neutral wording, but a threat or complaint: reported negative
    intents: list[str]
    intent_scores: dict[str, float]
    intent_cues: dict[str, list[str]]
    profanity: bool
    insult: bool
    aspects: list[dict[str, Any]]
    urgency: float
    urgency_reasons: list[str]
    entities: list[dict[str, Any]] = field(default_factory=list)
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyze(
    texts: Sequence[str],
    languages: Sequence[str | None] | None = None,
    *,
    extra_aspects: Sequence[aspects_mod.AspectDef] = (),
    reach: Sequence[int | None] | None = None,
    entities: bool = False,
    models: runtime.Models | None = None,
) -> list[Analysis]:
    """Analyse ``texts`` (optionally with known languages); results are in input order."""
    models = models or runtime.shipped()
    clean = [normalize(text if isinstance(text, str) else "") for text in texts]
    langs = [
        given if given else language_mod.detect(text)
        for text, given in zip(clean, languages or [None] * len(clean), strict=True)
    ]
    probabilities, cues, threats = _sentiment(models, clean, langs)
    out: list[Analysis] = []
    version = models.version
    for i, text in enumerate(clean):
        out.append(
            _one(
                text,
                langs[i],
                probabilities[i],
                cues[i],
                threats[i],
                extra_aspects,
                reach[i] if reach else None,
            )
        )
        out[-1].model_version = version
    if entities:
        for analysis, found in zip(out, entities_mod.extract(clean, langs), strict=True):
            analysis.entities = [asdict(entity) for entity in found]
    return out


def _one(
    text: str,
    language: str | None,
    proba: np.ndarray,
    sentiment_cues: list[str],
    threat: list[str] | None,
    extra_aspects: Sequence[aspects_mod.AspectDef],
    reach: int | None,
) -> Analysis:
    label = LABELS[int(proba.argmax())]
    scores = {name: round(float(p), 4) for name, p in zip(LABELS, proba, strict=True)}
    analyzed = lemmatize(text)
    rude = profanity_mod.detect(text)
    intent = intents_mod.detect(text, analyzed, language, label, scores["negative"])
    # The learned head counts only where there is a grievance or a named lever: on its own
    # it also reacts to deadline words ("tomorrow") in perfectly calm messages.
    if threat is not None and "threat" not in intent.labels:
        grievance = label == "negative" or "complaint" in intent.labels
        if grievance or intents_mod.has_lever(analyzed):
            intent = _with_learned_threat(intent, threat)
    # A threat or a complaint is not neutral whatever the wording; the classifier learnt
    # from social chatter, where calm words usually mean a calm message.
    by_intent = label == "neutral" and bool(NEGATIVE_INTENTS & set(intent.labels))
    if by_intent:
        label = "negative"
    hits = _aspects(text, analyzed, language, label, extra_aspects)
    value, reasons = urgency.score(
        intents=intent.labels,
        negative=scores["negative"],
        sentiment=label,
        profanity=rude.profanity,
        insult=rude.insult,
        reach=reach,
    )
    return Analysis(
        language=language,
        sentiment=label,
        sentiment_score=scores[label],
        sentiment_by_intent=by_intent,
        scores=scores,
        sentiment_cues=sentiment_cues if label != "neutral" else [],
        intents=list(intent.labels),
        intent_scores={k: round(v, 3) for k, v in intent.scores.items()},
        intent_cues={k: list(v) for k, v in intent.cues.items()},
        profanity=rude.profanity,
        insult=rude.insult,
        aspects=[
            {
                "aspect": h.aspect,
                "sentiment": h.sentiment,
                "score": round(h.score, 3),
                "cues": list(h.cues),
            }
            for h in hits
        ],
        urgency=value,
        urgency_reasons=list(reasons),
    )


MAX_SENTENCES = 60


def _aspects(
    text: str,
    analyzed: AnalyzedText,
    language: str | None,
    label: str,
    extra: Sequence[aspects_mod.AspectDef],
) -> list[aspects_mod.AspectHit]:
    """Aspects sentence by sentence (the detector cannot see punctuation), strongest kept."""
    spans = sentence_spans(text)
    if len(spans) <= 1:
        return aspects_mod.detect(analyzed, language, label, extra)
    merged: dict[str, aspects_mod.AspectHit] = {}
    for start, end in spans[:MAX_SENTENCES]:
        for hit in aspects_mod.detect(lemmatize(text[start:end]), language, label, extra):
            kept = merged.get(hit.aspect)
            if kept is None or abs(hit.score) > abs(kept.score):
                merged[hit.aspect] = hit
    return list(merged.values())


def _with_learned_threat(
    intent: intents_mod.IntentResult, cues: list[str]
) -> intents_mod.IntentResult:
    """Add the threat the learned head found where the rules found none."""
    labels = [label for label in intents_mod.INTENTS if label in intent.labels or label == "threat"]
    labels = [label for label in labels if label != "other"]
    scores = {k: v for k, v in intent.scores.items() if k != "other"}
    scores["threat"] = 0.5
    found = {k: v for k, v in intent.cues.items() if k != "other"}
    found["threat"] = tuple(f"≈ {cue}" for cue in cues)
    return intents_mod.IntentResult(tuple(labels), scores, found)


def _sentiment(
    models: runtime.Models, texts: list[str], langs: list[str | None]
) -> tuple[np.ndarray, list[list[str]], list[list[str] | None]]:
    """Three-way probabilities per text, each language through its own model, in one batch each."""
    proba = np.tile(np.array([0.0, 1.0, 0.0]), (len(texts), 1))
    cues: list[list[str]] = [[] for _ in texts]
    threats: list[list[str] | None] = [None for _ in texts]
    groups: dict[str, list[int]] = {}
    for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        if text and lang is not None:
            groups.setdefault(models.language_for(lang, text), []).append(i)
    for code, indices in groups.items():
        model = models.sentiment(code)
        chosen = [texts[i] for i in indices]
        rows = model.features(chosen)
        three = model.three_way(model.proba(rows, chosen))
        for position, i in enumerate(indices):
            proba[i] = three[position]
            label = LABELS[int(three[position].argmax())]
            if label != "neutral":
                cues[i] = model.explain(rows, position, label)
        head = models.head("threat", code)
        if head is not None:
            for hit in np.flatnonzero(head.proba(rows) >= head.threshold).tolist():
                threats[indices[hit]] = head.cues(rows, hit, model)
    return proba, cues, threats
