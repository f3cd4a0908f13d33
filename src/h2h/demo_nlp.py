"""Understanding demo: messages that show what the analysis catches, workspace aspects and a
person's correction. Texts are written for the demo; nothing is read from outside."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels.connectors.base import Author, RawMessage
from h2h.channels.models import Channel, Message
from h2h.db import utcnow
from h2h.nlp import service as nlp
from h2h.nlp.models import CorrectionField

ZERNO = [
    # (author, followers, text)
    (
        "Вероника Шилова",
        18_500,
        "Если до вечера не вернёте деньги за испорченный торт, напишу "
        "отзывы на всех площадках и отправлю жалобу в Роспотребнадзор.",
    ),
    (
        "Глеб Кириллов",
        230,
        "Хочу заказать кофе и сэндвичи на офис на 20 человек в пятницу. "
        "Сколько это будет стоить с доставкой?",
    ),
    ("Максим Рябов", 90, "Курьер Зерна опять опоздал, это п*здец какой-то, второй раз за неделю"),
    (
        "Юлия Миронова",
        1_400,
        "Зерно, добавьте, пожалуйста, оплату через СБП в приложении — картой неудобно",
    ),
    ("Анатолий Громов", 60, "Официант в Зерне хамил, а десерт был чёрствый. Больше не придём"),
]
DENTAL = [
    (
        "Rebecca Stone",
        24_000,
        "Refund the whitening fee by Friday or I'm filing a complaint with "
        "the dental board and posting this everywhere.",
    ),
    (
        "Oliver Grant",
        120,
        "I'd like to book a check-up and cleaning for my two kids next week — "
        "how much would that cost?",
    ),
    ("Dan Keller", 35, "Third time my insurance claim got messed up. This is bullsh*t."),
]
ASPECTS = {
    "zerno": ("desserts", "Десерты", "десерт, торт, сырник, круассан, пирожное, чизкейк"),
    "carter-dental": ("insurance", "Insurance", "insurance, insurer, claim, coverage, NHS"),
}


def load(
    session: Session,
    *,
    workspace_ids: dict[str, uuid.UUID],
    owner: accounts.Actor,
    agent: accounts.Actor,
) -> None:
    """Add the understanding showcase to both demo workspaces (analysed on ingest)."""
    for slug, (key, name, terms) in ASPECTS.items():
        nlp.save_aspect(
            session, workspace_id=workspace_ids[slug], actor=owner, key=key, name=name, terms=terms
        )
    for slug, texts in (("zerno", ZERNO), ("carter-dental", DENTAL)):
        workspace_id = workspace_ids[slug]
        channel = session.scalars(
            select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.name)
        ).first()
        if channel is None:
            continue
        items = [
            RawMessage(
                external_id=f"demo-nlp-{n}",
                text=text,
                created_at=utcnow() - timedelta(hours=3 + 5 * n),
                author=Author(handle=f"demo.nlp.{n}", name=author, followers=followers),
                raw={"demo": True},
            )
            for n, (author, followers, text) in enumerate(texts)
        ]
        ingest.store(session, workspace_id=workspace_id, channel_id=channel.id, items=items)
    _correct_comparison(session, workspace_ids["zerno"], agent)


# A mixed comparison is where a machine hesitates; the barista's reading shows how people
# teach the workspace model.
COMPARISON = "Сравнила раф в Бодром Баристе и в Зерне — в Зерне вкуснее, но дороже"


def _correct_comparison(session: Session, workspace_id: uuid.UUID, agent: accounts.Actor) -> None:
    message = session.scalars(
        select(Message).where(Message.workspace_id == workspace_id, Message.text == COMPARISON)
    ).first()
    if message is not None:
        nlp.correct(
            session,
            workspace_id=workspace_id,
            actor=agent,
            message_id=message.id,
            field=CorrectionField.SENTIMENT,
            value="positive",
        )
