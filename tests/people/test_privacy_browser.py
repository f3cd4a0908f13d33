"""Consent and erasure in the system Chromium: record a consent, block a channel, erase.

Screenshots land in ``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from h2h.accounts.models import Workspace
from h2h.db import engine_from_settings, make_sessionmaker
from tests.browserkit import shoot
from tests.livesrv import demo_settings, live_server, log_in
from tests.people import profile_data

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

NAME = "Прасковья Удалова"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    settings = demo_settings(tmp_path_factory.mktemp("live-privacy"))
    engine = engine_from_settings(settings)
    with make_sessionmaker(engine)() as session:
        ws = session.scalars(select(Workspace).where(Workspace.slug == "zerno")).one()
        person_id = str(profile_data.story(session, ws.id, name=NAME).person.id)
        session.commit()
    engine.dispose()
    with live_server(settings) as url:
        yield url, person_id


def test_an_owner_records_consent_blocks_a_channel_and_erases_the_person(
    site: tuple[str, str], page: playwright.Page
) -> None:
    base_url, person_id = site
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base_url)  # Anna, the owner
    profile = f"{base_url}/w/zerno/people/{person_id}"
    page.goto(profile)
    panel = page.locator("[data-testid=consent-panel]")
    panel.locator("[data-testid=consent-form-toggle] summary").click()
    form = panel.locator("[data-testid=consent-form]")
    form.locator("select[name=channel]").select_option("email")
    form.locator("select[name=purpose]").select_option("marketing")
    form.locator("input[name=source]").fill("Подписалась на сайте")
    form.locator("[data-testid=consent-submit]").click()
    row = page.locator("[data-testid=consent-row][data-channel=email]")
    cell = row.locator("[data-testid=consent-cell][data-purpose=marketing]")
    assert cell.get_attribute("data-status") == "granted"
    page.locator("[data-testid=consent-row][data-channel=any] [data-testid=block]").click()
    page.wait_for_selector("[data-testid=contact-block]")
    assert page.locator("[data-testid=timeline-item][data-kind=consent]").count() == 2
    shoot(page, "privacy-consent-panel.png")
    page.click("[data-testid=erase-link]")
    page.wait_for_selector("[data-testid=erase-form]")
    shoot(page, "privacy-erase-confirm.png")
    word = page.inner_text("[data-testid=erase-expected]")
    page.fill("[data-testid=erase-word]", "no")
    page.click("[data-testid=erase-submit]")
    page.wait_for_selector("[data-testid=erase-error]")
    page.fill("[data-testid=erase-word]", word)
    page.click("[data-testid=erase-submit]")
    page.wait_for_url(f"{base_url}/w/zerno/people")
    page.goto(profile)
    page.wait_for_selector("[data-testid=person-erased]")
    assert NAME not in page.content()
    assert errors == []
