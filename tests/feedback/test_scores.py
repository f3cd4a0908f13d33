"""NPS, CSAT and CES as published: bands, values and honest intervals."""

from __future__ import annotations

import pytest

from h2h.feedback import scores
from h2h.feedback.models import SurveyKind


def test_nps_is_promoters_minus_detractors_with_an_interval_around_it() -> None:
    answers = [10] * 50 + [9] * 10 + [8] * 20 + [3] * 20  # 60% promoters, 20% detractors
    found = scores.score(SurveyKind.NPS, answers)
    assert (found.good, found.neutral, found.bad, found.n) == (60, 20, 20, 100)
    assert found.value == 40.0
    assert found.low is not None and found.high is not None
    assert found.low < 40 < found.high
    # SE of the mean of +1/0/−1 answers is √((.6+.2−.4²)/100) = 0.08: about ±16 points.
    assert 12 < found.high - found.value < 19


def test_a_tiny_sample_has_a_wide_interval_not_a_point() -> None:
    found = scores.score(SurveyKind.NPS, [10, 10, 9])
    assert found.value == 100.0
    assert found.low is not None and found.low < 50
    assert not found.readable


def test_more_answers_narrow_the_interval() -> None:
    few = scores.score(SurveyKind.CSAT, [5, 4, 2, 5, 1] * 4)
    many = scores.score(SurveyKind.CSAT, [5, 4, 2, 5, 1] * 40)
    assert few.value == many.value == 60.0
    assert (many.high - many.low) < (few.high - few.low)  # type: ignore[operator]


def test_wilson_matches_the_published_interval() -> None:
    # 8 of 10: the Wilson 95% interval is 0.490…0.943 (Newcombe 1998, table I).
    assert scores.wilson(8, 10) == (49.0, 94.3)
    assert scores.wilson(0, 0) == (0.0, 100.0)


@pytest.mark.parametrize(
    ("kind", "score", "band"),
    [
        (SurveyKind.NPS, 6, -1),
        (SurveyKind.NPS, 7, 0),
        (SurveyKind.NPS, 9, 1),
        (SurveyKind.CSAT, 2, -1),
        (SurveyKind.CSAT, 3, 0),
        (SurveyKind.CSAT, 4, 1),
        (SurveyKind.CES, 3, -1),
        (SurveyKind.CES, 5, 1),
    ],
)
def test_bands_follow_each_scales_convention(kind: SurveyKind, score: int, band: int) -> None:
    assert scores.band(kind, score) == band
    assert scores.is_detractor(kind, score) is (band < 0)
    assert scores.is_promoter(kind, score) is (band > 0)


def test_no_answers_is_no_score() -> None:
    found = scores.score(SurveyKind.CES, [])
    assert found.n == 0 and found.value is None
