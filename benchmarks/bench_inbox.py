"""The inbox under load: the list with typical filters, the conversation view, and a burst.

Generates one workspace with C conversations holding M messages (PostgreSQL: 1 M messages
in 300 k conversations, filled by COPY; SQLite: 100 k in 30 k, batched inserts), written
straight into the tables as threading, routing, replies and the breach job would have left
them (``inbox_data.py`` beside this script says how). The schema comes from the migrations.

Then the real app is served by uvicorn in a child process on 127.0.0.1 and 20 client
threads call the JSON API ``/api/v1/workspaces/<ws>/inbox/conversations`` (bearer token of
one agent) with the filters agents use — open and mine, unassigned urgent, overdue, one
channel in one language, a full-text search — and ``…/conversations/<number>`` (the
conversation view); saturated (closed loop) and paced (each client one request every
``--interval`` seconds). Baselines in the same run: ``listing.list_conversations`` called
in this process, and the raw SQL it sends, captured and re-run on a bare DB-API cursor.

Last, a burst of new messages goes through ``ingest.store`` in webhook-sized batches (each
its own transaction, so the inbox threads, routes and starts the SLA clocks inline), half
continuing conversations of the set and half from new customers, against the same ingest
with the inbox step switched off (batches interleaved). Prints one JSON document; nothing
is asserted.

    .venv/bin/python benchmarks/bench_inbox.py [--messages 1000000] [--conversations 300000]
    .venv/bin/python benchmarks/bench_inbox.py --sqlite [--messages 100000]
    H2H_BENCH_POSTGRES_URL=postgresql+psycopg://… .venv/bin/python benchmarks/bench_inbox.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpload  # noqa: E402 - beside this script
import inbox_data  # noqa: E402 - beside this script
from inbox_data import (  # noqa: E402
    KINDS,
    OPENERS_RU,
    PRODUCTS_RU,
    TOPICS_RU,
    Generator,
    Plan,
    Setup,
    zipf,
)
from sqlalchemy import create_engine, event, select, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from h2h import __version__, registry  # noqa: E402
from h2h.channels import ingest  # noqa: E402
from h2h.channels import service as channels  # noqa: E402
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage  # noqa: E402
from h2h.channels.models import Message  # noqa: E402
from h2h.db import make_engine, make_sessionmaker  # noqa: E402
from h2h.inbox import listing, replies, service, sla, threading  # noqa: E402
from h2h.inbox.models import (  # noqa: E402
    Conversation,
    ConversationMessage,
)
from h2h.migrate import upgrade  # noqa: E402

POSTGRES = os.environ.get(
    "H2H_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

# --- measuring ----------------------------------------------------------------------------------


def _load(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    requests: int,
    clients: int,
    interval: float = 0.0,
) -> dict[str, Any]:
    """``clients`` threads with keep-alive connections, at once or one request each ``interval``."""

    def worker(offset: int) -> tuple[list[float], int]:
        latencies, errors = [], 0
        rng = random.Random(offset)  # noqa: S311
        with httpx.Client(base_url=base, headers=headers, timeout=LIMIT_S) as client:
            client.get(paths[offset % len(paths)])  # warm-up: the connection, the caches
            time.sleep(rng.random() * interval)  # users do not click in step
            for i in range(max(1, requests // clients)):
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


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class Case:
    name: str
    params: list[dict[str, str]]  # API query parameters, one set per request in turn
    # A worst case is measured once, in process, with a time limit: not over HTTP, not in
    # the target; it shows where the list stops scaling.
    worst: bool = False


def _cases(setup: Setup, plan: Plan) -> list[Case]:
    ranked = sorted(plan.product_counts.items(), key=lambda kv: -kv[1])
    typical = [
        *({"q": f"заказ {n}"} for n in plan.order_numbers[:3]),  # what the customer quoted
        {"q": plan.open_names[0]},  # a customer's name
        {"q": f"#{plan.open_numbers[len(plan.open_numbers) // 2]}"},  # a conversation number
        {"q": ranked[-1][0]},  # the rarest product, about 1 % of the messages
    ]
    return [
        Case("open (the default list)", [{}]),
        Case("open + mine", [{"owner": "me"}]),
        Case("unassigned urgent", [{"owner": "none", "priority": "urgent"}]),
        Case("breached (overdue)", [{"sla_status": "breached"}]),
        Case(
            "channel + language",
            [
                {"channel_id": str(setup.channels[ChannelKind.TELEGRAM]), "language": "en"},
                {"channel_id": str(setup.channels[ChannelKind.EMAIL]), "language": "ru"},
            ],
        ),
        Case("full-text q (order number, name, #number, rare word)", typical),
        # Not what agents type: a word in about a third of the messages; and every state.
        Case("worst case: full-text q, a very common word", [{"q": ranked[0][0]}], worst=True),
        Case(
            "worst case: all states of one channel",
            [{"state": "all", "channel_id": str(setup.channels[ChannelKind.EMAIL])}],
            worst=True,
        ),
    ]


API_TO_QUERY = {"owner": {"me": "mine", "none": "unassigned"}}


def _query(params: dict[str, str]) -> listing.InboxQuery:
    """The API's parameters as the listing's filters (as ``inbox.api`` maps them)."""
    mapped = {
        "owner": API_TO_QUERY["owner"].get(params.get("owner", ""), params.get("owner", "")),
        "priority": params.get("priority", ""),
        "sla": params.get("sla_status", ""),
        "channel": params.get("channel_id", ""),
        "language": params.get("language", ""),
        "q": params.get("q", ""),
        "state": params.get("state", "open"),
    }
    return listing.InboxQuery.from_params(mapped)


def _capture(engine: Engine, work: Callable[[], Any]) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def _direct(
    url: str, setup: Setup, cases: list[Case], numbers: list[int], rounds: int
) -> dict[str, Any]:
    """In-process baselines: the listing service, and the raw SQL it sends on a bare cursor."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    ws, me = setup.workspace_id, setup.agent_ids[0]
    out: dict[str, Any] = {}
    plans: dict[str, list[str]] = {}
    for case in cases:
        service_ms, raw_ms, matches = [], [], []
        runs = 1 if case.worst else rounds
        for params in case.params:
            query = _query(params)
            with factory() as session:
                captured: list[tuple[str, Any]] = []
                for n in range(runs + (0 if case.worst else 1)):  # the first run warms up
                    took, total = _timed(
                        engine, session, ws, me, query, captured if n == 0 else None
                    )
                    if n or case.worst:
                        service_ms.append(took)
                    session.rollback()
                matches.append(total)
            statements = [s for s in captured if "FROM conversations" in s[0]]
            if total is None:  # timed out: nothing to re-run
                continue
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                for _ in range(runs):
                    started = time.perf_counter()
                    for statement, parameters in statements:
                        cursor.execute(statement, parameters)
                        cursor.fetchall()
                    raw_ms.append((time.perf_counter() - started) * 1000)
                plans.setdefault(case.name, _explain(cursor, url, statements[-1]))
                cursor.close()
            finally:
                raw.close()
        out[case.name] = {
            "service": httpload.summary(service_ms, 0, 0),
            "raw_sql": httpload.summary(raw_ms, 0, 0),
            "matching_conversations": matches,
            "timed_out_after_s": LIMIT_S if None in matches else None,
        }
    view_ms = []
    with factory() as session:
        for _ in range(rounds):
            for number in numbers:
                started = time.perf_counter()
                _view_queries(session, ws, number)
                view_ms.append((time.perf_counter() - started) * 1000)
                session.expunge_all()
    out["conversation view"] = {"service": httpload.summary(view_ms, 0, 0)}
    engine.dispose()
    out["plans"] = plans
    return out


