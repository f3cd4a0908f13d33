"""Match one text against every subject of a workspace at once.

Each query is parsed, compiled into nested closures, and indexed under its *required
terms*: a set of words or prefixes at least one of which occurs in every text the query
matches (for ``a AND (b OR c)`` either ``{a}`` or ``{b, c}``; the cheaper is kept). A
text then only evaluates the subjects whose required terms it contains, which for real
streams is a handful out of hundreds. Which subjects a word can trigger is remembered per
distinct word, so finding the candidates costs one dict lookup per word of the text.

    matcher = Matcher.compile([(1, "сбербанк OR сбер"), (2, '"служба доставки" -реклама')])
    matcher.match("Сбербанку пора наладить службу доставки")  # {1, 2}

:func:`evaluate` is the plain interpreter: the reference the index must agree with, and
the naive baseline in ``benchmarks/bench_match.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from h2h.subjects.query import (
    POSITIVE_TERM_NEEDED,
    And,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Term,
    Word,
    parse,
    unparse,
)
from h2h.subjects.text import AnalyzedText, Token, analyze, word_lemmas

K = TypeVar("K", bound=Hashable)
Predicate = Callable[[AnalyzedText], bool]
TokenPredicate = Callable[[Token], bool]

WORD_CACHE_SIZE = 50_000
"""Distinct words a matcher remembers the subjects of (~100 bytes each)."""

# A prefix is filed under its first four letters (all of them if it is shorter), so a word
# finds it by looking up its own first two, three and four letters.
_HEAD_LENGTHS = (2, 3, 4)


class SubjectQueryError(QueryError):
    """A subject's query failed to parse; ``key`` says which subject."""

    def __init__(self, key: Hashable, error: QueryError) -> None:
        super().__init__(error.message, error.position, **error.params)
        self.key = key


class Matcher(Generic[K]):
    """An index of subject queries; build with :meth:`compile`, then call :meth:`match`.

    Safe to share between threads: its only mutable state is the word cache, and a lost
    update there only means a word is looked up again.
    """

    def __init__(self) -> None:
        self._keys: list[K] = []
        self._nodes: list[Node] = []
        self._predicates: list[Predicate] = []
        self._by_lemma: dict[str, list[int]] = {}
        self._by_head: dict[str, list[tuple[str, int]]] = {}
        # Which subjects each word, as written, can trigger. Words repeat far more than
        # they vary, so a text costs one dict lookup per word; the set of words grows
        # with the stream, hence the bound (a full cache is simply started afresh).
        self._word_hits: dict[str, tuple[int, ...]] = {}

    @classmethod
    def compile(cls, subjects: Iterable[tuple[K, str | Node]]) -> Matcher[K]:
        """Index ``(key, query)`` pairs; a key given twice matches when either query does.

        A query is a string or a tree from :func:`~h2h.subjects.query.parse`.
        """
        matcher = cls()
        for key, query in subjects:
            try:
                # A tree built by hand goes through the parser too, so it meets the same
                # rules (prefix length, term limit, a positive term) as typed queries.
                node = parse(query if isinstance(query, str) else unparse(query))
            except QueryError as error:
                raise SubjectQueryError(key, error) from error
            matcher._add(key, node)
        return matcher

    def __len__(self) -> int:
        return len(self._keys)

    def _add(self, key: K, node: Node) -> None:
        required = required_terms(node)
        if required is None:
            raise SubjectQueryError(key, QueryError(POSITIVE_TERM_NEEDED, node.pos))
        index = len(self._keys)
        self._keys.append(key)
        self._nodes.append(node)
        self._predicates.append(compile_node(node))
        for term in required:
            if isinstance(term, Word):
                for lemma in word_lemmas(term.text):
                    self._by_lemma.setdefault(lemma, []).append(index)
            else:
                head = term.text[: _HEAD_LENGTHS[-1]]
                self._by_head.setdefault(head, []).append((term.text, index))

    def candidates(self, text: AnalyzedText) -> set[int]:
        """Subjects (by position) whose required terms occur in ``text``."""
        found: set[int] = set()
        cache = self._word_hits
        for token in text.tokens + text.compounds if text.compounds else text.tokens:
            hits = cache.get(token.surface)
            if hits is None:
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                hits = cache[token.surface] = self._hits(token)
            if hits:
                found.update(hits)
        return found

    def _hits(self, token: Token) -> tuple[int, ...]:
        """Subjects (by position) with a required term that ``token`` satisfies."""
        found: set[int] = set()
        for lemma in token.lemmas:
            found.update(self._by_lemma.get(lemma, ()))
        if self._by_head:
            for form in (token.surface, *token.lemmas):
                for length in _HEAD_LENGTHS:
                    for prefix, index in self._by_head.get(form[:length], ()):
                        if form.startswith(prefix):
                            found.add(index)
        return tuple(found)

    def match(self, text: str) -> set[K]:
        """Keys of the subjects whose queries match ``text``."""
        return self.match_analyzed(analyze(text))

    def match_analyzed(self, text: AnalyzedText) -> set[K]:
        """Keys of the subjects whose queries match an already analysed text."""
        predicates = self._predicates
        keys = self._keys
        return {keys[i] for i in self.candidates(text) if predicates[i](text)}

    def match_with_terms(self, text: str | AnalyzedText) -> dict[K, frozenset[str]]:
        """Matching keys, each with the positive terms of its query found in the text.

        Terms are given as query text (``сбербанк``, ``"служба доставки"``, ``достав*``),
        for highlighting and for explaining why a message was attributed to a subject.
        """
        analyzed = analyze(text) if isinstance(text, str) else text
        found: dict[K, set[str]] = {}
        for i in self.candidates(analyzed):
            if self._predicates[i](analyzed):
                leaves = positive_leaves(self._nodes[i])
                matched = {unparse(leaf) for leaf in leaves if evaluate(leaf, analyzed)}
                found.setdefault(self._keys[i], set()).update(matched)
        return {key: frozenset(terms) for key, terms in found.items()}


