"""A second opinion for Russian sentiment: a small MLP over Navec word vectors.

TF-IDF only knows words it saw in training; Navec (Natasha's embeddings, shipped in the
natasha wheel) places unseen words near seen ones. Its mean- and max-pooled vectors feed a
one-hidden-layer MLP whose log-probabilities are blended with the logistic regression's.
Inference is plain numpy; the weights are stored beside the TF-IDF model's arrays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

_WORD = re.compile(r"\w+")
DIM = 300


def pooled(lowered: Sequence[str]) -> NDArray[np.float32]:
    """Mean and max of the Navec vectors of each text's known words (zeros when none)."""
    from h2h.nlp.entities import navec

    vectors = navec()
    ids_of = vectors.vocab.word_ids
    ids: list[int] = []
    owners: list[int] = []
    for row, text in enumerate(lowered):
        found = [i for i in map(ids_of.get, _WORD.findall(text)) if i is not None]
        ids += found
        owners += [row] * len(found)
    out = np.zeros((len(lowered), 2 * DIM), dtype=np.float32)
    if not ids:
        return out
    pq = vectors.pq
    words = pq.codes[pq.qdims, pq.indexes[np.asarray(ids)]].reshape(len(ids), DIM)
    rows = np.asarray(owners)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    present = rows[starts]
    counts = np.diff(np.r_[starts, len(rows)])
    out[present, :DIM] = np.add.reduceat(words, starts, axis=0) / counts[:, None]
    out[present, DIM:] = np.maximum.reduceat(words, starts, axis=0)
    return out


@dataclass(slots=True)
class MlpHead:
    """ReLU hidden layer → softmax over the model's classes."""

    w1: NDArray[np.float32]
    b1: NDArray[np.float32]
    w2: NDArray[np.float32]
    b2: NDArray[np.float32]

    def log_proba(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        hidden = np.maximum(features @ self.w1 + self.b1, 0)
        logits: NDArray[np.float64] = np.asarray(hidden @ self.w2 + self.b2, dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logits

    @classmethod
    def fit(cls, features: NDArray[np.float32], labels: Any, seed: int) -> MlpHead:
        """Train with scikit-learn (early stopping on 10% of the data), keep the weights."""
        from sklearn.neural_network import MLPClassifier

        mlp = MLPClassifier(
            hidden_layer_sizes=(256,),
            alpha=1e-3,
            early_stopping=True,
            random_state=seed,
            max_iter=200,
        )
        mlp.fit(features, labels)
        w1, w2 = (np.asarray(w, dtype=np.float32) for w in mlp.coefs_)
        b1, b2 = (np.asarray(b, dtype=np.float32) for b in mlp.intercepts_)
        return cls(w1, b1, w2, b2)

    def arrays(self) -> dict[str, NDArray[np.float32]]:
        return {"mlp_w1": self.w1, "mlp_b1": self.b1, "mlp_w2": self.w2, "mlp_b2": self.b2}
