"""Influence: who speaks for us (Advocates) and who, unhappy and widely heard, may speak
against us (Detractors at risk). docs/advocacy.md has the formulas and examples.

A ``Voice`` is what the database knows about one person: reach (followers, and how often
their posts are reposted or answered), topical relevance (how many of their posts are about
our subjects and aspects), sentiment towards us over time, the latest NPS and CSAT answers,
open issues, and the engagement level from ``h2h.advocacy.engagement``.

- **Advocate**: an NPS promoter (9–10), or a positive voice about our subjects (recent
  sentiment above a threshold, enough relevant posts) — and not unhappy right now. A
  positive voice that never talks about our subjects is not an advocate, however large.
- **At risk**: unhappy (NPS 0–6, CSAT 1–2, negative or clearly falling sentiment) *and*
  widely heard or with open issues: the people to call first.

Both scores are points out of 100 that the reasons break down, so a list can say *why*
someone is on it.
"""

from __future__ import annotations

import enum
import heapq
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from h2h.advocacy.engagement import (
    DAY,
    Level,
    Reason,
    check_settings,
    number,
    setting,
    settings_kwargs,
    settings_to_dict,
    timestamp,
)
from h2h.errors import N_, InvalidInput

K = TypeVar("K", bound=Hashable)

# Advocate score: points out of 100 for each part.
ADVOCATE_MIX = {
    "reach": 30.0,
    "relevance": 20.0,
    "sentiment": 20.0,
    "nps": 20.0,
    "engagement": 10.0,
}
ENGAGEMENT_VALUE = {
    Level.DEEP: 1.0,
    Level.INTERMITTENT: 0.7,
    Level.SHALLOW: 0.4,
    Level.ONE_OFF: 0.1,
    Level.NONE: 0.0,
}
ENGAGEMENT_REASONS = {
    Level.DEEP: N_("Engagement: deep"),
    Level.INTERMITTENT: N_("Engagement: intermittent"),
    Level.SHALLOW: N_("Engagement: shallow"),
    Level.ONE_OFF: N_("Engagement: one-off"),
    Level.NONE: N_("Engagement: none"),
}
REACH_FLOOR = 0.25  # the risk of an unhappy person nobody hears is not zero: they still leave
MAX_ISSUES_WEIGHED = 3

ADVOCATE_SCORE = N_(
    "Advocate score {score} of 100: {reach} for reach, {relevance} for relevance, {sentiment}"
    " for sentiment, {nps} for NPS, {engagement} for engagement"
)
BETWEEN = N_("Must be between {low} and {high}.")
REACH_UNKNOWN_FOLLOWERS = N_("Reach {reach} of 100: followers unknown, {echo} reposts and replies")
REACH_FOLLOWERS = N_("Reach {reach} of 100: {followers} followers, {echo} reposts and replies")
RISK_SCORE = N_(
    "Risk score {score} of 100: unhappiness {unhappiness} of 100 × reach weight {reach} of 100"
    " × open-issues weight {issues} of 100"
)


class Board(enum.StrEnum):
    ADVOCATES = "advocates"
    AT_RISK = "at_risk"


@dataclass(frozen=True)
class Voice:
    """What the database knows about one person's voice, over the settings' window."""

    followers: int | None = None  # the most known across their identities
    posts: int = 0  # their public messages in the window
    reposts: int = 0  # times those were reposted
    replies_received: int = 0  # times others answered them
    relevant_posts: int = 0  # of ``posts``, about our subjects or aspects
    sentiment: Sequence[tuple[datetime, float]] = ()  # per message towards us, −1…1
    nps: int | None = None  # the latest 0–10 answer
    csat: int | None = None  # the latest 1–5 answer
    open_issues: int = 0  # open conversations and complaints
    engagement: Level | None = None

    def __post_init__(self) -> None:
        for name in ("posts", "reposts", "replies_received", "relevant_posts", "open_issues"):
            _count(getattr(self, name), field=name)
        if self.followers is not None:
            _count(self.followers, field="followers")
        _answer(self.nps, 0, 10, field="nps")
        _answer(self.csat, 1, 5, field="csat")
        points = tuple(self.sentiment)
        for when, value in points:
            timestamp(when, field="sentiment")
            if not -1 <= number(value, field="sentiment", integer=False) <= 1:
                raise InvalidInput(BETWEEN, field="sentiment", low=-1, high=1)
        object.__setattr__(self, "sentiment", points)
        if self.engagement is not None:
            object.__setattr__(self, "engagement", Level(self.engagement))


