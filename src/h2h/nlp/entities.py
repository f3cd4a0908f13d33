"""Named entities (people, organisations, places) in Russian text with Natasha's Slovnet NER.

The model and the Navec embeddings it needs ship inside the ``natasha`` wheel, so nothing
is downloaded. We read the files directly instead of importing ``natasha`` itself, whose
package import pulls pymorphy2 (unmaintained, broken on Python 3.11) for features we do
not use. There is no English model of the same kind that is shippable from PyPI, so
English texts get no entities (documented in the model card).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from h2h.nlp.sentiment import ModelError

MAX_CHARS = 5_000  # NER is the slow stage; a long text's entities are in its first pages
KINDS = {"PER": "person", "ORG": "organization", "LOC": "place"}


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # person | organization | place
    text: str
    start: int
    end: int


_lock = threading.Lock()


def extract(texts: Sequence[str], languages: Sequence[str | None]) -> list[list[Entity]]:
    """Entities of each text; only Russian (and Ukrainian, which the model half-reads) texts."""
    out: list[list[Entity]] = [[] for _ in texts]
    chosen = [i for i, lang in enumerate(languages) if lang in ("ru", "uk") and texts[i].strip()]
    if not chosen:
        return out
    ner = _ner()
    with _lock:  # Slovnet keeps per-call buffers on the model; one call at a time
        markups = list(ner.map([texts[i][:MAX_CHARS] for i in chosen]))
    for i, markup in zip(chosen, markups, strict=True):
        out[i] = [
            Entity(KINDS[span.type], markup.text[span.start : span.stop], span.start, span.stop)
            for span in markup.spans
            if span.type in KINDS
        ]
    return out


def _natasha_data() -> Path:
    spec = importlib.util.find_spec("natasha")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the natasha package (which carries the NER model) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def navec() -> Any:
    """Natasha's Navec news embeddings (250k words, 300 dimensions, quantised)."""
    from navec import Navec

    return Navec.load(str(_natasha_data() / "emb" / "navec_news_v1_1B_250K_300d_100q.tar"))


@cache
def _ner() -> Any:
    from slovnet import NER

    ner = NER.load(str(_natasha_data() / "model" / "slovnet_ner_news_v1.tar"))
    ner.navec(navec())
    return ner
