"""A live H2H server on a loopback port, for driving the real UI with the system Chromium.

Shared by the browser tests and ``scripts/screenshot.py``. It never downloads a browser:
Playwright is pointed at the Debian ``chromium`` binary.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from h2h.config import Environment, Settings
from h2h.db import engine_from_settings, make_sessionmaker
from h2h.demo import DEMO_PASSWORD, load_demo
from h2h.migrate import upgrade
from h2h.web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

SECRET = "live-server-secret-key-that-is-long-enough-0123456789"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MISSING_CHROMIUM = "Debian chromium not installed; apt-get install chromium"


def chromium_path() -> str | None:
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_DEMO: list[Path] = []  # the demo database of this run, loaded once and copied for each user


def demo_database(data_dir: Path) -> str:
    """A fresh copy of the demo database in ``data_dir``; its URL.

    Loading the demo takes most of a minute, so a run loads it once, into a folder of its
    own, and every module that wants it gets a copy: each can change its copy freely.
    """
    if not _DEMO:
        folder = Path(tempfile.mkdtemp(prefix="h2h-demo-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        url = f"sqlite:///{folder / 'h2h.sqlite3'}"
        upgrade(url)
        loading = Settings(
            env=Environment.TEST, secret_key=SECRET, database_url=url, data_dir=folder
        )
        engine = engine_from_settings(loading)
        with make_sessionmaker(engine)() as session:
            load_demo(session)
            session.commit()
        engine.dispose()  # closes the WAL into the main file, so one file is the whole copy
        _DEMO.append(folder / "h2h.sqlite3")
    shutil.copy(_DEMO[0], data_dir / "h2h.sqlite3")
    return f"sqlite:///{data_dir / 'h2h.sqlite3'}"


def demo_settings(data_dir: Path, language: str = "en") -> Settings:
    """Settings for a SQLite database in ``data_dir`` holding the demo."""
    return Settings(
        env=Environment.TEST,
        secret_key=SECRET,
        database_url=demo_database(data_dir),
        data_dir=data_dir,
        default_language=language,
    )


def _wait_healthy(base_url: str, server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped before it answered /healthz")
        if server.started:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:  # noqa: S310 - our own loopback URL
                    if response.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"the live server at {base_url} did not answer /healthz within 15 s")


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """Serve the real app in a background thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    # The server runs its own event loop in its thread: sync Playwright must not share one.
    thread = threading.Thread(target=server.run, name="h2h-live-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, server, thread)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def log_in(
    page: Page, base_url: str, email: str = "anna@zerno.example", password: str = DEMO_PASSWORD
) -> None:
    """Log in through the form and wait for the workspace dashboard."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=dashboard-title]")