def _count(value: Any, *, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(N_("Expected a whole number."), field=field)
    if value < 0:
        raise InvalidInput(N_("Must be at least {minimum}."), field=field, minimum=0)


def _answer(value: Any, low: int, high: int, *, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(N_("Expected a whole number."), field=field)
    if not low <= value <= high:
        raise InvalidInput(BETWEEN, field=field, low=low, high=high)


@dataclass(frozen=True)
class InfluenceSettings:
    """A workspace's thresholds for the two lists; documented in docs/advocacy.md."""

    window_days: int = setting(365, 30, 3650)
    recent_days: int = setting(90, 7, 3650)
    full_reach_followers: int = setting(100_000, 10, 10**10)  # followers that make reach 1
    full_reach_echo: int = setting(1_000, 1, 10**10)  # reposts + replies that make reach 1
    high_reach: float = setting(0.6, 0.0, 1.0)
    relevance_half: float = setting(3.0, 0.1, 1000.0)
    min_relevant_posts: int = setting(3, 0, 100_000)
    min_relevance: float = setting(0.3, 0.0, 1.0)
    positive_sentiment: float = setting(0.3, 0.0, 1.0)
    negative_sentiment: float = setting(0.2, 0.0, 1.0)
    falling_change: float = setting(0.4, 0.0, 2.0)

    def __post_init__(self) -> None:
        check_settings(self)
        if self.recent_days >= self.window_days:
            raise InvalidInput(
                N_("Must be at most {maximum}."), field="recent_days", maximum=self.window_days - 1
            )

    def to_dict(self) -> dict[str, Any]:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> InfluenceSettings:
        """Settings from stored JSON; missing fields keep their defaults."""
        return cls(**settings_kwargs(cls, data))


DEFAULT = InfluenceSettings()


# --- the parts ----------------------------------------------------------------------------


def _log_share(value: int, full: int) -> float:
    return min(1.0, math.log10(1 + value) / math.log10(1 + full))


def reach(voice: Voice, *, settings: InfluenceSettings = DEFAULT) -> float:
    """0–1: log-scaled followers, or the echo of their posts (reposts + replies received)
    when that is larger or the followers are unknown."""
    echo = _log_share(voice.reposts + voice.replies_received, settings.full_reach_echo)
    if voice.followers is None:
        return echo
    return max(_log_share(voice.followers, settings.full_reach_followers), echo)


def relevance(voice: Voice, *, settings: InfluenceSettings = DEFAULT) -> float:
    """0–1: how much they talk about our subjects — the number of relevant posts (half-way
    at ``relevance_half``), tempered by their share of everything they post."""
    relevant = voice.relevant_posts
    if relevant == 0:
        return 0.0
    share = relevant / max(voice.posts, relevant)
    return relevant / (relevant + settings.relevance_half) * (0.5 + 0.5 * share)


class SentimentTrend(NamedTuple):
    recent: float  # mean of the recent messages, shrunk towards neutral; 0.0 without any
    change: float  # recent minus earlier; 0.0 unless both have messages


def sentiment_trend(
    voice: Voice, *, now: datetime, settings: InfluenceSettings = DEFAULT
) -> SentimentTrend:
    """Sentiment towards us lately, and how it moved compared with earlier in the window.

    Each side's mean counts one extra neutral message, so one angry post reads −0.5, not −1,
    and a change needs several messages to be large."""
    recent, earlier = _sides(voice, now=now, settings=settings)
    recent_mean, earlier_mean = _shrunk(recent), _shrunk(earlier)
    change = recent_mean - earlier_mean if recent and earlier else 0.0
    return SentimentTrend(recent_mean, change)


def _sides(
    voice: Voice, *, now: datetime, settings: InfluenceSettings
) -> tuple[list[float], list[float]]:
    now_ts = timestamp(now, field="now")
    recent: list[float] = []
    earlier: list[float] = []
    for when, value in voice.sentiment:
        age = (now_ts - when.timestamp()) / DAY
        if age < 0 or age > settings.window_days:
            continue  # future-dated or out of the window
        (recent if age <= settings.recent_days else earlier).append(float(value))
    return recent, earlier


def _shrunk(values: list[float]) -> float:
    return sum(values) / (len(values) + 1)


# --- the standing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    advocate: bool
    advocate_score: float  # 0–100; 0.0 when not an advocate
    at_risk: bool
    risk_score: float  # 0–100; 0.0 when not at risk
    reasons: tuple[Reason, ...]
    reach: float = 0.0
    relevance: float = 0.0
    sentiment: float = 0.0  # recent, −1…1
    sentiment_change: float = 0.0
    unhappiness: float = 0.0  # 0–1


def assess_voice(voice: Voice, *, now: datetime, settings: InfluenceSettings = DEFAULT) -> Standing:
    """Whether a person belongs on the Advocates or the Detractors-at-risk list, and why."""
    heard, topical = reach(voice, settings=settings), relevance(voice, settings=settings)
    trend = sentiment_trend(voice, now=now, settings=settings)
    unhappy, unhappy_reasons = _unhappiness(voice, trend, settings)
    facts = _facts(voice, heard, topical, trend)
    promoter = voice.nps is not None and voice.nps >= 9
    positive = (
        trend.recent > settings.positive_sentiment
        and voice.relevant_posts >= settings.min_relevant_posts
        and topical >= settings.min_relevance
    )
    reasons: list[Reason] = []
    advocate_score = 0.0
    advocate = (promoter or positive) and unhappy == 0
    if advocate:
        reasons.append(Reason(_advocate_why(promoter, positive)))
        advocate_score, parts = _advocate_score(voice, heard, topical, trend)
        reasons.append(Reason(ADVOCATE_SCORE, {"score": round(advocate_score), **parts}))
    elif promoter or positive:
        reasons.append(Reason(N_("Not an advocate now: speaks well of us, but is unhappy lately")))
    elif trend.recent > settings.positive_sentiment:
        reasons.append(
            Reason(N_("Not an advocate: speaks well of us, but rarely about our subjects"))
        )
    risk_score = 0.0
    at_risk = unhappy > 0 and (heard >= settings.high_reach or voice.open_issues > 0)
    if at_risk:
        reasons.append(Reason(_risk_why(heard >= settings.high_reach, voice.open_issues > 0)))
        risk_score, parts = _risk_score(unhappy, heard, voice.open_issues)
        reasons.append(Reason(RISK_SCORE, {"score": round(risk_score), **parts}))
    return Standing(
        advocate=advocate,
        advocate_score=round(advocate_score, 1),
        at_risk=at_risk,
        risk_score=round(risk_score, 1),
        reasons=(*reasons, *unhappy_reasons, *facts),
        reach=round(heard, 3),
        relevance=round(topical, 3),
        sentiment=round(trend.recent, 3),
        sentiment_change=round(trend.change, 3),
        unhappiness=round(unhappy, 3),
    )


def _unhappiness(
    voice: Voice, trend: SentimentTrend, settings: InfluenceSettings
) -> tuple[float, list[Reason]]:
    """0–1, the strongest of the signs of unhappiness, and a sentence for each sign."""
    signs: list[tuple[float, Reason]] = []
    if voice.nps is not None and voice.nps <= 6:
        why = Reason(N_("Detractor: answered {nps} to the NPS question"), {"nps": voice.nps})
        signs.append(((10 - voice.nps) / 10, why))
    if voice.csat is not None and voice.csat <= 2:
        why = Reason(N_("Unhappy in the latest CSAT answer: {csat}"), {"csat": voice.csat})
        signs.append(((5 - voice.csat) / 4, why))
    if trend.recent < 0 and trend.recent <= -settings.negative_sentiment:
        why = Reason(
            N_("Speaks badly of us lately: {sentiment} on a scale from −100 to 100"),
            {"sentiment": round(100 * trend.recent)},
        )
        signs.append((min(1.0, -trend.recent), why))
    if trend.change < 0 and trend.change <= -settings.falling_change:
        why = Reason(
            N_("Sentiment falling: {change} points since earlier, on a scale from −100 to 100"),
            {"change": round(100 * trend.change)},
        )
        signs.append((min(1.0, -trend.change / 2), why))
    return max((value for value, _ in signs), default=0.0), [why for _, why in signs]


def _facts(voice: Voice, heard: float, topical: float, trend: SentimentTrend) -> list[Reason]:
    echo = voice.reposts + voice.replies_received
    points = round(100 * heard)
    if voice.followers is None:
        reasons = [Reason(REACH_UNKNOWN_FOLLOWERS, {"reach": points, "echo": echo})]
    else:
        params: dict[str, int | str] = {"reach": points, "followers": voice.followers, "echo": echo}
        reasons = [Reason(REACH_FOLLOWERS, params)]
    reasons.append(
        Reason(
            N_("Relevance {relevance} of 100: {relevant} of {posts} posts about our subjects"),
            {
                "relevance": round(100 * topical),
                "relevant": voice.relevant_posts,
                "posts": max(voice.posts, voice.relevant_posts),
            },
        )
    )
    if trend.recent > 0:
        reasons.append(
            Reason(
                N_("Speaks well of us lately: {sentiment} on a scale from −100 to 100"),
                {"sentiment": round(100 * trend.recent)},
            )
        )
    if voice.nps is not None and voice.nps >= 7:
        msgid = (
            N_("Promoter: answered {nps} to the NPS question")
            if voice.nps >= 9
            else N_("Passive: answered {nps} to the NPS question")
        )
        reasons.append(Reason(msgid, {"nps": voice.nps}))
    if voice.open_issues:
        reasons.append(Reason(N_("Open issues: {count}"), {"count": voice.open_issues}))
    if voice.engagement is not None:
        reasons.append(Reason(ENGAGEMENT_REASONS[voice.engagement]))
    return reasons


def _advocate_why(promoter: bool, positive: bool) -> str:
    if promoter and positive:
        return N_("Advocate: a promoter who also speaks well of us about our subjects")
    if promoter:
        return N_("Advocate: a promoter who is not unhappy")
    return N_("Advocate: speaks well of us about our subjects")


def _risk_why(loud: bool, issues: bool) -> str:
    if loud and issues:
        return N_("At risk: unhappy, widely heard and with open issues")
    if loud:
        return N_("At risk: unhappy and widely heard")
    return N_("At risk: unhappy with open issues")


def _advocate_score(
    voice: Voice, heard: float, topical: float, trend: SentimentTrend
) -> tuple[float, dict[str, int | str]]:
    nps = 0.0 if voice.nps is None else max(0.0, (voice.nps - 6) / 4)
    engagement = 0.0 if voice.engagement is None else ENGAGEMENT_VALUE[voice.engagement]
    shares = {
        "reach": heard,
        "relevance": topical,
        "sentiment": max(0.0, trend.recent),
        "nps": nps,
        "engagement": engagement,
    }
    points = {name: ADVOCATE_MIX[name] * share for name, share in shares.items()}
    return sum(points.values()), {name: round(value) for name, value in points.items()}


def _risk_score(unhappy: float, heard: float, issues: int) -> tuple[float, dict[str, int | str]]:
    """Unhappiness × reach weight × open-issues weight, each 0–1, as points out of 100."""
    reach_weight = REACH_FLOOR + (1 - REACH_FLOOR) * heard
    issues_weight = (1 + min(issues, MAX_ISSUES_WEIGHED)) / (1 + MAX_ISSUES_WEIGHED)
    parts: dict[str, int | str] = {
        "unhappiness": round(100 * unhappy),
        "reach": round(100 * reach_weight),
        "issues": round(100 * issues_weight),
    }
    return 100 * unhappy * reach_weight * issues_weight, parts


# --- the lists ----------------------------------------------------------------------------


def rank(
    items: Iterable[tuple[K, Voice]],
    *,
    now: datetime,
    kind: Board | str,
    limit: int = 50,
    settings: InfluenceSettings = DEFAULT,
) -> list[tuple[K, Standing]]:
    """The Advocates or the Detractors-at-risk list: highest score first, then widest reach,
    then the key as text, so equal scores always come out in the same order."""
    try:
        board = Board(kind)
    except ValueError:
        raise InvalidInput(N_("Unknown list: {kind}."), field="kind", kind=str(kind)) from None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(N_("Must be at least {minimum}."), field="limit", minimum=1)
    scored = []
    for key, voice in items:
        standing = assess_voice(voice, now=now, settings=settings)
        if board is Board.ADVOCATES and standing.advocate:
            scored.append((-standing.advocate_score, -standing.reach, str(key), key, standing))
        elif board is Board.AT_RISK and standing.at_risk:
            scored.append((-standing.risk_score, -standing.reach, str(key), key, standing))
    best = heapq.nsmallest(limit, scored, key=lambda row: row[:3])
    return [(key, standing) for *_, key, standing in best]
