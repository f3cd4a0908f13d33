"""One shared pymorphy3 analyzer (loading its dictionaries takes a while and memory)."""

from __future__ import annotations

import threading
from functools import lru_cache

import pymorphy3

_lock = threading.Lock()
_analyzer: pymorphy3.MorphAnalyzer | None = None


def analyzer() -> pymorphy3.MorphAnalyzer:
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                _analyzer = pymorphy3.MorphAnalyzer(lang="ru")
    return _analyzer


@lru_cache(maxsize=200_000)
def normal_form(word: str) -> str:
    """The most likely lemma of a Russian word (the word itself if pymorphy has no idea)."""
    parses = analyzer().parse(word)
    return str(parses[0].normal_form) if parses else word
