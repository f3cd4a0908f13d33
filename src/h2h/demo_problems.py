"""Problems demo: two months of complaints that clustering turned into problems, at work.

The texts are written here — a dozen paraphrases per theme, dressed with order numbers,
streets, times, emoji and typos — and arrive week by week on the demo's channels from
many different people, so the real post-ingest step (NLP, people linking, threading,
clustering) files them. Nothing is put into a problem by hand: each theme's problem is the
cluster that holds most of its complaints, and a theme that clustering split in two is
merged as a person would merge it on the board.

Then the crew does what the product asks of them: the coffee shop fixed late, cold
deliveries three weeks ago (the evidence shows complaints fell, the affected people were
told — those consent allows), works on double charges in the app, confirmed the queue at
the till, declined the price complaints with a reason, has not looked at the bonus-card
cluster yet, and today gets a spike of complaints about burnt raf. The dentist fixed
appointment reminders and confirmed the parking problem. Recent complaints were answered
in the inbox as they came, so the demo's SLA clocks stay honest.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h import demo_inbox
from h2h.accounts import service as accounts
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, RawMessage
from h2h.channels.models import Message
from h2h.db import utcnow
from h2h.inbox import replies
from h2h.inbox import service as inbox
from h2h.inbox.models import ACTIVE_STATES, DeliveryStatus, State
from h2h.problems import alerts, detect, evidence, followups, service
from h2h.problems.models import Problem, ProblemEvent

BATCH_DAYS = 7  # complaints arrive a week at a time: each batch is clustered inline
OPEN_FOR = timedelta(minutes=25)  # the newest complaints wait for an answer (inside any SLA)


@dataclass(frozen=True)
class Theme:
    key: str
    texts: tuple[str, ...]
    days: tuple[int, int]  # from, to (days before today, inclusive; negative)
    rate: float  # complaints per day
    weekend_rate: float | None = None
    after: tuple[int, ...] = ()  # extra single complaints on these days (after a fix)


ZERNO_THEMES = (
    Theme(
        "delivery",
        (
            "Заказали доставку, курьер опоздал на полтора часа, кофе совсем холодный",
            "Доставка опять опоздала на 40 минут, латте ледяной, пить невозможно",
            "Ждали курьера больше часа, капучино привезли остывшим и без пенки",
            "Кофе из доставки пришёл еле тёплый: обещали 30 минут, а опоздали на час",
            "Второй раз за неделю курьер опаздывает, раф привезли холодным",
            "Курьер опоздал на час, круассаны размокли, кофе остыл. Больше не закажу",
            "Почему доставка идёт полтора часа? Кофе остыл, деньги на ветер",
            "Обещали к 9 утра, привезли в 10:20 — опоздание больше часа, американо холодный",
            "Курьера ждали целую вечность, горячий шоколад приехал холодным, ужас",
            "Курьер опоздал, кофе ледяной, а в приложении статус «в пути» висел час",
            "Каждые выходные одно и то же: курьер опаздывает, кофе приезжает холодным",
            "Привезли остывший кофе с опозданием на 50 минут, курьер даже не извинился",
            "Час ждали доставку в субботу, кофе пришёл холодный и пролитый, безобразие",
        ),
        days=(-60, -22),
        rate=1.6,
        weekend_rate=4.5,
        after=(-16, -11),
    ),
    Theme(
        "double_charge",
        (
            "Приложение списало деньги дважды за один заказ, верните лишнее",
            "Оплатила через приложение 350 ₽, а со счёта ушло 700 — списали дважды!",
            "В приложении оплата прошла дважды, в банке две одинаковые операции",
            "Списали дважды за капучино через ваше приложение, поддержка не отвечает",
            "Приложение глючит: нажала «оплатить» один раз, а деньги сняли два раза",
            "Двойное списание за заказ в приложении, уже третий день жду возврат",
            "Со счёта дважды списали оплату за один латте, а в приложении только один заказ",
            "Опять двойная оплата, приложение глючит. Сколько можно, верните деньги",
            "Приложение взяло деньги дважды, а заказ так и остался один. Это вообще законно?",
            "Пришло два смс о списании за один заказ в приложении, деньги сняли дважды",
        ),
        days=(-40, -1),
        rate=0.8,
    ),
    Theme(
        "queue",
        (
            "Очередь на кассе минут двадцать, работает одна касса, кошмар",
            "Утром опять одна касса на всю очередь, опоздала на работу",
            "Простояли в очереди 25 минут, кассир один, бариста не успевают",
            "В час пик работает только одна касса, очередь до дверей — безобразие",
            "Очередь огромная, касса одна, ждали так долго, что ушли без кофе",
            "Хотела взять кофе перед парой, но очередь на кассе стояла полчаса, опоздала",
            "Одна касса и десять человек в очереди — каждое утро одна и та же проблема",
            "Стояли в очереди к кассе 15 минут, кассир один и ещё отвечает на звонки. Ужасно",
            "В обед невозможно взять кофе: очередь, одна касса, никто не торопится",
            "Очередь к кассе двигается ужасно медленно, откройте уже вторую кассу",
        ),
        days=(-60, -1),
        rate=0.7,
    ),
    Theme(
        "bonus",
        (
            "Бонусная карта не начисляет баллы уже месяц, говорят ждать",
            "Баллы на карту лояльности не пришли ни за одну покупку",
            "Покупаю каждый день, а бонусы на карту не начисляются, обидно",
            "Бонусы за покупку так и не начислились, хотя карту я показывала",
            "Карта постоянного гостя не работает: баллы не копятся с октября",
            "Где мои баллы? Бонусная карта показывает ноль после десяти покупок, обидно",
            "Бонусная программа сломалась, баллы не начисляют, обидно",
            "Третью неделю не начисляются бонусы на карту, говорят, что сбой",
            "Баллы не зачисляются на бонусную карту, а ведь ради них и хожу",
        ),
        days=(-30, -1),
        rate=0.6,
    ),
    Theme(
        "prices",
        (
            "Цены опять подняли, капучино теперь стоит как в Москве — безобразие",
            "Раньше кофе был по 180, теперь 230. Слишком дорого стало, разочарована",
            "Подняли цены на всё меню, а порции те же. Недовольна",
            "Кофе подорожал второй раз за полгода, недовольна, перестану ходить",
            "Цены выросли, латте за 260 рублей — это уже дорого и обидно",
            "Слишком дорого стало: за два кофе и круассан отдала почти тысячу, кошмар",
            "Подорожание каждый месяц, капучино уже 240 ₽ — это обман",
            "Цены кусаются: раньше брала кофе каждый день, теперь не по карману, разочарована",
            "Опять повысили цены, ни предупреждения, ни объяснений. Недовольна",
            "Американо за 200 рублей — грабёж, очень дорого стало",
        ),
        days=(-45, -8),
        rate=0.8,
    ),
    Theme(
        "raf",
        (
            "Раф сегодня пережжённый и горький, пить невозможно, ужасно",
            "Взяла раф, а он горчит так, будто всё сгорело. Невкусно",
            "Кофе сегодня горький и с привкусом гари, отвратительно",
            "Раф просто ужасный, горелый вкус, вылила",
            "Что с рафом сегодня? Горечь страшная, молоко будто пригорело, кошмар",
            "Пережарили что-то? Раф горький, как лекарство, невкусный",
            "Сегодняшний раф невкусный: горький и подгоревший",
            "Раф с привкусом жжёного, раньше такого не было, разочарована",
            "Горький раф у коллег и у меня — ужасный вкус, проверьте кофемолку",
            "Раф сегодня отвратительный, горелый и кислый одновременно",
            "Лавандовый раф пережжённый, горько до слёз, невкусно",
            "Взяли три рафа в офис — все горькие и с гарью, отвратительно",
        ),
        days=(-60, -2),
        rate=0.12,
    ),
)
SPIKE_THEME, SPIKE_COUNT, SPIKE_HOURS = "raf", 15, 4
DENTAL_THEMES = (
    Theme(
        "reminders",
        (
            "Never got a reminder text for my appointment and was marked as a no-show",
            "No reminder email again, missed my cleaning and got charged a missed appointment fee",
            "Why did I not get any appointment reminder? I used to get a text the day before",
            "The reminder texts have stopped coming, I forgot my check-up completely",
            "Missed my filling appointment because there was no reminder, very frustrating",
            "You used to send reminders, now nothing. Missed my daughter's appointment",
            "Got no reminder at all and was still charged the late cancellation fee",
            "No reminder SMS for my hygienist visit, second time this month",
            "Appointment reminders are not working, I only found out when you called asking where"
            " I was",
            "Didn't receive the usual reminder and missed my appointment. Please fix your system",
        ),
        days=(-50, -19),
        rate=1.2,
        after=(-12,),
    ),
    Theme(
        "parking",
        (
            "Parking near the clinic is impossible, drove around for 20 minutes and was late",
            "Nowhere to park near the practice, got a parking ticket on the side street. Awful",
            "Hard to find parking, the car park behind the building is always full",
            "Spent longer looking for a parking space than in the chair",
            "No parking for patients at all, had to leave the car a mile away",
            "Parking is a nightmare around the practice, please at least add directions to a car"
            " park",
            "Circled the block three times looking for parking and missed my slot",
            "The only parking nearby is for permit holders, got fined £70",
            "Parking near the surgery is terrible, with a toddler it is a real struggle",
        ),
        days=(-60, -1),
        rate=0.4,
    ),
)

RU_OPENERS = ("", "", "", "Добрый день. ", "Здравствуйте! ", "Ну что такое... ", "Зерно, ")
RU_TAILS = (
    "",
    "",
    " Заказ №{order}.",
    " Адрес: ул. {street}, {house}.",
    " Было в {time}.",
    " 😡",
    " 😤",
    " 🙁",
    "!!!",
    " Разочарована.",
    " Очень неприятно.",
    " Кофейня на {street}.",
)
MASCULINE = {
    "недовольна": "недоволен", "Недовольна": "Недоволен", "разочарована": "разочарован",
    "Разочарована": "Разочарован", "показывала": "показывал", "Хотела": "Хотел",
    "Оплатила": "Оплатил", "опоздала": "опоздал", "Взяла": "Взял", "отдала": "отдал",
    "брала": "брал", "нажала": "нажал",
}  # fmt: skip
RU_STREETS = ("Гончарова", "Ленина", "Карла Маркса", "Минаева", "Рылеева", "Федерации")
EN_OPENERS = ("", "", "", "Hi, ", "Honestly, ", "Not happy. ")
EN_TAILS = ("", "", " Booking ref {order}.", " Appointment was at {time}.", " 😠", " 🙁", "!!")
RU_MEN = ("Алексей", "Сергей", "Андрей", "Максим", "Илья", "Роман", "Павел", "Кирилл", "Олег")
RU_WOMEN = ("Анастасия", "Юлия", "Наталья", "Дарья", "Ксения", "Полина", "Вера", "Людмила")
RU_SURNAMES = (
    "Морозов", "Новиков", "Козлов", "Степанов", "Николаев", "Егоров", "Павлов", "Семёнов",
    "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Захаров",
)  # fmt: skip
EN_FIRST = ("Olivia", "George", "Amelia", "Harry", "Isla", "Jack", "Emily", "Noah", "Grace", "Leo")
EN_LAST = ("Taylor", "Brown", "Wilson", "Davies", "Roberts", "Walker", "Wright", "Hall", "Green")
LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
         "r", "s", "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"),
        strict=True,
    )
)  # fmt: skip

# Answers the crew gave to recent complaints, one list per theme (any other complaint: "").
ZERNO_ANSWERS = {
    "double_charge": (
        "Простите! Второе списание вернули на карту, деньги придут за 1–3 дня. Ошибку в"
        " приложении уже чиним.",
        "Проверили: списание действительно двойное, возврат оформлен. Спасибо, что написали.",
    ),
    "queue": (
        "Простите за ожидание. В утренние часы ставим второго человека на кассу, пока пробуем"
        " по будням.",
        "Понимаем, утром каждая минута на счету. Можно заказать заранее в приложении — заберёте"
        " без очереди.",
    ),
    "bonus": ("Спасибо, что сказали. Передали вопрос про баллы, вернёмся с ответом.",),
    "prices": (
        "Понимаем, это неприятно. Закупочные цены на зерно выросли на треть; утренний капучино"
        " до 10:00 оставили по старой цене.",
    ),
    "raf": ("Спасибо, что сказали. Проверили кофемолку и перенастроили помол, раф ждёт вас.",),
    "delivery": ("Простите за задержку. Вернули стоимость доставки на карту.",),
    "": ("Спасибо, что написали. Разберёмся и вернёмся с ответом.",),
}
DENTAL_ANSWERS = {
    "parking": (
        "Sorry about that. There is a pay-and-display car park on Elm Street, two minutes'"
        " walk; we've added it to our confirmation emails.",
    ),
    "reminders": ("I'm sorry. We've waived the missed-appointment fee for you.",),
    "": ("Thank you for telling us — I'll look into it today.",),
}
DELIVERY = {
    "title": "Доставка опаздывает, кофе привозят холодным",
    "root_cause": "По выходным заказов втрое больше, а курьер один; стаканы едут в обычных"
    " пакетах и остывают за 20 минут.",
    "planned_fix": "Второй курьер на выходные и термосумки для всех заказов.",
    "fix_note": "по выходным теперь работает второй курьер, а напитки едут в термосумках",
    "wording": "{name}, здравствуйте! Это Анна из «Зерна». Вы писали нам, что доставка"
    " опоздала и кофе приехал холодным, — простите нас. Мы разобрались и исправили: {fix}."
    " С тех пор жалоб на холодный кофе почти нет. Если что-то снова пойдёт не так, просто"
    " ответьте на это сообщение — я прочитаю сама.",
}
DOUBLE_CHARGE = {
    "title": "Приложение списывает деньги дважды",
    "root_cause": "Платёжный шлюз повторяет запрос, если банк отвечает дольше 10 секунд, а"
    " приложение не передаёт ключ идемпотентности.",
    "planned_fix": "Передавать ключ заказа в каждом запросе оплаты, вернуть все двойные"
    " списания за октябрь и ноябрь.",
}
QUEUE_TITLE = "Очередь на кассе: по утрам работает одна касса"
PRICES = {
    "title": "Подорожание кофе",
    "reason": "Цены пересмотрены из-за роста закупочных цен; объясняем это в ответах",
}
REMINDERS = {
    "title": "Appointment reminders not sent",
    "root_cause": "Our text-message provider changed its API in September and our booking"
    " system silently stopped sending reminders.",
    "planned_fix": "Move to a new provider and add email reminders as a backup.",
    "fix_note": "we moved to a new text-message provider and now send an email two days"
    " before and a text two hours before every appointment",
    "wording": "Hi {name}, this is Tom from Dr Carter's practice. You told us you missed an"
    " appointment because no reminder came — I'm sorry. We found the cause and fixed it:"
    " {fix}. If you were charged a missed-appointment fee, just reply to this email and I'll"
    " refund it.",
}
PARKING_TITLE = "Hard to find parking"


# --- generating the complaints ------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    channel: str  # the demo channel key
    handle: str
    name: str
    woman: bool = True  # Russian past tense and short adjectives agree with the author


def _poisson(rng: random.Random, rate: float) -> int:
    """Knuth's method: small rates only, which is all the demo needs."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _typo(rng: random.Random, text: str) -> str:
    """Dress a text as people type: a swapped pair of letters, lower case, no full stop."""
    roll = rng.random()
    if roll < 0.12:
        words = text.split(" ")
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) > 4:
            j = rng.randrange(1, len(word) - 2)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        return " ".join(words)
    if roll < 0.22:
        return text.lower()
    if roll < 0.3:
        return text.rstrip(".!")
    return text


