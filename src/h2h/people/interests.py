"""Interests and values of a person: what staff recorded, and what their messages suggest.

Two kinds: an *interest* is something they like or follow (a product, a topic); a *value* is
what matters to them in dealing with us (price, quality, speed of delivery). Staff add either
explicitly. Inference reads the person's own messages: an aspect they keep coming back to
(``MIN_MESSAGES`` messages or more) is a value, a tracked product or competitor they keep
writing about is an interest, each with its weight (the share of their messages) and the
evidence (counts, tone).

Inferred rows are marked as such and recomputed by the profile refresh; one that is no
longer supported goes away. Staff confirm an inferred row (it becomes explicit and inference
leaves it alone) or dismiss it (it is kept, hidden, so that inference does not bring it back).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.db import get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput
from h2h.nlp import service as nlp
from h2h.people import service
from h2h.people.models import (
    INTEREST_KIND_LABELS,
    InterestKind,
    InterestSource,
    Person,
    PersonInterest,
)
from h2h.people.timeline import Panel, profile_panel
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind

# Products and competitors say something about the person; the workspace's own brand and
# people (the doctor, the trainer) are what everyone writing to us mentions.
INTEREST_SUBJECTS = (SubjectKind.PRODUCT, SubjectKind.COMPETITOR)
MIN_MESSAGES = 2  # one message about delivery is an episode; two are a pattern
LABEL_MAX = 100
SHOWN = 12  # inferred rows on the profile, strongest first
CHUNK = 500  # persons per round of inference queries

AUDIT_ACTIONS.update(
    {
        "interest.add": N_("added an interest of a person"),
        "interest.confirm": N_("confirmed an inferred interest"),
        "interest.dismiss": N_("dismissed an inferred interest"),
        "interest.remove": N_("removed an interest of a person"),
    }
)


@dataclass(frozen=True)
class Inferred:
    label: str
    kind: InterestKind
    weight: float
    evidence: dict[str, Any]


# --- reading -----------------------------------------------------------------------------------


def interests_of(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID,
    include_dismissed: bool = False,
) -> list[PersonInterest]:
    """The person's interests and values: explicit first, then inferred by weight."""
    query = select(PersonInterest).where(
        PersonInterest.workspace_id == workspace_id, PersonInterest.person_id == person_id
    )
    if not include_dismissed:
        query = query.where(PersonInterest.dismissed_at.is_(None))
    rows = list(session.scalars(query))
    rows.sort(key=lambda r: (r.source != InterestSource.EXPLICIT, -r.weight, r.label))
    return rows


def workspace_interests(
    session: Session, *, workspace_id: uuid.UUID, limit: int = 500
) -> list[str]:
    """Labels in use (not dismissed), alphabetically: for the People filter."""
    return list(
        session.scalars(
            select(PersonInterest.label)
            .where(
                PersonInterest.workspace_id == workspace_id, PersonInterest.dismissed_at.is_(None)
            )
            .group_by(PersonInterest.label)
            .order_by(PersonInterest.label)
            .limit(limit)
        )
    )


def interest_choices(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str]]:
    """(label, what to show) of the labels in use: an aspect's key reads as the aspect."""
    labels = nlp.aspect_labels(session, workspace_id=workspace_id)
    return [
        (label, labels.get(label, label))
        for label in workspace_interests(session, workspace_id=workspace_id)
    ]


def get_interest(session: Session, *, workspace_id: uuid.UUID, interest_id: Any) -> PersonInterest:
    return get_in_workspace(session, PersonInterest, workspace_id=workspace_id, id=interest_id)


def display_label(row: PersonInterest, aspect_labels: dict[str, str]) -> str:
    """What the profile shows: an aspect's name (a msgid for the defaults), else the label."""
    aspect = row.evidence.get("aspect") if isinstance(row.evidence, dict) else None
    return aspect_labels.get(str(aspect), row.label) if aspect else row.label


# --- staff: add, confirm, dismiss, remove --------------------------------------------------------


def clean_label(label: str) -> str:
    """An interest as stored: trimmed and single-spaced (its case is the writer's)."""
    cleaned = " ".join(str(label).split())
    if not cleaned:
        raise InvalidInput(N_("Write the interest."), field="label")
    if len(cleaned) > LABEL_MAX:
        raise InvalidInput(
            N_("An interest has at most {n} characters."), field="label", n=LABEL_MAX
        )
    return cleaned


def _kind(value: Any) -> InterestKind:
    try:
        return InterestKind(value or InterestKind.INTEREST)
    except ValueError:
        raise InvalidInput(N_("Choose an interest or a value."), field="kind") from None


