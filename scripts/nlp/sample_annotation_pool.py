"""Draw the messages we annotate for intents, threats, aspects and profanity.

Reproducible (fixed seed) and disjoint between dev and test. Writes key + text to a pool
directory outside the repository (texts belong to the data sets, not to us); annotators
write labels keyed by those ids into src/h2h/nlp/annotations/.

Each pool mixes a random draw (so precision is measured on ordinary traffic) with a draw
from texts carrying broad customer-service words (so complaints, requests and the rare
threats occur often enough to measure recall). The enrichment words are deliberately
generic and were chosen before any cue lists were written.

    python scripts/nlp/sample_annotation_pool.py /tmp/h2h-annotation-pool
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from h2h.nlp import datasets

SEED = 4
ENRICH_RU = re.compile(
    r"заказ|доставк|магазин|оператор|поддержк|жалоб|деньги|суд|отзыв|обслужива|курьер|"
    r"сервис|банк|компани|возврат|купить|цен[аыу]|стоит|врач|клиник|ресторан|официант",
    re.IGNORECASE,
)
ENRICH_EN = re.compile(
    r"refund|money|complain|review|cancel|never|buy|price|customer|service|help|"
    r"support|charge|account|manager|bbb|report|lawyer|news",
    re.IGNORECASE,
)


def _draw(pool: list[datasets.Example], n: int, rng: random.Random, taken: set[str]) -> list:
    candidates = [e for e in pool if e.key not in taken and 3 <= len(e.text) <= 600]
    chosen = rng.sample(candidates, min(n, len(candidates)))
    taken.update(e.key for e in chosen)
    return chosen


def _review_sentences(reviews: list[datasets.Example]) -> list[datasets.Example]:
    out = []
    for review in reviews:
        for start, end in datasets.sentences(review.text):
            text = review.text[start:end].strip()
            if len(text) >= 20:
                out.append(datasets.Example(f"{review.key}@{start}-{end}", text, "", "ru"))
    return out


def main(target: Path) -> None:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible sample, nothing secret
    taken: set[str] = set()
    target.mkdir(parents=True, exist_ok=True)
    sources = {
        "ru": {
            "dev": [
                (datasets.rusentitweet("train"), 45, 25),
                (datasets.rusentiment("train"), 30, 15),
                (_review_sentences(datasets.sentirueval_reviews("train", "rest")), 25, 0),
                (_review_sentences(datasets.sentirueval_reviews("train", "car")), 10, 0),
            ],
            "test": [
                (datasets.rusentitweet("test"), 60, 35),
                (datasets.rusentiment("test"), 40, 20),
                (_review_sentences(datasets.sentirueval_reviews("test", "rest")), 30, 0),
                (_review_sentences(datasets.sentirueval_reviews("test", "car")), 15, 0),
            ],
        },
        "en": {
            "dev": [
                (datasets.airline("train"), 40, 15),
                (datasets.support_requests(), 40, 15),
                (datasets.banking77("train"), 25, 15),
            ],
            "test": [
                (datasets.airline("test"), 50, 25),
                (datasets.support_requests(), 50, 25),
                (datasets.banking77("test"), 30, 20),
            ],
        },
    }
    for language, splits in sources.items():
        enrich = ENRICH_RU if language == "ru" else ENRICH_EN
        for split, parts in splits.items():
            chosen = []
            for pool, n_random, n_enriched in parts:
                chosen += _draw(pool, n_random, rng, taken)
                chosen += _draw([e for e in pool if enrich.search(e.text)], n_enriched, rng, taken)
            rng.shuffle(chosen)
            with (target / f"pool_{split}_{language}.jsonl").open("w", encoding="utf-8") as out:
                for example in chosen:
                    out.write(
                        json.dumps({"key": example.key, "text": example.text}, ensure_ascii=False)
                        + "\n"
                    )
            print(f"{split}/{language}: {len(chosen)}")


if __name__ == "__main__":
    default = "/tmp/h2h-annotation-pool"  # noqa: S108 - a scratch folder the developer picks
    main(Path(sys.argv[1] if len(sys.argv) > 1 else default))