def _dress(rng: random.Random, text: str, voice: Voice, *, russian: bool) -> str:
    openers, tails = (RU_OPENERS, RU_TAILS) if russian else (EN_OPENERS, EN_TAILS)
    opener = rng.choice(openers)
    body = opener + (text[0].lower() + text[1:] if opener.endswith(", ") else text)
    tail = rng.choice(tails).format(
        order=rng.randint(1200, 9800),
        street=rng.choice(RU_STREETS),
        house=rng.randint(1, 120),
        time=f"{rng.randint(8, 21)}:{rng.choice(('00', '15', '30', '45', '10', '50'))}",
    )
    if tail and not tail.startswith(("!", " 😡", " 😤", " 🙁", " 😠")) and body[-1] not in ".!?":
        body += "."
    text = body + tail
    if russian and not voice.woman:
        for feminine, masculine in MASCULINE.items():
            text = text.replace(feminine, masculine)
    return _typo(rng, text)


def _latin(name: str) -> str:
    return "".join(LATIN.get(c, c) for c in name.lower()).replace(" ", ".")


def _zerno_voice(rng: random.Random, n: int) -> Voice:
    woman = rng.random() < 0.6
    first = rng.choice(RU_WOMEN if woman else RU_MEN)
    last = rng.choice(RU_SURNAMES) + ("а" if woman else "")
    name = f"{first} {last}"
    channel = rng.choices(("telegram", "vk", "widget"), weights=(5, 4, 2))[0]
    handle = {
        "telegram": str(6_100_000 + n * 37),
        "vk": f"id{5_200_000 + n * 53}",
        "widget": f"{_latin(name)}.{n}@mail.example",
    }[channel]
    return Voice(channel, handle, name, woman)


