"""Identity resolution: find persons that are probably one human and propose merging them.

Candidates come from **blocking**, never from comparing all pairs: every active person
gets keys (``person_match_keys``: canonical name, name with initial, phone, email, profile
URL, avatar, see ``matching``); only persons that share a key are compared. A key shared
by more than ``BLOCK_CAP`` persons ("solo:ivan", a default avatar) tells nothing and
would make the work quadratic, so such a block is skipped and counted.

Why the default is never to merge on our own: a wrong automatic merge mixes two
customers' messages, orders and consents — one customer sees another's history, a
withdrawal of consent is applied to the wrong human — and it is found late, by a
customer. Chatwoot's contact merging by email/phone is a long history of such reports;
Apache Unomi merges profiles only on calls from trusted sources with an explicit merge
strategy. So a person decides, unless a workspace admin sets ``auto_merge_threshold``;
even then each merge is recorded and can be undone, and an undone pair is never merged
or proposed again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import Table, delete, func, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Workspace
from h2h.db import new_id, utcnow
from h2h.people import identities, matching, names, service
from h2h.people.models import (
    Identity,
    MergeSuggestion,
    Person,
    PersonMatchKey,
    SuggestionStatus,
)

KEYS: Table = PersonMatchKey.__table__  # type: ignore[assignment]
SUGGESTIONS: Table = MergeSuggestion.__table__  # type: ignore[assignment]
PROFILE_CACHE = 50_000  # profiles kept between chunks of pairs (pairs come sorted by one side)
BLOCK_CAP = 50  # persons sharing one key; a bigger block is skipped (≤ 1,225 pairs each)
CHUNK = 500


@dataclass
class Report:
    """What one resolution pass did."""

    persons: int = 0  # persons whose keys were (re)computed
    blocks: int = 0  # keys shared by two or more persons
    blocks_skipped: int = 0  # of those, too big to tell anything
    pairs_compared: int = 0
    suggested: int = 0  # open suggestions written or updated
    merged: int = 0  # merged on their own (only with an auto-merge threshold)
    seconds: dict[str, float] = field(default_factory=dict)  # keys, candidates, scoring

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- profiles and keys --------------------------------------------------------------------------


def _region(session: Session, workspace_id: uuid.UUID) -> str:
    language = session.scalar(select(Workspace.language).where(Workspace.id == workspace_id))
    return identities.region_for(language)


def load_profiles(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, matching.Profile]:
    """Match profiles of these persons; merged and erased ones are left out."""
    region = _region(session, workspace_id)
    profiles: dict[uuid.UUID, matching.Profile] = {}
    ids = list(dict.fromkeys(person_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for p in session.execute(
            select(
                Person.id, Person.name, Person.first_name, Person.last_name, Person.avatar_url,
                Person.created_at, Person.message_count, Person.order_count,
            ).where(
                Person.workspace_id == workspace_id,
                Person.id.in_(chunk),
                Person.merged_into_id.is_(None),
                Person.erased_at.is_(None),
            )
        ):  # fmt: skip
            parts = names.name_parts(p.name, p.first_name, p.last_name)
            profile = matching.Profile(
                p.id, p.name, parts, p.created_at, p.message_count + p.order_count
            )
            if p.avatar_url:
                profile.avatars.add(p.avatar_url.strip())
            profiles[p.id] = profile
        for i in session.execute(
            select(
                Identity.person_id, Identity.kind, Identity.value, Identity.display,
                Identity.url, Identity.avatar_url,
            ).where(Identity.workspace_id == workspace_id, Identity.person_id.in_(chunk))
        ):  # fmt: skip
            if i.person_id in profiles:
                matching.add_identity(profiles[i.person_id], i, region)
    return profiles


def index_persons(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> int:
    """Recompute the blocking keys of these persons; returns how many are active."""
    ids = list(dict.fromkeys(person_ids))
    active = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        profiles = load_profiles(session, workspace_id=workspace_id, person_ids=chunk)
        session.execute(
            delete(PersonMatchKey).where(
                PersonMatchKey.workspace_id == workspace_id, PersonMatchKey.person_id.in_(chunk)
            )
        )
        rows = [
            {"workspace_id": workspace_id, "id": new_id(), "person_id": p.id, "key": key}
            for p in profiles.values()
            for key in p.block_keys()
        ]
        if rows:
            session.execute(insert(KEYS), rows)
        active += len(profiles)
    return active


# --- blocks -------------------------------------------------------------------------------------


def _all_blocks(session: Session, workspace_id: uuid.UUID, report: Report) -> Iterator[list[Any]]:
    """Every key shared by 2..BLOCK_CAP persons, from one pass over the keys in key order."""
    rows = session.execute(
        select(PersonMatchKey.key, PersonMatchKey.person_id)
        .where(PersonMatchKey.workspace_id == workspace_id)
        .order_by(PersonMatchKey.key)
        .execution_options(yield_per=5000)
    )
    key, members, size = None, list[Any](), 0
    for row in rows:
        if row.key != key:
            yield from _closed(members, size, report)
            key, members, size = row.key, [], 0
        size += 1
        if size <= BLOCK_CAP:
            members.append(row.person_id)
    yield from _closed(members, size, report)


def _closed(members: list[Any], size: int, report: Report) -> Iterator[list[Any]]:
    if size < 2:
        return
    report.blocks += 1
    if size > BLOCK_CAP:
        report.blocks_skipped += 1
        return
    yield members


def _blocks_of(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID], report: Report
) -> Iterator[list[Any]]:
    """The blocks these persons are in: counted first, so a huge block is never read."""
    keys: list[str] = []
    for start in range(0, len(person_ids), CHUNK):
        keys += session.scalars(
            select(PersonMatchKey.key).where(
                PersonMatchKey.workspace_id == workspace_id,
                PersonMatchKey.person_id.in_(person_ids[start : start + CHUNK]),
            )
        )
    keys = sorted(set(keys))
    for start in range(0, len(keys), CHUNK):
        counted = session.execute(
            select(PersonMatchKey.key, func.count())
            .where(
                PersonMatchKey.workspace_id == workspace_id,
                PersonMatchKey.key.in_(keys[start : start + CHUNK]),
            )
            .group_by(PersonMatchKey.key)
        ).all()
        wanted = [key for key, size in counted if 2 <= size <= BLOCK_CAP]
        report.blocks += sum(1 for _, size in counted if size >= 2)
        report.blocks_skipped += sum(1 for _, size in counted if size > BLOCK_CAP)
        members: dict[str, list[Any]] = {}
        if wanted:
            for key, person_id in session.execute(
                select(PersonMatchKey.key, PersonMatchKey.person_id).where(
                    PersonMatchKey.workspace_id == workspace_id, PersonMatchKey.key.in_(wanted)
                )
            ):
                members.setdefault(key, []).append(person_id)
        yield from members.values()


def candidate_pairs(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_ids: Sequence[uuid.UUID] | None,
    report: Report,
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Pairs (smaller id first) sharing a block; with ``person_ids``, those with one of them."""
    touched = set(person_ids or ())
    if person_ids is None:
        blocks = _all_blocks(session, workspace_id, report)
    else:
        blocks = _blocks_of(session, workspace_id, sorted(touched), report)
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for block in blocks:
        for a, b in combinations(sorted(set(block)), 2):
            if person_ids is None or a in touched or b in touched:
                pairs.add((a, b))
    return pairs


