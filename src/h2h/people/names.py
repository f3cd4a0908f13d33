"""Names of people: a comparable key across scripts and spellings.

``name_key("Александр Петров") == name_key("Aleksandr Petrov")``: lower case, Cyrillic
transliterated to Latin, punctuation dropped. Identity resolution extends this with
diminutives and English equivalents of first names.
"""

from __future__ import annotations

import re
import unicodedata

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