def _dental_voice(rng: random.Random, n: int) -> Voice:
    name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
    if rng.random() < 0.75:
        return Voice("email", f"{_latin(name)}.{n}@mail.example", name)
    short = f"{name.split()[0]} {name.split()[1][0]}."  # review sites show no more than this
    return Voice("rss", short, short)


class Crowd:
    """Who complains next: mostly someone new, sometimes a person who complained before."""

    def __init__(self, rng: random.Random, voices: Sequence[Voice]) -> None:
        self.rng, self.voices, self.used = rng, list(voices), 0

    def next(self) -> Voice:
        if self.used and self.rng.random() < 0.16:
            return self.voices[self.rng.randrange(self.used)]
        voice = self.voices[self.used % len(self.voices)]
        self.used += 1
        return voice


@dataclass(frozen=True)
class Complaint:
    theme: str
    text: str
    at: datetime
    voice: Voice


def _schedule(
    rng: random.Random, theme: Theme, today: datetime, crowd: Crowd, *, russian: bool
) -> list[Complaint]:
    """The theme's complaints by day (weekends may differ), at shop hours, by many people."""
    days: list[int] = []
    for day in range(theme.days[0], theme.days[1] + 1):
        weekend = (today + timedelta(days=day)).weekday() >= 5
        rate = theme.weekend_rate if weekend and theme.weekend_rate else theme.rate
        days += [day] * _poisson(rng, rate)
    days += list(theme.after)
    found = []
    for day in days:
        # Shop hours are 08–22 in Ulyanovsk (UTC+4), office hours in London: 04–18 UTC fits both.
        at = today + timedelta(days=day, hours=4 + 14 * rng.random())
        voice = crowd.next()
        text = _dress(rng, rng.choice(theme.texts), voice, russian=russian)
        found.append(Complaint(theme.key, text, at, voice))
    return found


