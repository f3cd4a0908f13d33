"""Regenerate docs/screenshot.png: the demo workspace "zerno" in Russian, 1280x800.

Runs the real app on a throwaway SQLite database with the demo data and photographs it with
the system Chromium (apt-get install chromium); it never downloads a browser.

    .venv/bin/python scripts/screenshot.py [output.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.livesrv, the live-server helpers the browser tests use

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.livesrv import (  # noqa: E402
    CHROMIUM_ARGS,
    MISSING_CHROMIUM,
    chromium_path,
    demo_settings,
    live_server,
    log_in,
)

VIEWPORT = {"width": 1280, "height": 800}


def main() -> int:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png"
    chromium = chromium_path()
    if chromium is None:
        print(MISSING_CHROMIUM, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="h2h-screenshot-") as data_dir:
        settings = demo_settings(Path(data_dir), language="ru")
        with live_server(settings) as base_url, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT, locale="ru-RU")
            log_in(page, base_url)  # Anna's interface language is Russian
            page.goto(f"{base_url}/w/zerno/")
            page.wait_for_selector("html[lang=ru] [data-testid=dashboard-title]")
            output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(output))
            browser.close()
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
