"""People in the system Chromium: search, open a profile, write a note, tag, page the timeline.

Screenshots land in ``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from h2h.accounts.models import Workspace
from h2h.db import engine_from_settings, make_sessionmaker
from tests.browserkit import MOBILE, shoot
from tests.livesrv import demo_settings, live_server, log_in
from tests.people import profile_data

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

NAME = "Аграфена Тестова"
PAGES = ("", "/fields", "/segments", "/imports", "/merges", "?rfm=champions")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = demo_settings(tmp_path_factory.mktemp("live-people"))
    engine = engine_from_settings(settings)
    with make_sessionmaker(engine)() as session:
        ws = session.scalars(select(Workspace).where(Workspace.slug == "zerno")).one()
        story = profile_data.story(session, ws.id, name=NAME)
        for i in range(40):  # more than a page of the timeline
            at = profile_data.T0 - timedelta(days=1, minutes=i)
            profile_data.note(session, ws.id, story.person.id, f"Old note {i}", at)
        session.commit()
    engine.dispose()
    with live_server(settings) as url:
        yield url


def test_an_agent_finds_a_person_writes_a_note_tags_and_pages_the_timeline(
    base_url: str, page: playwright.Page, console_errors: list[str]
) -> None:
    log_in(page, base_url, email="dmitry@zerno.example")
    page.click("[data-testid=nav-people]")
    page.wait_for_url(f"{base_url}/w/zerno/people")
    page.fill("[data-testid=people-search]", "Testova")
    # Enter submits at once; the typing trigger (500 ms after the last key) may come too late
    # on a loaded machine, and two searches for the same words give the same page.
    page.press("[data-testid=people-search]", "Enter")
    page.wait_for_url(re.compile(r".*q=Testova.*"))
    links = page.locator("[data-testid=person-link]")
    assert links.count() == 1 and links.first.inner_text() == NAME
    shoot(page, "people-list.png")

    links.first.click()
    page.wait_for_selector("[data-testid=profile-head]")
    assert page.inner_text("[data-testid=person-name]") == NAME
    assert page.locator("[data-testid=timeline-item][data-kind=reply]").count() == 1

    page.fill("[data-testid=note-form] textarea", "Звонила, ждёт новый сорт.")
    page.click("[data-testid=note-submit]")
    page.wait_for_selector(
        "[data-testid=timeline-item][data-kind=note] >> text=Звонила, ждёт новый сорт."
    )
    page.fill("[data-testid=tag-form] input[name=tag]", "Постоянная")
    page.click("[data-testid=tag-form] button")
    page.wait_for_selector("[data-testid=person-tag] >> text=постоянная")

    before = page.locator("[data-testid=timeline-item]").count()
    page.click("[data-testid=timeline-older]")
    page.locator("[data-testid=timeline-item]").nth(before).wait_for()
    # 45 items in all (the story, 40 old notes, the new note): two pages, nothing lost.
    assert page.locator("[data-testid=timeline-item]").count() == 45
    assert page.locator("[data-testid=timeline-older]").count() == 0
    assert "Old note 39" in page.inner_text("[data-testid=timeline]")
    shoot(page, "person-profile.png")
    assert console_errors == []


def test_people_pages_never_scroll_sideways_on_a_phone(
    base_url: str, page: playwright.Page, console_errors: list[str]
) -> None:
    log_in(page, base_url, email="dmitry@zerno.example")
    page.set_viewport_size(MOBILE)
    page.goto(f"{base_url}/w/zerno/people?q=Testova")
    page.locator("[data-testid=person-link]").first.click()
    page.wait_for_selector("[data-testid=profile-head]")
    profile_url = page.url
    too_wide = {}
    pages = [profile_url, *(f"{base_url}/w/zerno/people{p}" for p in PAGES)]
    for url in pages:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > MOBILE["width"]:
            too_wide[url] = width
    page.goto(profile_url)
    shoot(page, "person-profile-mobile.png")
    assert too_wide == {}
    assert console_errors == []


def test_an_agent_saves_filters_as_a_segment_and_reads_the_rfm_overview(
    base_url: str, page: playwright.Page, console_errors: list[str]
) -> None:
    log_in(page, base_url, email="dmitry@zerno.example")
    page.goto(f"{base_url}/w/zerno/people")
    page.select_option("[data-testid=filter-stage]", "repeat")
    page.wait_for_url(re.compile(r".*stage=repeat.*"))
    page.wait_for_selector("[data-testid=save-segment]")
    expected = page.locator("[data-testid=person-row]").count()
    assert expected >= 2  # the demo's regulars
    page.click("[data-testid=save-segment] summary")
    page.fill("[data-testid=segment-name]", "Постоянные из браузера")
    page.click("[data-testid=segment-save]")
    page.wait_for_selector("[data-testid=segment-title]")
    assert page.inner_text("[data-testid=segment-title]") == "Постоянные из браузера"
    assert page.locator("[data-testid=person-row]").count() == expected
    assert page.locator("[data-testid=segment-export]").get_attribute("href", timeout=1000)
    page.click("[data-testid=people-tab-segments]")
    page.wait_for_selector("[data-testid=rfm-table]")
    assert page.locator("[data-testid=segment-row]").count() >= 2  # the demo's and ours
    champions = page.locator(
        "[data-testid=rfm-row][data-segment=champions] [data-testid=rfm-count]"
    )
    count = int(champions.inner_text())
    shoot(page, "people-segments.png")
    page.click("[data-testid=rfm-row][data-segment=champions] a")
    page.wait_for_url(re.compile(r".*rfm=champions.*"))
    assert page.locator("[data-testid=person-row]").count() == min(count, 50)
    assert console_errors == []