def _spike(rng: random.Random, theme: Theme, now: datetime, voices: list[Voice]) -> list[Complaint]:
    """Today's burst: ``SPIKE_COUNT`` complaints spread over the last hours of today (UTC)."""
    start = max(now - timedelta(hours=SPIKE_HOURS), now.replace(hour=0, minute=0, second=0))
    span = (now - start).total_seconds()
    found = []
    for n in range(SPIKE_COUNT):
        at = start + timedelta(seconds=span * (n + rng.random()) / (SPIKE_COUNT + 1))
        text = _dress(rng, theme.texts[n % len(theme.texts)], voices[n], russian=True)
        found.append(Complaint(theme.key, text, min(at, now), voices[n]))
    return found


def _ingest(
    session: Session,
    workspace_id: uuid.UUID,
    channel_ids: Mapping[str, uuid.UUID],
    complaints: Sequence[Complaint],
    today: datetime,
) -> None:
    """Week by week and channel by channel, oldest first, as the channels would bring them."""
    batches: dict[tuple[int, str], list[RawMessage]] = defaultdict(list)
    for n, item in enumerate(sorted(complaints, key=lambda c: c.at)):
        week = (item.at - today).days // BATCH_DAYS
        batches[(week, item.voice.channel)].append(
            RawMessage(
                external_id=f"demo-problem-{item.voice.channel}-{n}",
                text=item.text,
                created_at=item.at,
                author=Author(handle=item.voice.handle, name=item.voice.name, followers=None),
                thread_id=f"demo-problem-{item.voice.channel}-thread-{n}",
                raw={"demo": True, "theme": item.theme},
            )
        )
    weeks = sorted({week for week, _key in batches})
    for week in weeks:
        for (when, key), items in sorted(batches.items()):
            if when == week:
                ingest.store(
                    session, workspace_id=workspace_id, channel_id=channel_ids[key], items=items
                )
        # The refine job ran meanwhile, as it does on a real deployment.
        detect.refine(session, workspace_id=workspace_id)


