"""Readers for the public data sets H2H trains and evaluates on (``../shared/data``).

The data sets are never copied into the package: training and evaluation read them where
they lie, and our own annotations refer to their rows by a stable key
(``<dataset>:<id>``), so the repository holds labels, not other people's texts.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import xml.etree.ElementTree as ET  # noqa: S405 - the files are the published data sets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from h2h.errors import H2HError
from h2h.nlp.normalize import sentence_spans

DATA_DIR_ENV = "H2H_SHARED_DATA"
AIRLINE_SEED = 20261123  # the fixed seed of our airline train/test split (80/20)


@dataclass(frozen=True, slots=True)
class Example:
    key: str
    text: str
    label: str = ""
    language: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class DataMissing(H2HError):
    status_code = 404


def data_dir(explicit: Path | None = None) -> Path:
    """Where the shared data sets are: an explicit path, $H2H_SHARED_DATA or ../shared/data."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(DATA_DIR_ENV):
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path("../shared/data")


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise DataMissing(f"data set file {path} is missing (set {DATA_DIR_ENV} or --data-dir)")
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def rusentiment(split: str, root: Path | None = None) -> list[Example]:
    """RuSentiment: official train = random + preselected posts, test = rusentiment_test.csv."""
    base = data_dir(root) / "rusentiment"
    files = (
        ["rusentiment_random_posts.csv", "rusentiment_preselected_posts.csv"]
        if split == "train"
        else ["rusentiment_test.csv"]
    )
    out: list[Example] = []
    for name in files:
        stem = name.removeprefix("rusentiment_").removesuffix(".csv")
        for index, row in enumerate(_csv_rows(base / name)):
            out.append(Example(f"rusentiment:{stem}:{index}", row["text"], row["label"], "ru"))
    return out


def rusentitweet(split: str, root: Path | None = None) -> list[Example]:
    """RuSentiTweet: the authors' train/test files."""
    path = data_dir(root) / "rusentitweet" / f"rusentitweet_{split}.csv"
    return [
        Example(f"rusentitweet:{row['id']}", row["text"], row["label"], "ru")
        for row in _csv_rows(path)
    ]


def airline(split: str, root: Path | None = None) -> list[Example]:
    """Airline tweets (United, US Airways, American): our fixed 80/20 split by AIRLINE_SEED."""
    rows = list(_csv_rows(data_dir(root) / "airline_tweets_dev" / "tweets_dev_airlines.csv"))
    order = sorted(range(len(rows)), key=lambda i: rows[i]["tweet_id"])
    random.Random(AIRLINE_SEED).shuffle(order)  # noqa: S311 - a fixed split, not a secret
    cut = int(len(order) * 0.8)
    chosen = order[:cut] if split == "train" else order[cut:]
    return [
        Example(
            f"airline:{rows[i]['tweet_id']}",
            rows[i]["text"],
            rows[i]["airline_sentiment"],
            "en",
            {"reason": rows[i]["negativereason"], "airline": rows[i]["airline"]},
        )
        for i in sorted(chosen)
    ]


def banking77(split: str, root: Path | None = None) -> list[Example]:
    path = data_dir(root) / "banking77" / f"{split}.csv"
    return [
        Example(f"banking77:{split}:{i}", row["text"], row["category"], "en")
        for i, row in enumerate(_csv_rows(path))
    ]


def support_requests(root: Path | None = None) -> list[Example]:
    """Customer tweets to a music-streaming brand's support; malformed rows are skipped."""
    path = data_dir(root) / "support_requests_en" / "support_requests.csv"
    return [
        Example(f"support:{row['tweet_id']}", row["text"], "", "en")
        for row in _csv_rows(path)
        if row.get("text") and row.get("tweet_id", "").isdigit()
    ]


SENTIRUEVAL_ASPECTS = {  # SentiRuEval categories → the H2H taxonomy (None: no counterpart)
    "Food": "food",
    "Service": "staff",
    "Interior": "location",
    "Price": "price",
    "Costs": "price",
    "Reliability": "quality",
    "Comfort": "quality",
    "Safety": "quality",
    "Appearance": "quality",
    "Driveability": "quality",
    "Whole": None,
}


def sentirueval_reviews(
    split: str, domain: str = "rest", root: Path | None = None
) -> list[Example]:
    """SentiRuEval-2015 reviews; ``extra['aspects']`` is 'start:end:category:sentiment;…'."""
    path = data_dir(root) / "sentirueval2015_absa" / f"SentiRuEval_{domain}_markup_{split}.xml"
    if not path.is_file():
        raise DataMissing(f"data set file {path} is missing")
    tree = ET.parse(path)  # noqa: S314 - a published file, not user input
    out = []
    for review in tree.getroot().iter("review"):
        text = review.findtext("text") or ""
        spans = [
            f"{a.get('from')}:{a.get('to')}:{a.get('category')}:{a.get('sentiment')}"
            for a in review.iter("aspect")
            if a.get("type") == "explicit"
        ]
        out.append(
            Example(
                f"sentirueval:{domain}:{review.get('id')}",
                text,
                "",
                "ru",
                {"aspects": ";".join(spans)},
            )
        )
    return out


def fingerprint(examples: list[Example]) -> str:
    """A short hash of texts and labels, recorded in model cards to pin the training data."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.key.encode())
        digest.update(example.text.encode())
        digest.update(example.label.encode())
    return digest.hexdigest()[:16]


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """Sentence spans (start, end) of a review (the pipeline's own splitter)."""
    yield from sentence_spans(text)


class Resolver:
    """Turns annotation keys back into texts by reading the data sets once."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._texts: dict[str, str] = {}
        self._loaded: set[str] = set()

    def _load(self, dataset: str) -> None:
        if dataset in self._loaded:
            return
        self._loaded.add(dataset)
        loaders = {
            "rusentiment": lambda: rusentiment("train", self.root) + rusentiment("test", self.root),
            "rusentitweet": lambda: (
                rusentitweet("train", self.root) + rusentitweet("test", self.root)
            ),
            "airline": lambda: airline("train", self.root) + airline("test", self.root),
            "banking77": lambda: banking77("train", self.root) + banking77("test", self.root),
            "support": lambda: support_requests(self.root),
            "sentirueval": lambda: [
                example
                for split in ("train", "test")
                for domain in ("rest", "car")
                for example in sentirueval_reviews(split, domain, self.root)
            ],
        }
        if dataset not in loaders:
            raise DataMissing(f"unknown data set {dataset!r} in an annotation key")
        self._texts.update((example.key, example.text) for example in loaders[dataset]())

    def text(self, key: str) -> str:
        """The text behind a key; ``sentirueval:rest:ID@start-end`` is a span of a review."""
        base, _, span = key.partition("@")
        self._load(base.split(":", 1)[0])
        if base not in self._texts:
            raise DataMissing(f"annotation key {key!r} is not in the data set")
        text = self._texts[base]
        if span:
            start, end = (int(part) for part in span.split("-"))
            text = text[start:end]
        return text
