"""Operations on problems: lifecycle, owners, merge, split and moving complaints.

The only writer of the problems tables. Every change appends a ``ProblemEvent`` (the
problem's own timeline) and, when a person made it, an audit event. Clustering new
complaints lives in ``detect``, the before/after evidence in ``evidence``, the messages to
affected people in ``followups`` and spike alerts in ``alerts``; they all write through the
helpers here.

The lifecycle (issue 7)::

    candidate -confirm-> confirmed -start fixing-> fixing -fixed-> fixed -evidence-> verified
    (any of the first three) -decline, with a reason-> declined
    fixed or verified -complaints return-> reopened -start fixing-> fixing
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Membership, Role, User
from h2h.channels import service as channels
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput, NotFound
from h2h.nlp import service as nlp
from h2h.people import service as people
from h2h.problems import textrep
from h2h.problems.models import (
    OPEN_STATES,
    Problem,
    ProblemComplaint,
    ProblemEvent,
    ProblemSettings,
    ProblemState,
)
from h2h.subjects import service as subjects

AUDIT_ACTIONS.update(
    {
        "problem.create": N_("created a problem"),
        "problem.confirm": N_("confirmed a problem"),
        "problem.fixing": N_("started fixing a problem"),
        "problem.fixed": N_("marked a problem fixed"),
        "problem.verify": N_("verified a fix"),
        "problem.reopen": N_("reopened a problem"),
        "problem.decline": N_("declined a problem"),
        "problem.edit": N_("changed a problem"),
        "problem.merge": N_("merged problems"),
        "problem.split": N_("split a problem"),
        "problem.move": N_("moved complaints between problems"),
        "problem.follow_ups": N_("sent follow-ups about a fixed problem"),
        "problem.settings": N_("changed the problem settings"),
    }
)

MAX_TITLE = 300
MAX_TEXT = 10_000
QUOTES = 3
LABEL_SAMPLE = 200  # member texts the label is computed from (the most recent)
BACKGROUND_SAMPLE = 300  # other complaints the key phrases must stand out against

# Which state may follow which (by a person; the jobs verify and reopen through the same map).
TRANSITIONS: dict[ProblemState, frozenset[ProblemState]] = {
    ProblemState.CANDIDATE: frozenset({ProblemState.CONFIRMED, ProblemState.DECLINED}),
    ProblemState.CONFIRMED: frozenset({ProblemState.FIXING, ProblemState.DECLINED}),
    ProblemState.FIXING: frozenset(
        {ProblemState.FIXED, ProblemState.CONFIRMED, ProblemState.DECLINED}
    ),
    ProblemState.FIXED: frozenset({ProblemState.VERIFIED, ProblemState.REOPENED}),
    ProblemState.VERIFIED: frozenset({ProblemState.REOPENED}),
    ProblemState.REOPENED: frozenset({ProblemState.FIXING, ProblemState.DECLINED}),
    ProblemState.DECLINED: frozenset({ProblemState.CONFIRMED}),
    ProblemState.MERGED: frozenset(),
}


# --- lookups ----------------------------------------------------------------------------------


def settings_of(session: Session, *, workspace_id: uuid.UUID) -> ProblemSettings:
    """The workspace's problem settings; created with the defaults on first use."""
    found = session.scalars(
        select(ProblemSettings).where(ProblemSettings.workspace_id == workspace_id)
    ).one_or_none()
    if found is None:
        found = ProblemSettings(workspace_id=workspace_id)
        session.add(found)
        session.flush()
    return found


def next_number(session: Session, *, workspace_id: uuid.UUID) -> int:
    top = session.scalar(
        select(func.max(Problem.number)).where(Problem.workspace_id == workspace_id)
    )
    return int(top or 0) + 1


def get_problem(session: Session, *, workspace_id: uuid.UUID, problem_id: Any) -> Problem:
    return get_in_workspace(session, Problem, workspace_id=workspace_id, id=problem_id)


def by_number(session: Session, *, workspace_id: uuid.UUID, number: int) -> Problem:
    found = session.scalars(
        select(Problem).where(Problem.workspace_id == workspace_id, Problem.number == number)
    ).one_or_none()
    if found is None:
        raise NotFound(N_("No such problem."))
    return found


def title_of(problem: Problem) -> str:
    """What people call the problem: its human title, else its key phrases."""
    if problem.title:
        return problem.title
    if problem.key_phrases:
        return ", ".join(problem.key_phrases[:3])
    return f"#{problem.number}"


def problem_of_message(
    session: Session, *, workspace_id: uuid.UUID, message_id: uuid.UUID
) -> Problem | None:
    """The problem a complaint belongs to (the inbox and the message page show it)."""
    return session.scalars(
        select(Problem)
        .join(
            ProblemComplaint,
            (ProblemComplaint.workspace_id == Problem.workspace_id)
            & (ProblemComplaint.problem_id == Problem.id),
        )
        .where(
            ProblemComplaint.workspace_id == workspace_id, ProblemComplaint.message_id == message_id
        )
    ).one_or_none()