def _channel_ids(session: Session, workspace_id: uuid.UUID) -> dict[str, uuid.UUID]:
    return {c.kind.value: c.id for c in channels.list_channels(session, workspace_id=workspace_id)}


def _demo_messages(session: Session, workspace_id: uuid.UUID) -> list[Message]:
    return [
        m
        for m in session.scalars(
            select(Message).where(
                Message.workspace_id == workspace_id,
                Message.external_id.like("demo-problem-%"),
            )
        )
        if (m.raw or {}).get("theme")
    ]


# --- what clustering found, as a person reads the board ---------------------------------------


def _theme_problems(
    session: Session, workspace_id: uuid.UUID, crew: demo_inbox.Crew, themes: Sequence[str]
) -> dict[str, Problem]:
    """Each theme's problem: the cluster holding most of its complaints. Another cluster
    the board shows that is two-thirds the same theme is merged into it, as a person would;
    smaller ones and strays stay where clustering put them."""
    messages = _demo_messages(session, workspace_id)
    placed = service.problems_of_messages(
        session, workspace_id=workspace_id, message_ids=[m.id for m in messages]
    )
    per_problem: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    problems: dict[uuid.UUID, Problem] = {}
    for message in messages:
        problem = placed.get(message.id)
        if problem is not None:
            per_problem[problem.id][message.raw["theme"]] += 1
            problems[problem.id] = problem
    chosen: dict[str, Problem] = {}
    taken: set[uuid.UUID] = set()
    for theme in themes:
        ranked = sorted(
            (counts[theme], problems[pid].number, pid)
            for pid, counts in per_problem.items()
            if counts[theme] and pid not in taken
        )
        if not ranked:
            continue
        main = problems[ranked[-1][2]]
        chosen[theme] = main
        taken.add(main.id)
        for count, _number, pid in ranked[:-1]:
            # What a person sees on the board (big enough to show) and reads as the same.
            size = sum(per_problem[pid].values())
            if count >= service.MIN_CANDIDATE and 3 * count >= 2 * size:
                service.merge(session, source=problems[pid], target=main, actor=crew.anna)
                taken.add(pid)
    return chosen


