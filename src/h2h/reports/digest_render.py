"""A digest in words: an HTML email with its plain-text part, and a Telegram text.

Written in the member's language (``notify_out.language_of``) when the digest is queued, so
every retry sends the same words. The HTML is a template with inline styles only (mail
clients drop stylesheets) and autoescaping on: customers' words are quoted, never markup.
Telegram gets plain text — its connector sends without a parse mode — kept within
Telegram's 4096 characters: whole lines are dropped from the end, and a last line says
where the rest is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from h2h import i18n
from h2h.errors import N_
from h2h.inbox.models import SLA_TARGET_LABELS, SlaTarget
from h2h.nlp.models import SENTIMENT_LABELS, Sentiment
from h2h.problems.models import STATE_LABELS, ProblemState
from h2h.reports.digest import NOT_ANALYSED, Count, Digest, Item
from h2h.reports.models_digest import Frequency
from h2h.templating import ENV

TELEGRAM_LIMIT = 4096  # sendMessage, in UTF-16 code units

SUBJECT = {
    Frequency.DAILY: N_("Daily digest of {workspace}"),
    Frequency.WEEKLY: N_("Weekly digest of {workspace}"),
}
QUIET = {Frequency.DAILY: N_("A quiet day"), Frequency.WEEKLY: N_("A quiet week")}
QUIET_TEXT = N_("No new messages, nobody waiting for an answer, no threats, problems or breaches.")
PERIOD = N_("From {since} to {until}")
BEFORE = {
    Frequency.DAILY: N_("{count} (the day before: {previous})"),
    Frequency.WEEKLY: N_("{count} (the week before: {previous})"),
}
MESSAGES = N_("New mentions and messages")
NOT_ANALYSED_LABEL = N_("Not analysed yet")
NO_MESSAGES = N_("No new mentions or messages.")
WAITING = N_("Waiting for an answer")
NO_WAITING = N_("Nobody is waiting for an answer.")
THREATS = N_("Threats")
NO_THREATS = N_("No threats.")
PROBLEMS = N_("New and growing problems")
NO_PROBLEMS = N_("No new or growing problems.")
NEW_PROBLEM = N_("new")
COMPLAINTS = N_("{count} complaints (before: {previous})")
BREACHES = N_("SLA breaches")
NO_BREACHES = N_("No SLA breaches.")
MISSED = N_("Missed: {target}")
FEEDBACK = N_("Feedback")
FEEDBACK_LINE = N_("NPS answers: {nps}; CSAT answers: {csat}; detractors: {detractors}")
URGENCY = N_("urgency {score}")
SHOWN = N_("{shown} of {total} shown")
RELATIVE = N_(
    "The links are paths inside H2H: ask your administrator to set H2H_PUBLIC_URL so that "
    "they open from here."
)
FOOTER = N_("You get this digest because you chose it in {workspace}. Change it here: {link}")
MORE = N_("… more in H2H: {link}")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str  # the email's plain-text part
    html: str
    telegram: str  # without the subject, which notify_out puts in front


def sentiment_label(key: str) -> str:
    if key == NOT_ANALYSED:
        return NOT_ANALYSED_LABEL
    return SENTIMENT_LABELS[Sentiment(key)]


class Words:
    """The msgids of this module in one language, with the digest's own formatting."""

    def __init__(self, language: str, timezone: str, frequency: Frequency) -> None:
        self.language, self.timezone, self.frequency = language, timezone, frequency
        self.gettext: Callable[[str], str] = i18n.translations(language).gettext

    def __call__(self, msgid: str, **params: Any) -> str:
        return self.gettext(msgid).format(**params) if params else self.gettext(msgid)

    def when(self, value: Any) -> str:
        return i18n.format_dt(value, self.language, self.timezone)

    def count(self, count: Count) -> str:
        return self(BEFORE[self.frequency], count=count.count, previous=count.previous)

    def details(self, item: Item) -> str:
        """What is special about the item: the SLA target missed, the urgency."""
        extra = []
        if item.detail:
            extra.append(self(MISSED, target=self(SLA_TARGET_LABELS[SlaTarget(item.detail)])))
        if item.score is not None:
            extra.append(self(URGENCY, score=f"{item.score:.2f}"))
        return " · ".join(extra)

    def item(self, item: Item) -> str:
        extra = self.details(item)
        return f"{item.title} · {extra}" if extra else item.title


def subject_of(digest: Digest, words: Words) -> str:
    subject = words(SUBJECT[words.frequency], workspace=digest.workspace)
    return f"{subject}: {words(QUIET[words.frequency])}" if digest.quiet else subject


