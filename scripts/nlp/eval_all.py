"""Run every `h2h nlp eval` report and write them to one JSON file (the committed results).

    .venv/bin/python scripts/nlp/eval_all.py docs/nlp/eval-2026-11-23.json

Sentiment sets are evaluated with the shipped model and with the recipe retrained on the
set's own train split (`--recipe`); annotation sets per label. The test annotations and
the challenge set are read here and nowhere in rule writing.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from h2h import __version__
from h2h.nlp import runtime
from h2h.nlp.evaluate import ANNOTATION_SETS, SENTIMENT_SETS, evaluate


def main(target: Path) -> None:
    started = time.perf_counter()
    reports = {}
    for name in SENTIMENT_SETS:
        reports[name] = evaluate(name, recipe=True)
        reports[name]["command"] = f"h2h nlp eval --dataset {name} --json --recipe"
    for name in ANNOTATION_SETS:
        reports[name] = evaluate(name)
        reports[name]["command"] = f"h2h nlp eval --dataset {name} --json"
    document = {
        "h2h": __version__,
        "models": runtime.shipped().version,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - started),
        "reports": reports,
    }
    target.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/nlp/eval.json"))