# --- the crew at work ---------------------------------------------------------------------------


def _reply_to_recent(
    session: Session,
    workspace_id: uuid.UUID,
    answers: Mapping[str, Sequence[str]],
    default: accounts.Actor,
    crew: demo_inbox.Crew,
) -> None:
    """Recent complaints were answered in the inbox as they came; the newest still wait."""
    now = utcnow()
    actors = {a.user_id: a for a in (crew.anna, crew.dmitry, crew.tom)}
    for message in sorted(_demo_messages(session, workspace_id), key=lambda m: m.created_at):
        if now - message.created_at < OPEN_FOR:
            continue
        conversation = inbox.conversation_of(
            session, workspace_id=workspace_id, message_id=message.id
        )
        if conversation is None or conversation.state not in ACTIVE_STATES:
            continue
        options = answers.get(message.raw["theme"]) or answers[""]
        actor = actors.get(conversation.owner_id, default) if default is crew.dmitry else default
        delivery = replies.compose(
            session,
            conversation=conversation,
            actor=actor,
            text=options[conversation.number % len(options)],
        )
        if delivery.status is DeliveryStatus.QUEUED:
            replies.mark_sent(
                session, conversation, delivery, external_id=f"demo-sent-{delivery.id.hex[:16]}"
            )
        inbox.set_state(session, conversation=conversation, actor=actor, state=State.RESOLVED)


