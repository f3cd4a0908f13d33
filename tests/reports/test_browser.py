"""The dashboard and the printable report in the system Chromium, on the demo workspace:
charts drawn without console errors (the CSP allows no eval and no inline styles), and a
click on a bar lands on the list of exactly the messages it counted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from h2h.config import Settings
from tests.browserkit import shoot
from tests.livesrv import demo_settings, live_server, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CHARTS = ("volume", "voices", "response", "aspects", "scores", "places")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return demo_settings(tmp_path_factory.mktemp("reports-ui"), language="ru")


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


def test_the_dashboard_draws_every_chart_and_a_bar_opens_its_list(
    page: Page, base_url: str, console_errors: list[str]
) -> None:
    errors = console_errors
    log_in(page, base_url)
    page.click("[data-testid=nav-reports]")
    for key in CHARTS:
        page.wait_for_selector(f'[data-chart="{key}"][data-ready="1"] svg')
    assert page.locator("[data-testid=figure-messages] strong").inner_text().strip() != "0"
    shoot(page, "reports-dashboard.png")
    assert errors == []

    # The first row of the volume table is the first bar: a day and a sentiment.
    first = page.locator("[data-testid=table-volume] tbody tr").first
    expected = int(first.locator("td").nth(2).text_content() or "")
    page.locator('[data-chart="volume"] .mark-rect path').first.click()
    page.wait_for_url(re.compile(r"/mentions\?"))
    assert "direction=in" in page.url and "sentiment=" in page.url
    total = page.locator("[data-testid=stream-total]").inner_text()
    assert int(re.sub(r"\D", "", total)) == expected
    assert errors == []


def test_the_printable_report_shows_the_numbers_as_tables(
    page: Page, base_url: str, console_errors: list[str]
) -> None:
    errors = console_errors
    log_in(page, base_url)
    page.goto(f"{base_url}/w/zerno/reports/print?days=30")
    for key in ("volume", "response", "aspects"):
        assert page.locator(f"[data-testid=table-{key}] tbody tr").count() > 0
    assert page.locator("[data-chart]").count() == 0  # no scripts in the printed document
    page.emulate_media(media="print")
    shoot(page, "reports-print.png")
    assert errors == []
