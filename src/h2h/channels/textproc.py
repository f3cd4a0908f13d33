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
_MARKUP = re.compile(r"\[(?:id|club)\d+\|([^\]]*)\]")  # VK markup [id123|Name]
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Lower-case words of a text without URLs and markup; ё folded into е."""
    text = _MARKUP.sub(r"\1", _URL.sub(" ", unicodedata.normalize("NFKC", text)))
    return [w.replace("ё", "е") for w in _WORD.findall(text.lower())]


def _signed(value: int) -> int:
    """Store 64-bit hashes in a signed BIGINT column."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _hash64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")


def text_hash(tokens: list[str]) -> int | None:
    """Exact-copy fingerprint of the normalised text (None for texts without words)."""
    return _signed(_hash64(" ".join(tokens))) if tokens else None


# MinHash over words and word pairs: 12 hash functions in 4 bands of 3. Two texts whose
# feature sets overlap by Jaccard 0.8 share a band with probability 0.94, by 0.5 with 0.41,
# by 0.3 with 0.1; candidates are then confirmed on the full signature.
MINHASH_SIZE = 12
BAND_ROWS = 3
NEAR_DUPLICATE_JACCARD = 0.6
_PRIME = (1 << 61) - 1
_COEFFICIENTS = [
    (int.from_bytes(hashlib.blake2b(f"a{i}".encode(), digest_size=8).digest(), "big") % _PRIME | 1,
     int.from_bytes(hashlib.blake2b(f"b{i}".encode(), digest_size=8).digest(), "big") % _PRIME)
    for i in range(MINHASH_SIZE)
]  # fmt: skip
_NOISE = re.compile(r"^(rt|via)$")


def features(tokens: list[str]) -> set[str]:
    """What two texts are compared on: their words and adjacent word pairs."""
    kept = [t for t in tokens if not _NOISE.match(t)]
    return set(kept) | {f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False)}


def minhash(tokens: list[str]) -> list[int] | None:
    """The MinHash signature, or None for texts too short to call a copy (under 4 words)."""
    if len(tokens) < 4:
        return None
    hashed = [_hash64(f) % _PRIME for f in features(tokens)]
    return [min((a * x + b) % _PRIME for x in hashed) for a, b in _COEFFICIENTS]


def bands(signature: list[int] | None) -> tuple[int | None, int | None, int | None, int | None]:
    """Four band keys; texts sharing any band are near-duplicate candidates."""
    if signature is None:
        return None, None, None, None
    keys = [
        _signed(_hash64(",".join(map(str, signature[i : i + BAND_ROWS]))))
        for i in range(0, MINHASH_SIZE, BAND_ROWS)
    ]
    return keys[0], keys[1], keys[2], keys[3]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def encode_signature(signature: list[int] | None) -> bytes | None:
    return b"".join(v.to_bytes(8, "big") for v in signature) if signature else None


def decode_signature(data: bytes | None) -> list[int] | None:
    if not data:
        return None
    return [int.from_bytes(data[i : i + 8], "big") for i in range(0, len(data), 8)]


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
