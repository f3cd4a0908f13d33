"""Names of people: a comparable key across scripts and spellings.

``name_key("Александр Петров") == name_key("Aleksandr Petrov")``: lower case, Cyrillic
transliterated to Latin, punctuation dropped. Identity resolution extends this with
diminutives and English equivalents of first names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A simple, reversible-enough Russian → Latin table (close to ICAO 9303 / passports).
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
        "я": "ia", "і": "i", "ї": "i", "є": "ie", "ґ": "g",
    }
)  # fmt: skip
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def transliterate(text: str) -> str:
    """Lower-case Latin spelling of a name written in Cyrillic (Latin passes through)."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLIT)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def name_key(name: str | None) -> str:
    """Words of a name in Latin lower case, single-spaced: what search and blocking compare."""
    if not name:
        return ""
    return " ".join(_NOT_WORD.sub(" ", transliterate(name)).split())[:300]


# --- comparing names across spellings, diminutives and languages --------------------------------

_FOLDS = (
    ("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("x", "ks"), ("kh", "h"), ("tz", "c"),
    ("ts", "c"), ("ck", "k"), ("ph", "f"), ("w", "v"), ("q", "k"), ("y", "i"), ("j", "i"),
)  # fmt: skip
_GLIDES = (("iu", "u"), ("ia", "a"), ("ie", "e"), ("io", "e"))
_DOUBLE = re.compile(r"(.)\1+")
_PATRONYMIC = re.compile(r"(vich|vna|ichna|ich)$")


@lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """One spelling for the ways a Russian name is written in Latin letters.

    "Iuliia", "Yulia" and "Julia" fold alike, as do "Tsvetkov"/"Cvetkov", "Kovalyov"/
    "Kovalev" and "Dostoyevsky"/"Dostoevskii". A glide at the start of a word is kept, so
    that "Yana" does not fold into "Anna".
    """
    text = transliterate(word)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = _DOUBLE.sub(r"\1", text)
    head, rest = text[:2], text[2:]
    for old, new in _GLIDES:
        rest = rest.replace(old, new)
    text = _DOUBLE.sub(r"\1", head + rest)
    if text.endswith(("of", "ef")):
        text = text[:-1] + "v"
    return text


def _first_name_table() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    from h2h.people.first_names import FIRST_NAMES

    forms: dict[str, set[str]] = {}
    display: dict[str, str] = {}
    for line in FIRST_NAMES.strip().splitlines():
        full, _, variants = line.partition(":")
        canonical = fold(full.strip())
        display[canonical] = full.strip()
        for variant in [full, *variants.split(",")]:
            for word in name_key(variant).split():
                forms.setdefault(fold(word), set()).add(canonical)
    return {k: frozenset(v) for k, v in forms.items()}, display


FIRST_NAME_FORMS, FIRST_NAME_DISPLAY = _first_name_table()


def first_name_forms(word: str) -> frozenset[str]:
    """The full first names a word may stand for ("sasha" → Александр, Александра); or none."""
    return FIRST_NAME_FORMS.get(fold(word), frozenset())


@dataclass(frozen=True)
class NameParts:
    """A person's name as identity resolution compares it."""

    firsts: frozenset[str]  # canonical full first names it may be (folded), else the folded word
    last: str | None  # folded last name, when the name has one
    initial: str | None  # "a" for "A. Ivanov"
    known_first: bool  # the first name is in the table (so two different ones disagree)

    @property
    def full(self) -> bool:
        return bool(self.firsts) and self.last is not None


@lru_cache(maxsize=200_000)  # resolution asks for the same names again and again
def name_parts(
    name: str | None, first_name: str | None = None, last_name: str | None = None
) -> NameParts:
    """First and last name of a person, from the fields staff filled or else from the name."""
    first_words = name_key(first_name).split()
    last_words = name_key(last_name).split()
    if first_words and last_words:
        return _parts(first_words[0], last_words[-1])
    words = name_key(name).split()
    if len(words) > 2:
        words = [w for w in words if not _PATRONYMIC.search(w)] or words
    if not words:
        return NameParts(frozenset(), None, None, False)
    if len(words) == 1:
        forms = first_name_forms(words[0])
        return NameParts(forms or frozenset({fold(words[0])}), None, None, bool(forms))
    a, b = words[0], words[-1]
    if len(b) == 1 and first_name_forms(a):  # "Ivan P.": a first name and a last initial
        return NameParts(first_name_forms(a), None, None, True)
    # "Иванов Александр" and "Alexander Ivanov": the word that is a known first name is it.
    if len(b) == 1 or (len(a) > 1 and not first_name_forms(a) and first_name_forms(b)):
        a, b = b, a
    return _parts(a, b)


def _parts(first: str, last: str) -> NameParts:
    if len(first) == 1:
        return NameParts(frozenset(), fold(last), first, False)
    forms = first_name_forms(first)
    firsts = forms or frozenset({fold(first)})
    initials = {f[0] for f in firsts}
    return NameParts(
        firsts, fold(last), initials.pop() if len(initials) == 1 else None, bool(forms)
    )


def block_keys(parts: NameParts) -> set[str]:
    """Keys under which persons with possibly the same name meet (see ``resolution``)."""
    if parts.last is None:
        return {f"solo:{first}" for first in parts.firsts}
    keys = {f"name:{first}|{parts.last}" for first in parts.firsts}
    keys |= {f"prefix:{first}|{parts.last[:4]}" for first in parts.firsts}
    if parts.initial:
        keys.add(f"initial:{parts.initial}|{parts.last}")
    return keys


def similarity(a: NameParts, b: NameParts) -> float:
    """0..1: how alike two names are once diminutives and spellings are set aside."""
    from rapidfuzz import fuzz

    if a.last is None or b.last is None:
        return 1.0 if a.firsts & b.firsts and a.last == b.last else 0.0
    last = fuzz.ratio(a.last, b.last) / 100
    if a.firsts & b.firsts:
        first = 1.0
    elif not a.firsts or not b.firsts:  # an initial against a first name
        first = 0.8 if a.initial and a.initial == b.initial else 0.0
    else:
        first = max(fuzz.ratio(x, y) / 100 for x in a.firsts for y in b.firsts)
    return first * 0.45 + last * 0.55


def disagree(a: NameParts, b: NameParts) -> bool:
    """Both first names are known and different: Анна and Пётр are two people."""
    return a.known_first and b.known_first and not (a.firsts & b.firsts)
