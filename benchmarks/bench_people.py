"""Profile page and timeline API under load, on a workspace of a million persons.

Generates one workspace with N persons, 3 identities each (email, phone, Telegram) and M
events whose owners are skewed the way real traffic is (a few persons with thousands of
events, most with a handful; timestamps rounded to the minute, so a heavy person has ties),
plus messages, our replies and orders for the heaviest persons so that the timeline merges
several sources. PostgreSQL (default: 1 M / 3 M / 10 M) is filled with COPY, SQLite
(``--sqlite``, default 100 k persons) with batched inserts; the schema comes from the
migrations. Then the real app is served by uvicorn in a child process and 20 client
threads send keep-alive requests for persons picked across the skew:

- ``GET /w/<ws>/people/<id>`` — the profile page (session cookie);
- ``GET /api/v1/workspaces/<ws>/people/<id>/timeline?limit=50`` and its second page
  (``before=`` the first page's cursor) — the timeline API (bearer token).

The baseline is the same work without HTTP: ``profile.timeline`` and ``profile.key_figures``
called in this process on the same persons. Prints one JSON document (latency
percentiles, throughput, errors, generation time, peak RSS); nothing is asserted.

    .venv/bin/python benchmarks/bench_people.py [--persons 1000000] [--events 10000000]
    .venv/bin/python benchmarks/bench_people.py --sqlite [--persons 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpload  # noqa: E402 - beside this script
from sqlalchemy import create_engine, insert, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from h2h import __version__  # noqa: E402
from h2h.accounts import service as accounts  # noqa: E402
from h2h.accounts.models import Role  # noqa: E402
from h2h.channels import ingest  # noqa: E402
from h2h.channels import service as channels  # noqa: E402
from h2h.channels.connectors.base import Author, ChannelKind, Direction, RawMessage  # noqa: E402
from h2h.channels.models import Message  # noqa: E402
from h2h.db import make_engine, make_sessionmaker  # noqa: E402
from h2h.migrate import upgrade  # noqa: E402
from h2h.people import profile, service  # noqa: E402
from h2h.people.models import Event, Identity, Order, Person  # noqa: E402

POSTGRES = os.environ.get(
    "H2H_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench-password-long-enough"  # noqa: S105 - a throwaway database
FIRST = ["Anna", "Maria", "Elena", "Olga", "Ivan", "Dmitry", "Sergey", "Pavel", "Nikita", "Irina"]
LAST = ["Smirnov", "Kuznetsov", "Popov", "Sokolov", "Morozov", "Volkov", "Orlov", "Zaytsev"]
EVENT_NAMES = ["page_view", "search", "add_to_cart", "app_open"]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HEAVY = 200  # persons with messages, replies and orders besides events


def person_id(n: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"p{n}".encode()).hexdigest())  # noqa: S324 - ids, not secrets


def identity_id(n: int, k: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"i{n}.{k}".encode()).hexdigest())  # noqa: S324


def owner_of_event(rng: random.Random, persons: int) -> int:
    """Skewed like traffic: person 0 gets ~1/1000 of all events, the median one a few."""
    u = rng.random()
    return int(persons * u * u)


# --- generation --------------------------------------------------------------------------------


def _persons(ws: uuid.UUID, count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        name = f"{FIRST[n % 10]} {LAST[(n // 10) % 8]} {n}"
        yield {
            "workspace_id": ws,
            "id": person_id(n),
            "name": name,
            "name_key": name.lower(),
            "stage": "visitor",
            "stage_manual": False,
            "account_kind": "person",
            "liveness_reasons": [],
            "attributes": {},
            "message_count": 0,
            "order_count": 0,
            "lifetime_value": 0,
            "first_seen_at": NOW - timedelta(days=400),
            "last_seen_at": NOW - timedelta(minutes=n % 500_000),
            "created_at": NOW,
            "updated_at": NOW,
        }


def _identities(ws: uuid.UUID, count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        for k, (kind, value) in enumerate(
            (
                ("email", f"user{n}@example.com"),
                ("phone", f"+7916{n:07d}"),
                ("telegram", f"{10**8 + n}"),
            )
        ):
            yield {
                "workspace_id": ws,
                "id": identity_id(n, k),
                "person_id": person_id(n),
                "kind": kind,
                "namespace": "",
                "value": value,
                "display": value,
                "verified": False,
                "first_seen_at": NOW - timedelta(days=400),
                "last_seen_at": NOW,
                "created_at": NOW,
            }


def _events(ws: uuid.UUID, persons: int, count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    for g in range(count):
        n = owner_of_event(rng, persons)
        yield {
            "workspace_id": ws,
            "id": uuid.UUID(int=rng.getrandbits(128)),
            "external_id": f"e{g}",
            "identity_id": identity_id(n, g % 2 * 2),  # email or Telegram
            "name": EVENT_NAMES[g % 4],
            "occurred_at": NOW - timedelta(minutes=rng.randrange(525_600)),  # ties by minute
            "properties": {"path": f"/p/{g % 1000}"},
            "source": "bench",
            "received_at": NOW,
        }


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _fill_postgres(url: str, ws: uuid.UUID, persons: int, events: int) -> dict[str, float]:
    import psycopg

    took = {}
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn, conn.cursor() as cur:
        for table, rows in (
            ("persons", _persons(ws, persons)),
            ("identities", _identities(ws, persons)),
            ("events", _events(ws, persons, events)),
        ):
            started = time.perf_counter()
            first = next(rows)
            columns = list(first)
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for i, row in enumerate(_chain(first, rows)):
                    buffer.write("\t".join(_copy_text(row[c]) for c in columns) + "\n")
                    if i % 50_000 == 49_999:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
            conn.commit()
            took[table] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        cur.execute("ANALYZE")
        took["analyze"] = round(time.perf_counter() - started, 1)
    return took


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def _fill_sqlite(url: str, ws: uuid.UUID, persons: int, events: int) -> dict[str, float]:
    engine = make_engine(url)
    took = {}
    for model, rows in (
        (Person, _persons(ws, persons)),
        (Identity, _identities(ws, persons)),
        (Event, _events(ws, persons, events)),
    ):
        started = time.perf_counter()
        batch: list[dict[str, Any]] = []
        with engine.begin() as conn:
            for row in rows:
                batch.append(row)
                if len(batch) == 20_000:
                    conn.execute(insert(model), batch)
                    batch = []
            if batch:
                conn.execute(insert(model), batch)
        took[model.__tablename__] = round(time.perf_counter() - started, 1)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return took


def _workspace(url: str) -> tuple[uuid.UUID, str]:
    """A workspace, its owner, and an API token of the owner."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        owner = accounts.create_user(
            session, email="owner@bench.example", name="Bench Owner", password=PASSWORD
        )
        ws = accounts.create_workspace(session, name="Bench", slug="bench", owner=owner)
        raw, _ = accounts.create_api_token(session, user=owner, name="bench")
        session.commit()
        ws_id = ws.id
    engine.dispose()
    return ws_id, raw


