"""The subject query language: a small boolean language like the listening tools use.

    (сбербанк OR сбер OR sberbank) AND NOT "сбер мегамаркет"
    "служба доставки" достав* -реклама

- A word matches any of its forms (``Сбербанк`` finds ``Сбербанку``), case-insensitively,
  ``ё`` = ``е``; see :mod:`h2h.subjects.text` for how words and lemmas are made.
- ``"a phrase"`` matches consecutive words, each by its lemmas. Inside quotes every word is
  a word, operators included (``"черный и белый"``), and punctuation only separates words.
- ``word*`` matches words starting with ``word`` as written or as a lemma; at least
  :data:`MIN_PREFIX` letters must come before the ``*``.
- ``AND``, ``OR``, ``NOT`` (English in any case; Russian ``И``, ``ИЛИ``, ``НЕ`` in upper
  case only, since lower case they are ordinary words), ``-word`` for ``NOT word``,
  parentheses. Adjacent terms are joined by ``AND``. ``NOT`` binds tighter than ``AND``,
  ``AND`` tighter than ``OR``.
- A hyphenated word (``интернет-магазин``) matches that hyphenated word in any inflection;
  quoted (``"интернет-магазин"``) it is the phrase of its parts, which also finds
  ``интернет магазин``. Other punctuation inside a word makes a phrase: ``ozon.ru``,
  ``М.Видео``.
- A query needs a positive term: ``NOT x`` alone would match nearly every message.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from h2h.errors import N_, InvalidInput
from h2h.subjects.text import WORD_PATTERN, normalize, split_compound

MAX_QUERY_LENGTH = 2_000
MAX_TERMS = 200
MAX_DEPTH = 32
MIN_PREFIX = 2

_WORD_RE = re.compile(WORD_PATTERN)
_RUN_END_RE = re.compile(r"[\s()\"]")
_CARET_WINDOW = 72

POSITIVE_TERM_NEEDED = N_(
    "A query needs at least one positive term: this NOT would match every message."
)


class QueryError(InvalidInput):
    """A query that cannot be parsed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, position: int, /, **params: Any) -> None:
        super().__init__(message, field="query", **params)
        self.position = position


