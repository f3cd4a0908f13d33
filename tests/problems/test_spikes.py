"""Spike detection fires on an injected spike and stays quiet on normal traffic."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from h2h.problems import spikes
from h2h.problems.spikes import NEGATIVE_SHARE, VOLUME


def test_an_injected_spike_fires_on_its_day() -> None:
    days, counts = spikes.seasonal_poisson(90, 10, seed=7)
    spike_day = 70  # a Wednesday-ish working day, well after the warm-up
    counts[spike_day] = 45
    found = spikes.volume_spikes(days, counts)
    assert days[spike_day] in {s.day for s in found}
    [spike] = [s for s in found if s.day == days[spike_day]]
    assert spike.kind == VOLUME
    assert spike.observed == 45 and 5 < spike.expected < 20
    assert spike.score > 2 and spike.p_value < spikes.DEFAULT_P


def test_only_last_looks_at_the_last_day_alone() -> None:
    days, counts = spikes.seasonal_poisson(60, 10, seed=3)
    counts[40] = 60
    counts[-1] = 60
    found = spikes.volume_spikes(days, counts, only_last=True)
    assert [s.day for s in found] == [days[-1]]


@pytest.mark.parametrize("level", [3, 10, 40])
def test_normal_traffic_rarely_alarms(level: int) -> None:
    rates = [
        spikes.false_alarm_rate(*spikes.seasonal_poisson(730, level, seed=seed), p_threshold=0.001)
        for seed in range(5)
    ]
    assert sum(rates) / len(rates) <= 2.0, rates  # alarms per 100 normal days


def test_quiet_weekends_do_not_make_every_monday_a_spike() -> None:
    weekly = (2.0, 1.2, 1.0, 1.0, 1.0, 0.2, 0.1)  # a very busy Monday after an empty weekend
    days, counts = spikes.seasonal_poisson(364, 12, seed=11, weekly=weekly)
    found = spikes.volume_spikes(days, counts)
    assert len([s for s in found if s.day.weekday() == 0]) <= 1, found


def test_a_monday_sized_saturday_is_a_spike() -> None:
    """The baseline knows the weekday: what is normal on Monday is unusual on Saturday."""
    weekly = (2.0, 1.2, 1.0, 1.0, 1.0, 0.2, 0.1)
    days, counts = spikes.seasonal_poisson(120, 12, seed=4, weekly=weekly)
    saturday = max(i for i, d in enumerate(days) if d.weekday() == 5)
    mondays = sorted(c for d, c in zip(days, counts, strict=True) if d.weekday() == 0)
    counts[saturday] = mondays[len(mondays) // 2]
    found = spikes.volume_spikes(days[: saturday + 1], counts[: saturday + 1], only_last=True)
    assert [s.day for s in found] == [days[saturday]]


def test_tiny_counts_do_not_fire() -> None:
    days = [date(2026, 1, 5) + timedelta(days=i) for i in range(60)]
    counts = [0] * 59 + [3]  # nothing for two months, then three complaints
    assert spikes.volume_spikes(days, counts) == []
    counts[-1] = 4
    assert spikes.volume_spikes(days, counts, min_count=5) == []


def test_a_short_history_never_fires() -> None:
    days, counts = spikes.seasonal_poisson(10, 5, seed=1)
    counts[-1] = 100
    assert spikes.volume_spikes(days, counts) == []


def test_a_share_spike_fires_with_a_normal_count() -> None:
    days, totals = spikes.seasonal_poisson(60, 80, seed=5, weekly=(1,) * 7)
    negatives = [round(t * 0.15) for t in totals]
    negatives[-1] = round(totals[-1] * 0.5)  # half the mentions negative, volume as usual
    assert spikes.volume_spikes(days, totals, only_last=True) == []
    [spike] = spikes.share_spikes(days, negatives, totals, only_last=True)
    assert spike.kind == NEGATIVE_SHARE and spike.day == days[-1]
    assert spike.total == totals[-1]
    assert spike.observed == pytest.approx(0.5, abs=0.02)
    assert spike.expected == pytest.approx(0.15, abs=0.02)
    assert spike.score > 3


def test_a_normal_negative_share_does_not_fire() -> None:
    days, totals = spikes.seasonal_poisson(365, 60, seed=9)
    rng = np.random.default_rng(9)
    negatives = [int(rng.binomial(t, 0.2)) for t in totals]
    found = spikes.share_spikes(days, negatives, totals)
    assert len(found) <= 365 * 0.02, found


def test_a_small_day_needs_a_bigger_jump_in_share() -> None:
    days = [date(2026, 1, 5) + timedelta(days=i) for i in range(40)]
    totals = [50] * 39 + [8]
    negatives = [10] * 39 + [5]  # 62 % of 8 messages: too few messages to be sure
    assert spikes.share_spikes(days, negatives, totals, only_last=True) == []


def test_gaps_and_mismatched_series_are_refused() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 3)]
    with pytest.raises(ValueError, match="consecutive"):
        spikes.volume_spikes(days, [1, 2])
    with pytest.raises(ValueError, match="one value per day"):
        spikes.volume_spikes([date(2026, 1, 1)], [1, 2])
