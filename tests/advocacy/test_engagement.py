"""The engagement model tells chosen, lasting engagement from clicks around a giveaway."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from h2h.advocacy import engagement
from h2h.advocacy.engagement import (
    DEFAULT,
    Activity,
    ActivityKind,
    EngagementSettings,
    Level,
    assess,
    shares,
    transitions,
)
from h2h.errors import InvalidInput

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
K = ActivityKind


def ago(days: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def monthly(kinds: list[ActivityKind], months: Iterable[int], *, day: int = 10) -> list[Activity]:
    """One of each kind in each listed month (0 = the latest 30 days), ``day`` days into it."""
    return [Activity(kind, ago(30 * m + day)) for m in months for kind in kinds]


def msgids(result: engagement.Engagement) -> list[str]:
    return [reason.msgid for reason in result.reasons]


def giveaway(days_ago: float, *, campaign: str | None = "cinema") -> list[Activity]:
    likes = [Activity(K.LIKE, ago(days_ago, hours=3 * i), campaign) for i in range(50)]
    return [*likes, Activity(K.FOLLOW, ago(days_ago), campaign)]


def test_a_giveaway_liker_is_not_engaged() -> None:
    history = [*giveaway(60), Activity(K.UNFOLLOW, ago(52))]
    result = assess(history, now=NOW)
    assert result.level is Level.ONE_OFF
    assert result.promotion_driven
    assert result.interactions == 0 and result.discounted == 51 and result.chosen == 0
    [promotion] = [r for r in result.reasons if "{campaign}" in r.msgid]
    assert promotion.params == {"campaign": "cinema", "count": 51}
    assert "unfollowed" in promotion.text()
    assert result.score == 0


def test_an_untagged_burst_followed_by_silence_is_promotion_driven() -> None:
    result = assess(giveaway(90, campaign=None), now=NOW)
    assert result.promotion_driven and result.level is Level.ONE_OFF
    assert any("burst" in r.msgid and "silence" in r.msgid for r in result.reasons)
    assert result.interactions == 0


def test_a_giveaway_entry_does_not_make_a_steady_customer_less_deep() -> None:
    steady = monthly([K.PURCHASE, K.CONVERSATION_STARTED], range(12))
    history = [*steady, *giveaway(200), Activity(K.UNFOLLOW, ago(195))]
    result = assess(history, now=NOW)
    assert result.level is Level.DEEP
    assert result.promotion_driven and result.discounted == 51


def test_a_burst_that_is_still_going_on_is_not_called_promotion_driven_yet() -> None:
    result = assess(giveaway(5), now=NOW)
    assert not result.promotion_driven
    assert result.interactions == 51


def test_a_burst_followed_by_more_activity_is_not_promotion_driven() -> None:
    history = [*giveaway(100, campaign=None), *monthly([K.LIKE, K.COMMENT], range(3))]
    result = assess(history, now=NOW)
    assert not result.promotion_driven
    assert result.interactions == 57


def test_a_steady_fans_likes_do_not_look_like_a_burst() -> None:
    daily = [Activity(K.LIKE, ago(day)) for day in range(40, 300)]
    result = assess(daily, now=NOW)  # a daily liker who has paused for forty days
    assert not result.promotion_driven
    assert result.level is Level.ONE_OFF  # still: likes alone are not engagement


def test_a_steady_customer_is_deep() -> None:
    history = monthly([K.PURCHASE, K.CONVERSATION_STARTED], range(12))
    result = assess(history, now=NOW)
    assert result.level is Level.DEEP
    assert result.active_periods == 12 and result.chosen == 24
    assert result.last_chosen_at == ago(10)
    assert result.reasons[0].msgid == engagement.DEEP
    assert {"active": 12, "months": 12} in [r.params for r in result.reasons]
    assert result.score > 80


def test_a_customer_with_a_short_pause_is_still_deep() -> None:
    history = monthly([K.PURCHASE], [*range(0, 4), *range(6, 12)])
    assert assess(history, now=NOW).level is Level.DEEP


def test_fifty_replies_in_one_day_are_not_deep() -> None:
    history = [Activity(K.REPLY, ago(3, hours=i / 10)) for i in range(50)]
    result = assess(history, now=NOW)
    assert result.level is Level.SHALLOW
    assert result.active_periods == 1 and result.chosen == 50


def test_an_intermittent_customer_comes_and_goes() -> None:
    spring, autumn = range(7, 10), range(1, 4)  # March–May and September–November
    history = monthly([K.PURCHASE, K.REPLY], [*spring, *autumn])
    result = assess(history, now=NOW)
    assert result.level is Level.INTERMITTENT
    assert result.active_periods == 6
    assert {"months": 3} in [r.params for r in result.reasons]  # the summer pause


def test_recency_matters_deep_a_year_ago_then_silent_is_not_deep() -> None:
    history = monthly([K.PURCHASE, K.CONVERSATION_STARTED], range(8, 12))
    history += [Activity(K.PURCHASE, ago(30 * m + 5)) for m in range(12, 24)]  # older: outside
    result = assess(history, now=NOW)
    assert result.level is Level.SHALLOW
    assert result.reasons[0].msgid == engagement.SHALLOW
    deep_then = assess(history, now=NOW - timedelta(days=240))
    assert deep_then.level is Level.DEEP


def test_a_lapsed_deep_customer_is_shallow_and_told_why() -> None:
    history = monthly([K.PURCHASE], range(4, 12))
    result = assess(history, now=NOW)
    assert result.level is Level.SHALLOW
    assert result.reasons[0].msgid == engagement.LAPSED_DEEP
    assert result.reasons[0].params["limit"] == DEFAULT.deep_recent_days


def test_a_single_purchase_is_one_off_and_an_empty_history_is_none() -> None:
    assert assess([Activity(K.PURCHASE, ago(3))], now=NOW).level is Level.ONE_OFF
    nothing = assess([], now=NOW)
    assert nothing.level is Level.NONE and nothing.score == 0 and not nothing.promotion_driven
    assert nothing.reasons and nothing.last_chosen_at is None


def test_activities_outside_the_window_or_in_the_future_are_ignored() -> None:
    steady = monthly([K.PURCHASE, K.REPLY], range(12))
    future = [Activity(K.PURCHASE, NOW + timedelta(days=d)) for d in range(1, 40)]
    old = [Activity(K.PURCHASE, ago(400 + d)) for d in range(40)]
    assert assess([*steady, *future, *old], now=NOW) == assess(steady, now=NOW)
    assert assess([*future, *old], now=NOW).level is Level.NONE


def test_the_result_does_not_depend_on_the_order_of_the_history() -> None:
    history = [*monthly([K.PURCHASE, K.LIKE], range(0, 12, 3)), *giveaway(150, campaign=None)]
    shuffled = list(history)
    random.Random(4).shuffle(shuffled)  # noqa: S311 - a reproducible order
    assert assess(shuffled, now=NOW) == assess(history, now=NOW)


def test_a_weight_of_zero_switches_a_kind_off() -> None:
    votes = monthly([K.VOTE], range(12))
    assert assess(votes, now=NOW).level is Level.DEEP
    settings = EngagementSettings(weights={K.VOTE: 0.0})
    assert assess(votes, now=NOW, settings=settings).level is Level.ONE_OFF


def test_likes_raise_the_score_a_little_but_never_the_level() -> None:
    purchases = monthly([K.PURCHASE], range(0, 12, 4))
    likes = [Activity(K.LIKE, ago(d)) for d in range(1, 300, 2)]
    plain, liked = assess(purchases, now=NOW), assess([*purchases, *likes], now=NOW)
    assert liked.level is plain.level
    assert plain.score < liked.score <= plain.score + engagement.SCORE_MIX["interactions"]


def test_every_level_explains_itself() -> None:
    histories = {
        Level.DEEP: monthly([K.PURCHASE], range(12)),
        Level.INTERMITTENT: monthly([K.PURCHASE], [1, 2, 6, 7]),
        Level.SHALLOW: monthly([K.REPLY], [0, 1]),
        Level.ONE_OFF: [Activity(K.LIKE, ago(3))],
        Level.NONE: [],
    }
    for level, history in histories.items():
        result = assess(history, now=NOW)
        assert result.level is level
        assert result.reasons
        assert all(reason.text() for reason in result.reasons)  # every placeholder filled
        assert json.dumps([reason.as_dict() for reason in result.reasons])


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        Activity(K.LIKE, datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    assert error.value.field == "at"
    with pytest.raises(InvalidInput) as error:
        assess([], now=datetime(2026, 1, 1))  # noqa: DTZ001
    assert error.value.field == "now"


def test_an_activity_kind_may_come_as_text_but_must_be_known() -> None:
    assert Activity("purchase", NOW).kind is K.PURCHASE  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as error:
        Activity("poke", NOW)  # type: ignore[arg-type]
    assert error.value.field == "kind"


def test_a_hundred_thousand_activities_are_assessed() -> None:
    rng = random.Random(1)  # noqa: S311 - a reproducible history
    kinds = [K.LIKE, K.COMMENT, K.REPLY, K.PURCHASE, K.FOLLOW]
    history = [Activity(rng.choice(kinds), ago(rng.uniform(0, 359))) for _ in range(100_000)]
    result = assess(history, now=NOW)
    assert result.level is Level.DEEP
    assert result.chosen + result.interactions == 100_000


# --- settings -----------------------------------------------------------------------------


def test_settings_round_trip_through_json() -> None:
    settings = EngagementSettings(window_days=180, deep_min_months=4, weights={K.LIKE: 0.5})
    stored = json.loads(json.dumps(settings.to_dict()))
    assert EngagementSettings.from_dict(stored) == settings
    assert EngagementSettings.from_dict(stored).weights == settings.weights
    assert EngagementSettings.from_dict({}) == DEFAULT
    partial = EngagementSettings.from_dict({"weights": {"like": 1}, "burst_days": 14.0})
    assert partial.weights[K.LIKE] == 1.0 and partial.weights[K.PURCHASE] == 3.0
    assert partial.burst_days == 14 and isinstance(partial.burst_days, int)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"window_days": "365"}, "window_days"),
        ({"window_days": True}, "window_days"),
        ({"window_days": 10}, "window_days"),
        ({"burst_days": 2.5}, "burst_days"),
        ({"recency_half_life_days": float("nan")}, "recency_half_life_days"),
        ({"deep_min_months": 13}, "deep_min_months"),
        ({"colour": "blue"}, "colour"),
        ({"weights": {"poke": 1}}, "weights.poke"),
        ({"weights": {"like": -1}}, "weights.like"),
        ({"weights": {"like": "a lot"}}, "weights.like"),
        ({"weights": {"unfollow": 1}}, "weights.unfollow"),
        ({"weights": [1, 2]}, "weights"),
    ],
)
def test_bad_settings_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        EngagementSettings.from_dict(data)
    assert error.value.field == field


def test_settings_must_be_an_object() -> None:
    with pytest.raises(InvalidInput) as error:
        EngagementSettings.from_dict([])
    assert error.value.field == "settings"


# --- reports ------------------------------------------------------------------------------


def test_shares_sum_to_one_and_list_every_level() -> None:
    result = shares([Level.DEEP, Level.DEEP, Level.ONE_OFF, Level.NONE])
    assert list(result) == list(Level)
    assert sum(result.values()) == pytest.approx(1.0)
    assert result[Level.DEEP] == pytest.approx(0.5) and result[Level.SHALLOW] == 0.0
    assert set(shares([]).values()) == {0.0}


def test_transitions_count_movers_including_new_and_gone_people() -> None:
    before = {"ann": Level.DEEP, "bob": Level.SHALLOW, "cid": Level.ONE_OFF, "dan": Level.DEEP}
    after = {"ann": Level.DEEP, "bob": Level.INTERMITTENT, "dan": Level.SHALLOW, "eve": Level.DEEP}
    moves = transitions(before, after)
    assert moves == {
        (Level.DEEP, Level.DEEP): 1,
        (Level.DEEP, Level.SHALLOW): 1,
        (Level.SHALLOW, Level.INTERMITTENT): 1,
        (Level.ONE_OFF, Level.NONE): 1,
        (Level.NONE, Level.DEEP): 1,
    }
    assert sum(moves.values()) == len(before.keys() | after.keys())
    assert list(moves) == sorted(
        moves, key=lambda p: (list(Level).index(p[0]), list(Level).index(p[1]))
    )


def test_a_campaign_tag_on_an_active_customers_likes_is_not_promotion_driven() -> None:
    purchases = monthly([K.PURCHASE], range(12), day=20)
    tagged = [Activity(K.LIKE, ago(d), "loyalty") for d in range(5, 360, 45)]
    result = assess([*purchases, *tagged], now=NOW)
    assert not result.promotion_driven
    assert result.interactions == len(tagged)


def test_an_unfollow_long_after_a_giveaway_does_not_make_it_promotion_driven() -> None:
    history = [*giveaway(200), *monthly([K.REPLY], range(1, 7)), Activity(K.UNFOLLOW, ago(20))]
    result = assess(history, now=NOW)
    assert not result.promotion_driven
    assert result.discounted == 0