@dataclass(frozen=True, slots=True)
class Word:
    """A word, matched by any of its lemmas (``text`` is lower case, ``е`` for ``ё``)."""

    text: str
    pos: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Prefix:
    """``text*``: any word starting with ``text``, as written or as a lemma."""

    text: str
    pos: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words, each matched like a :class:`Word` or :class:`Prefix`."""

    items: tuple[Word | Prefix, ...]
    pos: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT child``."""

    child: Node
    pos: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class And:
    """All of ``children``."""

    children: tuple[Node, ...]
    pos: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``children``."""

    children: tuple[Node, ...]
    pos: int = field(default=0, compare=False, repr=False)


Term = Word | Prefix
Node = Word | Prefix | Phrase | Not | And | Or


class _Kind(enum.Enum):
    TERM = "term"
    PHRASE = "phrase"
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"


_OPERATORS = {_Kind.AND, _Kind.OR, _Kind.NOT}
_STARTS_TERM = {_Kind.TERM, _Kind.PHRASE, _Kind.LPAREN, _Kind.NOT}
_RUSSIAN_OPERATORS = {"И": _Kind.AND, "ИЛИ": _Kind.OR, "НЕ": _Kind.NOT}
_ENGLISH_OPERATORS = {"and": _Kind.AND, "or": _Kind.OR, "not": _Kind.NOT}


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: _Kind
    pos: int
    text: str


def parse(query: str) -> Node:
    """Parse a subject query into its syntax tree, or raise :class:`QueryError`."""
    query = _nfc(query)
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(
            N_("The query is longer than {limit} characters."),
            MAX_QUERY_LENGTH,
            limit=MAX_QUERY_LENGTH,
        )
    lexemes = _lex(query)
    if not lexemes:
        raise QueryError(N_("The query is empty."), 0)
    node = _Parser(lexemes).parse()
    _check_term_count(node)
    uncovered = _uncovered_position(node)
    if uncovered is not None:
        raise QueryError(POSITIVE_TERM_NEEDED, uncovered)
    return node


def _nfc(query: str) -> str:
    return query if unicodedata.is_normalized("NFC", query) else unicodedata.normalize("NFC", query)


def _lex(query: str) -> list[_Lexeme]:
    lexemes: list[_Lexeme] = []
    at = 0
    while at < len(query):
        char = query[at]
        if char.isspace():
            at += 1
        elif char in "()":
            lexemes.append(_Lexeme(_Kind(char), at, char))
            at += 1
        elif char == '"':
            end = query.find('"', at + 1)
            if end < 0:
                raise QueryError(N_("This quote is never closed."), at)
            lexemes.append(_Lexeme(_Kind.PHRASE, at, query[at + 1 : end]))
            at = end + 1
        elif char == "-":
            if at + 1 == len(query) or query[at + 1].isspace() or query[at + 1] == ")":
                raise QueryError(N_("“-” must be followed directly by what to exclude."), at)
            lexemes.append(_Lexeme(_Kind.NOT, at, "-"))
            at += 1
        else:
            stop = _RUN_END_RE.search(query, at)
            run = query[at : stop.start() if stop else len(query)]
            lexemes.append(_Lexeme(_operator_kind(run), at, run))
            at += len(run)
    return lexemes


def _operator_kind(run: str) -> _Kind:
    return _RUSSIAN_OPERATORS.get(run) or _ENGLISH_OPERATORS.get(run.lower(), _Kind.TERM)


class _Parser:
    """Recursive descent: or := and (OR and)*; and := not (AND? not)*; not := NOT* primary."""

    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self._lexemes = lexemes
        self._at = 0
        self._depth = 0

    def parse(self) -> Node:
        node = self._or()
        if self._at < len(self._lexemes):
            # Everything else would have been consumed: only a stray ")" stops the loop.
            raise QueryError(N_("This “)” has no matching “(”."), self._lexemes[self._at].pos)
        return node

    def _peek(self) -> _Kind | None:
        return self._lexemes[self._at].kind if self._at < len(self._lexemes) else None

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek() is _Kind.OR:
            self._at += 1
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(_flatten(Or, children), children[0].pos)

    def _and(self) -> Node:
        children = [self._not()]
        while True:
            kind = self._peek()
            if kind is _Kind.AND:
                self._at += 1
            elif kind not in _STARTS_TERM:
                break
            children.append(self._not())
        return children[0] if len(children) == 1 else And(_flatten(And, children), children[0].pos)

    def _not(self) -> Node:
        negations: list[_Lexeme] = []
        while self._peek() is _Kind.NOT:
            negations.append(self._lexemes[self._at])
            self._at += 1
        node = self._primary()
        for negation in reversed(negations):
            node = node.child if isinstance(node, Not) else Not(node, negation.pos)
        return node

    def _primary(self) -> Node:
        previous = self._lexemes[self._at - 1] if self._at else None
        if self._at == len(self._lexemes):
            raise _missing_operand(previous)
        lexeme = self._lexemes[self._at]
        self._at += 1
        if lexeme.kind is _Kind.TERM:
            return _term(lexeme.text, lexeme.pos)
        if lexeme.kind is _Kind.PHRASE:
            return _phrase(lexeme.text, lexeme.pos)
        if lexeme.kind is _Kind.LPAREN:
            return self._group(lexeme)
        if lexeme.kind is _Kind.RPAREN:
            if previous is not None and previous.kind is _Kind.LPAREN:
                raise QueryError(N_("The parentheses are empty."), previous.pos)
            raise _missing_operand(previous, closing=lexeme)
        if previous is None or previous.kind is _Kind.LPAREN:
            raise QueryError(
                N_("“{operator}” needs a term before it."), lexeme.pos, operator=lexeme.text
            )
        raise QueryError(
            N_("“{operator}” cannot follow “{previous}”."),
            lexeme.pos,
            operator=lexeme.text,
            previous=previous.text,
        )

    def _group(self, opening: _Lexeme) -> Node:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise QueryError(
                N_("Parentheses are nested more than {limit} deep."), opening.pos, limit=MAX_DEPTH
            )
        node = self._or()
        if self._peek() is not _Kind.RPAREN:
            raise QueryError(N_("This “(” is never closed."), opening.pos)
        self._at += 1
        self._depth -= 1
        return node


def _missing_operand(previous: _Lexeme | None, closing: _Lexeme | None = None) -> QueryError:
    if previous is not None and previous.kind in _OPERATORS:
        return QueryError(
            N_("“{operator}” needs a term after it."), previous.pos, operator=previous.text
        )
    if previous is not None and previous.kind is _Kind.LPAREN:
        return QueryError(N_("This “(” is never closed."), previous.pos)
    if closing is not None:
        return QueryError(N_("This “)” has no matching “(”."), closing.pos)
    return QueryError(N_("The query is empty."), 0)


def _flatten(kind: type[And] | type[Or], children: list[Node]) -> tuple[Node, ...]:
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return tuple(flat)


def _term(run: str, pos: int) -> Node:
    """An unquoted term: one word or prefix, or a phrase if punctuation splits it."""
    units = _units(run, pos)
    if not units:
        raise QueryError(N_("“{text}” has no letters or digits to search for."), pos, text=run)
    if len(units) == 1:
        return units[0]
    return Phrase(_phrase_items(units), pos)


def _phrase(content: str, pos: int) -> Node:
    items = _phrase_items(_units(content, pos + 1))
    if not items:
        raise QueryError(N_("The phrase is empty."), pos)
    return items[0] if len(items) == 1 else Phrase(items, pos)


def _units(run: str, offset: int) -> list[Word | Prefix]:
    """The words of ``run`` as terms; ``offset`` is where ``run`` starts in the query."""
    terms: list[Word | Prefix] = []
    star_ends: set[int] = set()
    for match in _WORD_RE.finditer(run):
        word = normalize(match.group())
        if run.startswith("*", match.end()):
            star_ends.add(match.end())
            if len(word) < MIN_PREFIX:
                raise _too_broad(offset + match.start())
            if match.end() + 1 < len(run) and _WORD_RE.match(run, match.end() + 1):
                raise QueryError(N_("A wildcard can only end a word."), offset + match.end())
            terms.append(Prefix(word, offset + match.start()))
        else:
            terms.append(Word(word, offset + match.start()))
    for at, char in enumerate(run):
        if char == "*" and at not in star_ends:
            raise _too_broad(offset + at)
    return terms


def _too_broad(position: int) -> QueryError:
    return QueryError(
        N_("A wildcard needs at least {min} letters before it; fewer would match too much."),
        position,
        min=MIN_PREFIX,
    )


def _phrase_items(terms: list[Word | Prefix]) -> tuple[Word | Prefix, ...]:
    """Phrase items are single words: hyphenated ones become their parts, in order."""
    items: list[Word | Prefix] = []
    for term in terms:
        parts = split_compound(term.text)
        if len(parts) == 1:
            items.append(term)
            continue
        items.extend(Word(part, term.pos) for part in parts[:-1])
        if isinstance(term, Prefix):
            if len(parts[-1]) < MIN_PREFIX:
                raise _too_broad(term.pos + len(term.text) - len(parts[-1]))
            items.append(Prefix(parts[-1], term.pos))
        else:
            items.append(Word(parts[-1], term.pos))
    return tuple(items)


def _check_term_count(node: Node) -> None:
    terms = list(_terms(node))
    if len(terms) > MAX_TERMS:
        raise QueryError(
            N_("The query has more than {limit} terms."), terms[MAX_TERMS].pos, limit=MAX_TERMS
        )


def _terms(node: Node) -> list[Term]:
    if isinstance(node, Word | Prefix):
        return [node]
    if isinstance(node, Phrase):
        return list(node.items)
    if isinstance(node, Not):
        return _terms(node.child)
    return [term for child in node.children for term in _terms(child)]


def _uncovered_position(node: Node) -> int | None:
    """Where a negation leaves the query true for texts without any of its words, if any."""
    if isinstance(node, Word | Prefix | Phrase):
        return None
    if isinstance(node, Not):
        return node.pos
    positions = [_uncovered_position(child) for child in node.children]
    if isinstance(node, And) and None in positions:
        return None
    return next((pos for pos in positions if pos is not None), None)


def unparse(node: Node) -> str:
    """The query text for a tree; ``parse(unparse(node)) == node``."""
    if isinstance(node, Word):
        return f'"{node.text}"' if node.text in _ENGLISH_OPERATORS else node.text
    if isinstance(node, Prefix):
        return f"{node.text}*"
    if isinstance(node, Phrase):
        return '"' + " ".join(unparse(item).strip('"') for item in node.items) + '"'
    if isinstance(node, Not):
        return "NOT " + _grouped(node.child, Not)
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(_grouped(child, type(node)) for child in node.children)


def _grouped(node: Node, parent: type[Node]) -> str:
    binds_looser = isinstance(node, Or) or (isinstance(node, And) and parent is Not)
    text = unparse(node)
    return f"({text})" if binds_looser else text


def format_error(query: str, error: QueryError, *, message: str | None = None) -> str:
    """The query line with the problem, a ``^`` under it, then the (translated) message.

    Long lines are cut to a window around the position so the caret stays on screen.
    """
    query = _nfc(query)
    position = max(0, min(error.position, len(query)))
    start = query.rfind("\n", 0, position) + 1
    end = query.find("\n", position)
    line = query[start : end if end >= 0 else len(query)]
    column = position - start
    if len(line) > _CARET_WINDOW:
        left = max(0, min(column - _CARET_WINDOW // 2, len(line) - _CARET_WINDOW))
        head = "…" if left else ""
        tail = "…" if left + _CARET_WINDOW < len(line) else ""
        line = head + line[left : left + _CARET_WINDOW] + tail
        column = column - left + len(head)
    padding = "".join(char if char == "\t" else " " for char in line[:column])
    return f"{line}\n{padding}^ {message if message is not None else error}"