def _section(title: str, total: int, items: list[Item], empty: str, words: Words) -> list[str]:
    lines = ["", f"{words(title)} ({total})" if total else words(title)]
    if not items:
        return [*lines, words(empty)]
    for item in items:
        lines.append(f"• {words.item(item)}")
        if item.quote:
            lines.append(f"  «{item.quote}»")
        lines.append(f"  {item.link}")
    if total > len(items):
        lines.append(words(SHOWN, shown=len(items), total=total))
    return lines


def _text_lines(digest: Digest, words: Words) -> list[str]:
    since, until = words.when(digest.since), words.when(digest.until)
    lines = [words(PERIOD, since=since, until=until)]
    if digest.quiet:
        return [*lines, "", words(QUIET[words.frequency]), words(QUIET_TEXT)]
    lines += ["", f"{words(MESSAGES)}: {words.count(digest.messages)}"]
    if digest.messages.count or digest.messages.previous:
        for c in digest.sentiment:
            lines.append(f"  {words(sentiment_label(c.key))}: {words.count(c)} {c.link}")
    else:
        lines.append(words(NO_MESSAGES))
    lines += _section(WAITING, digest.waiting_total, digest.waiting, NO_WAITING, words)
    lines += _section(THREATS, digest.threats_total, digest.threats, NO_THREATS, words)
    lines += ["", words(PROBLEMS)]
    for p in digest.problems:
        state = words(STATE_LABELS[ProblemState(p.state)])
        tags = f"{words(NEW_PROBLEM)}, {state}" if p.new else state
        complaints = words(COMPLAINTS, count=p.complaints, previous=p.previous)
        lines += [f"• #{p.number} {p.title} ({tags}) · {complaints}", f"  {p.link}"]
    if not digest.problems:
        lines.append(words(NO_PROBLEMS))
    lines += _section(BREACHES, digest.breaches_total, digest.breaches, NO_BREACHES, words)
    if digest.feedback is not None:
        f = digest.feedback
        line = words(FEEDBACK_LINE, nps=f.nps_answers, csat=f.csat_answers, detractors=f.detractors)
        lines += ["", words(FEEDBACK), line, f.link]
    return lines


def _footer(digest: Digest, words: Words) -> list[str]:
    lines = [] if digest.absolute_links else ["", words(RELATIVE)]
    return [*lines, "", "— " + words(FOOTER, workspace=digest.workspace, link=digest.home)]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(lines: list[str], limit: int, more: str) -> str:
    """The lines, whole, within ``limit`` UTF-16 units; cut ones are replaced by ``more``."""
    text = "\n".join(lines).strip()
    if _utf16(text) <= limit:
        return text
    kept = list(lines)
    while kept and _utf16("\n".join([*kept, "", more]).strip()) > limit:
        kept.pop()
    return "\n".join([*kept, "", more]).strip()[:limit]


def render(digest: Digest, *, language: str, timezone: str, frequency: Frequency) -> Rendered:
    """The digest in the member's language and time zone, as email and as Telegram text."""
    words = Words(language, timezone, frequency)
    subject = subject_of(digest, words)
    lines = _text_lines(digest, words) + _footer(digest, words)
    room = TELEGRAM_LIMIT - _utf16(subject) - 2  # notify_out sends "subject\n\ntext"
    telegram = fit(lines, room, words(MORE, link=digest.home))
    html = ENV.get_template("reports/digest_email.html").render(
        d=digest,
        w=words,
        subject=subject,
        lang=language,
        sentiment_label=sentiment_label,
        state_labels=STATE_LABELS,
        problem_state=ProblemState,
        m=msgids(),
    )
    return Rendered(subject=subject, text="\n".join(lines).strip(), html=html, telegram=telegram)


def msgids() -> dict[str, Any]:
    """The section titles and lines, for templates (they are extracted from here)."""
    names = ("MESSAGES", "NO_MESSAGES", "WAITING", "NO_WAITING", "THREATS", "NO_THREATS")
    more = ("PROBLEMS", "NO_PROBLEMS", "NEW_PROBLEM", "COMPLAINTS", "BREACHES", "NO_BREACHES")
    last = ("FEEDBACK", "FEEDBACK_LINE", "RELATIVE", "FOOTER", "PERIOD", "SHOWN")
    found: dict[str, Any] = {name: globals()[name] for name in names + more + last}
    found["QUIET"], found["QUIET_TEXT"], found["BEFORE"] = QUIET, QUIET_TEXT, BEFORE
    return found
