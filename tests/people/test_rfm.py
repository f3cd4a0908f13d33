"""RFM: quintile scores with ties, the segment grid, scoring stored on persons, job, API, CLI."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from h2h.accounts import service as accounts
from h2h.cli import app as cli_app
from h2h.db import make_sessionmaker
from h2h.people import merging, rfm, service
from h2h.people import tasks as people_tasks
from h2h.people.models import Order, Person
from h2h.people.rfm import RfmSegment, quintiles, segment_for
from tests.conftest import Cast

AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def customer(
    session: Session,
    workspace_id: uuid.UUID,
    name: str,
    orders: list[tuple[int, int]],
    *,
    cancelled: int = 0,
) -> Person:
    """A person with purchases (days before AS_OF, amount in kopecks) and a cancellation."""
    person = service.create_person(
        session,
        workspace_id=workspace_id,
        actor=accounts.SYSTEM,
        name=name,
        email=f"{uuid.uuid4().hex[:10]}@example.com",
    )
    (identity_id,) = service.identity_ids(session, workspace_id=workspace_id, person_id=person.id)
    for days_ago, total in orders:
        session.add(
            Order(
                workspace_id=workspace_id,
                external_id=uuid.uuid4().hex,
                identity_id=identity_id,
                placed_at=AS_OF - timedelta(days=days_ago),
                total=total,
            )
        )
    if cancelled:
        session.add(
            Order(
                workspace_id=workspace_id,
                external_id="C" + uuid.uuid4().hex,
                identity_id=identity_id,
                placed_at=AS_OF - timedelta(days=1),
                total=-cancelled,
                is_cancellation=True,
            )
        )
    session.flush()
    service.refresh_aggregates(session, workspace_id=workspace_id, person_ids=[person.id])
    return person


def test_quintiles_rank_values_and_give_equal_values_one_score() -> None:
    assert quintiles([]) == []
    assert quintiles([7.0]) == [1]
    assert quintiles([float(v) for v in range(10)]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Most customers bought once: they all share F = 1 rather than being spread at random.
    assert quintiles([1, 1, 1, 1, 1, 1, 2, 3, 5, 9]) == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    values = [random.Random(seed).randint(0, 6) for seed in range(200)]  # noqa: S311
    scores = dict(zip(values, quintiles(values), strict=True))
    shuffled = values[:]
    random.Random(1).shuffle(shuffled)  # noqa: S311
    assert dict(zip(shuffled, quintiles(shuffled), strict=True)) == scores  # order-independent
    ordered = sorted(scores)
    assert [scores[v] for v in ordered] == sorted(scores[v] for v in ordered)  # monotone
    assert set(scores.values()) <= {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("scores", "segment"),
    [
        ((5, 5, 5), RfmSegment.CHAMPIONS),
        ((5, 4, 5), RfmSegment.CHAMPIONS),
        ((4, 5, 5), RfmSegment.LOYAL),
        ((3, 4, 5), RfmSegment.LOYAL),
        ((5, 3, 2), RfmSegment.POTENTIAL_LOYALISTS),
        ((4, 2, 2), RfmSegment.POTENTIAL_LOYALISTS),
        ((5, 1, 1), RfmSegment.NEW_CUSTOMERS),
        ((4, 1, 1), RfmSegment.PROMISING),
        ((3, 3, 3), RfmSegment.NEED_ATTENTION),
        ((3, 1, 2), RfmSegment.ABOUT_TO_SLEEP),
        ((2, 4, 3), RfmSegment.AT_RISK),
        ((1, 5, 5), RfmSegment.CANNOT_LOSE),
        ((2, 1, 2), RfmSegment.HIBERNATING),
        ((1, 2, 1), RfmSegment.HIBERNATING),
        ((1, 1, 1), RfmSegment.LOST),
    ],
)
def test_the_segment_grid(scores: tuple[int, int, int], segment: RfmSegment) -> None:
    assert segment_for(*scores) is segment


def test_every_score_triple_has_a_segment_and_every_segment_is_reachable() -> None:
    seen = {segment_for(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert seen == set(RfmSegment)
    assert set(rfm.SEGMENT_LABELS) == set(RfmSegment) == set(rfm.SEGMENT_ADVICE)


def _get(session: Session, ws: uuid.UUID, person_id: uuid.UUID) -> Person:
    session.expire_all()
    return service.get_person(session, workspace_id=ws, person_id=person_id)


def _five_customers(session: Session, ws: uuid.UUID) -> dict[str, Person]:
    return {
        "best": customer(session, ws, "Best", [(1, 90_000), (20, 90_000), (40, 90_000)]),
        "good": customer(session, ws, "Good", [(10, 30_000), (60, 30_000)]),
        "new": customer(session, ws, "New", [(2, 5_000)]),
        "gone": customer(session, ws, "Gone big", [(400, 200_000), (420, 200_000), (500, 9_000)]),
        "lost": customer(session, ws, "Lost", [(700, 1_000)]),
    }


def test_compute_scores_customers_and_stores_segments(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    people = _five_customers(session, ws)
    nobody = service.create_person(session, workspace_id=ws, actor=accounts.SYSTEM, name="Browser")
    report = rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    assert (report.customers, report.changed) == (5, 5)
    scored = {k: _get(session, ws, p.id) for k, p in people.items()}
    got = {k: (p.rfm_recency, p.rfm_frequency, p.rfm_monetary) for k, p in scored.items()}
    # Three purchases is the most anyone made; the two who did share the score of the first.
    assert got["best"][1] == got["gone"][1] == 4
    assert got["best"][1] > got["good"][1] > got["new"][1] == got["lost"][1] == 1
    assert got["best"][0] >= 4 and got["best"][2] >= 4
    assert got["new"][0] == 4 and got["new"][1] == 1
    assert all(scored[k].rfm_segment == segment_for(*got[k]) for k in got)  # type: ignore[arg-type]
    assert got["lost"] == (1, 1, 1)
    assert scored["lost"].rfm_segment == RfmSegment.LOST
    assert scored["gone"].rfm_segment == RfmSegment.CANNOT_LOSE  # spent most, long ago
    assert scored["best"].rfm_segment == RfmSegment.CHAMPIONS
    session.refresh(nobody)
    assert nobody.rfm_segment is None and nobody.rfm_recency is None
    assert sum(rfm.summary(session, workspace_id=ws).values()) == 5
    assert sum(rfm.grid(session, workspace_id=ws).values()) == 5
    assert rfm.summary(session, workspace_id=cast.b.id)[RfmSegment.LOST] == 0


def test_rescoring_writes_only_changes_and_keeps_updated_at(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    people = _five_customers(session, ws)
    rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    before = {p.id: _get(session, ws, p.id).updated_at for p in people.values()}
    again = rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    assert (again.customers, again.changed) == (5, 0)
    after = {p.id: _get(session, ws, p.id).updated_at for p in people.values()}
    assert after == before  # a rescore is not activity: the profile refresh skips them


def test_cancellations_subtract_money_but_are_not_purchases(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    refunded = customer(session, ws, "Refunded", [(5, 50_000), (6, 50_000)], cancelled=100_000)
    kept = customer(session, ws, "Kept", [(5, 20_000)])
    figures = {row[0]: row[2:] for row in rfm._customer_figures(session, ws, AS_OF)}
    assert figures[refunded.id] == (2, 0)  # two purchases, nothing left after the refund
    assert figures[kept.id] == (1, 20_000)
    rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    session.refresh(refunded)
    session.refresh(kept)
    assert refunded.rfm_monetary is not None and kept.rfm_monetary is not None
    assert refunded.rfm_monetary < kept.rfm_monetary
    assert refunded.rfm_frequency is not None and kept.rfm_frequency is not None
    assert refunded.rfm_frequency > kept.rfm_frequency


def test_as_of_ignores_later_orders_and_clears_persons_without_purchases_then(
    session: Session, cast: Cast
) -> None:
    ws = cast.a.id
    early = customer(session, ws, "Early", [(100, 10_000)])
    late = customer(session, ws, "Late", [(3, 10_000)])
    rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    report = rfm.compute(session, workspace_id=ws, as_of=AS_OF - timedelta(days=50))
    assert report.customers == 1 and report.cleared == 1
    session.refresh(early)
    session.refresh(late)
    assert early.rfm_segment is not None and late.rfm_segment is None


def test_merged_and_erased_persons_are_not_scored(session: Session, cast: Cast) -> None:
    ws = cast.a.id
    winner = customer(session, ws, "Winner", [(5, 10_000)])
    loser = customer(session, ws, "Loser", [(8, 10_000)])
    merging.merge(
        session, workspace_id=ws, actor=accounts.SYSTEM, winner_id=winner.id, loser_id=loser.id
    )
    report = rfm.compute(session, workspace_id=ws, as_of=AS_OF)
    # The loser's identity now belongs to the winner: one customer with two purchases.
    assert report.customers == 1
    figures = {row[0]: row[2] for row in rfm._customer_figures(session, ws, AS_OF)}
    assert figures == {winner.id: 2}


def test_the_job_scores_every_workspace(session: Session, cast: Cast) -> None:
    _five_customers(session, cast.a.id)
    customer(session, cast.b.id, "B's only", [(3, 1_000)])
    session.commit()
    changed = people_tasks.score_rfm(session)
    assert changed == 6
    counts_b = rfm.summary(session, workspace_id=cast.b.id)
    assert sum(counts_b.values()) == 1


def test_api_summary_and_rescore_need_the_right_role(
    client: TestClient, session: Session, cast: Cast
) -> None:
    _five_customers(session, cast.a.id)
    session.commit()
    url = f"/api/v1/workspaces/{cast.a.slug}/people/rfm"
    assert client.post(url, json={}, headers=cast.agent.headers).status_code == 403
    response = client.post(url, json={"as_of": AS_OF.isoformat()}, headers=cast.admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["customers"] == 5
    summary = client.get(url, headers=cast.viewer.headers).json()
    assert summary["segments"]["lost"] == 1 and sum(summary["segments"].values()) == 5
    assert sum(cell["persons"] for cell in summary["grid"]) == 5
    bad = client.post(url, json={"as_of": "yesterday"}, headers=cast.admin.headers)
    assert bad.status_code == 422


def test_cli_scores_as_of_a_day_and_refuses_a_bad_date(
    env: None, session: Session, cast: Cast
) -> None:
    _five_customers(session, cast.a.id)
    session.commit()
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["people", "rfm", "--workspace", "alpha", "--as-of", "2026-06-30"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["customers"] == 5 and out["segments"]["lost"] == 1
    assert out["as_of"].startswith("2026-06-30T23:59:59")
    bad = runner.invoke(cli_app, ["people", "rfm", "--workspace", "alpha", "--as-of", "30.06.2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    missing = runner.invoke(cli_app, ["people", "rfm", "--workspace", "nope"])
    assert missing.exit_code == 1 and "no workspace 'nope'" in missing.output


def test_scores_survive_a_fresh_session(session: Session, cast: Cast) -> None:
    _five_customers(session, cast.a.id)
    rfm.compute(session, workspace_id=cast.a.id, as_of=AS_OF)
    session.commit()
    other = make_sessionmaker(session.get_bind())()  # type: ignore[arg-type]
    try:
        stored = other.scalars(
            select(Person.rfm_segment).where(
                Person.workspace_id == cast.a.id, Person.rfm_segment.is_not(None)
            )
        ).all()
        assert len(stored) == 5 and {"champions", "lost", "cannot_lose"} <= set(stored)
    finally:
        other.close()
