"""Precision and recall of the liveness model on the dev or test half, as JSON.

Usage: ``python scripts/people/eval_liveness.py [dev|test] [--errors]``. Tune on dev only;
test is what ``docs/people/liveness.md`` reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from h2h.people import liveness

DATA = Path(__file__).resolve().parents[2] / "tests" / "people" / "data" / "liveness.jsonl"


def main(argv: list[str]) -> None:
    split = argv[0] if argv else "dev"
    cases = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    chosen = [c for c in cases if c["split"] == split]
    print(json.dumps({"split": split, **liveness.evaluate(chosen)}, ensure_ascii=False))
    if "--errors" in argv:
        for case in chosen:
            got = liveness.assess(liveness.case_features(case))
            if got.kind.value != case["kind"]:
                codes = [(r["code"], r["weight"]) for r in got.reasons]
                print(case["kind"], "→", got.kind.value, got.score, case["name"], codes)


if __name__ == "__main__":
    main(sys.argv[1:])
