"""Vega-Lite specs of the dashboard's charts, built with Altair from the dashboard's numbers.

Each chart comes with the rows it draws (``Chart.rows``), which the page also shows as an
accessible table, so the picture and the table can never disagree. Every mark carries an
``href``: clicking a bar opens the filtered list behind it (the mentions of that day and
sentiment, the conversations not answered, the problem). Titles and labels are translated
here, before Altair sees them; the page renders the spec with the vendored vega-embed and
the CSP-safe expression interpreter (static/reports.js).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import altair as alt

from h2h.nlp.models import SENTIMENT_LABELS
from h2h.reports.dashboard import Dashboard, Period

# Sentiment colours, colour-blind safe (Okabe–Ito), the same on every chart.
SENTIMENT_COLOURS = {
    "negative": "#D55E00",
    "neutral": "#999999",
    "positive": "#009E73",
    "": "#DDDDDD",
}
RESPONSE_COLOURS = {"answered": "#0072B2", "not_answered": "#E69F00", "undecided": "#CC79A7"}
WIDTH = "container"
HEIGHT = 220


@dataclass
class Chart:
    key: str
    title: str
    spec: dict[str, Any]
    columns: list[str]  # the table view's headers, translated
    rows: list[list[Any]]  # the table view's cells; the last one is the link
    empty: bool = False


def mentions_url(slug: str, span: Period, **params: str) -> str:
    query = {"since": span.first.isoformat(), "until": span.last.isoformat(), "direction": "in"}
    query |= {k: v for k, v in params.items() if v}
    return f"/w/{slug}/mentions?{urlencode(query)}"


def _day_url(slug: str, span: Period, day: date, **params: str) -> str:
    one = Period(day, day, span.zone)
    return mentions_url(slug, one, **params)


def _base(rows: list[dict[str, Any]]) -> alt.Chart:
    data = alt.Data(values=rows)  # type: ignore[no-untyped-call]
    return alt.Chart(data).properties(width=WIDTH, height=HEIGHT)


def _finish(chart: alt.TopLevelMixin, title: str) -> dict[str, Any]:
    spec: dict[str, Any] = chart.properties(title=title).configure_view(stroke=None).to_dict()
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def _sentiment_scale(gettext: Callable[[str], str]) -> alt.Scale:
    keys = list(SENTIMENT_COLOURS)
    return alt.Scale(
        domain=[_sentiment_label(k, gettext) for k in keys],
        range=[SENTIMENT_COLOURS[k] for k in keys],
    )


def _sentiment_label(key: str, gettext: Callable[[str], str]) -> str:
    if not key:
        return gettext("Not analysed yet")
    known = {str(k): v for k, v in SENTIMENT_LABELS.items()}
    return gettext(known[key]) if key in known else key


def volume(board: Dashboard, slug: str, gettext: Callable[[str], str]) -> Chart:
    """Messages per day stacked by sentiment; spike days marked with a triangle."""
    span, seen = board.span, board.volume
    per: dict[tuple[date, str], int] = {}
    for (day, _channel, sentiment), n in seen.cells.items():
        per[(day, sentiment)] = per.get((day, sentiment), 0) + n
    subject = str(board.subject.id) if board.subject else ""
    rows = [
        {
            "day": day.isoformat(),
            "sentiment": _sentiment_label(sentiment, gettext),
            "messages": n,
            "href": _day_url(slug, span, day, sentiment=sentiment, subject=subject),
        }
        for (day, sentiment), n in sorted(per.items())
    ]
    day_title, count_title = gettext("Day"), gettext("Messages")
    bars = (
        _base(rows)
        .mark_bar()
        .encode(
            x=alt.X("day:O", title=day_title, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(messages):Q", title=count_title),
            color=alt.Color(
                "sentiment:N", title=gettext("Sentiment"), scale=_sentiment_scale(gettext)
            ),
            href="href:N",
            tooltip=[
                alt.Tooltip("day:O", title=day_title),
                alt.Tooltip("sentiment:N", title=gettext("Sentiment")),
                alt.Tooltip("messages:Q", title=count_title),
            ],
        )
    )
    layers: alt.TopLevelMixin = bars
    spikes = [
        {"day": s.day.isoformat(), "messages": int(s.observed), "label": gettext("Spike")}
        for s in seen.spikes
    ]
    if spikes:
        marks = (
            alt.Chart(alt.Data(values=spikes))  # type: ignore[no-untyped-call]
            .mark_point(shape="triangle-down", filled=True, size=90, color="#000000", yOffset=-8)
            .encode(
                x="day:O",
                y="messages:Q",
                tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("day:O", title=day_title)],
            )
        )
        layers = alt.layer(bars, marks)
    table = [[r["day"], r["sentiment"], r["messages"], r["href"]] for r in rows]
    return Chart(
        "volume",
        gettext("Messages by day and sentiment"),
        _finish(layers, gettext("Messages by day and sentiment")),
        [day_title, gettext("Sentiment"), count_title],
        table,
        empty=not rows,
    )


def voices(board: Dashboard, slug: str, gettext: Callable[[str], str]) -> Chart:
    """Mentions of each brand, person and competitor, stacked by sentiment."""
    rows = []
    for voice in board.voices:
        for sentiment in SENTIMENT_COLOURS:
            n = voice.by_sentiment.get(sentiment, 0)
            if n:
                rows.append(
                    {
                        "subject": voice.subject.name,
                        "sentiment": _sentiment_label(sentiment, gettext),
                        "messages": n,
                        "share": round(100 * voice.share),
                        "href": mentions_url(
                            slug, board.span, subject=str(voice.subject.id), sentiment=sentiment
                        ),
                    }
                )
    subject_title, count_title = gettext("Subject"), gettext("Mentions")
    chart = (
        _base(rows)
        .mark_bar()
        .encode(
            y=alt.Y("subject:N", title=subject_title, sort="-x"),
            x=alt.X("sum(messages):Q", title=count_title),
            color=alt.Color(
                "sentiment:N", title=gettext("Sentiment"), scale=_sentiment_scale(gettext)
            ),
            href="href:N",
            tooltip=[
                alt.Tooltip("subject:N", title=subject_title),
                alt.Tooltip("sentiment:N", title=gettext("Sentiment")),
                alt.Tooltip("messages:Q", title=count_title),
                alt.Tooltip("share:Q", title=gettext("Share of voice, %")),
            ],
        )
    )
    return Chart(
        "voices",
        gettext("Share of voice"),
        _finish(chart, gettext("Share of voice")),
        [subject_title, gettext("Sentiment"), count_title],
        [[r["subject"], r["sentiment"], r["messages"], r["href"]] for r in rows],
        empty=not rows,
    )


def response(board: Dashboard, slug: str, gettext: Callable[[str], str]) -> Chart:
    """Conversations opened in the period by decision: answered, not answered (per reason),
    no decision yet."""
    now, inbox = board.response.now, f"/w/{slug}/inbox"
    rows = []
    if now.answered:
        rows.append(
            {
                "decision": gettext("Answered by a person"),
                "group": "answered",
                "conversations": now.answered,
                "href": f"{inbox}?state=resolved",
            }
        )
    for key, n in sorted(now.not_answering.items(), key=lambda item: -item[1]):
        label = gettext(board.response.reasons.get(key, key))
        rows.append(
            {
                "decision": gettext("Not answered: %(reason)s") % {"reason": label},
                "group": "not_answered",
                "conversations": n,
                "href": f"{inbox}?state=not_answering",
            }
        )
    if now.undecided:
        rows.append(
            {
                "decision": gettext("No decision yet"),
                "group": "undecided",
                "conversations": now.undecided,
                "href": f"{inbox}?state=open",
            }
        )
    title, count_title = gettext("Decision"), gettext("Conversations")
    chart = (
        _base(rows)
        .mark_bar()
        .encode(
            y=alt.Y("decision:N", title=None, sort=None),
            x=alt.X("conversations:Q", title=count_title),
            color=alt.Color(
                "group:N",
                legend=None,
                scale=alt.Scale(
                    domain=list(RESPONSE_COLOURS), range=list(RESPONSE_COLOURS.values())
                ),
            ),
            href="href:N",
            tooltip=[
                alt.Tooltip("decision:N", title=title),
                alt.Tooltip("conversations:Q", title=count_title),
            ],
        )
    )
    return Chart(
        "response",
        gettext("Did everyone get an answer?"),
        _finish(chart, gettext("Did everyone get an answer?")),
        [title, count_title],
        [[r["decision"], r["conversations"], r["href"]] for r in rows],
        empty=not rows,
    )


def aspects(
    board: Dashboard, slug: str, gettext: Callable[[str], str], labels: dict[str, str]
) -> Chart:
    """Aspects by their share of negative mentions."""
    rows = [
        {
            "aspect": gettext(labels.get(a.aspect, a.aspect)),
            "share": round(100 * a.negative_share, 1),
            "negative": a.negative,
            "messages": a.messages,
            "href": mentions_url(slug, board.span, aspect=a.aspect, sentiment="negative"),
        }
        for a in board.aspects
    ]
    aspect_title, share_title = gettext("Aspect"), gettext("Negative, %")
    chart = (
        _base(rows)
        .mark_bar(color=SENTIMENT_COLOURS["negative"])
        .encode(
            y=alt.Y("aspect:N", title=aspect_title, sort="-x"),
            x=alt.X("share:Q", title=share_title, scale=alt.Scale(domain=[0, 100])),
            href="href:N",
            tooltip=[
                alt.Tooltip("aspect:N", title=aspect_title),
                alt.Tooltip("share:Q", title=share_title),
                alt.Tooltip("negative:Q", title=gettext("Negative")),
                alt.Tooltip("messages:Q", title=gettext("Mentions")),
            ],
        )
    )
    return Chart(
        "aspects",
        gettext("What customers are unhappy about"),
        _finish(chart, gettext("What customers are unhappy about")),
        [aspect_title, share_title, gettext("Negative"), gettext("Mentions")],
        [[r["aspect"], r["share"], r["negative"], r["messages"], r["href"]] for r in rows],
        empty=not rows,
    )


def scores(board: Dashboard, slug: str, gettext: Callable[[str], str]) -> Chart:
    """NPS (and CSAT) per period with its 95% interval as a band."""
    rows = []
    names = {"nps": gettext("NPS"), "csat": gettext("CSAT, %")}
    if board.feedback is not None:
        for kind, points in board.feedback.trend.items():
            for start, score in points:
                if score.value is None:
                    continue
                rows.append(
                    {
                        "period": start.astimezone(board.span.zone).date().isoformat(),
                        "kind": names.get(kind, kind),
                        "value": round(score.value, 1),
                        "low": round(score.low if score.low is not None else score.value, 1),
                        "high": round(score.high if score.high is not None else score.value, 1),
                        "answers": score.n,
                        "href": f"/w/{slug}/feedback",
                    }
                )
    period_title, value_title = gettext("Period from"), gettext("Score")
    base = _base(rows).encode(
        x=alt.X("period:O", title=period_title, axis=alt.Axis(labelAngle=-45)),
        color=alt.Color("kind:N", title=None),
    )
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title=value_title), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="value:Q",
        href="href:N",
        tooltip=[
            alt.Tooltip("kind:N", title=""),
            alt.Tooltip("period:O", title=period_title),
            alt.Tooltip("value:Q", title=value_title),
            alt.Tooltip("low:Q", title=gettext("95% interval from")),
            alt.Tooltip("high:Q", title=gettext("to")),
            alt.Tooltip("answers:Q", title=gettext("Answers")),
        ],
    )
    return Chart(
        "scores",
        gettext("NPS and CSAT over time"),
        _finish(alt.layer(band, line), gettext("NPS and CSAT over time")),
        [gettext("Score"), period_title, value_title, gettext("95% interval"), gettext("Answers")],
        [
            [r["kind"], r["period"], r["value"], f"{r['low']} … {r['high']}", r["answers"]]
            + [r["href"]]
            for r in rows
        ],
        empty=not rows,
    )


def places(board: Dashboard, slug: str, gettext: Callable[[str], str]) -> Chart:
    """Messages per channel in the period."""
    rows = [
        {
            "channel": place.channel.name,
            "messages": place.messages,
            "share": round(100 * place.share, 1),
            "href": mentions_url(slug, board.span, channel=str(place.channel.id)),
        }
        for place in board.places.channels
    ]
    channel_title, count_title = gettext("Channel"), gettext("Messages")
    chart = (
        _base(rows)
        .mark_bar(color="#0072B2")
        .encode(
            y=alt.Y("channel:N", title=channel_title, sort="-x"),
            x=alt.X("messages:Q", title=count_title),
            href="href:N",
            tooltip=[
                alt.Tooltip("channel:N", title=channel_title),
                alt.Tooltip("messages:Q", title=count_title),
                alt.Tooltip("share:Q", title=gettext("Share, %")),
            ],
        )
    )
    return Chart(
        "places",
        gettext("Where customers talk"),
        _finish(chart, gettext("Where customers talk")),
        [channel_title, count_title, gettext("Share, %")],
        [[r["channel"], r["messages"], r["share"], r["href"]] for r in rows],
        empty=not rows,
    )


def all_charts(
    board: Dashboard, slug: str, gettext: Callable[[str], str], aspect_labels: dict[str, str]
) -> list[Chart]:
    return [
        volume(board, slug, gettext),
        voices(board, slug, gettext),
        response(board, slug, gettext),
        aspects(board, slug, gettext, aspect_labels),
        scores(board, slug, gettext),
        places(board, slug, gettext),
    ]
