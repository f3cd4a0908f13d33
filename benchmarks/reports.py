"""The dashboard over a million messages: rollups against counting raw rows, and their jobs.

Fills one workspace in a fresh PostgreSQL database (schema from the migrations) with N
messages (default 1 M) spread over 400 days and 5 channels, written by set-based SQL
(``INSERT … SELECT … FROM generate_series``) straight into the tables, as ingest, the NLP
pipeline, subject matching, the inbox and problem clustering would have left them: an
analysis (sentiment) for ~95 %, ~30 % matching one of 4 subjects, ~20 % with an aspect,
~1 % marked duplicates, conversations and complaints of a few dozen problems. Then:

- ``rollups.rebuild`` once (the nightly job) and ``ANALYZE``;
- ``dashboard.build`` for the last 30 days, ``--rounds`` times: p50/p95, total and per panel;
- baseline in the same run: the volume panel's numbers counted from raw rows (the
  GROUP BY over messages joined to analyses for the 30 days and the spike history that
  the rollups replace), and the whole dashboard with the rollups hidden (read raw);
- ``rollups.refresh`` with nothing new, and after 1,000 new messages (the 10-minute job);
- peak memory: tracemalloc around the builds, and the process's peak RSS.

Prints one JSON document; nothing is asserted.

    .venv/bin/python benchmarks/reports.py [--messages 1000000] [--quick]
    H2H_BENCH_POSTGRES_URL=postgresql+psycopg://… .venv/bin/python benchmarks/reports.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from h2h import __version__
from h2h.db import make_engine, make_sessionmaker, utcnow
from h2h.migrate import upgrade
from h2h.reports import dashboard, rollups
from h2h.reports.models import ReportState

POSTGRES = os.environ.get(
    "H2H_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ZONE = "Europe/Moscow"
DAYS = 400
SPAN_DAYS = 30
CHANNELS: tuple[tuple[str, str], ...] = (("webhook", "Site form"), ("email", "Mail"))
CHANNELS += (("telegram", "Bot"), ("vk", "VK"), ("offline", "Shop floor"))
SUBJECTS: tuple[tuple[str, str], ...] = (("brand", "Brand"), ("person", "Founder"))
SUBJECTS += (("competitor", "Rival A"), ("competitor", "Rival B"))
ASPECTS = ("delivery", "price", "quality", "staff", "support", "payment", "refund", "timing")
PROBLEMS = 40


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": at(0.95)}


# --- data ---------------------------------------------------------------------------------------

# Each statement is one set-based INSERT; :ws is the workspace, :n the messages. Row g of
# messages is written at now - g/n × 400 days (plus jitter) so every day has messages;
# the hash h of g decides the rest, so the same n always gives the same data.
FILL = {
    "messages": """
        INSERT INTO messages (id, workspace_id, channel_id, external_id, thread_id, direction,
            author_handle, text, search_text, language, url, created_at, received_at, raw,
            duplicate_of_id)
        SELECT gen_random_uuid(), :ws, c.id, 'm' || g, 't' || (g % :conversations),
            'in', 'user' || (h % 50000), 'text of message ' || g, '', 'ru',
            CASE WHEN c.kind IN ('vk', 'telegram') THEN 'https://example.org/p/' || g END,
            t, t, '{}', CASE WHEN h % 100 = 0 THEN gen_random_uuid() END
        FROM (
            SELECT g, abs(hashint8(g)) AS h,
                now() - (g::float8 / :n) * interval '400 days'
                      - (abs(hashint8(-g)) % 3600) * interval '1 second' AS t
            FROM generate_series(1, :n) AS g
        ) s
        JOIN (SELECT id, kind, row_number() OVER (ORDER BY name) - 1 AS i FROM channels
              WHERE workspace_id = :ws) c ON c.i = s.h % 5
    """,
    "analyses": """
        INSERT INTO analyses (id, workspace_id, message_id, model_version, language, sentiment,
            sentiment_score, intents, urgency, profanity, insult, details, corrected,
            analyzed_at)
        SELECT gen_random_uuid(), m.workspace_id, m.id, 'bench', 'ru',
            (ARRAY['negative', 'neutral', 'positive', 'neutral'])[1 + h % 4],
            0.5, CASE WHEN h % 4 = 0 THEN 1 ELSE 0 END, 0.0, false, false, '{}', '[]',
            m.created_at
        FROM (SELECT *, abs(hashint8(substr(external_id, 2)::bigint)) AS h FROM messages
              WHERE workspace_id = :ws) m
        WHERE m.h % 20 <> 0
    """,
    "mentions": """
        INSERT INTO mentions (id, workspace_id, message_id, subject_id, created_at)
        SELECT gen_random_uuid(), m.workspace_id, m.id, s.id, m.created_at
        FROM (SELECT *, abs(hashint8(substr(external_id, 2)::bigint + 7)) AS h FROM messages
              WHERE workspace_id = :ws) m
        JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS i FROM subjects
              WHERE workspace_id = :ws) s ON s.i = m.h % 4
        WHERE m.h % 10 < 3
    """,
    "analysis_aspects": """
        INSERT INTO analysis_aspects (id, workspace_id, message_id, aspect, sentiment)
        SELECT gen_random_uuid(), a.workspace_id, a.message_id,
            (ARRAY['delivery', 'price', 'quality', 'staff', 'support', 'payment', 'refund',
                   'timing'])[1 + h % 8],
            CASE WHEN h % 3 = 0 THEN a.sentiment ELSE 'negative' END
        FROM (SELECT *, abs(hashint8(hashtext(message_id::text))) AS h FROM analyses
              WHERE workspace_id = :ws) a
        WHERE a.h % 100 < 21
    """,
    "conversations": """
        INSERT INTO conversations (id, workspace_id, number, channel_id, preview, state,
            priority, priority_manual, priority_reasons, threat, intents, urgency,
            message_count, opened_at, last_message_at, first_response_at, closed_at,
            close_reason, breached, created_at, updated_at)
        SELECT gen_random_uuid(), :ws, g, c.id, 'preview ' || g,
            (ARRAY['open', 'pending', 'resolved', 'resolved', 'not_answering'])[1 + h % 5],
            'normal', false, '[]', false, 0, 0.0, 3, t, t + interval '2 hours',
            CASE WHEN h % 5 IN (1, 2, 3) THEN t + (h % 600) * interval '1 minute' END,
            CASE WHEN h % 5 >= 2 THEN t + (h % 3000) * interval '1 minute' END,
            CASE WHEN h % 5 = 4 THEN (ARRAY['spam', 'no_reply_needed'])[1 + h % 2] END,
            false, t, t
        FROM (
            SELECT g, abs(hashint8(g + 11)) AS h,
                now() - (g::float8 / :conversations) * interval '400 days' AS t
            FROM generate_series(1, :conversations) AS g
        ) s
        JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS i FROM channels
              WHERE workspace_id = :ws) c ON c.i = s.h % 5
    """,
    "problems": """
        INSERT INTO problems (id, workspace_id, number, state, key_phrases, quote_ids, space,
            manual, complaint_count, people_count, aspects, channels, subjects, evidence,
            created_at, updated_at)
        SELECT gen_random_uuid(), :ws, g,
            (ARRAY['candidate', 'confirmed', 'fixing', 'fixed', 'declined'])[1 + g % 5],
            jsonb_build_array('phrase ' || g)::json, '[]', 'bench', false, 0, g, '{}', '{}',
            '{}', '{}', now() - interval '400 days', now()
        FROM generate_series(1, :problems) AS g
    """,
    "problem_complaints": """
        INSERT INTO problem_complaints (id, workspace_id, problem_id, message_id, channel_id,
            similarity, pinned, complained_at, created_at)
        SELECT gen_random_uuid(), m.workspace_id, p.id, m.id, m.channel_id, 0.8, false,
            m.created_at, m.created_at
        FROM (SELECT m.*, abs(hashint8(substr(m.external_id, 2)::bigint + 3)) AS h
              FROM messages m JOIN analyses a ON a.workspace_id = m.workspace_id
                  AND a.message_id = m.id AND a.sentiment = 'negative'
              WHERE m.workspace_id = :ws) m
        JOIN problems p ON p.workspace_id = :ws AND p.number = 1 + m.h % :problems
        WHERE m.h % 5 = 0
    """,
}


def _setup(session: Session) -> uuid.UUID:
    workspace_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO workspaces (id, slug, name, language, timezone, created_at)"
            " VALUES (:ws, 'bench-reports', 'Bench', 'ru', :zone, now())"
        ),
        {"ws": workspace_id, "zone": ZONE},
    )
    for kind, name in CHANNELS:
        session.execute(
            text(
                "INSERT INTO channels (id, workspace_id, kind, name, config, secrets, status,"
                " poll_interval_seconds, failures, created_at) VALUES (gen_random_uuid(), :ws,"
                " :kind, :name, '{}', '{}', 'active', 300, 0, now())"
            ),
            {"ws": workspace_id, "kind": kind, "name": name},
        )
    for kind, name in SUBJECTS:
        session.execute(
            text(
                "INSERT INTO subjects (id, workspace_id, kind, name, query, is_active, created_at)"
                " VALUES (gen_random_uuid(), :ws, :kind, :name, :query, true, now())"
            ),
            {"ws": workspace_id, "kind": kind, "name": name, "query": name},
        )
    return workspace_id


def fill(factory: sessionmaker[Session], messages: int, conversations: int) -> dict[str, Any]:
    """Write the workspace; seconds and rows per table."""
    params: dict[str, Any] = {"n": messages, "conversations": conversations, "problems": PROBLEMS}
    out: dict[str, Any] = {}
    with factory() as session:
        params["ws"] = _setup(session)
        for table, statement in FILL.items():
            started = time.perf_counter()
            rows = cast(CursorResult[Any], session.execute(text(statement), params)).rowcount
            out[table] = {"rows": rows, "seconds": round(time.perf_counter() - started, 2)}
        session.commit()
    return out | {"workspace_id": params["ws"]}


def _analyze(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return round(time.perf_counter() - started, 2)


def add_new(factory: sessionmaker[Session], workspace_id: uuid.UUID, count: int) -> None:
    """``count`` messages received now, written over the last two days, analysed and ~30 %
    matched: what arrives between two refreshes on a busy day."""
    with factory() as session:
        session.execute(
            text("""
                INSERT INTO messages (id, workspace_id, channel_id, external_id, direction,
                    author_handle, text, search_text, created_at, received_at, raw)
                SELECT gen_random_uuid(), :ws, c.id, 'new' || g, 'in', 'new' || g, 'new',
                    '', now() - (g::float8 / :count) * interval '2 days', now(), '{}'
                FROM generate_series(1, :count) AS g
                JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS i FROM channels
                      WHERE workspace_id = :ws) c ON c.i = g % 5
            """),
            {"ws": workspace_id, "count": count},
        )
        session.execute(
            text("""
                INSERT INTO analyses (id, workspace_id, message_id, model_version, sentiment,
                    sentiment_score, intents, urgency, profanity, insult, details, corrected,
                    analyzed_at)
                SELECT gen_random_uuid(), workspace_id, id, 'bench', 'negative', 0.5, 0, 0.0,
                    false, false, '{}', '[]', now()
                FROM messages WHERE workspace_id = :ws AND external_id LIKE 'new%'
            """),
            {"ws": workspace_id},
        )
        session.execute(
            text("""
                INSERT INTO mentions (id, workspace_id, message_id, subject_id, created_at)
                SELECT gen_random_uuid(), m.workspace_id, m.id, s.id, now()
                FROM messages m
                JOIN (SELECT id FROM subjects WHERE workspace_id = :ws ORDER BY name LIMIT 1) s
                    ON true
                WHERE m.workspace_id = :ws AND m.external_id LIKE 'new%'
                    AND abs(hashtext(m.external_id)) % 10 < 3
            """),
            {"ws": workspace_id},
        )
        session.commit()


# --- measuring ----------------------------------------------------------------------------------


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def with_rollups(
    factory: sessionmaker[Session], workspace_id: uuid.UUID, span: dashboard.Period, rounds: int
) -> dict[str, Any]:
    """``dashboard.build`` as the page calls it, each round in its own session."""
    totals: list[float] = []
    panels: dict[str, list[float]] = {}
    board = None
    for _ in range(rounds):
        with factory() as session:
            seconds, board = _timed(
                partial(dashboard.build, session, workspace_id=workspace_id, span=span)
            )
        totals.append(seconds)
        for name, value in board.timings.items():
            panels.setdefault(name, []).append(value)
    tracemalloc.start()  # one more round, traced: tracing slows Python down several times
    with factory() as session:
        dashboard.build(session, workspace_id=workspace_id, span=span)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert board is not None
    return {
        "rounds": rounds,
        "total": _ms(totals),
        "panels": {name: _ms(values) for name, values in panels.items()},
        "peak_traced_mb": round(peak / 2**20, 1),
        "messages_in_period": board.volume.total,
        "messages_previous_period": board.volume.previous_total,
        "spikes": len(board.volume.spikes),
        "voices": {v.subject.name: v.messages for v in board.voices},
        "problems_listed": len(board.problems),
        "aspects_listed": len(board.aspects),
        "conversations_in_period": board.response.now.conversations,
    }


def raw_volume(
    factory: sessionmaker[Session], workspace_id: uuid.UUID, span: dashboard.Period, rounds: int
) -> dict[str, Any]:
    """Baseline: the volume panel's rows counted from messages ⟕ analyses, for the period
    and the spike history before it (``Table.raw``: what ``counts`` falls back to)."""
    history = span.first - timedelta(days=max(dashboard.SPIKE_HISTORY, len(span.days)))
    lo = rollups.hour_of(dashboard._start(history, span.zone))
    hi = rollups.hour_of(span.until) + 1
    seconds: list[float] = []
    rows: list[Any] = []
    for _ in range(rounds):
        with factory() as session:
            query = rollups.MESSAGES.raw(session, workspace_id, lo, hi)
            taken, rows = _timed(lambda: list(session.execute(query)))  # noqa: B023
        seconds.append(taken)
    read: list[float] = []  # the same hours read from the rollups (``counts``), no panel code
    for _ in range(rounds):
        with factory() as session:
            taken, rolled = _timed(
                partial(
                    rollups.counts,
                    session,
                    rollups.MESSAGES,
                    workspace_id=workspace_id,
                    since=rollups.start_of(lo),
                    until=rollups.start_of(hi),
                )
            )
        read.append(taken)
    return {
        "rounds": rounds,
        "days": (span.last - history).days + 1,
        "groups": len(rows),
        "messages": sum(r[-1] for r in rows),
        **_ms(seconds),
        "rollup_read": {"rows": len(rolled), "messages": sum(r[-1] for r in rolled)} | _ms(read),
    }


def without_rollups(
    factory: sessionmaker[Session], workspace_id: uuid.UUID, span: dashboard.Period, rounds: int
) -> dict[str, Any]:
    """Baseline: the whole dashboard with the rollup state hidden in a rolled-back
    transaction, so every rollup read counts raw rows (a workspace never rolled up)."""
    totals: list[float] = []
    panels: dict[str, list[float]] = {}
    total = 0
    for _ in range(rounds):
        with factory() as session:
            session.delete(session.get_one(ReportState, workspace_id))
            session.flush()
            seconds, board = _timed(
                partial(dashboard.build, session, workspace_id=workspace_id, span=span)
            )
            session.rollback()
        totals.append(seconds)
        total = board.volume.total
        for name, value in board.timings.items():
            panels.setdefault(name, []).append(value)
    return {
        "rounds": rounds,
        "total": _ms(totals),
        "panels": {name: _ms(values) for name, values in panels.items() if name != "advocacy"},
        "messages_in_period": total,
    }


def refreshes(factory: sessionmaker[Session], workspace_id: uuid.UUID, new: int) -> dict[str, Any]:
    """The 10-minute job: once with nothing new, once after ``new`` messages arrived."""
    out: dict[str, Any] = {}
    with factory() as session:
        seconds, hours = _timed(lambda: rollups.refresh(session, workspace_id=workspace_id))
        session.commit()
    out["nothing_new"] = {"seconds": round(seconds, 3), "hours_recounted": hours}
    add_new(factory, workspace_id, new)
    with factory() as session:
        seconds, hours = _timed(lambda: rollups.refresh(session, workspace_id=workspace_id))
        session.commit()
    out["after_new"] = {"new_messages": new, "seconds": round(seconds, 3), "hours_recounted": hours}
    return out


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=POSTGRES, help="server URL (H2H_BENCH_POSTGRES_URL)")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 messages: a smoke run")
    parser.add_argument("--conversations", type=int, default=None, help="default: messages / 10")
    parser.add_argument("--rounds", type=int, default=20, help="dashboard builds per mode")
    parser.add_argument("--raw-rounds", type=int, default=5, help="raw dashboard builds")
    parser.add_argument("--new", type=int, default=1000, help="messages before the refresh")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    messages = 50_000 if args.quick else args.messages
    conversations = args.conversations or messages // 10
    admin = create_engine(
        make_url(args.postgres).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    name = f"h2h_bench_reports_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    report: dict[str, Any] = {}
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        started = time.perf_counter()
        filled = fill(factory, messages, conversations)
        workspace_id = filled.pop("workspace_id")
        filled["seconds"] = round(time.perf_counter() - started, 2)
        filled["analyze_seconds"] = _analyze(engine)
        with factory() as session:
            seconds, hours = _timed(lambda: rollups.rebuild(session, workspace_id=workspace_id))
            session.commit()
        rebuild = {"seconds": round(seconds, 2), "hours_with_messages": hours}
        with factory() as session:
            rebuild["rollup_rows"] = {
                t.model.__tablename__: session.scalar(
                    text(f"SELECT count(*) FROM {t.model.__tablename__}")  # noqa: S608
                )
                for t in rollups.TABLES
            }
        _analyze(engine)
        span = dashboard.last_days(ZoneInfo(ZONE), SPAN_DAYS)
        built = with_rollups(factory, workspace_id, span, args.rounds)
        volume = raw_volume(factory, workspace_id, span, args.rounds)
        raw = without_rollups(factory, workspace_id, span, args.raw_rounds)
        refreshed = refreshes(factory, workspace_id, args.new)
        engine.dispose()
        report = {
            "benchmark": "reports",
            "h2h": __version__,
            "python": platform.python_version(),
            "machine": {"cpus": os.cpu_count(), "system": platform.system()},
            "database": "postgresql",
            "when": utcnow().isoformat(timespec="seconds"),
            "messages": messages,
            "conversations": conversations,
            "days": DAYS,
            "period_days": SPAN_DAYS,
            "fill": filled,
            "rebuild": rebuild,
            "dashboard_with_rollups": built,
            "baseline_volume_raw": volume,
            "volume_raw_over_rollup_read_p50": round(
                volume["p50_ms"] / volume["rollup_read"]["p50_ms"], 1
            ),
            "volume_raw_over_rollup_panel_p50": round(
                volume["p50_ms"] / built["panels"]["volume"]["p50_ms"], 1
            ),
            "dashboard_without_rollups": raw,
            "dashboard_raw_over_rollups_p50": round(
                raw["total"]["p50_ms"] / built["total"]["p50_ms"], 1
            ),
            "refresh": refreshed,
            "peak_rss_mb": _peak_rss_mb(),
        }
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
