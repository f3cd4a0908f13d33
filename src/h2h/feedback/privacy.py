"""What the feedback domain forgets when a person is erased (people.privacy calls it).

Scores stay, so NPS and CSAT keep adding up, but what the person wrote goes: the comment and
the custom answers (free text among them) of every answer of theirs, found by the person of
their identities and by the messages the comments were stored as.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from h2h.feedback.models import Response
from h2h.people import privacy
from h2h.people.models import Identity

CHUNK = 500


@privacy.on_erase
def erase_answers(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    message_ids: list[uuid.UUID],
) -> None:
    person_ids: set[uuid.UUID] = set()
    for start in range(0, len(identity_ids), CHUNK):
        person_ids.update(
            session.scalars(
                select(Identity.person_id).where(
                    Identity.workspace_id == workspace_id,
                    Identity.id.in_(identity_ids[start : start + CHUNK]),
                    Identity.person_id.is_not(None),
                )
            )
        )
    people = list(person_ids)
    for start in range(0, max(len(people), len(message_ids)), CHUNK):
        theirs = or_(
            Response.person_id.in_(people[start : start + CHUNK]),
            Response.message_id.in_(message_ids[start : start + CHUNK]),
        )
        session.execute(
            update(Response)
            .where(Response.workspace_id == workspace_id, theirs)
            .values(comment=None, answers={})
            .execution_options(synchronize_session=False)
        )
