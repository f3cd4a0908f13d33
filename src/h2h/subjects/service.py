"""Operations of the subjects domain: subjects, their queries, and matching messages."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels.connectors.base import Direction
from h2h.channels.ingest import after_ingest
from h2h.channels.models import Message
from h2h.db import get_in_workspace, new_id, utc_day
from h2h.errors import N_, Conflict, InvalidInput
from h2h.nlp.models import Analysis, Sentiment
from h2h.subjects.matcher import Matcher
from h2h.subjects.models import Mention, Subject, SubjectKind
from h2h.subjects.query import QueryError, parse


def check_query(query: str) -> str:
    """The query if it parses; InvalidInput naming the position and the reason otherwise."""
    try:
        parse(query)
    except QueryError as exc:
        raise InvalidInput(
            N_("Query error at character {position}: {reason}"),
            field="query",
            position=exc.position + 1,
            reason=exc,
        ) from exc
    return query.strip()


def list_subjects(session: Session, *, workspace_id: uuid.UUID) -> list[Subject]:
    return list(
        session.scalars(
            select(Subject)
            .where(Subject.workspace_id == workspace_id)
            .order_by(Subject.kind, Subject.name)
        )
    )


def get_subject(session: Session, *, workspace_id: uuid.UUID, subject_id: Any) -> Subject:
    return get_in_workspace(session, Subject, workspace_id=workspace_id, id=subject_id)


def create_subject(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    kind: SubjectKind,
    name: str,
    query: str,
) -> Subject:
    """Start listening for a brand, person, product or competitor (owners and admins)."""
    actor.require(Role.ADMIN)
    name, query = accounts.check_name(name), check_query(query)
    _check_unique(session, workspace_id, name)
    subject = Subject(workspace_id=workspace_id, kind=kind, name=name, query=query)
    session.add(subject)
    session.flush()
    _changed(workspace_id)
    accounts.record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action="subject.create",
        entity_type="subject",
        entity_id=subject.id,
        details={"name": name, "kind": kind.value, "query": query},
    )
    return subject


def _check_unique(
    session: Session, workspace_id: uuid.UUID, name: str, except_id: uuid.UUID | None = None
) -> None:
    clash = session.scalar(
        select(Subject.id).where(Subject.workspace_id == workspace_id, Subject.name == name)
    )
    if clash is not None and clash != except_id:
        raise Conflict(N_("A subject with this name already exists."), field="name")


def update_subject(
    session: Session,
    *,
    subject: Subject,
    actor: accounts.Actor,
    name: str | None = None,
    kind: SubjectKind | None = None,
    query: str | None = None,
    is_active: bool | None = None,
) -> Subject:
    """Change a subject; a new query applies to messages from now on (see rematch)."""
    actor.require(Role.ADMIN)
    changes: dict[str, Any] = {}
    if name is not None and accounts.check_name(name) != subject.name:
        _check_unique(session, subject.workspace_id, accounts.check_name(name), subject.id)
        changes["name"] = subject.name = accounts.check_name(name)
    if kind is not None and kind is not subject.kind:
        subject.kind = kind
        changes["kind"] = kind.value
    if query is not None and check_query(query) != subject.query:
        changes["query"] = subject.query = check_query(query)
    if is_active is not None and is_active != subject.is_active:
        changes["is_active"] = subject.is_active = is_active
    if changes:
        _changed(subject.workspace_id)
        accounts.record(
            session,
            workspace_id=subject.workspace_id,
            actor=actor,
            action="subject.update",
            entity_type="subject",
            entity_id=subject.id,
            details=changes,
        )
    return subject


def delete_subject(session: Session, *, subject: Subject, actor: accounts.Actor) -> None:
    actor.require(Role.ADMIN)
    accounts.record(
        session,
        workspace_id=subject.workspace_id,
        actor=actor,
        action="subject.delete",
        entity_type="subject",
        entity_id=subject.id,
        details={"name": subject.name},
    )
    session.execute(
        delete(Mention).where(
            Mention.workspace_id == subject.workspace_id, Mention.subject_id == subject.id
        )
    )
    session.delete(subject)
    session.flush()
    _changed(subject.workspace_id)


def mention_counts(session: Session, *, workspace_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(Mention.subject_id, func.count())
        .where(Mention.workspace_id == workspace_id)
        .group_by(Mention.subject_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def daily_sentiment(
    session: Session, *, workspace_id: uuid.UUID, start: datetime, end: datetime
) -> dict[uuid.UUID, dict[str, tuple[int, int]]]:
    """Per subject and UTC day (``YYYY-MM-DD``): (negative, all) analysed inbound mentions."""
    day = utc_day(session, Message.created_at)
    negative = func.sum(case((Analysis.sentiment == Sentiment.NEGATIVE, 1), else_=0))
    rows = session.execute(
        select(Mention.subject_id, day, negative, func.count())
        .join(
            Message,
            (Message.workspace_id == Mention.workspace_id) & (Message.id == Mention.message_id),
        )
        .join(
            Analysis,
            (Analysis.workspace_id == Mention.workspace_id)
            & (Analysis.message_id == Mention.message_id),
        )
        .where(
            Mention.workspace_id == workspace_id,
            Message.direction == Direction.INBOUND,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .group_by(Mention.subject_id, day)
    ).all()
    found: dict[uuid.UUID, dict[str, tuple[int, int]]] = {}
    for subject_id, when, negatives, total in rows:
        found.setdefault(subject_id, {})[str(when)[:10]] = (int(negatives or 0), int(total))
    return found


def subjects_of(
    session: Session, *, workspace_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Subject]]:
    """The subjects each message matched (for the stream and the message page)."""
    if not message_ids:
        return {}
    same_subject = (Subject.workspace_id == Mention.workspace_id) & (
        Subject.id == Mention.subject_id
    )
    rows = session.execute(
        select(Mention.message_id, Subject)
        .join(Subject, same_subject)
        .where(Mention.workspace_id == workspace_id, Mention.message_id.in_(message_ids))
        .order_by(Subject.name)
    ).all()
    found: dict[uuid.UUID, list[Subject]] = {}
    for message_id, subject in rows:
        found.setdefault(message_id, []).append(subject)
    return found


def author_mentions(
    session: Session, *, workspace_id: uuid.UUID, identity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[Subject, int]]]:
    """Per author identity: the subjects their messages matched, with how many messages."""
    if not identity_ids:
        return {}
    rows = session.execute(
        select(Message.identity_id, Mention.subject_id, func.count())
        .join(
            Message,
            (Message.workspace_id == Mention.workspace_id) & (Message.id == Mention.message_id),
        )
        .where(
            Mention.workspace_id == workspace_id,
            Message.workspace_id == workspace_id,
            Message.identity_id.in_(identity_ids),
        )
        .group_by(Message.identity_id, Mention.subject_id)
    ).all()
    subjects = {s.id: s for s in list_subjects(session, workspace_id=workspace_id)}
    found: dict[uuid.UUID, list[tuple[Subject, int]]] = {}
    for identity_id, subject_id, count in rows:
        if identity_id is not None and subject_id in subjects:
            found.setdefault(identity_id, []).append((subjects[subject_id], count))
    return found


# --- matching ---------------------------------------------------------------------------------

# Compiled matchers per workspace, rebuilt when a subject changes (in this process) or when
# the set of (id, query) pairs read from the database differs (changes made elsewhere).
_cache: dict[uuid.UUID, tuple[tuple[tuple[uuid.UUID, str], ...], Matcher[uuid.UUID]]] = {}
_cache_lock = threading.Lock()


def _changed(workspace_id: uuid.UUID) -> None:
    with _cache_lock:
        _cache.pop(workspace_id, None)


def matcher_for(session: Session, workspace_id: uuid.UUID) -> Matcher[uuid.UUID] | None:
    rows = session.execute(
        select(Subject.id, Subject.query)
        .where(Subject.workspace_id == workspace_id, Subject.is_active.is_(True))
        .order_by(Subject.id)
    ).all()
    pairs = tuple((row.id, row.query) for row in rows)
    if not pairs:
        return None
    with _cache_lock:
        cached = _cache.get(workspace_id)
        if cached is not None and cached[0] == pairs:
            return cached[1]
    matcher = Matcher.compile(pairs)
    with _cache_lock:
        _cache[workspace_id] = (pairs, matcher)
    return matcher


@after_ingest
def match_new_messages(
    session: Session, workspace_id: uuid.UUID, messages: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Post-ingest step: store a mention for every subject each new message matches."""
    matcher = matcher_for(session, workspace_id)
    if matcher is None or not messages:
        return
    rows = [
        {
            "workspace_id": workspace_id,
            "id": new_id(),
            "message_id": message_id,
            "subject_id": subject_id,
        }
        for message_id, text in messages
        for subject_id in matcher.match(text)
    ]
    if rows:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(Mention).on_conflict_do_nothing(), rows)
