"""Urgency 0–1: how soon a human should look at a message, with the reasons why.

A noisy-OR of independent pushes: each reason alone gives its weight, and several
reasons together approach 1 without passing it. The weights are a documented policy,
not a fitted model — there is no data set of "how urgent was this" to fit them on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

WEIGHTS = {
    "threat": 0.6,
    "complaint": 0.3,
    "negative": 0.35,  # scaled by the calibrated probability of negative sentiment
    "request": 0.15,
    "question": 0.1,
    "insult": 0.15,
    "profanity": 0.1,
    "reach": 0.35,  # scaled by the author's audience, log-scale from 100 to 100,000
}


def score(
    *,
    intents: Sequence[str],
    negative: float,
    sentiment: str,
    profanity: bool,
    insult: bool,
    reach: int | None = None,
) -> tuple[float, tuple[str, ...]]:
    """The urgency and its reasons, strongest first."""
    pushes: list[tuple[str, float]] = [
        (label, WEIGHTS[label])
        for label in ("threat", "complaint", "request", "question")
        if label in intents
    ]
    if sentiment == "negative":
        pushes.append(("negative", WEIGHTS["negative"] * negative))
    if insult:
        pushes.append(("insult", WEIGHTS["insult"]))
    if profanity:
        pushes.append(("profanity", WEIGHTS["profanity"]))
    if reach and reach > 100:
        share = min(1.0, math.log10(reach / 100) / 3)
        pushes.append(("reach", WEIGHTS["reach"] * share))
    calm = 1.0
    for _, weight in pushes:
        calm *= 1.0 - weight
    pushes.sort(key=lambda push: -push[1])
    return round(1.0 - calm, 3), tuple(name for name, weight in pushes if weight > 0.01)
