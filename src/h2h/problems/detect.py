"""Complaints → problems: each new complaint joins the nearest problem or opens a candidate.

A complaint is an inbound message the NLP read as negative or as a complaint (and not as
spam). Right after ingest a small batch is clustered in the same transaction, after the
analysis and people linking (the ``ACT`` stage); big imports and re-analysed messages are
picked up by the ``problems.cluster_pending`` job, which walks analyses by time from a
per-workspace watermark. The ``problems.refine`` job merges near-identical candidates and
splits incoherent ones, and moves single complaints between candidates when another fits
clearly better; complaints a person placed (pinned) never move.

Vectors live in spaces by language (``textrep.space_of``): a Russian complaint never joins an
English problem, since the two vector tables are not aligned.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Uuid, literal, select, tuple_
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Direction
from h2h.channels.models import Message
from h2h.db import UTCDateTime
from h2h.nlp import service as nlp
from h2h.nlp.models import INTENTS, Analysis, Sentiment
from h2h.problems import clustering, service, textrep
from h2h.problems.models import Problem, ProblemComplaint, ProblemState

INLINE_LIMIT = 500  # complaints clustered inside the ingest transaction; more go to the job
PENDING_CHUNK = 2000
# A problem is relabelled when its size reaches one of these (labels of big problems settle).
RELABEL_AT = frozenset({1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, 500, 800, 1300})
_COMPLAINT = 1 << INTENTS.index("complaint")
_SPAM = 1 << INTENTS.index("spam")


def is_complaint(analysis: Analysis) -> bool:
    """Negative, or a complaint by intent, and not spam."""
    if analysis.intents & _SPAM:
        return False
    return analysis.sentiment is Sentiment.NEGATIVE or bool(analysis.intents & _COMPLAINT)


@ingest.after_ingest(stage=ingest.ACT)
def cluster_new_messages(
    session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Post-ingest step: cluster a small batch now; a big one waits for the pending job."""
    if 0 < len(messages) <= INLINE_LIMIT:
        cluster_messages(session, workspace_id=workspace_id, message_ids=[m for m, _ in messages])


@dataclass
class Outcome:
    joined: int = 0  # complaints that joined an existing problem
    opened: int = 0  # new candidate problems
    skipped: int = 0  # complaints with no usable words
    added: list[ProblemComplaint] = field(default_factory=list)


