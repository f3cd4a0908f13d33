"""``h2h nlp eval``: the shipped pipeline measured on the public test sets and our annotations.

Sentiment data sets report weighted/macro F1 and per-class F1 (the metrics the
literature quotes); annotation sets report precision/recall/F1 per intent, aspect,
profanity and insult label, and threat recall at its precision.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from h2h.nlp import datasets, pipeline, runtime
from h2h.nlp.normalize import normalize
from h2h.nlp.sentiment import LABELS, TO_THREE

SENTIMENT_SETS: dict[str, tuple[Callable[..., list[datasets.Example]], str]] = {
    "rusentiment": (datasets.rusentiment, "ru"),
    "rusentitweet": (datasets.rusentitweet, "ru"),
    "airline": (datasets.airline, "en"),
}
ANNOTATION_SETS = (
    "test_ru",
    "test_en",
    "challenge",
    "dev_ru",
    "dev_en",
    "dev_threats",
    "dev_threats_b",
    "dev_threats_c",
    "dev_threats_d",
)
DATASETS = (*SENTIMENT_SETS, *ANNOTATION_SETS)


def f1_report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, weighted and macro F1, and per-class precision/recall/F1/support."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(gold))
    p, r, f, s = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "weighted_f1": round(
            float(f1_score(gold, predicted, average="weighted", labels=labels)), 4
        ),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", labels=labels)), 4),
        "per_class": {
            label: {
                "precision": round(float(pi), 4),
                "recall": round(float(ri), 4),
                "f1": round(float(fi), 4),
                "support": int(si),
            }
            for label, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
        },
    }


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE: how far the stated confidence is from the observed accuracy, over 10 bins."""
    total = len(confidence)
    if not total:
        return 0.0
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if low < c <= high or (b == 0 and c == 0)]
        if members:
            accuracy = sum(correct[i] for i in members) / len(members)
            mean = sum(confidence[i] for i in members) / len(members)
            error += len(members) / total * abs(accuracy - mean)
    return round(error, 4)


def eval_sentiment(
    name: str, root: Path | None = None, models: runtime.Models | None = None
) -> dict[str, Any]:
    """The shipped model of the set's language on the set's test split."""
    loader, code = SENTIMENT_SETS[name]
    test = loader("test", root)
    model = (models or runtime.shipped()).sentiment(code)
    started = time.perf_counter()
    clean = [normalize(e.text) for e in test]
    proba = model.proba(model.features(clean), clean)
    seconds = time.perf_counter() - started
    predicted = [model.classes[i] for i in proba.argmax(axis=1)]
    gold = [e.label for e in test]
    native = model.classes == tuple(sorted(set(gold)))
    report: dict[str, Any] = {"dataset": name, "model": model.meta.get("version"), "split": "test"}
    if native:
        report["classes"] = f1_report(gold, predicted)
    three = model.three_way(proba)
    gold3 = [TO_THREE.get(label, label) for label in gold]
    pred3 = [LABELS[i] for i in three.argmax(axis=1)]
    report["three_way"] = f1_report(gold3, pred3)
    report["three_way"]["ece"] = expected_calibration_error(
        [float(row.max()) for row in three], [g == p for g, p in zip(gold3, pred3, strict=True)]
    )
    report["texts_per_second_sentiment_only"] = round(len(test) / seconds)
    return report


def recipe_on_official_split(name: str, root: Path | None = None) -> dict[str, Any]:
    """Train the shipped recipe on the set's own train split only and test it (paper protocol)."""
    from h2h.nlp import train

    loader, code = SENTIMENT_SETS[name]
    started = time.perf_counter()
    model = train.fit_sentiment(code, loader("train", root), root=root)
    fitted = time.perf_counter() - started
    test = loader("test", root)
    predicted = model.predict([normalize(e.text) for e in test])
    return {
        "dataset": name,
        "protocol": "train on the official train split, test on the official test split",
        "train_seconds": round(fitted, 1),
        "classes": f1_report([e.label for e in test], predicted),
    }


def load_annotations(name: str) -> list[dict[str, Any]]:
    path = resources.files("h2h.nlp") / "annotations" / f"{name}.jsonl"
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
        "predicted": tp + fp,
    }


def eval_annotations(name: str, root: Path | None = None) -> dict[str, Any]:
    """Per-label precision/recall of intents, aspects (and their sentiment), profanity, insult."""
    items = load_annotations(name)
    resolver = datasets.Resolver(root)
    texts = [item.get("text") or resolver.text(item["key"]) for item in items]
    results = pipeline.analyze(texts)
    counts: dict[str, list[int]] = {}

    def count(kind: str, gold: set[str], got: set[str], labels: Sequence[str]) -> None:
        for label in labels:
            tp_fp_fn = counts.setdefault(f"{kind}:{label}", [0, 0, 0])
            tp_fp_fn[0] += label in gold and label in got
            tp_fp_fn[1] += label not in gold and label in got
            tp_fp_fn[2] += label in gold and label not in got

    from h2h.nlp.aspects import ASPECTS
    from h2h.nlp.intents import INTENTS

    aspect_agree = aspect_pairs = 0
    for item, result in zip(items, results, strict=True):
        count("intent", set(item["intents"]), set(result.intents), INTENTS)
        found = {hit["aspect"]: hit["sentiment"] for hit in result.aspects}
        count("aspect", set(item["aspects"]), set(found), ASPECTS)
        for aspect, sentiment in item["aspects"].items():
            if aspect in found:
                aspect_pairs += 1
                aspect_agree += found[aspect] == sentiment
        count(
            "flag",
            {k for k in ("profanity", "insult") if item[k]},
            {k for k in ("profanity", "insult") if getattr(result, k)},
            ("profanity", "insult"),
        )
    labels = {key: _prf(*value) for key, value in counts.items() if value[0] + value[1] + value[2]}
    return {
        "dataset": name,
        "n": len(items),
        "labels": labels,
        "aspect_sentiment_accuracy": round(aspect_agree / aspect_pairs, 4)
        if aspect_pairs
        else None,
        "aspect_pairs_found": aspect_pairs,
    }


def evaluate(name: str, root: Path | None = None, recipe: bool = False) -> dict[str, Any]:
    """The report for one data set name (see DATASETS)."""
    if name in SENTIMENT_SETS:
        report = eval_sentiment(name, root)
        if recipe:
            report["recipe"] = recipe_on_official_split(name, root)
        return report
    if name in ANNOTATION_SETS:
        return eval_annotations(name, root)
    raise datasets.DataMissing(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
