"""Merging two persons into one, and undoing it exactly.

A merge moves what belongs to the loser — identities (and with them messages, orders and
events), notes, consents, survey invitations and answers, contact blocks, tags and
interests — to the winner, fills the
winner's blank fields from the loser and leaves the loser as a tombstone
(``merged_into_id``). The ``Merge`` row keeps both persons' fields as they were and the
id of every row moved, so ``unmerge`` can put each back where it was.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, select, update
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, Role
from h2h.advocacy.models import AdvocacyAction
from h2h.db import UTCDateTime, get_in_workspace, utcnow
from h2h.errors import N_, Conflict, InvalidInput
from h2h.feedback.models import Invite, Response
from h2h.people import resolution, service
from h2h.people.models import (
    AccountKind,
    Consent,
    ContactBlock,
    Identity,
    LifecycleStage,
    Merge,
    MergeSuggestion,
    Note,
    Person,
    PersonInterest,
    PersonTag,
    SuggestionStatus,
)

AUDIT_ACTIONS.update(
    {
        "person.merge": N_("merged two persons into one"),
        "person.unmerge": N_("undid a merge of two persons"),
    }
)
# Everything of a person a merge may change and an unmerge must put back.
SNAPSHOT_FIELDS = (
    "name", "name_key", "first_name", "last_name", "avatar_url", "language", "city",
    "organization_id", "owner_id", "stage", "stage_manual", "account_kind", "liveness",
    "liveness_reasons", "attributes", "first_seen_at", "last_seen_at",
)  # fmt: skip
FILLABLE = (
    "first_name", "last_name", "avatar_url", "language", "city", "organization_id", "owner_id",
)  # fmt: skip
# Survey invitations and answers move too: frequency caps, NPS and the Advocates lists read
# them by person, and an answer left on the loser would vanish from every one of them.
MOVED: dict[str, Any] = {
    "identities": Identity,
    "notes": Note,
    "consents": Consent,
    "survey_invites": Invite,
    "survey_responses": Response,
    "advocacy_actions": AdvocacyAction,
}
# Rows unique per person and value: the loser's copy of what the winner has is dropped
# (and kept in the snapshot), the rest moves.
UNIQUE_BY: dict[str, tuple[Any, str]] = {
    "tags": (PersonTag, "tag"),
    "contact_blocks": (ContactBlock, "channel"),
    "interests": (PersonInterest, "label"),
}


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _fields(person: Person) -> dict[str, Any]:
    return {name: _json(getattr(person, name)) for name in SNAPSHOT_FIELDS}


def _dump(row: Any) -> dict[str, Any]:
    return {c.key: _json(getattr(row, c.key)) for c in row.__table__.columns}


def _load(model: Any, data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for column in model.__table__.columns:
        value = data.get(column.key)
        if value is not None and isinstance(column.type, Uuid):
            value = uuid.UUID(value)
        elif value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and hasattr(column.type, "enum_class") and column.type.enum_class:
            value = column.type.enum_class(value)
        values[column.key] = value
    return model(**values)


def _restore_value(person: Person, name: str, value: Any) -> None:
    if name in ("organization_id", "owner_id") and value is not None:
        value = uuid.UUID(value)
    elif name == "stage" and value is not None:
        value = LifecycleStage(value)
    elif name == "account_kind":
        value = AccountKind(value)
    elif name in ("first_seen_at", "last_seen_at") and value is not None:
        value = datetime.fromisoformat(value)
    setattr(person, name, value)


# --- merge --------------------------------------------------------------------------------------


def _check_mergeable(person: Person) -> None:
    if person.erased_at is not None:
        raise Conflict(N_("{name} was erased and cannot be merged."), name=person.name)
    if person.merged_into_id is not None:
        raise Conflict(N_("{name} is already merged into another person."), name=person.name)


def merge(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    winner_id: Any,
    loser_id: Any,
    suggestion_id: Any = None,
    automatic: bool = False,
) -> Merge:
    """Merge ``loser`` into ``winner`` (who stays); recorded so that it can be undone."""
    actor.require(Role.AGENT)
    if str(winner_id) == str(loser_id):
        raise InvalidInput(N_("A person cannot be merged with themselves."), field="other_id")
    winner = service.get_person(session, workspace_id=workspace_id, person_id=winner_id)
    loser = service.get_person(session, workspace_id=workspace_id, person_id=loser_id)
    _check_mergeable(winner)
    _check_mergeable(loser)
    suggestion = _suggestion(session, workspace_id, winner.id, loser.id, suggestion_id)
    snapshot: dict[str, Any] = {"winner": _fields(winner), "loser": _fields(loser)}
    snapshot.update(_move_rows(session, workspace_id, loser.id, winner.id))
    snapshot["filled"] = _fill(winner, loser)
    loser.merged_into_id = winner.id
    record = Merge(
        workspace_id=workspace_id,
        winner_id=winner.id,
        loser_id=loser.id,
        score=suggestion.score if suggestion else None,
        evidence=suggestion.evidence if suggestion else [],
        snapshot=snapshot,
        automatic=automatic,
        merged_by_id=actor.user_id,
    )
    session.add(record)
    if suggestion is not None:
        _decide(suggestion, actor, SuggestionStatus.MERGED)
    session.flush()
    _after(session, workspace_id, [winner.id, loser.id])
    _audit(session, workspace_id, actor, "person.merge", record, automatic=automatic)
    return record


def _suggestion(
    session: Session,
    workspace_id: uuid.UUID,
    winner_id: uuid.UUID,
    loser_id: uuid.UUID,
    suggestion_id: Any,
) -> MergeSuggestion | None:
    a, b = sorted((winner_id, loser_id))
    if suggestion_id is not None:
        found = get_in_workspace(
            session, MergeSuggestion, workspace_id=workspace_id, id=suggestion_id
        )
        if (found.person_a_id, found.person_b_id) != (a, b):
            raise InvalidInput(N_("This suggestion is about other persons."), field="suggestion_id")
        return found
    return session.scalars(
        select(MergeSuggestion).where(
            MergeSuggestion.workspace_id == workspace_id,
            MergeSuggestion.person_a_id == a,
            MergeSuggestion.person_b_id == b,
        )
    ).one_or_none()


def _decide(suggestion: MergeSuggestion, actor: accounts.Actor, status: SuggestionStatus) -> None:
    suggestion.status = status
    suggestion.decided_at = utcnow()
    suggestion.decided_by_id = actor.user_id


def _ids_of(
    session: Session, model: Any, workspace_id: uuid.UUID, person_id: uuid.UUID
) -> list[Any]:
    return list(
        session.scalars(
            select(model.id).where(model.workspace_id == workspace_id, model.person_id == person_id)
        )
    )


def _reassign(
    session: Session, model: Any, workspace_id: uuid.UUID, ids: list[Any], frm: Any, to: Any
) -> None:
    """Move these rows from one person to another (rows no longer on ``frm`` stay put)."""
    for start in range(0, len(ids), resolution.CHUNK):
        session.execute(
            update(model)
            .where(
                model.workspace_id == workspace_id,
                model.id.in_(ids[start : start + resolution.CHUNK]),
                model.person_id == frm,
            )
            .values(person_id=to)
            .execution_options(synchronize_session=False)
        )


def _move_rows(
    session: Session, workspace_id: uuid.UUID, loser_id: uuid.UUID, winner_id: uuid.UUID
) -> dict[str, Any]:
    moved: dict[str, list[str]] = {}
    dropped: dict[str, list[dict[str, Any]]] = {}
    for name, model in MOVED.items():
        ids = _ids_of(session, model, workspace_id, loser_id)
        _reassign(session, model, workspace_id, ids, loser_id, winner_id)
        moved[name] = [str(i) for i in ids]
    for name, (model, column) in UNIQUE_BY.items():
        theirs = set(
            session.scalars(
                select(getattr(model, column)).where(
                    model.workspace_id == workspace_id, model.person_id == winner_id
                )
            )
        )
        rows = session.scalars(
            select(model).where(model.workspace_id == workspace_id, model.person_id == loser_id)
        ).all()
        clashing = [row for row in rows if getattr(row, column) in theirs]
        dropped[name] = [_dump(row) for row in clashing]
        for row in clashing:
            session.delete(row)
        session.flush()
        ids = [row.id for row in rows if row not in clashing]
        _reassign(session, model, workspace_id, ids, loser_id, winner_id)
        moved[name] = [str(i) for i in ids]
    session.expire_all()
    return {"moved": moved, "dropped": dropped}


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _fill(winner: Person, loser: Person) -> dict[str, Any]:
    """Give the winner what only the loser knew; returns what was filled, for the undo."""
    fields: dict[str, Any] = {}
    for name in FILLABLE:
        if _blank(getattr(winner, name)) and not _blank(getattr(loser, name)):
            setattr(winner, name, getattr(loser, name))
            fields[name] = _json(getattr(loser, name))
    if not winner.name_key and loser.name_key:  # the winner was known only by a handle
        fields.update(name=loser.name, name_key=loser.name_key)
        winner.name, winner.name_key = loser.name, loser.name_key
    if winner.account_kind is AccountKind.UNKNOWN and loser.account_kind is not AccountKind.UNKNOWN:
        fields.update(
            account_kind=loser.account_kind.value,
            liveness=loser.liveness,
            liveness_reasons=loser.liveness_reasons,
        )
        winner.account_kind, winner.liveness = loser.account_kind, loser.liveness
        winner.liveness_reasons = list(loser.liveness_reasons or [])
    attributes = dict(winner.attributes or {})
    filled_attributes = {
        key: value
        for key, value in (loser.attributes or {}).items()
        if _blank(attributes.get(key)) and not _blank(value)
    }
    if filled_attributes:
        winner.attributes = {**attributes, **filled_attributes}
    return {"fields": fields, "attributes": filled_attributes}


def _after(session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]) -> None:
    session.flush()
    service.refresh_aggregates(session, workspace_id=workspace_id, person_ids=person_ids)
    resolution.index_persons(session, workspace_id=workspace_id, person_ids=person_ids)


def _audit(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    action: str,
    record: Merge,
    **details: Any,
) -> None:
    snapshot = record.snapshot
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        entity_type="person",
        entity_id=record.winner_id,
        details={
            "merge_id": str(record.id),
            "winner_id": str(record.winner_id),
            "loser_id": str(record.loser_id),
            "winner": snapshot["winner"]["name"],
            "loser": snapshot["loser"]["name"],
            **details,
        },
    )


# --- unmerge ------------------------------------------------------------------------------------


def get_merge(session: Session, *, workspace_id: uuid.UUID, merge_id: Any) -> Merge:
    return get_in_workspace(session, Merge, workspace_id=workspace_id, id=merge_id)


def unmerge(
    session: Session, *, workspace_id: uuid.UUID, actor: accounts.Actor, merge_id: Any
) -> Merge:
    """Undo a merge: both persons as they were, with what happened since where it belongs.

    Rows the merge moved go back to the loser (with the messages, orders and events of
    the identities among them, and the answers to the invitations among them, including
    those that arrived after the merge); rows added to the winner after the merge stay
    with the winner. A field the merge filled on the
    winner goes back to blank unless someone changed it after the merge: then the winner
    keeps the new value. The loser gets exactly its fields from before the merge. Merges
    are undone newest first: if the winner was merged into someone else since, undo
    that merge first. The pair is then marked "not the same person" and never proposed
    or merged automatically again.
    """
    actor.require(Role.AGENT)
    record = get_merge(session, workspace_id=workspace_id, merge_id=merge_id)
    winner = service.get_person(session, workspace_id=workspace_id, person_id=record.winner_id)
    loser = service.get_person(session, workspace_id=workspace_id, person_id=record.loser_id)
    _check_undoable(record, winner, loser)
    snapshot = record.snapshot
    _move_back(session, workspace_id, snapshot, winner.id, loser.id)
    winner = service.get_person(session, workspace_id=workspace_id, person_id=record.winner_id)
    loser = service.get_person(session, workspace_id=workspace_id, person_id=record.loser_id)
    _unfill(winner, snapshot)
    # The loser's activity no longer counts for the winner: its own first and last contact
    # come back, and the recount below adds what the winner did since.
    for name in ("first_seen_at", "last_seen_at"):
        _restore_value(winner, name, snapshot["winner"][name])
    for name, value in snapshot["loser"].items():
        _restore_value(loser, name, value)
    loser.merged_into_id = None
    record.undone_at, record.undone_by_id = utcnow(), actor.user_id
    _mark_different(session, workspace_id, actor, winner.id, loser.id)
    session.flush()
    _after(session, workspace_id, [winner.id, loser.id])
    _audit(session, workspace_id, actor, "person.unmerge", record)
    return record


def _check_undoable(record: Merge, winner: Person, loser: Person) -> None:
    if record.undone_at is not None:
        raise Conflict(N_("This merge was already undone."))
    if winner.erased_at is not None or loser.erased_at is not None:
        raise Conflict(N_("One of these persons was erased; the merge can no longer be undone."))
    if winner.merged_into_id is not None:
        raise Conflict(
            N_("{name} was merged into another person after this merge; undo that merge first."),
            name=winner.name,
        )
    if loser.merged_into_id != winner.id:
        raise Conflict(N_("This merge no longer matches the persons; it cannot be undone."))


def _move_back(
    session: Session,
    workspace_id: uuid.UUID,
    snapshot: dict[str, Any],
    winner_id: uuid.UUID,
    loser_id: uuid.UUID,
) -> None:
    models = {**MOVED, **{name: model for name, (model, _) in UNIQUE_BY.items()}}
    for name, model in models.items():
        ids = [uuid.UUID(i) for i in snapshot["moved"].get(name, [])]
        _reassign(session, model, workspace_id, ids, winner_id, loser_id)
    _answers_follow_invitations(session, workspace_id, snapshot, winner_id, loser_id)
    for name, (model, _) in UNIQUE_BY.items():
        for data in snapshot["dropped"].get(name, []):
            row = _load(model, data)
            exists = session.scalar(
                select(model.id).where(model.workspace_id == workspace_id, model.id == row.id)
            )
            if exists is None:
                session.add(row)
    session.flush()
    session.expire_all()


def _answers_follow_invitations(
    session: Session,
    workspace_id: uuid.UUID,
    snapshot: dict[str, Any],
    winner_id: uuid.UUID,
    loser_id: uuid.UUID,
) -> None:
    """An answer given after the merge to an invitation the loser had received goes back with
    that invitation: it is the loser's answer, as the loser's messages go back with their
    identities."""
    invites = [uuid.UUID(i) for i in snapshot["moved"].get("survey_invites", [])]
    for start in range(0, len(invites), resolution.CHUNK):
        session.execute(
            update(Response)
            .where(
                Response.workspace_id == workspace_id,
                Response.invite_id.in_(invites[start : start + resolution.CHUNK]),
                Response.person_id == winner_id,
            )
            .values(person_id=loser_id)
            .execution_options(synchronize_session=False)
        )


def _unfill(winner: Person, snapshot: dict[str, Any]) -> None:
    """Take back what the merge filled in, unless someone changed it since (then it stays)."""
    before = snapshot["winner"]
    for name, value in snapshot["filled"]["fields"].items():
        if _json(getattr(winner, name)) == value:
            _restore_value(winner, name, before[name])
    attributes = dict(winner.attributes or {})
    for key, value in snapshot["filled"]["attributes"].items():
        if attributes.get(key) == value:
            if key in before["attributes"]:
                attributes[key] = before["attributes"][key]
            else:
                attributes.pop(key, None)
    winner.attributes = attributes


def _mark_different(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    winner_id: uuid.UUID,
    loser_id: uuid.UUID,
) -> None:
    # An undone merge is a human saying "two people": without this an auto-merge threshold
    # would merge them again on the next pass.
    a, b = sorted((winner_id, loser_id))
    suggestion = session.scalars(
        select(MergeSuggestion).where(
            MergeSuggestion.workspace_id == workspace_id,
            MergeSuggestion.person_a_id == a,
            MergeSuggestion.person_b_id == b,
        )
    ).one_or_none()
    if suggestion is None:
        suggestion = MergeSuggestion(
            workspace_id=workspace_id, person_a_id=a, person_b_id=b, score=0.0, evidence=[]
        )
        session.add(suggestion)
    _decide(suggestion, actor, SuggestionStatus.DISMISSED)
