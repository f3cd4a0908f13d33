"""Importing mentions: JSONL file -> messages, end to end, against a plain insert baseline.

Generates N realistic JSONL mentions (Russian and English, with reposts), imports them with
``h2h.channels.tasks.run_import`` into a fresh SQLite database and, when one answers, a fresh
PostgreSQL database; in the same run, inserts the same rows with a plain ``executemany``
into a bare table as the baseline. Subject matching is off (no subjects) unless
``--subjects`` is given. Prints one JSON document. Nothing here is asserted anywhere.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 100000] [--subjects 100]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from h2h import registry  # noqa: E402
from h2h.accounts import service as accounts  # noqa: E402
from h2h.channels import importer  # noqa: E402
from h2h.channels import service as channels  # noqa: E402
from h2h.channels.connectors.base import ChannelKind  # noqa: E402
from h2h.channels.tasks import run_import  # noqa: E402
from h2h.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from h2h.migrate import upgrade  # noqa: E402
from h2h.subjects import service as subjects  # noqa: E402
from h2h.subjects.models import SubjectKind  # noqa: E402

WORDS_RU = [
    "кофе",
    "доставка",
    "курьер",
    "заказ",
    "раф",
    "капучино",
    "бариста",
    "очередь",
    "касса",
    "приложение",
    "оплата",
    "вкусно",
    "холодный",
    "горячий",
    "спасибо",
    "опоздал",
    "вернуть",
    "деньги",
    "скидка",
    "десерт",
    "круассан",
    "меню",
    "цена",
    "дорого",
    "дешево",
    "уютно",
    "грязно",
    "вежливый",
    "грубый",
    "быстро",
    "медленно",
]
WORDS_EN = [
    "coffee",
    "delivery",
    "courier",
    "order",
    "latte",
    "barista",
    "queue",
    "app",
    "payment",
    "tasty",
    "cold",
    "hot",
    "thanks",
    "late",
    "refund",
    "discount",
    "dessert",
    "menu",
    "price",
    "expensive",
    "cheap",
    "cozy",
    "rude",
    "fast",
    "slow",
    "flight",
    "delayed",
    "bags",
    "crew",
    "seat",
    "gate",
]
POSTGRES = os.environ.get(
    "H2H_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/h2h_test"
)


SYLLABLES = [
    "ка",
    "ра",
    "то",
    "ми",
    "се",
    "ло",
    "ну",
    "ва",
    "де",
    "ли",
    "по",
    "ба",
    "ко",
    "ре",
    "та",
    "ро",
    "ди",
    "мо",
    "на",
    "го",
]  # noqa: E501


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    """Domain words plus pseudo-words, for a realistic spread when no real texts are at hand."""
    made = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(size)}
    return WORDS_RU + WORDS_EN + sorted(made)


SHARED = ROOT.parent / "shared" / "data"
CORPORA = [
    ("rusentiment/rusentiment_random_posts.csv", "text"),
    ("rusentiment/rusentiment_preselected_posts.csv", "text"),
    ("rusentitweet/rusentitweet_train.csv", "text"),
    ("airline_tweets_dev/tweets_dev_airlines.csv", "text"),
    ("support_requests_en/support_requests.csv", "text"),
]


def real_texts(limit: int) -> list[str]:
    """Real Russian and English posts from ../shared/data (absent in a user's clone)."""
    texts: list[str] = []
    for name, column in CORPORA:
        path = SHARED / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as source:
            texts += [row[column] for row in csv.DictReader(source) if row.get(column)]
    return texts[:limit]


def make_file(path: Path, rows: int, rng: random.Random) -> str:
    """Write the mentions; returns where the texts came from."""
    texts = real_texts(rows)
    source = "real posts and tweets from ../shared/data"
    if not texts:
        words = vocabulary(rng)
        weights = [1 / (rank + 1) for rank in range(len(words))]
        texts = [" ".join(rng.choices(words, weights, k=rng.randint(6, 30))) for _ in range(rows)]
        source = "generated words (../shared/data not found)"
    rng.shuffle(texts)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for n in range(rows):
            # Past the corpus, texts come back as copies with a tag: copy-paste campaigns.
            body = texts[n % len(texts)]
            if n >= len(texts):
                body = f"{body} #{rng.randint(1, 50)}"
            record = {
                "id": f"m{n}",
                "text": body,
                "date": (start + timedelta(seconds=n * 150)).isoformat(),
                "author": {
                    "handle": f"user{rng.randint(1, rows // 5)}",
                    "followers": rng.randint(0, 50_000),
                },
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return source


MAPPING = importer.Mapping(
    {
        "external_id": "id",
        "text": "text",
        "created_at": "date",
        "author_handle": "author.handle",
        "author_followers": "author.followers",
    }
)


def run_h2h(url: str, path: Path, subject_count: int) -> dict[str, Any]:
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        owner = accounts.create_user(
            session,
            email=f"bench-{uuid.uuid4().hex[:6]}@h2h.example",
            name="Bench",
            password=uuid.uuid4().hex,
        )
        workspace = accounts.create_workspace(session, name="Bench", owner=owner)
        channel = channels.create_channel(
            session,
            workspace_id=workspace.id,
            actor=accounts.SYSTEM,
            kind=ChannelKind.FILE,
            name="bench",
        )
        for n in range(subject_count):
            word = (WORDS_RU + WORDS_EN)[n % len(WORDS_RU + WORDS_EN)]
            subjects.create_subject(
                session,
                workspace_id=workspace.id,
                actor=accounts.SYSTEM,
                kind=SubjectKind.PRODUCT,
                name=f"s{n}",
                query=f'{word} AND NOT "zz{n}"',
            )
        ids = (workspace.id, channel.id)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run_id = run_import(factory, workspace_id=ids[0], channel_id=ids[1], path=path, mapping=MAPPING)
    elapsed = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    with transaction(factory) as session:
        run = channels.get_import(session, workspace_id=ids[0], import_id=run_id)
        counts = {"imported": run.imported, "duplicates": run.duplicates, "rejected": run.rejected}
        near = session.scalar(
            text("SELECT count(*) FROM messages WHERE duplicate_of_id IS NOT NULL")
        )
    engine.dispose()
    return {
        "seconds": round(elapsed, 2),
        "messages_per_s": round(counts["imported"] / elapsed),
        "peak_rss_growth_mb": round(rss_growth / 1024, 1),
        "near_duplicates_linked": near,
        **counts,
    }


def run_baseline(url: str, path: Path) -> dict[str, Any]:
    """The same rows, parsed with json and inserted with executemany into a bare table."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_plain"))
        connection.execute(
            text(
                "CREATE TABLE bench_plain (id VARCHAR(40) PRIMARY KEY, "
                "author VARCHAR(300), created_at VARCHAR(40), body TEXT)"
            )
        )
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection, path.open(encoding="utf-8") as source:
        for line in source:
            record = json.loads(line)
            batch.append(
                {
                    "id": record["id"],
                    "author": record["author"]["handle"],
                    "created_at": record["date"],
                    "body": record["text"],
                }
            )
            if len(batch) == 1000:
                connection.execute(
                    text("INSERT INTO bench_plain VALUES (:id, :author, :created_at, :body)"), batch
                )
                batch = []
        if batch:
            connection.execute(
                text("INSERT INTO bench_plain VALUES (:id, :author, :created_at, :body)"), batch
            )
    elapsed = time.perf_counter() - started
    engine.dispose()
    rows = sum(1 for _ in path.open(encoding="utf-8"))
    return {"seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed)}


def postgres_url() -> str | None:
    parsed = make_url(POSTGRES)
    name = f"h2h_bench_{os.getpid()}"
    try:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:  # no PostgreSQL here: report SQLite only
        return None
    return parsed.set(database=name).render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--subjects", type=int, default=0)
    args = parser.parse_args()
    registry.load()
    results: dict[str, Any] = {"benchmark": "ingest", "rows": args.rows, "subjects": args.subjects}
    with tempfile.TemporaryDirectory(prefix="h2h-bench-") as folder:
        path = Path(folder) / "mentions.jsonl"
        results["texts"] = make_file(path, args.rows, random.Random(7))  # noqa: S311
        results["file_mb"] = round(path.stat().st_size / 2**20, 1)
        sqlite_url = f"sqlite:///{folder}/h2h.sqlite3"
        results["sqlite"] = run_h2h(sqlite_url, path, args.subjects)
        results["sqlite"]["baseline_executemany"] = run_baseline(
            f"sqlite:///{folder}/plain.sqlite3", path
        )
        pg = postgres_url()
        if pg:
            try:
                results["postgresql"] = run_h2h(pg, path, args.subjects)
                results["postgresql"]["baseline_executemany"] = run_baseline(pg, path)
            finally:
                drop_postgres(pg)
        else:
            results["postgresql"] = "not reachable"
    for db in ("sqlite", "postgresql"):
        if isinstance(results.get(db), dict):
            base = results[db]["baseline_executemany"]["rows_per_s"]
            results[db]["ratio_to_baseline"] = round(results[db]["messages_per_s"] / base, 3)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