def _same_label(
    session: Session, workspace_id: uuid.UUID, person_id: uuid.UUID, label: str
) -> PersonInterest | None:
    folded = label.casefold()
    for row in interests_of(
        session, workspace_id=workspace_id, person_id=person_id, include_dismissed=True
    ):
        if row.label.casefold() == folded:
            return row
    return None


def add_interest(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person: Person,
    label: str,
    kind: Any = InterestKind.INTEREST,
) -> PersonInterest:
    """Record an interest or value; one already there (in any case) becomes explicit."""
    actor.require(Role.AGENT)
    service.check_editable(person)
    label, interest_kind = clean_label(label), _kind(kind)
    row = _same_label(session, workspace_id, person.id, label)
    if row is None:
        row = PersonInterest(
            workspace_id=workspace_id,
            person_id=person.id,
            label=label,
            kind=interest_kind,
            source=InterestSource.EXPLICIT,
            weight=1.0,
            evidence={},
        )
        session.add(row)
    else:
        row.kind, row.source, row.dismissed_at = interest_kind, InterestSource.EXPLICIT, None
        row.updated_at = utcnow()
    session.flush()
    _audit(session, workspace_id, actor, "interest.add", person, row)
    return row


def _own(
    session: Session, workspace_id: uuid.UUID, person: Person, interest_id: Any
) -> PersonInterest:
    row = get_interest(session, workspace_id=workspace_id, interest_id=interest_id)
    if row.person_id != person.id:
        raise InvalidInput(N_("This interest belongs to someone else."), field="interest_id")
    return row


def confirm_interest(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person: Person,
    interest_id: Any,
) -> PersonInterest:
    """Staff agree with an inference: the row becomes explicit, its evidence kept."""
    actor.require(Role.AGENT)
    service.check_editable(person)
    row = _own(session, workspace_id, person, interest_id)
    if row.source is InterestSource.EXPLICIT and row.dismissed_at is None:
        return row
    row.source, row.dismissed_at, row.updated_at = InterestSource.EXPLICIT, None, utcnow()
    row.evidence = {**row.evidence, "confirmed": True}
    _audit(session, workspace_id, actor, "interest.confirm", person, row)
    return row


def remove_interest(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    person: Person,
    interest_id: Any,
) -> PersonInterest:
    """Take an interest off: an explicit one is deleted, an inferred one dismissed for good.

    Returns the row (deleted or dismissed), for the caller to say which one went."""
    actor.require(Role.AGENT)
    service.check_editable(person)
    row = _own(session, workspace_id, person, interest_id)
    if row.dismissed_at is not None:
        raise Conflict(N_("This interest was already dismissed."))
    if row.source is InterestSource.INFERRED:
        row.dismissed_at = row.updated_at = utcnow()
        _audit(session, workspace_id, actor, "interest.dismiss", person, row)
        return row
    _audit(session, workspace_id, actor, "interest.remove", person, row)
    session.delete(row)
    session.flush()
    return row


def _audit(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    action: str,
    person: Person,
    row: PersonInterest,
) -> None:
    service.audit_person(
        session, workspace_id, actor, action, person, label=row.label, kind=row.kind.value
    )


# --- inference ---------------------------------------------------------------------------------


def infer(
    aspects: dict[str, dict[str, int]],
    mentions: Sequence[tuple[uuid.UUID, str, int]],
    messages: int,
) -> list[Inferred]:
    """What one person's messages suggest: aspects as values, subjects as interests.

    ``aspects`` maps an aspect to its message counts by tone; ``mentions`` are (subject id,
    subject name, messages); ``messages`` is how many messages the person wrote.
    """
    found: list[Inferred] = []
    total = max(messages, 1)
    for aspect, tones in aspects.items():
        count = sum(tones.values())
        if count < MIN_MESSAGES:
            continue
        evidence = {"aspect": aspect, "messages": count, "of": messages}
        evidence.update({tone: tones.get(tone, 0) for tone in ("negative", "neutral", "positive")})
        found.append(
            Inferred(aspect[:LABEL_MAX], InterestKind.VALUE, _share(count, total), evidence)
        )
    for subject_id, name, count in mentions:
        if count < MIN_MESSAGES or not name.strip():
            continue
        evidence = {"subject_id": str(subject_id), "messages": count, "of": messages}
        label = clean_label(name)[:LABEL_MAX]
        found.append(Inferred(label, InterestKind.INTEREST, _share(count, total), evidence))
    return found


def _share(count: int, total: int) -> float:
    return round(min(count / total, 1.0), 3)


