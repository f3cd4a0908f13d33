"""Learned yes/no heads on the sentiment model's TF-IDF rows (a threat head, for now).

A head is a logistic regression over the features the sentiment stage already computed, so
it costs one sparse dot product per text. It backs up the threat rules: the rules need a
known lever word and a known way of pulling it; the head learnt from the wording of many
threats and catches phrasings nobody wrote a rule for. Its threshold is chosen on
out-of-fold predictions, for precision first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from h2h.nlp.sentiment import ModelError, SentimentModel

MIN_PRECISION = 0.9  # the threshold keeps out-of-fold precision at least this high


@dataclass(slots=True)
class BinaryHead:
    name: str
    coef: NDArray[np.float32]
    intercept: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def proba(self, rows: csr_matrix) -> NDArray[np.float64]:
        """Probability of the label for each row of the sentiment model's features."""
        z = np.asarray(rows @ self.coef, dtype=np.float64).ravel() + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def cues(self, rows: csr_matrix, index: int, model: SentimentModel, top: int = 3) -> list[str]:
        """The word n-grams of one row of ``model``'s features that pushed it most."""
        indices, data = model.word_entries(rows, index)
        weights = self.coef[indices] * data
        names = model.feature_names()
        return [
            str(names[indices[position]])
            for position in np.argsort(-weights)[:top]
            if weights[position] > 0
        ]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            **self.meta,
            "name": self.name,
            "intercept": self.intercept,
            "threshold": self.threshold,
        }
        (directory / "head.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        np.savez_compressed(directory / "head.npz", coef=self.coef.astype(np.float32))

    @classmethod
    def load(cls, directory: Path) -> BinaryHead:
        try:
            meta = json.loads((directory / "head.json").read_text())
            with np.load(directory / "head.npz", allow_pickle=False) as archive:
                coef = archive["coef"].astype(np.float32)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read the head in {directory}: {exc}") from exc
        return cls(meta["name"], coef, float(meta["intercept"]), float(meta["threshold"]), meta)


def train_head(
    name: str, model: SentimentModel, texts: Sequence[str], labels: Sequence[bool], seed: int
) -> tuple[BinaryHead, dict[str, float]]:
    """Fit on the model's features; the threshold from 5-fold out-of-fold probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rows = model.features(texts)
    y = np.asarray(labels, dtype=bool)
    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=seed)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    oof = cross_val_predict(clf, rows, y, cv=folds, method="predict_proba")[:, 1]
    threshold, report = _threshold(oof, y)
    clf.fit(rows, y)
    head = BinaryHead(name, clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), threshold)
    return head, report


def _threshold(scores: NDArray[np.float64], y: NDArray[np.bool_]) -> tuple[float, dict[str, float]]:
    """The lowest threshold whose out-of-fold precision is at least MIN_PRECISION."""
    best = (0.99, 0.0, 0.0)
    for t in np.arange(0.3, 0.99, 0.01):
        predicted = scores >= t
        if not predicted.any():
            continue
        precision = float((predicted & y).sum() / predicted.sum())
        recall = float((predicted & y).sum() / max(1, y.sum()))
        if precision >= MIN_PRECISION:
            best = (float(round(t, 2)), precision, recall)
            break
    t, precision, recall = best
    return t, {"threshold": t, "oof_precision": round(precision, 4), "oof_recall": round(recall, 4)}
