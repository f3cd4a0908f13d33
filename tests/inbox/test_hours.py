"""Business hours: add and elapsed across nights, weekends, holidays and DST; config; errors."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from h2h.inbox.hours import BusinessHours

MOSCOW = ZoneInfo("Europe/Moscow")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = {"mon": ["09:00", "18:00"], "tue": ["09:00", "18:00"], "wed": ["09:00", "18:00"]}
WEEKDAYS |= {"thu": ["09:00", "18:00"], "fri": ["09:00", "18:00"]}


def office(timezone: str = "Europe/Moscow", **config: Any) -> BusinessHours:
    """Monday to Friday, 09:00–18:00, in ``timezone``."""
    return BusinessHours.from_config({"timezone": timezone, "days": WEEKDAYS, **config})


def every_day(timezone: str, opens: str, closes: str) -> BusinessHours:
    days = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), [opens, closes])
    return BusinessHours.from_config({"timezone": timezone, "days": days})


def msk(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=MOSCOW)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# 2026-06-01 is a Monday; 2026-06-05 a Friday.


def test_always_counts_every_minute() -> None:
    hours = BusinessHours.always()
    start = datetime(2026, 6, 6, 23, 30, tzinfo=UTC)
    assert hours.add(start, 90) == datetime(2026, 6, 7, 1, 0, tzinfo=UTC)
    assert hours.add(start, 7 * 24 * 60) == start + timedelta(days=7)
    assert hours.elapsed(start, start + timedelta(days=3)) == 3 * 24 * 60
    assert hours.is_open(start)


def test_add_inside_hours_finishes_the_same_day() -> None:
    due = office().add(msk(2026, 6, 1, 10, 0), 120)
    assert due == msk(2026, 6, 1, 12, 0)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_add_spans_the_night_to_the_next_morning() -> None:
    assert office().add(msk(2026, 6, 1, 17, 0), 120) == msk(2026, 6, 2, 10, 0)


def test_add_ending_exactly_at_close_is_the_closing_instant() -> None:
    assert office().add(msk(2026, 6, 1, 17, 0), 60) == msk(2026, 6, 1, 18, 0)


def test_start_before_opening_starts_the_clock_at_opening() -> None:
    assert office().add(msk(2026, 6, 2, 6, 15), 30) == msk(2026, 6, 2, 9, 30)


def test_start_after_friday_close_lands_on_monday() -> None:
    assert office().add(msk(2026, 6, 5, 19, 0), 60) == msk(2026, 6, 8, 10, 0)
    assert office().add(msk(2026, 6, 6, 12, 0), 60) == msk(2026, 6, 8, 10, 0)


def test_add_of_nothing_returns_the_start_in_utc() -> None:
    start = msk(2026, 6, 6, 12, 0)  # a closed Saturday
    for minutes in (0, -5, -math.inf):
        result = office().add(start, minutes)
        assert result == start
        assert result.tzinfo is UTC


def test_fractional_minutes_are_kept_to_the_microsecond() -> None:
    due = office().add(msk(2026, 6, 1, 9, 0), 0.5)
    assert due == msk(2026, 6, 1, 9, 0, 30)


def test_holidays_are_skipped() -> None:
    hours = office(holidays=["2026-06-12"])  # Russia Day, a Friday
    assert hours.add(msk(2026, 6, 11, 17, 0), 120) == msk(2026, 6, 15, 10, 0)
    assert not hours.is_open(msk(2026, 6, 12, 12, 0))
    assert hours.elapsed(msk(2026, 6, 11, 0, 0), msk(2026, 6, 13, 0, 0)) == 9 * 60


def test_a_long_holiday_closure_is_crossed() -> None:
    closure = [(date(2026, 12, 31) + timedelta(days=n)).isoformat() for n in range(11)]
    hours = office(holidays=closure)
    assert hours.add(msk(2026, 12, 30, 17, 0), 120) == msk(2027, 1, 11, 10, 0)
    assert hours.elapsed(msk(2026, 12, 30, 17, 0), msk(2027, 1, 11, 10, 0)) == 120


def test_add_gives_up_after_three_years_of_closure() -> None:
    day, closure = date(2026, 6, 1), []
    while day < date(2029, 12, 31):
        closure.append(day.isoformat())
        day += timedelta(days=1)
    hours = office(holidays=closure)
    with pytest.raises(ValueError, match="no open hours within"):
        hours.add(msk(2026, 6, 1, 10, 0), 1)
    assert hours.elapsed(msk(2026, 6, 1), msk(2027, 6, 1)) == 0


def test_no_open_days_at_all_is_refused() -> None:
    hours = BusinessHours(days={})
    with pytest.raises(ValueError, match="^no open hours$"):
        hours.add(datetime(2026, 6, 1, tzinfo=UTC), 10)
    assert hours.elapsed(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)) == 0
    assert not hours.is_open(datetime(2026, 6, 1, 12, tzinfo=UTC))


@pytest.mark.parametrize("minutes", [math.nan, math.inf, 4 * 366 * 24 * 60])
def test_add_refuses_minutes_beyond_the_search_window(minutes: float) -> None:
    with pytest.raises(ValueError, match="^minutes: "):
        office().add(msk(2026, 6, 1, 10, 0), minutes)


def test_moscow_keeps_one_offset_all_year() -> None:
    hours = office()
    winter = hours.add(msk(2026, 1, 12, 9, 0), 60)
    summer = hours.add(msk(2026, 7, 13, 9, 0), 60)
    assert (winter.hour, summer.hour) == (7, 7)  # 10:00 MSK is 07:00 UTC in both


def test_new_york_spring_forward_day_still_has_eight_open_hours() -> None:
    hours = every_day("America/New_York", "09:00", "17:00")
    start = ny(2026, 3, 8, 9, 0)  # clocks went from 02:00 EST to 03:00 EDT
    assert hours.add(start, 8 * 60) == ny(2026, 3, 8, 17, 0)
    assert hours.add(start, 8 * 60) == datetime(2026, 3, 8, 21, 0, tzinfo=UTC)
    assert hours.elapsed(ny(2026, 3, 8, 0, 0), ny(2026, 3, 9, 0, 0)) == 8 * 60
    # The evening before the switch was EST: 17:00 EST is 22:00 UTC, the day after 21:00.
    assert hours.add(ny(2026, 3, 7, 16, 0), 120) == ny(2026, 3, 8, 10, 0)


def test_new_york_fall_back_day_still_has_eight_open_hours() -> None:
    hours = every_day("America/New_York", "09:00", "17:00")
    start = ny(2026, 11, 1, 9, 0)  # clocks went from 02:00 EDT back to 01:00 EST
    assert hours.add(start, 8 * 60) == datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
    assert hours.elapsed(ny(2026, 11, 1, 0, 0), ny(2026, 11, 2, 0, 0)) == 8 * 60
    assert hours.add(ny(2026, 10, 31, 16, 0), 120) == ny(2026, 11, 1, 10, 0)


def test_a_whole_day_on_a_dst_switch_lasts_23_or_25_real_hours() -> None:
    hours = every_day("Europe/London", "00:00", "00:00")
    spring = datetime(2026, 3, 29, tzinfo=LONDON)
    autumn = datetime(2026, 10, 25, tzinfo=LONDON)
    assert hours.elapsed(spring, spring + timedelta(days=1)) == 23 * 60
    assert hours.elapsed(autumn, datetime(2026, 10, 26, tzinfo=LONDON)) == 25 * 60
    assert hours.is_open(datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON))


def test_opening_in_the_spring_gap_is_read_with_the_old_offset() -> None:
    hours = every_day("America/New_York", "02:30", "05:00")
    # 02:30 does not exist on 2026-03-08; read as EST it is 07:30 UTC, 03:30 EDT.
    assert hours.add(ny(2026, 3, 8, 0, 0), 1) == datetime(2026, 3, 8, 7, 31, tzinfo=UTC)
    assert hours.elapsed(ny(2026, 3, 8, 0, 0), ny(2026, 3, 9, 0, 0)) == 90


def test_opening_in_the_repeated_hour_means_its_first_occurrence() -> None:
    hours = every_day("America/New_York", "01:30", "03:00")
    # 01:30 happens twice on 2026-11-01; the first time is EDT, 05:30 UTC; 03:00 EST is 08:00.
    assert hours.add(ny(2026, 11, 1, 0, 0), 1) == datetime(2026, 11, 1, 5, 31, tzinfo=UTC)
    assert hours.elapsed(ny(2026, 11, 1, 0, 0), ny(2026, 11, 2, 0, 0)) == 150


def test_a_day_the_spring_gap_makes_empty_is_closed() -> None:
    hours = every_day("America/New_York", "02:30", "03:00")
    # 02:30 read as EST is 03:30 EDT, after the 03:00 EDT close: no open time that day.
    assert hours.elapsed(ny(2026, 3, 8, 0, 0), ny(2026, 3, 9, 0, 0)) == 0
    assert hours.add(ny(2026, 3, 8, 0, 0), 10) == ny(2026, 3, 9, 2, 40)


def test_closing_at_midnight_runs_on_into_the_next_day() -> None:
    days = {"mon": ["18:00", "24:00"], "tue": ["00:00", "02:00"]}
    hours = BusinessHours.from_config({"timezone": "Europe/Moscow", "days": days})
    assert hours.add(msk(2026, 6, 1, 23, 0), 120) == msk(2026, 6, 2, 1, 0)
    assert hours.is_open(msk(2026, 6, 2, 0, 0))
    assert hours.elapsed(msk(2026, 6, 1), msk(2026, 6, 3)) == 8 * 60


def test_is_open_includes_the_opening_and_excludes_the_closing_instant() -> None:
    hours = office()
    assert hours.is_open(msk(2026, 6, 1, 9, 0))
    assert hours.is_open(msk(2026, 6, 1, 17, 59, 59))
    assert not hours.is_open(msk(2026, 6, 1, 18, 0))
    assert not hours.is_open(msk(2026, 6, 1, 8, 59))
    assert not hours.is_open(msk(2026, 6, 6, 12, 0))
    assert hours.is_open(datetime(2026, 6, 1, 6, 0, tzinfo=UTC))  # 09:00 MSK


def test_elapsed_over_a_weekend_counts_only_open_hours() -> None:
    hours = office()
    assert hours.elapsed(msk(2026, 6, 5, 17, 0), msk(2026, 6, 8, 10, 0)) == 120
    assert hours.elapsed(msk(2026, 6, 6, 0, 0), msk(2026, 6, 8, 0, 0)) == 0
    assert hours.elapsed(msk(2026, 6, 1, 0, 0), msk(2026, 6, 8, 0, 0)) == 5 * 9 * 60


def test_elapsed_is_zero_when_end_is_not_after_start() -> None:
    hours = office()
    assert hours.elapsed(msk(2026, 6, 1, 12, 0), msk(2026, 6, 1, 12, 0)) == 0
    assert hours.elapsed(msk(2026, 6, 1, 12, 0), msk(2026, 6, 1, 10, 0)) == 0


def test_elapsed_accepts_ends_in_other_time_zones() -> None:
    hours = office()
    end = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # 13:00 MSK
    assert hours.elapsed(msk(2026, 6, 1, 12, 0), end) == 60


@pytest.mark.parametrize(
    ("hours", "first"),
    [
        (office("Europe/Moscow"), msk(2026, 6, 1)),
        (office("America/New_York", holidays=["2026-03-10"]), ny(2026, 3, 2)),
        (every_day("Europe/London", "08:00", "00:00"), datetime(2026, 10, 19, tzinfo=LONDON)),
        (BusinessHours.always(), datetime(2026, 6, 1, tzinfo=UTC)),
    ],
)
def test_elapsed_undoes_add_for_starts_across_two_weeks(
    hours: BusinessHours, first: datetime
) -> None:
    checked = 0
    start = first
    while start < first + timedelta(days=14):
        for minutes in (0.25, 45, 9 * 60, 3 * 9 * 60 + 7):
            due = hours.add(start, minutes)
            assert due >= start
            assert abs(hours.elapsed(start, due) - minutes) < 1e-6
            checked += 1
        start += timedelta(minutes=37)
    assert checked == 4 * math.ceil(14 * 24 * 60 / 37)


def test_from_config_of_nothing_is_open_around_the_clock() -> None:
    assert BusinessHours.from_config(None) == BusinessHours.always()
    assert BusinessHours.from_config({}) == BusinessHours.always()
    moscow = BusinessHours.from_config({"timezone": "Europe/Moscow"})
    assert moscow.days == BusinessHours.always().days
    assert moscow.timezone == "Europe/Moscow"


def test_from_config_reads_days_times_and_holidays() -> None:
    hours = office(holidays=["2027-01-01"])
    assert hours.days[0] == (time(9, 0), time(18, 0))
    assert 5 not in hours.days
    assert hours.holidays == frozenset({date(2027, 1, 1)})
    config = {"days": {"sat": ["10:00", "24:00"], "sun": None}}
    assert BusinessHours.from_config(config).days == {5: (time(10, 0), time(0, 0))}


def test_config_round_trips() -> None:
    config = {
        "timezone": "America/New_York",
        "days": {
            "mon": ["09:00", "17:30"],
            "tue": None,
            "wed": ["00:00", "24:00"],
            "thu": ["08:15", "12:00"],
            "fri": ["13:00", "24:00"],
            "sat": None,
            "sun": None,
        },
        "holidays": ["2026-11-26", "2026-12-25"],
    }
    hours = BusinessHours.from_config(config)
    assert hours.to_config() == config
    assert BusinessHours.from_config(hours.to_config()) == hours
    always = BusinessHours.always()
    assert BusinessHours.from_config(always.to_config()) == always
    assert always.to_config()["days"]["sun"] == ["00:00", "24:00"]


def test_hours_are_immutable_and_hashable() -> None:
    days = {0: (time(9, 0), time(18, 0))}
    hours = BusinessHours(timezone="Europe/Moscow", days=days)
    days[1] = (time(9, 0), time(18, 0))
    assert list(hours.days) == [0]
    with pytest.raises(TypeError):
        hours.days[1] = (time(9, 0), time(18, 0))  # type: ignore[index]
    twin = BusinessHours(timezone="Europe/Moscow", days={0: (time(9, 0), time(18, 0))})
    assert hours == twin
    assert len({hours, twin}) == 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Mars/Base"}, "timezone: unknown time zone 'Mars/Base'"),
        ({"timezone": "../etc/passwd"}, "timezone: unknown time zone"),
        ({"timezone": 3}, "timezone: not a time zone name 3"),
        ({"days": {"tue": ["18:00", "09:00"]}}, "days.tue: close 09:00 is not after open 18:00"),
        ({"days": {"tue": ["09:00", "09:00"]}}, "days.tue: close 09:00 is not after open 09:00"),
        ({"days": {"tue": ["9am", "18:00"]}}, "days.tue: open is not a time HH:MM '9am'"),
        ({"days": {"tue": ["09:00", "25:00"]}}, "days.tue: close is not a time HH:MM '25:00'"),
        ({"days": {"tue": ["24:00", "24:00"]}}, "days.tue: open 24:00 is the end of the day"),
        ({"days": {"tue": ["09:00"]}}, "days.tue: not an [open, close] pair"),
        ({"days": {"tue": "09:00-18:00"}}, "days.tue: not an [open, close] pair"),
        ({"days": {"tues": ["09:00", "18:00"]}}, "days.tues: unknown day; use mon, tue"),
        ({"days": ["mon"]}, "days: not a mapping"),
        ({"holidays": ["2027-01-01", "2027-01-02", "x"]}, "holidays[2]: not a date 'x'"),
        ({"holidays": ["2027-02-30"]}, "holidays[0]: not a date '2027-02-30'"),
        ({"holidays": ["20270101"]}, "holidays[0]: not a date '20270101'"),
        ({"holidays": "2027-01-01"}, "holidays: not a list of dates"),
        ({"timezone": "UTC", "tz": "UTC"}, "tz: unknown field"),
    ],
)
def test_bad_config_is_refused_naming_the_field(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        BusinessHours.from_config(config)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({7: (time(9), time(18))}, "days: weekday 7 is not 0 (Monday) to 6 (Sunday)"),
        ({4: (time(18), time(9))}, "days.fri: close 09:00 is not after open 18:00"),
        ({4: (time(9, 0, 30), time(18))}, "days.fri: open datetime.time(9, 0, 30) is not"),
        ({4: (time(9, tzinfo=UTC), time(18))}, "days.fri: open datetime.time(9, 0, tzinfo"),
        ({4: [time(9), time(18)]}, "days.fri: not an (open, close) pair"),
    ],
)
def test_bad_hours_are_refused_on_construction(days: Any, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        BusinessHours(days=days)
    assert str(refused.value).startswith(message)


def test_a_datetime_is_not_a_holiday() -> None:
    with pytest.raises(ValueError, match="^holidays: not a date"):
        BusinessHours(days={}, holidays=frozenset({datetime(2027, 1, 1, tzinfo=UTC)}))


def test_naive_datetimes_are_refused() -> None:
    hours, naive, aware = office(), datetime(2026, 6, 1, 10, 0), msk(2026, 6, 1, 10, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="^at: naive datetime"):
        hours.is_open(naive)
    with pytest.raises(ValueError, match="^start: naive datetime"):
        hours.add(naive, 10)
    with pytest.raises(ValueError, match="^start: naive datetime"):
        hours.elapsed(naive, aware)
    with pytest.raises(ValueError, match="^end: naive datetime"):
        hours.elapsed(aware, naive)
