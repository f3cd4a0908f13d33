"""``h2h nlp train``: the shipped sentiment models, and a workspace's own from its corrections.

Fixed seeds, so the same data gives the same model. The shipped Russian model learns from
RuSentiment and RuSentiTweet (their train splits), the English one from our airline
train split; both data sets are CC BY-NC-SA, and so are models trained on them — which is
why a workspace can train from its own corrections alone.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from h2h.nlp import datasets, runtime
from h2h.nlp.normalize import normalize
from h2h.nlp.sentiment import LABELS, TO_THREE, SentimentModel

SEED = 20261123
RECIPES: dict[str, dict[str, Any]] = {
    # C chosen by held-out search on the train splits only (docs/nlp/models.md).
    "ru": {"c": 1.0, "balanced": False, "embeddings": True},
    "en": {"c": 3.0, "balanced": True},  # macro F1 is the airline metric: weigh rare classes up
}
DATA_LABELS = {
    "ru": "RuSentiment train + RuSentiTweet train",
    "en": "airline tweets, our train split (80%, seed 20261123)",
}
LICENCE = "CC BY-NC-SA 4.0 (inherited from the training data: non-commercial use only)"
CORRECTION_WEIGHT = 5.0  # a correction is in-domain evidence from the workspace itself
MIN_CORRECTIONS = 30


def _weights(labels: Sequence[str], balanced: bool) -> list[float] | None:
    if not balanced:
        return None
    counts = Counter(labels)
    return [len(labels) / (len(counts) * counts[label]) for label in labels]


def fit_sentiment(
    code: str,
    examples: Sequence[datasets.Example],
    *,
    root: Path | None = None,
    extra_weights: Sequence[float] | None = None,
    name: str | None = None,
    embeddings: bool = True,
) -> SentimentModel:
    """The shipped recipe for language ``code`` fitted on ``examples``.

    ``embeddings=False`` leaves out the Navec MLP (workspace models: a few hundred
    corrections do not move it, and the TF-IDF part trains in a fraction of the time).
    """
    recipe = RECIPES[code]
    texts = [normalize(e.text) for e in examples]
    labels = [e.label for e in examples]
    weights = _weights(labels, recipe["balanced"])
    if extra_weights is not None:
        weights = [
            (w if weights else 1.0) * x
            for w, x in zip(weights or [1.0] * len(labels), extra_weights, strict=True)
        ]
    random.seed(SEED)
    return SentimentModel.train(
        name or f"sentiment-{code}",
        texts,
        labels,
        c=recipe["c"],
        seed=SEED,
        weights=weights,
        embeddings=recipe.get("embeddings", False) and embeddings,
    )


def training_data(code: str, root: Path | None = None) -> list[datasets.Example]:
    if code == "ru":
        return datasets.rusentiment("train", root) + datasets.rusentitweet("train", root)
    return datasets.airline("train", root)


def train_shipped(out_dir: Path = runtime.SHIPPED_DIR, root: Path | None = None) -> dict[str, Any]:
    """Train both shipped models into ``out_dir``; returns what was trained and how long it took."""
    report = {}
    for code in ("ru", "en"):
        examples = training_data(code, root)
        started = time.perf_counter()
        model = fit_sentiment(code, examples, root=root)
        model.meta.update(
            {
                "language": code,
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "data": DATA_LABELS[code],
                "data_fingerprint": datasets.fingerprint(examples),
                "examples": len(examples),
                "licence": LICENCE,
                "recipe": RECIPES[code],
                "seed": SEED,
            }
        )
        target = out_dir / f"sentiment-{code}"
        model.save(target)
        model.meta["version"] = f"{code}-{datetime.now(UTC):%Y%m%d}-{_digest(target / 'model.npz')}"
        model.save(target)
        report[code] = {
            "version": model.meta["version"],
            "examples": len(examples),
            "seconds": round(time.perf_counter() - started, 1),
        }
    report["threat_heads"] = train_threat_heads(
        runtime.Models(_directories(out_dir)), out_dir, root
    )
    return report


def _digest(path: Path) -> str:
    """A short name for saved weights: a new recipe or new data gives a new one, which is
    what marks every stored analysis stale."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def _directories(out_dir: Path) -> dict[str, Path]:
    return {code: out_dir / f"sentiment-{code}" for code in ("ru", "en")}


def three_way_examples(examples: Sequence[datasets.Example]) -> list[datasets.Example]:
    return [
        datasets.Example(e.key, e.text, TO_THREE.get(e.label, e.label), e.language)
        for e in examples
    ]


