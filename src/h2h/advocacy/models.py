"""Tables of acting on advocates: each personal message a member sent, and where it led.

One row per message (thank, invite, review request, referral request) to one person. The
text is stored as sent, disclosure line included, and a reward is stored beside it
(``rewarded`` and ``reward``): an incentive is never hidden, not in the message and not in
the records (truthful advertising). The outcome moves sent → replied / posted / referred /
converted / declined / no_response, detected by ``advocacy.track_outcomes`` or set by hand;
each milestone keeps its own time, so "how many replied" stays true after a later referral.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from h2h.db import Base, TenantMixin, str_enum, utcnow
from h2h.errors import N_


class ActionKind(enum.StrEnum):
    THANK = "thank"
    INVITE = "invite"  # to a beta or a community
    REVIEW = "review"  # ask for a review on a review site
    REFERRAL = "referral"  # ask them to recommend us to someone


class ActionState(enum.StrEnum):
    SENT = "sent"
    REPLIED = "replied"
    POSTED = "posted"  # a review request: they posted publicly afterwards
    REFERRED = "referred"  # a referral request: someone came with their code
    CONVERTED = "converted"  # …and bought; an invitation: they joined
    DECLINED = "declined"
    NO_RESPONSE = "no_response"  # nothing within the tracking window


# Requests count against the frequency cap; a thank-you asks for nothing.
REQUESTS = (ActionKind.INVITE, ActionKind.REVIEW, ActionKind.REFERRAL)
# Kinds whose request may come with a reward, and so must say so.
REWARDABLE = (ActionKind.REVIEW, ActionKind.REFERRAL)

KIND_LABELS = {
    ActionKind.THANK: N_("Thank personally"),
    ActionKind.INVITE: N_("Invite to a beta or community"),
    ActionKind.REVIEW: N_("Ask for a review"),
    ActionKind.REFERRAL: N_("Ask for a referral"),
}
STATE_LABELS = {
    ActionState.SENT: N_("sent"),
    ActionState.REPLIED: N_("replied"),
    ActionState.POSTED: N_("posted"),
    ActionState.REFERRED: N_("referred someone"),
    ActionState.CONVERTED: N_("converted"),
    ActionState.DECLINED: N_("declined"),
    ActionState.NO_RESPONSE: N_("no response"),
}


def _person_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["workspace_id", "person_id"], ["persons.workspace_id", "persons.id"], ondelete="CASCADE"
    )


class AdvocacyAction(TenantMixin, Base):
    __tablename__ = "advocacy_actions"
    __table_args__ = (
        _person_fk(),
        UniqueConstraint("workspace_id", "referral_code"),
        Index("ix_advocacy_actions_workspace_id_person_id", "workspace_id", "person_id", "sent_at"),
        Index("ix_advocacy_actions_workspace_id_state", "workspace_id", "state", "sent_at"),
        Index(
            "ix_advocacy_actions_workspace_id_conversation_id", "workspace_id", "conversation_id"
        ),
    )

    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind))
    person_id: Mapped[uuid.UUID]
    state: Mapped[ActionState] = mapped_column(str_enum(ActionState), default=ActionState.SENT)
    text: Mapped[str] = mapped_column(Text)  # as sent, the disclosure line included
    link: Mapped[str | None] = mapped_column(String(2000))
    rewarded: Mapped[bool] = mapped_column(Boolean, default=False)
    reward: Mapped[str | None] = mapped_column(String(500))  # what was offered, as stated
    referral_code: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    channel_id: Mapped[uuid.UUID | None]
    conversation_id: Mapped[uuid.UUID | None]
    delivery_id: Mapped[uuid.UUID | None]
    route: Mapped[str] = mapped_column(String(16), default="new")  # "reply" or "new"
    sent_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    replied_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    referred_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # declined or no response
    referred_person_id: Mapped[uuid.UUID | None]
    # What showed the outcome: {"message_id": …, "event_id": …, "order_id": …}.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    # When a member last set the outcome: detection looks only at what happened after it.
    outcome_at: Mapped[datetime | None]
    outcome_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
