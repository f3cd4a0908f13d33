"""Text analysis for subject matching: words, their lemmas, and a cache that makes it fast.

How a text becomes words (the same rules apply to the words of a query, so the two agree):

- Case is ignored, ``ё`` is ``е``, text is NFC-normalised and the typographic apostrophe
  ``’`` is ``'``.
- A word is a run of letters and digits (Cyrillic, Latin, any script); an apostrophe
  between letters stays inside it (``don't``, ``mcdonald's``).
- A hyphenated or underscored word (``интернет-магазина``, ``american_air``) gives its
  parts as consecutive words, so ``магазин`` and the phrase ``"интернет магазин"`` find
  it, and the whole word as well (lemmatised whole, as pymorphy3 knows many compounds), so
  the query word ``интернет-магазин`` finds every inflection of the hyphenated spelling.
- Hashtags and mentions lose their ``#`` / ``@`` and are ordinary words: ``#Сбербанк`` is
  ``сбербанк``. CamelCase hashtags are not split: ``#СберБанкОнлайн`` is one word.
- A URL keeps only its host name, as words without ``www``: ``https://www.ozon.ru/p/1?x``
  reads as ``ozon ru``, like the bare domain ``ozon.ru`` does. Paths and query strings are
  ids and tracking noise that would only make false matches.

Lemmas of a word, compared as sets (a query word matches a text word sharing one lemma):

- Words with Cyrillic letters: every normal form pymorphy3 offers, including its guesses
  for unknown words (``Зерном`` -> ``зерно``, ``Яндекса`` -> ``яндекс``).
- Latin-only words: see :func:`english_forms`.
- Anything else (numbers, ``iphone15``): the word itself.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any

# Words as written, and tokens: each cache up to this many entries, ~0.8 KB per word
# (measured), so ~80 MB when full. A stream's frequent words fit easily; rarer ones are
# looked up again.
CACHE_SIZE = 100_000

WORD_PATTERN = r"[^\W_]+(?:['’][^\W_]+)*(?:[-_][^\W_]+(?:['’][^\W_]+)*)*"
"""One unit of text: a word, possibly apostrophed, hyphenated or underscored."""

_UNIT_RE = re.compile(WORD_PATTERN)
_JOINER_RE = re.compile(r"[-_]")
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+")
_HOST_END_RE = re.compile(r"[/?#:]")
_CYRILLIC_RE = re.compile(r"[а-яё]")
_LATIN_WORD_RE = re.compile(r"[a-z]+(?:[-_'][a-z]+)*")

# Words ending in "s" that are not plurals and are common enough in customer messages to
# cause a visible false match ("news" would match "new").
_NOT_PLURALS = frozenset(
    {"news", "series", "species", "does", "goes", "always", "perhaps", "sometimes", "whereas"}
    | {"lens", "canvas", "atlas", "bias", "christmas", "analysis", "yes", "thanks"}
)


@dataclass(frozen=True, slots=True)
class Token:
    """A word as it appears in a text (normalised) and the set of its lemmas."""

    surface: str
    lemmas: frozenset[str]


class AnalyzedText:
    """A text ready to be matched: its words in order and every lemma found in it."""

    __slots__ = ("tokens", "compounds", "lemmas", "_vocabulary")

    def __init__(self, tokens: tuple[Token, ...], compounds: tuple[Token, ...] = ()) -> None:
        self.tokens = tokens
        """Words in text order; a hyphenated word is here as its parts."""
        self.compounds = compounds
        """Hyphenated words kept whole; they hold no position of their own."""
        self.lemmas: frozenset[str] = frozenset().union(
            *map(_LEMMAS, tokens), *map(_LEMMAS, compounds)
        )
        self._vocabulary: tuple[str, ...] | None = None

    @property
    def surfaces(self) -> list[str]:
        return [t.surface for t in self.tokens]

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Every surface form and lemma in the text, sorted, for prefix search."""
        if self._vocabulary is None:
            words = {t.surface for t in self.tokens}
            words.update(c.surface for c in self.compounds)
            self._vocabulary = tuple(sorted(words.union(self.lemmas)))
        return self._vocabulary

    def has_prefix(self, prefix: str) -> bool:
        """Whether a word of the text, as written or as a lemma, starts with ``prefix``."""
        vocabulary = self.vocabulary
        at = bisect_left(vocabulary, prefix)
        return at < len(vocabulary) and vocabulary[at].startswith(prefix)

    def __repr__(self) -> str:
        return f"AnalyzedText({' '.join(self.surfaces)!r})"


_LEMMAS = attrgetter("lemmas")


