"""Text fingerprints for ingestion: near-duplicate hashes, a language guess, search lemmas.

Cheap, deterministic and shared by every channel. The NLP domain replaces the language
guess with a real detector; the fingerprints stay.
"""

from __future__ import annotations

import hashlib
import operator
import re
import struct
import unicodedata

from h2h.subjects.text import word_lemmas

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
    """Exact-copy fingerprint of the normalised text.

    None under four words: two people writing "Спасибо!" are two voices, not a repost.
    """
    return _signed(_hash64(" ".join(tokens))) if len(tokens) >= MIN_WORDS else None


# MinHash over words and word pairs: 12 hash functions in 4 bands of 3. Two texts whose
# feature sets overlap by Jaccard 0.8 share a band with probability 0.94, by 0.5 with 0.41,
# by 0.3 with 0.1; candidates are then confirmed on the full signature.
MIN_WORDS = 4
MINHASH_SIZE = 12
BAND_ROWS = 3
NEAR_DUPLICATE_JACCARD = 0.6
_NOISE = re.compile(r"^(rt|via)$")
_UNPACK = struct.Struct(f">{MINHASH_SIZE}I").unpack


def features(tokens: list[str]) -> set[str]:
    """What two texts are compared on: their words and adjacent word pairs."""
    kept = [t for t in tokens if not _NOISE.match(t)]
    return set(kept) | {f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False)}


def minhash(tokens: list[str]) -> list[int] | None:
    """The MinHash signature, or None for texts too short to call a copy.

    Each feature is hashed once into twelve independent 32-bit values (one 48-byte BLAKE2b
    digest); the signature is their element-wise minimum over all features.
    """
    if len(tokens) < MIN_WORDS:
        return None
    digests = [
        _UNPACK(hashlib.blake2b(f.encode(), digest_size=4 * MINHASH_SIZE).digest())
        for f in features(tokens)
    ]
    return [min(column) for column in zip(*digests, strict=True)]


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
    same: int = sum(map(operator.eq, a, b))
    return same / len(a)


def encode_signature(signature: list[int] | None) -> bytes | None:
    return struct.pack(f">{len(signature)}I", *signature) if signature else None


def decode_signature(data: bytes | None) -> list[int] | None:
    if not data:
        return None
    return list(struct.unpack(f">{len(data) // 4}I", data))


def guess_language(text: str) -> str | None:
    """A script-based guess (ru / en) until the NLP pipeline sets the real language."""
    sample = text[:400]  # enough to tell the script; long texts cost no more
    cyrillic, latin = len(_CYRILLIC.findall(sample)), len(_LATIN.findall(sample))
    if cyrillic == latin == 0:
        return None
    return "ru" if cyrillic >= latin else "en"


def search_text(tokens: list[str]) -> str:
    """What full-text search indexes: every lemma of every word, so word forms find each other.

    Lemmas come from the same analysis subject matching uses (h2h.subjects.text).
    """
    return " ".join(" ".join(sorted(word_lemmas(w))) for w in tokens)


def search_terms(query: str) -> list[list[str]]:
    """For each word of a search box query, the lemmas any of which may match."""
    return [sorted(word_lemmas(w)) for w in words(query)]
