"""Text fingerprints for ingestion: near-duplicate hashes, a language guess, search lemmas.

Cheap, deterministic and shared by every channel. The NLP domain replaces the language
guess with a real detector; the fingerprints stay.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"\[(?:id|club)\d+\|([^\]]*)\]")  # VK markup [id123|Name]
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_MASK64 = (1 << 64) - 1


def words(text: str) -> list[str]:
    """Lower-case words of a text without URLs and markup; ё folded into е."""
    text = _MENTION.sub(r"\1", _URL.sub(" ", unicodedata.normalize("NFKC", text)))
    return [w.replace("ё", "е") for w in _WORD.findall(text.lower())]


def _signed(value: int) -> int:
    """Store 64-bit hashes in a signed BIGINT column."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _hash64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")


def text_hash(tokens: list[str]) -> int | None:
    """Exact-copy fingerprint of the normalised text (None for texts without words)."""
    return _signed(_hash64(" ".join(tokens))) if tokens else None


def simhash(tokens: list[str]) -> int | None:
    """A 64-bit SimHash over word bigrams; reposts with small edits land a few bits apart."""
    if len(tokens) < 4:  # too short to tell a repost from two people saying "спасибо"
        return None
    shingles = [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    weights = [0] * 64
    for shingle in shingles:
        value = _hash64(shingle)
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    result = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return _signed(result)


def bands(signature: int | None) -> tuple[int | None, int | None, int | None, int | None]:
    """Four 16-bit bands: texts within 3 differing bits share at least one band exactly."""
    if signature is None:
        return None, None, None, None
    value = signature & _MASK64
    return tuple(value >> shift & 0xFFFF for shift in (0, 16, 32, 48))  # type: ignore[return-value]


def hamming(a: int, b: int) -> int:
    return ((a & _MASK64) ^ (b & _MASK64)).bit_count()


def guess_language(text: str) -> str | None:
    """A script-based guess (ru / en) until the NLP pipeline sets the real language."""
    cyrillic, latin = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    if cyrillic == latin == 0:
        return None
    return "ru" if cyrillic >= latin else "en"


@lru_cache(maxsize=200_000)
def _lemma(word: str) -> str:
    if not _CYRILLIC.search(word):
        return word
    from h2h.subjects.morph import normal_form

    return normal_form(word)


def search_text(tokens: list[str]) -> str:
    """What full-text search indexes: each word's lemma, so word forms find each other."""
    return " ".join(_lemma(w) for w in tokens)


def search_terms(query: str) -> list[str]:
    """The lemmas of a search box query, to match against ``search_text``."""
    return [_lemma(w) for w in words(query)]
