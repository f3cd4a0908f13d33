"""Inbox demo: named agents at work on the conversations the other demos brought in.

``configure`` runs before any demo traffic arrives, as a real workspace sets up its inbox
before connecting channels: signatures, business hours, SLA policies, the escalation owner,
the threat playbook and assignment rules. So every demo message is threaded, prioritised,
routed and put on the clock by the real post-ingest step — a threat lands with the
escalation owner because routing sent it there, not because the demo says so.

``load`` runs after the people demo and does the agents' work, as of the demo's own clock
(every message is dated relative to the moment the demo is built): most older
conversations are answered and resolved (replies recorded, or sent — the demo has no
internet, so a send is completed as the delivery job completes it once a channel took the
reply), a few wait for the customer, some are closed without an answer with a reason and a
note, and one is left overdue so the breach job records it and tells its owner. Messages
older than ``threading.HORIZON`` (a customer's first order three weeks ago) stay history on
purpose: the inbox is for what still needs an answer, and the person's profile shows them.

The SLA outcome does not depend on the hour the demo is built: whatever is left running
was opened less than its target ago (open time never exceeds wall time), and the overdue
one is days past any target.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import User
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.inbox import listing, replies, routing, service, settings, sla, templates
from h2h.inbox.hours import DAY_NAMES, BusinessHours
from h2h.inbox.models import (
    ACTIVE_STATES,
    Conversation,
    Delivery,
    DeliveryStatus,
    Priority,
    ReplyTemplate,
    State,
)
from h2h.nlp.models import INTENTS

RECENT = timedelta(hours=30)  # unplanned conversations younger than this wait for the agents


@dataclass(frozen=True)
class Crew:
    """The demo's people as actors: Anna owns both workspaces, Dmitry and Tom answer."""

    anna: accounts.Actor
    dmitry: accounts.Actor
    tom: accounts.Actor


class Do(enum.StrEnum):
    REPLY = "reply"  # answer and resolve
    ASK = "ask"  # answer and wait for the customer
    PHONE = "phone"  # answered elsewhere (a call, the counter): the reply is recorded
    SKIP = "skip"  # close without an answer, with a reason and a note
    KEEP = "keep"  # leave it open (a note, a draft, or handed back to the team)


@dataclass(frozen=True)
class Step:
    """What an agent does with the conversation whose customer message starts so."""

    starts: str
    do: Do
    text: str = ""  # the answer; for ``skip`` the note; for ``keep`` an internal note
    reason: str = ""  # why not answering (``skip``)
    by: str = ""  # "anna", "dmitry", "tom": who acts, when not the owner