def train_workspace(
    corrections: Sequence[tuple[str, str, str]],
    *,
    current: runtime.Models,
    out_dir: Path,
    own_data_only: bool = False,
    root: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Per language: train on shipped data (3-way) + corrections, compare on held-out corrections.

    ``corrections`` are (text, language code of the model, sentiment). Returns, per
    language, the metrics of the current and the new model and the path of the new one;
    the caller decides to activate it only if it is not worse.
    """
    out: dict[str, dict[str, Any]] = {}
    by_code: dict[str, list[tuple[str, str]]] = {}
    for text, code, label in corrections:
        by_code.setdefault(code, []).append((text, label))
    for code, pairs in sorted(by_code.items()):
        if len(pairs) < MIN_CORRECTIONS:
            out[code] = {
                "skipped": f"{len(pairs)} corrections; at least {MIN_CORRECTIONS} are needed"
            }
            continue
        rng = random.Random(SEED)  # noqa: S311 - a reproducible hold-out split
        order = list(range(len(pairs)))
        rng.shuffle(order)
        cut = max(1, len(pairs) // 5)
        held = [pairs[i] for i in order[:cut]]
        learn = [
            datasets.Example(f"correction:{i}", pairs[i][0], pairs[i][1], code) for i in order[cut:]
        ]
        if len({e.label for e in learn}) < 2:
            out[code] = {
                "skipped": "the corrections carry a single sentiment; nothing to learn from"
            }
            continue
        base = [] if own_data_only else three_way_examples(training_data(code, root))
        weights = [1.0] * len(base) + [CORRECTION_WEIGHT] * len(learn)
        version = f"ws-{code}-{datetime.now(UTC):%Y%m%d%H%M%S}"
        model = fit_sentiment(
            code, base + learn, extra_weights=weights, name=f"sentiment-{code}", embeddings=False
        )
        model.meta.update(
            {
                "version": version,
                "language": code,
                "data": "own corrections only"
                if own_data_only
                else "shipped data + workspace corrections",
                "licence": "the workspace's own data" if own_data_only else LICENCE,
                "corrections": len(learn),
            }
        )
        new_score = _macro_f1(model, held)
        old_score = _macro_f1(current.sentiment(code), held)
        path = out_dir / version
        model.save(path)
        out[code] = {
            "version": version,
            "path": str(path),
            "held_out": len(held),
            "new_macro_f1": new_score,
            "current_macro_f1": old_score,
            "better_or_equal": new_score >= old_score,
        }
    return out


def _macro_f1(model: SentimentModel, held: Sequence[tuple[str, str]]) -> float:
    from sklearn.metrics import f1_score

    clean = [normalize(t) for t, _ in held]
    proba = model.three_way(model.proba(model.features(clean), clean))
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    return round(float(f1_score([label for _, label in held], predicted, average="macro")), 4)


# --- the threat head ------------------------------------------------------------------------

THREAT_SETS = ("dev_threats", "dev_threats_b", "dev_threats_c", "dev_threats_d", "dev_ru", "dev_en")
ORDINARY = 3000  # messages per language from the train splits, taken as non-threats


def threat_data(code: str, root: Path | None = None) -> tuple[list[str], list[bool]]:
    """Our development annotations of the language, plus ordinary traffic as negatives.

    Ordinary traffic comes from train splits only, and never from a message that is in a
    test annotation (the support tweets feed both), so nothing held out is trained on.
    """
    from h2h.nlp.evaluate import load_annotations

    resolver = datasets.Resolver(root)
    texts: list[str] = []
    labels: list[bool] = []
    for name in THREAT_SETS:
        try:
            items = load_annotations(name)
        except FileNotFoundError:
            continue
        for item in items:
            language = item.get("language") or name.rsplit("_", 1)[-1]
            if language == code:
                texts.append(normalize(item.get("text") or resolver.text(item["key"])))
                labels.append("threat" in item["intents"])
    held_out = {item["key"] for name in ("test_ru", "test_en") for item in load_annotations(name)}
    pool = (
        datasets.rusentiment("train", root) + datasets.rusentitweet("train", root)
        if code == "ru"
        else datasets.airline("train", root) + datasets.support_requests(root)
    )
    pool = [e for e in pool if e.key not in held_out]
    rng = random.Random(SEED)  # noqa: S311 - a reproducible sample
    for example in rng.sample(pool, min(ORDINARY, len(pool))):
        texts.append(normalize(example.text))
        labels.append(False)
    return texts, labels


def train_threat_heads(
    models: runtime.Models, out_dir: Path = runtime.SHIPPED_DIR, root: Path | None = None
) -> dict[str, Any]:
    """One threat head per language, on that language's sentiment features."""
    from h2h.nlp.heads import train_head

    report = {}
    for code in ("ru", "en"):
        texts, labels = threat_data(code, root)
        model = models.sentiment(code)
        head, quality = train_head("threat", model, texts, labels, SEED)
        head.meta.update(
            {
                "language": code,
                "features_of": model.meta.get("version"),
                "examples": len(texts),
                "threats": sum(labels),
                "data": "our dev threat annotations + dev_ru/dev_en + ordinary train-split traffic",
                **quality,
            }
        )
        head.save(out_dir / f"threat-{code}")
        head.meta["version"] = _digest(out_dir / f"threat-{code}" / "head.npz")
        head.save(out_dir / f"threat-{code}")
        report[code] = head.meta
    return report
