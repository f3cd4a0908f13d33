"""Sentiment: TF-IDF (words 1–2 + characters 2–5) and a temperature-calibrated logistic regression.

A model is two files: ``model.json`` (classes, settings, calibration, model card facts) and
``model.npz`` (vocabularies, idf weights, coefficients — plain arrays, loaded with
``allow_pickle=False``), so a file a user replaces cannot execute code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix, hstack

from h2h.errors import H2HError
from h2h.nlp.embeddings import MlpHead, pooled
from h2h.nlp.features import FastTfidf

WORD_PATTERN = r"(?u)\b\w+\b|[!?)(]+|[^\w\s]"
LABELS = ("negative", "neutral", "positive")
# RuSentiment and RuSentiTweet annotate five classes. For a customer message "speech" is a
# formulaic greeting, thanks or congratulation — positive towards whoever it addresses —
# and "skip" is noise nobody could rate, which we treat as neutral.
TO_THREE = {"speech": "positive", "skip": "neutral"}


_ARRAYS = ("word_vocab", "word_idf", "char_vocab", "char_idf", "coef", "intercept")


class ModelError(H2HError):
    status_code = 500


@dataclass(slots=True)
class SentimentModel:
    """A fitted model: vectorizers, coefficients and the calibration temperature."""

    name: str
    classes: tuple[str, ...]
    word: Any  # TfidfVectorizer
    char: Any  # TfidfVectorizer
    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)
    head: MlpHead | None = None  # the Navec MLP, for Russian (see h2h.nlp.embeddings)
    blend: float = 0.0  # the MLP's weight in the blended log-probabilities
    _names: NDArray[np.str_] | None = None
    _fast: FastTfidf | None = None

    # ---- inference -------------------------------------------------------------------

    def features(self, texts: Sequence[str]) -> csr_matrix:
        """The TF-IDF rows of normalised texts (see h2h.nlp.features for why not sklearn's)."""
        if self._fast is None:
            self._fast = FastTfidf(
                self.word.vocabulary_,
                self.word.idf_,
                self.char.vocabulary_,
                self.char.idf_,
                WORD_PATTERN,
            )
        return self._fast.transform([text.lower() for text in texts])

    def sklearn_features(self, texts: Sequence[str]) -> csr_matrix:
        """The same rows computed by scikit-learn (the reference the fast path is tested on)."""
        lowered = [text.lower() for text in texts]
        return hstack([self.word.transform(lowered), self.char.transform(lowered)]).tocsr()

    def proba(self, rows: csr_matrix, texts: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Calibrated class probabilities, columns in ``self.classes`` order.

        With ``texts`` and an MLP head, its log-probabilities are blended in.
        """
        logits = np.asarray(rows @ self.coef.T, dtype=np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        if self.head is not None and self.blend and texts is not None:
            second = self.head.log_proba(pooled([text.lower() for text in texts]))
            logits = (1 - self.blend) * logits + self.blend * second
        logits /= self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable of the model's own classes for each normalised text."""
        proba = self.proba(self.features(texts), texts)
        return [self.classes[i] for i in proba.argmax(axis=1)]

    def three_way(self, proba: NDArray[np.float64]) -> NDArray[np.float64]:
        """Collapse the model's classes to negative/neutral/positive probabilities."""
        out = np.zeros((proba.shape[0], 3))
        for column, label in enumerate(self.classes):
            out[:, LABELS.index(TO_THREE.get(label, label))] += proba[:, column]
        return out

    def explain(self, rows: csr_matrix, index: int, label: str, top: int = 4) -> list[str]:
        """The n-grams of one text that pushed it most towards ``label`` (for "why")."""
        columns = [c for c, name in enumerate(self.classes) if TO_THREE.get(name, name) == label]
        indices, data = self.word_entries(rows, index)
        if not len(indices) or not columns:
            return []
        weights = self.coef[:, indices][columns].max(axis=0) * data
        order = np.argsort(-weights)[: top * 3]
        names = self.feature_names()
        out: list[str] = []
        for position in order:
            if weights[position] <= 0:
                break
            name = str(names[indices[position]]).strip()
            readable = len(name) >= 3 and all(ch.isalnum() or ch == " " for ch in name)
            if readable and not any(name in kept or kept in name for kept in out):
                out.append(name)
            if len(out) == top:
                break
        return out

    def word_entries(
        self, rows: csr_matrix, index: int
    ) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
        """Columns and values of one row's word n-grams (explanations skip character ones:
        a reader understands "ужас", not the character trigram "жас")."""
        start, end = rows.indptr[index], rows.indptr[index + 1]
        words = rows.indices[start:end] < len(self.word.vocabulary_)
        return rows.indices[start:end][words], rows.data[start:end][words]

    def feature_names(self) -> NDArray[np.str_]:
        if self._names is None:
            self._names = np.concatenate(
                [self.word.get_feature_names_out(), self.char.get_feature_names_out()]
            )
        return self._names

    # ---- training --------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        name: str,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        c: float = 1.0,
        seed: int = 0,
        weights: Sequence[float] | None = None,
        embeddings: bool = False,
    ) -> SentimentModel:
        """Fit on 90%, choose the blend and temperature on the other 10%, then refit on all."""
        from sklearn.model_selection import train_test_split

        y = np.asarray(labels)
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        fit_idx, hold_idx = train_test_split(
            np.arange(len(y)), test_size=0.1, random_state=seed, stratify=y
        )
        lowered = [text.lower() for text in texts]
        model = cls._fit([lowered[i] for i in fit_idx], y[fit_idx], w[fit_idx], name, c, seed)
        held_texts = [lowered[i] for i in hold_idx]
        held_rows = model.features(held_texts)
        blend = 0.0
        if embeddings:
            model.head = MlpHead.fit(pooled([lowered[i] for i in fit_idx]), y[fit_idx], seed)
            blend = _choose_blend(model, held_rows, held_texts, y[hold_idx])
        model.blend = blend
        held = model.proba(held_rows, held_texts)
        temperature = _fit_temperature(np.log(np.clip(held, 1e-12, 1)), y[hold_idx], model.classes)
        model = cls._fit(lowered, y, w, name, c, seed)
        if embeddings and blend:
            model.head = MlpHead.fit(pooled(lowered), y, seed)
        model.blend, model.temperature = blend, temperature
        model.meta["blend"] = blend
        return model

    @classmethod
    def _fit(
        cls,
        lowered: Sequence[str],
        y: NDArray[Any],
        w: NDArray[np.float64],
        name: str,
        c: float,
        seed: int,
    ) -> SentimentModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        word = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            token_pattern=WORD_PATTERN,
            dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, dtype=np.float32
        )
        rows = hstack([word.fit_transform(lowered), char.fit_transform(lowered)]).tocsr()
        clf = LogisticRegression(C=c, max_iter=3000, random_state=seed)
        clf.fit(rows, y, sample_weight=w)
        coef, intercept = clf.coef_, clf.intercept_
        if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; softmax wants two
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros_like(intercept), intercept])
        return cls(
            name=name,
            classes=tuple(str(label) for label in clf.classes_),
            word=word,
            char=char,
            coef=coef.astype(np.float32),
            intercept=intercept.astype(np.float32),
        )

    # ---- files -----------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write model.json and model.npz into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            **self.meta,
            "name": self.name,
            "classes": list(self.classes),
            "temperature": self.temperature,
            "blend": self.blend,
            "word_params": {"ngram_range": [1, 2], "token_pattern": WORD_PATTERN},
            "char_params": {"analyzer": "char_wb", "ngram_range": [2, 5]},
        }
        (directory / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        arrays: dict[str, Any] = {
            "word_vocab": self.word.get_feature_names_out().astype(str),
            "word_idf": self.word.idf_.astype(np.float32),
            "char_vocab": self.char.get_feature_names_out().astype(str),
            "char_idf": self.char.idf_.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept,
        }
        if self.head is not None and self.blend:
            arrays.update(self.head.arrays())
        np.savez_compressed(directory / "model.npz", **arrays)

    @classmethod
    def load(cls, directory: Path) -> SentimentModel:
        """Read a model written by ``save``; never unpickles."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        try:
            meta = json.loads((directory / "model.json").read_text())
            with np.load(directory / "model.npz", allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in _ARRAYS}
                head = (
                    MlpHead(*(archive[f"mlp_{part}"] for part in ("w1", "b1", "w2", "b2")))
                    if "mlp_w1" in archive.files
                    else None
                )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read the sentiment model in {directory}: {exc}") from exc
        word = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=meta["word_params"]["token_pattern"],
            vocabulary={str(t): i for i, t in enumerate(arrays["word_vocab"])},
            dtype=np.float32,
        )
        word.idf_ = arrays["word_idf"]
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            vocabulary={str(t): i for i, t in enumerate(arrays["char_vocab"])},
            dtype=np.float32,
        )
        char.idf_ = arrays["char_idf"]
        return cls(
            name=meta["name"],
            classes=tuple(meta["classes"]),
            word=word,
            char=char,
            coef=arrays["coef"].astype(np.float32),
            intercept=arrays["intercept"].astype(np.float32),
            temperature=float(meta["temperature"]),
            meta=meta,
            head=head,
            blend=float(meta.get("blend", 0.0)) if head is not None else 0.0,
        )


def _choose_blend(
    model: SentimentModel, rows: csr_matrix, texts: Sequence[str], y: NDArray[Any]
) -> float:
    """The MLP weight with the best weighted F1 on the hold-out (ties: the smaller weight)."""
    from sklearn.metrics import f1_score

    best, chosen = -1.0, 0.0
    for blend in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
        model.blend = blend
        predicted = [model.classes[i] for i in model.proba(rows, texts).argmax(axis=1)]
        score = float(f1_score(y, predicted, average="weighted"))
        if score > best + 1e-4:
            best, chosen = score, blend
    return chosen


def _fit_temperature(
    log_proba: NDArray[np.float64], y: NDArray[Any], classes: Sequence[str]
) -> float:
    """The temperature that minimises the hold-out negative log-likelihood (Guo et al. 2017)."""
    index = {label: i for i, label in enumerate(classes)}
    target = np.array([index[label] for label in y])

    def nll(t: float) -> float:
        z = log_proba / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(target)), target].mean())

    grid = [0.5 + 0.05 * i for i in range(51)]
    return min(grid, key=nll) if not math.isnan(nll(1.0)) else 1.0
