"""Matching texts against subject queries: word forms, phrases, prefixes and the index."""

from __future__ import annotations

import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h2h.subjects import matcher as matcher_module
from h2h.subjects.matcher import (
    Matcher,
    SubjectQueryError,
    compile_node,
    evaluate,
    required_terms,
)
from h2h.subjects.query import (
    And,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Word,
    parse,
    unparse,
)
from h2h.subjects.text import analyze, english_forms, normalize


def matches(query: str, text: str) -> bool:
    return bool(Matcher.compile([("subject", query)]).match(text))


# Text analysis


def test_text_is_split_into_lower_case_words_with_yo_as_ye() -> None:
    assert analyze("Ёлки-палки, ЗЕЛЁНЫЙ чай!").surfaces == ["елки", "палки", "зеленый", "чай"]


def test_a_hyphenated_word_gives_its_parts_in_order_and_itself_whole() -> None:
    text = analyze("купил в интернет-магазине")
    assert text.surfaces == ["купил", "в", "интернет", "магазине"]
    assert [token.surface for token in text.compounds] == ["интернет-магазине"]
    assert "интернет-магазин" in text.lemmas


def test_hashtags_and_mentions_lose_their_sign() -> None:
    assert analyze("#Сбербанк спасибо @AmericanAir").surfaces == [
        "сбербанк",
        "спасибо",
        "americanair",
    ]


def test_a_url_keeps_only_its_host_name_as_words() -> None:
    text = analyze("смотри https://www.ozon.ru/product/tovar-123?utm=spam и www.wb.ru/x")
    assert text.surfaces == ["смотри", "ozon", "ru", "и", "wb", "ru"]


def test_an_apostrophe_inside_a_word_stays_and_the_typographic_one_is_plain() -> None:
    assert analyze("Don’t fly United's planes").surfaces == ["don't", "fly", "united's", "planes"]


def test_decomposed_letters_are_composed_before_splitting_words() -> None:
    decomposed = unicodedata.normalize("NFD", "Йогурт")
    assert analyze(decomposed).surfaces == ["йогурт"]


def test_normalize_lower_cases_and_reduces_urls() -> None:
    assert normalize("Ёж http://Example.COM:8080/a") == "еж  example com "


def test_russian_words_carry_all_their_lemmas() -> None:
    assert analyze("стали").tokens[0].lemmas == {"сталь", "стать"}


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("delivery", {"delivery"}),
        ("deliveries", {"deliveries", "deliverie", "delivery"}),
        ("flights", {"flights", "flight"}),
        ("boxes", {"boxes", "boxe", "box"}),
        ("united's", {"united's", "united"}),
        ("news", {"news"}),
        ("glass", {"glass"}),
        ("status", {"status"}),
        ("bus", {"bus"}),
    ],
)
def test_english_words_get_a_light_predictable_singular(word: str, forms: set[str]) -> None:
    assert english_forms(word) == forms


