"""NLP throughput and quality, side by side with a plain TF-IDF + logistic regression.

The fast path (normalise, language, sentiment, profanity, intents, aspects, urgency) runs
in one process over a mixed Russian/English corpus from ../shared/data (RuSentiment and
RuSentiTweet test, airline test split, customer-support tweets) in batches, as the ingest
step does. Entities (Slovnet NER) are timed separately on the Russian texts. In the same
run, the baseline — an untuned TF-IDF (word 1–2 + char 2–5) + logistic regression — is
trained on RuSentiment's official train split and timed on prediction alone; both are
scored on RuSentiment's official test (weighted F1, 5 classes).

    .venv/bin/python benchmarks/bench_nlp.py [--texts 20000] [--batch 512]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import time
from typing import Any

from h2h import __version__
from h2h.nlp import datasets, entities, pipeline, runtime
from h2h.nlp.normalize import normalize

SEED = 20261123


def _corpus(n: int) -> list[str]:
    texts = [e.text for e in datasets.rusentiment("test") + datasets.rusentitweet("test")]
    texts += [e.text for e in datasets.airline("test")]
    texts += [e.text for e in datasets.support_requests()[:6000]]
    rng = random.Random(SEED)
    rng.shuffle(texts)
    return (texts * (n // len(texts) + 1))[:n]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": round(pick(0.5), 3), "p95": round(pick(0.95), 3), "p99": round(pick(0.99), 3)}


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def fast_path(texts: list[str], batch: int) -> dict[str, Any]:
    pipeline.analyze(texts[:64])  # models loaded, caches primed: steady state is measured
    latencies = []
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        t = time.perf_counter()
        pipeline.analyze(texts[i : i + batch])
        latencies.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - started
    single = []
    for text in texts[:500]:
        t = time.perf_counter()
        pipeline.analyze([text])
        single.append((time.perf_counter() - t) * 1000)
    return {
        "texts": len(texts),
        "texts_per_second": round(len(texts) / seconds),
        "batch_size": batch,
        "batch_latency_ms": _percentiles(latencies),
        "single_text_latency_ms": _percentiles(single),
    }


def entity_stage(texts: list[str]) -> dict[str, Any]:
    russian = [normalize(t) for t in texts if any("а" <= ch <= "я" for ch in t.lower())][:3000]
    entities.extract(russian[:10], ["ru"] * 10)
    started = time.perf_counter()
    found = entities.extract(russian, ["ru"] * len(russian))
    seconds = time.perf_counter() - started
    return {
        "texts": len(russian),
        "texts_per_second": round(len(russian) / seconds),
        "entities_per_text": round(sum(map(len, found)) / max(1, len(russian)), 2),
    }


def baseline_vs_shipped() -> dict[str, Any]:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    train, test = datasets.rusentiment("train"), datasets.rusentiment("test")
    x_train = [e.text.lower() for e in train]
    x_test = [e.text.lower() for e in test]
    gold = [e.label for e in test]
    started = time.perf_counter()
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    rows = hstack([word.fit_transform(x_train), char.fit_transform(x_train)]).tocsr()
    clf = LogisticRegression(max_iter=2000).fit(rows, [e.label for e in train])
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = clf.predict(hstack([word.transform(x_test), char.transform(x_test)]).tocsr())
    baseline_rate = len(x_test) / (time.perf_counter() - started)
    model = runtime.shipped().sentiment("ru")
    started = time.perf_counter()
    ours = model.predict([normalize(e.text) for e in test])
    ours_rate = len(x_test) / (time.perf_counter() - started)
    baseline_f1 = f1_score(gold, predicted, average="weighted")
    ours_f1 = f1_score(gold, ours, average="weighted")
    return {
        "dataset": "RuSentiment official test (2,967), weighted F1, 5 classes",
        "baseline": {
            "model": "untuned TF-IDF word 1-2 + char_wb 2-5, LogisticRegression, official train",
            "weighted_f1": round(float(baseline_f1), 4),
            "train_seconds": round(train_seconds, 1),
            "predict_texts_per_second": round(baseline_rate),
        },
        "shipped": {
            "model": model.meta.get("version"),
            "trained_on": model.meta.get("data"),
            "weighted_f1": round(float(ours_f1), 4),
            "predict_texts_per_second": round(ours_rate),
        },
        "f1_ratio_shipped_to_baseline": round(float(ours_f1 / baseline_f1), 3),
        "note": "the shipped Russian model also learnt from RuSentiTweet train; "
        "`h2h nlp eval --dataset rusentiment --recipe` gives the official-train-only number",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    texts = _corpus(args.texts)
    fast = fast_path(texts, args.batch)
    fast["peak_rss_mb"] = _peak_mb()
    slow = entity_stage(texts)
    slow["peak_rss_mb_with_fast_path"] = _peak_mb()
    result = {
        "benchmark": "nlp",
        "h2h": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "fast_path": fast,
        "entities": slow,
        "quality_and_speed_vs_baseline": baseline_vs_shipped(),
        "peak_rss_mb_including_baseline_training": _peak_mb(),
        "mean_text_chars": round(statistics.mean(len(t) for t in texts)),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
