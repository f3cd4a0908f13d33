"""Spike detection on daily series: is today's complaint volume, or share of negative
mentions, unusual for this subject or problem?

Pure functions over plain sequences (no database), so the daily job, the benchmark and the
tests run the same code. The caller passes consecutive days, filling missing days with 0.

Why this method (docs/problems/alerts.md has the measurements):

- **Seasonal, robust baseline.** Complaints follow the week (quiet weekends, busy Mondays).
  Each weekday gets a factor from the last ``season_days`` (8 weeks), each weekday's values
  trimmed of their largest one so that an old spike does not make its weekday look busy.
  The level is a trimmed mean of the last ``history_days`` (28) deseasonalised days, cut
  10 % at both ends: a past spike neither raises the bar nor, being trimmed, lowers it.
- **A count test that knows its own uncertainty.** Today's count is compared with a
  Poisson distribution of the expected mean — widened into a negative binomial when the
  history is more variable than Poisson (real traffic usually is), and by the estimation
  error of a baseline learnt from a few weeks. Without that widening a busy, noisy channel
  alarms every week.
- **Shares** use a beta-binomial around the pooled negative share of the history (the same
  two widenings), so a day with few messages needs a bigger jump than a day with many.
- **Minimums.** Going from 1 to 3 complaints is not a crisis however small its p-value: a
  spike needs at least ``min_count`` items and ``min_ratio`` times the expected level.

The p-value threshold is the sensitivity: at 0.001 a series of Poisson traffic alarms falsely
less than once a year, and a tripling of 10 complaints a day is caught four times in five.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from scipy import stats

VOLUME = "volume"
NEGATIVE_SHARE = "negative_share"
DEFAULT_P = 0.001
HISTORY_DAYS = 28
SEASON_DAYS = 56
MIN_HISTORY = 14  # days before the first day a series can alarm
TRIM = 0.1
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Spike:
    """One unusual day. ``score`` is observed/expected for volume, a z-score for shares."""

    day: date
    kind: str  # VOLUME | NEGATIVE_SHARE
    observed: float  # a count, or a share in [0, 1]
    expected: float
    p_value: float
    score: float
    total: int | None = None  # for shares: the day's messages


@dataclass(frozen=True)
class Baseline:
    """What a day was expected to look like, and how much it may vary."""

    expected: float
    variance: float


# --- baselines --------------------------------------------------------------------------------


def _trimmed_mean(values: np.ndarray, cut: float = TRIM) -> float:
    if values.size == 0:
        return 0.0
    k = int(math.floor(values.size * cut))
    ordered = np.sort(values)
    kept = ordered[k : values.size - k] if values.size > 2 * k else ordered
    return float(kept.mean())


def weekday_factors(days: Sequence[date], counts: np.ndarray) -> np.ndarray:
    """Seven multipliers (Monday first) with mean 1; flat when a weekday has too few values."""
    means = np.ones(7)
    present = np.zeros(7, dtype=bool)
    weekdays = np.array([d.weekday() for d in days])
    for w in range(7):
        values = np.sort(counts[weekdays == w])
        if values.size >= 2:
            # Drop the largest: one past spike must not make its weekday look busy.
            means[w] = values[:-1].mean() if values.size >= 3 else values.mean()
            present[w] = True
    if present.sum() < 7:
        return np.ones(7)
    # Half a complaint of smoothing keeps a weekday that was always empty from getting 0.
    smoothed = means + 0.5
    result: np.ndarray = smoothed / smoothed.mean()
    return result


def count_baseline(
    days: Sequence[date],
    counts: Sequence[int] | np.ndarray,
    today: date,
    *,
    history_days: int = HISTORY_DAYS,
    season_days: int = SEASON_DAYS,
) -> Baseline:
    """Expected count of ``today`` from the days before it (the last ``season_days`` of them)."""
    values = np.asarray(counts, dtype=float)[-season_days:]
    season = list(days)[-season_days:]
    factors = weekday_factors(season, values)
    weekday = np.array([d.weekday() for d in season])
    recent = slice(max(0, len(season) - history_days), len(season))
    deseasoned = values[recent] / factors[weekday[recent]]
    level = _trimmed_mean(deseasoned)
    factor = float(factors[today.weekday()])
    expected = max(level * factor, 0.0)
    dispersion = _dispersion(values[recent], level * factors[weekday[recent]])
    n_level = max(1, deseasoned.size)
    n_season = max(1, int((weekday == today.weekday()).sum()) - 1)
    # Variance of today's count around an *estimated* mean: the day's own noise plus the
    # error of a level learnt from n_level days and a weekday factor from n_season weeks.
    variance = dispersion * expected * (1 + 1 / n_level + 1 / n_season)
    return Baseline(expected=expected, variance=max(variance, expected))


def _dispersion(observed: np.ndarray, fitted: np.ndarray) -> float:
    """Variance/mean of the history around its fit: 1 for Poisson, more for noisier traffic.

    Robust (median of the squared Pearson residuals over its Poisson value of 0.455) so that
    the spike being tested for, or an old one, does not pass for ordinary noise.
    """
    mask = fitted >= 1.0
    if mask.sum() < 7:
        return 1.0
    residuals = (observed[mask] - fitted[mask]) / np.sqrt(fitted[mask])
    spread = _MAD_TO_SD * float(np.median(np.abs(residuals - np.median(residuals))))
    return float(min(max(1.0, spread**2), 25.0))


def count_p_value(observed: int, baseline: Baseline) -> float:
    """P(X >= observed) under a Poisson, or a negative binomial when the variance is larger."""
    mu = max(baseline.expected, 1e-9)
    if observed <= 0:
        return 1.0
    if baseline.variance <= mu * 1.0001:
        return float(stats.poisson.sf(observed - 1, mu))
    size = mu * mu / (baseline.variance - mu)
    return float(stats.nbinom.sf(observed - 1, size, size / (size + mu)))


# --- detectors --------------------------------------------------------------------------------


def _check_days(days: Sequence[date], *series: Sequence[int]) -> None:
    for values in series:
        if len(values) != len(days):
            raise ValueError("every series needs one value per day")
    for before, after in zip(days, days[1:], strict=False):
        if after - before != timedelta(days=1):
            raise ValueError(f"days must be consecutive: {before} is followed by {after}")


def _evaluated(n: int, only_last: bool, min_history: int) -> range:
    first = max(min_history, n - 1) if only_last else min_history
    return range(first, n)


def volume_spikes(
    days: Sequence[date],
    counts: Sequence[int],
    *,
    p_threshold: float = DEFAULT_P,
    min_count: int = 5,
    min_ratio: float = 1.5,
    history_days: int = HISTORY_DAYS,
    season_days: int = SEASON_DAYS,
    min_history: int = MIN_HISTORY,
    only_last: bool = False,
) -> list[Spike]:
    """Days whose count is improbably high for their weekday and the recent level."""
    _check_days(days, counts)
    values = np.asarray(counts, dtype=float)
    found = []
    for t in _evaluated(len(days), only_last, min_history):
        observed = int(values[t])
        if observed < min_count:
            continue
        start = max(0, t - season_days)
        baseline = count_baseline(
            days[start:t],
            values[start:t],
            days[t],
            history_days=history_days,
            season_days=season_days,
        )
        expected = baseline.expected
        if observed < min_ratio * max(expected, 1.0):
            continue
        p_value = count_p_value(observed, baseline)
        if p_value < p_threshold:
            ratio = observed / max(expected, 0.5)
            found.append(Spike(days[t], VOLUME, float(observed), expected, p_value, ratio))
    return found


def share_baseline(
    negatives: np.ndarray, totals: np.ndarray, *, history_days: int = HISTORY_DAYS
) -> tuple[float, float]:
    """(share, overdispersion rho) of the history; the 10 % most negative days left out."""
    negatives, totals = negatives[-history_days:], totals[-history_days:]
    used = totals > 0
    negatives, totals = negatives[used], totals[used]
    if totals.sum() == 0:
        return 0.0, 0.0
    shares = negatives / totals
    k = int(math.floor(shares.size * TRIM))
    if k:
        keep = np.argsort(shares)[: shares.size - k]
        negatives, totals, shares = negatives[keep], totals[keep], shares[keep]
    share = float(negatives.sum() / totals.sum())
    rho = 0.0
    if 0 < share < 1 and shares.size >= 7 and totals.mean() > 1:
        # Method of moments: Var(share_i) = p(1-p)/n_i * (1 + (n_i - 1) rho).
        base = share * (1 - share)
        excess = ((shares - share) ** 2 - base / totals).sum()
        rho = float(max(0.0, excess / (base * ((totals - 1) / totals).sum())))
    # The estimation error of the share itself, learnt from totals.sum() messages.
    rho += 1.0 / max(float(totals.sum()), 1.0)
    return share, min(rho, 0.5)


def share_p_value(negative: int, total: int, share: float, rho: float) -> float:
    """P(X >= negative) of a beta-binomial around ``share`` (a binomial when rho is 0)."""
    if negative <= 0:
        return 1.0
    share = min(max(share, 1e-6), 1 - 1e-6)
    if rho <= 1e-9:
        return float(stats.binom.sf(negative - 1, total, share))
    concentration = 1 / rho - 1
    a, b = share * concentration, (1 - share) * concentration
    return float(stats.betabinom.sf(negative - 1, total, a, b))


def share_spikes(
    days: Sequence[date],
    negatives: Sequence[int],
    totals: Sequence[int],
    *,
    p_threshold: float = DEFAULT_P,
    min_count: int = 5,
    min_total: int = 10,
    min_lift: float = 0.1,
    history_days: int = HISTORY_DAYS,
    min_history: int = MIN_HISTORY,
    only_last: bool = False,
) -> list[Spike]:
    """Days whose share of negative mentions is improbably high against the recent share.

    ``min_lift`` is the smallest rise of the share, in absolute terms, worth an alarm.
    """
    _check_days(days, negatives, totals)
    neg = np.asarray(negatives, dtype=float)
    tot = np.asarray(totals, dtype=float)
    if (neg > tot).any() or (neg < 0).any():
        raise ValueError("negatives must lie between 0 and the day's total")
    found = []
    for t in _evaluated(len(days), only_last, min_history):
        negative, total = int(neg[t]), int(tot[t])
        if negative < min_count or total < min_total:
            continue
        share, rho = share_baseline(neg[:t], tot[:t], history_days=history_days)
        observed = negative / total
        if observed < share + min_lift:
            continue
        p_value = share_p_value(negative, total, share, rho)
        if p_value < p_threshold:
            sd = math.sqrt(max(share * (1 - share), 1e-9) * (1 + (total - 1) * rho) / total)
            z = (observed - share) / sd
            found.append(Spike(days[t], NEGATIVE_SHARE, observed, share, p_value, z, total))
    return found


# --- measuring --------------------------------------------------------------------------------


def false_alarm_rate(
    days: Sequence[date],
    counts: Sequence[int],
    *,
    abnormal: Sequence[date] = (),
    min_history: int = MIN_HISTORY,
    **options: Any,
) -> float:
    """Volume alarms per 100 normal days (days in ``abnormal`` and the warm-up not counted)."""
    skipped = set(abnormal)
    spikes = volume_spikes(days, counts, min_history=min_history, **options)
    evaluated = [d for d in days[min_history:] if d not in skipped]
    if not evaluated:
        return 0.0
    alarms = sum(1 for s in spikes if s.day not in skipped)
    return 100.0 * alarms / len(evaluated)


WEEKLY = (1.3, 1.1, 1.0, 1.0, 0.9, 0.4, 0.3)  # Monday first: quiet weekends, busy Mondays


def seasonal_poisson(
    n_days: int,
    level: float,
    *,
    seed: int,
    start: date = date(2026, 1, 5),
    weekly: Sequence[float] = WEEKLY,
) -> tuple[list[date], list[int]]:
    """A synthetic normal stream: Poisson counts around ``level`` times the weekday's factor."""
    rng = np.random.default_rng(seed)
    factors = np.asarray(weekly, dtype=float)
    factors = factors / factors.mean()
    days = [start + timedelta(days=i) for i in range(n_days)]
    means = np.array([level * factors[d.weekday()] for d in days])
    return days, [int(c) for c in rng.poisson(means)]