def test_analysis_gives_the_same_answer_from_many_threads() -> None:
    texts = [f"доставка{n} сбербанком #яндекс" for n in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        surfaces = list(pool.map(lambda text: analyze(text).surfaces, texts))
    assert surfaces == [analyze(text).surfaces for text in texts]


# Word forms


@pytest.mark.parametrize(
    "text", ["Сбербанк", "в Сбербанке", "Сбербанка", "сбербанку", "сбербанком"]
)
def test_a_russian_word_matches_its_inflections(text: str) -> None:
    assert matches("Сбербанк", text)


@pytest.mark.parametrize("text", ["доставки нет", "с доставкой", "доставку"])
def test_a_common_noun_matches_its_inflections(text: str) -> None:
    assert matches("доставка", text)


@pytest.mark.parametrize(
    ("query", "text"),
    [("Зерно", "кофейня Зерна"), ("Зерно", "в Зерном"), ("Яндекс", "у Яндекса")],
)
def test_brand_names_match_their_inflections(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize("text", ["через #YouScan", "работаем с YouScanом", "у YouScan-а"])
def test_a_latin_brand_matches_with_a_russian_ending(text: str) -> None:
    assert matches("YouScan", text)


def test_a_word_does_not_match_a_longer_word_starting_with_it() -> None:
    assert not matches("сбер", "сбербанк")
    assert matches("сбер*", "сбербанк")


def test_yo_and_ye_are_the_same_letter_both_ways() -> None:
    assert matches("ёлка", "купили елку")
    assert matches("елка", "Ёлки зеленые")


def test_a_word_is_found_in_a_hashtag_and_a_mention() -> None:
    assert matches("сбербанк", "спасибо #Сбербанк")
    assert matches("united", "@united lost my bag")


def test_english_words_match_case_insensitively_with_plurals_and_possessives() -> None:
    assert matches("Delivery", "two DELIVERIES late")
    assert matches("deliveries", "delivery late")
    assert matches("United", "United's crew")
    assert matches("flight", "all flights cancelled")
    assert not matches("news", "a new phone")


def test_a_domain_in_a_link_is_a_mention_of_the_brand() -> None:
    assert matches("ozon", "https://www.ozon.ru/product/123")
    assert not matches("product", "https://www.ozon.ru/product/123")


def test_a_hyphenated_query_word_matches_that_word_in_any_inflection() -> None:
    assert matches("интернет-магазин", "в интернет-магазине")
    assert matches("Альфа-Банк", "альфа-банку")
    assert not matches("интернет-магазин", "в интернет магазине")


def test_a_part_of_a_hyphenated_word_is_a_word_of_its_own() -> None:
    assert matches("магазин", "в интернет-магазине")


def test_a_quoted_hyphenated_word_matches_both_spellings() -> None:
    assert matches('"интернет-магазин"', "в интернет магазине")
    assert matches('"интернет-магазин"', "в интернет-магазине")


# Phrases and prefixes


@pytest.mark.parametrize(
    "text", ["служба доставки", "позвонил в службу доставки", "Службой Доставки недоволен"]
)
def test_a_phrase_matches_across_inflections(text: str) -> None:
    assert matches('"служба доставки"', text)


@pytest.mark.parametrize("text", ["доставки служба", "служба быстрой доставки", "служба. доставка"])
def test_a_phrase_needs_its_words_next_to_each_other_in_order(text: str) -> None:
    # Punctuation between words is ignored, like in the listening tools.
    assert matches('"служба доставки"', text) == (text == "служба. доставка")


def test_a_phrase_can_end_with_a_prefix() -> None:
    assert matches('"служба достав*"', "служба доставщиков")
    assert not matches('"служба достав*"', "служба поддержки доставки")


@pytest.mark.parametrize("text", ["доставка", "доставщик опоздал", "доставили", "ДОСТАВЛЯЮТ"])
def test_a_prefix_matches_any_word_starting_with_it(text: str) -> None:
    assert matches("достав*", text)


def test_a_prefix_also_matches_lemmas() -> None:
    # "людей" is a form of "человек": the prefix sees the lemma, not only the spelling.
    assert matches("челов*", "много людей")


def test_a_prefix_matches_inside_a_hyphenated_word() -> None:
    assert matches("магаз*", "интернет-магазины")
    assert matches("интернет-маг*", "интернет-магазины")


# Boolean logic and several subjects


def test_competitors_mentioned_in_one_text_all_match() -> None:
    matcher = Matcher.compile(
        [
            ("sber", "сбербанк OR сбер OR sberbank"),
            ("tinkoff", "тинькофф OR tinkoff OR т-банк"),
            ("vtb", "втб"),
        ]
    )
    assert matcher.match("Ушёл из Сбера в Тинькофф, втб даже не рассматривал") == {
        "sber",
        "tinkoff",
        "vtb",
    }


def test_not_excludes_texts_with_the_excluded_phrase() -> None:
    query = 'сбер -"сбер мегамаркет"'
    assert matches(query, "Сбер поднял ставки")
    assert not matches(query, "заказал в Сбер Мегамаркете")


def test_and_needs_every_term_and_or_needs_one() -> None:
    assert matches("яндекс AND доставка", "доставка от Яндекса")
    assert not matches("яндекс AND доставка", "такси от Яндекса")
    assert matches("(яндекс OR ozon) доставка", "доставка ozon")


def test_a_key_given_twice_matches_when_either_of_its_queries_does() -> None:
    matcher = Matcher.compile([(1, "сбер"), (1, "втб"), (2, "альфа")])
    assert matcher.match("втб") == {1}
    assert len(matcher) == 3


def test_match_with_terms_tells_which_positive_terms_were_found() -> None:
    matcher = Matcher.compile([(1, 'сбер OR "служба доставки" OR достав* -спам'), (2, "втб")])
    assert matcher.match_with_terms("Сбер, где служба доставки?") == {
        1: {"сбер", '"служба доставки"', "достав*"}
    }


def test_match_analyzed_accepts_a_text_analysed_once_for_many_matchers() -> None:
    text = analyze("Яндекс доставка")
    assert Matcher.compile([(1, "яндекс")]).match_analyzed(text) == {1}
    assert Matcher.compile([(2, "доставка")]).match_analyzed(text) == {2}


def test_a_bad_subject_query_names_the_subject_and_position() -> None:
    with pytest.raises(SubjectQueryError) as raised:
        Matcher.compile([(1, "сбер"), (2, "сбер AND")])
    assert (raised.value.key, raised.value.position) == (2, 5)
    assert isinstance(raised.value, QueryError)


def test_a_pure_negation_tree_is_refused_even_when_given_parsed() -> None:
    with pytest.raises(SubjectQueryError, match="at least one positive term"):
        Matcher.compile([(1, Not(Word("спам")))])


def test_a_hand_built_tree_meets_the_same_rules_as_a_typed_query() -> None:
    with pytest.raises(SubjectQueryError, match="at least 2 letters"):
        Matcher.compile([(1, Prefix("д"))])
    assert Matcher.compile([(1, Prefix("до"))]).match("дом") == {1}


# The index


def test_required_terms_pick_one_term_per_or_branch() -> None:
    node = parse('(сбербанк AND достав*) OR (втб AND NOT спам) OR "служба доставки"')
    assert required_terms(node) == (Word("сбербанк"), Word("втб"), Word("доставки"))


def test_required_terms_of_a_negation_alone_are_unknown() -> None:
    assert required_terms(Not(Word("спам"))) is None
    assert required_terms(Or((Word("a"), Not(Word("b"))))) is None


def test_only_subjects_whose_required_terms_occur_are_evaluated() -> None:
    matcher = Matcher.compile([(1, "сбербанк доставка"), (2, "втб"), (3, "тинь*")])
    assert matcher.candidates(analyze("сбербанк без доставки")) == {0}
    assert matcher.candidates(analyze("тинькофф")) == {2}
    assert matcher.candidates(analyze("ничего")) == set()


def test_a_full_word_cache_starts_afresh_without_changing_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(matcher_module, "WORD_CACHE_SIZE", 3)
    matcher = Matcher.compile([(1, "сбербанк"), (2, "дост*")])
    texts = ["сбербанк и доставка", "ничего нового тут нет", "доставщик сбербанка"]
    for _ in range(3):
        assert [matcher.match(text) for text in texts] == [{1, 2}, set(), {1, 2}]


# The index and the compiled closures agree with the plain interpreter


_QUERY_WORDS = ["сбербанк", "служба", "доставка", "яндекс", "delivery", "интернет-магазин", "и"]
_TEXT_WORDS = [
    *("сбербанк", "Сбербанка", "сбербанком", "служба", "службу", "доставки", "доставщик"),
    *("Яндекса", "#яндекс", "@yandex", "deliveries", "delivery", "интернет-магазина"),
    *("интернет", "магазин", "ёлки", "и", "не", "ozon.ru"),
]


def _queries() -> st.SearchStrategy[Node]:
    word = st.sampled_from(_QUERY_WORDS).map(Word)
    prefix = st.sampled_from(["сбер", "дост", "яндек", "deliver", "интернет-м"]).map(Prefix)
    phrase = st.lists(
        st.sampled_from(["служба", "доставки", "сбербанк", "и", "магазин"]), min_size=2, max_size=3
    )
    leaf = st.one_of(word, prefix, phrase.map(lambda words: Phrase(tuple(map(Word, words)))))
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            children.map(Not),
            st.lists(children, min_size=2, max_size=3).map(lambda c: And(tuple(c))),
            st.lists(children, min_size=2, max_size=3).map(lambda c: Or(tuple(c))),
        ),
        max_leaves=6,
    )


