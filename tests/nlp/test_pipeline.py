"""The analysis pipeline on clear cases in both languages, and on inputs meant to break it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from h2h.nlp import language, normalize, pipeline, runtime, urgency
from h2h.nlp.sentiment import ModelError, SentimentModel


@pytest.fixture(scope="module")
def analyses() -> dict[str, pipeline.Analysis]:
    texts = {
        "thanks_ru": "Спасибо огромное, всё было очень вкусно, персонал замечательный!",
        "complaint_ru": "Третий день жду курьера, заказ так и не привезли, это ужасно",
        "threat_ru": "Если до завтра не вернёте деньги, подам в суд и напишу отзывы на всех сайтах",
        "question_ru": "Подскажите, во сколько вы открываетесь в субботу?",
        "thanks_en": "Thank you so much, the staff were wonderful and the food was delicious!",
        "complaint_en": "My parcel is two weeks late and nobody answers. Terrible service.",
        "threat_en": "Refund my money by Friday or I will report you to the BBB and my lawyer.",
        "neutral_en": "The store opens at nine tomorrow.",
    }
    results = pipeline.analyze(list(texts.values()), entities=True)
    return dict(zip(texts, results, strict=True))


@pytest.mark.parametrize(
    ("key", "sentiment"),
    [
        ("thanks_ru", "positive"),
        ("complaint_ru", "negative"),
        ("thanks_en", "positive"),
        ("complaint_en", "negative"),
        ("neutral_en", "neutral"),
    ],
)
def test_clear_sentiment_is_recognised_in_both_languages(
    analyses: dict[str, pipeline.Analysis], key: str, sentiment: str
) -> None:
    assert analyses[key].sentiment == sentiment
    scores = analyses[key].scores
    assert abs(sum(scores.values()) - 1) < 1e-3
    assert analyses[key].sentiment_score == max(scores.values())


def test_languages_are_told_apart(analyses: dict[str, pipeline.Analysis]) -> None:
    assert {analyses[k].language for k in analyses if k.endswith("_ru")} == {"ru"}
    assert {analyses[k].language for k in analyses if k.endswith("_en")} == {"en"}
    assert language.detect("Дякую за допомогу, все працює чудово, ви найкращі") == "uk"
    assert language.detect("Guten Tag, ich möchte bitte eine Bestellung aufgeben") == "other"
    assert language.detect("🙂🙂🙂") is None


def test_threats_and_complaints_raise_urgency_with_reasons(
    analyses: dict[str, pipeline.Analysis],
) -> None:
    for key in ("threat_ru", "threat_en"):
        assert "threat" in analyses[key].intents
        assert analyses[key].urgency >= 0.6
        assert analyses[key].urgency_reasons[0] == "threat"
    assert "complaint" in analyses["complaint_en"].intents
    assert analyses["neutral_en"].urgency < analyses["complaint_en"].urgency


def test_a_question_is_a_question_and_praise_is_praise(
    analyses: dict[str, pipeline.Analysis],
) -> None:
    assert "question" in analyses["question_ru"].intents
    assert "praise" in analyses["thanks_ru"].intents
    assert "praise" in analyses["thanks_en"].intents


def test_aspects_come_with_their_own_sentiment(analyses: dict[str, pipeline.Analysis]) -> None:
    found = {hit["aspect"]: hit["sentiment"] for hit in analyses["thanks_en"].aspects}
    assert found.get("food") == "positive"
    assert "delivery" in {hit["aspect"] for hit in analyses["complaint_ru"].aspects}


def test_sentiment_cues_explain_the_label(analyses: dict[str, pipeline.Analysis]) -> None:
    assert "спасибо" in analyses["thanks_ru"].sentiment_cues
    assert analyses["neutral_en"].sentiment_cues == []


def test_russian_entities_are_found_and_english_has_none() -> None:
    [ru, en] = pipeline.analyze(
        ["Анна Петрова из Сбербанка прилетела в Москву", "Anna from Barclays flew to London"],
        entities=True,
    )
    kinds = {(e["kind"], e["text"]) for e in ru.entities}
    assert ("person", "Анна Петрова") in kinds
    assert ("place", "Москву") in kinds
    assert en.entities == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙂🙂🙂🔥",
        "\x00\x01\x02 garbage \ufffd\ufffd",
        bytes(range(256)).decode("latin-1"),
        "Привет hello 你好 مرحبا שלום",
        "[id123|Анна], смотри http://x.example <b>жирный</b> \u200bтекст",
        "а" * 1_000_000,
        "ха " * 300_000,
    ],
    ids=["empty", "spaces", "emoji", "control", "bytes", "mixed", "markup", "1mb", "words"],
)
def test_hostile_inputs_get_an_analysis_in_bounded_time(text: str) -> None:
    started = time.perf_counter()
    [result] = pipeline.analyze([text], entities=True)
    assert time.perf_counter() - started < 20
    assert result.sentiment in ("negative", "neutral", "positive")
    assert 0 <= result.urgency <= 1
    json.dumps(result.to_dict())  # storable as it is


def test_texts_come_back_in_input_order_with_given_languages() -> None:
    texts = ["ужасно", "awful", "прекрасно", "lovely"]
    results = pipeline.analyze(texts, ["ru", "en", "ru", "en"])
    assert [r.language for r in results] == ["ru", "en", "ru", "en"]
    assert [r.sentiment for r in results] == ["negative", "negative", "positive", "positive"]


def test_normalisation_removes_markup_but_keeps_words() -> None:
    text = "[id123|Анна Петрова] <p>Заказ&nbsp;№5</p> https://shop.example/x @shop_bot\u200b ok"
    clean = normalize.normalize(text)
    assert "Анна Петрова" in clean and "Заказ" in clean
    assert "id123" not in clean and "<p>" not in clean and "shop.example" not in clean
    assert "\u200b" not in clean
    assert len(normalize.normalize("ab " * 10**6)) <= normalize.MAX_CHARS
    assert normalize.normalize("оооооочень!!!!!!!") == "ооочень!!!"


def test_urgency_is_a_noisy_or_of_its_reasons() -> None:
    calm, reasons = urgency.score(
        intents=["other"], negative=0.1, sentiment="neutral", profanity=False, insult=False
    )
    assert (calm, reasons) == (0.0, ())
    loud, reasons = urgency.score(
        intents=["threat", "complaint"],
        negative=0.9,
        sentiment="negative",
        profanity=True,
        insult=False,
        reach=100_000,
    )
    assert 0.85 < loud < 1
    assert reasons[0] == "threat" and "reach" in reasons


def test_a_saved_model_loads_back_and_predicts_the_same(tmp_path: Path) -> None:
    texts = ["отлично", "ужасно", "нормально", "прекрасно", "плохо", "обычно"] * 10
    labels = ["positive", "negative", "neutral"] * 20
    model = SentimentModel.train("tiny", texts, labels, seed=1)
    model.save(tmp_path / "tiny")
    loaded = SentimentModel.load(tmp_path / "tiny")
    rows = loaded.features(["отлично и прекрасно"])
    assert np.allclose(loaded.proba(rows), model.proba(model.features(["отлично и прекрасно"])))


def test_a_model_file_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    shipped = runtime.SHIPPED_DIR / "sentiment-en"
    target = tmp_path / "evil"
    target.mkdir()
    (target / "model.json").write_text((shipped / "model.json").read_text())
    np.savez(target / "model.npz", word_vocab=np.array([object()], dtype=object))
    with pytest.raises(ModelError, match="cannot read"):
        SentimentModel.load(target)


def test_fast_tfidf_rows_equal_scikit_learn_rows() -> None:
    model = runtime.shipped().sentiment("ru")
    texts = [
        "Привет, как дела?",
        "",
        "ок",
        "a",
        "Очень-очень вкусно!!! )))",
        "  пробелы   и\tтабы\nи строки  ",
        "mixed English и русский 123",
    ]
    fast = model.features(texts)
    reference = model.sklearn_features(texts)
    assert fast.shape == reference.shape
    assert abs(fast - reference).max() < 1e-5


def test_the_threat_heads_fit_the_shipped_models_and_stay_quiet_on_calm_text() -> None:
    models = runtime.shipped()
    for code in ("ru", "en"):
        head = models.head("threat", code)
        assert head is not None, f"threat head for {code} missing or trained on other features"
        assert 0.3 <= head.threshold < 1
        assert f"threat-{code}:" in models.version
    calm = pipeline.analyze(
        ["The store opens at nine tomorrow.", "Завтра откроемся в девять, приходите"]
    )
    assert all("threat" not in a.intents for a in calm)
