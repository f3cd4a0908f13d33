"""Operations on persons: the profile itself, its aggregates and the workspace's policy.

The people domain's writers are split by subject — ``identities`` (creating identities),
``linking`` (message authors), ``merging`` (merge and unmerge), ``commerce`` (orders,
events), ``consent``, ``privacy`` (export, erase), ``segments`` — and this module holds
what they share. Other domains call ``from h2h.people import service``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from h2h.channels.models import Message
from h2h.db import get_in_workspace, utcnow
from h2h.people import lifecycle
from h2h.people.models import Identity, Order, PeopleSettings, Person

CHUNK = 500


def get_person(session: Session, *, workspace_id: uuid.UUID, person_id: Any) -> Person:
    """A person of the workspace (merged and erased ones too: callers decide what to show)."""
    return get_in_workspace(session, Person, workspace_id=workspace_id, id=person_id)


def identity_ids(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID
) -> list[uuid.UUID]:
    """Ids of the person's identities: what their messages, orders and events point at."""
    return list(
        session.scalars(
            select(Identity.id).where(
                Identity.workspace_id == workspace_id, Identity.person_id == person_id
            )
        )
    )


def get_settings(session: Session, *, workspace_id: uuid.UUID) -> PeopleSettings:
    """The workspace's people policy; the defaults until someone changes them."""
    found = session.scalars(
        select(PeopleSettings).where(PeopleSettings.workspace_id == workspace_id)
    ).one_or_none()
    if found is None:
        found = PeopleSettings(workspace_id=workspace_id)
        session.add(found)
        session.flush()
    return found


def refresh_aggregates(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> None:
    """Recount messages and orders of these persons from their identities; re-derive stage."""
    policy = get_settings(session, workspace_id=workspace_id)
    now = utcnow()
    ids = list(dict.fromkeys(person_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        messages = _message_figures(session, workspace_id, chunk)
        orders = _order_figures(session, workspace_id, chunk)
        persons = session.scalars(
            select(Person).where(Person.workspace_id == workspace_id, Person.id.in_(chunk))
        ).all()
        rows = []
        for person in persons:
            count, first, last = messages.get(person.id, (0, None, None))
            n_orders, value, first_order, last_order = orders.get(person.id, (0, 0, None, None))
            person.message_count, person.order_count, person.lifetime_value = count, n_orders, value
            person.first_order_at, person.last_order_at = first_order, last_order
            seen = [t for t in (first, first_order, person.first_seen_at) if t is not None]
            last_seen = [t for t in (last, last_order) if t is not None]
            rows.append(
                {
                    "workspace_id": workspace_id,
                    "id": person.id,
                    "message_count": count,
                    "order_count": n_orders,
                    "lifetime_value": value,
                    "first_order_at": first_order,
                    "last_order_at": last_order,
                    "first_seen_at": min(seen) if seen else None,
                    "last_seen_at": max(last_seen) if last_seen else person.last_seen_at,
                    "stage": lifecycle.derive_stage(
                        person=person, lapsed_after_days=policy.lapsed_after_days, now=now
                    ),
                }
            )
        if rows:
            session.execute(update(Person), rows)
    session.expire_all()


def _message_figures(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, Any, Any]]:
    rows = session.execute(
        select(
            Identity.person_id,
            func.count(Message.id),
            func.min(Message.created_at),
            func.max(Message.created_at),
        )
        .join(
            Message,
            (Message.workspace_id == Identity.workspace_id) & (Message.identity_id == Identity.id),
        )
        .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(person_ids))
        .group_by(Identity.person_id)
    )
    return {row[0]: (row[1], _utc(row[2]), _utc(row[3])) for row in rows}


def _order_figures(
    session: Session, workspace_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int, Any, Any]]:
    # A cancellation refunds money but is not an order of its own.
    purchases = func.count(case((Order.is_cancellation.is_(False), 1)))
    rows = session.execute(
        select(
            Identity.person_id,
            purchases,
            func.coalesce(func.sum(Order.total), 0),
            func.min(Order.placed_at),
            func.max(Order.placed_at),
        )
        .join(
            Order,
            (Order.workspace_id == Identity.workspace_id) & (Order.identity_id == Identity.id),
        )
        .where(Identity.workspace_id == workspace_id, Identity.person_id.in_(person_ids))
        .group_by(Identity.person_id)
    )
    return {row[0]: (int(row[1] or 0), int(row[2]), _utc(row[3]), _utc(row[4])) for row in rows}


def _utc(value: Any) -> Any:
    """Aggregates come back naive from SQLite (the column type is not applied to them)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