def refresh_interests(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> int:
    """Recompute the inferred interests of these persons; returns how many rows changed.

    Explicit and dismissed rows are never touched; an inferred row that their messages no
    longer support is deleted; the rest are inserted or updated in place.
    """
    changed = 0
    ids = list(dict.fromkeys(person_ids))
    for start in range(0, len(ids), CHUNK):
        changed += _refresh_chunk(session, workspace_id, ids[start : start + CHUNK])
    return changed


def _refresh_chunk(session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> int:
    owners = service.identity_owners(session, workspace_id=workspace_id, person_ids=ids)
    by_identity = nlp.aspect_counts(session, workspace_id=workspace_id, identity_ids=list(owners))
    subject_rows = subjects.author_mentions(
        session, workspace_id=workspace_id, identity_ids=list(owners)
    )
    aspects: dict[uuid.UUID, dict[str, dict[str, int]]] = {}
    for identity_id, per_aspect in by_identity.items():
        person_aspects = aspects.setdefault(owners[identity_id], {})
        for aspect, tones in per_aspect.items():
            into = person_aspects.setdefault(aspect, {})
            for tone, count in tones.items():
                into[tone] = into.get(tone, 0) + count
    mentions: dict[uuid.UUID, dict[uuid.UUID, tuple[str, int]]] = {}
    for identity_id, pairs in subject_rows.items():
        person_mentions = mentions.setdefault(owners[identity_id], {})
        for subject, count in pairs:
            if subject.kind not in INTEREST_SUBJECTS:
                continue
            _, before = person_mentions.get(subject.id, (subject.name, 0))
            person_mentions[subject.id] = (subject.name, before + count)
    counts = dict(
        session.execute(
            select(Person.id, Person.message_count).where(
                Person.workspace_id == workspace_id, Person.id.in_(ids)
            )
        ).all()
    )
    existing: dict[uuid.UUID, dict[str, PersonInterest]] = {}
    for row in session.scalars(
        select(PersonInterest).where(
            PersonInterest.workspace_id == workspace_id, PersonInterest.person_id.in_(ids)
        )
    ):
        existing.setdefault(row.person_id, {})[row.label.casefold()] = row
    changed = 0
    for person_id in ids:
        suggested = infer(
            aspects.get(person_id, {}),
            [(sid, name, n) for sid, (name, n) in mentions.get(person_id, {}).items()],
            int(counts.get(person_id) or 0),
        )
        changed += _apply(session, workspace_id, person_id, existing.get(person_id, {}), suggested)
    session.flush()
    return changed


def _updatable(row: PersonInterest) -> bool:
    """Inference owns a row it made that staff neither confirmed nor dismissed."""
    return row.source is InterestSource.INFERRED and row.dismissed_at is None


def _apply(
    session: Session,
    workspace_id: uuid.UUID,
    person_id: uuid.UUID,
    existing: dict[str, PersonInterest],
    suggested: list[Inferred],
) -> int:
    changed = 0
    wanted = {item.label.casefold(): item for item in suggested}
    stale = [row.id for key, row in existing.items() if _updatable(row) and key not in wanted]
    if stale:
        session.execute(
            delete(PersonInterest)
            .where(PersonInterest.workspace_id == workspace_id, PersonInterest.id.in_(stale))
            .execution_options(synchronize_session="fetch")
        )
        changed += len(stale)
    for key, item in wanted.items():
        row = existing.get(key)
        if row is None:
            session.add(
                PersonInterest(
                    workspace_id=workspace_id,
                    person_id=person_id,
                    label=item.label,
                    kind=item.kind,
                    source=InterestSource.INFERRED,
                    weight=item.weight,
                    evidence=item.evidence,
                )
            )
            changed += 1
        elif _updatable(row) and (row.weight, row.evidence, row.kind) != (
            item.weight,
            item.evidence,
            item.kind,
        ):
            row.weight, row.evidence, row.kind = item.weight, item.evidence, item.kind
            row.updated_at = utcnow()
            changed += 1
    return changed


# --- on the profile ------------------------------------------------------------------------------


def _panel(session: Session, workspace_id: uuid.UUID, person: Any) -> dict[str, Any]:
    rows = interests_of(session, workspace_id=workspace_id, person_id=person.id)
    explicit = [r for r in rows if r.source is InterestSource.EXPLICIT]
    inferred = [r for r in rows if r.source is InterestSource.INFERRED][:SHOWN]
    labels = nlp.aspect_labels(session, workspace_id=workspace_id)
    return {
        "person_id": person.id,
        "explicit": [(r, display_label(r, labels)) for r in explicit],
        "inferred": [(r, display_label(r, labels)) for r in inferred],
        "kind_labels": INTEREST_KIND_LABELS,
        "kinds": list(InterestKind),
    }


profile_panel(Panel("interests", "people/_interests_panel.html", _panel, order=25))