_texts = st.lists(
    st.tuples(st.sampled_from(_TEXT_WORDS), st.sampled_from([" ", ", ", "-", ". "])), max_size=8
).map(lambda pairs: "".join(word + sep for word, sep in pairs))


@settings(deadline=None, max_examples=300)
@given(st.lists(_queries(), min_size=1, max_size=10), st.lists(_texts, min_size=1, max_size=5))
def test_the_indexed_matcher_agrees_with_evaluating_every_query(
    trees: list[Node], texts: list[str]
) -> None:
    subjects = [(n, tree) for n, tree in enumerate(trees) if required_terms(tree) is not None]
    matcher = Matcher.compile(subjects)
    for text in texts:
        analyzed = analyze(text)
        expected = {n for n, tree in subjects if evaluate(tree, analyzed)}
        assert matcher.match(text) == expected
        for _, tree in subjects:
            assert compile_node(tree)(analyzed) == evaluate(tree, analyzed)


@settings(deadline=None, max_examples=100)
@given(_queries(), _texts)
def test_a_query_matches_the_same_texts_after_unparse_and_parse(tree: Node, text: str) -> None:
    try:
        parsed = parse(unparse(tree))
    except QueryError:
        return
    assert evaluate(parsed, analyze(text)) == evaluate(tree, analyze(text))
