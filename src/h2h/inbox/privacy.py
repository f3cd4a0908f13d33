"""What the inbox forgets when a person is erased (people.privacy calls it).

The conversations stay — channel, dates, state, owner, the not-answering reason and the SLA
breaches — so response reports keep adding up; the words go: previews, subjects, the author's
name, the person's link, the texts of our replies and of anyone's unsent drafts, and internal
notes about the conversation (they are about the person). Deliveries not sent yet are failed
first: nothing goes out to someone who has just been erased.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from h2h.inbox.models import (
    Conversation,
    Delivery,
    DeliveryStatus,
    Draft,
    InternalNote,
)
from h2h.people import privacy

CHUNK = 500


@privacy.on_erase
def erase_conversations(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    message_ids: list[uuid.UUID],
) -> None:
    """Blank the person's conversations (found by identity: merges move identities)."""
    ids: list[uuid.UUID] = []
    for start in range(0, len(identity_ids), CHUNK):
        chunk = identity_ids[start : start + CHUNK]
        ids += session.scalars(
            select(Conversation.id).where(
                Conversation.workspace_id == workspace_id, Conversation.identity_id.in_(chunk)
            )
        ).all()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        in_chunk = (Conversation.workspace_id == workspace_id) & Conversation.id.in_(chunk)
        session.execute(
            update(Conversation)
            .where(in_chunk)
            .values(identity_id=None, author_name=None, subject=None, preview="", close_note=None)
            .execution_options(synchronize_session=False)
        )
        _erase_rows(session, workspace_id, chunk)


def _erase_rows(session: Session, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    for model in (Draft, InternalNote):
        session.execute(
            delete(model)
            .where(model.workspace_id == workspace_id, model.conversation_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Delivery)
        .where(
            Delivery.workspace_id == workspace_id,
            Delivery.conversation_id.in_(ids),
            Delivery.status == DeliveryStatus.QUEUED,
        )
        .values(status=DeliveryStatus.FAILED, last_error="erased")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.workspace_id == workspace_id, Delivery.conversation_id.in_(ids))
        .values(text="", to_handle="", subject=None, link=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
