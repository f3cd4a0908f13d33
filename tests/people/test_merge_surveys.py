"""Survey invitations and answers follow a merge to the person who stays, and come back
with an undo — also answers given after the merge to the loser's invitation, and along a
chain of merges — so NPS, frequency caps and the Advocates lists always see them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.advocacy import service as advocacy
from h2h.db import utcnow
from h2h.feedback import invites
from h2h.feedback import service as feedback
from h2h.feedback.models import Invite, Response, SurveyKind
from h2h.people.models import Person
from tests.conftest import Cast
from tests.people.test_merge import merge, person, unmerge

NOW = utcnow()


def nps(session: Session, cast: Cast) -> Any:
    return feedback.create_survey(
        session, workspace_id=cast.a.id, actor=accounts.SYSTEM, kind=SurveyKind.NPS, name="NPS"
    )


def ask(session: Session, survey: Any, who: Person, *, days_ago: int) -> Invite:
    invite, _token = invites.new_invite(
        session, survey, who, channel_id=None, sent_by=None, now=NOW - timedelta(days=days_ago)
    )
    session.flush()
    return invite


def answer(session: Session, invite: Invite, score: int, *, days_ago: int) -> Response:
    response = feedback.submit(
        session, invite=invite, score=str(score), now=NOW - timedelta(days=days_ago)
    )
    session.flush()
    return response


def owners(session: Session, model: Any, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    session.expire_all()
    found = dict(session.execute(select(model.id, model.person_id).where(model.id.in_(ids))).all())
    return [found[i] for i in ids]


def test_a_merge_moves_invitations_and_answers_and_an_undo_brings_them_back(
    session: Session, cast: Cast
) -> None:
    survey = nps(session, cast)
    winner = person(session, cast, "Александр Иванов", email="sasha@example.com")
    loser = person(session, cast, "Alexander Ivanov", email="alex@example.org")
    answered = ask(session, survey, loser, days_ago=10)
    given = answer(session, answered, 10, days_ago=9)
    pending = ask(session, survey, loser, days_ago=2)
    session.commit()

    record = merge(session, cast, winner, loser)
    session.commit()
    assert owners(session, Invite, [answered.id, pending.id]) == [winner.id, winner.id]
    assert owners(session, Response, [given.id]) == [winner.id]
    assert sorted(record.snapshot["moved"]["survey_responses"]) == [str(given.id)]
    mine = feedback.responses_of_person(session, workspace_id=cast.a.id, person_id=winner.id)
    assert [r.id for r in mine] == [given.id]
    board = advocacy.boards(session, workspace_id=cast.a.id, now=NOW)
    assert [p.id for p, _ in board.advocates] == [winner.id]
    texts = [r.text() for r in board.advocates[0][1].reasons]
    assert "Promoter: answered 10 to the NPS question" in texts

    unmerge(session, cast, record)
    session.commit()
    assert owners(session, Invite, [answered.id, pending.id]) == [loser.id, loser.id]
    assert owners(session, Response, [given.id]) == [loser.id]
    board = advocacy.boards(session, workspace_id=cast.a.id, now=NOW)
    assert [p.id for p, _ in board.advocates] == [loser.id]


def test_an_answer_after_the_merge_goes_back_with_the_losers_invitation(
    session: Session, cast: Cast
) -> None:
    survey = nps(session, cast)
    winner = person(session, cast, "Мария Петрова", email="masha@example.com")
    loser = person(session, cast, "Maria Petrova", email="maria@example.org")
    theirs = ask(session, survey, loser, days_ago=5)
    record = merge(session, cast, winner, loser)
    session.commit()
    late = answer(session, theirs, 3, days_ago=1)  # the link the loser got, answered now
    assert late.person_id == winner.id
    found = advocacy.person_standing(session, workspace_id=cast.a.id, person_id=loser.id, now=NOW)
    assert found.person.id == winner.id and found.voice.nps == 3
    ours = ask(session, survey, winner, days_ago=1)  # asked after the merge: the winner's
    own = answer(session, ours, 9, days_ago=0)
    session.commit()

    unmerge(session, cast, record)
    session.commit()
    assert owners(session, Invite, [theirs.id, ours.id]) == [loser.id, winner.id]
    assert owners(session, Response, [late.id, own.id]) == [loser.id, winner.id]
    back = advocacy.person_standing(session, workspace_id=cast.a.id, person_id=loser.id, now=NOW)
    assert back.person.id == loser.id and back.voice.nps == 3
    stays = advocacy.person_standing(session, workspace_id=cast.a.id, person_id=winner.id, now=NOW)
    assert stays.voice.nps == 9


def test_answers_reach_the_end_of_a_chain_and_come_back_newest_first(
    session: Session, cast: Cast
) -> None:
    survey = nps(session, cast)
    a = person(session, cast, "Катя Смирнова", email="katya@example.com")
    b = person(session, cast, "Ekaterina Smirnova", phone="+79031112233")
    c = person(session, cast, "Catherine Smirnova", email="kate@example.org")
    given = answer(session, ask(session, survey, a, days_ago=20), 10, days_ago=19)
    first = merge(session, cast, b, a)  # A into B
    second = merge(session, cast, c, b)  # then B into C
    session.commit()
    assert owners(session, Response, [given.id]) == [c.id]
    found = advocacy.person_standing(session, workspace_id=cast.a.id, person_id=a.id, now=NOW)
    assert found.person.id == c.id and found.voice.nps == 10  # two merges deep
    unmerge(session, cast, second)
    assert owners(session, Response, [given.id]) == [b.id]
    unmerge(session, cast, first)
    session.commit()
    assert owners(session, Response, [given.id]) == [a.id]
