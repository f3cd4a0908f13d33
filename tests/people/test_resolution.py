"""Identity resolution: blocking finds likely duplicates, a person decides, thresholds hold."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h import registry
from h2h.accounts import service as accounts
from h2h.accounts.models import AuditEvent
from h2h.cli import app as cli_app
from h2h.config import Settings
from h2h.db import engine_from_settings, make_sessionmaker
from h2h.errors import InvalidInput, PermissionDenied
from h2h.jobs import run_now
from h2h.people import identities, names, resolution, service, suggestions
from h2h.people.models import IdentityKind, Merge, MergeSuggestion, Person, SuggestionStatus
from tests.conftest import Cast, csrf_from, login
from tests.people.test_merge import actor, person


def open_pairs(session: Session, cast: Cast) -> dict[frozenset[str], MergeSuggestion]:
    rows = session.execute(
        select(MergeSuggestion, Person.name)
        .join(Person, Person.id == MergeSuggestion.person_a_id)
        .where(
            MergeSuggestion.workspace_id == cast.a.id,
            MergeSuggestion.status == SuggestionStatus.OPEN,
        )
    ).all()
    out = {}
    for suggestion, name_a in rows:
        name_b = session.scalar(select(Person.name).where(Person.id == suggestion.person_b_id))
        out[frozenset({name_a, str(name_b)})] = suggestion
    return out


def test_diminutives_and_transliterations_share_a_name_key() -> None:
    keys = [
        names.block_keys(names.name_parts(n))
        for n in (
            "Саша Иванов",
            "Alexander Ivanov",
            "Aleksandr Ivanov",
            "Иванов Александр Петрович",
        )
    ]
    assert set.intersection(*keys) >= {"name:aleksandr|ivanov"}
    assert names.first_name_forms("Катя") == names.first_name_forms("Catherine")
    assert names.first_name_forms("Маша") == names.first_name_forms("Mary")
    assert not names.first_name_forms("Яна") & names.first_name_forms("Анна")
    assert len(names.FIRST_NAME_DISPLAY) >= 150


def test_blocking_finds_sasha_ivanov_and_alexander_ivanov(session: Session, cast: Cast) -> None:
    for name in ("Саша Иванов", "Alexander Ivanov", "Aleksandr Ivanov", "Мария Петрова"):
        person(session, cast, name)
    report = resolution.suggest(session, workspace_id=cast.a.id)
    pairs = open_pairs(session, cast)
    assert set(pairs) == {
        frozenset({"Саша Иванов", "Alexander Ivanov"}),
        frozenset({"Саша Иванов", "Aleksandr Ivanov"}),
        frozenset({"Alexander Ivanov", "Aleksandr Ivanov"}),
    }
    evidence = pairs[frozenset({"Саша Иванов", "Alexander Ivanov"})].evidence
    assert [e["kind"] for e in evidence] == ["name"]
    assert "Саша Иванов" in evidence[0]["detail"] and "Alexander Ivanov" in evidence[0]["detail"]
    assert report.pairs_compared == 3 and report.suggested == 3


def test_the_same_phone_or_mailbox_written_differently_is_found(
    session: Session, cast: Cast
) -> None:
    person(session, cast, "Иван", phone="8 (916) 123-45-67")
    shop = identities.Claim(
        IdentityKind.CUSTOMER_ID, "+7 916 123 45 67", namespace="shop", name="I. P."
    )
    identities.ensure(session, workspace_id=cast.a.id, claims=[shop])
    person(session, cast, "Ivan P.", email="ivan.petrov@gmail.com")
    person(session, cast, "Petrov", email="IvanPetrov+shop@googlemail.com")
    resolution.suggest(session, workspace_id=cast.a.id)
    pairs = open_pairs(session, cast)
    phone = pairs[frozenset({"Иван", "I. P."})]
    assert phone.evidence[0] == {"kind": "same_phone", "detail": "+79161234567", "weight": 0.9}
    mailbox = pairs[frozenset({"Ivan P.", "Petrov"})]
    assert mailbox.evidence[0]["kind"] == "same_email" and mailbox.score == 0.9


def test_a_huge_block_is_skipped_and_counted_so_work_is_not_quadratic(
    session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolution, "BLOCK_CAP", 5)
    for _ in range(8):
        person(session, cast, "Иван")
    person(session, cast, "Пётр Сидоров", email="p1@example.com")
    person(session, cast, "Петр Сидоров", email="p2@example.com")
    report = resolution.suggest(session, workspace_id=cast.a.id)
    assert report.blocks_skipped == 1  # "solo:ivan", eight persons
    assert report.pairs_compared == 1  # only the two Sidorovs
    assert set(open_pairs(session, cast)) == {frozenset({"Пётр Сидоров", "Петр Сидоров"})}


def test_a_dismissed_pair_is_never_proposed_again(session: Session, cast: Cast) -> None:
    person(session, cast, "Катя Смирнова")
    person(session, cast, "Ekaterina Smirnova")
    resolution.suggest(session, workspace_id=cast.a.id)
    [suggestion] = open_pairs(session, cast).values()
    suggestions.dismiss(
        session, workspace_id=cast.a.id, actor=actor(cast), suggestion_id=suggestion.id
    )
    resolution.suggest(session, workspace_id=cast.a.id)
    assert open_pairs(session, cast) == {}
    assert session.scalar(select(MergeSuggestion.status)) is SuggestionStatus.DISMISSED
    audit = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_id == str(suggestion.id))
    )
    assert list(audit) == ["person.merge_dismiss"]


def test_family_members_sharing_a_phone_are_not_proposed(session: Session, cast: Cast) -> None:
    person(session, cast, "Анна Иванова", phone="+79161234567")
    shared = identities.Claim(
        IdentityKind.HANDLE, "8 916 123-45-67 (home)", "x", name="Пётр Иванов"
    )
    found = identities.ensure(session, workspace_id=cast.a.id, claims=[shared])[shared.key]
    profiles = resolution.load_profiles(
        session, workspace_id=cast.a.id, person_ids=[found.person_id]
    )
    assert profiles[found.person_id].phones == {}  # "(home)" is no phone number
    resolution.suggest(session, workspace_id=cast.a.id)
    assert open_pairs(session, cast) == {}


def test_different_first_names_lower_the_score_of_a_shared_phone() -> None:
    from h2h.people import matching

    items = [
        {"kind": "same_phone", "detail": "+7", "weight": 0.9},
        {"kind": "different_first_names", "detail": "Анна ≠ Пётр", "weight": -0.5},
    ]
    assert matching.score(items) == 0.45
    assert matching.score(items[:1] + [{"kind": "name", "detail": "", "weight": 0.6}]) == 0.96


def test_merges_happen_on_their_own_only_at_or_above_the_configured_threshold(
    session: Session, cast: Cast
) -> None:
    sure_a = person(session, cast, "Дмитрий Орлов", phone="+79035550101")
    sure_b = identities.Claim(IdentityKind.SITE, "8 903 555-01-01", "site", name="Dmitry Orlov")
    identities.ensure(session, workspace_id=cast.a.id, claims=[sure_b])
    person(session, cast, "Ольга Белова")
    person(session, cast, "Olga Belova")
    report = resolution.suggest(session, workspace_id=cast.a.id)
    assert (report.suggested, report.merged) == (2, 0)  # the default: never on its own
    owner = accounts.Actor(user_id=cast.owner.user.id, role=cast.owner.membership.role)
    suggestions.update_settings(
        session, workspace_id=cast.a.id, actor=owner, auto_merge_threshold="0.95"
    )
    report = resolution.suggest(session, workspace_id=cast.a.id)
    assert report.merged == 1
    [record] = session.scalars(select(Merge)).all()
    assert record.automatic and record.merged_by_id is None and record.score == 0.96
    assert sure_a.id in (record.winner_id, record.loser_id)
    assert set(open_pairs(session, cast)) == {frozenset({"Ольга Белова", "Olga Belova"})}


def test_thresholds_are_checked_and_only_admins_change_them(session: Session, cast: Cast) -> None:
    admin = actor(cast, "admin")
    with pytest.raises(InvalidInput):
        suggestions.update_settings(
            session, workspace_id=cast.a.id, actor=admin, auto_merge_threshold="1.5"
        )
    with pytest.raises(InvalidInput):
        suggestions.update_settings(
            session, workspace_id=cast.a.id, actor=admin, auto_merge_threshold="0.4"
        )
    with pytest.raises(PermissionDenied):
        suggestions.update_settings(
            session, workspace_id=cast.a.id, actor=actor(cast), auto_merge_threshold="0.99"
        )
    policy = suggestions.update_settings(
        session, workspace_id=cast.a.id, actor=admin, auto_merge_threshold="0.99"
    )
    assert policy.auto_merge_threshold == 0.99


def test_the_periodic_pass_looks_only_at_persons_touched_since_the_last(
    session: Session, cast: Cast, settings: Settings
) -> None:
    person(session, cast, "Саша Иванов")
    person(session, cast, "Alexander Ivanov")
    session.commit()
    registry.load()
    engine = engine_from_settings(settings)
    try:
        factory = make_sessionmaker(engine)
        assert run_now(factory, "people.resolve") == 1  # the first pass looks at everyone
        assert run_now(factory, "people.resolve") == 0  # nothing changed since
        with factory() as other:
            person(other, cast, "Aleksandr Ivanov")
            other.commit()
        assert run_now(factory, "people.resolve") == 2  # the newcomer against the two
    finally:
        engine.dispose()
    session.expire_all()
    assert len(open_pairs(session, cast)) == 3


def test_the_resolve_command_reports_what_it_did(session: Session, cast: Cast, env: None) -> None:
    person(session, cast, "Маша Кузнецова")
    person(session, cast, "Maria Kuznetsova")
    session.commit()
    result = CliRunner().invoke(cli_app, ["people", "resolve", "--workspace", "alpha"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert (report["suggested"], report["pairs_compared"]) == (1, 1)


def test_the_resolve_command_finds_pairs_across_its_chunks(
    session: Session, cast: Cast, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("h2h.people.tasks.RESOLVE_CHUNK", 1)  # every person its own chunk
    person(session, cast, "Маша Кузнецова")
    person(session, cast, "Maria Kuznetsova")
    person(session, cast, "Пётр Сидоров")
    session.commit()
    result = CliRunner().invoke(cli_app, ["people", "resolve", "--workspace", "alpha"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["persons"] == 3 and report["suggested"] >= 1
    session.expire_all()
    assert len(open_pairs(session, cast)) == 1


def _suggest_pair(session: Session, cast: Cast) -> tuple[Any, uuid.UUID]:
    a = person(session, cast, "Наташа Козлова", email="n@example.com")
    person(session, cast, "Natalia Kozlova", phone="+79057770000")
    resolution.suggest(session, workspace_id=cast.a.id)
    session.commit()
    [suggestion] = open_pairs(session, cast).values()
    return suggestion, a.id


def test_suggestions_are_listed_merged_and_dismissed_through_the_api(
    client: TestClient, session: Session, cast: Cast
) -> None:
    suggestion, _ = _suggest_pair(session, cast)
    base = "/api/v1/workspaces/alpha/people/merge-suggestions"
    page = client.get(base, headers=cast.viewer.headers).json()
    assert page["total"] == 1 and page["items"][0]["evidence"][0]["kind"] == "name"
    viewer = client.post(f"{base}/{suggestion.id}/merge", headers=cast.viewer.headers)
    assert viewer.status_code == 403
    merged = client.post(f"{base}/{suggestion.id}/merge", headers=cast.agent.headers)
    assert merged.status_code == 201, merged.text
    again = client.post(f"{base}/{suggestion.id}/dismiss", headers=cast.agent.headers)
    assert again.status_code == 409
    assert client.get(base, headers=cast.viewer.headers).json()["total"] == 0


def test_the_merges_page_shows_evidence_in_words_and_merges_on_a_click(
    client: TestClient, session: Session, cast: Cast
) -> None:
    suggestion, person_id = _suggest_pair(session, cast)
    csrf = login(client, cast.agent.user.email)
    page = client.get("/w/alpha/people/merges")
    assert page.status_code == 200
    assert "Same name" in page.text and "Наташа Козлова ~ Natalia Kozlova" in page.text
    profile = client.get(f"/w/alpha/people/{person_id}")
    assert 'data-testid="merges-panel"' in profile.text
    response = client.post(
        f"/w/alpha/people/merges/suggestions/{suggestion.id}/merge",
        data={"csrf_token": csrf, "back": f"/w/alpha/people/{person_id}"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/w/alpha/people/{person_id}"
    history = client.get("/w/alpha/people/merges")
    assert 'data-testid="undo-button"' in history.text
    settings_form = client.post(
        "/w/alpha/people/merges/settings",
        data={"csrf_token": csrf_from(history.text), "auto_merge_threshold": "0.97"},
        follow_redirects=False,
    )
    assert settings_form.status_code == 403  # agents decide merges; admins set the policy
    session.expire_all()
    assert service.get_settings(session, workspace_id=cast.a.id).auto_merge_threshold is None
