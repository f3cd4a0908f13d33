"""The real UI in the system Chromium: log in, switch the language, visit the team, no errors.

Screenshots land in ``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browserkit import DESKTOP, MOBILE, shoot
from tests.livesrv import demo_settings, live_server, log_in

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = demo_settings(tmp_path_factory.mktemp("live"))
    with live_server(settings) as url:
        yield url


def switch_language(page: playwright.Page, code: str) -> None:
    page.click(f"[data-testid=lang-{code}]")
    page.wait_for_selector(f"html[lang={code}] [data-testid=dashboard-title]")


def activity_dates(page: playwright.Page) -> str:
    return " ".join(page.locator("td.nowrap").all_inner_texts())


def test_owner_logs_in_switches_language_and_sees_the_team(
    base_url: str, page: playwright.Page, console_errors: list[str]
) -> None:
    log_in(page, base_url)
    assert re.fullmatch(rf"{re.escape(base_url)}/w/[a-z0-9-]+/", page.url)
    page.goto(f"{base_url}/w/zerno/")
    assert page.title().endswith("Кофейня «Зерно» · H2H")

    switch_language(page, "en")
    assert page.inner_text("[data-testid=dashboard-title]") == "Overview"
    assert "current" in (page.get_attribute("[data-testid=lang-en]", "class") or "")
    assert re.search(r"\d{1,2}/\d{1,2}/\d{2}", activity_dates(page)), "US-style dates in English"
    shoot(page, "dashboard-en.png")

    switch_language(page, "ru")
    assert page.inner_text("[data-testid=dashboard-title]") == "Обзор"
    assert re.search(r"\d{2}\.\d{2}\.\d{4}", activity_dates(page)), "Russian-style dates"
    shoot(page, "dashboard-ru.png")

    page.click("[data-testid=nav-members]")
    page.wait_for_url(f"{base_url}/w/zerno/members")
    assert page.locator("text=Дмитрий Орлов").count() >= 1
    assert "active" in (page.get_attribute("[data-testid=nav-members]", "class") or "")
    shoot(page, "team-ru.png")

    page.set_viewport_size(MOBILE)
    page.goto(f"{base_url}/w/zerno/")
    page.wait_for_selector("[data-testid=dashboard-title]")
    assert page.is_visible("[data-testid=nav-members]")
    shoot(page, "dashboard-ru-mobile.png")

    page.click("[data-testid=logout]")
    page.wait_for_selector("[data-testid=login-submit]")
    assert console_errors == []


def test_pages_never_scroll_sideways(base_url: str, page: playwright.Page) -> None:
    log_in(page, base_url)
    too_wide = {}
    for viewport in (DESKTOP, MOBILE):
        page.set_viewport_size(viewport)
        for path in (
            "/w/zerno/",
            "/w/zerno/members",
            "/w/zerno/mentions",
            "/w/zerno/understanding",
        ):
            page.goto(f"{base_url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                too_wide[f"{path} at {viewport['width']} px"] = width
    assert too_wide == {}


def test_a_wrong_password_shows_the_error(base_url: str, page: playwright.Page) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", "anna@zerno.example")
    page.fill("input[name=password]", "not the password")
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=login-error]", timeout=2000)


def test_an_agent_finds_threats_sees_why_and_corrects_a_label(
    base_url: str, page: playwright.Page, console_errors: list[str]
) -> None:
    log_in(page, base_url, email="dmitry@zerno.example")
    page.goto(f"{base_url}/w/zerno/mentions")
    page.select_option("[data-testid=filter-intent]", "threat")
    page.wait_for_url(re.compile(r".*intent=threat.*"))
    mentions = page.locator("[data-testid=mention]")
    assert mentions.count() >= 1
    for i in range(mentions.count()):
        assert mentions.nth(i).locator(".intent-threat").count() == 1
    mentions.first.locator("[data-testid=why] summary").click()
    assert mentions.first.locator("[data-testid=why] dd").count() >= 1
    shoot(page, "mentions-threats.png")

    mentions.first.locator("[data-testid=mention-link]").click()
    page.wait_for_selector("[data-testid=analysis]")
    page.click("[data-testid=corrections] summary")
    page.select_option("[data-testid=correct-sentiment] select", "neutral")
    page.click("[data-testid=correct-sentiment] button")
    page.wait_for_selector("[data-testid=corrected-sentiment]")
    shoot(page, "message-analysis.png")

    page.goto(f"{base_url}/w/zerno/understanding")
    assert page.locator("[data-testid=custom-aspect]").count() >= 1
    shoot(page, "understanding.png")
    assert console_errors == []