def normalize(text: str) -> str:
    """Lower case, ``ё`` as ``е``, one apostrophe, NFC, and URLs reduced to their host."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = text.lower().replace("ё", "е").replace("’", "'")
    else:
        text = text.lower()
    if "://" in text or "www." in text:
        text = _URL_RE.sub(_url_host_words, text)
    return text


def _url_host_words(match: re.Match[str]) -> str:
    rest = match.group().split("://", 1)[-1]
    host = _HOST_END_RE.split(rest.rsplit("@", 1)[-1], maxsplit=1)[0]
    return " " + " ".join(label for label in host.split(".") if label and label != "www") + " "


def analyze(text: str) -> AnalyzedText:
    """Split ``text`` into words and look up their lemmas (cached per distinct word)."""
    normalized = normalize(text)
    found = _UNIT_RE.findall(normalized)
    # The per-message loop runs in C (map, chain); this is the hot path of all matching.
    tokens = tuple(chain.from_iterable(map(_unit, found)))
    if "-" not in normalized and "_" not in normalized:
        return AnalyzedText(tokens)
    return AnalyzedText(tokens, tuple(token(unit) for unit in found if _JOINER_RE.search(unit)))


@lru_cache(maxsize=CACHE_SIZE)
def _unit(unit: str) -> tuple[Token, ...]:
    """The positional tokens of one word as written: itself, or its hyphenated parts."""
    if "-" not in unit and "_" not in unit:
        return (token(unit),)
    return tuple(token(part) for part in _JOINER_RE.split(unit))


def split_compound(word: str) -> list[str]:
    """The parts of a hyphenated or underscored word (the word itself if it has none)."""
    return _JOINER_RE.split(word)


@lru_cache(maxsize=CACHE_SIZE)
def token(word: str) -> Token:
    """The token for one normalised word, with its lemmas; cached."""
    # Interned: the inflections of a word share its lemmas, and the cache holds up to
    # CACHE_SIZE words.
    return Token(word, frozenset(map(sys.intern, _lemmas(word))))


def word_lemmas(word: str) -> frozenset[str]:
    """The lemmas of one normalised word (cached)."""
    return token(word).lemmas


def _lemmas(word: str) -> frozenset[str]:
    if _CYRILLIC_RE.search(word):
        return _russian_lemmas(word)
    if _LATIN_WORD_RE.fullmatch(word):
        return english_forms(word)
    return frozenset((word,))


def english_forms(word: str) -> frozenset[str]:
    """The word and its light normalisations; two English words match if these intersect.

    Deliberately predictable rather than clever (no stemmer, no dictionary):

    - a possessive ``'s`` is dropped: ``united's`` -> ``united``;
    - a word of four or more letters ending in ``s`` (but not ``ss``, ``us``, ``is``, nor a
      few common non-plurals such as ``news``) also gives its singular candidates:
      without the ``s`` (``flights`` -> ``flight``), ``-ies`` -> ``-y``
      (``deliveries`` -> ``delivery``) and ``-es`` dropped after ``s, x, z, ch, sh``
      (``boxes`` -> ``box``). Candidates shorter than three letters are not added.

    The same forms are computed for query words and text words, so ``delivery`` finds
    ``deliveries`` and ``deliveries`` finds ``delivery``.
    """
    forms = {word}
    base = word
    if base.endswith("'s"):
        base = base[:-2]
        forms.add(base)
    if (
        len(base) >= 4
        and base.endswith("s")
        and not base.endswith(("ss", "us", "is"))
        and base not in _NOT_PLURALS
    ):
        forms.add(base[:-1])
        if base.endswith("ies"):
            forms.add(base[:-3] + "y")
        elif base.endswith("es") and base[:-2].endswith(("s", "x", "z", "ch", "sh")):
            forms.add(base[:-2])
    return frozenset(form for form in forms if len(form) >= 3 or form == word)


_morph_lock = threading.Lock()
_morph: Any = None


def _russian_lemmas(word: str) -> frozenset[str]:
    # pymorphy3 keeps no documented thread-safety promise; misses are rare once the
    # cache is warm, so a lock costs nothing measurable.
    with _morph_lock:
        parses = _analyzer().parse(word)
    lemmas = frozenset(parse[2].replace("ё", "е") for parse in parses)
    return lemmas or frozenset((word,))


def _analyzer() -> Any:
    global _morph
    if _morph is None:
        import pymorphy3

        # Without the probability estimator a lookup is ~2.5x faster; it only reorders
        # parses, and we use all of their normal forms anyway. Tuples instead of Parse
        # objects save a little more.
        _morph = pymorphy3.MorphAnalyzer(probability_estimator_cls=None, result_type=None)
    return _morph


def clear_cache() -> None:
    """Forget every cached word (benchmarks measure a cold start with it)."""
    _unit.cache_clear()
    token.cache_clear()


def cache_info() -> dict[str, int]:
    """Hits, misses and size of the cache of words as written, for benchmarks and monitoring."""
    info = _unit.cache_info()
    return {"hits": info.hits, "misses": info.misses, "size": info.currsize}
