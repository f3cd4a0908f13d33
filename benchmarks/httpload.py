"""What the HTTP benchmarks share: latency summaries and the app served on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
from tests.livesrv import free_port

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / elapsed, 1) if elapsed else None,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


def serve(url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The app in a process of its own on a free port; (process, base URL) once healthy.

    No periodic jobs (``immediate_jobs``): background passes are not what is measured.
    """
    port = free_port()
    code = (
        "import uvicorn; from h2h.config import Settings; from h2h.web import create_app; "
        f"s = Settings(env='test', secret_key='b' * 48, database_url={url!r}, "
        f"data_dir={str(data_dir)!r}); app = create_app(s, immediate_jobs=True); "
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)  # noqa: S603 - our own interpreter
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")
