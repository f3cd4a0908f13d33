"""Complaint text → a fixed vector, and readable key phrases for a problem's label.

Problems keep their centroids for months, so the vector space must not depend on the
workspace or drift as data grows: it is fixed, shipped in the package and versioned by
``SPACE_VERSION`` (stored with each centroid; problems compare only within one space).

- **English** (``space "en"``): a static word table distilled from all-MiniLM-L6-v2 (every
  vocabulary word embedded once through the model at training time, PCA to ``DIM``, the
  model2vec idea), so run time needs numpy only. Built by ``h2h.problems.train``.
- **Russian** (``space "ru"``): Navec (already a dependency) projected to ``DIM`` by a
  shipped PCA.
- Both: SIF weighting (a word counts ``a / (a + p(word))``, so frequent words fade) and the
  corpus' common direction removed, then L2-normalised. See docs/problems/clustering.md for
  why this beat TF-IDF + LSA and what it measured.

Handles (``@name``) and URLs are dropped; so is everything in ``ignore`` — the workspace's
own brand names and handles, otherwise clusters follow *which brand was addressed* instead
of *what went wrong*.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

SPACE_VERSION = "sif-1"
DIM = 256
DATA = Path(__file__).parent / "data"
SIF_A = 1e-3  # the SIF paper's default smoothing; larger flattens the weights
MAX_CHARS = 5_000  # a complaint states its point early; bounds the cost of huge texts

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,64}")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_CYRILLIC = re.compile(r"[а-я]")


def space_of(language: str | None) -> str:
    """The vector space of a text in ``language``: ``"ru"`` for Russian, else ``"en"``."""
    return "ru" if (language or "").lower().split("-")[0] == "ru" else "en"


def words(text: str, ignore: frozenset[str] = frozenset()) -> list[str]:
    """Lower-cased words (letters only) without URLs, handles and ``ignore`` words."""
    text = text[:MAX_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).lower().replace("ё", "е").replace("’", "'")
    else:
        text = text.lower()
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    found = _WORD.findall(text)
    if not ignore:
        return found
    return [w for w in found if w not in ignore and w.removesuffix("'s") not in ignore]


def ignore_set(ignore: Iterable[str]) -> frozenset[str]:
    """Words to drop for these names/handles: ``"@AmericanAir"`` → ``americanair``, and
    each word of a multi-word name (``"American Airlines"`` → ``american``, ``airlines``);
    Russian names also in their inflected forms that share a lemma (``Сбербанка``)."""
    out: set[str] = set()
    for item in ignore:
        for word in words(item.replace("@", " ")):
            out.add(word)
            if _CYRILLIC.search(word):
                out.update(_russian_forms(word))
    return frozenset(out)


def _russian_forms(word: str) -> set[str]:
    parses = _morph().parse(word)
    forms: set[str] = set()
    for parse in parses[:1]:
        forms.update(form.word.replace("ё", "е") for form in parse.lexeme)
    return forms


@dataclass(frozen=True, slots=True)
class _Table:
    """One space's words → rows of ``vectors`` (already SIF-weighted), minus ``common``."""

    ids: dict[str, int]
    vectors: NDArray[np.float32]  # (V, DIM)
    common: NDArray[np.float32]  # (DIM,) unit vector of the corpus' common direction


_lock = threading.Lock()


@cache
def _table(space: str) -> _Table:
    with _lock:
        return _load_en() if space == "en" else _load_ru()


def _load_en() -> _Table:
    with np.load(DATA / "en.npz", allow_pickle=False) as arrays:
        vectors = arrays["vectors"].astype(np.float32) * arrays["weights"][:, None]
        common = arrays["common"].astype(np.float32)
    vocab = (DATA / "en.vocab.txt").read_text(encoding="utf-8").split("\n")
    return _Table({w: i for i, w in enumerate(vocab)}, vectors, common)


def _load_ru() -> _Table:
    from h2h.nlp.entities import navec

    table = navec()
    pq = table.pq
    with np.load(DATA / "ru.npz", allow_pickle=False) as arrays:
        projection = arrays["projection"].astype(np.float32)
        mean = arrays["mean"].astype(np.float32)
        common = arrays["common"].astype(np.float32)
    counts = np.asarray(table.vocab.counts, dtype=np.float64)
    weights = SIF_A / (SIF_A + counts / counts.sum())
    vectors = np.empty((len(table.vocab.words), DIM), dtype=np.float32)
    step = 20_000  # dequantise in slices: the full 300-d float table would be 300 MB
    for start in range(0, len(vectors), step):
        rows = np.arange(start, min(start + step, len(vectors)))
        raw = pq.codes[pq.qdims, pq.indexes[rows]].reshape(len(rows), -1)
        vectors[rows] = ((raw - mean) @ projection) * weights[rows, None].astype(np.float32)
    ids = {w.replace("ё", "е"): i for i, w in enumerate(table.vocab.words) if w[0] != "<"}
    return _Table(ids, vectors, common)


def embed(
    texts: Sequence[str], *, language: str | None, ignore: Iterable[str] = ()
) -> NDArray[np.float32]:
    """(len(texts), DIM) unit rows; an all-zero row for a text with no known word."""
    table = _table(space_of(language))
    drop = ignore_set(ignore)
    ids_of = table.ids.get
    ids: list[int] = []
    owners: list[int] = []
    for row, text in enumerate(texts):
        found = [i for i in map(ids_of, words(text, drop)) if i is not None]
        ids += found
        owners += [row] * len(found)
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not ids:
        return out
    rows = np.asarray(owners)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    out[rows[starts]] = np.add.reduceat(table.vectors[np.asarray(ids)], starts, axis=0)
    out -= np.outer(out @ table.common, table.common)
    return normalize_rows(out)