def _backdate(session: Session, problem: Problem, times: Mapping[str, datetime]) -> None:
    """The lifecycle happened weeks ago: its events say when (state → the time it began)."""
    for event in session.scalars(
        select(ProblemEvent).where(
            ProblemEvent.workspace_id == problem.workspace_id,
            ProblemEvent.problem_id == problem.id,
            ProblemEvent.kind == "state",
        )
    ):
        after = str((event.data or {}).get("after"))
        if after in times:
            event.at = times[after]


def _fix_and_tell(
    session: Session,
    problem: Problem,
    spec: Mapping[str, str],
    *,
    owner: accounts.Actor,
    sender: accounts.Actor,
    fixed_at: datetime,
) -> None:
    """Confirmed, owned, fixed on ``fixed_at``; the evidence verifies it; people are told."""
    service.confirm(session, problem=problem, actor=owner, title=spec["title"])
    service.start_fixing(
        session,
        problem=problem,
        actor=owner,
        owner_id=owner.user_id,
        root_cause=spec["root_cause"],
        planned_fix=spec["planned_fix"],
        fix_due=(fixed_at + timedelta(days=2)).date(),
    )
    service.mark_fixed(session, problem=problem, actor=owner, fix_note=spec["fix_note"])
    problem.fixed_at = fixed_at
    problem.confirmed_at = fixed_at - timedelta(days=9)
    _backdate(
        session,
        problem,
        {
            "confirmed": fixed_at - timedelta(days=9),
            "fixing": fixed_at - timedelta(days=7),
            "fixed": fixed_at,
        },
    )
    session.flush()
    evidence.check(session, workspace_id=problem.workspace_id)
    followups.prepare(session, problem=problem, actor=sender)
    followups.rewrite(session, problem=problem, actor=sender, text=spec["wording"])
    if not followups.counts(session, problem=problem).get("draft"):
        return  # consent allows nobody: nothing to send
    for delivery in followups.send(session, problem=problem, actor=sender):
        if delivery.status is not DeliveryStatus.QUEUED:
            continue
        conversation = inbox.get_conversation(
            session, workspace_id=problem.workspace_id, conversation_id=delivery.conversation_id
        )
        replies.mark_sent(
            session, conversation, delivery, external_id=f"demo-sent-{delivery.id.hex[:16]}"
        )


