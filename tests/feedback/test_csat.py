"""CSAT after a conversation: asked once, as a reply from the agent who handled it, within the
cap; the answer is credited to that agent and an unhappy one reopens the conversation."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.feedback import invites, service
from h2h.feedback.models import Invite, Response, SurveyKind
from h2h.inbox import service as inbox
from h2h.inbox.models import Conversation, State
from tests.conftest import Cast
from tests.feedback.conftest import USERS, known, token_in
from tests.inbox.conftest import actor_of, conversation_of, customer, store

_numbers = itertools.count(1)


def conversation_number() -> int:
    return next(_numbers)


def resolved(
    session: Session, cast: Cast, channel: Channel, who: str, *, hours_ago: float = 3
) -> Conversation:
    known(session, cast, channel, who, days_ago=1, text="Где мой заказ?")
    [m] = store(
        session,
        cast,
        channel,
        customer(
            f"{who}-q-{(n := conversation_number())}",
            "Заказ так и не пришёл",
            thread_id=f"chat-{who}-{n}",
            handle=str(USERS[who]["id"]),
            at=utcnow() - timedelta(hours=5),
        ),
    )
    conversation = conversation_of(session, cast, m)
    inbox.set_owner(session, conversation, cast.agent.user.id, reason="test")
    inbox.change_state(
        session, conversation, State.RESOLVED, at=utcnow() - timedelta(hours=hours_ago)
    )
    session.flush()
    return conversation


def test_a_resolved_conversation_gets_one_csat_request_from_its_agent(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    conversation = resolved(session, cast, telegram_channel, "anna")
    [delivery] = invites.ask_after_resolved(session, workspace_id=cast.a.id)
    assert delivery.conversation_id == conversation.id
    assert delivery.author_id == cast.agent.user.id
    assert "/f/" in delivery.text
    invite = session.scalars(select(Invite)).one()
    assert (invite.about_conversation_id, invite.agent_id) == (conversation.id, cast.agent.user.id)
    assert invites.ask_after_resolved(session, workspace_id=cast.a.id) == []  # once
    service.get_settings(session, workspace_id=cast.a.id).csat_scanned_until = None
    assert invites.ask_after_resolved(session, workspace_id=cast.a.id) == []  # even re-scanned


def test_too_fresh_too_often_or_switched_off_is_not_asked(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    resolved(session, cast, telegram_channel, "anna", hours_ago=0.2)  # within the 60 minutes
    assert invites.ask_after_resolved(session, workspace_id=cast.a.id) == []
    settings = service.get_settings(session, workspace_id=cast.a.id)
    settings.csat_scanned_until = None
    settings.csat_delay_minutes = 0
    assert len(invites.ask_after_resolved(session, workspace_id=cast.a.id)) == 1
    # Ivan twice in a day: the second conversation is within the 7-day CSAT cap.
    resolved(session, cast, telegram_channel, "ivan", hours_ago=2)
    second = resolved(session, cast, telegram_channel, "ivan", hours_ago=1)
    settings.csat_scanned_until = None
    asked = invites.ask_after_resolved(session, workspace_id=cast.a.id)
    assert len(asked) == 1 and second.id not in {d.conversation_id for d in asked}
    settings.csat_after_resolve = False
    settings.csat_scanned_until = None
    resolved(session, cast, telegram_channel, "john")
    assert invites.ask_after_resolved(session, workspace_id=cast.a.id) == []


def test_an_unhappy_csat_reopens_the_conversation_for_the_agent(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    conversation = resolved(session, cast, telegram_channel, "anna")
    [delivery] = invites.ask_after_resolved(session, workspace_id=cast.a.id)
    invite = service.invite_by_token(session, token=token_in(delivery.text))
    response = service.submit(session, invite=invite, score="1", comment="Так и не привезли")
    assert (response.kind, response.agent_id) == (SurveyKind.CSAT, cast.agent.user.id)
    session.refresh(conversation)
    assert response.conversation_id == conversation.id
    assert conversation.state is State.OPEN and conversation.owner_id == cast.agent.user.id
    kinds = [e.kind for e in inbox.history(session, conversation=conversation)]
    assert "detractor" in kinds


def test_a_happy_csat_leaves_the_conversation_resolved(
    session: Session, cast: Cast, telegram_channel: Channel
) -> None:
    conversation = resolved(session, cast, telegram_channel, "anna")
    [delivery] = invites.ask_after_resolved(session, workspace_id=cast.a.id)
    invite = service.invite_by_token(session, token=token_in(delivery.text))
    service.submit(session, invite=invite, score="5")
    session.refresh(conversation)
    assert conversation.state is State.RESOLVED
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_settings_are_checked_field_by_field(session: Session, cast: Cast) -> None:
    import pytest

    from h2h.errors import InvalidInput, PermissionDenied

    with pytest.raises(InvalidInput) as bad:
        service.save_settings(
            session, workspace_id=cast.a.id, actor=actor_of(cast.admin), values={"cap_days": "-3"}
        )
    assert bad.value.field == "cap_days"
    with pytest.raises(PermissionDenied):
        service.save_settings(
            session, workspace_id=cast.a.id, actor=actor_of(cast.agent), values={"cap_days": "3"}
        )
    saved = service.save_settings(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.admin),
        values={"cap_days": "14", "detractor_conversation": False},
    )
    assert (saved.cap_days, saved.detractor_conversation) == (14, False)