def required_terms(node: Node) -> tuple[Term, ...] | None:
    """Terms at least one of which occurs in every text ``node`` matches; None if none do.

    ``NOT x`` has no such terms (it matches texts with no words at all). For ``AND`` any
    child's set will do, so the cheapest is chosen: rare-looking words over short words
    over prefixes.
    """
    if isinstance(node, Word | Prefix):
        return (node,)
    if isinstance(node, Phrase):
        return (min(node.items, key=_term_rank),)
    if isinstance(node, Not):
        return None
    covers = [required_terms(child) for child in node.children]
    if isinstance(node, Or):
        if any(cover is None for cover in covers):
            return None
        return tuple(term for cover in covers if cover is not None for term in cover)
    known = [cover for cover in covers if cover is not None]
    return min(known, key=_cover_rank) if known else None


def _term_rank(term: Term) -> tuple[float, int]:
    # Longer words are rarer in practice; a prefix matches a family of words.
    cost = 3.0 if isinstance(term, Prefix) else 1.0
    return cost + (1.0 if len(term.text) <= 3 else 0.0), -len(term.text)


def _cover_rank(cover: tuple[Term, ...]) -> tuple[float, int]:
    ranks = [_term_rank(term) for term in cover]
    return sum(cost for cost, _ in ranks), sum(length for _, length in ranks)


def positive_leaves(node: Node) -> list[Word | Prefix | Phrase]:
    """Words, prefixes and phrases of ``node`` that are not under a ``NOT``."""
    if isinstance(node, Word | Prefix | Phrase):
        return [node]
    if isinstance(node, Not):
        return []
    return [leaf for child in node.children for leaf in positive_leaves(child)]


def compile_node(node: Node) -> Predicate:
    """A closure that evaluates ``node`` on an analysed text, with lemmas looked up once."""
    if isinstance(node, Word):
        lemmas = word_lemmas(node.text)
        return lambda text: not lemmas.isdisjoint(text.lemmas)
    if isinstance(node, Prefix):
        prefix = node.text
        return lambda text: text.has_prefix(prefix)
    if isinstance(node, Phrase):
        return _compile_phrase(node)
    if isinstance(node, Not):
        inner = compile_node(node.child)
        return lambda text: not inner(text)
    children = tuple(compile_node(child) for child in node.children)
    # Plain loops, not all()/any() over a generator: 0.3 µs instead of 0.8 µs per node
    # with three children, measured; these closures are the hot path of matching.
    if isinstance(node, And):

        def every(text: AnalyzedText) -> bool:
            for child in children:  # noqa: SIM110
                if not child(text):
                    return False
            return True

        return every

    def some(text: AnalyzedText) -> bool:
        for child in children:  # noqa: SIM110
            if child(text):
                return True
        return False

    return some


def _compile_phrase(phrase: Phrase) -> Predicate:
    items = tuple(_token_predicate(item) for item in phrase.items)
    word_lemma_sets = tuple(
        word_lemmas(item.text) for item in phrase.items if isinstance(item, Word)
    )

    def occurs(text: AnalyzedText) -> bool:
        # Scanning positions is the slow part; most texts lack one of the words outright.
        for lemmas in word_lemma_sets:
            if lemmas.isdisjoint(text.lemmas):
                return False
        return _phrase_occurs(text.tokens, items)

    return occurs


def _token_predicate(term: Term) -> TokenPredicate:
    if isinstance(term, Word):
        lemmas = word_lemmas(term.text)
        return lambda token: not lemmas.isdisjoint(token.lemmas)
    prefix = term.text
    return lambda token: (
        token.surface.startswith(prefix) or any(lemma.startswith(prefix) for lemma in token.lemmas)
    )


def _phrase_occurs(tokens: tuple[Token, ...], items: tuple[TokenPredicate, ...]) -> bool:
    first, rest = items[0], items[1:]
    for start in range(len(tokens) - len(items) + 1):
        if first(tokens[start]) and all(
            item(tokens[start + offset]) for offset, item in enumerate(rest, 1)
        ):
            return True
    return False


def evaluate(node: Node, text: AnalyzedText) -> bool:
    """Evaluate ``node`` on ``text`` directly: slow, obviously correct, the reference."""
    if isinstance(node, Word):
        return not word_lemmas(node.text).isdisjoint(text.lemmas)
    if isinstance(node, Prefix):
        return any(word.startswith(node.text) for word in text.vocabulary)
    if isinstance(node, Phrase):
        width = len(node.items)
        return any(
            all(_token_matches(item, text.tokens[start + i]) for i, item in enumerate(node.items))
            for start in range(len(text.tokens) - width + 1)
        )
    if isinstance(node, Not):
        return not evaluate(node.child, text)
    if isinstance(node, And):
        return all(evaluate(child, text) for child in node.children)
    return any(evaluate(child, text) for child in node.children)


def _token_matches(term: Term, token: Token) -> bool:
    if isinstance(term, Word):
        return not word_lemmas(term.text).isdisjoint(token.lemmas)
    return any(word.startswith(term.text) for word in (token.surface, *token.lemmas))