def _zerno(session: Session, workspace_id: uuid.UUID, crew: demo_inbox.Crew) -> None:
    rng = random.Random(7301)  # noqa: S311 - the same demo every time, nothing secret
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    voices = [_zerno_voice(rng, n) for n in range(320)]
    crowd = Crowd(rng, voices[:-SPIKE_COUNT])
    complaints = [
        c for theme in ZERNO_THEMES for c in _schedule(rng, theme, today, crowd, russian=True)
    ]
    spike = next(t for t in ZERNO_THEMES if t.key == SPIKE_THEME)
    complaints += _spike(rng, spike, now, voices[-SPIKE_COUNT:])
    _ingest(session, workspace_id, _channel_ids(session, workspace_id), complaints, today)
    _reply_to_recent(session, workspace_id, ZERNO_ANSWERS, crew.dmitry, crew)
    found = _theme_problems(session, workspace_id, crew, [t.key for t in ZERNO_THEMES])
    if "delivery" in found:
        _fix_and_tell(
            session,
            found["delivery"],
            DELIVERY,
            owner=crew.dmitry,
            sender=crew.anna,
            fixed_at=today - timedelta(days=21) + timedelta(hours=15),
        )
    if "double_charge" in found:
        service.confirm(
            session, problem=found["double_charge"], actor=crew.anna, title=DOUBLE_CHARGE["title"]
        )
        service.start_fixing(
            session,
            problem=found["double_charge"],
            actor=crew.anna,
            owner_id=crew.dmitry.user_id,
            root_cause=DOUBLE_CHARGE["root_cause"],
            planned_fix=DOUBLE_CHARGE["planned_fix"],
            fix_due=(now + timedelta(days=5)).date(),
        )
    if "queue" in found:
        service.confirm(session, problem=found["queue"], actor=crew.anna, title=QUEUE_TITLE)
    if "prices" in found:
        service.edit(session, problem=found["prices"], actor=crew.anna, title=PRICES["title"])
        service.decline(session, problem=found["prices"], actor=crew.anna, reason=PRICES["reason"])
    session.flush()
    alerts.check(session, workspace_id=workspace_id, today=now.date())


def _dental(session: Session, workspace_id: uuid.UUID, crew: demo_inbox.Crew) -> None:
    rng = random.Random(7302)  # noqa: S311 - the same demo every time, nothing secret
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    crowd = Crowd(rng, [_dental_voice(rng, n) for n in range(90)])
    complaints = [
        c for theme in DENTAL_THEMES for c in _schedule(rng, theme, today, crowd, russian=False)
    ]
    _ingest(session, workspace_id, _channel_ids(session, workspace_id), complaints, today)
    _reply_to_recent(session, workspace_id, DENTAL_ANSWERS, crew.tom, crew)
    found = _theme_problems(session, workspace_id, crew, [t.key for t in DENTAL_THEMES])
    if "reminders" in found:
        _fix_and_tell(
            session,
            found["reminders"],
            REMINDERS,
            owner=crew.tom,
            sender=crew.tom,
            fixed_at=today - timedelta(days=18) + timedelta(hours=10),
        )
    if "parking" in found:
        service.confirm(session, problem=found["parking"], actor=crew.tom, title=PARKING_TITLE)
    session.flush()


def load(
    session: Session, *, workspace_ids: Mapping[str, uuid.UUID], crew: demo_inbox.Crew
) -> None:
    """Two months of complaints, the problems clustering found, and the crew's work on them."""
    _zerno(session, workspace_ids["zerno"], crew)
    _dental(session, workspace_ids["carter-dental"], crew)
