"""A workspace's engagement model: admins change it on a page or over the API, bad numbers
are refused with the field named, only changes are stored, every change is audited, and the
levels and lists follow it — in that workspace only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.models import AuditEvent
from h2h.advocacy import engagement as eng
from h2h.advocacy import service
from h2h.advocacy import settings as tuning
from h2h.advocacy.engagement import Level
from h2h.advocacy.models_settings import AdvocacySettings
from h2h.errors import InvalidInput, PermissionDenied
from h2h.feedback.ui_advocacy_settings import parse_form, parse_number
from tests.advocacy.test_over_time import NOW, orders, someone
from tests.conftest import Cast, csrf_from, login
from tests.inbox.conftest import actor_of

PAGE = "/w/alpha/feedback/advocates/settings"
API = "/api/v1/workspaces/alpha/advocacy/settings"


def five_months_of_orders(session: Session, cast: Cast) -> None:
    """Shallow by default (deep needs six active months), deep when five are enough."""
    buyer = someone(session, cast.a.id, "five@example.com", "Пётр Пятимесячный")
    orders(session, cast.a.id, buyer, range(5, 150, 30))


def test_only_changes_are_stored_and_the_change_is_audited(session: Session, cast: Cast) -> None:
    admin = actor_of(cast.admin)
    saved = tuning.save(
        session,
        workspace_id=cast.a.id,
        actor=admin,
        engagement={"window_days": 365, "deep_min_months": 5, "weights": {"like": 0.05, "vote": 0}},
        influence={"high_reach": 0.5},
    )
    assert saved.overrides == {
        "engagement": {"deep_min_months": 5, "weights": {"vote": 0.0}},
        "influence": {"high_reach": 0.5},
    }
    row = session.get(AdvocacySettings, cast.a.id)
    assert row is not None and row.engagement == saved.overrides["engagement"]
    current = tuning.get(session, workspace_id=cast.a.id)
    assert current.engagement.deep_min_months == 5
    assert current.engagement.weights[eng.ActivityKind.VOTE] == 0
    assert current.engagement.weights[eng.ActivityKind.LIKE] == 0.05
    assert current.influence.high_reach == 0.5
    assert tuning.get(session, workspace_id=cast.b.id) == tuning.DEFAULTS
    [audit] = session.scalars(
        select(AuditEvent).where(
            AuditEvent.workspace_id == cast.a.id, AuditEvent.action == "advocacy.settings"
        )
    ).all()
    assert audit.actor_id == cast.admin.user.id
    assert audit.details["after"] == saved.overrides and audit.details["before"]["influence"] == {}


@pytest.mark.parametrize(
    ("engagement", "influence", "field"),
    [
        ({"window_days": "365"}, {}, "engagement.window_days"),
        ({"window_days": 10}, {}, "engagement.window_days"),
        ({"weights": {"like": -1}}, {}, "engagement.weights.like"),
        ({"weights": {"poke": 1}}, {}, "engagement.weights.poke"),
        ({"colour": 1}, {}, "engagement.colour"),
        ({"deep_min_months": 13}, {}, "engagement.deep_min_months"),
        ({}, {"recent_days": 365}, "influence.recent_days"),
        ({}, {"high_reach": 1.5}, "influence.high_reach"),
        ({}, {"high_reach": float("nan")}, "influence.high_reach"),
        ([], {}, "engagement"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(
    session: Session, cast: Cast, engagement: object, influence: object, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        tuning.save(
            session,
            workspace_id=cast.a.id,
            actor=actor_of(cast.admin),
            engagement=engagement,
            influence=influence,
        )
    assert refused.value.field == field
    assert session.get(AdvocacySettings, cast.a.id) is None


def test_only_admins_change_the_settings(session: Session, cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        tuning.save(
            session,
            workspace_id=cast.a.id,
            actor=actor_of(cast.agent),
            engagement={"deep_min_months": 3},
            influence={},
        )


def test_the_levels_and_lists_follow_the_workspaces_settings(session: Session, cast: Cast) -> None:
    five_months_of_orders(session, cast)
    [before] = service.engagement_of(session, workspace_id=cast.a.id, now=NOW).values()
    assert before.level is Level.SHALLOW
    tuning.save(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        engagement={"deep_min_months": 5},
        influence={},
    )
    [after] = service.engagement_of(session, workspace_id=cast.a.id, now=NOW).values()
    assert after.level is Level.DEEP
    assert service.boards(session, workspace_id=cast.a.id, now=NOW).counts[Level.DEEP] == 1
    moved = service.movement(session, workspace_id=cast.a.id, now=NOW, periods=2)
    assert moved.transitions == {(Level.SHALLOW, Level.DEEP): 1}  # four months, then five
    given = service.engagement_of(
        session, workspace_id=cast.a.id, now=NOW, settings=eng.EngagementSettings()
    )
    assert [e.level for e in given.values()] == [Level.SHALLOW]  # explicit settings win


def test_stored_settings_a_release_no_longer_accepts_fall_back_to_the_defaults(
    session: Session, cast: Cast
) -> None:
    session.add(AdvocacySettings(workspace_id=cast.a.id, engagement={"window_days": 5}))
    session.flush()
    assert tuning.get(session, workspace_id=cast.a.id) == tuning.DEFAULTS


def test_numbers_are_read_as_people_type_them() -> None:
    assert parse_number(" 7 ", field="f") == 7 and isinstance(parse_number("7", field="f"), int)
    assert parse_number("0,5", field="f") == 0.5
    for bad in ("abc", "1e400000000000000000000000000000", "", "7 days"):
        with pytest.raises(InvalidInput) as refused:
            parse_number(bad, field="engagement.burst_days")
        assert refused.value.field == "engagement.burst_days"
    engagement, influence = parse_form(
        {"engagement.burst_days": "10", "engagement.weights.like": "0", "influence.high_reach": ""}
    )
    assert engagement == {"burst_days": 10, "weights": {"like": 0}} and influence == {}


def test_an_admin_changes_the_model_on_the_page_and_errors_name_the_field(
    client: TestClient, session: Session, cast: Cast
) -> None:
    five_months_of_orders(session, cast)
    session.commit()
    login(client, cast.admin.user.email)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'name="engagement.deep_min_months" value="6"' in page.text
    assert 'name="engagement.weights.like" value="0.05"' in page.text
    assert "Default: 0.6" in page.text and 'data-testid="tab-engagement-settings"' in page.text
    token = csrf_from(page.text)
    bad = client.post(
        PAGE,
        data={
            "csrf_token": token,
            "engagement.deep_min_months": "5",
            "engagement.weights.like": "x",
        },
    )
    assert bad.status_code == 422
    assert "Likes: Enter a number." in bad.text
    assert 'name="engagement.weights.like" value="x"' in bad.text
    assert 'data-testid="engagement.weights.like" aria-invalid="true"' in bad.text
    assert 'name="engagement.deep_min_months" value="5"' in bad.text  # what they typed stays
    too_big = client.post(PAGE, data={"csrf_token": token, "influence.high_reach": "2"})
    assert too_big.status_code == 422
    assert "Widely heard from this reach (0–1): Must be at most 1.0." in too_big.text
    saved = client.post(
        PAGE, data={"csrf_token": token, "engagement.deep_min_months": "5"}, follow_redirects=False
    )
    assert saved.status_code == 303
    shown = client.get(saved.headers["location"]).text
    assert "Engagement settings saved." in shown and "1 setting differs from the default." in shown
    advocates = client.get("/w/alpha/feedback/advocates").text
    deep = advocates.split('data-testid="level-deep"')[1].split("</tr>")[0]
    assert "<td>1</td>" in deep
    reset = client.post(PAGE, data={"csrf_token": token, "reset": "1"}, follow_redirects=False)
    assert reset.status_code == 303
    assert tuning.get(session, workspace_id=cast.a.id).overrides["engagement"] == {}


def test_members_below_admin_may_not_open_the_page_and_outsiders_do_not_see_it(
    client: TestClient, cast: Cast
) -> None:
    login(client, cast.agent.user.email)
    assert client.get(PAGE).status_code == 403
    advocates = client.get("/w/alpha/feedback/advocates").text
    assert 'data-testid="tab-engagement-settings"' not in advocates
    login(client, cast.outsider.user.email)
    assert client.get(PAGE).status_code == 404


def test_the_api_reads_and_replaces_the_settings(
    client: TestClient, session: Session, cast: Cast
) -> None:
    read = client.get(API, headers=cast.viewer.headers)
    assert read.status_code == 200
    assert read.json()["engagement"]["deep_min_months"] == 6
    assert read.json()["overrides"] == {"engagement": {}, "influence": {}}
    body = {"engagement": {"deep_min_months": 5}, "influence": {"min_relevant_posts": 2}}
    assert client.put(API, json=body, headers=cast.agent.headers).status_code == 403
    put = client.put(API, json=body, headers=cast.admin.headers)
    assert put.status_code == 200
    assert put.json()["overrides"] == body
    assert put.json()["influence"]["min_relevant_posts"] == 2
    bad = client.put(
        API, json={"engagement": {"weights": {"like": 101}}}, headers=cast.admin.headers
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "engagement.weights.like"
    assert client.get(API, headers=cast.viewer.headers).json()["overrides"] == body
    assert client.get(API, headers=cast.outsider.headers).status_code == 404
    replaced = client.put(API, json={}, headers=cast.admin.headers)
    assert replaced.json()["overrides"] == {"engagement": {}, "influence": {}}
    session.expire_all()
    assert tuning.get(session, workspace_id=cast.a.id) == tuning.DEFAULTS
