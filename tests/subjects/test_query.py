"""The subject query language: what parses to what, and where bad queries are reported."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h2h.errors import InvalidInput
from h2h.subjects.query import (
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    And,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Word,
    format_error,
    parse,
    unparse,
)

W = Word
TOO_BROAD = "A wildcard needs at least 2 letters before it; fewer would match too much."
NO_POSITIVE_TERM = "A query needs at least one positive term: this NOT would match every message."


def test_a_word_is_lower_cased_with_yo_as_ye() -> None:
    assert parse("Ёлка") == W("елка")


def test_adjacent_terms_are_joined_by_and() -> None:
    assert parse("сбер банк") == And((W("сбер"), W("банк")))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a AND b", And((W("a"), W("b")))),
        ("a and b", And((W("a"), W("b")))),
        ("a И b", And((W("a"), W("b")))),
        ("a OR b", Or((W("a"), W("b")))),
        ("a Or b", Or((W("a"), W("b")))),
        ("a ИЛИ b", Or((W("a"), W("b")))),
        ("a NOT b", And((W("a"), Not(W("b"))))),
        ("a НЕ b", And((W("a"), Not(W("b"))))),
        ("a -b", And((W("a"), Not(W("b"))))),
    ],
)
def test_operators_are_spelled_in_english_or_upper_case_russian(query: str, expected: Node) -> None:
    assert parse(query) == expected


def test_lower_case_russian_operator_words_are_ordinary_words() -> None:
    assert parse("черный и белый") == And((W("черный"), W("и"), W("белый")))
    assert parse("не или") == And((W("не"), W("или")))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    assert parse("a OR b AND NOT c") == Or((W("a"), And((W("b"), Not(W("c"))))))
    assert parse("NOT a b OR c") == Or((And((Not(W("a")), W("b"))), W("c")))


def test_parentheses_override_precedence() -> None:
    assert parse("(a OR b) AND c") == And((Or((W("a"), W("b"))), W("c")))
    assert parse("a NOT (b OR c)") == And((W("a"), Not(Or((W("b"), W("c"))))))


def test_chains_of_the_same_operator_are_flattened() -> None:
    assert parse("a OR (b OR c) OR d") == Or((W("a"), W("b"), W("c"), W("d")))
    assert parse("a (b c)") == And((W("a"), W("b"), W("c")))


def test_double_negation_cancels_out() -> None:
    assert parse("a NOT NOT b") == And((W("a"), W("b")))
    assert parse("a --b") == And((W("a"), W("b")))


def test_minus_can_exclude_a_phrase_or_a_group() -> None:
    assert parse('a -"b c"') == And((W("a"), Not(Phrase((W("b"), W("c"))))))
    assert parse("a -(b OR c)") == And((W("a"), Not(Or((W("b"), W("c"))))))


def test_a_quoted_phrase_keeps_operator_words_as_words() -> None:
    assert parse('"черный AND белый"') == Phrase((W("черный"), W("and"), W("белый")))


def test_a_quoted_single_word_is_just_a_word() -> None:
    assert parse('"Сбербанк"') == W("сбербанк")


def test_punctuation_inside_quotes_only_separates_words() -> None:
    assert parse('"служба, доставки!"') == Phrase((W("служба"), W("доставки")))


def test_a_prefix_ends_with_a_star() -> None:
    assert parse("Достав*") == Prefix("достав")
    assert parse('"служба достав*"') == Phrase((W("служба"), Prefix("достав")))


def test_a_hyphenated_word_stays_whole_unless_quoted() -> None:
    assert parse("интернет-магазин") == W("интернет-магазин")
    assert parse('"интернет-магазин"') == Phrase((W("интернет"), W("магазин")))


def test_punctuation_inside_an_unquoted_word_makes_a_phrase() -> None:
    assert parse("ozon.ru") == Phrase((W("ozon"), W("ru")))
    assert parse("М.Видео") == Phrase((W("м"), W("видео")))


def test_an_apostrophe_between_letters_stays_in_the_word() -> None:
    assert parse("McDonald’s") == W("mcdonald's")


def test_hashtags_and_mentions_are_their_words() -> None:
    assert parse("#Сбербанк OR @united") == Or((W("сбербанк"), W("united")))


def test_positions_of_nodes_point_into_the_query() -> None:
    node = parse('сбер OR "служба доставки" -спам')
    assert isinstance(node, Or)
    phrase_and_not = node.children[1]
    assert isinstance(phrase_and_not, And)
    assert [child.pos for child in phrase_and_not.children] == [8, 26]


def test_unparse_writes_a_query_that_parses_back_to_the_same_tree() -> None:
    query = '(сбер OR "служба доставки") AND NOT (спам OR реклама*) "and"'
    node = parse(query)
    assert unparse(node) == '(сбер OR "служба доставки") AND NOT (спам OR реклама*) AND "and"'
    assert parse(unparse(node)) == node


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 0, "The query is empty."),
        ("   ", 0, "The query is empty."),
        ("сбер AND", 5, "“AND” needs a term after it."),
        ("сбер ИЛИ", 5, "“ИЛИ” needs a term after it."),
        ("сбер OR (", 8, "This “(” is never closed."),
        ("NOT", 0, "“NOT” needs a term after it."),
        ("сбер НЕ", 5, "“НЕ” needs a term after it."),
        ("AND сбер", 0, "“AND” needs a term before it."),
        ("(OR сбер)", 1, "“OR” needs a term before it."),
        ("сбер OR OR банк", 8, "“OR” cannot follow “OR”."),
        ("сбер NOT AND банк", 9, "“AND” cannot follow “NOT”."),
        ("(сбер OR банк", 0, "This “(” is never closed."),
        ("((сбер) OR банк", 0, "This “(” is never closed."),
        ("сбер OR банк)", 12, "This “)” has no matching “(”."),
        (")", 0, "This “)” has no matching “(”."),
        ("сбер ()", 5, "The parentheses are empty."),
        ("сбер OR )", 5, "“OR” needs a term after it."),
        ('сбер "служба доставки', 5, "This quote is never closed."),
        ('сбер ""', 5, "The phrase is empty."),
        ('сбер " ,. "', 5, "The phrase is empty."),
        ("сбер - банк", 5, "“-” must be followed directly by what to exclude."),
        ("сбер -", 5, "“-” must be followed directly by what to exclude."),
        ("сбер !!!", 5, "“!!!” has no letters or digits to search for."),
        ("сбер д*", 5, TOO_BROAD),
        ("сбер *", 5, TOO_BROAD),
        ('"служба *"', 8, TOO_BROAD),
        ("сбер до**", 8, TOO_BROAD),
        ("сбер до*ст", 7, "A wildcard can only end a word."),
        ("NOT сбер", 0, NO_POSITIVE_TERM),
        ("сбер OR -банк", 8, NO_POSITIVE_TERM),
        ("(NOT a) AND (NOT b)", 1, NO_POSITIVE_TERM),
    ],
)
def test_a_bad_query_says_where_and_why(query: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert (raised.value.position, str(raised.value)) == (position, message)


def test_a_negation_next_to_a_positive_term_is_fine() -> None:
    assert parse("(NOT a) AND b") == And((Not(W("a")), W("b")))


def test_a_query_error_is_invalid_input_for_the_query_field() -> None:
    with pytest.raises(QueryError) as raised:
        parse("сбер AND")
    error = raised.value
    assert isinstance(error, InvalidInput)
    assert error.field == "query"
    assert error.message == "“{operator}” needs a term after it."
    assert error.params == {"operator": "AND"}


def test_an_error_message_is_translated_before_its_parameters_are_filled_in() -> None:
    with pytest.raises(QueryError) as raised:
        parse("сбер ИЛИ")
    catalog = {"“{operator}” needs a term after it.": "После «{operator}» нужно слово."}
    assert raised.value.translated(catalog.__getitem__) == "После «ИЛИ» нужно слово."


def test_a_query_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(QueryError) as raised:
        parse("a " * (MAX_QUERY_LENGTH // 2 + 1))
    assert raised.value.position == MAX_QUERY_LENGTH
    assert str(raised.value) == f"The query is longer than {MAX_QUERY_LENGTH} characters."


def test_a_query_with_more_terms_than_the_limit_is_refused_at_the_first_extra_term() -> None:
    query = " OR ".join(f"w{i}" for i in range(MAX_TERMS + 1))
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert raised.value.position == query.index(f"w{MAX_TERMS}")
    assert str(raised.value) == f"The query has more than {MAX_TERMS} terms."


def test_words_inside_phrases_count_as_terms() -> None:
    parse(" ".join(["a"] * MAX_TERMS))
    with pytest.raises(QueryError):
        parse('"' + " ".join(["a"] * (MAX_TERMS + 1)) + '"')


def test_parentheses_nested_too_deep_are_refused_rather_than_crashing() -> None:
    parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    with pytest.raises(QueryError) as raised:
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    assert raised.value.position == MAX_DEPTH


def test_a_long_chain_of_negations_does_not_overflow_the_stack() -> None:
    assert parse("a " + "NOT " * 400 + "b") == And((W("a"), W("b")))


def test_format_error_puts_a_caret_under_the_position() -> None:
    query = "сбер OR OR банк"
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert format_error(query, raised.value) == (
        "сбер OR OR банк\n        ^ “OR” cannot follow “OR”."
    )


def test_format_error_shows_the_line_of_a_multi_line_query_and_keeps_tabs() -> None:
    query = "сбер\n\tOR OR банк"
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert format_error(query, raised.value, message="!") == "\tOR OR банк\n\t   ^ !"


def test_format_error_cuts_a_long_line_around_the_position() -> None:
    query = "a " * 300 + "AND"
    with pytest.raises(QueryError) as raised:
        parse(query)
    line, caret = format_error(query, raised.value).split("\n")
    assert line.startswith("…") and line.endswith("AND")
    assert line[caret.index("^") :].startswith("AND")


def test_format_error_points_past_the_end_when_the_query_ends_too_early() -> None:
    with pytest.raises(QueryError) as raised:
        parse('"abc')
    assert format_error('"abc', raised.value).startswith('"abc\n^')


_VOCABULARY = ["сбер", "банк", "доставка", "служба", "yandex", "go", "and", "интернет-магазин"]


def _trees() -> st.SearchStrategy[Node]:
    word = st.sampled_from(_VOCABULARY).map(Word)
    prefix = st.sampled_from(["сбе", "дост", "ya"]).map(Prefix)
    phrase = st.lists(st.sampled_from(["сбер", "банк", "and", "или"]), min_size=2, max_size=3)
    leaf = st.one_of(word, prefix, phrase.map(lambda words: Phrase(tuple(map(Word, words)))))
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            children.filter(lambda node: not isinstance(node, Not)).map(Not),
            st.lists(children, min_size=2, max_size=3).map(lambda c: And(_flat(And, c))),
            st.lists(children, min_size=2, max_size=3).map(lambda c: Or(_flat(Or, c))),
        ),
        max_leaves=8,
    )


def _flat(kind: type[And] | type[Or], children: list[Node]) -> tuple[Node, ...]:
    return tuple(
        grandchild
        for child in children
        for grandchild in (child.children if isinstance(child, kind) else (child,))
    )


@given(_trees())
def test_unparse_then_parse_gives_back_any_tree_with_a_positive_term(tree: Node) -> None:
    try:
        parsed = parse(unparse(tree))
    except QueryError as error:
        assert error.message.startswith("A query needs at least one positive term")
        return
    assert parsed == tree


@given(st.text(alphabet='аб cd()"*-_.#@ANDORTИЛНЕ\t\n', max_size=40))
def test_any_text_either_parses_or_fails_with_a_position_inside_it(query: str) -> None:
    try:
        parse(query)
    except QueryError as error:
        assert 0 <= error.position <= len(query)
        assert format_error(query, error)