LIMIT_S = 300


def _timed(
    engine: Engine,
    session: Session,
    ws: uuid.UUID,
    me: uuid.UUID,
    query: listing.InboxQuery,
    captured: list[tuple[str, Any]] | None,
) -> tuple[float, int | None]:
    """One ``list_conversations`` call in ms and its total (None: over ``LIMIT_S``)."""
    if engine.dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL statement_timeout = {LIMIT_S * 1000}"))
    work = partial(listing.list_conversations, session, workspace_id=ws, query=query, user_id=me)
    started = time.perf_counter()
    results: list[tuple[list[Conversation], int]] = []
    try:
        if captured is None:
            results.append(work())
        else:
            captured += _capture(engine, lambda: results.append(work()))
    except OperationalError:
        return (time.perf_counter() - started) * 1000, None
    return (time.perf_counter() - started) * 1000, results[0][1]


def _view_queries(session: Session, ws: uuid.UUID, number: int) -> None:
    """What ``GET …/conversations/{number}`` reads, without HTTP and serialisation."""
    conversation = service.by_number(session, workspace_id=ws, number=number)
    ids = service.message_ids(session, conversation=conversation)
    channels.messages_by_id(session, workspace_id=ws, message_ids=ids)
    service.history(session, conversation=conversation)
    service.notes(session, conversation=conversation)
    replies.deliveries_of(session, conversation=conversation)