def problems_of_messages(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Problem]:
    if not message_ids:
        return {}
    rows = session.execute(
        select(ProblemComplaint.message_id, Problem)
        .join(
            Problem,
            (ProblemComplaint.workspace_id == Problem.workspace_id)
            & (ProblemComplaint.problem_id == Problem.id),
        )
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            ProblemComplaint.message_id.in_(list(message_ids)),
        )
    ).all()
    return {message_id: problem for message_id, problem in rows}


def complaints_of(
    session: Session, *, problem: Problem, limit: int | None = None, offset: int = 0
) -> list[ProblemComplaint]:
    """The problem's complaints, newest first (a page of them with ``limit``/``offset``)."""
    query = (
        select(ProblemComplaint)
        .where(
            ProblemComplaint.workspace_id == problem.workspace_id,
            ProblemComplaint.problem_id == problem.id,
        )
        .order_by(ProblemComplaint.complained_at.desc(), ProblemComplaint.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# --- history ----------------------------------------------------------------------------------


def log_event(
    session: Session, problem: Problem, kind: str, *, actor_id: uuid.UUID | None = None, **data: Any
) -> ProblemEvent:
    event = ProblemEvent(
        workspace_id=problem.workspace_id,
        problem_id=problem.id,
        kind=kind,
        actor_id=actor_id,
        data={k: v for k, v in data.items() if v is not None},
    )
    session.add(event)
    problem.updated_at = utcnow()
    return event


def history(session: Session, *, problem: Problem) -> list[ProblemEvent]:
    return list(
        session.scalars(
            select(ProblemEvent)
            .where(
                ProblemEvent.workspace_id == problem.workspace_id,
                ProblemEvent.problem_id == problem.id,
            )
            .order_by(ProblemEvent.at, ProblemEvent.id)
        )
    )


def _audit(
    session: Session, actor: accounts.Actor, problem: Problem, action: str, **details: Any
) -> None:
    accounts.record(
        session,
        workspace_id=problem.workspace_id,
        actor=actor,
        action=action,
        entity_type="problem",
        entity_id=problem.id,
        details={"number": problem.number, **details},
    )


# --- vectors and aggregates -------------------------------------------------------------------


def as_vector(raw: bytes | None) -> NDArray[np.float32]:
    if not raw:
        return np.zeros(textrep.DIM, dtype=np.float32)
    return np.frombuffer(raw, dtype=np.float32).copy()


def as_bytes(vector: NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def ignored_terms(session: Session, *, workspace_id: uuid.UUID) -> list[str]:
    """The workspace's own names (subjects): every complaint mentions them, so they would
    make clusters follow *who* was addressed instead of *what* went wrong."""
    return [s.name for s in subjects.list_subjects(session, workspace_id=workspace_id)]


def refresh(session: Session, problem: Problem, *, relabel: bool = True) -> None:
    """Recount the problem from its complaints: sizes, people, centroid, aspects, channels,
    subjects and (``relabel``) its key phrases and quotes."""
    rows = complaints_of(session, problem=problem)
    problem.complaint_count = len(rows)
    identity_ids = sorted({r.identity_id for r in rows if r.identity_id is not None})
    persons = people.persons_by_identity(
        session, workspace_id=problem.workspace_id, identity_ids=identity_ids
    )
    problem.people_count = len(
        {str(persons[i].id) if i in persons else f"i:{i}" for i in identity_ids}
    ) + sum(1 for r in rows if r.identity_id is None)
    problem.first_complaint_at = min((r.complained_at for r in rows), default=None)
    problem.last_complaint_at = max((r.complained_at for r in rows), default=None)
    vectors = [as_vector(r.vector) for r in rows if r.vector]
    problem.centroid = as_bytes(np.sum(vectors, axis=0)) if vectors else None
    ids = [r.message_id for r in rows]
    problem.channels = dict(Counter(str(r.channel_id) for r in rows).most_common())
    problem.aspects = _aspect_counts(session, problem.workspace_id, ids)
    found = subjects.subjects_of(session, workspace_id=problem.workspace_id, message_ids=ids)
    problem.subjects = dict(
        Counter(str(s.id) for items in found.values() for s in items).most_common()
    )
    if relabel:
        _relabel(session, problem, rows)
    problem.updated_at = utcnow()


def absorb(
    session: Session,
    problem: Problem,
    complaints: Sequence[ProblemComplaint],
    *,
    aspects: dict[uuid.UUID, list[str]],
) -> None:
    """Count new complaints in without rereading the problem (the ingest path): the centroid
    and counters grow; distinct people are recounted by one indexed query."""
    centroid = as_vector(problem.centroid)
    channel_counts: Counter[str] = Counter(problem.channels or {})
    aspect_counts: Counter[str] = Counter(problem.aspects or {})
    for complaint in complaints:
        if complaint.vector:
            centroid = centroid + as_vector(complaint.vector)
        channel_counts[str(complaint.channel_id)] += 1
        aspect_counts.update(aspects.get(complaint.message_id, []))
    problem.centroid = as_bytes(centroid)
    problem.complaint_count += len(complaints)
    problem.channels = dict(channel_counts.most_common())
    problem.aspects = dict(aspect_counts.most_common(12))
    times = [people.as_utc(c.complained_at) for c in complaints]
    first, last = min(times), max(times)
    if problem.first_complaint_at is None or first < people.as_utc(problem.first_complaint_at):
        problem.first_complaint_at = first
    if problem.last_complaint_at is None or last > people.as_utc(problem.last_complaint_at):
        problem.last_complaint_at = last
    found = subjects.subjects_of(
        session, workspace_id=problem.workspace_id, message_ids=[c.message_id for c in complaints]
    )
    subject_counts: Counter[str] = Counter(problem.subjects or {})
    subject_counts.update(str(s.id) for items in found.values() for s in items)
    problem.subjects = dict(subject_counts.most_common())
    problem.people_count = _people_count(session, problem)
    problem.updated_at = utcnow()


def _people_count(session: Session, problem: Problem) -> int:
    """Distinct authors (identities; unlinked messages count one each)."""
    same = (ProblemComplaint.workspace_id == problem.workspace_id) & (
        ProblemComplaint.problem_id == problem.id
    )
    identities = session.scalar(
        select(func.count(func.distinct(ProblemComplaint.identity_id))).where(same)
    )
    anonymous = session.scalar(
        select(func.count())
        .select_from(ProblemComplaint)
        .where(same, ProblemComplaint.identity_id.is_(None))
    )
    return int(identities or 0) + int(anonymous or 0)


def relabel(session: Session, problem: Problem) -> None:
    _relabel(session, problem, complaints_of(session, problem=problem, limit=LABEL_SAMPLE))


def _aspect_counts(
    session: Session, workspace_id: uuid.UUID, message_ids: list[uuid.UUID]
) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for chunk in _chunks(message_ids, 500):
        for analysis in nlp.analyses_of(
            session, workspace_id=workspace_id, message_ids=chunk
        ).values():
            for item in (analysis.details or {}).get("aspects") or []:
                if item.get("aspect"):
                    counts[str(item["aspect"])] += 1
    return dict(counts.most_common(12))


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _relabel(session: Session, problem: Problem, rows: list[ProblemComplaint]) -> None:
    """Key phrases against other complaints, and the members nearest the centroid as quotes."""
    sample = [r for r in rows if r.vector][:LABEL_SAMPLE]
    if not sample:
        problem.key_phrases, problem.quote_ids = [], []
        return
    messages = {
        m.id: m
        for m in channels.messages_by_id(
            session, workspace_id=problem.workspace_id, message_ids=[r.message_id for r in sample]
        )
    }
    sample = [r for r in sample if r.message_id in messages]
    texts = [messages[r.message_id].text for r in sample]
    background = _background_texts(session, problem)
    ignore = ignored_terms(session, workspace_id=problem.workspace_id)
    problem.key_phrases = textrep.key_phrases(
        texts, language=problem.language, background=background, ignore=ignore
    )
    vectors = np.vstack([as_vector(r.vector) for r in sample])
    centroid = vectors.sum(axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm > 0:
        centroid = centroid / norm
    picks = textrep.representative(vectors, centroid.astype(np.float32), k=QUOTES)
    problem.quote_ids = [str(sample[i].message_id) for i in picks]


def _background_texts(session: Session, problem: Problem) -> list[str]:
    ids = list(
        session.scalars(
            select(ProblemComplaint.message_id)
            .where(
                ProblemComplaint.workspace_id == problem.workspace_id,
                ProblemComplaint.problem_id != problem.id,
            )
            .order_by(ProblemComplaint.complained_at.desc())
            .limit(BACKGROUND_SAMPLE)
        )
    )
    rows = channels.messages_by_id(session, workspace_id=problem.workspace_id, message_ids=ids)
    return [m.text for m in rows]


# --- creating and attaching -------------------------------------------------------------------


def new_problem(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    language: str | None,
    state: ProblemState = ProblemState.CANDIDATE,
    manual: bool = False,
    title: str | None = None,
) -> Problem:
    problem = Problem(
        workspace_id=workspace_id,
        number=next_number(session, workspace_id=workspace_id),
        state=state,
        language=language,
        space=textrep.space_of(language),
        manual=manual,
        title=title,
    )
    session.add(problem)
    session.flush()
    return problem


def _complaint_rows(
    session: Session, workspace_id: uuid.UUID, message_ids: Sequence[Any]
) -> list[tuple[Any, str | None]]:
    """(message, language) for these ids; an id not in the workspace is an error."""
    try:
        wanted = list(dict.fromkeys(uuid.UUID(str(m)) for m in message_ids))
    except ValueError:
        raise InvalidInput(N_("That is not a message id."), field="message_ids") from None
    rows = channels.messages_by_id(session, workspace_id=workspace_id, message_ids=wanted)
    if len(rows) != len(wanted):
        raise NotFound(N_("No such message."))
    analyses = nlp.analyses_of(session, workspace_id=workspace_id, message_ids=wanted)
    return [(m, analyses[m.id].language if m.id in analyses else m.language) for m in rows]


def attach(
    session: Session,
    *,
    problem: Problem,
    message_ids: Sequence[Any],
    actor: accounts.Actor,
    event: str = "attached",
) -> int:
    """Put these messages into the problem by hand (pinned: clustering leaves them there).

    A message already in another problem moves here. Returns how many changed.
    """
    actor.require(Role.AGENT)
    if problem.state is ProblemState.MERGED:
        raise Conflict(N_("This problem was merged into another one."))
    rows = _complaint_rows(session, problem.workspace_id, message_ids)
    if not rows:
        return 0
    texts = [m.text for m, _ in rows]
    ignore = ignored_terms(session, workspace_id=problem.workspace_id)
    vectors = textrep.embed(texts, language=problem.language or rows[0][1], ignore=ignore)
    existing = {
        c.message_id: c
        for c in session.scalars(
            select(ProblemComplaint).where(
                ProblemComplaint.workspace_id == problem.workspace_id,
                ProblemComplaint.message_id.in_([m.id for m, _ in rows]),
            )
        )
    }
    touched: set[uuid.UUID] = {problem.id}
    changed = 0
    for (message, _language), vector in zip(rows, vectors, strict=True):
        found = existing.get(message.id)
        if found is not None and found.problem_id == problem.id and found.pinned:
            continue
        if found is not None:
            touched.add(found.problem_id)
            found.problem_id, found.pinned, found.added_by = problem.id, True, actor.user_id
        else:
            session.add(
                ProblemComplaint(
                    workspace_id=problem.workspace_id,
                    problem_id=problem.id,
                    message_id=message.id,
                    identity_id=message.identity_id,
                    channel_id=message.channel_id,
                    vector=as_bytes(vector) if np.any(vector) else None,
                    pinned=True,
                    added_by=actor.user_id,
                    complained_at=message.created_at,
                )
            )
        changed += 1
    session.flush()
    _refresh_all(session, problem.workspace_id, touched)
    if changed:
        log_event(session, problem, event, actor_id=actor.user_id, count=changed)
    return changed


def _refresh_all(
    session: Session, workspace_id: uuid.UUID, problem_ids: Iterable[uuid.UUID]
) -> None:
    for problem_id in problem_ids:
        refresh(session, get_problem(session, workspace_id=workspace_id, problem_id=problem_id))


def create(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    title: str,
    message_ids: Sequence[Any] = (),
    language: str | None = None,
) -> Problem:
    """A problem someone noticed before clustering did: confirmed from the start."""
    actor.require(Role.AGENT)
    title = _clean_title(title)
    if language is None and message_ids:
        rows = _complaint_rows(session, workspace_id, message_ids)
        language = next((lang for _m, lang in rows if lang), None)
    problem = new_problem(
        session,
        workspace_id=workspace_id,
        language=language,
        state=ProblemState.CONFIRMED,
        manual=True,
        title=title,
    )
    problem.confirmed_at = utcnow()
    log_event(session, problem, "created", actor_id=actor.user_id, title=title)
    _audit(session, actor, problem, "problem.create", title=title)
    if message_ids:
        attach(session, problem=problem, message_ids=message_ids, actor=actor)
    return problem


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(N_("Give the problem a title."), field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(
            N_("The title is too long ({limit} characters at most)."),
            field="title",
            limit=MAX_TITLE,
        )
    return title


def _clean_text(value: str | None, field: str, *, required: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(N_("This field is required."), field=field)
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            N_("The text is too long ({limit} characters at most)."), field=field, limit=MAX_TEXT
        )
    return value


# --- the lifecycle ----------------------------------------------------------------------------


def _move_to(
    session: Session,
    problem: Problem,
    state: ProblemState,
    *,
    actor: accounts.Actor,
    action: str,
    **data: Any,
) -> None:
    if state not in TRANSITIONS[problem.state]:
        raise Conflict(
            N_("A problem in state “{state}” cannot become “{target}”."),
            state=problem.state.value,
            target=state.value,
        )
    previous = problem.state
    problem.state = state
    log_event(
        session,
        problem,
        "state",
        actor_id=actor.user_id,
        before=previous.value,
        after=state.value,
        **data,
    )
    _audit(session, actor, problem, action, before=previous.value, after=state.value)


def confirm(
    session: Session, *, problem: Problem, actor: accounts.Actor, title: str | None = None
) -> Problem:
    """A human agrees these complaints are one problem (and may name it)."""
    actor.require(Role.AGENT)
    if title:
        problem.title = _clean_title(title)
    _move_to(session, problem, ProblemState.CONFIRMED, actor=actor, action="problem.confirm")
    problem.confirmed_at = utcnow()
    problem.decline_reason = None
    return problem


def _check_owner(session: Session, workspace_id: uuid.UUID, owner_id: Any) -> uuid.UUID:
    try:
        user_id = uuid.UUID(str(owner_id))
    except ValueError:
        raise InvalidInput(N_("Choose an owner."), field="owner_id") from None
    member = session.scalars(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).one_or_none()
    if member is None or not member.role.at_least(Role.AGENT):
        raise InvalidInput(N_("The owner must be a member of this workspace."), field="owner_id")
    return user_id


def start_fixing(
    session: Session,
    *,
    problem: Problem,
    actor: accounts.Actor,
    owner_id: Any,
    root_cause: str | None,
    planned_fix: str | None,
    fix_due: date | None = None,
) -> Problem:
    """Someone owns the fix: the root cause as understood now, the plan and when."""
    actor.require(Role.AGENT)
    problem.owner_id = _check_owner(session, problem.workspace_id, owner_id)
    problem.root_cause = _clean_text(root_cause, "root_cause", required=True)
    problem.planned_fix = _clean_text(planned_fix, "planned_fix", required=True)
    problem.fix_due = fix_due
    if problem.state is ProblemState.CANDIDATE:
        confirm(session, problem=problem, actor=actor)
    _move_to(
        session,
        problem,
        ProblemState.FIXING,
        actor=actor,
        action="problem.fixing",
        owner=str(problem.owner_id),
        due=fix_due.isoformat() if fix_due else None,
    )
    return problem


def mark_fixed(
    session: Session, *, problem: Problem, actor: accounts.Actor, fix_note: str
) -> Problem:
    """The fix is done; say what was done. Follow-ups are prepared by ``followups.prepare``."""
    actor.require(Role.AGENT)
    problem.fix_note = _clean_text(fix_note, "fix_note", required=True)
    _move_to(session, problem, ProblemState.FIXED, actor=actor, action="problem.fixed")
    problem.fixed_at = utcnow()
    problem.verified_at = None
    return problem


def verify(
    session: Session, *, problem: Problem, actor: accounts.Actor, evidence: dict[str, Any]
) -> Problem:
    """Complaints fell after the fix; the evidence is kept with the problem."""
    actor.require(Role.AGENT)
    _move_to(
        session,
        problem,
        ProblemState.VERIFIED,
        actor=actor,
        action="problem.verify",
        before_rate=evidence.get("before_rate"),
        after_rate=evidence.get("after_rate"),
        p_value=evidence.get("p_value"),
    )
    problem.evidence = evidence
    problem.verified_at = utcnow()
    return problem


def reopen(
    session: Session, *, problem: Problem, actor: accounts.Actor, note: str | None = None
) -> Problem:
    """Complaints came back after the fix (a person says so, or ``evidence.check`` does)."""
    if actor.user_id is not None:
        actor.require(Role.AGENT)
    _move_to(
        session,
        problem,
        ProblemState.REOPENED,
        actor=actor,
        action="problem.reopen",
        note=_clean_text(note, "note"),
    )
    problem.reopened_at = utcnow()
    return problem


def decline(session: Session, *, problem: Problem, actor: accounts.Actor, reason: str) -> Problem:
    """Not a problem we will fix — said out loud, with the reason, so it can be revisited."""
    actor.require(Role.AGENT)
    problem.decline_reason = _clean_text(reason, "reason", required=True)
    _move_to(
        session,
        problem,
        ProblemState.DECLINED,
        actor=actor,
        action="problem.decline",
        reason=problem.decline_reason,
    )
    return problem


def edit(
    session: Session,
    *,
    problem: Problem,
    actor: accounts.Actor,
    title: str | None = None,
    owner_id: Any = None,
    root_cause: str | None = None,
    planned_fix: str | None = None,
    fix_due: date | None = None,
) -> Problem:
    """Change what a person wrote about the problem (only the fields given)."""
    actor.require(Role.AGENT)
    changed: dict[str, Any] = {}
    if title is not None:
        problem.title = _clean_title(title)
        changed["title"] = problem.title
    if owner_id is not None:
        problem.owner_id = (
            None if owner_id == "" else _check_owner(session, problem.workspace_id, owner_id)
        )
        changed["owner"] = str(problem.owner_id) if problem.owner_id else None
    if root_cause is not None:
        problem.root_cause = _clean_text(root_cause, "root_cause")
        changed["root_cause"] = True
    if planned_fix is not None:
        problem.planned_fix = _clean_text(planned_fix, "planned_fix")
        changed["planned_fix"] = True
    if fix_due is not None:
        problem.fix_due = fix_due
        changed["due"] = fix_due.isoformat()
    if changed:
        log_event(session, problem, "edited", actor_id=actor.user_id, **changed)
        _audit(session, actor, problem, "problem.edit", fields=sorted(changed))
    return problem


# --- merge, split, move -----------------------------------------------------------------------


def merge(session: Session, *, source: Problem, target: Problem, actor: accounts.Actor) -> Problem:
    """Every complaint of ``source`` joins ``target``; ``source`` stays as a pointer."""
    if actor.user_id is not None:
        actor.require(Role.AGENT)
    if source.id == target.id:
        raise InvalidInput(N_("A problem cannot be merged into itself."), field="target")
    if ProblemState.MERGED in (source.state, target.state):
        raise Conflict(N_("This problem was merged into another one."))
    session.execute(
        update(ProblemComplaint)
        .where(
            ProblemComplaint.workspace_id == source.workspace_id,
            ProblemComplaint.problem_id == source.id,
        )
        .values(problem_id=target.id)
    )
    previous = source.state
    source.state = ProblemState.MERGED
    source.merged_into_id = target.id
    if target.title is None and source.title:
        target.title = source.title
    refresh(session, source, relabel=False)
    refresh(session, target)
    log_event(
        session,
        source,
        "merged_into",
        actor_id=actor.user_id,
        target=target.number,
        before=previous.value,
    )
    log_event(session, target, "merged", actor_id=actor.user_id, source=source.number)
    _audit(session, actor, target, "problem.merge", source=source.number)
    return target


def split(
    session: Session,
    *,
    problem: Problem,
    message_ids: Sequence[Any],
    actor: accounts.Actor,
    title: str | None = None,
) -> Problem:
    """These complaints are a different problem: they move to a new one."""
    if actor.user_id is not None:
        actor.require(Role.AGENT)
    wanted = _members(session, problem, message_ids)
    if len(wanted) == problem.complaint_count:
        raise InvalidInput(N_("Leave at least one complaint in the problem."), field="message_ids")
    state = ProblemState.CANDIDATE if actor.user_id is None else ProblemState.CONFIRMED
    new = new_problem(
        session,
        workspace_id=problem.workspace_id,
        language=problem.language,
        state=state,
        manual=actor.user_id is not None,
        title=_clean_title(title) if title else None,
    )
    if state is ProblemState.CONFIRMED:
        new.confirmed_at = utcnow()
    session.execute(
        update(ProblemComplaint)
        .where(
            ProblemComplaint.workspace_id == problem.workspace_id,
            ProblemComplaint.message_id.in_(wanted),
        )
        .values(problem_id=new.id, pinned=actor.user_id is not None)
    )
    refresh(session, problem)
    refresh(session, new)
    log_event(session, new, "split_from", actor_id=actor.user_id, source=problem.number)
    log_event(
        session, problem, "split_off", actor_id=actor.user_id, target=new.number, count=len(wanted)
    )
    _audit(session, actor, problem, "problem.split", target=new.number, count=len(wanted))
    return new


def _members(session: Session, problem: Problem, message_ids: Sequence[Any]) -> list[uuid.UUID]:
    try:
        wanted = list(dict.fromkeys(uuid.UUID(str(m)) for m in message_ids))
    except ValueError:
        raise InvalidInput(N_("That is not a message id."), field="message_ids") from None
    if not wanted:
        raise InvalidInput(N_("Choose the complaints first."), field="message_ids")
    found = set(
        session.scalars(
            select(ProblemComplaint.message_id).where(
                ProblemComplaint.workspace_id == problem.workspace_id,
                ProblemComplaint.problem_id == problem.id,
                ProblemComplaint.message_id.in_(wanted),
            )
        )
    )
    if len(found) != len(wanted):
        raise InvalidInput(N_("That complaint is not in this problem."), field="message_ids")
    return wanted


def move(
    session: Session,
    *,
    source: Problem,
    target: Problem,
    message_ids: Sequence[Any],
    actor: accounts.Actor,
) -> int:
    """Move complaints to another problem (pinned there: a person decided)."""
    actor.require(Role.AGENT)
    if target.state is ProblemState.MERGED:
        raise Conflict(N_("This problem was merged into another one."))
    if source.id == target.id:
        return 0
    wanted = _members(session, source, message_ids)
    session.execute(
        update(ProblemComplaint)
        .where(
            ProblemComplaint.workspace_id == source.workspace_id,
            ProblemComplaint.message_id.in_(wanted),
        )
        .values(problem_id=target.id, pinned=True, added_by=actor.user_id)
    )
    refresh(session, source)
    refresh(session, target)
    log_event(
        session,
        source,
        "moved_out",
        actor_id=actor.user_id,
        target=target.number,
        count=len(wanted),
    )
    log_event(
        session, target, "moved_in", actor_id=actor.user_id, source=source.number, count=len(wanted)
    )
    _audit(session, actor, source, "problem.move", target=target.number, count=len(wanted))
    return len(wanted)


def detach(
    session: Session, *, problem: Problem, message_ids: Sequence[Any], actor: accounts.Actor
) -> int:
    """ "Not a complaint about this": the messages leave the problem (and are not re-clustered)."""
    actor.require(Role.AGENT)
    wanted = _members(session, problem, message_ids)
    session.execute(
        delete(ProblemComplaint).where(
            ProblemComplaint.workspace_id == problem.workspace_id,
            ProblemComplaint.message_id.in_(wanted),
        )
    )
    refresh(session, problem)
    log_event(session, problem, "detached", actor_id=actor.user_id, count=len(wanted))
    _audit(session, actor, problem, "problem.move", count=len(wanted), removed=True)
    return len(wanted)


# --- reading for pages and reports ------------------------------------------------------------


@dataclass(frozen=True)
class Affected:
    """One person (or, unlinked, one identity) who complained about the problem."""

    key: str  # "person:<id>" or "identity:<id>"
    person_id: uuid.UUID | None
    identity_id: uuid.UUID | None
    name: str
    complaints: int
    last_at: datetime
    message_id: uuid.UUID  # their latest complaint
    channel_id: uuid.UUID


def affected(session: Session, *, problem: Problem) -> list[Affected]:
    """Who complained, most recent first — the people a fix must be told to."""
    rows = complaints_of(session, problem=problem)
    identity_ids = sorted({r.identity_id for r in rows if r.identity_id is not None})
    persons = people.persons_by_identity(
        session, workspace_id=problem.workspace_id, identity_ids=identity_ids
    )
    messages = {
        m.id: m
        for m in channels.messages_by_id(
            session, workspace_id=problem.workspace_id, message_ids=[r.message_id for r in rows]
        )
    }
    groups: dict[str, list[ProblemComplaint]] = {}
    for row in rows:
        person = persons.get(row.identity_id) if row.identity_id else None
        key = (
            f"person:{person.id}"
            if person
            else f"identity:{row.identity_id}"
            if row.identity_id
            else f"message:{row.message_id}"
        )
        groups.setdefault(key, []).append(row)
    out = []
    for key, items in groups.items():
        latest = max(items, key=lambda r: r.complained_at)
        person = persons.get(latest.identity_id) if latest.identity_id else None
        message = messages.get(latest.message_id)
        name = (
            person.name
            if person
            else (message.author_name or message.author_handle)
            if message
            else "?"
        )
        out.append(
            Affected(
                key=key,
                person_id=person.id if person else None,
                identity_id=latest.identity_id,
                name=name,
                complaints=len(items),
                last_at=latest.complained_at,
                message_id=latest.message_id,
                channel_id=latest.channel_id,
            )
        )
    out.sort(key=lambda a: a.last_at, reverse=True)
    return out


def daily_counts(
    session: Session, *, problem: Problem, start: date, end: date
) -> list[tuple[date, int]]:
    """Complaints per day from ``start`` to ``end`` (inclusive), zeros included."""
    rows = session.scalars(
        select(ProblemComplaint.complained_at).where(
            ProblemComplaint.workspace_id == problem.workspace_id,
            ProblemComplaint.problem_id == problem.id,
            ProblemComplaint.complained_at
            >= datetime.combine(start, datetime.min.time(), tzinfo=UTC),
            ProblemComplaint.complained_at
            < datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        )
    )
    counts = Counter(people.as_utc(at).date() for at in rows)
    days = (end - start).days + 1
    return [
        (start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range(days)
    ]


@dataclass(frozen=True)
class Board:
    columns: dict[ProblemState, list[Problem]]
    emerging: int  # candidates too small to show yet


BOARD_STATES = (
    ProblemState.CANDIDATE,
    ProblemState.CONFIRMED,
    ProblemState.FIXING,
    ProblemState.REOPENED,
    ProblemState.FIXED,
    ProblemState.VERIFIED,
    ProblemState.DECLINED,
)
MIN_CANDIDATE = 3  # complaints before a found cluster is worth a human's look


def list_problems(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    states: Sequence[ProblemState] | None = None,
    subject_id: Any = None,
    aspect: str | None = None,
    owner_id: Any = None,
    min_candidate: int = MIN_CANDIDATE,
    limit: int = 500,
) -> list[Problem]:
    """Problems by affected people (most first), then by the latest complaint."""
    query = select(Problem).where(
        Problem.workspace_id == workspace_id, Problem.state != ProblemState.MERGED
    )
    if states:
        query = query.where(Problem.state.in_(list(states)))
    if owner_id:
        try:
            query = query.where(Problem.owner_id == uuid.UUID(str(owner_id)))
        except ValueError:
            raise InvalidInput(N_("Choose an owner."), field="owner_id") from None
    query = query.where(
        (Problem.state != ProblemState.CANDIDATE) | (Problem.complaint_count >= min_candidate)
    )
    rows = list(
        session.scalars(
            query.order_by(Problem.people_count.desc(), Problem.last_complaint_at.desc()).limit(
                limit
            )
        )
    )
    if subject_id:
        rows = [p for p in rows if str(subject_id) in (p.subjects or {})]
    if aspect:
        rows = [p for p in rows if aspect in (p.aspects or {})]
    return rows


def board(session: Session, *, workspace_id: uuid.UUID, **filters: Any) -> Board:
    rows = list_problems(session, workspace_id=workspace_id, **filters)
    columns: dict[ProblemState, list[Problem]] = {state: [] for state in BOARD_STATES}
    for problem in rows:
        columns[problem.state].append(problem)
    emerging = session.scalar(
        select(func.count())
        .select_from(Problem)
        .where(
            Problem.workspace_id == workspace_id,
            Problem.state == ProblemState.CANDIDATE,
            Problem.complaint_count < MIN_CANDIDATE,
            Problem.complaint_count > 0,
        )
    )
    return Board(columns=columns, emerging=int(emerging or 0))


def member_names(session: Session, *, workspace_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return people.member_names(session, workspace_id=workspace_id)


def owners_to_alert(
    session: Session, *, workspace_id: uuid.UUID, problem: Problem | None
) -> list[uuid.UUID]:
    """Who hears about a spike: the problem's owner, the chosen members, else the admins."""
    chosen = [uuid.UUID(u) for u in settings_of(session, workspace_id=workspace_id).alert_user_ids]
    if problem is not None and problem.owner_id:
        chosen.insert(0, problem.owner_id)
    if chosen:
        return list(dict.fromkeys(chosen))
    return list(
        session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.workspace_id == workspace_id,
                Membership.role.in_([Role.OWNER, Role.ADMIN]),
            )
        )
    )


def open_in_space(session: Session, *, workspace_id: uuid.UUID, space: str) -> list[Problem]:
    """Problems new complaints may join, in one vector space."""
    return list(
        session.scalars(
            select(Problem)
            .where(
                Problem.workspace_id == workspace_id,
                Problem.space == space,
                Problem.state.in_(list(OPEN_STATES)),
                Problem.centroid.is_not(None),
            )
            .order_by(Problem.number)
        )
    )


# --- added for the UI ---

TREND_DAYS = 7
MAX_ALERT_P = 0.5
MAX_VERIFY_DAYS = 365


def trends(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    problem_ids: Sequence[uuid.UUID],
    now: datetime | None = None,
    days: int = TREND_DAYS,
) -> dict[uuid.UUID, tuple[int, int]]:
    """Complaints per problem in the last ``days`` and in the ``days`` before (one query)."""
    if not problem_ids:
        return {}
    now = people.as_utc(now or utcnow())
    middle, start = now - timedelta(days=days), now - timedelta(days=2 * days)
    at = ProblemComplaint.complained_at
    rows = session.execute(
        select(
            ProblemComplaint.problem_id,
            func.sum(case((at >= middle, 1), else_=0)),
            func.sum(case((at < middle, 1), else_=0)),
        )
        .where(
            ProblemComplaint.workspace_id == workspace_id,
            ProblemComplaint.problem_id.in_(list(problem_ids)),
            at >= start,
            at < now,
        )
        .group_by(ProblemComplaint.problem_id)
    ).all()
    return {problem_id: (int(recent or 0), int(before or 0)) for problem_id, recent, before in rows}


def numbers_of(
    session: Session, *, workspace_id: uuid.UUID, problem_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Problem id → its number (a merged problem's page points at the one it joined)."""
    wanted = list(set(problem_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Problem.id, Problem.number).where(
            Problem.workspace_id == workspace_id, Problem.id.in_(wanted)
        )
    ).all()
    return {problem_id: number for problem_id, number in rows}


def save_settings(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    alert_p_value: float,
    alert_min_count: int,
    alert_user_ids: Sequence[Any],
    verify_window_days: int,
    follow_up_text: str | None,
) -> ProblemSettings:
    """Admins tune alert sensitivity, who hears about spikes, the verification window and
    the workspace's follow-up wording (empty: the shipped one)."""
    from h2h.problems import followups  # followups imports this module

    actor.require(Role.ADMIN)
    if not 0 < alert_p_value <= MAX_ALERT_P:
        raise InvalidInput(
            N_("The p-value must be above 0 and at most {limit}."),
            field="alert_p_value",
            limit=MAX_ALERT_P,
        )
    if not 1 <= alert_min_count <= 10_000:
        raise InvalidInput(
            N_("The minimum count must be between 1 and 10000."), field="alert_min_count"
        )
    if not 1 <= verify_window_days <= MAX_VERIFY_DAYS:
        raise InvalidInput(
            N_("The window must be between 1 and {limit} days."),
            field="verify_window_days",
            limit=MAX_VERIFY_DAYS,
        )
    users = [_alert_user(session, workspace_id, u) for u in dict.fromkeys(map(str, alert_user_ids))]
    text = (follow_up_text or "").strip()
    found = settings_of(session, workspace_id=workspace_id)
    found.alert_p_value, found.alert_min_count = float(alert_p_value), int(alert_min_count)
    found.alert_user_ids = [str(u) for u in users]
    found.verify_window_days = int(verify_window_days)
    found.follow_up_text = followups.check_text(text) if text else None
    found.updated_at = utcnow()
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="problem.settings",
        entity_type="problem_settings",
        entity_id=found.id,
        details={"alert_p_value": found.alert_p_value, "alert_min_count": found.alert_min_count},
    )
    return found


def _alert_user(session: Session, workspace_id: uuid.UUID, user_id: str) -> uuid.UUID:
    message = N_("Choose members of this workspace.")
    try:
        wanted = uuid.UUID(user_id)
    except ValueError:
        raise InvalidInput(message, field="alert_user_ids") from None
    if wanted not in people.member_names(session, workspace_id=workspace_id):
        raise InvalidInput(message, field="alert_user_ids")
    return wanted


def reassign(
    session: Session, *, source: Problem, target: Problem, message_ids: Sequence[Any]
) -> int:
    """A system refinement: these complaints fit ``target`` better. They move without being
    pinned (a later refinement may move them again) and without an audit entry (no person
    acted); both problems log a "refined" event and are recounted. A source left empty is
    closed as merged into the target."""
    if source.id == target.id or ProblemState.MERGED in (source.state, target.state):
        return 0
    wanted = _members(session, source, message_ids)
    session.execute(
        update(ProblemComplaint)
        .where(
            ProblemComplaint.workspace_id == source.workspace_id,
            ProblemComplaint.problem_id == source.id,
            ProblemComplaint.message_id.in_(wanted),
            ProblemComplaint.pinned.is_(False),
        )
        .values(problem_id=target.id)
    )
    refresh(session, source)
    refresh(session, target)
    if source.complaint_count == 0:
        source.state = ProblemState.MERGED
        source.merged_into_id = target.id
    log_event(session, source, "refined", target=target.number, moved_out=len(wanted))
    log_event(session, target, "refined", source=source.number, moved_in=len(wanted))
    return len(wanted)