def normalize_rows(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows scaled to unit length; zero (or vanishing) rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    safe = np.where(norms > 1e-6, norms, np.inf)
    return np.asarray(vectors / safe, dtype=np.float32)


def representative(
    vectors: NDArray[np.float32], centroid: NDArray[np.float32], k: int = 3
) -> list[int]:
    """Indices of up to ``k`` members nearest the centroid, skipping near-duplicates."""
    similarity = vectors @ centroid
    picked: list[int] = []
    for index in np.argsort(-similarity, kind="stable"):
        candidate = vectors[index]
        if not candidate.any() and len(picked) < len(vectors) - 1:
            continue  # a text without usable words says nothing about the problem
        if all(float(candidate @ vectors[p]) < 0.95 for p in picked):
            picked.append(int(index))
        if len(picked) == k:
            break
    return picked


# --- key phrases -------------------------------------------------------------------------

_RU_SKIP_POS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "PRED", "NUMR", "Apro"})
_RU_STOP_LEMMAS = frozenset(
    {"быть", "есть", "мочь", "стать", "только", "еще", "уже", "вообще", "очень", "там", "тут"}
    | {"так", "как", "весь", "это", "этот", "который", "свой", "такой", "просто", "сейчас"}
    | {"когда", "где", "почему", "зачем", "тоже", "также", "всегда", "опять", "снова", "хотеть"}
)


@cache
def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    extra = {"just", "like", "get", "got", "im", "i'm", "don't", "can't", "didn't", "it's"}
    extra |= {"amp", "thanks", "thank", "pls", "please", "yes", "ok", "really", "u", "hi"}
    return frozenset(ENGLISH_STOP_WORDS | extra)


_morph_lock = threading.Lock()


@cache
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=50_000)
def _russian_term(word: str) -> str | None:
    """The most probable lemma of a Russian word, or None for function words."""
    with _morph_lock:
        parse = _morph().parse(word)[0]
    tag = parse.tag
    lemma = str(parse.normal_form).replace("ё", "е")
    if tag.POS in _RU_SKIP_POS or "Apro" in tag or len(word) < 3 or lemma in _RU_STOP_LEMMAS:
        return None
    return lemma


def _english_term(word: str) -> str | None:
    if word in _english_stop_words() or len(word) < 3:
        return None
    from h2h.subjects.text import english_forms

    return min(english_forms(word), key=lambda form: (len(form), form))


def _terms(text: str, russian: bool, drop: frozenset[str]) -> dict[str, str]:
    """A text's distinct words and two-word phrases: lemma form → the form as written."""
    term = _russian_term if russian else _english_term
    written = words(text, drop)
    lemmas = [term(w) if (russian == bool(_CYRILLIC.search(w))) else None for w in written]
    found = {lemma: word for lemma, word in zip(lemmas, written, strict=True) if lemma}
    for i in range(len(lemmas) - 1):
        a, b = lemmas[i], lemmas[i + 1]
        if a and b and a != b:
            found.setdefault(f"{a} {b}", f"{written[i]} {written[i + 1]}")
    return found


def key_phrases(
    texts: Sequence[str],
    *,
    language: str | None,
    background: Sequence[str] = (),
    ignore: Iterable[str] = (),
    limit: int = 5,
) -> list[str]:
    """Words and two-word phrases frequent in ``texts`` and, given ``background``, rarer there.

    Terms are counted by lemma (``опоздал``, ``опоздание`` … are one for Russian) and shown
    in the form the members wrote most often, which reads better than a dictionary form.
    """
    russian = space_of(language) == "ru"
    drop = ignore_set(ignore)
    inside: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    for text in texts:
        for lemma, surface in _terms(text, russian, drop).items():
            inside[lemma] += 1
            shown.setdefault(lemma, Counter())[surface.lower()] += 1
    outside = Counter(t for text in background for t in _terms(text, russian, drop))
    n_in, n_out = max(len(texts), 1), max(len(background), 1)
    least = 2 if len(texts) >= 4 else 1

    def score(term: str) -> float:
        share = inside[term] / n_in
        lift = math.log((share + 0.01) / (outside[term] / n_out + 0.01)) if background else 1.0
        bonus = 1.2 if " " in term else 1.0  # a phrase reads better than its two words
        return share * max(lift, 0.0) * bonus

    ranked = sorted((t for t, c in inside.items() if c >= least), key=lambda t: (-score(t), t))
    chosen: list[str] = []
    for term in ranked:
        if score(term) <= 0:
            break
        if any(_overlaps(term, other) for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == limit:
            break
    return [shown[term].most_common(1)[0][0] for term in chosen]


def _overlaps(term: str, other: str) -> bool:
    mine, theirs = set(term.split()), set(other.split())
    return bool(mine & theirs)


def space_info() -> dict[str, Any]:
    """What the shipped space was trained from (read from ``data/meta.json``)."""
    info: dict[str, Any] = json.loads((DATA / "meta.json").read_text(encoding="utf-8"))
    return info