def active_person_ids(session: Session, *, workspace_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(Person.id).where(
                Person.workspace_id == workspace_id,
                Person.merged_into_id.is_(None),
                Person.erased_at.is_(None),
            )
        )
    )


def touched_since(session: Session, *, workspace_id: uuid.UUID, since: Any) -> list[uuid.UUID]:
    """Active persons created or changed after ``since``."""
    return list(
        session.scalars(
            select(Person.id).where(
                Person.workspace_id == workspace_id,
                Person.merged_into_id.is_(None),
                Person.erased_at.is_(None),
                or_(Person.updated_at > since, Person.created_at > since),
            )
        )
    )


# --- suggesting -----------------------------------------------------------------------------------

Pair = tuple[uuid.UUID, uuid.UUID]
PAIR_CHUNK = 2000


def suggest(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID] | None = None
) -> Report:
    """Propose merges among these persons' blocks (all persons when None); see the module doc.

    A pair is stored once (``person_a_id < person_b_id``); a dismissed or merged pair is
    never proposed again; merged and erased persons are skipped. Merges on its own only
    when the workspace set ``auto_merge_threshold`` and the score reaches it.
    """
    report = Report()
    policy = service.get_settings(session, workspace_id=workspace_id)
    started = utcnow()
    ids = (
        active_person_ids(session, workspace_id=workspace_id) if person_ids is None else person_ids
    )
    clock = time.perf_counter()
    report.persons = index_persons(session, workspace_id=workspace_id, person_ids=ids)
    report.seconds["keys"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    pairs = sorted(
        candidate_pairs(session, workspace_id=workspace_id, person_ids=person_ids, report=report)
    )
    report.pairs_compared = len(pairs)
    report.seconds["candidates"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    strong: list[tuple[float, uuid.UUID, Pair]] = []
    profiles: dict[uuid.UUID, matching.Profile] = {}
    for start in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[start : start + PAIR_CHUNK]
        if len(profiles) > PROFILE_CACHE:
            profiles.clear()
        wanted = {p for pair in chunk for p in pair if p not in profiles}
        profiles.update(load_profiles(session, workspace_id=workspace_id, person_ids=list(wanted)))
        scored: dict[Pair, tuple[float, list[dict[str, Any]]]] = {}
        for a, b in chunk:
            if a in profiles and b in profiles:
                found = matching.evidence(profiles[a], profiles[b])
                scored[(a, b)] = (matching.score(found), found)
        written = _write(session, workspace_id, scored, policy.suggest_threshold)
        report.suggested += len(written)
        auto = policy.auto_merge_threshold
        if auto is not None:
            strong += [(s, sid, pair) for pair, (s, sid) in written.items() if s >= auto]
    if strong:
        report.merged = _auto_merge(session, workspace_id, strong)
    report.seconds["scoring"] = round(time.perf_counter() - clock, 3)
    if person_ids is None:
        policy.resolved_at = started
    session.flush()
    return report


def _write(
    session: Session,
    workspace_id: uuid.UUID,
    scored: dict[Pair, tuple[float, list[dict[str, Any]]]],
    threshold: float,
) -> dict[Pair, tuple[float, uuid.UUID]]:
    """Insert or update open suggestions; returns the open ones by pair, with score and id."""
    existing: dict[Pair, MergeSuggestion] = {}
    pairs = list(scored)
    for start in range(0, len(pairs), CHUNK):
        for held in session.scalars(
            select(MergeSuggestion).where(
                MergeSuggestion.workspace_id == workspace_id,
                tuple_(MergeSuggestion.person_a_id, MergeSuggestion.person_b_id).in_(
                    pairs[start : start + CHUNK]
                ),
            )
        ):
            existing[(held.person_a_id, held.person_b_id)] = held
    written: dict[Pair, tuple[float, uuid.UUID]] = {}
    new: list[dict[str, Any]] = []
    for pair, (score, found) in scored.items():
        row = existing.get(pair)
        if row is not None and row.status is not SuggestionStatus.OPEN:
            continue  # a person decided about this pair: never ask again
        if score < threshold:
            if row is not None:
                session.delete(row)  # the evidence is gone (an identity moved, a name changed)
            continue
        if row is None:
            suggestion_id = new_id()
            new.append(
                {
                    "workspace_id": workspace_id, "id": suggestion_id, "person_a_id": pair[0],
                    "person_b_id": pair[1], "score": score, "evidence": found,
                    "status": SuggestionStatus.OPEN, "created_at": utcnow(),
                }
            )  # fmt: skip
        else:
            suggestion_id, row.score, row.evidence = row.id, score, found
        written[pair] = (score, suggestion_id)
    if new:
        session.execute(insert(SUGGESTIONS), new)
    session.flush()
    return written


def _auto_merge(
    session: Session, workspace_id: uuid.UUID, strong: list[tuple[float, uuid.UUID, Pair]]
) -> int:
    from h2h.errors import Conflict
    from h2h.people import merging  # merging re-indexes through this module

    merged: set[uuid.UUID] = set()
    for _, suggestion_id, (a, b) in sorted(strong, key=lambda s: -s[0]):
        if a in merged or b in merged:
            continue  # the next pass compares the survivor again
        profiles = load_profiles(session, workspace_id=workspace_id, person_ids=[a, b])
        if len(profiles) < 2:
            continue
        winner, loser = matching.winner_of(profiles[a], profiles[b])
        try:
            merging.merge(
                session,
                workspace_id=workspace_id,
                actor=accounts.SYSTEM,
                winner_id=winner.id,
                loser_id=loser.id,
                suggestion_id=suggestion_id,
                automatic=True,
            )
        except Conflict:
            continue
        merged.add(loser.id)
    return len(merged)


def pending_persons(
    session: Session, *, workspace_id: uuid.UUID
) -> tuple[datetime, list[uuid.UUID]]:
    """When this pass started, and the persons changed since the last (everyone, the first time)."""
    # Comparing them in chunks, each against the keys already stored, still compares every
    # pair: when the later of the two is looked at.
    started = utcnow()
    since = service.get_settings(session, workspace_id=workspace_id).resolved_at
    if since is None:
        return started, active_person_ids(session, workspace_id=workspace_id)
    return started, touched_since(session, workspace_id=workspace_id, since=since)


def mark_resolved(session: Session, *, workspace_id: uuid.UUID, at: datetime) -> None:
    """Remember that persons changed before ``at`` were looked at."""
    service.get_settings(session, workspace_id=workspace_id).resolved_at = at
    session.flush()
