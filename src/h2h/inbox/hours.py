"""Business hours: when a workspace is open, and SLA clocks that only run while it is.

Hours are wall-clock times in the workspace's time zone: each weekday has one interval from
``open`` to ``close`` (``close`` of 00:00 means the end of the day); a weekday that is
missing, or a holiday, is closed all day. An interval is half-open: open at the opening
instant, closed at the closing one.

Each local date's interval is turned into two UTC instants with ``zoneinfo``'s ``fold=0``
reading, so a 09:00–17:00 day lasts 8 real hours on DST switch days too (and a 24-hour day
lasts 23 or 25). An ambiguous wall time (the repeated hour in autumn) means its first
occurrence; a nonexistent one (the skipped hour in spring) is read with the offset in force
before the switch, which lands it one gap later. Intervals that this makes empty are
skipped, and one that would start before the previous day's ends is trimmed, so the open
time is always a sorted list of disjoint intervals, and ``add`` and ``elapsed`` agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
MAX_DAYS = 3 * 366  # how far ``add`` looks for open time before giving up
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, kw_only=True)
class BusinessHours:
    """Open hours per weekday in one time zone, with closed holidays; validated on creation."""

    timezone: str = "UTC"
    days: Mapping[int, tuple[time, time]]
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str):
            raise ValueError(f"timezone: not a time zone name {self.timezone!r}")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        for weekday, hours in self.days.items():
            _check_day(weekday, hours)
        for holiday in self.holidays:
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise ValueError(f"holidays: not a date {holiday!r}")
        # Frozen all the way down: a caller's dict mutated later must not change the hours.
        object.__setattr__(self, "days", MappingProxyType(dict(sorted(self.days.items()))))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "_zone", zone)

    def __hash__(self) -> int:
        return hash((self.timezone, tuple(self.days.items()), self.holidays))

    @classmethod
    def always(cls) -> BusinessHours:
        """Open around the clock, every day, in UTC."""
        return cls(days={weekday: (MIDNIGHT, MIDNIGHT) for weekday in range(7)})

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> BusinessHours:
        """Hours from their JSON form; nothing, or no ``days``, means open around the clock."""
        if not config:
            return cls.always()
        for key in config:
            if key not in ("timezone", "days", "holidays"):
                raise ValueError(f"{key}: unknown field; use timezone, days, holidays")
        days = _parse_days(config["days"]) if "days" in config else cls.always().days
        holidays = config.get("holidays", [])
        if not isinstance(holidays, list):
            raise ValueError(f"holidays: not a list of dates {holidays!r}")
        return cls(
            timezone=config.get("timezone", "UTC"),
            days=days,
            holidays=frozenset(_parse_date(f"holidays[{i}]", v) for i, v in enumerate(holidays)),
        )

    def to_config(self) -> dict[str, Any]:
        """The JSON form ``from_config`` reads: every weekday, ``None`` when closed."""
        days: dict[str, list[str] | None] = {}
        for weekday, name in enumerate(DAY_NAMES):
            hours = self.days.get(weekday)
            days[name] = None if hours is None else [_format(hours[0]), _format(hours[1], True)]
        holidays = [holiday.isoformat() for holiday in sorted(self.holidays)]
        return {"timezone": self.timezone, "days": days, "holidays": holidays}

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls within open hours."""
        at = _utc("at", at)
        return any(start <= at < end for start, end in self._intervals(at, 3))

    def add(self, start: datetime, minutes: float) -> datetime:
        """The UTC instant when ``minutes`` of open time have passed since ``start``."""
        start = _utc("start", start)
        if minutes <= 0:
            return start
        if not self.days:
            raise ValueError("no open hours")
        if not minutes <= MAX_DAYS * 24 * 60:  # also refuses NaN and infinity
            raise ValueError(f"minutes: {minutes} is more than {MAX_DAYS} days")
        left = timedelta(minutes=minutes)
        for opens, closes in self._intervals(start, MAX_DAYS):
            if closes <= start:
                continue
            opens = max(opens, start)
            if closes - opens >= left:
                return opens + left
            left -= closes - opens
        raise ValueError(f"no open hours within {MAX_DAYS} days after {start.isoformat()}")

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Minutes of open time between ``start`` and ``end``; 0 when ``end`` is not later."""
        start, end = _utc("start", start), _utc("end", end)
        if end <= start:
            return 0.0
        total = timedelta()
        # Local dates can run up to a day ahead of UTC ones, and offsets change by under a day.
        for opens, closes in self._intervals(start, (end - start).days + 4):
            if opens >= end:
                break
            total += max(timedelta(), min(closes, end) - max(opens, start))
        return total / timedelta(minutes=1)

    def _intervals(self, start: datetime, days: int) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in UTC, sorted and disjoint, from the local day before ``start``."""
        first = start.astimezone(self._zone).date() - timedelta(days=1)
        previous = datetime.min.replace(tzinfo=UTC)
        for offset in range(days):
            day = first + timedelta(days=offset)
            hours = self.days.get(day.weekday())
            if hours is None or day in self.holidays:
                continue
            closes_on = day + timedelta(days=1) if hours[1] == MIDNIGHT else day
            opens = max(previous, _instant(day, hours[0], self._zone))
            closes = _instant(closes_on, hours[1], self._zone)
            if closes > opens:
                previous = closes
                yield opens, closes


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime {value.isoformat()}; pass an aware one")
    return value.astimezone(UTC)


def _check_day(weekday: object, hours: object) -> None:
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"days: weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)")
    where = f"days.{DAY_NAMES[weekday]}"
    if not (isinstance(hours, tuple) and len(hours) == 2):
        raise ValueError(f"{where}: not an (open, close) pair {hours!r}")
    for label, value in zip(("open", "close"), hours, strict=True):
        if not isinstance(value, time) or value.tzinfo or value.second or value.microsecond:
            raise ValueError(f"{where}: {label} {value!r} is not a whole-minute local time")
    opens, closes = hours
    if closes != MIDNIGHT and closes <= opens:
        raise ValueError(f"{where}: close {_format(closes)} is not after open {_format(opens)}")


def _parse_days(config: object) -> dict[int, tuple[time, time]]:
    if not isinstance(config, Mapping):
        raise ValueError(f"days: not a mapping of weekday names {config!r}")
    days: dict[int, tuple[time, time]] = {}
    for name, hours in config.items():
        if name not in DAY_NAMES:
            raise ValueError(f"days.{name}: unknown day; use {', '.join(DAY_NAMES)}")
        if hours is None:
            continue
        if not (isinstance(hours, list | tuple) and len(hours) == 2):
            raise ValueError(f"days.{name}: not an [open, close] pair {hours!r}")
        if hours[0] == "24:00":
            raise ValueError(f"days.{name}: open 24:00 is the end of the day")
        opens = _parse_time(f"days.{name}", "open", hours[0])
        days[DAY_NAMES.index(name)] = (opens, _parse_time(f"days.{name}", "close", hours[1]))
    return days


def _parse_time(where: str, label: str, value: object) -> time:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise ValueError(f"{where}: {label} is not a time HH:MM {value!r}")
    return MIDNIGHT if value == "24:00" else time.fromisoformat(value)


def _parse_date(where: str, value: object) -> date:
    try:
        if isinstance(value, str) and _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{where}: not a date {value!r}")


def _format(value: time, closing: bool = False) -> str:
    return "24:00" if closing and value == MIDNIGHT else value.strftime("%H:%M")