def _explain(cursor: Any, url: str, statement: tuple[str, Any]) -> list[str]:
    sql, parameters = statement
    if url.startswith("postgresql"):
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters)
    else:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
    return [" ".join(str(c) for c in row) for row in cursor.fetchall()][:40]


def _http(
    url: str,
    data_dir: Path,
    setup: Setup,
    cases: list[Case],
    numbers: list[int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    server, base = httpload.serve(url, data_dir)
    api = "/api/v1/workspaces/bench/inbox/conversations"
    headers = {"Authorization": f"Bearer {setup.token}"}
    paths = {
        f"list: {case.name}": [str(httpx.URL(api, params=p)) for p in case.params]
        for case in cases
        if not case.worst
    }
    paths["conversation view"] = [f"{api}/{n}" for n in numbers]
    paths["baseline GET /healthz"] = ["/healthz"]
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=LIMIT_S) as client:
            for name, group in paths.items():  # every path answers before it is measured
                status = client.get(group[0]).status_code
                if status != 200:
                    raise RuntimeError(f"{name}: {group[0]} answered {status}")
        saturated = {
            name: _load(base, group, headers, args.requests, args.clients)
            for name, group in paths.items()
        }
        paced = {
            name: _load(base, group, headers, args.paced_requests, args.clients, args.interval)
            for name, group in paths.items()
            if "healthz" not in name
        }
    finally:
        server_rss = _peak_rss_mb(server.pid)
        server.terminate()
        server.wait(timeout=20)
    return {"saturated": saturated, "paced": paced, "server_peak_rss_mb": server_rss}


# --- the burst ----------------------------------------------------------------------------------


def _burst_items(
    setup: Setup, plan: Plan, count: int, seed: int, start: int
) -> list[tuple[ChannelKind, RawMessage, int | None]]:
    """New customer messages: half continue an active conversation, half from new customers."""
    rng = random.Random(seed)  # noqa: S311
    now = datetime.now(UTC)
    picks = rng.sample(plan.active, min(len(plan.active), count // 2))
    items: list[tuple[ChannelKind, RawMessage, int | None]] = []
    for n, (number, _, thread, kind, handle) in enumerate(picks):
        text_ = (
            f"{rng.choice(OPENERS_RU)}, {rng.choice(TOPICS_RU)} {zipf(rng, PRODUCTS_RU)} ещё раз"
        )
        author = Author(handle, None)
        items.append(
            (kind, RawMessage(f"burst{seed}-c{n}", text_, now, author, thread_id=thread), number)
        )
    for n in range(count - len(picks)):
        customer = start + n
        kind = KINDS[customer % len(KINDS)]
        handle = {
            ChannelKind.TELEGRAM: str(100_000_000 + customer),
            ChannelKind.VK: str(200_000_000 + customer),
            ChannelKind.EMAIL: f"user{customer}@example.com",
            ChannelKind.WIDGET: f"guest{customer}@example.org",
        }[kind]
        thread = handle if kind is ChannelKind.TELEGRAM else f"burst{seed}:{n}"
        text_ = f"{rng.choice(OPENERS_RU)}, {rng.choice(TOPICS_RU)} {zipf(rng, PRODUCTS_RU)}"
        author = Author(
            handle, f"Новый клиент {customer}", followers=rng.choice([None, 40, 15_000])
        )
        items.append(
            (kind, RawMessage(f"burst{seed}-n{n}", text_, now, author, thread_id=thread), None)
        )
    rng.shuffle(items)
    return items


def _batches(
    items: list[tuple[ChannelKind, RawMessage, int | None]], size: int
) -> list[tuple[ChannelKind, list[tuple[RawMessage, int | None]]]]:
    by_kind: dict[ChannelKind, list[tuple[RawMessage, int | None]]] = {}
    for kind, item, number in items:
        by_kind.setdefault(kind, []).append((item, number))
    out = []
    for kind, group in by_kind.items():
        out += [(kind, group[i : i + size]) for i in range(0, len(group), size)]
    random.Random(5).shuffle(out)  # noqa: S311
    return out


def _burst(
    url: str, setup: Setup, plan: Plan, count: int, size: int, customers: int
) -> dict[str, Any]:
    """Ingest with the inbox step and without it, batch for batch, interleaved."""
    registry.load()
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    step = threading.thread_new_messages
    position = ingest.POST_INGEST_STEPS.index(step)
    spent = {"threading": 0.0}

    def timed(
        session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
    ) -> None:
        started = time.perf_counter()
        step(session, workspace_id, messages)
        spent["threading"] += time.perf_counter() - started

    ingest._STAGES[timed] = ingest._STAGES[step]
    with_inbox = _batches(_burst_items(setup, plan, count, 1, customers + 10), size)
    without = _batches(_burst_items(setup, plan, count, 2, customers + 10 + count), size)
    took = {"with_inbox": 0.0, "without_inbox": 0.0}
    expected: dict[str, int] = {"continued_expected": 0, "continued_elsewhere": 0}
    ws = setup.workspace_id
    try:
        for n in range(max(len(with_inbox), len(without))):
            for mode, batches in (("without_inbox", without), ("with_inbox", with_inbox)):
                if n >= len(batches):
                    continue
                kind, group = batches[n]
                ingest.POST_INGEST_STEPS[position] = timed if mode == "with_inbox" else _skip
                started = time.perf_counter()
                with factory() as session:
                    result = ingest.store(
                        session,
                        workspace_id=ws,
                        channel_id=setup.channels[kind],
                        items=[g[0] for g in group],
                    )
                    session.commit()
                took[mode] += time.perf_counter() - started
                if mode == "with_inbox":
                    _check_threading(factory, ws, result.inserted, group, expected)
    finally:
        ingest.POST_INGEST_STEPS[position] = step
    tracemalloc.start()
    spare = _batches(_burst_items(setup, plan, size, 3, customers + 10 + 3 * count), size)[0]
    with factory() as session:
        ingest.store(
            session,
            workspace_id=ws,
            channel_id=setup.channels[spare[0]],
            items=[g[0] for g in spare[1]],
        )
        session.commit()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with factory() as session:
        started = time.perf_counter()
        recorded = sla.check_breaches(session, limit=10_000)
        session.commit()
        scan = time.perf_counter() - started
    engine.dispose()
    return {
        "messages_per_mode": count,
        "batch_size": size,
        "with_inbox_messages_per_second": round(count / took["with_inbox"], 1),
        "without_inbox_messages_per_second": round(count / took["without_inbox"], 1),
        "with_vs_without_time_ratio": round(took["with_inbox"] / took["without_inbox"], 2),
        "threading_routing_sla_seconds": round(spent["threading"], 2),
        "threading_routing_sla_messages_per_second": round(count / spent["threading"], 1),
        **expected,
        "tracemalloc_peak_mb_one_batch": round(peak / 1024 / 1024, 1),
        "breach_scan": {"recorded": recorded, "seconds": round(scan, 2)},
    }


def _skip(
    session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """The inbox step switched off: the baseline stores, analyses and links only."""


def _check_threading(
    factory: Any,
    ws: uuid.UUID,
    inserted: list[uuid.UUID],
    group: list[tuple[RawMessage, int | None]],
    expected: dict[str, int],
) -> None:
    """Did a customer writing again land in the generated conversation? (the set is valid)."""
    wanted = {item.external_id: number for item, number in group if number is not None}
    if not wanted:
        return
    with factory() as session:
        rows = session.execute(
            select(Conversation.number, Message.external_id)
            .join(
                ConversationMessage,
                (ConversationMessage.workspace_id == Conversation.workspace_id)
                & (ConversationMessage.conversation_id == Conversation.id),
            )
            .join(
                Message,
                (Message.workspace_id == ConversationMessage.workspace_id)
                & (Message.id == ConversationMessage.id),
            )
            .where(Conversation.workspace_id == ws, Message.external_id.in_(list(wanted)))
        ).all()
    for number, external_id in rows:
        key = "continued_expected" if wanted.get(external_id) == number else "continued_elsewhere"
        expected[key] += 1


# --- main ---------------------------------------------------------------------------------------


def _database(args: argparse.Namespace, data_dir: Path) -> tuple[str, Engine | None]:
    """A fresh PostgreSQL database when one answers (unless ``--sqlite``), else SQLite."""
    if not args.sqlite:
        try:
            admin = create_engine(
                make_url(args.postgres).set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
            name = f"h2h_bench_inbox_{os.getpid()}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            return make_url(args.postgres).set(database=name).render_as_string(
                hide_password=False
            ), admin
        except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: SQLite it is
            print(f"PostgreSQL not reachable ({type(exc).__name__}); using SQLite", file=sys.stderr)
            args.sqlite = True
    return f"sqlite:///{data_dir / 'h2h.sqlite3'}", None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if PostgreSQL answers")
    parser.add_argument(
        "--postgres", default=POSTGRES, help="PostgreSQL server URL (or H2H_BENCH_POSTGRES_URL)"
    )
    parser.add_argument(
        "--messages", type=int, default=None, help="1 M on PostgreSQL, 100 k on SQLite"
    )
    parser.add_argument("--conversations", type=int, default=None, help="default: messages × 0.3")
    parser.add_argument("--burst", type=int, default=10_000, help="new messages, per mode")
    parser.add_argument("--batch", type=int, default=100, help="messages per ingest call")
    parser.add_argument("--requests", type=int, default=1000, help="per case, saturated")
    parser.add_argument("--paced-requests", type=int, default=400, help="per case, paced")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between a paced client's requests"
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20, help="in-process baseline runs per case")
    parser.add_argument("--chunk", type=int, default=5000, help="conversations per write")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="h2h-bench-inbox-") as tmp:
        data_dir = Path(tmp)
        url, admin = _database(args, data_dir)
        messages = args.messages or (100_000 if args.sqlite else 1_000_000)
        conversations = args.conversations or int(messages * 0.3)
        try:
            upgrade(url)
            setup = inbox_data.setup(url)
            generator = Generator(
                setup, datetime.now(UTC).replace(microsecond=0), conversations, messages
            )
            generation = inbox_data.fill(url, generator, args.chunk)
            plan = generator.plan
            cases = _cases(setup, plan)
            rng = random.Random(9)  # noqa: S311
            numbers = rng.sample(plan.open_numbers, min(40, len(plan.open_numbers)))
            numbers += rng.sample(range(1, conversations + 1), 20)
            http = _http(url, data_dir, setup, cases, numbers, args)
            direct = _direct(url, setup, cases, numbers, args.rounds)
            burst = _burst(url, setup, plan, args.burst, args.batch, int(conversations * 0.7))
        finally:
            if admin is not None:
                if not args.keep:
                    with admin.connect() as conn:
                        conn.execute(
                            text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
                        )
                admin.dispose()
    print(
        json.dumps(
            _report(args, url, generator, generation, cases, http, direct, burst),
            indent=2,
            ensure_ascii=False,
        )
    )


def _report(
    args: argparse.Namespace,
    url: str,
    generator: Generator,
    generation: float,
    cases: list[Case],
    http: dict[str, Any],
    direct: dict[str, Any],
    burst: dict[str, Any],
) -> dict[str, Any]:
    plan = generator.plan
    for mode in ("saturated", "paced"):
        for name, result in http[mode].items():
            key = name.removeprefix("list: ")
            if key in direct and "raw_sql" in direct[key]:
                result["p50_vs_raw_sql"] = round(
                    result["p50_ms"] / max(direct[key]["raw_sql"]["p50_ms"], 0.01), 1
                )
                result["p50_vs_service"] = round(
                    result["p50_ms"] / max(direct[key]["service"]["p50_ms"], 0.01), 1
                )
            elif key in direct:
                result["p50_vs_service"] = round(
                    result["p50_ms"] / max(direct[key]["service"]["p50_ms"], 0.01), 1
                )
    lists = [v for k, v in http["paced"].items() if k.startswith("list: ")]
    rows = sum(plan.rows.values())
    return {
        "benchmark": "inbox",
        "h2h": __version__,
        "python": platform.python_version(),
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "messages": generator.target,
        "conversations": generator.count,
        "states": plan.states,
        "rows": plan.rows,
        "generation_seconds": round(generation, 1),
        "generation_rows_per_second": round(rows / generation),
        "api": "/api/v1/workspaces/{ws}/inbox/conversations[/{number}] (bearer token)",
        "clients": args.clients,
        "cases": {c.name: c.params for c in cases},
        "http_saturated": http["saturated"],
        "http_paced": http["paced"],
        "paced_interval_seconds": args.interval,
        "in_process_baselines": {k: v for k, v in direct.items() if k != "plans"},
        "query_plans": direct["plans"],
        "burst": burst,
        "target_p95_ms_list": 50,
        "target_met_paced": all(v["p95_ms"] <= 50 for v in lists),
        "worst_paced_list_p95_ms": max(v["p95_ms"] for v in lists),
        "target_note": "worst cases are measured in process only and not counted in the target",
        "peak_rss_mb_bench_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "peak_rss_mb_server": http["server_peak_rss_mb"],
        "note": "server (uvicorn, 1 process), 20 client threads and the database share 2 cores",
    }


if __name__ == "__main__":
    main()
