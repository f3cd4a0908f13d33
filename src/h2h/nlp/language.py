"""Language of a message: ``ru``, ``en``, ``uk`` or ``other`` (None when there are no letters).

The script decides most cases for free; lingua only arbitrates where the script cannot
(Cyrillic with Ukrainian letters, Latin text that may not be English). Short texts keep
the script's majority language: a lingua guess on three words is noise.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

SUPPORTED = ("ru", "en", "uk")
OTHER = "other"
_MIN_LETTERS_FOR_OTHER = 20  # below this, Latin text is English and Cyrillic text Russian
_CONFIDENT = 0.8

_CYRILLIC = re.compile(r"[а-яёА-ЯЁіїєґІЇЄҐўЎқғңүұһәөҚҒҢҮҰҺӘӨ]")
_LATIN = re.compile(r"[a-zA-Z]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_OTHER_CYRILLIC = re.compile(r"[ўЎқғңүұһәөҚҒҢҮҰҺӘӨ]")  # Belarusian, Kazakh and neighbours


def detect(text: str) -> str | None:
    """The language code of ``text``; ``None`` when it has no letters to judge by."""
    sample = _PLACEHOLDERS.sub(" ", text[:2000])
    cyrillic = len(_CYRILLIC.findall(sample))
    latin = len(_LATIN.findall(sample))
    if not cyrillic and not latin:
        return OTHER if any(ch.isalpha() for ch in sample) else None
    if cyrillic >= latin:
        if _OTHER_CYRILLIC.search(sample) and cyrillic >= _MIN_LETTERS_FOR_OTHER:
            return _arbitrate(sample, "ru", ("ru", "uk", OTHER))
        if _UKRAINIAN_ONLY.search(sample):
            return _arbitrate(
                sample, "uk" if cyrillic < _MIN_LETTERS_FOR_OTHER else "ru", ("ru", "uk")
            )
        return "ru"
    if latin < _MIN_LETTERS_FOR_OTHER or _ENGLISH_WORDS.search(sample):
        return "en"
    return _arbitrate(sample, "en", ("en", OTHER))


def _arbitrate(text: str, default: str, allowed: tuple[str, ...]) -> str:
    """Lingua's choice among ``allowed`` when it is confident, else ``default``."""
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return default
    best = values[0]
    code = _CODES.get(best.language.name, OTHER)
    if code not in allowed:
        code = OTHER if OTHER in allowed else default
    return code if best.value >= _CONFIDENT else default


# Function words that only English among the detector's Latin-script languages uses; one
# of them settles it without asking lingua (which costs more than the rest of the stage).
_ENGLISH_WORDS = re.compile(
    r"\b(?:the|and|you|your|my|is|are|was|have|has|with|this|that|for|not|it's|i'm|don't|"
    r"can't|please|thanks|what|when|why|how|just|from|they|we|our)\b",
    re.IGNORECASE,
)
_PLACEHOLDERS = re.compile(r"\bx(?:user|url)\b|#\w+")
_CODES = {"RUSSIAN": "ru", "ENGLISH": "en", "UKRAINIAN": "uk"}


@cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = [
        Language.RUSSIAN,
        Language.ENGLISH,
        Language.UKRAINIAN,
        Language.BELARUSIAN,
        Language.KAZAKH,
        Language.GERMAN,
        Language.FRENCH,
        Language.SPANISH,
        Language.ITALIAN,
        Language.PORTUGUESE,
        Language.TURKISH,
        Language.POLISH,
    ]
    return LanguageDetectorBuilder.from_languages(*languages).build()
