"""Aspects of a message and the sentiment of each: terms, negation, contrast, extras."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h2h.nlp.aspects import ASPECTS, DEFAULT, AspectDef, AspectHit, detect, polarity
from h2h.subjects.text import AnalyzedText, analyze


def hits(
    text: str, message_sentiment: str = "neutral", extra: Sequence[AspectDef] = ()
) -> dict[str, AspectHit]:
    found = detect(analyze(text), None, message_sentiment, extra)
    return {hit.aspect: hit for hit in found}


def aspects_of(analyzed: AnalyzedText) -> set[str]:
    return {hit.aspect for hit in detect(analyzed, None)}


def sentiments(text: str, message_sentiment: str = "neutral") -> dict[str, str]:
    return {key: hit.sentiment for key, hit in hits(text, message_sentiment).items()}


# One Russian (inflected forms) and one English message per aspect.
EXAMPLES = [
    ("delivery", "Курьер потерял посылку, заказ так и не привезли"),
    ("delivery", "My parcel never arrived and the courier lost my package"),
    ("price", "Цены кусаются, слишком дорого для такой стоимости"),
    ("price", "Way too expensive, the fees are a joke"),
    ("quality", "Чайник сломался через неделю, качество ужасное"),
    ("quality", "The blender arrived broken and defective"),
    ("staff", "Официантке отдельное спасибо, персонал очень внимательный"),
    ("staff", "The waiter was rude and the manager ignored us"),
    ("support", "Не могу дозвониться на горячую линию, оператор бросает трубку"),
    ("support", "Been on hold with customer service for an hour"),
    ("payment", "С карты списали деньги дважды, оплата не прошла"),
    ("payment", "My card was charged twice for one transaction"),
    ("refund", "Когда будет возврат? Требую компенсацию"),
    ("refund", "Still waiting for my refund, I want my money back"),
    ("website_app", "Приложение вылетает после обновления, на сайте не могу войти"),
    ("website_app", "The app keeps crashing since the update and login fails"),
    ("location", "В зале грязно и шумно, зато интерьер красивый"),
    ("location", "The place was dirty and noisy, no parking"),
    ("food", "Блюда холодные, порции маленькие, пиццу пересолили"),
    ("food", "The food was delicious and the menu is great"),
    ("timing", "Ждали заказ два часа, огромная очередь и задержки"),
    ("timing", "Flight delayed again, we waited three hours"),
    ("booking", "Не получается забронировать столик, бронь слетела"),
    ("booking", "I need to change my reservation and rebook the tickets"),
]


@pytest.mark.parametrize(("aspect", "text"), EXAMPLES)
def test_each_default_aspect_is_found_in_russian_and_english(aspect: str, text: str) -> None:
    assert aspect in hits(text)


def test_the_examples_cover_every_aspect_in_both_languages() -> None:
    russian = {a for a, text in EXAMPLES if any("а" <= c <= "я" for c in text.lower())}
    english = {a for a, text in EXAMPLES if text.isascii()}
    assert russian == english == set(ASPECTS)


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("доставкой", "delivery"),
        ("курьера", "delivery"),
        ("посылки", "delivery"),
        ("привезли", "delivery"),
        ("ценами", "price"),
        ("скидку", "price"),
        ("официантом", "staff"),
        ("врачей", "staff"),
        ("списали", "payment"),
        ("платежа", "payment"),
        ("приложении", "website_app"),
        ("записался", "booking"),
        ("билетов", "booking"),
        ("ждали", "timing"),
        ("опоздал", "timing"),
        ("deliveries", "delivery"),
        ("refunds", "refund"),
        ("reservations", "booking"),
    ],
)
def test_inflected_forms_are_found_through_their_lemmas(text: str, aspect: str) -> None:
    assert aspect in hits(text)


@pytest.mark.parametrize("definition", DEFAULT, ids=lambda d: d.key)
def test_every_default_term_finds_itself_written_as_text(definition: AspectDef) -> None:
    for term in definition.terms:
        assert definition.key in hits(term), term


def test_the_defaults_are_the_taxonomy_in_order() -> None:
    assert tuple(d.key for d in DEFAULT) == ASPECTS


def test_contrast_gives_each_aspect_its_own_sentiment() -> None:
    assert sentiments("еда вкусная, но официант хамил") == {
        "food": "positive",
        "staff": "negative",
    }
    assert sentiments("The food was great but the waiter was rude") == {
        "food": "positive",
        "staff": "negative",
    }


def test_a_clause_after_but_without_its_own_aspect_decides_the_previous_one() -> None:
    assert sentiments("Официант не очень улыбчивый, но вежливый") == {"staff": "positive"}


@pytest.mark.parametrize(
    ("text", "aspect", "expected"),
    [
        ("Доставка не быстрая", "delivery", "negative"),
        ("Курьер не опоздал", "timing", "positive"),
        ("К еде претензий нет", "food", "positive"),
        ("Обслуживание без нареканий", "staff", "positive"),
        ("Приложение не работает", "website_app", "negative"),
        ("The app doesn't work", "website_app", "negative"),
        ("Support never helped me", "support", "negative"),
        ("No problems with the delivery", "delivery", "positive"),
        ("The staff were not friendly", "staff", "negative"),
    ],
)
def test_negation_turns_the_polarity_around(text: str, aspect: str, expected: str) -> None:
    assert sentiments(text)[aspect] == expected


def test_polarity_goes_to_the_nearest_aspect_in_one_clause() -> None:
    found = sentiments("Вкусная пицца и грубый курьер")
    assert found == {"food": "positive", "delivery": "negative"}


def test_size_words_are_bad_for_price_and_good_for_quality() -> None:
    assert sentiments("Цены высокие")["price"] == "negative"
    assert sentiments("Цены низкие")["price"] == "positive"
    assert sentiments("Качество высокое")["quality"] == "positive"


def test_polarity_phrases_count_as_one_evaluation() -> None:
    assert sentiments("Обслуживание оставляет желать лучшего")["staff"] == "negative"
    assert sentiments("Кухня на высоте")["food"] == "positive"


def test_a_mention_without_evaluation_takes_the_message_sentiment() -> None:
    neutral = hits("Where is my parcel?")["delivery"]
    assert (neutral.sentiment, neutral.score) == ("neutral", 0.0)
    negative = hits("Where is my parcel?", "negative")["delivery"]
    assert (negative.sentiment, negative.score) == ("negative", 0.0)


def test_an_unknown_message_sentiment_falls_back_to_neutral() -> None:
    assert hits("Где моя посылка?", "furious")["delivery"].sentiment == "neutral"


def test_local_polarity_wins_over_the_message_sentiment() -> None:
    assert hits("The food was delicious", "negative")["food"].sentiment == "positive"


def test_balanced_evaluations_are_neutral() -> None:
    hit = hits("Вкусная еда ужасная")["food"]
    assert hit.sentiment == "neutral"
    assert abs(hit.score) < 0.2


def test_the_longest_term_wins() -> None:
    assert set(hits("Отличное соотношение цена-качество")) == {"price"}
    assert set(hits("Качество обслуживания на высоте")) == {"staff"}
    assert set(hits("Call the hotline")) == {"support"}
    assert hits("I lost my credit card")["payment"].cues == ("credit card",)


def test_cues_are_the_words_as_written_in_text_order() -> None:
    hit = hits("Курьер ОПОЗДАЛ, а потом курьер нахамил. Доставка ужас")["delivery"]
    assert hit.cues == ("курьер", "доставка")
    assert hits("Курьер ОПОЗДАЛ")["timing"].cues == ("опоздал",)


def test_scores_are_signed_and_bounded() -> None:
    assert hits("Официант очень вежливый")["staff"].score == 1.0
    assert hits("Официант хамил")["staff"].score == -1.0


def test_ambiguous_words_left_out_do_not_fire() -> None:
    assert hits("Дорогой друг, стоит ли идти? Спасибо за моральную запись песни") == {}
    assert hits("Please deal with it, feel free") == {}


def test_a_workspace_aspect_is_detected_with_its_sentiment() -> None:
    loyalty = AspectDef("loyalty", frozenset({"бонус", "программа лояльности", "cashback"}))
    found = hits("Бонусы не начислили, программой лояльности недоволен", extra=[loyalty])
    assert found["loyalty"].sentiment == "negative"
    assert found["loyalty"].cues == ("бонусы", "программой лояльности")
    assert "loyalty" in hits("Great cashback!", extra=[loyalty])


def test_workspace_terms_may_be_written_inflected() -> None:
    scooter = AspectDef("scooter", frozenset({"самокаты"}))
    assert "scooter" in hits("Самокат сломался", extra=[scooter])


def test_a_workspace_aspect_can_extend_a_default_one() -> None:
    extra = AspectDef("delivery", frozenset({"самокатчик"}))
    assert "delivery" not in hits("Самокатчик опоздал")
    found = hits("Самокатчик опоздал", extra=[extra])
    assert found["delivery"].cues == ("самокатчик",)
    assert "delivery" in hits("Курьер опоздал", extra=[extra])


def test_workspace_aspects_come_after_the_defaults_and_do_not_leak() -> None:
    extra = AspectDef("loyalty", frozenset({"бонус"}))
    found = detect(analyze("Бонусы и доставка"), "ru", extra=[extra])
    assert [hit.aspect for hit in found] == ["delivery", "loyalty"]
    assert "loyalty" not in hits("Бонусы и доставка")


def test_terms_given_as_a_plain_set_are_accepted() -> None:
    extra = AspectDef("loyalty", {"бонус"})  # type: ignore[arg-type]
    assert "loyalty" in hits("бонусы", extra=[extra])


def test_the_language_does_not_change_the_result() -> None:
    text = "Приложение (app) вылетает, доставка задерживается"
    results = [detect(analyze(text), language) for language in ("ru", "en", None, "xx")]
    assert results[0] == results[1] == results[2] == results[3]
    assert {h.aspect for h in results[0]} == {"website_app", "delivery", "timing"}


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😡🚚", "!!!???...", "12345 67890", "ъъъ ььь", "@@@ ###", "\x00\u200b", "но но"],
)
def test_empty_emoji_and_garbage_give_no_aspects(text: str) -> None:
    assert detect(analyze(text), None) == []
    assert polarity(analyze(text)) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["negative", "neutral", "positive", ""]))
def test_any_text_gives_well_formed_hits(text: str, message_sentiment: str) -> None:
    for hit in detect(analyze(text), None, message_sentiment):
        assert hit.aspect in ASPECTS
        assert hit.sentiment in {"negative", "neutral", "positive"}
        assert -1.0 <= hit.score <= 1.0
        assert hit.cues
    assert -1.0 <= polarity(analyze(text)) <= 1.0


def test_a_very_long_text_is_handled_in_bounded_time() -> None:
    text = "Доставка ужасная, курьер хамил, но еда вкусная. " * 20_000
    analyzed = analyze(text)
    started = time.perf_counter()
    found = aspects_of(analyzed)
    # A guard against runaway matching (quadratic scans take minutes here), not a speed
    # target: ~0.1 s on a quiet machine, and a busy CI runner must not fail it.
    assert time.perf_counter() - started < 15.0
    assert {"delivery", "food"} <= found


def test_the_same_text_always_gives_the_same_hits() -> None:
    text = "Цена нормальная, но доставка долгая, а приложение глючит"
    assert detect(analyze(text), None) == detect(analyze(text), None)


def test_polarity_of_a_whole_text_is_signed() -> None:
    assert polarity(analyze("Всё отлично, спасибо!")) > 0
    assert polarity(analyze("This is terrible, nothing works")) < 0
    assert polarity(analyze("Сегодня вторник")) == 0.0
