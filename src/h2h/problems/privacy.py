"""What the problems domain forgets when a person is erased (people.privacy calls it).

The complaints stay in their problems — counts, days and evidence keep adding up — but lose
the link to the person, and their vectors (derived from the erased text). Follow-up
messages to the person lose the name and the text; one not sent yet is skipped, so nothing
goes out to someone who has just been erased. Quotes that pointed at their messages are
dropped from the problems' labels.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from h2h.people import privacy
from h2h.problems.models import FollowUp, FollowUpStatus, Problem, ProblemComplaint

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
    gone = {str(m) for m in message_ids}
    if not gone:
        return
    for problem in session.scalars(select(Problem).where(Problem.workspace_id == workspace_id)):
        if gone & set(problem.quote_ids or []):
            problem.quote_ids = [q for q in problem.quote_ids if q not in gone]
