"""Subject matching throughput: the indexed matcher against evaluating every query.

Builds 10, 100 and 1,000 realistic subjects (brands with OR'ed spellings, phrases,
prefixes, NOT exclusions; Russian and English) and a corpus of ~20,000 short messages:
real tweets from ../shared/data (RuSentiTweet, Russian; airline tweets, English) when
present, generated ones otherwise, with subject mentions spliced into about one in six
(half of them of the first 10 subjects, a quarter of the first 100, a quarter of any).
Prints one JSON document. Throughput includes text analysis (tokens and lemmas); the word
cache is measured cold (first pass over the corpus) and warm (steady state). The baseline,
in the same run, analyses each message once and evaluates every subject's tree on it.

    .venv/bin/python benchmarks/bench_match.py [--messages 20000] [--baseline-messages 2000]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from h2h import __version__
from h2h.subjects import text as text_analysis
from h2h.subjects.matcher import Matcher, evaluate
from h2h.subjects.query import Node, parse
from h2h.subjects.text import analyze

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SIZES = (10, 100, 1_000)
SEED = 20261123

# Real-looking brands first, so small workspaces listen for familiar names; each is
# (main name, other spellings, Latin spelling or None).
BRANDS_RU = [
    ("Сбербанк", ["Сбер"], "Sberbank"),
    ("Тинькофф", ["Т-Банк"], "Tinkoff"),
    ("Альфа-Банк", ["Альфабанк"], "Alfa-Bank"),
    ("ВТБ", [], "VTB"),
    ("Яндекс", [], "Yandex"),
    ("Озон", [], "Ozon"),
    ("Вайлдберриз", ["ВБ"], "Wildberries"),
    ("МТС", [], "MTS"),
    ("Билайн", [], "Beeline"),
    ("Мегафон", [], "Megafon"),
    ("Аэрофлот", [], "Aeroflot"),
    ("Победа", [], None),
    ("Пятёрочка", [], None),
    ("Магнит", [], None),
    ("ВкусВилл", [], "VkusVill"),
    ("Самокат", [], None),
    ("Авито", [], "Avito"),
    ("Кинопоиск", [], None),
]
BRANDS_EN = ["United", "Delta", "JetBlue", "Southwest", "Spotify", "Netflix", "Uber", "Airbnb"]
PERSONS = [("Олег Тиньков", "Oleg Tinkov"), ("Герман Греф", "German Gref")]
TOPICS_RU = ["доставка", '"служба доставки"', "кэшбэк", "приложение", "поддержк*", "курьер*"]
TOPICS_EN = ["delivery", "refund*", '"customer service"', "app", "flight*", "baggage"]
EXCLUDE = ["вакансия", "промокод", '"реклама"', "spam", "giveaway", "розыгрыш*"]
SYLLABLES_RU = ["зер", "но", "мол", "вит", "ра", "ком", "лес", "тор", "га", "ди", "ми", "бор"]
SYLLABLES_EN = ["van", "trix", "lo", "mer", "zen", "dor", "qui", "sol", "nex", "ta", "ri"]

FILLER_RU = [
    "заказал вчера, до сих пор жду",
    "спасибо за быструю доставку",
    "служба доставки опять опоздала",
    "приложение снова не работает",
    "кэшбэк так и не пришёл",
    "поддержка ответила через час",
    "промокод не сработал",
    "отличный сервис, рекомендую",
]
FILLER_EN = [
    "my flight was delayed again",
    "customer service never called back",
    "where is my refund",
    "the app keeps crashing",
    "lost baggage for the second time",
    "great delivery, thanks",
]


def _synthetic_name(rng: random.Random, russian: bool) -> str:
    syllables = SYLLABLES_RU if russian else SYLLABLES_EN
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()


def _brand_query(rng: random.Random, names: list[str]) -> str:
    spelled = " OR ".join(f'"{name}"' if " " in name else name for name in names)
    shape = rng.random()
    if shape < 0.35:
        return spelled
    if shape < 0.6:
        exclusions = " ".join(f"-{word}" for word in rng.sample(EXCLUDE, rng.randint(1, 2)))
        return f"({spelled}) {exclusions}"
    if shape < 0.8:
        topics = TOPICS_RU if rng.random() < 0.6 else TOPICS_EN
        return f"({spelled}) AND ({' OR '.join(rng.sample(topics, 2))})"
    stem = names[0].lower()
    # Like a careful analyst: a prefix only where the name is long enough to stay specific.
    prefix = f" OR {stem[:-2]}*" if len(stem) >= 7 and stem.isalpha() else ""
    return f"({spelled}{prefix}) NOT {rng.choice(EXCLUDE)}"


def make_subjects(count: int, rng: random.Random) -> list[tuple[int, str, list[str]]]:
    """(id, query, names to mention) for ``count`` subjects, real brands first."""
    pool: list[list[str]] = [
        [name, *others, *([latin] if latin else [])] for name, others, latin in BRANDS_RU
    ]
    pool += [[name] for name in BRANDS_EN]
    pool += [[ru, en] for ru, en in PERSONS]
    seen = {names[0].lower() for names in pool}
    while len(pool) < count:
        russian = rng.random() < 0.6
        name = _synthetic_name(rng, russian)
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        kind = rng.random()
        if kind < 0.15:
            pool.append([f"{name} {rng.choice(['Про', 'Плюс', 'Pro', 'Max'])}"])
        elif kind < 0.3:
            latin = _synthetic_name(rng, russian=False)
            pool.append([name, latin])
        else:
            pool.append([name])
    return [(n, _brand_query(rng, names), names) for n, names in enumerate(pool[:count])]


def _inflected(name: str, rng: random.Random, morph: Any) -> str:
    if not any("а" <= char <= "я" for char in name.lower()) or " " in name:
        return name
    parse = morph.parse(name)[0]
    form = parse.inflect({rng.choice(["gent", "datv", "ablt", "loct", "nomn"])})
    word = form.word if form is not None else name.lower()
    return word.capitalize() if rng.random() < 0.5 else word


def load_messages(count: int, rng: random.Random) -> tuple[list[str], str]:
    texts: list[str] = []
    sources = [
        (DATA / "rusentitweet" / "rusentitweet_train.csv", "text"),
        (DATA / "rusentitweet" / "rusentitweet_test.csv", "text"),
        (DATA / "airline_tweets_dev" / "tweets_dev_airlines.csv", "text"),
    ]
    for path, column in sources:
        if path.exists():
            with path.open(encoding="utf-8", newline="") as handle:
                texts += [row[column] for row in csv.DictReader(handle) if row.get(column)]
    source = "RuSentiTweet + airline tweets (../shared/data)" if texts else "generated"
    while len(texts) < count:
        filler = FILLER_RU if rng.random() < 0.6 else FILLER_EN
        texts.append(" ".join(rng.sample(filler, 2)))
    rng.shuffle(texts)
    return texts[:count], source


def splice_mentions(
    messages: list[str], subjects: list[tuple[int, str, list[str]]], rng: random.Random
) -> list[str]:
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer()
    spliced = []
    for message in messages:
        if rng.random() < 1 / 6:
            # A workspace's stream mostly mentions its own (first) subjects.
            _, _, names = rng.choice(subjects[: rng.choice([10, 10, 100, len(subjects)])])
            mention = _inflected(rng.choice(names), rng, morph)
            filler = rng.choice(FILLER_RU + FILLER_EN)
            message = rng.choice([f"{mention} {filler}. {message}", f"{message} #{mention}"])
        spliced.append(message)
    return spliced


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(messages: list[str], handle: Callable[[str], object], passes: int = 3) -> dict:
    """Throughput and latency of the fastest of ``passes`` runs over ``messages``.

    The machine is shared (other test suites run beside this one), so the best pass is
    the one least disturbed; its percentiles are reported with it.
    """
    best: tuple[float, list[float]] | None = None
    for _ in range(passes):
        latencies = []
        started = time.perf_counter()
        for message in messages:
            began = time.perf_counter_ns()
            handle(message)
            latencies.append((time.perf_counter_ns() - began) / 1000)
        elapsed = time.perf_counter() - started
        if best is None or elapsed < best[0]:
            best = (elapsed, latencies)
    assert best is not None
    elapsed, latencies = best
    return {
        "messages_per_s": round(len(messages) / elapsed),
        "p50_us": round(_percentile(latencies, 0.50), 1),
        "p95_us": round(_percentile(latencies, 0.95), 1),
        "p99_us": round(_percentile(latencies, 0.99), 1),
    }


def _naive(nodes: list[tuple[int, Node]]) -> Callable[[str], set[int]]:
    def match(message: str) -> set[int]:
        analyzed = analyze(message)
        return {key for key, node in nodes if evaluate(node, analyzed)}

    return match


def measure(
    subjects: list[tuple[int, str, list[str]]], messages: list[str], baseline_count: int
) -> dict[str, Any]:
    size = len(subjects)
    pairs = [(key, query) for key, query, _ in subjects]
    started = time.perf_counter()
    matcher = Matcher.compile(pairs)
    compile_ms = (time.perf_counter() - started) * 1000
    tracemalloc.start()
    Matcher.compile(pairs)
    index_kb = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()

    indexed = _timed(messages, matcher.match)
    analyzed = [analyze(message) for message in messages]
    candidates = [len(matcher.candidates(text)) for text in analyzed]
    matched = [matcher.match_analyzed(text) for text in analyzed]

    sample = messages[:baseline_count]
    nodes = [(key, parse(query)) for key, query in pairs]
    naive = _naive(nodes)
    baseline = _timed(sample, naive, passes=2)
    agree = all(naive(message) == found for message, found in zip(sample, matched, strict=False))
    return {
        "subjects": size,
        "compile_ms": round(compile_ms, 1),
        "index_peak_kb": round(index_kb),
        "indexed": indexed,
        "baseline_every_tree": {**baseline, "messages": len(sample)},
        "speedup_vs_baseline": round(indexed["messages_per_s"] / baseline["messages_per_s"], 1),
        "p50_speedup_vs_baseline": round(baseline["p50_us"] / indexed["p50_us"], 1),
        "candidates_per_message": round(statistics.mean(candidates), 2),
        "messages_matching_a_subject": round(sum(map(bool, matched)) / len(matched), 3),
        "matches_agree_with_baseline": agree,
        "example_queries": [query for _, query, _ in subjects[:2]]
        + [query for _, query, _ in subjects[size // 2 : size // 2 + 1]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--baseline-messages", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(SEED)
    messages, source = load_messages(args.messages, rng)
    # Smaller workspaces listen for the first subjects of the largest one.
    subjects = make_subjects(max(SIZES), random.Random(SEED))
    messages = splice_mentions(messages, subjects, rng)

    text_analysis.clear_cache()
    cold = _timed(messages, analyze, passes=1)
    cache = text_analysis.cache_info()
    warm = _timed(messages, analyze)
    results = [measure(subjects[:size], messages, args.baseline_messages) for size in SIZES]
    print(
        json.dumps(
            {
                "benchmark": "subject matching",
                "h2h": __version__,
                "python": platform.python_version(),
                "corpus": {
                    "messages": len(messages),
                    "source": source,
                    "mean_chars": round(statistics.mean(map(len, messages))),
                    "distinct_words": cache["size"],
                },
                "analysis_only_cold_cache": cold,
                "analysis_only_warm_cache": warm,
                "by_subject_count": results,
                "target": ">= 20,000 messages/s at 100 subjects, analysis included, warm cache",
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "note": (
                    "one thread on a shared 2-core machine; best of 3 passes (2 for the"
                    " baseline, 1 for the cold cache); compare ratios, p50 ones are steadiest"
                ),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
