"""Web and API latency against a real server on loopback, with /healthz as the baseline.

Runs the app under uvicorn on a fresh SQLite database holding the demo workspaces, sends
requests from client threads over keep-alive connections, and prints one JSON document:
per endpoint, throughput and latency percentiles, and the ratio of its median to the
baseline's median measured in the same run. Nothing here is asserted anywhere.

    .venv/bin/python benchmarks/bench_web.py [--requests 400] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.livesrv: the live-server helper the browser tests use

from tests.livesrv import demo_settings, live_server  # noqa: E402

from h2h import __version__  # noqa: E402
from h2h.accounts import service as accounts  # noqa: E402
from h2h.db import engine_from_settings, make_sessionmaker  # noqa: E402
from h2h.demo import DEMO_PASSWORD  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure(
    base: str,
    path: str,
    headers: dict[str, str],
    cookies: dict[str, str],
    requests: int,
    threads: int,
) -> dict[str, Any]:
    def worker(count: int) -> list[float]:
        latencies = []
        with httpx.Client(base_url=base, headers=headers, cookies=cookies) as client:
            for _ in range(5):
                client.get(path).raise_for_status()  # warm-up
            for _ in range(count):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    per_thread = max(1, requests // threads)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = [x for chunk in pool.map(worker, [per_thread] * threads) for x in chunk]
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
    }


def _login_latency(base: str, attempts: int) -> dict[str, Any]:
    latencies = []
    for _ in range(attempts):
        with httpx.Client(base_url=base) as client:
            page = client.get("/login").text
            token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            started = time.perf_counter()
            response = client.post(
                "/login",
                data={
                    "email": "anna@zerno.example",
                    "password": DEMO_PASSWORD,
                    "csrf_token": token,
                },
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 303, response.status_code
    return {
        "requests": attempts,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="h2h-bench-") as data_dir:
        settings = demo_settings(Path(data_dir))
        engine = engine_from_settings(settings)
        with make_sessionmaker(engine)() as session:
            anna = accounts.get_user_by_email(session, email="anna@zerno.example")
            assert anna is not None
            raw_token, _ = accounts.create_api_token(session, user=anna, name="bench")
            session.commit()
        engine.dispose()
        with live_server(settings) as base:
            login = _login_latency(base, 10)
            with httpx.Client(base_url=base) as client:
                token = client.get("/login").text.split('name="csrf_token" value="', 1)[1][:64]
                client.post(
                    "/login",
                    data={
                        "email": "anna@zerno.example",
                        "password": DEMO_PASSWORD,
                        "csrf_token": token,
                    },
                )
                cookies = dict(client.cookies)
            bearer = {"Authorization": f"Bearer {raw_token}"}
            cases = {
                "baseline GET /healthz": ("/healthz", {}, {}),
                "API GET /workspaces/zerno/members (token)": (
                    "/api/v1/workspaces/zerno/members",
                    bearer,
                    {},
                ),
                "API GET /workspaces/zerno/audit (token)": (
                    "/api/v1/workspaces/zerno/audit",
                    bearer,
                    {},
                ),
                "UI GET /w/zerno/ dashboard (cookie)": ("/w/zerno/", {}, cookies),
                "UI GET /w/zerno/members (cookie)": ("/w/zerno/members", {}, cookies),
                "UI GET /w/zerno/mentions stream (cookie)": ("/w/zerno/mentions", {}, cookies),
                "API GET /workspaces/zerno/messages?q=раф (token)": (
                    "/api/v1/workspaces/zerno/messages?q=раф",
                    bearer,
                    {},
                ),
            }
            results = {
                name: _measure(base, path, headers, jar, args.requests, args.threads)
                for name, (path, headers, jar) in cases.items()
            }
    baseline = results["baseline GET /healthz"]["p50_ms"]
    for result in results.values():
        result["p50_vs_baseline"] = round(result["p50_ms"] / baseline, 2)
    print(
        json.dumps(
            {
                "benchmark": "web",
                "h2h": __version__,
                "python": platform.python_version(),
                "database": "sqlite",
                "client_threads": args.threads,
                "endpoints": results,
                "login_with_argon2": login,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "note": "server and client share one process and 2 cores; compare ratios",
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
