"""Which models analyse a text: the shipped ones, or a workspace's own where it has one.

Models load lazily, once per process, and are shared between threads (inference only
reads them).
"""

from __future__ import annotations

import json
import re
import threading
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from h2h.nlp.heads import BinaryHead
from h2h.nlp.sentiment import ModelError, SentimentModel

SHIPPED_DIR = Path(__file__).parent / "data"
RULES_VERSION = "rules-2026.11"
_CYRILLIC = re.compile(r"[а-яёА-ЯЁіїєґ]")


class Models:
    """A set of sentiment models by language code, with one version string for all."""

    def __init__(self, directories: dict[str, Path], label: str = "shipped") -> None:
        self.directories = directories
        self.label = label
        self._loaded: dict[str, SentimentModel] = {}
        self._heads: dict[str, BinaryHead | None] = {}
        self._lock = threading.Lock()

    def sentiment(self, code: str) -> SentimentModel:
        """The model for ``ru`` or ``en``, loaded on first use."""
        model = self._loaded.get(code)
        if model is None:
            with self._lock:
                model = self._loaded.get(code)
                if model is None:
                    if code not in self.directories:
                        raise ModelError(f"no sentiment model for language {code!r}")
                    model = SentimentModel.load(self.directories[code])
                    self._loaded[code] = model
        return model

    def head(self, name: str, code: str) -> BinaryHead | None:
        """A shipped yes/no head on the language's features, if it exists and still fits."""
        key = f"{name}-{code}"
        if key not in self._heads:
            with self._lock:
                path = SHIPPED_DIR / key
                head = BinaryHead.load(path) if (path / "head.json").is_file() else None
                # A head is a set of weights over one model's features: after a workspace
                # swaps the model, the head no longer fits and is not used.
                fits = head is not None and head.meta.get("features_of") == self.meta(code).get(
                    "version"
                )
                self._heads[key] = head if fits else None
        return self._heads[key]

    @staticmethod
    def language_for(language: str, text: str) -> str:
        """Ukrainian and other Cyrillic texts go to the Russian model, the rest to English."""
        if language in ("ru", "uk"):
            return "ru"
        if language == "en":
            return "en"
        return "ru" if _CYRILLIC.search(text) else "en"

    @cached_property
    def version(self) -> str:
        parts = [
            f"{code}:{self.meta(code).get('version', '?')}" for code in sorted(self.directories)
        ]
        for code in sorted(self.directories):
            if (head := self.head("threat", code)) is not None:
                parts.append(f"threat-{code}:{head.meta.get('version', '?')}")
        return f"{self.label}/{'+'.join(parts)}/{RULES_VERSION}"

    def meta(self, code: str) -> dict[str, Any]:
        path = self.directories[code] / "model.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return {}


@cache
def shipped() -> Models:
    """The models inside the package (trained by ``h2h nlp train``)."""
    return Models({code: SHIPPED_DIR / f"sentiment-{code}" for code in ("ru", "en")})


def workspace_models(overrides: dict[str, Path]) -> Models:
    """The shipped models with some languages replaced by a workspace's own."""
    directories = {code: SHIPPED_DIR / f"sentiment-{code}" for code in ("ru", "en")}
    directories.update(overrides)
    return _models(tuple(sorted((code, str(path)) for code, path in directories.items())))


@cache
def _models(directories: tuple[tuple[str, str], ...]) -> Models:
    return Models({code: Path(path) for code, path in directories}, label="workspace")
