"""Advocates are promoters and positive voices about our subjects; detractors at risk are
unhappy people who are widely heard or have open issues."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from h2h.advocacy import influence
from h2h.advocacy.engagement import Level
from h2h.advocacy.influence import (
    Board,
    InfluenceSettings,
    Voice,
    assess_voice,
    rank,
    reach,
    relevance,
    sentiment_trend,
)
from h2h.errors import InvalidInput

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def said(value: float, *days: float) -> tuple[tuple[datetime, float], ...]:
    return tuple((ago(d), value) for d in days)


def msgids(standing: influence.Standing) -> list[str]:
    return [reason.msgid for reason in standing.reasons]


PROMOTER = Voice(followers=150, posts=4, relevant_posts=1, nps=10, engagement=Level.DEEP)
LOUD_ANGRY = Voice(
    followers=50_000,
    posts=20,
    reposts=300,
    relevant_posts=12,
    sentiment=said(-0.8, 3, 10, 20),
    open_issues=1,
)
QUIET_ANGRY = Voice(followers=40, posts=3, relevant_posts=3, sentiment=said(-0.8, 3, 10, 20))


def test_a_promoter_with_modest_reach_is_an_advocate() -> None:
    standing = assess_voice(PROMOTER, now=NOW)
    assert standing.advocate and not standing.at_risk
    assert standing.reach < 0.5
    assert standing.reasons[0].msgid == "Advocate: a promoter who is not unhappy"
    [score] = [r for r in standing.reasons if r.msgid == influence.ADVOCATE_SCORE]
    parts = ("reach", "relevance", "sentiment", "nps", "engagement")
    assert abs(sum(int(score.params[p]) for p in parts) - standing.advocate_score) <= 3
    assert score.params["nps"] == 20 and score.params["engagement"] == 10


def test_a_positive_voice_about_our_subjects_is_an_advocate_without_an_nps_answer() -> None:
    voice = Voice(followers=2_000, posts=10, relevant_posts=8, sentiment=said(0.9, 5, 15, 40, 60))
    standing = assess_voice(voice, now=NOW)
    assert standing.advocate
    assert standing.reasons[0].msgid == "Advocate: speaks well of us about our subjects"


def test_a_positive_but_irrelevant_loud_voice_is_not_an_advocate() -> None:
    voice = Voice(followers=1_000_000, posts=200, reposts=5_000, sentiment=said(0.9, 1, 2, 3, 4))
    standing = assess_voice(voice, now=NOW)
    assert standing.reach == 1.0 and standing.relevance == 0.0
    assert not standing.advocate and standing.advocate_score == 0.0
    assert not standing.at_risk
    assert standing.reasons[0].msgid == (
        "Not an advocate: speaks well of us, but rarely about our subjects"
    )


def test_an_unhappy_promoter_is_not_listed_as_an_advocate() -> None:
    voice = Voice(followers=300, relevant_posts=3, posts=3, nps=9, sentiment=said(-0.9, 2, 8, 9))
    standing = assess_voice(voice, now=NOW)
    assert not standing.advocate
    assert "Not an advocate now: speaks well of us, but is unhappy lately" in msgids(standing)


def test_a_loud_negative_voice_with_an_open_issue_is_at_risk_and_ranks_first() -> None:
    quiet_with_issue = Voice(followers=40, sentiment=said(-0.8, 3, 10, 20), open_issues=1)
    people = [("quiet", QUIET_ANGRY), ("loud", LOUD_ANGRY), ("issue", quiet_with_issue)]
    loud = assess_voice(LOUD_ANGRY, now=NOW)
    assert loud.at_risk and not loud.advocate
    assert loud.reasons[0].msgid == "At risk: unhappy, widely heard and with open issues"
    assert not assess_voice(QUIET_ANGRY, now=NOW).at_risk  # unhappy, but unheard and no issue
    ranked = rank(people, now=NOW, kind="at_risk", limit=10)
    assert [key for key, _ in ranked] == ["loud", "issue"]
    assert ranked[0][1].risk_score > ranked[1][1].risk_score > 0


def test_risk_grows_with_reach_and_open_issues() -> None:
    base = dict(posts=5, relevant_posts=5, sentiment=said(-0.7, 2, 4, 6))
    scores = [
        assess_voice(Voice(followers=f, open_issues=n, **base), now=NOW).risk_score  # type: ignore[arg-type]
        for f, n in [(100, 1), (10_000, 1), (10_000, 3)]
    ]
    assert scores == sorted(scores) and len(set(scores)) == 3


def test_a_detractor_answer_alone_makes_someone_unhappy() -> None:
    standing = assess_voice(Voice(nps=3, open_issues=2), now=NOW)
    assert standing.at_risk and standing.unhappiness == pytest.approx(0.7)
    assert "Detractor: answered {nps} to the NPS question" in msgids(standing)


def test_falling_sentiment_counts_as_unhappy() -> None:
    voice = Voice(
        followers=20_000, sentiment=said(0.9, 150, 160, 170, 180, 200) + said(-0.2, 5, 10, 20, 30)
    )
    trend = sentiment_trend(voice, now=NOW)
    assert trend.recent < 0 and trend.change < -0.4
    standing = assess_voice(voice, now=NOW)
    assert standing.at_risk
    assert any(r.msgid.startswith("Sentiment falling") for r in standing.reasons)


def test_reach_is_log_scaled_and_uses_echo_when_followers_are_unknown() -> None:
    values = [reach(Voice(followers=f)) for f in (0, 10, 100, 1_000, 100_000, 10**8)]
    assert values == sorted(values) and values[0] == 0.0 and values[-1] == 1.0
    assert values[3] == pytest.approx(0.6, abs=0.01)  # 1,000 followers: three fifths of the way
    echoed = reach(Voice(reposts=200, replies_received=50))
    assert 0.7 < echoed < 0.9
    assert reach(Voice(followers=10, reposts=200, replies_received=50)) == echoed


def test_relevance_needs_several_posts_about_us() -> None:
    assert relevance(Voice(posts=50)) == 0.0
    one, ten = relevance(Voice(posts=1, relevant_posts=1)), relevance(Voice(relevant_posts=10))
    assert one < 0.3 < ten < 1.0
    assert relevance(Voice(posts=100, relevant_posts=10)) < ten


def test_sentiment_is_robust_for_few_points_and_ignores_the_future() -> None:
    assert sentiment_trend(Voice(), now=NOW) == (0.0, 0.0)
    one = sentiment_trend(Voice(sentiment=said(-1.0, 3)), now=NOW)
    assert one.recent == pytest.approx(-0.5) and one.change == 0.0
    future = Voice(sentiment=said(-1.0, 3) + ((NOW + timedelta(days=5), 1.0),))
    assert sentiment_trend(future, now=NOW) == one


def test_ranking_is_deterministic_and_respects_the_limit() -> None:
    twins = [(f"p{i}", PROMOTER) for i in (3, 1, 2)]
    ranked = rank([*twins, ("loud", LOUD_ANGRY)], now=NOW, kind=Board.ADVOCATES, limit=2)
    assert [key for key, _ in ranked] == ["p1", "p2"]
    assert rank(reversed(twins), now=NOW, kind="advocates", limit=2) == ranked


@pytest.mark.parametrize(("kwargs", "field"), [({"kind": "fans"}, "kind"), ({"limit": 0}, "limit")])
def test_bad_ranking_requests_name_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments = {"kind": "advocates", "limit": 5, **kwargs}
    with pytest.raises(InvalidInput) as error:
        rank([], now=NOW, **arguments)  # type: ignore[arg-type]
    assert error.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"nps": 11}, "nps"),
        ({"csat": 0}, "csat"),
        ({"followers": -1}, "followers"),
        ({"open_issues": 1.5}, "open_issues"),
        ({"sentiment": ((NOW, 2.0),)}, "sentiment"),
        ({"sentiment": ((datetime(2026, 1, 1), 0.5),)}, "sentiment"),  # noqa: DTZ001 - naive
    ],
)
def test_bad_voices_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Voice(**kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_every_standing_explains_itself() -> None:
    for voice in (PROMOTER, LOUD_ANGRY, QUIET_ANGRY, Voice()):
        standing = assess_voice(voice, now=NOW)
        assert standing.reasons
        assert all(reason.text() for reason in standing.reasons)


def test_influence_settings_round_trip_and_refuse_bad_values() -> None:
    settings = InfluenceSettings(high_reach=0.5, min_relevant_posts=2)
    assert InfluenceSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    for data, field in [
        ({"high_reach": 2}, "high_reach"),
        ({"recent_days": 400}, "recent_days"),
        ({"loudness": 1}, "loudness"),
    ]:
        with pytest.raises(InvalidInput) as error:
            InfluenceSettings.from_dict(data)
        assert error.value.field == field


def test_a_lower_reach_bar_puts_a_quieter_unhappy_person_at_risk() -> None:
    voice = Voice(followers=400, sentiment=said(-0.8, 3, 10, 20))
    assert not assess_voice(voice, now=NOW).at_risk
    assert assess_voice(voice, now=NOW, settings=InfluenceSettings(high_reach=0.5)).at_risk


def test_zero_thresholds_do_not_make_a_silent_person_unhappy() -> None:
    settings = InfluenceSettings(negative_sentiment=0.0, falling_change=0.0)
    standing = assess_voice(Voice(followers=10**6, open_issues=1), now=NOW, settings=settings)
    assert not standing.at_risk and standing.unhappiness == 0.0
    assert not any("badly" in r.msgid or "falling" in r.msgid for r in standing.reasons)
