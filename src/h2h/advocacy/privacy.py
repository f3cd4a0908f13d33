"""What acting on advocates forgets when a person is erased (people.privacy calls it).

The actions stay, so the outcome counts stay true, but lose what was said to the person
and about them: the text we sent, the member's note, the evidence ids; an action that
counted them as the referred person forgets who that was.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from h2h.advocacy.models import AdvocacyAction
from h2h.people import privacy
from h2h.people.models import Identity

CHUNK = 500


@privacy.on_erase
def erase_actions(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    message_ids: list[uuid.UUID],
) -> None:
    persons: set[uuid.UUID] = set()
    for start in range(0, len(identity_ids), CHUNK):
        persons.update(
            session.scalars(
                select(Identity.person_id).where(
                    Identity.workspace_id == workspace_id,
                    Identity.id.in_(identity_ids[start : start + CHUNK]),
                )
            )
        )
    ids = list(persons)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(
            update(AdvocacyAction)
            .where(AdvocacyAction.workspace_id == workspace_id, AdvocacyAction.person_id.in_(chunk))
            .values(text="", outcome_note=None, evidence={})
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(AdvocacyAction)
            .where(
                AdvocacyAction.workspace_id == workspace_id,
                AdvocacyAction.referred_person_id.in_(chunk),
            )
            .values(referred_person_id=None, evidence={})
            .execution_options(synchronize_session=False)
        )
