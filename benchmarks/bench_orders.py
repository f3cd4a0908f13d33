"""Importing the Online Retail orders: rows per second, a re-run that imports nothing, RFM.

Imports ``../shared/data/online_retail/by-day/*.csv`` (UCI Online Retail, 541,909 lines;
``--days N`` takes the first N days) into a fresh SQLite workspace (or PostgreSQL with
``--postgres``) through ``orders.import_files`` — the path the CLI and the imports page use:
parse, map, create identities and persons, products, orders and lines, then refresh the
customers' figures. Then the same files again (every line is already there: nothing may be
added), then RFM scoring of the customers.

The baseline is reading and parsing the same files with ``csv.DictReader`` alone, in the
same run: the import's cost is read as a multiple of the cost of merely reading its input.
Prints one JSON document; nothing is asserted.

    .venv/bin/python benchmarks/bench_orders.py [--days 305] [--postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from h2h import __version__, registry  # noqa: E402
from h2h.accounts import service as accounts  # noqa: E402
from h2h.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from h2h.migrate import upgrade  # noqa: E402
from h2h.people import orders, rfm  # noqa: E402
from h2h.people.models import Order, OrderLine, Person  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "online_retail" / "by-day"
POSTGRES = os.environ.get(
    "H2H_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _baseline(paths: list[Path]) -> tuple[int, float]:
    started = time.perf_counter()
    rows = 0
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for _ in csv.DictReader(handle):
                rows += 1
    return rows, time.perf_counter() - started


def _database(use_postgres: bool, tmp: Path) -> tuple[str, Any]:
    if not use_postgres:
        return f"sqlite:///{tmp / 'orders.db'}", None
    name = f"h2h_bench_orders_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _import(factory: Any, workspace_id: uuid.UUID, paths: list[Path]) -> float:
    started = time.perf_counter()
    orders.import_files(factory, workspace_id=workspace_id, paths=paths)
    return time.perf_counter() - started


def _counts(factory: Any, workspace_id: uuid.UUID) -> dict[str, int]:
    with transaction(factory) as session:
        return {
            name: int(
                session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(model.workspace_id == workspace_id)
                )
                or 0
            )
            for name, model in (("persons", Person), ("orders", Order), ("lines", OrderLine))
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=None, help="only the first N day files")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    paths = sorted(DATA.glob("*.csv"))[: args.days]
    if not paths:
        sys.exit(f"no Online Retail files under {DATA}")
    registry.load()
    rows, baseline_seconds = _baseline(paths)
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _database(args.postgres, Path(tmp))
        try:
            upgrade(url)
            engine = make_engine(url)
            factory = make_sessionmaker(engine)
            with transaction(factory) as session:
                owner = accounts.create_user(
                    session, email="bench@h2h.example", name="Bench", password="x" * 20
                )
                workspace = accounts.create_workspace(
                    session, name="Online Retail", slug="retail", owner=owner
                )
                workspace_id = workspace.id
            first = _import(factory, workspace_id, paths)
            after_first = _counts(factory, workspace_id)
            second = _import(factory, workspace_id, paths)
            after_second = _counts(factory, workspace_id)
            started = time.perf_counter()
            with transaction(factory) as session:
                report = rfm.compute(
                    session, workspace_id=workspace_id, as_of=datetime(2011, 12, 10, tzinfo=UTC)
                )
            rfm_seconds = time.perf_counter() - started
            engine.dispose()
        finally:
            if drop is not None:
                drop()
    result = {
        "benchmark": "orders",
        "h2h": __version__,
        "python": platform.python_version(),
        "database": "postgresql" if args.postgres else "sqlite",
        "files": len(paths),
        "rows": rows,
        "import_seconds": round(first, 1),
        "import_rows_per_second": round(rows / first),
        "imported": after_first,
        "rerun_seconds": round(second, 1),
        "rerun_rows_per_second": round(rows / second),
        "rerun_added_anything": after_second != after_first,
        "rfm_customers_scored": report.customers,
        "rfm_seconds": round(rfm_seconds, 2),
        "baseline_csv_read_seconds": round(baseline_seconds, 2),
        "baseline_csv_rows_per_second": round(rows / baseline_seconds),
        "import_vs_csv_read": round(first / baseline_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "note": "one process on 2 cores; the refresh of customers' figures is part of the import",
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
