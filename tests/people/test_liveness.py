"""Account liveness: the assessment, the held-out set and the profile refresh on the database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from h2h.people import identities, liveness, refresh, service
from h2h.people.models import AccountKind, IdentityKind
from tests.conftest import Cast

CASES = Path(__file__).parent / "data" / "liveness.jsonl"


def test_a_business_page_a_bot_and_a_feed_are_told_from_a_person() -> None:
    page = liveness.assess(liveness.Features(name="Натяжные потолки Ульяновск"))
    bot = liveness.assess(
        liveness.Features(name="Доставка", handles=("@zakaz_bot",), telegram=True)
    )
    feed = liveness.assess(liveness.Features(name="Новости Ульяновска", messages=40, reposts=36))
    person = liveness.assess(liveness.Features(name="Мария Соколова", messages=12, avatar=True))
    assert page.kind is AccountKind.BUSINESS and page.score < 0.5
    assert bot.kind is AccountKind.BOT
    assert feed.kind is AccountKind.FEED
    assert person.kind is AccountKind.PERSON and person.score > 0.65
    assert {"business_word", "city"} <= {r["code"] for r in page.reasons}


def test_nothing_to_go_by_is_unknown_with_that_reason() -> None:
    found = liveness.assess(liveness.Features())
    assert found.kind is AccountKind.UNKNOWN
    assert [r["code"] for r in found.reasons] == ["no_evidence"]


def test_the_held_out_half_stays_above_nine_in_ten() -> None:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    report = liveness.evaluate([c for c in cases if c["split"] == "test"])
    assert report["cases"] >= 70
    assert report["accuracy"] >= 0.9


def test_the_refresh_stores_kind_score_and_reasons(session: Session, cast: Cast) -> None:
    claims = [
        identities.Claim(
            IdentityKind.EMAIL, "info@potolki.example", name="Натяжные потолки Ульяновск"
        ),
        identities.Claim(IdentityKind.EMAIL, "masha@example.com", name="Мария Соколова"),
    ]
    found = identities.ensure(session, workspace_id=cast.a.id, claims=claims)
    done = refresh.refresh_workspace(session, workspace_id=cast.a.id)
    page, masha = (
        service.get_person(session, workspace_id=cast.a.id, person_id=found[c.key].person_id)
        for c in claims
    )
    assert done >= 2
    assert page.account_kind is AccountKind.BUSINESS
    assert masha.account_kind is AccountKind.PERSON
    assert page.liveness is not None and page.liveness < 0.5
    assert page.liveness_reasons
    # A second pass has nothing new to look at.
    assert refresh.refresh_workspace(session, workspace_id=cast.a.id) == 0
