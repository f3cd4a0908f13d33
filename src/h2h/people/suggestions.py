"""Merge suggestions and merge history as people see them: decide, undo, configure.

Also registers the "merge" timeline source and the profile panel with the person's open
suggestions and merges.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.db import get_in_workspace
from h2h.errors import N_, Conflict, InvalidInput
from h2h.people import merging, resolution, service
from h2h.people.models import Merge, MergeSuggestion, PeopleSettings, Person, SuggestionStatus
from h2h.people.timeline import Panel, TimelineItem, TimelineQuery, profile_panel, timeline_source

PAGE = 50
AUDIT_ACTIONS.update(
    {
        "person.merge_dismiss": N_("marked two persons as different people"),
        "people.merge_settings": N_("changed when persons are merged"),
    }
)
EVIDENCE_LABELS = {
    "same_profile_url": N_("Same profile page"),
    "same_email": N_("Same email address"),
    "same_phone": N_("Same phone number"),
    "same_avatar": N_("Same profile picture"),
    "name": N_("Same name"),
    "similar_name": N_("Similar name"),
    "name_initial": N_("Same last name and initial"),
    "first_name": N_("Same first name"),
    "different_first_names": N_("Different first names"),
}


@dataclass(frozen=True)
class SuggestionView:
    suggestion: MergeSuggestion
    a: Person
    b: Person


# The two persons of a pair. Made once: SQLAlchemy memoizes an alias's column adaptation on
# the alias itself, and building fresh ones cost the profile page a fifth of its time.
_FIRST, _SECOND = aliased(Person, name="first_person"), aliased(Person, name="second_person")


def list_suggestions(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID | None = None,
    page: int = 1,
    page_size: int = PAGE,
) -> tuple[list[SuggestionView], int]:
    """Open suggestions between active persons, highest score first, then newest."""
    a, b = _FIRST, _SECOND
    query = (
        select(MergeSuggestion, a, b)
        .join(a, (a.workspace_id == workspace_id) & (a.id == MergeSuggestion.person_a_id))
        .join(b, (b.workspace_id == workspace_id) & (b.id == MergeSuggestion.person_b_id))
        .where(
            MergeSuggestion.workspace_id == workspace_id,
            MergeSuggestion.status == SuggestionStatus.OPEN,
            a.merged_into_id.is_(None), a.erased_at.is_(None),
            b.merged_into_id.is_(None), b.erased_at.is_(None),
        )
    )  # fmt: skip
    if person_id is not None:
        query = query.where(
            or_(MergeSuggestion.person_a_id == person_id, MergeSuggestion.person_b_id == person_id)
        )
    rows = session.execute(
        query.order_by(MergeSuggestion.score.desc(), MergeSuggestion.created_at.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    if page == 1 and len(rows) < page_size:  # the whole list fits: no need to count it
        total = len(rows)
    else:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return [SuggestionView(s, pa, pb) for s, pa, pb in rows], total


def get_suggestion(
    session: Session, *, workspace_id: uuid.UUID, suggestion_id: Any
) -> MergeSuggestion:
    return get_in_workspace(session, MergeSuggestion, workspace_id=workspace_id, id=suggestion_id)


def _open(session: Session, workspace_id: uuid.UUID, suggestion_id: Any) -> MergeSuggestion:
    suggestion = get_suggestion(session, workspace_id=workspace_id, suggestion_id=suggestion_id)
    if suggestion.status is not SuggestionStatus.OPEN:
        raise Conflict(N_("Someone already decided about this suggestion."))
    return suggestion


def dismiss(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, suggestion_id: Any
) -> MergeSuggestion:
    """ "Not the same person": the pair is never proposed again."""
    actor.require(Role.AGENT)
    suggestion = _open(session, workspace_id, suggestion_id)
    merging._decide(suggestion, actor, SuggestionStatus.DISMISSED)
    session.flush()
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="person.merge_dismiss",
        entity_type="merge_suggestion",
        entity_id=suggestion.id,
        details={
            "person_a_id": str(suggestion.person_a_id),
            "person_b_id": str(suggestion.person_b_id),
        },
    )
    return suggestion


def merge_suggestion(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, suggestion_id: Any
) -> Merge:
    """Merge the pair of a suggestion; the busier (then older) profile stays."""
    actor.require(Role.AGENT)
    suggestion = _open(session, workspace_id, suggestion_id)
    pair = [suggestion.person_a_id, suggestion.person_b_id]
    profiles = resolution.load_profiles(session, workspace_id=workspace_id, person_ids=pair)
    if len(profiles) < 2:
        raise Conflict(N_("One of these persons was merged or erased meanwhile."))
    from h2h.people.matching import winner_of

    winner, loser = winner_of(profiles[pair[0]], profiles[pair[1]])
    return merging.merge(
        session,
        workspace_id=workspace_id,
        actor=actor,
        winner_id=winner.id,
        loser_id=loser.id,
        suggestion_id=suggestion.id,
    )


def _threshold(value: Any, field: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            N_("Write a number between 0 and 1, such as 0.95."), field=field
        ) from None
    if not 0 < number <= 1:
        raise InvalidInput(N_("Write a number between 0 and 1, such as 0.95."), field=field)
    return number


def update_settings(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    auto_merge_threshold: Any,
    suggest_threshold: Any = None,
) -> PeopleSettings:
    """Set when merges are proposed and whether (from which score) they happen on their own."""
    actor.require(Role.ADMIN)
    policy = service.get_settings(session, workspace_id=workspace_id)
    before = [policy.auto_merge_threshold, policy.suggest_threshold]
    auto = _threshold(auto_merge_threshold, "auto_merge_threshold")
    suggest = _threshold(suggest_threshold, "suggest_threshold") or policy.suggest_threshold
    if auto is not None and auto < suggest:
        raise InvalidInput(
            N_("Merging on its own must need at least the score that proposes a merge ({score})."),
            field="auto_merge_threshold",
            score=suggest,
        )
    policy.auto_merge_threshold, policy.suggest_threshold = auto, suggest
    session.flush()
    if before != [auto, suggest]:
        accounts.record(
            session,
            workspace_id=workspace_id,
            actor=actor,
            action="people.merge_settings",
            entity_type="workspace",
            entity_id=workspace_id,
            details={"before": before, "after": [auto, suggest]},
        )
    return policy


@dataclass(frozen=True)
class MergeView:
    merge: Merge
    winner: Person
    loser: Person


def list_merges(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID | None = None,
    limit: int = PAGE,
) -> list[MergeView]:
    """Merges of the workspace (or those a person took part in), newest first."""
    w, lo = _FIRST, _SECOND
    query = (
        select(Merge, w, lo)
        .join(w, (w.workspace_id == Merge.workspace_id) & (w.id == Merge.winner_id))
        .join(lo, (lo.workspace_id == Merge.workspace_id) & (lo.id == Merge.loser_id))
        .where(Merge.workspace_id == workspace_id)
    )
    if person_id is not None:
        query = query.where(or_(Merge.winner_id == person_id, Merge.loser_id == person_id))
    rows = session.execute(query.order_by(Merge.merged_at.desc()).limit(limit)).all()
    return [MergeView(m, pw, pl) for m, pw, pl in rows]


# --- on the profile -------------------------------------------------------------------------------


def _other(record: Merge, person_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    side = "loser" if record.winner_id == person_id else "winner"
    other = record.loser_id if side == "loser" else record.winner_id
    return other, str(record.snapshot.get(side, {}).get("name", ""))


@timeline_source("merge")
def merge_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """Merges the person took part in, and their undoing."""
    mine = (Merge.workspace_id == query.workspace_id) & or_(
        Merge.winner_id == query.person_id, Merge.loser_id == query.person_id
    )
    items: list[TimelineItem] = []
    for column in (Merge.merged_at, Merge.undone_at):
        stmt = select(Merge).where(mine, column.is_not(None))
        if query.before is not None:
            stmt = stmt.where(column < query.before)
        for record in session.scalars(stmt.order_by(column.desc()).limit(query.limit)):
            items.append(_merge_item(record, query.person_id, undone=column is Merge.undone_at))
    items.sort(key=lambda i: (i.at, i.id), reverse=True)
    return items[: query.limit]


def _merge_item(record: Merge, person_id: uuid.UUID, *, undone: bool) -> TimelineItem:
    other_id, other = _other(record, person_id)
    if undone:
        title = N_("Merge with {other} undone")
    elif record.winner_id == person_id:
        title = N_("{other} merged into this profile")
    else:
        title = N_("Merged into {other}")
    at = record.undone_at if undone and record.undone_at else record.merged_at
    return TimelineItem(
        kind="merge",
        at=at,
        id=f"{record.id}-undo" if undone else str(record.id),
        title=title,
        url="/people/merges",
        data={
            "other": other,
            "other_id": str(other_id),
            "merge_id": str(record.id),
            "automatic": record.automatic,
            "score": record.score,
        },
    )


def _panel(session: Session, workspace_id: uuid.UUID, person: Any) -> dict[str, Any]:
    found, _ = list_suggestions(
        session, workspace_id=workspace_id, person_id=person.id, page_size=10
    )
    return {
        "person_id": person.id,
        "suggestions": found,
        "merges": list_merges(session, workspace_id=workspace_id, person_id=person.id, limit=10),
        "labels": EVIDENCE_LABELS,
    }


profile_panel(Panel("merges", "people/_merges_panel.html", _panel, order=60))
