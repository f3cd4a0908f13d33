"""A problem's life: confirmed, owned, fixed, verified by evidence or reopened; merges,
splits and moves keep every complaint exactly once; everything lands in the history and
the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.models import AuditEvent
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.errors import Conflict, InvalidInput, PermissionDenied
from h2h.problems import evidence, service
from h2h.problems.models import Problem, ProblemComplaint, ProblemState
from tests.conftest import Cast
from tests.inbox.conftest import actor_of, customer, make_channel, store


@pytest.fixture
def widget(session: Session, cast: Cast) -> Channel:
    return make_channel(session, cast, ChannelKind.WIDGET)


def complaints(
    session: Session,
    cast: Cast,
    channel: Channel,
    texts: list[str],
    *,
    days_ago: float = 0.1,
    prefix: str = "c",
    authors: int | None = None,
) -> list[object]:
    """Store complaints from distinct authors (or ``authors`` of them, round robin)."""
    at = utcnow() - timedelta(days=days_ago)
    items = [
        customer(
            f"{prefix}{i}",
            text,
            handle=f"{prefix}-author{i % (authors or len(texts))}@example.com",
            name=f"Author {i % (authors or len(texts))}",
            at=at,
            minutes=i,
        )
        for i, text in enumerate(texts)
    ]
    return store(session, cast, channel, *items)


def made(session: Session, cast: Cast, channel: Channel, n: int = 3, **kw: object) -> Problem:
    ids = complaints(session, cast, channel, [f"Курьер опоздал на {i + 2} часа" for i in range(n)])
    return service.create(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        title="Курьеры опаздывают",
        message_ids=ids,
        **kw,  # type: ignore[arg-type]
    )


def test_a_problem_found_by_hand_is_confirmed_with_its_complaints_and_people(
    session: Session, cast: Cast, widget: Channel
) -> None:
    problem = made(session, cast, widget, 3)
    assert problem.state is ProblemState.CONFIRMED
    assert problem.complaint_count == 3 and problem.people_count == 3
    assert problem.first_complaint_at is not None and problem.last_complaint_at is not None
    assert problem.centroid is not None
    assert [a.complaints for a in service.affected(session, problem=problem)] == [1, 1, 1]
    kinds = [e.kind for e in service.history(session, problem=problem)]
    assert kinds[:2] == ["created", "attached"]


def test_the_lifecycle_follows_the_allowed_steps_and_refuses_shortcuts(
    session: Session, cast: Cast, widget: Channel
) -> None:
    problem = made(session, cast, widget)
    agent = actor_of(cast.agent)
    with pytest.raises(Conflict):
        service.mark_fixed(session, problem=problem, actor=agent, fix_note="done")
    with pytest.raises(InvalidInput):  # an owner who is not a member
        service.start_fixing(
            session,
            problem=problem,
            actor=agent,
            owner_id=cast.outsider.user.id,
            root_cause="x",
            planned_fix="y",
        )
    with pytest.raises(InvalidInput):  # the root cause is required
        service.start_fixing(
            session,
            problem=problem,
            actor=agent,
            owner_id=cast.agent.user.id,
            root_cause=" ",
            planned_fix="y",
        )
    service.start_fixing(
        session,
        problem=problem,
        actor=agent,
        owner_id=cast.agent.user.id,
        root_cause="Один курьер на район по выходным",
        planned_fix="Второй курьер по субботам",
        fix_due=utcnow().date() + timedelta(days=7),
    )
    assert problem.state is ProblemState.FIXING and problem.owner_id == cast.agent.user.id
    with pytest.raises(InvalidInput):
        service.mark_fixed(session, problem=problem, actor=agent, fix_note="")
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="Наняли второго курьера")
    assert problem.state is ProblemState.FIXED and problem.fixed_at is not None
    with pytest.raises(Conflict):
        service.decline(session, problem=problem, actor=agent, reason="не будем")
    service.reopen(session, problem=problem, actor=agent, note="опять опаздывают")
    assert problem.state is ProblemState.REOPENED
    states = [
        (e.data["before"], e.data["after"])
        for e in service.history(session, problem=problem)
        if e.kind == "state"
    ]
    assert states == [("confirmed", "fixing"), ("fixing", "fixed"), ("fixed", "reopened")]
    session.flush()
    actions = set(
        session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.workspace_id == cast.a.id, AuditEvent.entity_type == "problem"
            )
        )
    )
    assert {"problem.create", "problem.fixing", "problem.fixed", "problem.reopen"} <= actions


def test_declining_needs_a_reason_and_a_viewer_cannot_act(
    session: Session, cast: Cast, widget: Channel
) -> None:
    problem = made(session, cast, widget)
    with pytest.raises(PermissionDenied):
        service.decline(session, problem=problem, actor=actor_of(cast.viewer), reason="нет")
    with pytest.raises(InvalidInput):
        service.decline(session, problem=problem, actor=actor_of(cast.agent), reason="")
    service.decline(
        session, problem=problem, actor=actor_of(cast.agent), reason="Это погода, не мы"
    )
    assert problem.state is ProblemState.DECLINED
    assert problem.decline_reason == "Это погода, не мы"
    service.confirm(session, problem=problem, actor=actor_of(cast.agent))  # revisited
    assert problem.state is ProblemState.CONFIRMED and problem.decline_reason is None


def _members(session: Session, problem: Problem) -> set[object]:
    return {c.message_id for c in service.complaints_of(session, problem=problem)}


def test_merge_split_move_and_detach_keep_each_complaint_in_one_place(
    session: Session, cast: Cast, widget: Channel
) -> None:
    agent = actor_of(cast.agent)
    first = made(session, cast, widget, 4)
    ids = complaints(
        session, cast, widget, ["Списали деньги дважды", "Двойное списание"], prefix="p"
    )
    second = service.create(
        session, workspace_id=cast.a.id, actor=agent, title="Двойное списание", message_ids=ids
    )
    total = _members(session, first) | _members(session, second)
    split_off = sorted(_members(session, first), key=str)[:2]
    third = service.split(session, problem=first, message_ids=split_off, actor=agent, title="Ч")
    assert _members(session, third) == set(split_off)
    assert first.complaint_count == 2 and third.complaint_count == 2
    with pytest.raises(InvalidInput):  # a problem keeps at least one complaint
        service.split(session, problem=third, message_ids=split_off, actor=agent)
    moved = service.move(
        session, source=third, target=second, message_ids=split_off[:1], actor=agent
    )
    assert moved == 1 and second.complaint_count == 3
    service.merge(session, source=third, target=first, actor=agent)
    assert third.state is ProblemState.MERGED and third.merged_into_id == first.id
    assert third.complaint_count == 0 and first.complaint_count == 3
    rows = list(
        session.scalars(
            select(ProblemComplaint.message_id).where(ProblemComplaint.workspace_id == cast.a.id)
        )
    )
    assert sorted(rows, key=str) == sorted(total, key=str)  # each exactly once
    with pytest.raises(Conflict):
        service.merge(session, source=third, target=second, actor=agent)
    service.detach(session, problem=second, message_ids=split_off[:1], actor=agent)
    assert second.complaint_count == 2
    with pytest.raises(InvalidInput):  # not a member any more
        service.detach(session, problem=second, message_ids=split_off[:1], actor=agent)


def test_another_workspace_cannot_reach_the_problem_or_attach_its_messages(
    session: Session, cast: Cast, widget: Channel
) -> None:
    problem = made(session, cast, widget)
    with pytest.raises(Exception, match="(?i)not found|no such"):
        service.get_problem(session, workspace_id=cast.b.id, problem_id=problem.id)
    ids = [c.message_id for c in service.complaints_of(session, problem=problem)]
    with pytest.raises(Exception, match="(?i)not found|no such"):
        service.create(
            session,
            workspace_id=cast.b.id,
            actor=actor_of(cast.outsider),
            title="Чужое",
            message_ids=ids,
        )


def _fixed(session: Session, cast: Cast, problem: Problem, days_ago: int) -> None:
    agent = actor_of(cast.agent)
    service.start_fixing(
        session,
        problem=problem,
        actor=agent,
        owner_id=cast.agent.user.id,
        root_cause="причина",
        planned_fix="план",
    )
    service.mark_fixed(session, problem=problem, actor=agent, fix_note="сделано")
    problem.fixed_at = utcnow() - timedelta(days=days_ago)


def test_evidence_verifies_a_fix_when_complaints_fell_and_not_before(
    session: Session, cast: Cast, widget: Channel
) -> None:
    before = complaints(
        session, cast, widget, [f"Опять холодный кофе, {i}" for i in range(12)], days_ago=16
    )
    problem = service.create(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        title="Холодный кофе",
        message_ids=before,
    )
    _fixed(session, cast, problem, days_ago=3)  # 12 in the window before, 0 in 3 days after
    with pytest.raises(Conflict):  # too early to tell: three quiet days prove little
        evidence.verify_now(session, problem=problem, actor=actor_of(cast.agent))
    found = evidence.compute(session, problem=problem, window_days=14)
    assert (found.before, found.after, found.complete) == (12, 0, False)
    assert found.verdict == "not_yet"
    assert evidence.check(session, workspace_id=cast.a.id) == 0
    assert problem.state is ProblemState.FIXED

    problem.fixed_at = utcnow() - timedelta(days=15)  # the whole window has passed, still quiet
    assert evidence.check(session, workspace_id=cast.a.id) == 1
    assert problem.state is ProblemState.VERIFIED
    assert problem.evidence["verdict"] == "fell" and problem.evidence["p_value"] < 0.05


def test_complaints_coming_back_after_the_fix_reopen_the_problem(
    session: Session, cast: Cast, widget: Channel
) -> None:
    before = complaints(
        session, cast, widget, [f"Сайт не открывается {i}" for i in range(6)], days_ago=10
    )
    problem = service.create(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        title="Сайт лежит",
        message_ids=before,
    )
    _fixed(session, cast, problem, days_ago=2)
    one = complaints(session, cast, widget, ["Сайт снова не открывается"], prefix="a")
    service.attach(session, problem=problem, message_ids=one, actor=actor_of(cast.agent))
    assert evidence.check(session, workspace_id=cast.a.id) == 0  # one complaint is no return
    more = complaints(
        session, cast, widget, ["Сайт опять лежит", "И у меня не грузится"], prefix="b"
    )
    service.attach(session, problem=problem, message_ids=more, actor=actor_of(cast.agent))
    assert evidence.check(session, workspace_id=cast.a.id) == 1
    assert problem.state is ProblemState.REOPENED and problem.reopened_at is not None
