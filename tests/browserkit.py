"""Browser fixtures shared by every UI test: one warmed-up system Chromium per module.

Loaded as a plugin from ``tests/conftest.py``; a test module asks for ``page`` (a fresh
desktop-sized context) and, if it wants them, ``console_errors``. Screenshots land in
``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.livesrv import CHROMIUM_ARGS, MISSING_CHROMIUM, chromium_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
# A loaded CI machine is slow; a wrong page still fails, only later.
STEP_TIMEOUT_MS = 30_000
# The first page a freshly installed Chromium renders builds its font cache, which can take
# longer than any step of a test; it is paid here, once, and not inside the first test.
WARM_UP_TIMEOUT_MS = 120_000
WARM_UP_PAGE = "<html lang=ru><body><p>Здравствуйте · Hello · 0123456789</p></body></html>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.skip(MISSING_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, timeout=WARM_UP_TIMEOUT_MS
        )
        warm = launched.new_page()
        warm.set_content(WARM_UP_PAGE, timeout=WARM_UP_TIMEOUT_MS)
        warm.screenshot(timeout=WARM_UP_TIMEOUT_MS)
        warm.close()
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors (CSP violations among them) and uncaught exceptions on the page."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