SIGNATURES = {
    ("zerno", "anna"): "Анна Соколова, владелица кофейни «Зерно»",
    ("zerno", "dmitry"): "Дмитрий Орлов, бариста «Зерна»",
    ("carter-dental", "tom"): "Tom Hughes, practice manager, Dr. Emily Carter Dental",
    ("carter-dental", "anna"): "Anna Sokolova, for Dr. Emily Carter",
}
ZERNO_HOURS = {"timezone": "Europe/Ulyanovsk", "days": {d: ["08:00", "22:00"] for d in DAY_NAMES}}
DENTAL_HOURS = {
    "timezone": "Europe/London",
    "days": {d: ["08:30", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": ["09:00", "13:00"]},
}
# (priority, channel kind or "", name, first response, next response, resolution, business hours)
ZERNO_POLICIES = [
    ("urgent", "", "Срочно: угрозы и скандалы", "30", "60", "480", False),
    ("high", "", "Высокий", "60", "120", "1440", True),
    ("normal", "", "Обычный", "240", "480", "2880", True),
    ("normal", "vk", "ВКонтакте: публично, отвечаем быстрее", "120", "240", "2880", True),
]
DENTAL_POLICIES = [
    ("urgent", "", "Urgent: threats and pain", "30", "60", "1440", False),
    ("normal", "email", "Email", "480", "480", "2880", True),
]
ZERNO_PLAYBOOK = [
    "Не обещаем возврат и не удаляем отзыв в первом ответе — сначала факты.",
    "Проверяем заказ: что, когда, кто собирал; просим номер заказа и фото.",
    "Пишем Анне: отвечает владелица, одним голосом.",
    "Если мы виноваты — признаём, исправляем и говорим об этом прямо.",
    "Роспотребнадзор и суд — только через юриста, всё записываем в заметку.",
]
TEMPLATES = {
    "zerno": [
        ("Спасибо за отзыв", "ru", "{name}, спасибо, что нашли время написать! Передам команде."),
        ("Спасибо за идею", "ru", "{name}, спасибо за идею! Записали её, обсудим на планёрке."),
        (
            "Извинение",
            "ru",
            "{name}, простите, пожалуйста, — так быть не должно. Разберёмся и напишем, что"
            " исправили.",
        ),
        (
            "Сертификаты",
            "ru",
            "{name}, сертификаты есть на 1000, 3000 и 5000 ₽, их можно купить в кофейне или на"
            " сайте.",
        ),
        ("Заказ готов", "ru", "{name}, ваш заказ {order} готов, ждём вас на Гончарова, 12."),
        ("Thank you (English)", "en", "Thank you, {name}! We are glad you enjoyed Zerno."),
    ],
    "carter-dental": [
        (
            "Thanks for the review",
            "en",
            "Thank you, {name}, for taking the time to write. I'll pass this on to Dr Carter"
            " and the team.",
        ),
        (
            "Appointment question",
            "en",
            "Hi {name}, thanks for getting in touch. We have appointments on weekdays from"
            " 8:30am and on Saturday mornings.",
        ),
        (
            "Insurance claim",
            "en",
            "Hi {name}, I'm sorry about the trouble with your claim. I've asked our billing"
            " team to check it today.",
        ),
        ("Спасибо (по-русски)", "ru", "{name}, спасибо за отзыв! Передадим доктору Картер."),
    ],
}
THANKS = {"zerno": "Спасибо за отзыв", "carter-dental": "Thanks for the review"}
IDEAS = {"zerno": "Спасибо за идею", "carter-dental": "Thanks for the review"}
PERSONAL = {
    "zerno": [
        "Ждём вас снова — в четверг приезжает новый лот кении.",
        "Бариста передают привет и уже помнят ваш заказ.",
        "Приходите в субботу на дегустацию, будет светлая обжарка.",
        "Такие слова — лучшее начало смены.",
    ],
    "carter-dental": [
        "Dr Carter says you were a model patient.",
        "It made the whole team's day.",
    ],
}
WAVE = "Кофейня Зерно обманывает покупателей"
WAVE_ANSWER = (
    "В лавандовом рафе — сироп, который мы варим сами из сушёной лаванды; так и написано в"
    " меню. Приходите, покажем, как его готовим. Анна, владелица «Зерна»."
)
WAVE_NOTE = (
    "Один и тот же текст с восьми новых аккаунтов без подписчиков за двадцать минут — похоже"
    " на заказную волну. Ответили один раз публично в #{number}, здесь молчим."
)
ZERNO_STEPS = [
    Step(
        "Если до вечера не вернёте деньги",
        Do.ASK,
        "Вероника, мне очень жаль, что торт вас расстроил. Я владелица «Зерна» и разберусь"
        " сама: пришлите, пожалуйста, номер заказа и фото — сегодня же ответим, что можем"
        " сделать.",
    ),
    Step(
        "Бонусная карта Зерна не начисляет баллы",
        Do.KEEP,
        "@Анна, баллы не начисляются с октября не только у этого гостя — похоже, сломалась"
        " связка кассы с приложением. Что ответить, не знаю, подскажешь?",
    ),
    Step(
        "Зерно, добавьте, пожалуйста, оплату через СБП",
        Do.KEEP,
        "@Анна, оплата в приложении — это к тебе, снимаю себя с разговора. Гостья пишет"
        " часто, ответить бы сегодня.",
    ),
    Step("Хочу заказать кофе и сэндвичи на офис", Do.KEEP),
    Step(
        "Есть ли в кофейне Зерно растительное молоко",
        Do.ASK,
        "Есть овсяное и миндальное, раф на овсяном — один из самых популярных. На каком будете"
        " пробовать?",
    ),
    Step(
        "Официант в Зерне хамил",
        Do.ASK,
        "Анатолий, простите нас. Я поговорила с командой смены; напишите, пожалуйста, в какой"
        " день и в какое время вы были — хочу разобраться лично.",
        by="anna",
    ),
    Step(
        "Курьер Зерна опять опоздал",
        Do.PHONE,
        "Позвонил Максиму, извинился, вернули стоимость доставки. С курьерской службой"
        " разбираемся, второй раз за неделю — это много.",
    ),
    Step(
        "Купила сертификат, подруга в восторге",
        Do.ASK,
        "Конечно! На какую сумму оформить второй сертификат и как подписать открытку для мамы?",
    ),
    Step(
        "Звонила: кофе в доставке остыл",
        Do.PHONE,
        "Перезвонили Галине Петровне, извинились и вернули 480 ₽ на карту.",
    ),
    Step(
        "Хвалила новый десерт",
        Do.PHONE,
        "Сказали гостье, что медовик остаётся в меню до весны.",
    ),
    Step(
        "Спросил, будет ли раф без лактозы",
        Do.SKIP,
        "Ответили гостю у кассы, писать ему некуда.",
        "resolved_elsewhere",
    ),
    Step(
        "Купили зерно для кормушки",
        Do.SKIP,
        "Речь о зерне для птиц, не о нас.",
        "not_about_us",
    ),
    Step(
        "Погода в Ульяновске сегодня отличная",
        Do.SKIP,
        "Пост о прогулке, к нам отношения не имеет.",
        "not_about_us",
    ),
    Step(
        "Кофейный Угол открылся рядом",
        Do.SKIP,
        "Гость пишет о новом конкуренте; отвечать нечего, учли в отчёте о конкурентах.",
        "no_answer_needed",
    ),
    Step(
        "Курьер Зерна нагрубил по телефону",
        Do.REPLY,
        "Простите, пожалуйста. Поговорили с курьером; теперь адрес уточняет администратор сам."
        " Стоимость доставки вернули вам на карту.",
    ),
    Step(
        "Заказали доставку из Зерна, курьер опоздал",
        Do.REPLY,
        "Очень неприятно, простите. Вернули деньги за кофе и выдали курьерам термосумки —"
        " холодного кофе больше быть не должно.",
    ),
    Step(
        "Третий раз в кофейне Зерно перепутали заказ",
        Do.REPLY,
        "Простите, это наша ошибка. Теперь бариста повторяет заказ вслух, а «без сахара»"
        " печатается на стакане. Следующий раф — за наш счёт.",
    ),
    Step(
        "Подняли цены на капучино",
        Do.REPLY,
        "Понимаем, это неприятно. Зелёное зерно подорожало на треть с лета; мы подняли цену на"
        " 20 ₽, а утренний капучино до 10:00 оставили по старой цене.",
    ),
    Step(
        "Раф в Зерне сегодня был пережжённый",
        Do.REPLY,
        "Спасибо, что сказали. В тот день настраивали новую кофемолку; перекалибровали, а раф"
        " за наш счёт ждёт вас на кассе — просто назовите имя.",
    ),
    Step(
        "Зерно, а доставка работает в Засвияжье",
        Do.REPLY,
        "Работает! Доставляем по всему Ульяновску, в Засвияжье — за 40–60 минут, от 700 ₽"
        " бесплатно.",
    ),
    Step(
        "Подскажите, в Зерне можно оплатить картой другого банка",
        Do.REPLY,
        "Да, по QR через СБП можно оплатить картой любого банка.",
    ),
    Step(
        "Зерно, вы работаете 31 декабря",
        Do.REPLY,
        "Работаем до 18:00. Заказ на офис лучше оформить до 29-го — напишите, сколько вас, и мы"
        " всё посчитаем.",
    ),
    Step(
        "Можно ли забронировать столик в Зерне",
        Do.REPLY,
        "Можно! Отложили большой стол у окна на субботу — напишите, к какому времени вас ждать.",
    ),
    Step(
        "А когда снова будет кения",
        Do.REPLY,
        "Новая партия кении приезжает в четверг. Отложить для вас килограмм?",
    ),
    Step(
        "Здравствуйте! Есть ли у вас подарочные сертификаты",
        Do.REPLY,
        "Сертификаты",
    ),
]
ZERNO_NOTES = {
    "Если до вечера не вернёте деньги": [
        (
            "anna",
            "@Дмитрий, проверь, пожалуйста, заказ торта Вероники за субботу: что было в заказе"
            " и кто собирал. По плейбуку — никаких обещаний до проверки.",
        ),
        (
            "dmitry",
            "@Анна, нашёл: торт собирали в пятницу вечером, холодильник на Ленина в тот день"
            " барахлил. Похоже, претензия справедливая.",
        ),
    ],
}
DENTAL_STEPS = [
    Step(
        "Refund the whitening fee by Friday",
        Do.ASK,
        "Ms Stone, I'm sorry the whitening has left you unhappy. I'd like to understand what"
        " happened before anything else: could you call me on 020 7946 0000, or reply with a"
        " time that suits you?",
    ),
    Step(
        "Third time my insurance claim got messed up",
        Do.ASK,
        "Insurance claim",
    ),
    Step("I'd like to book a check-up and cleaning", Do.KEEP),
    Step("Does Carter Dental take new NHS patients", Do.KEEP),
    Step(
        "Called to say the new receptionist was wonderful",
        Do.SKIP,
        "She said it on the phone; Tom thanked her then and passed it on to the receptionist.",
        "resolved_elsewhere",
    ),
    Step(
        "Do you offer payment plans for implants? I'd like",
        Do.ASK,
        "Hi Jim, yes — implants can be spread over 6 or 12 months at 0%. I can offer a"
        " consultation next Tuesday at 4pm or Thursday at 10am: which suits you?",
    ),
    Step(
        "Is Dr. Carter doing Saturday appointments",
        Do.REPLY,
        "Yes — Dr Carter sees patients on the 5th and 19th of December, 9am to 1pm. Reply with a"
        " time that suits you and I'll book it.",
    ),
    Step(
        "Do you offer payment plans for implants at Carter",
        Do.REPLY,
        "We do: implants can be spread over 6 or 12 months at 0%. The details are on our fees"
        " page, and I'm happy to post you the leaflet.",
    ),
    Step(
        "The price list on the Carter Dental website",
        Do.REPLY,
        "You're right, and I'm sorry: the website still showed last year's prices. We have"
        " refunded the difference to your card and updated the page.",
    ),
    Step(
        "BrightSmile quoted half the price",
        Do.REPLY,
        "A fair question. Our price includes custom trays, a check before and a review after;"
        " Dr Carter is happy to talk you through the options in a free 10-minute call.",
    ),
]
DENTAL_NOTES = {
    "Refund the whitening fee by Friday": [
        (
            "tom",
            "@Anna, refund threat over whitening. Following the playbook: I'm checking her"
            " treatment notes before we promise anything.",
        ),
    ],
}
DRAFTS = {
    "Хочу заказать кофе и сэндвичи на офис": (
        "Глеб, здравствуйте! На 20 человек: 20 напитков и 20 сэндвичей с доставкой к 12:00 — "
    ),
    "I'd like to book a check-up and cleaning": (
        "Hi Oliver, thanks for getting in touch. For two children we can book back-to-back"
        " check-ups on "
    ),
}
DOWNGRADE = "Carter Dental fitted me in the same day"  # praise the model ranked high


def configure(session: Session, *, workspace_ids: Mapping[str, uuid.UUID], crew: Crew) -> None:
    """The inbox set-up of both demo workspaces, before their traffic arrives."""
    zerno, dental = workspace_ids["zerno"], workspace_ids["carter-dental"]
    actors = {"anna": crew.anna, "dmitry": crew.dmitry, "tom": crew.tom}
    for (slug, who), signature in SIGNATURES.items():
        service.set_status(
            session, workspace_id=workspace_ids[slug], actor=actors[who], signature=signature
        )
    for workspace_id, hours, policies in (
        (zerno, ZERNO_HOURS, ZERNO_POLICIES),
        (dental, DENTAL_HOURS, DENTAL_POLICIES),
    ):
        settings.save_hours(
            session,
            workspace_id=workspace_id,
            actor=crew.anna,
            hours=BusinessHours.from_config(hours),
        )
        for priority, kind, name, first, following, resolution, business in policies:
            settings.save_policy(
                session,
                workspace_id=workspace_id,
                actor=crew.anna,
                priority=priority,
                channel_kind=kind,
                name=name,
                first_response=first,
                next_response=following,
                resolution=resolution,
                business_hours=business,
            )
    # The coffee shop's owner takes threats herself, with a playbook of her own; the dental
    # practice's manager takes them and keeps the default playbook.
    for workspace_id, escalation, steps in (
        (zerno, crew.anna, ZERNO_PLAYBOOK),
        (dental, crew.tom, []),
    ):
        settings.save_general(
            session,
            workspace_id=workspace_id,
            actor=crew.anna,
            escalation_owner_id=str(escalation.user_id),
            auto_assign=True,
            steps=steps,
        )
    _rules(session, zerno, crew, [
        ("Блогеры и гости с большой аудиторией — Анна", {"min_reach": 10_000}, crew.anna),
        ("Доставка и оплата — Дмитрий", {"aspects": ["delivery", "payment"]}, crew.dmitry),
        ("Жалобы на персонал — Анна", {"aspects": ["staff"], "intents": ["complaint"]},
         crew.anna),
        ("English — Анна", {"languages": ["en"]}, crew.anna),
    ])  # fmt: skip
    _rules(session, dental, crew, [
        ("Insurance, payment plans, refunds → Tom",
         {"aspects": ["insurance", "payment", "refund"]}, crew.tom),
        ("High-reach reviewers → Anna", {"min_reach": 10_000}, crew.anna),
    ])  # fmt: skip


def _rules(
    session: Session,
    workspace_id: uuid.UUID,
    crew: Crew,
    rules: list[tuple[str, dict[str, object], accounts.Actor]],
) -> None:
    for name, conditions, who in rules:
        routing.save_rule(
            session,
            workspace_id=workspace_id,
            actor=crew.anna,
            name=name,
            conditions=conditions,
            user_ids=[str(who.user_id)],
        )


def load(session: Session, *, workspace_ids: Mapping[str, uuid.UUID], crew: Crew) -> None:
    """Templates, saved views and the agents' work on the demo conversations."""
    zerno, dental = workspace_ids["zerno"], workspace_ids["carter-dental"]
    for slug, workspace_id in workspace_ids.items():
        for name, language, body in TEMPLATES[slug]:
            templates.save_template(
                session,
                workspace_id=workspace_id,
                actor=crew.anna,
                name=name,
                body=body,
                language=language,
            )
    _views(session, zerno, crew.anna, crew.dmitry, russian=True)
    _views(session, dental, crew.anna, crew.tom, russian=False)
    _work(session, "zerno", zerno, crew, ZERNO_STEPS, ZERNO_NOTES)
    _work(session, "carter-dental", dental, crew, DENTAL_STEPS, DENTAL_NOTES)
    session.flush()
    # The breach job's run: the conversation nobody could answer is recorded as overdue.
    sla.check_breaches(session, now=utcnow())
    _away(session, dental, crew.anna, crew.tom)


def _views(
    session: Session,
    workspace_id: uuid.UUID,
    admin: accounts.Actor,
    agent: accounts.Actor,
    *,
    russian: bool,
) -> None:
    shared = [
        ("Просрочено" if russian else "Overdue", {"sla": "breached"}),
        ("Угрозы" if russian else "Threats", {"intent": "threat", "state": "all"}),
        ("Без ответственного" if russian else "Unassigned", {"owner": "unassigned"}),
        ("Срочные без ответственного" if russian else "Unassigned urgent",
         {"owner": "unassigned", "priority": "urgent"}),
    ]  # fmt: skip
    for name, filters in shared:
        listing.save_view(
            session,
            workspace_id=workspace_id,
            actor=admin,
            name=name,
            query=listing.InboxQuery.from_params(filters),
            shared=True,
        )
    own = [
        ("Мои открытые" if russian else "My open", {"owner": "mine"}),
        ("Жду ответа клиента" if russian else "Waiting for the customer",
         {"owner": "mine", "state": "pending"}),
    ]  # fmt: skip
    for name, filters in own:
        listing.save_view(
            session,
            workspace_id=workspace_id,
            actor=agent,
            name=name,
            query=listing.InboxQuery.from_params(filters),
        )


def _conversations(session: Session, workspace_id: uuid.UUID) -> list[tuple[Conversation, str]]:
    """The workspace's conversations with their latest customer message, oldest first."""
    rows = session.execute(
        select(Conversation, Message.text)
        .join(
            Message,
            (Message.workspace_id == Conversation.workspace_id)
            & (Message.id == Conversation.last_inbound_id),
        )
        .where(Conversation.workspace_id == workspace_id)
        .order_by(Conversation.opened_at, Conversation.number)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _work(
    session: Session,
    slug: str,
    workspace_id: uuid.UUID,
    crew: Crew,
    steps: list[Step],
    notes: Mapping[str, list[tuple[str, str]]],
) -> None:
    actors = {"anna": crew.anna, "dmitry": crew.dmitry, "tom": crew.tom}
    by_user = {a.user_id: a for a in actors.values() if slug == "zerno" or a is not crew.dmitry}
    default = crew.dmitry if slug == "zerno" else crew.tom
    now = utcnow()
    found = _conversations(session, workspace_id)
    wave = [c for c, text in found if text.startswith(WAVE)]
    for conversation, text in found:
        step = next((s for s in steps if text.startswith(s.starts)), None)
        actor = actors[step.by] if step and step.by else by_user.get(conversation.owner_id)
        actor = actor or default
        for who, note in next((v for k, v in notes.items() if text.startswith(k)), []):
            service.add_note(session, conversation=conversation, actor=actors[who], text=note)
        if conversation in wave:
            _wave(session, conversation, wave[0], actor, crew.anna)
        elif step is not None:
            _do(session, slug, conversation, text, step, actor)
        elif now - conversation.opened_at >= RECENT:
            _thank(session, slug, conversation, actor)


def _do(
    session: Session,
    slug: str,
    conversation: Conversation,
    text: str,
    step: Step,
    actor: accounts.Actor,
) -> None:
    if step.do is Do.SKIP:
        service.not_answering(
            session, conversation=conversation, actor=actor, reason=step.reason, note=step.text
        )
        return
    if step.do is Do.KEEP:
        draft = next((v for k, v in DRAFTS.items() if text.startswith(k)), None)
        if draft is not None:
            replies.save_draft(session, conversation=conversation, actor=actor, text=draft)
        if step.text:
            service.add_note(session, conversation=conversation, actor=actor, text=step.text)
        if step.starts.startswith("Зерно, добавьте"):  # the agent hands it back to the team
            service.assign(session, conversation=conversation, actor=actor, owner_id=None)
        return
    template = _template(session, conversation.workspace_id, step.text)
    answer = step.text
    if template is not None:
        answer = _edited(session, slug, conversation, template, actor)
    _reply(
        session,
        conversation,
        actor,
        answer,
        template=template,
        elsewhere=step.do is Do.PHONE,
        resolve=step.do in (Do.REPLY, Do.PHONE),
    )


def _template(session: Session, workspace_id: uuid.UUID, name: str) -> ReplyTemplate | None:
    return next(
        (t for t in templates.list_templates(session, workspace_id=workspace_id) if t.name == name),
        None,
    )


def _edited(
    session: Session,
    slug: str,
    conversation: Conversation,
    template: ReplyTemplate,
    actor: accounts.Actor,
) -> str:
    """A template the agent made their own: filled in, plus a line for this customer."""
    user = session.get(User, actor.user_id)
    if user is None:  # pragma: no cover - the demo's actors are its own users
        raise LookupError(f"demo user {actor.user_id} is missing")
    text = templates.render(session, conversation=conversation, template=template, agent=user)
    lines = PERSONAL[slug]
    return f"{text} {lines[conversation.number % len(lines)]}"


def _thank(session: Session, slug: str, conversation: Conversation, actor: accounts.Actor) -> None:
    """Praise and ideas get a thank-you the agent wrote from a template, and are resolved."""
    idea = bool(conversation.intents & (1 << INTENTS.index("suggestion")))
    name = IDEAS[slug] if idea else THANKS[slug]
    template = _template(session, conversation.workspace_id, name)
    if template is None:  # pragma: no cover - ``load`` saves them before the work starts
        raise LookupError(f"demo template {name!r} is missing")
    if slug == "carter-dental" and (conversation.preview or "").startswith(DOWNGRADE):
        service.set_priority(session, conversation=conversation, actor=actor, priority=Priority.LOW)
    text = _edited(session, slug, conversation, template, actor)
    _reply(session, conversation, actor, text, template=template, resolve=True)


def _wave(
    session: Session,
    conversation: Conversation,
    first: Conversation,
    actor: accounts.Actor,
    owner: accounts.Actor,
) -> None:
    """A copy-paste attack: one calm public answer by the owner, the copies closed on purpose."""
    if conversation is first:
        _reply(session, conversation, owner, WAVE_ANSWER, resolve=True)
        return
    service.not_answering(
        session,
        conversation=conversation,
        actor=actor,
        reason="troll",
        note=WAVE_NOTE.format(number=first.number),
    )


def _reply(
    session: Session,
    conversation: Conversation,
    actor: accounts.Actor,
    text: str,
    *,
    template: ReplyTemplate | None = None,
    elsewhere: bool = False,
    resolve: bool,
) -> Delivery:
    delivery = replies.compose(
        session,
        conversation=conversation,
        actor=actor,
        text=text,
        template_id=template.id if template else None,
        elsewhere=elsewhere,
    )
    if delivery.status is DeliveryStatus.QUEUED:
        _sent(session, conversation, delivery)
    if resolve:
        service.set_state(session, conversation=conversation, actor=actor, state=State.RESOLVED)
    return delivery


def _sent(session: Session, conversation: Conversation, delivery: Delivery) -> None:
    """Complete a delivery as ``replies.deliver`` does once the channel took the reply.

    The demo has no internet and must not reach Telegram, VK or a mail server; a queued
    reply left behind would be tried by the delivery job as soon as the demo is served.
    """
    replies.mark_sent(
        session, conversation, delivery, external_id=f"demo-sent-{delivery.id.hex[:16]}"
    )


def _away(
    session: Session, workspace_id: uuid.UUID, agent: accounts.Actor, colleague: accounts.Actor
) -> None:
    """Anna is on holiday from the dental practice: her open work goes to Tom by hand."""
    mine = session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id,
            Conversation.owner_id == agent.user_id,
            Conversation.state.in_(ACTIVE_STATES),
        )
    ).all()
    for conversation in mine:
        service.assign(session, conversation=conversation, actor=agent, owner_id=colleague.user_id)
    service.set_status(session, workspace_id=workspace_id, actor=agent, available=False)
