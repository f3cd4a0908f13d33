"""What the problems domain forgets when a person is erased (people.privacy calls it).

The complaints stay in their problems — counts, days and evidence keep adding up — but lose
the link to the person, and their vectors (derived from the erased text). Follow-up
messages to the person lose the name and the text; one not sent yet is skipped, so nothing
goes out to someone who has just been erased. Quotes that pointed at their messages are
recomputed without them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from h2h.people import privacy
from h2h.problems import service
from h2h.problems.models import FollowUp, FollowUpStatus, ProblemComplaint

CHUNK = 500


@privacy.on_erase
def erase_complaints(
    session: Session,
    workspace_id: uuid.UUID,
    identity_ids: list[uuid.UUID],
    message_ids: list[uuid.UUID],
) -> None:
    for start in range(0, max(len(identity_ids), len(message_ids)), CHUNK):
        identities = identity_ids[start : start + CHUNK]
        messages = message_ids[start : start + CHUNK]
        theirs = or_(
            ProblemComplaint.identity_id.in_(identities),
            ProblemComplaint.message_id.in_(messages),
        )
        session.execute(
            update(ProblemComplaint)
            .where(ProblemComplaint.workspace_id == workspace_id, theirs)
            .values(identity_id=None, vector=None)
            .execution_options(synchronize_session=False)
        )
        about_them = or_(FollowUp.identity_id.in_(identities), FollowUp.message_id.in_(messages))
        session.execute(
            update(FollowUp)
            .where(
                FollowUp.workspace_id == workspace_id,
                about_them,
                FollowUp.status.in_([FollowUpStatus.DRAFT, FollowUpStatus.BLOCKED]),
            )
            .values(status=FollowUpStatus.SKIPPED)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(FollowUp)
            .where(FollowUp.workspace_id == workspace_id, about_them)
            .values(name=None, text="", person_id=None, identity_id=None)
            .execution_options(synchronize_session=False)
        )
    if not message_ids:
        return
    touched: set[uuid.UUID] = set()
    for start in range(0, len(message_ids), CHUNK):
        touched.update(
            session.scalars(
                select(ProblemComplaint.problem_id).where(
                    ProblemComplaint.workspace_id == workspace_id,
                    ProblemComplaint.message_id.in_(message_ids[start : start + CHUNK]),
                )
            )
        )
    session.flush()
    for problem_id in touched:
        # Key phrases and quotes may come from their words: recomputed from the others
        # (erased complaints have no vector now, so the label leaves them out).
        service.relabel(
            session, service.get_problem(session, workspace_id=workspace_id, problem_id=problem_id)
        )