def cluster_messages(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> Outcome:
    """Assign the complaints among these messages (others, and those already placed, are left)."""
    outcome = Outcome()
    analyses = nlp.analyses_of(session, workspace_id=workspace_id, message_ids=list(message_ids))
    wanted = [m for m, a in analyses.items() if is_complaint(a)]
    if not wanted:
        return outcome
    placed = set(
        session.scalars(
            select(ProblemComplaint.message_id).where(
                ProblemComplaint.workspace_id == workspace_id,
                ProblemComplaint.message_id.in_(wanted),
            )
        )
    )
    rows = [
        m
        for m in channels.messages_by_id(session, workspace_id=workspace_id, message_ids=wanted)
        if m.id not in placed and m.direction is Direction.INBOUND
    ]
    by_language: dict[str | None, list[Message]] = defaultdict(list)
    for message in rows:
        by_language[analyses[message.id].language or message.language].append(message)
    ignore = service.ignored_terms(session, workspace_id=workspace_id)
    for language, items in by_language.items():
        _cluster_language(session, workspace_id, language, items, ignore, outcome)
    session.flush()
    added: dict[uuid.UUID, list[ProblemComplaint]] = defaultdict(list)
    for row in outcome.added:
        added[row.problem_id].append(row)
    for problem_id, complaints in added.items():
        problem = service.get_problem(session, workspace_id=workspace_id, problem_id=problem_id)
        before = problem.complaint_count
        service.absorb(
            session,
            problem,
            complaints,
            aspects={c.message_id: _aspects(analyses[c.message_id]) for c in complaints},
        )
        if any(before < size <= problem.complaint_count for size in RELABEL_AT):
            service.relabel(session, problem)
    return outcome


def _cluster_language(
    session: Session,
    workspace_id: uuid.UUID,
    language: str | None,
    items: list[Message],
    ignore: list[str],
    outcome: Outcome,
) -> None:
    vectors = textrep.embed([m.text for m in items], language=language, ignore=ignore)
    usable = [i for i in range(len(items)) if np.any(vectors[i])]
    outcome.skipped += len(items) - len(usable)
    if not usable:
        return
    space = textrep.space_of(language)
    problems = service.open_in_space(session, workspace_id=workspace_id, space=space)
    sums = [service.as_vector(p.centroid) for p in problems]
    centroids = _normalised(sums)
    found = clustering.assign_batch(
        vectors[usable],
        centroids,
        sums=np.vstack(sums) if sums else None,
        threshold=clustering.tuning(space).join,
    )
    opened: dict[int, Problem] = {}
    for row, assignment in zip(usable, found, strict=True):
        message = items[row]
        if assignment.index is not None and assignment.index < len(problems):
            problem = problems[assignment.index]
            outcome.joined += 1
        else:
            key = -1 - row if assignment.index is None else assignment.index
            if key not in opened:
                opened[key] = service.new_problem(
                    session, workspace_id=workspace_id, language=language
                )
                outcome.opened += 1
            problem = opened[key]
        complaint = ProblemComplaint(
            workspace_id=workspace_id,
            problem_id=problem.id,
            message_id=message.id,
            identity_id=message.identity_id,
            channel_id=message.channel_id,
            similarity=float(assignment.similarity),
            vector=service.as_bytes(vectors[row]),
            complained_at=message.created_at,
        )
        session.add(complaint)
        outcome.added.append(complaint)


def _normalised(vectors: list[NDArray[np.float32]]) -> NDArray[np.float32]:
    if not vectors:
        return np.zeros((0, textrep.DIM), dtype=np.float32)
    return textrep.normalize_rows(np.vstack(vectors).astype(np.float32))


def cluster_pending(
    session: Session, *, workspace_id: uuid.UUID, limit: int = PENDING_CHUNK
) -> int:
    """Cluster complaints analysed since the watermark (big imports, re-analysis)."""
    settings = service.settings_of(session, workspace_id=workspace_id)
    query = select(Analysis.message_id, Analysis.analyzed_at).where(
        Analysis.workspace_id == workspace_id
    )
    if settings.scanned_until is not None:
        # Keyset order: a bulk insert gives many analyses the same instant.
        query = query.where(
            tuple_(Analysis.analyzed_at, Analysis.message_id)
            > tuple_(
                literal(settings.scanned_until, UTCDateTime()),
                literal(settings.scanned_message_id or uuid.UUID(int=0), Uuid()),
            )
        )
    rows = session.execute(
        query.order_by(Analysis.analyzed_at, Analysis.message_id).limit(limit)
    ).all()
    if not rows:
        return 0
    cluster_messages(session, workspace_id=workspace_id, message_ids=[r[0] for r in rows])
    settings.scanned_until, settings.scanned_message_id = rows[-1][1], rows[-1][0]
    return len(rows)


# --- refinement -------------------------------------------------------------------------------


@dataclass
class Refined:
    merged: int = 0
    split: int = 0
    moved: int = 0  # complaints reassigned between candidates


def refine(session: Session, *, workspace_id: uuid.UUID) -> Refined:
    """Move complaints between candidates, merge alike candidates and split incoherent ones,
    per vector space (:func:`clustering.refine`).

    Only candidates change by themselves: a problem a person confirmed absorbs a candidate
    that duplicates it, but two confirmed problems are merged only by a person.
    """
    done = Refined()
    spaces = set(
        session.scalars(
            select(Problem.space).where(
                Problem.workspace_id == workspace_id, Problem.centroid.is_not(None)
            )
        )
    )
    for space in sorted(spaces):
        problems = service.open_in_space(session, workspace_id=workspace_id, space=space)
        if len(problems) < 1:
            continue
        sums = np.vstack([service.as_vector(p.centroid) for p in problems])
        centroids = _normalised(list(sums))
        sizes = np.asarray([p.complaint_count for p in problems], dtype=np.int64)
        member_rows = {
            i: _member_rows(session, p)
            for i, p in enumerate(problems)
            if p.state is ProblemState.CANDIDATE
        }
        members = {i: _vectors_of(rows) for i, rows in member_rows.items()}
        plan = clustering.refine(
            centroids, sizes, members, sums=sums, tuning=clustering.tuning(space)
        )
        done.moved += _apply_moves(session, problems, member_rows, plan.moves)
        gone = {i for i, p in enumerate(problems) if p.state is ProblemState.MERGED}
        for absorbed, into in plan.merges:
            if absorbed in gone or into in gone:
                continue
            if problems[absorbed].state is not ProblemState.CANDIDATE:
                absorbed, into = into, absorbed  # a person's problem absorbs the candidate
            if problems[absorbed].state is not ProblemState.CANDIDATE:
                continue
            service.merge(
                session, source=problems[absorbed], target=problems[into], actor=accounts.SYSTEM
            )
            gone.add(absorbed)
            done.merged += 1
        for index, groups in plan.splits:
            problem = problems[index]
            if index in gone or problem.state is not ProblemState.CANDIDATE or len(groups) < 2:
                continue
            ids = _member_ids(session, problem)
            for group in groups[1:]:
                chosen = [ids[i] for i in group if i < len(ids)]
                if chosen and len(chosen) < problem.complaint_count:
                    service.split(
                        session, problem=problem, message_ids=chosen, actor=accounts.SYSTEM
                    )
                    done.split += 1
    return done


def _member_rows(session: Session, problem: Problem) -> list[ProblemComplaint]:
    return [
        r
        for r in session.scalars(
            select(ProblemComplaint)
            .where(
                ProblemComplaint.workspace_id == problem.workspace_id,
                ProblemComplaint.problem_id == problem.id,
                ProblemComplaint.pinned.is_(False),
                ProblemComplaint.vector.is_not(None),
            )
            .order_by(ProblemComplaint.complained_at, ProblemComplaint.id)
        )
    ]


def _apply_moves(
    session: Session,
    problems: list[Problem],
    member_rows: dict[int, list[ProblemComplaint]],
    moves: list[tuple[int, int, int]],
) -> int:
    """Reassign members between candidates only (a person's problem keeps and gets none)."""
    grouped: dict[tuple[int, int], list[uuid.UUID]] = defaultdict(list)
    for cluster, row, target in moves:
        if problems[target].state is ProblemState.CANDIDATE and cluster in member_rows:
            grouped[(cluster, target)].append(member_rows[cluster][row].message_id)
    moved = 0
    for (cluster, target), ids in sorted(grouped.items()):
        moved += service.reassign(
            session, source=problems[cluster], target=problems[target], message_ids=ids
        )
    return moved


def _vectors_of(rows: list[ProblemComplaint]) -> np.ndarray:
    if not rows:
        return np.zeros((0, textrep.DIM), dtype=np.float32)
    return np.vstack([service.as_vector(r.vector) for r in rows])


def _member_ids(session: Session, problem: Problem) -> list[uuid.UUID]:
    return [r.message_id for r in _member_rows(session, problem)]


def _aspects(analysis: Analysis) -> list[str]:
    return [
        str(a["aspect"]) for a in (analysis.details or {}).get("aspects") or [] if a.get("aspect")
    ]
