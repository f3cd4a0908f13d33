"""Engagement, not interaction: a level per person from what they *chose* to do and how long
it lasted, not from how often they clicked (docs/advocacy.md has the model and examples).

"Interaction is not engagement" (Graham Hill): whoever liked a page for a free cinema ticket
and unfollowed the next day is not engaged. Engagement is the customer's choice and can be
deep, shallow or intermittent (Paul Greenberg). So:

- Only **chosen actions** (conversations started, replies, survey answers, ideas, votes,
  purchases, referrals, reviews) make a level; likes, follows and comments only add a little
  to the score.
- Persistence is counted in **distinct active months** (30-day periods counted back from
  ``now``), never in actions: fifty replies in one afternoon are one active month.
- A **burst** of interactions around a promotion followed by silence or an unfollow is
  flagged as promotion-driven, and those interactions count for nothing.

Every result carries the reasons that produced it, as ``N_()`` sentences with parameters, so
a reader sees *why* someone is deep and a workspace can tune the thresholds it disagrees with
(``EngagementSettings``, stored as JSON with ``to_dict``/``from_dict``).
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Any, TypeVar

from h2h.errors import N_, InvalidInput

DAY = 86_400.0
MONTH_DAYS = 30  # a "month" is 30 days counted back from now: every month is the same size
MONTH = MONTH_DAYS * DAY
# The score: persistence + recency + amount of chosen actions + interactions, out of 100.
SCORE_MIX = {"persistence": 40.0, "recency": 25.0, "amount": 25.0, "interactions": 10.0}
AMOUNT_SCALE = 10.0  # capped, weighted chosen actions that make 63 % of the "amount" points
INTERACTION_SCALE = 5.0
MAX_PROMOTION_REASONS = 3

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


class ActivityKind(enum.StrEnum):
    # chosen actions
    CONVERSATION_STARTED = "conversation_started"
    REPLY = "reply"
    SURVEY_ANSWER = "survey_answer"
    IDEA = "idea"
    VOTE = "vote"
    PURCHASE = "purchase"
    REFERRAL = "referral"
    REVIEW = "review"
    # one-off interactions
    LIKE = "like"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    COMMENT = "comment"
    SHARE = "share"
    MENTION = "mention"
    CAMPAIGN_ENTRY = "campaign_entry"  # took part in a giveaway or contest


CHOSEN = frozenset(
    {
        ActivityKind.CONVERSATION_STARTED,
        ActivityKind.REPLY,
        ActivityKind.SURVEY_ANSWER,
        ActivityKind.IDEA,
        ActivityKind.VOTE,
        ActivityKind.PURCHASE,
        ActivityKind.REFERRAL,
        ActivityKind.REVIEW,
    }
)
# What a giveaway asks for. Mentions are left out: "tag three friends" mentions the friends,
# and a run of mentions of us is more often a complaint than a contest.
BURST_KINDS = frozenset(
    {
        ActivityKind.LIKE,
        ActivityKind.FOLLOW,
        ActivityKind.COMMENT,
        ActivityKind.SHARE,
        ActivityKind.CAMPAIGN_ENTRY,
    }
)
DEFAULT_WEIGHTS: Mapping[ActivityKind, float] = MappingProxyType(
    {
        ActivityKind.REFERRAL: 4.0,
        ActivityKind.PURCHASE: 3.0,
        ActivityKind.CONVERSATION_STARTED: 2.0,
        ActivityKind.IDEA: 2.0,
        ActivityKind.REVIEW: 2.0,
        ActivityKind.SURVEY_ANSWER: 1.5,
        ActivityKind.REPLY: 1.0,
        ActivityKind.VOTE: 0.5,
        ActivityKind.COMMENT: 0.25,
        ActivityKind.SHARE: 0.25,
        ActivityKind.MENTION: 0.25,
        ActivityKind.LIKE: 0.05,
        ActivityKind.FOLLOW: 0.05,
        ActivityKind.CAMPAIGN_ENTRY: 0.0,
    }
)
KIND_COUNTS = {
    ActivityKind.CONVERSATION_STARTED: N_("Conversations started: {count}"),
    ActivityKind.REPLY: N_("Replies: {count}"),
    ActivityKind.SURVEY_ANSWER: N_("Survey answers: {count}"),
    ActivityKind.IDEA: N_("Ideas: {count}"),
    ActivityKind.VOTE: N_("Votes: {count}"),
    ActivityKind.PURCHASE: N_("Purchases: {count}"),
    ActivityKind.REFERRAL: N_("Referrals: {count}"),
    ActivityKind.REVIEW: N_("Reviews: {count}"),
}


class Level(enum.StrEnum):
    DEEP = "deep"  # chosen actions in most months, short pauses, recently
    INTERMITTENT = "intermittent"  # chosen actions that come and go: back after a pause
    SHALLOW = "shallow"  # chosen actions, but few, only lately, or long ago
    ONE_OFF = "one_off"  # interactions only, or a single chosen action
    NONE = "none"  # nothing at all in the window


LEVELS = tuple(Level)  # deepest first: the order of reports
LEVEL_LABELS = {
    Level.DEEP: N_("Deep"),
    Level.INTERMITTENT: N_("Intermittent"),
    Level.SHALLOW: N_("Shallow"),
    Level.ONE_OFF: N_("One-off"),
    Level.NONE: N_("None"),
}


@dataclass(frozen=True)
class Reason:
    """One sentence of an explanation: an ``N_()`` msgid and the values for its placeholders."""

    msgid: str
    params: dict[str, int | str] = field(default_factory=dict, hash=False)

    def text(self, gettext: Callable[[str], str] = str) -> str:
        """The sentence in the reader's language (parameters formatted after translation)."""
        return gettext(self.msgid).format(**self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": dict(self.params)}


def timestamp(value: datetime, *, field: str) -> float:
    """Seconds since the epoch of an aware datetime; a naive one is refused, not guessed."""
    if not isinstance(value, datetime):
        raise InvalidInput(N_("Expected a date and time."), field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(N_("Dates must carry a time zone."), field=field)
    return value.timestamp()


@dataclass(frozen=True, slots=True)
class Activity:
    """Something a person did; ``campaign`` ties an interaction to a promotion or giveaway."""

    kind: ActivityKind
    at: datetime
    campaign: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ActivityKind):
            try:
                object.__setattr__(self, "kind", ActivityKind(self.kind))
            except ValueError:
                raise InvalidInput(
                    N_("Unknown activity kind: {kind}."), field="kind", kind=str(self.kind)
                ) from None
        timestamp(self.at, field="at")


# --- settings -----------------------------------------------------------------------------


def setting(default: S, minimum: float, maximum: float) -> S:
    """A settings field with its allowed range, checked on construction and ``from_dict``."""
    result: S = field(default=default, metadata={"min": minimum, "max": maximum})
    return result


def check_settings(obj: Any) -> None:
    """Raise ``InvalidInput`` naming the first field that is of the wrong type or range."""
    for f in fields(obj):
        if "min" not in f.metadata:
            continue
        value = getattr(obj, f.name)
        integer = isinstance(f.default, int)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(N_("Expected a number."), field=f.name)
        if not math.isfinite(value):
            raise InvalidInput(N_("Expected a number."), field=f.name)
        if integer and not isinstance(value, int):
            raise InvalidInput(N_("Expected a whole number."), field=f.name)
        if value < f.metadata["min"]:
            raise InvalidInput(
                N_("Must be at least {minimum}."), field=f.name, minimum=f.metadata["min"]
            )
        if value > f.metadata["max"]:
            raise InvalidInput(
                N_("Must be at most {maximum}."), field=f.name, maximum=f.metadata["max"]
            )


def number(value: Any, *, field: str, integer: bool) -> int | float:
    """A JSON number as the field wants it: 7.0 is a fine whole number, "7" and true are not."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(N_("Expected a number."), field=field)
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise InvalidInput(N_("Expected a whole number."), field=field)
        return int(value)
    return float(value)


def settings_to_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if "min" in f.metadata}


def settings_kwargs(cls: type[Any], data: Any) -> dict[str, Any]:
    """The scalar fields of ``data`` parsed for ``cls``; unknown keys are refused by name."""
    if not isinstance(data, Mapping):
        raise InvalidInput(N_("Expected an object."), field="settings")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = known.get(key)
        if f is None:
            raise InvalidInput(N_("Unknown setting."), field=str(key))
        if "min" in f.metadata:
            kwargs[key] = number(value, field=key, integer=isinstance(f.default, int))
    return kwargs


def _weights(data: Any) -> Mapping[ActivityKind, float]:
    if not isinstance(data, Mapping):
        raise InvalidInput(N_("Expected an object."), field="weights")
    weights = dict(DEFAULT_WEIGHTS)
    for key, value in data.items():
        name = f"weights.{key}"
        try:
            kind = ActivityKind(key)
        except ValueError:
            raise InvalidInput(
                N_("Unknown activity kind: {kind}."), field=name, kind=str(key)
            ) from None
        if kind not in weights:
            raise InvalidInput(N_("No weight can be set for {kind}."), field=name, kind=kind.value)
        weight = number(value, field=name, integer=False)
        if weight < 0:
            raise InvalidInput(N_("Must be at least {minimum}."), field=name, minimum=0)
        if weight > 100:
            raise InvalidInput(N_("Must be at most {maximum}."), field=name, maximum=100)
        weights[kind] = weight
    return MappingProxyType(weights)


@dataclass(frozen=True)
class EngagementSettings:
    """A workspace's engagement model; every field is documented in docs/advocacy.md."""

    window_days: int = setting(365, 60, 3650)  # rounded down to whole 30-day months
    weights: Mapping[ActivityKind, float] = field(
        default_factory=lambda: DEFAULT_WEIGHTS, hash=False
    )
    month_cap: int = setting(3, 1, 1000)  # actions of one kind counted per month, at most
    deep_min_months: int = setting(6, 2, 121)
    deep_max_pause_months: int = setting(2, 0, 120)
    deep_recent_days: int = setting(60, 1, 3650)
    intermittent_recent_days: int = setting(180, 1, 3650)
    shallow_min_chosen: int = setting(2, 1, 1000)
    recency_half_life_days: float = setting(90.0, 1.0, 3650.0)
    burst_days: int = setting(7, 1, 365)
    burst_min: int = setting(5, 2, 100_000)
    silence_days: int = setting(30, 1, 3650)
    unfollow_days: int = setting(30, 0, 3650)

    def __post_init__(self) -> None:
        check_settings(self)
        object.__setattr__(self, "weights", _weights(self.weights))
        if self.deep_min_months > self.months:
            raise InvalidInput(
                N_("Must be at most {maximum}."), field="deep_min_months", maximum=self.months
            )

    @property
    def months(self) -> int:
        return self.window_days // MONTH_DAYS

    def to_dict(self) -> dict[str, Any]:
        data = settings_to_dict(self)
        data["weights"] = {kind.value: weight for kind, weight in self.weights.items()}
        return data

    @classmethod
    def from_dict(cls, data: Any) -> EngagementSettings:
        """Settings from stored JSON; missing fields and weights keep their defaults."""
        kwargs = settings_kwargs(cls, data)
        if "weights" in data:
            kwargs["weights"] = _weights(data["weights"])
        return cls(**kwargs)


DEFAULT = EngagementSettings()


# --- the assessment -----------------------------------------------------------------------


@dataclass(frozen=True)
class Engagement:
    level: Level
    score: float  # 0–100, see SCORE_MIX
    promotion_driven: bool
    reasons: tuple[Reason, ...]
    chosen: int  # chosen actions counted (weight above 0)
    interactions: int  # interactions counted (promotion bursts and unfollows left out)
    active_periods: int  # distinct 30-day months with a chosen action
    last_chosen_at: datetime | None
    discounted: int = 0  # interactions left out as promotion-driven
    months: int = 12  # months in the window


@dataclass
class _Burst:
    start: float
    end: float
    items: list[int]
    campaign: str | None
    unfollowed: bool = False


SCORE = N_(
    "Score {score} of 100: {persistence} for persistence, {recency} for recency, {amount} for"
    " chosen actions, {interactions} for interactions"
)
DEEP = N_("Deep: chose to act in most months, with short pauses, and recently")
INTERMITTENT = N_("Intermittent: comes and goes, and came back after a pause")
LAPSED_DEEP = N_("Shallow now: no chosen action for {days} days; deep needs one within {limit}")
LAPSED_INTERMITTENT = N_(
    "Shallow now: no chosen action for {days} days; coming back needs one within {limit}"
)
SHALLOW = N_("Shallow: chose to act, but in too few months for deep: {active} of {needed}")
ONLY_INTERACTIONS = N_("One-off: interactions only, nothing they chose to do")
SINGLE_CHOICE = N_("One-off: a single chosen action")

Counts = Counter[tuple[int, ActivityKind]]  # (month index, kind) -> actions; month 0 = latest
Item = tuple[float, ActivityKind, str, datetime]  # (timestamp, kind, campaign or "", at)


def assess(
    activities: Iterable[Activity], *, now: datetime, settings: EngagementSettings = DEFAULT
) -> Engagement:
    """The engagement level of one person at ``now``, with its reasons."""
    now_ts = timestamp(now, field="now")
    months = settings.months
    start = now_ts - months * MONTH
    stamped = ((a.at.timestamp(), a.kind, a.campaign or "", a.at) for a in activities)
    # Sorted on the whole tuple, so the result does not depend on the order of the input.
    items = sorted(item for item in stamped if start < item[0] <= now_ts)  # future: ignored
    if not items:
        why = Reason(N_("Nothing in the last {days} days"), {"days": months * MONTH_DAYS})
        return Engagement(Level.NONE, 0.0, False, (why,), 0, 0, 0, None, 0, months)
    bursts = _promotions(items, now_ts, settings)
    discounted = {i for burst in bursts for i in burst.items}
    chosen, touched, last = _count(items, discounted, now_ts, settings)
    active = sorted({month for month, _ in chosen})
    days_since = None if last is None else (now_ts - last[0]) / DAY
    level, why = _level(sum(chosen.values()), active, days_since, settings)
    score, parts = _score(chosen, touched, len(active), days_since, settings)
    reasons = [why, *_facts(chosen, touched, items, active, days_since, settings)]
    reasons += _promotion_reasons(bursts, len(discounted))
    reasons.append(Reason(SCORE, {"score": round(score), **parts}))
    return Engagement(
        level=level,
        score=round(score, 1),
        promotion_driven=bool(bursts),
        reasons=tuple(reasons),
        chosen=sum(chosen.values()),
        interactions=sum(touched.values()),
        active_periods=len(active),
        last_chosen_at=None if last is None else last[3].astimezone(UTC),
        discounted=len(discounted),
        months=months,
    )


def _count(
    items: list[Item],
    discounted: set[int],
    now: float,
    settings: EngagementSettings,
) -> tuple[Counts, Counts, Item | None]:
    """Chosen actions and counted interactions per month, and when the last chosen one was."""
    chosen: Counts = Counter()
    touched: Counts = Counter()
    last = None
    latest, weights, unfollow = settings.months - 1, settings.weights, ActivityKind.UNFOLLOW
    for i, item in enumerate(items):
        at, kind = item[0], item[1]
        month = min(int((now - at) // MONTH), latest)
        if kind in CHOSEN:
            if weights[kind] > 0:  # a weight of 0 switches a kind off
                chosen[month, kind] += 1
                last = item
        elif kind is not unfollow and i not in discounted:
            touched[month, kind] += 1
    return chosen, touched, last


def _level(
    chosen: int, active: list[int], days_since: float | None, settings: EngagementSettings
) -> tuple[Level, Reason]:
    """The level and the sentence that decided it; ``active`` holds month indices, 0 = latest."""
    if chosen == 0 or days_since is None:
        return Level.ONE_OFF, Reason(ONLY_INTERACTIONS)
    if chosen < settings.shallow_min_chosen:
        return Level.ONE_OFF, Reason(SINGLE_CHOICE)
    longest = _longest_pause(active)
    days = math.floor(days_since)
    persistent = len(active) >= settings.deep_min_months
    if persistent and longest <= settings.deep_max_pause_months:
        if days_since <= settings.deep_recent_days:
            return Level.DEEP, Reason(DEEP)
        if longest == 0 or days_since > settings.intermittent_recent_days:
            return Level.SHALLOW, Reason(
                LAPSED_DEEP, {"days": days, "limit": settings.deep_recent_days}
            )
    if longest >= 1:
        if days_since <= settings.intermittent_recent_days:
            return Level.INTERMITTENT, Reason(INTERMITTENT)
        return Level.SHALLOW, Reason(
            LAPSED_INTERMITTENT, {"days": days, "limit": settings.intermittent_recent_days}
        )
    return Level.SHALLOW, Reason(
        SHALLOW, {"active": len(active), "needed": settings.deep_min_months}
    )


def _longest_pause(active: list[int]) -> int:
    """The most months in a row without a chosen action between two active months."""
    return max((b - a - 1 for a, b in pairwise(active)), default=0)


def _score(
    chosen: Counts,
    touched: Counts,
    active: int,
    days_since: float | None,
    settings: EngagementSettings,
) -> tuple[float, dict[str, int | str]]:
    def weighted(counts: Counts) -> float:
        cap, weights = settings.month_cap, settings.weights
        return sum(weights[kind] * min(n, cap) for (_, kind), n in counts.items())

    half_life = settings.recency_half_life_days
    shares = {
        "persistence": active / settings.months,
        "recency": 0.0 if days_since is None else 0.5 ** (days_since / half_life),
        "amount": 1 - math.exp(-weighted(chosen) / AMOUNT_SCALE),
        "interactions": 1 - math.exp(-weighted(touched) / INTERACTION_SCALE),
    }
    points = {name: SCORE_MIX[name] * share for name, share in shares.items()}
    return sum(points.values()), {name: round(value) for name, value in points.items()}


def _facts(
    chosen: Counts,
    touched: Counts,
    items: list[Item],
    active: list[int],
    days_since: float | None,
    settings: EngagementSettings,
) -> list[Reason]:
    reasons = []
    if active:
        reasons.append(
            Reason(
                N_("Months with a chosen action: {active} of the last {months}"),
                {"active": len(active), "months": settings.months},
            )
        )
    if len(active) >= 2:
        pause = _longest_pause(active)
        reasons.append(
            Reason(N_("Longest pause between active months: {months}"), {"months": pause})
        )
    if days_since is not None:
        days = math.floor(days_since)
        reasons.append(Reason(N_("Days since the last chosen action: {days}"), {"days": days}))
    by_kind: Counter[ActivityKind] = Counter()
    for (_, kind), n in chosen.items():
        by_kind[kind] += n
    for kind, msgid in KIND_COUNTS.items():
        if by_kind[kind]:
            reasons.append(Reason(msgid, {"count": by_kind[kind]}))
    if touched:
        count = sum(touched.values())
        msgid = N_("Likes, follows, comments and other interactions: {count}")
        reasons.append(Reason(msgid, {"count": count}))
    unfollows = sum(1 for item in items if item[1] is ActivityKind.UNFOLLOW)
    if unfollows:
        reasons.append(Reason(N_("Unfollows: {count}"), {"count": unfollows}))
    return reasons


# --- promotion bursts ---------------------------------------------------------------------


def _promotions(items: list[Item], now: float, settings: EngagementSettings) -> list[_Burst]:
    """Bursts of interactions, tied to a campaign or short and standing out, that were
    followed by silence or an unfollow."""
    span, silence = settings.burst_days * DAY, settings.silence_days * DAY
    alive: list[float] = []
    unfollows: list[float] = []
    # A campaign's interactions more than ``silence_days`` apart are two runs of it: a tag
    # reused all year is not one burst.
    campaigns: dict[tuple[str, int], _Burst] = {}
    runs: dict[str, int] = {}
    loose: list[tuple[float, int]] = []
    unfollow, entry = ActivityKind.UNFOLLOW, ActivityKind.CAMPAIGN_ENTRY
    for i, (at, kind, campaign, _) in enumerate(items):
        (unfollows if kind is unfollow else alive).append(at)
        if kind not in BURST_KINDS:
            continue
        if campaign or kind is entry:
            nth = runs.setdefault(campaign, 0)
            burst = campaigns.get((campaign, nth))
            if burst is not None and at - burst.end > silence:
                nth = runs[campaign] = nth + 1
                burst = None
            if burst is None:
                burst = campaigns[campaign, nth] = _Burst(at, at, [], campaign or None)
            burst.end = at
            burst.items.append(i)
        else:
            loose.append((at, i))
    tied = [burst for _, burst in sorted(campaigns.items())]
    found = list(tied)
    for run in _dense_runs(loose, span, settings.burst_min):
        owner = next(
            (c for c in tied if c.start - span <= run.end and run.start <= c.end + span), None
        )
        if owner is not None:  # untagged likes in the week of a giveaway belong to it
            owner.items += run.items
            owner.start, owner.end = (
                min(owner.start, run.start),
                max(owner.end, run.end),
            )
        elif _count_between(alive, run.start - silence, run.start) < settings.burst_min:
            found.append(run)  # it stands out: a steady fan's ordinary week is no burst
    qualified = []
    for burst in found:
        silent = now - burst.end >= silence and not _count_between(
            alive, burst.end, burst.end + silence, after=True
        )
        limit = burst.end + settings.unfollow_days * DAY
        burst.unfollowed = bisect_right(unfollows, limit) > bisect_left(unfollows, burst.end)
        if silent or burst.unfollowed:
            qualified.append(burst)
    return qualified


def _count_between(times: list[float], low: float, high: float, *, after: bool = False) -> int:
    """Sorted ``times`` in [low, high), or in (low, high] when ``after``."""
    if after:
        return bisect_right(times, high) - bisect_right(times, low)
    return bisect_left(times, high) - bisect_left(times, low)


def _dense_runs(loose: list[tuple[float, int]], span: float, minimum: int) -> list[_Burst]:
    """Windows of at most ``span`` seconds holding ``minimum`` interactions or more, in one
    pass (both ends only move forward)."""
    runs, i, j = [], 0, 0
    while i < len(loose):
        j = max(j, i)
        while j < len(loose) and loose[j][0] - loose[i][0] <= span:
            j += 1
        if j - i >= minimum:
            runs.append(_Burst(loose[i][0], loose[j - 1][0], [k for _, k in loose[i:j]], None))
            i = j
        else:
            i += 1
    return runs


def _promotion_reasons(bursts: list[_Burst], discounted: int) -> list[Reason]:
    reasons = []
    for burst in sorted(bursts, key=lambda b: -b.end)[:MAX_PROMOTION_REASONS]:
        count = len(burst.items)
        if burst.campaign:
            msgid = (
                N_("Interactions only around the promotion {campaign} ({count}), then unfollowed")
                if burst.unfollowed
                else N_("Interactions only around the promotion {campaign} ({count}), then silence")
            )
            reasons.append(Reason(msgid, {"campaign": burst.campaign, "count": count}))
            continue
        days = max(1, math.ceil((burst.end - burst.start) / DAY))
        msgid = (
            N_("A burst of {count} interactions in {days} days, then unfollowed")
            if burst.unfollowed
            else N_("A burst of {count} interactions in {days} days, then silence")
        )
        reasons.append(Reason(msgid, {"count": count, "days": days}))
    if bursts:
        reasons.append(
            Reason(N_("Interactions left out as promotion-driven: {count}"), {"count": discounted})
        )
    return reasons


# --- reports ------------------------------------------------------------------------------


def shares(levels: Iterable[Level]) -> dict[Level, float]:
    """The share of each level (every level present, deepest first); all 0.0 for nobody."""
    counts = Counter(Level(level) for level in levels)
    total = sum(counts.values())
    return {level: (counts[level] / total if total else 0.0) for level in LEVELS}


def transitions(
    before: Mapping[K, Level], after: Mapping[K, Level]
) -> dict[tuple[Level, Level], int]:
    """How many people went from one level to another between two dates, staying put included;
    someone missing on one side counts as ``none`` there. Only pairs that happened are listed."""
    moves: Counter[tuple[Level, Level]] = Counter()
    for key in before.keys() | after.keys():
        moves[Level(before.get(key, Level.NONE)), Level(after.get(key, Level.NONE))] += 1
    order = {level: i for i, level in enumerate(LEVELS)}
    return dict(sorted(moves.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])))
