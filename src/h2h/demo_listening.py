"""Listening demo: channels, subjects and two weeks of realistic traffic, generated here.

Nothing is read from outside: the texts are written for the demo, in Russian for the coffee
shop and in English for the dentist, with complaints, praise, questions, ideas, mentions
of competitors, a copy-paste complaint wave and offline conversations.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.channels.models import Channel, ChannelStatus
from h2h.db import utcnow
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind

ZERNO_SUBJECTS = [
    (
        SubjectKind.BRAND,
        "Кофейня «Зерно»",
        '"кофейня зерно" OR #зерно73 OR (зерно AND (кофе OR кофейня OR раф OR бариста '
        "OR капучино))",
    ),
    (SubjectKind.PERSON, "Анна Соколова", '"анна соколова" OR (анна AND зерно)'),
    (SubjectKind.PRODUCT, "Лавандовый раф", "раф AND лаванд*"),
    (SubjectKind.PRODUCT, "Доставка", "доставк* OR курьер*"),
    (SubjectKind.COMPETITOR, "Бодрый Бариста", '"бодрый бариста" OR #бодрыйбариста'),
    (SubjectKind.COMPETITOR, "Кофейный Угол", '"кофейный угол"'),
]
ZERNO_TEXTS = {
    "praise": [
        "Лавандовый раф в кофейне Зерно — лучший в Ульяновске, спасибо бариста Диме!",
        "Зашли в Зерно на Гончарова, капучино отличный, круассаны свежие, вернёмся",
        "Анна Соколова лично вынесла нам кофе и извинилась за ожидание — вот это сервис",
        "Раф с лавандой просто космос. Зерно, не меняйте рецепт!",
        "Спасибо кофейне Зерно за тёплый приём, уютно и пахнет корицей",
        "Брали в Зерне торт на день рождения мамы, все гости спрашивали, где купили",
        "Лучший флэт уайт в городе варят в Зерне, проверено за год утренних поездок",
        "Бариста в Зерне запомнила, что я пью овсяный латте. Мелочь, а приятно",
        "Работала весь день в Зерне с ноутбуком: тихо, вкусно, wi-fi не падал",
        "Зерно привезло кофе на нашу конференцию вовремя и горячим, коллеги в восторге",
        "Сырники в кофейне Зерно как у бабушки, беру с собой каждую субботу",
    ],
    "complaint": [
        "Заказали доставку из Зерна, курьер опоздал на час, кофе пришёл холодный",
        "В Зерне опять очередь на 20 минут, а касса одна. Бариста не успевают",
        "Третий раз в кофейне Зерно перепутали заказ: просила без сахара",
        "Приложение Зерна списало деньги дважды за один раф, поддержка молчит",
        "Доставка Зерна отменила заказ без звонка, ждали зря до обеда",
        "В Зерне на Ленина грязные столы и нет салфеток, администратора не дозваться",
        "Подняли цены на капучино в Зерне уже второй раз за осень, это перебор",
        "Курьер Зерна нагрубил по телефону, когда я уточнила адрес доставки",
        "Бонусная карта Зерна не начисляет баллы с октября, в кассе разводят руками",
        "Раф в Зерне сегодня был пережжённый и горький, раньше такого не было",
    ],
    "question": [
        "Зерно, вы работаете 31 декабря? Хотим заказать кофе на офис",
        "Есть ли в кофейне Зерно растительное молоко для рафа?",
        "Можно ли забронировать столик в Зерне на субботу на шестерых?",
        "Подскажите, в Зерне можно оплатить картой другого банка через QR?",
        "Зерно, а доставка работает в Засвияжье или только в центре?",
    ],
    "idea": [
        "Зерно, сделайте, пожалуйста, абонемент на кофе — беру каждый день",
        "Хорошо бы в Зерне появилась зона с розетками для работы",
        "Предлагаю Зерну завести веганские десерты, многие друзья спрашивают",
    ],
    "competitor": [
        "Сравнила раф в Бодром Баристе и в Зерне — в Зерне вкуснее, но дороже",
        "Кофейный Угол открылся рядом с Зерном, надо будет попробовать их эспрессо",
        "#бодрыйбариста опять раздаёт кофе за репост, очередь до самой улицы",
    ],
    "other": [
        "Купили зерно для кормушки, синицы довольны и прилетают каждое утро",
        "Погода в Ульяновске сегодня отличная, гуляем по набережной Волги",
    ],
}
WAVE = (
    "Кофейня Зерно обманывает покупателей: в рафе нет лаванды, только сироп! "
    "Не ходите туда, распространите!"
)
NAMES_RU = [
    "Ольга Кузнецова",
    "Пётр Иванов",
    "Мария Белова",
    "Игорь Смирнов",
    "Алина Юсупова",
    "Денис Фролов",
    "Светлана Орлова",
    "Тимур Хасанов",
    "Екатерина Лебедева",
    "Артём Волков",
]

DENTAL_SUBJECTS = [
    (SubjectKind.BRAND, "Carter Dental", '"carter dental" OR #carterdental'),
    (SubjectKind.PERSON, "Dr. Emily Carter", '"dr carter" OR "emily carter" OR "dr. carter"'),
    (SubjectKind.PRODUCT, "Teeth whitening", "whiten*"),
    (SubjectKind.COMPETITOR, "BrightSmile Clinic", 'brightsmile OR "bright smile"'),
]
DENTAL_TEXTS = {
    "praise": [
        "Dr Carter was so gentle with my daughter, first dentist visit without tears!",
        "Carter Dental fitted me in the same day for a broken tooth. Lifesavers.",
        "The whitening at Carter Dental was worth every penny, photos don't lie",
        "Nervous patient here: the team at Carter Dental explained every step calmly",
        "Booked online at Carter Dental at midnight and got a reminder text, so easy",
    ],
    "complaint": [
        "Waited 45 minutes past my appointment at Carter Dental and nobody said a word",
        "Carter Dental billed my insurance for a cleaning I never had. Still no reply.",
        "Whitening made my teeth really sensitive and the clinic just said it is normal",
        "Rescheduled twice by Carter Dental with one day notice, I had taken time off work",
        "The price list on the Carter Dental website is not what they charged me",
    ],
    "question": [
        "Does Carter Dental take new NHS patients or private only?",
        "Is Dr. Carter doing Saturday appointments in December?",
        "Do you offer payment plans for implants at Carter Dental?",
    ],
    "competitor": [
        "BrightSmile quoted half the price for whitening, is Carter Dental really better?",
        "Moved from Bright Smile to Carter Dental last year and never looked back",
    ],
}
NAMES_EN = [
    "Sarah Mitchell",
    "James O'Connor",
    "Priya Patel",
    "Tom Becker",
    "Lucy Zhang",
    "Mark Evans",
    "Hannah Scott",
]


def _channel(
    session: Session,
    workspace_id: uuid.UUID,
    actor: accounts.Actor,
    kind: ChannelKind,
    name: str,
    config: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
) -> Channel:
    channel = channels.create_channel(
        session,
        workspace_id=workspace_id,
        actor=actor,
        kind=kind,
        name=name,
        config=config,
        secrets=secrets,
    )
    if kind in channels.POLLED_KINDS:
        # The demo has no internet: polled channels start paused, with their history loaded.
        channel.status, channel.next_poll_at = ChannelStatus.PAUSED, None
    return channel


def _traffic(
    rng: random.Random,
    texts: dict[str, list[str]],
    names: list[str],
    plan: list[tuple[str, int, str]],
) -> dict[str, list[RawMessage]]:
    """Deal every text once over the channels of the plan (key, how many, handle style)."""
    now = utcnow()
    pool = [(kind, text) for kind, group in texts.items() for text in group]
    rng.shuffle(pool)
    dealt: dict[str, list[RawMessage]] = {}
    for key, count, style in plan:
        dealt[key] = []
        for n, (kind, text) in enumerate(pool[:count]):
            name = rng.choice(names)
            handle = name.lower().replace(" ", ".").replace("'", "") + style
            followers = rng.choice([None, 40, 350, 1200, 15_000])
            dealt[key].append(
                RawMessage(
                    external_id=f"demo-{key}-{n}",
                    text=text,
                    created_at=now - timedelta(minutes=rng.randint(10, 14 * 24 * 60)),
                    author=Author(handle=handle, name=name, followers=followers),
                    thread_id=f"demo-{key}-thread-{n}",
                    raw={"demo": True, "kind": kind},
                )
            )
        pool = pool[count:]
    return dealt


def load(
    session: Session, *, zerno_id: uuid.UUID, dental_id: uuid.UUID, owner: accounts.Actor
) -> None:
    """Channels, subjects and traffic for both demo workspaces."""
    rng = random.Random(73)  # noqa: S311 - the same demo every time, nothing secret
    for kind, name, query in ZERNO_SUBJECTS:
        subjects.create_subject(
            session, workspace_id=zerno_id, actor=owner, kind=kind, name=name, query=query
        )
    for kind, name, query in DENTAL_SUBJECTS:
        subjects.create_subject(
            session, workspace_id=dental_id, actor=owner, kind=kind, name=name, query=query
        )
    zerno = {
        "telegram": _channel(
            session,
            zerno_id,
            owner,
            ChannelKind.TELEGRAM,
            "Telegram @zerno73_bot",
            secrets={"bot_token": "demo:not-a-real-token"},
        ),
        "vk": _channel(
            session,
            zerno_id,
            owner,
            ChannelKind.VK,
            "ВКонтакте: Зерно | Ульяновск",
            config={"group_id": "100073"},
            secrets={"access_token": "demo"},
        ),
        "rss": _channel(
            session,
            zerno_id,
            owner,
            ChannelKind.RSS,
            "Отзывы на картах",
            config={"url": "https://reviews.example/zerno73/rss"},
        ),
        "widget": _channel(session, zerno_id, owner, ChannelKind.WIDGET, "Форма на сайте"),
        "offline": _channel(session, zerno_id, owner, ChannelKind.OFFLINE, "Зал и телефон"),
        "webhook": _channel(session, zerno_id, owner, ChannelKind.WEBHOOK, "Сайт: заказы"),
    }
    plan = [
        ("telegram", 10, ".tg"),
        ("vk", 12, ".vk"),
        ("rss", 8, ""),
        ("widget", 4, "@mail.example"),
    ]
    for key, items in _traffic(rng, ZERNO_TEXTS, NAMES_RU, plan).items():
        ingest.store(session, workspace_id=zerno_id, channel_id=zerno[key].id, items=items)
    wave_start = utcnow() - timedelta(days=2)
    wave = [
        RawMessage(
            external_id=f"demo-vk-wave-{n}",
            text=WAVE if n % 2 else WAVE + " 😡",
            created_at=wave_start + timedelta(minutes=3 * n),
            author=Author(handle=f"id{700_000 + n}", name=f"Пользователь {n}", followers=3),
        )
        for n in range(8)
    ]
    ingest.store(session, workspace_id=zerno_id, channel_id=zerno["vk"].id, items=wave)
    for n, (who, gist, felt) in enumerate(
        [
            (
                "Галина Петровна",
                "Звонила: кофе в доставке остыл, просит вернуть деньги",
                "negative",
            ),
            (
                "Мужчина у кассы",
                "Спросил, будет ли раф без лактозы. Сказали — со следующей недели",
                "neutral",
            ),
            (
                "Ирина, постоянная гостья",
                "Хвалила новый десерт, просила оставить в меню",
                "positive",
            ),
        ]
    ):
        channels.log_offline(
            session,
            channel=zerno["offline"],
            actor=owner,
            who=who,
            gist=gist,
            happened_at=utcnow() - timedelta(days=n + 1, hours=3),
            felt=felt,
        )
    dental = {
        "email": _channel(
            session,
            dental_id,
            owner,
            ChannelKind.EMAIL,
            "hello@carter-dental.example",
            config={
                "imap_host": "imap.carter-dental.example",
                "smtp_host": "smtp.carter-dental.example",
                "from_address": "hello@carter-dental.example",
                "from_name": "Tom from Carter Dental",
            },
            secrets={"username": "hello", "password": "demo"},
        ),
        "rss": _channel(
            session,
            dental_id,
            owner,
            ChannelKind.RSS,
            "Google-style reviews feed",
            config={"url": "https://reviews.example/carter-dental/rss"},
        ),
        "offline": _channel(session, dental_id, owner, ChannelKind.OFFLINE, "Front desk & phone"),
    }
    plan = [("email", 8, "@mail.example"), ("rss", 7, "")]
    for key, items in _traffic(rng, DENTAL_TEXTS, NAMES_EN, plan).items():
        ingest.store(session, workspace_id=dental_id, channel_id=dental[key].id, items=items)
    channels.log_offline(
        session,
        channel=dental["offline"],
        actor=owner,
        who="Mrs. Hughes",
        gist="Called to say the new receptionist was wonderful with her son",
        happened_at=utcnow() - timedelta(days=1),
        felt="positive",
    )
