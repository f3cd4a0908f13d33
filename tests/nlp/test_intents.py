"""Intents of a message by cue rules: every label, threats and their near misses, robustness."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h2h.nlp.intents import INTENTS, THRESHOLD, IntentResult, detect
from h2h.nlp.normalize import normalize
from h2h.subjects.text import analyze


def intents(
    text: str, language: str | None = None, sentiment: str | None = None, negative: float = 0.0
) -> IntentResult:
    clean = normalize(text)
    return detect(clean, analyze(clean), language, sentiment, negative)


def labels(text: str, language: str | None = None) -> tuple[str, ...]:
    return intents(text, language).labels


CLEAR_CASES = [
    ("complaint", "Третий день жду курьера"),
    ("complaint", "Приложение не работает с утра"),
    ("complaint", "Ужасное обслуживание, официант нахамил"),
    ("complaint", "@united lost my bag again"),
    ("complaint", "My transfer failed and I was charged a fee"),
    ("complaint", "The app keeps crashing after the update"),
    ("question", "Во сколько вы открываетесь?"),
    ("question", "Подскажите, есть доставка в Казань?"),
    ("question", "Is there a fee for top-ups?"),
    ("question", "What payment methods are accepted"),
    ("request", "Верните деньги"),
    ("request", "Прошу перезвонить мне"),
    ("request", "Отмените, пожалуйста, мой заказ"),
    ("request", "please DM me my booking number"),
    ("request", "Can you unblock my card"),
    ("request", "Cancel my subscription now"),
    ("praise", "Спасибо за быструю доставку!"),
    ("praise", "Кухня изумительная, официанты очень вежливые"),
    ("praise", "@AmericanAir you guys rock"),
    ("praise", "Thank you so much for the quick help"),
    ("suggestion", "Добавьте оплату картой"),
    ("suggestion", "Было бы здорово добавить тёмную тему"),
    ("suggestion", "You should let us download playlists"),
    ("suggestion", "Please add a sleep timer"),
    ("purchase", "Хочу заказать торт на субботу, сколько стоит?"),
    ("purchase", "Сколько стоит доставка в Тверь?"),
    ("purchase", "How do I upgrade to premium?"),
    ("purchase", "Where can I buy a gift card?"),
    ("spam", "Заработок от 5000 в день, пиши в лс"),
    ("spam", "Продам диван, цена 5000 руб, звоните 8-912-345-67-89"),
    ("spam", "Use promo code SAVE20 for 20% off, link in bio"),
    ("spam", "Giveaway! Follow us and win a free iPhone"),
]


@pytest.mark.parametrize(("label", "text"), CLEAR_CASES)
def test_a_clear_message_gets_its_label(label: str, text: str) -> None:
    assert label in labels(text)


@pytest.mark.parametrize(
    "text", ["Погода сегодня отличная", "Let's meet at 5", "С днюхой братан !", "Суд да дело"]
)
def test_a_message_with_no_purpose_towards_anyone_is_other_alone(text: str) -> None:
    result = intents(text)
    assert result.labels == ("other",)
    assert set(result.scores) == {"other"}
    assert result.cues == {"other": ()}


def test_labels_follow_the_documented_order_with_a_score_and_cues_each() -> None:
    result = intents("Верните деньги, иначе обращусь в Роспотребнадзор!")
    assert result.labels == ("request", "threat")
    assert list(result.labels) == [label for label in INTENTS if label in result.labels]
    assert set(result.scores) == set(result.cues) == set(result.labels)
    assert all(THRESHOLD <= score <= 1.0 for score in result.scores.values())
    assert result.cues["request"] == ("Верните",)


def test_cues_are_quoted_as_written_in_the_message() -> None:
    assert intents("Подам на вас в СУД!").cues["threat"] == ("Подам … СУД",)
    assert intents("Я уже написала в Роспотребнадзор").cues["threat"] == (
        "написала … Роспотребнадзор",
    )


THREATS = [
    # public exposure
    "Верните деньги, или я напишу отзывы на всех площадках",
    "Напишу во все СМИ, пусть все узнают, как вы обманываете людей",
    "Расскажу про вас блогерам, посмотрим как запоёте",
    "Оставлю отзывы везде, где только можно, если не вернете деньги",
    "Предам огласке всю эту историю",
    "I'll make sure everyone on twitter sees this",
    "Fix it or I'll leave 1 star reviews on Yelp, Google and Trustpilot",
    "Refund me or I'll go to the press",
    "If you don't fix this, I'm going to the news with my story",
    # regulators and authorities
    "Если до пятницы не вернете деньги, обращусь в Роспотребнадзор",
    "Буду жаловаться в прокуратуру, так и знайте",
    "Пожалуюсь в ЦБ на ваш банк, раз вы не отвечаете",
    "Обращусь в общество защиты прав потребителей",
    "Ждите проверку от Роспотребнадзора",
    "I'm filing a complaint with the DOT tomorrow",
    "I've already reported you to the BBB",
    "Unless I get a refund by Friday, I'm going to the FTC",
    "I will report this to the Better Business Bureau and the Attorney General",
    "I'm calling the police on your driver",
    # courts and lawyers
    "Подам на вас в суд за такое обслуживание",
    "Увидимся в суде",
    "Мой адвокат свяжется с вами в понедельник",
    "Будете разговаривать с моим юристом",
    "Иначе придется обращаться в суд",
    "Направлю претензию, если не решите вопрос",
    "Засужу вас всех!",
    "I'm going to sue you",
    "You'll be hearing from my lawyer",
    "See you in court",
    "I'm taking you to small claims court",
    "We are prepared to take legal action",
    # financial action
    "Сделаю чарджбэк через свой банк, если не вернете деньги",
    "If you don't fix this I'll dispute the charge with my bank",
    "I'm going to file a chargeback",
    # violence
    "Если не заберете свою машину со двора, я её сожгу",
    "I'll burn your store down",
]


@pytest.mark.parametrize("text", THREATS)
def test_leverage_announced_by_the_author_is_a_threat(text: str) -> None:
    assert "threat" in labels(text)


NEAR_MISSES = [
    # leaving as a customer is a complaint, not leverage
    "Больше никогда не полечу вашей авиакомпанией",
    "Ухожу к конкурентам, надоело",
    "never flying with you again",
    "I will never fly with you again, worst airline",
    # reviews without a demand, or written later
    "Отзыв оставлю позже, когда попробую",
    "Оставила отзыв на Яндекс картах, всё понравилось",
    "I'll leave a review after my stay",
    "I'll report back once I've tried it",
    # courts and lawyers that nobody in the conversation pulls
    "Суд арестовал Ивана Сафронова на два месяца",
    "Пока суд да дело, посмотрю сериал",
    "Не судите и не судимы будете",
    "News: court rules against airline in baggage case",
    "Will there be a lawsuit about the data breach?",
    "We'll see you at the food court at gate 12",
    # the company's own lawyer, or paperwork for one's lawyer
    "Ваш юрист Анна — молодец, всё объяснила, спасибо",
    "Спасибо вашему юристу, буду всем рекомендовать вас",
    "Thank you! I will recommend your lawyers to everyone",
    "I need a statement for my lawyer, can you email it?",
    "My lawyer friend recommended your app",
    # no claim, or declined
    "Претензий к кухне нет, всё вкусно",
    "Я не собираюсь подавать в суд, просто верните деньги",
    "I will not sue, I just want my money back",
    # the police about something else
    "Полиция задержала мошенников, которые звонили от имени банка",
    "My card has been stolen. I reported it with the police, but I need to report it with you",
    # banter and reported speech
    "Убью тебя!! когда-нибудь) и люблю конечно",
    "He said he's going to sue you for making him check his bag, what a hoot",
    "Going viral on tiktok with your song lol love it",
    "I'll call my bank to check the balance",
    "This update will kill your battery",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_a_mention_without_leverage_is_not_a_threat(text: str) -> None:
    assert "threat" not in labels(text)


@pytest.mark.parametrize(
    "text",
    [
        "Я обратилась в Роспотребнадзор",
        "Напишу жалобу в прокуратуру",
        "Напишем заявление прокурору",
        "Обратимся к юристам",
        "Подадим иск в суд",
        "Пойду в суд",
        "Обращусь в полицию на вашего курьера",
    ],
)
def test_inflected_russian_forms_count_through_their_lemmas(text: str) -> None:
    assert "threat" in labels(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Хочу вернуть деньги за заказ", "request"),
        ("Можно вернуть деньги?", "request"),
        ("Когда вернёте деньги?", "request"),
        ("Хотела бы записаться на стрижку", "purchase"),
        ("Хотим заказать банкет", "purchase"),
        ("Благодарим менеджера Анну за помощь", "praise"),
        ("Благодарность всему персоналу", "praise"),
    ],
)
def test_russian_cues_match_any_inflection(text: str, label: str) -> None:
    assert label in labels(text)


def test_a_past_refund_is_not_a_request() -> None:
    assert "request" not in labels("Мне вернули деньги, всё хорошо")


def test_negated_praise_is_a_complaint_and_negated_gripes_vanish() -> None:
    assert labels("Пицца была не вкусная, официант не понравился") == ("complaint",)
    assert "complaint" not in labels("К гренкам и стейку претензий нет")
    assert "complaint" not in labels("No problem, thanks!")
    assert labels("Thanks for nothing") == ("complaint",)


def test_negative_sentiment_makes_a_customer_message_a_complaint() -> None:
    text = "Курьер привёз заказ в девять вечера"
    assert "complaint" not in intents(text).labels
    assert "complaint" in intents(text, "ru", "negative", 0.95).labels


def test_negative_chit_chat_is_not_a_complaint() -> None:
    assert intents("Лежу. Чувствую себя паршиво", "ru", "negative", 0.95).labels == ("other",)


def test_praise_words_in_a_clearly_negative_message_read_as_sarcasm() -> None:
    result = intents("@united lost my bag again, great job", "en", "negative", 0.95)
    assert result.labels == ("complaint",)


def test_positive_sentiment_supports_praise_of_the_place() -> None:
    assert "praise" not in intents("Главное, что очень уютно!").labels
    assert "praise" in intents("Главное, что очень уютно!", "ru", "positive", 0.02).labels


def test_an_advert_is_spam_not_praise() -> None:
    result = intents(
        "Успейте купить! Осталось буквально пару замечательных наушников, цена 990 руб"
    )
    assert "spam" in result.labels
    assert "praise" not in result.labels


def test_rhetorical_question_marks_are_weaker_than_real_questions() -> None:
    assert "question" in labels("Где вы были вчера?")
    assert "question" not in labels("Пусть отдыхают, не так ли?")
    assert "question" not in labels("Your service is awful, seriously?!")
    assert "question" not in labels("Алдартнуудын сорви ямар вэ?", "mn")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "🙂🙂🙂",
        "?!?!?!",
        "\x00\x01",
        "xurl xurl",
        "xuser",
        "ё" * 50,
        "#" * 5000,
        "суд " * 3000,
        "if not or else " * 2000,
        "1 " * 20000,
    ],
)
def test_odd_inputs_give_a_well_formed_result(text: str) -> None:
    result = detect(text, analyze(text), None, "negative", 0.9)
    assert result.labels
    assert set(result.labels) <= set(INTENTS)
    assert set(result.scores) == set(result.labels) == set(result.cues)


def test_a_megabyte_of_text_is_handled_quickly() -> None:
    text = ("Верните деньги или подам в суд! I'll sue you?! xurl " * 30_000)[:1_000_000]
    analyzed = analyze(text)
    started = time.perf_counter()
    result = detect(text, analyzed, None)
    assert time.perf_counter() - started < 1.0
    assert "threat" in result.labels


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_well_formed_result(text: str) -> None:
    result = detect(text, analyze(text), None)
    assert result.labels and set(result.labels) <= set(INTENTS)
    assert ("other" in result.labels) == (result.labels == ("other",))
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())
