"""Spike detection: false alarms on normal traffic, detection of injected spikes, and time.

Seeded synthetic streams with a weekly pattern (quiet weekends, busy Mondays):

- *Poisson* streams, and *overdispersed* ones (negative binomial, variance twice the
  mean — closer to real traffic, where some days are busier for no reason anyone records);
- at daily levels of 2, 5, 10, 30 and 100 complaints.

Reported, per level and p-value threshold: false alarms per 100 normal days (every day
after the 14-day warm-up is tested, as the daily job would), and the share of injected
spikes of x2, x3 and x5 the day's expected count caught on the day, testing only that day
(``only_last``, again as the daily job). The negative-share detector gets the same on a
stream of 20-200 mentions a day with 15 % negative, spikes to 30 % and 45 %.

Baseline, in the same run: a plain "mean + 3 standard deviations of the last 28 days"
rule, which ignores the weekday and treats every tiny count alike. Timing: one detector
pass over a 365-day series, and one ``only_last`` call (what the daily job costs per
subject), against the baseline's pass.

    .venv/bin/python benchmarks/spikes.py [--streams 40] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np

from h2h import __version__
from h2h.problems import spikes

LEVELS = (2, 5, 10, 30, 100)
THRESHOLDS = (0.01, 0.001, 0.0001)
MULTIPLIERS = (2, 3, 5)
SEED = 20261207


def stream(n_days: int, level: float, seed: int, dispersion: float) -> tuple[list[date], list[int]]:
    days, counts = spikes.seasonal_poisson(n_days, level, seed=seed)
    if dispersion <= 1:
        return days, counts
    rng = np.random.default_rng(seed + 1)
    factors = np.asarray(spikes.WEEKLY) / np.mean(spikes.WEEKLY)
    means = np.array([level * factors[d.weekday()] for d in days])
    size = means / (dispersion - 1)  # variance = dispersion * mean
    return days, [int(c) for c in rng.negative_binomial(size, size / (size + means))]


def naive_spikes(counts: Sequence[int], *, start: int = spikes.MIN_HISTORY) -> list[int]:
    """Indexes of days above the mean + 3 sd of the 28 days before (the textbook rule)."""
    values = np.asarray(counts, dtype=float)
    found = []
    for t in range(start, len(values)):
        history = values[max(0, t - 28) : t]
        if values[t] > history.mean() + 3 * history.std():
            found.append(t)
    return found


def false_alarms(streams: int, n_days: int, dispersion: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for level in LEVELS:
        row: dict[str, float] = {}
        series = [stream(n_days, level, SEED + i, dispersion) for i in range(streams)]
        normal_days = streams * (n_days - spikes.MIN_HISTORY)
        for p in THRESHOLDS:
            rates = [spikes.false_alarm_rate(d, c, p_threshold=p) for d, c in series]
            row[f"p={p}"] = round(statistics.fmean(rates), 3)
        naive = sum(len(naive_spikes(c)) for _, c in series)
        row["naive_mean_3sd"] = round(100 * naive / normal_days, 3)
        out[str(level)] = row
    return out


def detection(streams: int, dispersion: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    factors = np.asarray(spikes.WEEKLY) / np.mean(spikes.WEEKLY)
    for level in LEVELS:
        row: dict[str, Any] = {}
        for multiplier in MULTIPLIERS:
            hits = {p: 0 for p in THRESHOLDS}
            naive_hits = 0
            for i in range(streams):
                days, counts = stream(90, level, SEED + 7919 * i, dispersion)
                t = 70 + i % 7  # every weekday in turn, after eight weeks of history
                rng = np.random.default_rng(SEED + i)
                counts[t] = int(rng.poisson(level * factors[days[t].weekday()] * multiplier))
                for p in THRESHOLDS:
                    found = spikes.volume_spikes(
                        days[: t + 1], counts[: t + 1], p_threshold=p, only_last=True
                    )
                    hits[p] += bool(found)
                naive_hits += bool(naive_spikes(counts[: t + 1], start=t))
            row[f"x{multiplier}"] = {
                **{f"p={p}": round(hits[p] / streams, 3) for p in THRESHOLDS},
                "naive_mean_3sd": round(naive_hits / streams, 3),
            }
        out[str(level)] = row
    return out


def share_streams(streams: int, n_days: int, share: float, seed: int) -> list[Any]:
    result = []
    for i in range(streams):
        rng = np.random.default_rng(seed + i)
        days, _ = spikes.seasonal_poisson(n_days, 1, seed=seed + i)
        totals = [int(t) for t in rng.integers(20, 200, size=n_days)]
        negatives = [int(rng.binomial(t, share)) for t in totals]
        result.append((days, negatives, totals))
    return result


def shares(streams: int, n_days: int) -> dict[str, Any]:
    normal = share_streams(streams, n_days, 0.15, SEED)
    evaluated = streams * (n_days - spikes.MIN_HISTORY)
    out: dict[str, Any] = {"false_alarms_per_100_days": {}, "detection": {}}
    for p in THRESHOLDS:
        alarms = sum(len(spikes.share_spikes(*s, p_threshold=p)) for s in normal)
        out["false_alarms_per_100_days"][f"p={p}"] = round(100 * alarms / evaluated, 3)
    for spiked in (0.30, 0.45):
        rates = {}
        for p in THRESHOLDS:
            hits = 0
            for i, (days, negatives, totals) in enumerate(share_streams(streams, 60, 0.15, SEED)):
                rng = np.random.default_rng(SEED + 31 * i)
                negatives[-1] = int(rng.binomial(totals[-1], spiked))
                found = spikes.share_spikes(days, negatives, totals, p_threshold=p, only_last=True)
                hits += bool(found)
            rates[f"p={p}"] = round(hits / streams, 3)
        out["detection"][f"0.15->{spiked}"] = rates
    return out


def timed(func: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def timing(n_days: int) -> dict[str, Any]:
    days, counts = stream(n_days, 10, SEED, 1)
    full = timed(lambda: spikes.volume_spikes(days, counts), 5)
    last = timed(lambda: spikes.volume_spikes(days[-60:], counts[-60:], only_last=True), 50)
    naive = timed(lambda: naive_spikes(counts), 5)
    return {
        "series_days": n_days,
        "volume_full_series_ms": round(full * 1000, 2),
        "volume_only_last_ms": round(last * 1000, 3),
        "naive_full_series_ms": round(naive * 1000, 2),
        "full_series_vs_naive": round(full / naive, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=40, help="seeded streams per setting")
    parser.add_argument("--days", type=int, default=365, help="days per normal stream")
    args = parser.parse_args()
    report = {
        "benchmark": "spikes",
        "version": __version__,
        "python": platform.python_version(),
        "seed": SEED,
        "streams": args.streams,
        "days": args.days,
        "weekly": spikes.WEEKLY,
        "volume": {
            "false_alarms_per_100_days": {
                "poisson": false_alarms(args.streams, args.days, 1),
                "overdispersed_x2": false_alarms(args.streams, args.days, 2),
            },
            "detection_rate": {
                "poisson": detection(args.streams, 1),
                "overdispersed_x2": detection(args.streams, 2),
            },
        },
        "negative_share": shares(args.streams, args.days),
        "timing": timing(args.days),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