def _heavy_sources(url: str, ws: uuid.UUID) -> None:
    """Messages, our replies and orders for the heaviest persons: a timeline of many sources."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        actor = accounts.Actor(user_id=None, role=Role.OWNER)
        mail = channels.get_or_create_channel(
            session, workspace_id=ws, actor=actor, kind=ChannelKind.FILE, name="Mail"
        )
        for n in range(HEAVY):
            items = [
                RawMessage(
                    f"m{n}-{i}",
                    f"Message {i} from customer {n}",
                    NOW - timedelta(days=i * 3),
                    Author(f"user{n}@example.com"),
                    thread_id=f"t{n}",
                )
                for i in range(10)
            ] + [
                RawMessage(
                    f"r{n}-{i}",
                    f"Our reply {i}",
                    NOW - timedelta(days=i * 3, hours=-1),
                    Author("shop@example.com", name="Shop"),
                    thread_id=f"t{n}",
                    direction=Direction.OUTBOUND,
                )
                for i in range(5)
            ]
            ingest.store(session, workspace_id=ws, channel_id=mail.id, items=items)
            session.execute(
                update(Message)
                .where(Message.workspace_id == ws, Message.external_id.like(f"m{n}-%"))
                .values(identity_id=identity_id(n, 0))
            )
            session.add_all(
                Order(
                    workspace_id=ws,
                    external_id=f"o{n}-{i}",
                    identity_id=identity_id(n, 0),
                    placed_at=NOW - timedelta(days=i * 20),
                    total=150_000,
                )
                for i in range(8)
            )
        session.flush()
        service.refresh_aggregates(
            session, workspace_id=ws, person_ids=[person_id(n) for n in range(HEAVY)]
        )
        session.commit()
    engine.dispose()


# --- measuring -----------------------------------------------------------------------------------


def _sample(persons: int) -> list[int]:
    """Persons across the skew: the heaviest, mid-weight and the long tail."""
    rng = random.Random(11)  # noqa: S311
    mid = min(2000, persons // 2)
    return [*range(10), *rng.sample(range(10, mid), 20), *rng.sample(range(mid, persons), 30)]


def _load(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    cookies: dict[str, str],
    requests: int,
    clients: int,
    interval: float = 0.0,
) -> dict[str, Any]:
    """``clients`` threads, each sending its share of ``requests`` one after another — at
    once (``interval`` 0: the server saturated, latency is mostly queueing) or one every
    ``interval`` seconds (users who read what they asked for)."""

    def worker(offset: int) -> tuple[list[float], int]:
        latencies, errors = [], 0
        rng = random.Random(offset)  # noqa: S311
        with httpx.Client(base_url=base, headers=headers, cookies=cookies, timeout=60) as client:
            for path in paths[:3]:
                client.get(path)  # warm-up
            time.sleep(rng.random() * interval)  # users do not click in step
            for i in range(requests // clients):
                path = paths[(offset + i * 7) % len(paths)]
                started = time.perf_counter()
                response = client.get(path)
                took = time.perf_counter() - started
                latencies.append(took * 1000)
                errors += response.status_code != 200
                if interval:
                    time.sleep(max(0.0, interval - took))
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - started
    return httpload.summary([x for r in results for x in r[0]], elapsed, sum(r[1] for r in results))


def _baseline(
    url: str, ws: uuid.UUID, sample: list[int], cursors: dict[int, str | None]
) -> dict[str, Any]:
    engine = make_engine(url)
    out = {}
    with make_sessionmaker(engine)() as session:
        for name, work in (
            (
                "timeline page 1",
                lambda s, n: profile.timeline(s, workspace_id=ws, person_id=person_id(n), limit=50),
            ),
            (
                "timeline page 2",
                lambda s, n: profile.timeline(
                    s, workspace_id=ws, person_id=person_id(n), before=cursors.get(n), limit=50
                ),
            ),
            ("profile queries", lambda s, n: _profile_queries(s, ws, n)),
        ):
            latencies = []
            for _ in range(3):
                for n in sample:
                    started = time.perf_counter()
                    work(session, n)
                    latencies.append((time.perf_counter() - started) * 1000)
                    session.rollback()
            out[name] = httpload.summary(latencies, 0, 0)
    engine.dispose()
    return out


def _profile_queries(session: Session, ws: uuid.UUID, n: int) -> None:
    person = service.get_person(session, workspace_id=ws, person_id=person_id(n))
    profile.key_figures(session, workspace_id=ws, person=person)
    profile.timeline(session, workspace_id=ws, person_id=person.id, limit=50)


def _login(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as client:
        token = client.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login",
            data={"email": "owner@bench.example", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 303, response.status_code
        return dict(client.cookies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--persons", type=int, default=None)
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between a paced client's requests"
    )
    parser.add_argument("--paced-requests", type=int, default=600, help="per endpoint, paced")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    persons = args.persons or (100_000 if args.sqlite else 1_000_000)
    events = args.events or persons * 10
    with tempfile.TemporaryDirectory(prefix="h2h-bench-people-") as tmp:
        data_dir = Path(tmp)
        if args.sqlite:
            url = f"sqlite:///{data_dir / 'h2h.sqlite3'}"
            admin = None
        else:
            name = f"h2h_bench_people_{os.getpid()}"
            admin = create_engine(
                make_url(POSTGRES).set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            ws, token = _workspace(url)
            started = time.perf_counter()
            fill = _fill_sqlite if args.sqlite else _fill_postgres
            took = fill(url, ws, persons, events)
            _heavy_sources(url, ws)
            generation = round(time.perf_counter() - started, 1)
            rows = persons * 4 + events
            sample = _sample(persons)
            server, base = httpload.serve(url, data_dir)
            try:
                bearer = {"Authorization": f"Bearer {token}"}
                cursors: dict[int, str | None] = {}
                with httpx.Client(base_url=base, headers=bearer, timeout=60) as client:
                    for n in sample:
                        page = client.get(
                            f"/api/v1/workspaces/bench/people/{person_id(n)}/timeline?limit=50"
                        ).json()
                        cursors[n] = page["next_cursor"]
                cookies = _login(base)
                api = "/api/v1/workspaces/bench/people"
                cases = {
                    "UI GET /w/bench/people/{id} (profile page)": (
                        [f"/w/bench/people/{person_id(n)}" for n in sample],
                        {},
                        cookies,
                    ),
                    "API GET …/people/{id}/timeline?limit=50": (
                        [f"{api}/{person_id(n)}/timeline?limit=50" for n in sample],
                        bearer,
                        {},
                    ),
                    "API GET …/timeline?before=…&limit=50 (page 2)": (
                        [
                            f"{api}/{person_id(n)}/timeline?limit=50&before={cursors[n]}"
                            for n in sample
                            if cursors.get(n)
                        ],
                        bearer,
                        {},
                    ),
                    "baseline GET /healthz": (["/healthz"], {}, {}),
                }
                results = {
                    k: _load(base, paths, h, c, args.requests, args.clients)
                    for k, (paths, h, c) in cases.items()
                }
                paced = {
                    k: _load(base, paths, h, c, args.paced_requests, args.clients, args.interval)
                    for k, (paths, h, c) in cases.items()
                    if "healthz" not in k
                }
            finally:
                server.terminate()
                server.wait(timeout=20)
            baseline = _baseline(url, ws, sample, cursors)
        finally:
            if admin is not None:
                if not args.keep:
                    with admin.connect() as conn:
                        conn.execute(
                            text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
                        )
                admin.dispose()
    page_p95 = paced["UI GET /w/bench/people/{id} (profile page)"]["p95_ms"]
    api_p95 = paced["API GET …/people/{id}/timeline?limit=50"]["p95_ms"]
    for name, result in [*results.items(), *paced.items()]:
        direct = baseline["profile queries" if name.startswith("UI") else "timeline page 1"]
        result["p50_vs_direct_queries"] = round(result["p50_ms"] / direct["p50_ms"], 2)
    print(
        json.dumps(
            {
                "benchmark": "people",
                "h2h": __version__,
                "python": platform.python_version(),
                "database": "sqlite" if args.sqlite else "postgresql",
                "persons": persons,
                "identities": persons * 3,
                "events": events,
                "heavy_persons_with_messages_and_orders": HEAVY,
                "generation_seconds": generation,
                "generation_rows_per_second": round(rows / generation),
                "generation_seconds_by_table": took,
                "sampled_persons": len(sample),
                "clients": args.clients,
                "saturated_endpoints": results,
                "paced_endpoints": paced,
                "paced_interval_seconds": args.interval,
                "direct_queries_baseline": baseline,
                "target_p95_ms": 100,
                "target_met_paced": page_p95 <= 100 and api_p95 <= 100,
                "peak_rss_mb_client": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "note": "server (uvicorn, 1 process), clients and database share 2 cores",
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
