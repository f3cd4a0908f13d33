"""Account "liveness": is a social author a live person, a business page, a bot or a feed?

A small, explainable model: every fired signal (see ``liveness_names`` for names and
handles; posting figures here) adds a hand-set weight for or against a live person, and
the score is the logistic of the sum. Below one half, the account is the non-person kind
its signals point at most. Each signal is kept as a reason — a code, an English msgid
with its parameters and the weight — so the profile says *why* in the reader's language.
Weights were chosen on the dev half of ``tests/people/data/liveness.jsonl`` only; the
test half is what ``docs/people/liveness.md`` reports.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from h2h.channels import service as channels
from h2h.errors import N_
from h2h.people.liveness_names import Signal, handle_signals, name_signals
from h2h.people.models import ACCOUNT_KIND_LABELS, AccountKind, Identity, IdentityKind, Person
from h2h.people.timeline import Panel, profile_panel

CHUNK = 500
BIAS = 0.6  # most authors who write to a business are people
MIN_MESSAGES = 5  # fewer say nothing about how someone posts
MIN_GAPS = 8
MIN_CLOCK = 40
SOCIAL_HOSTS = ("vk.com", "t.me", "twitter.com", "x.com", "facebook.com", "instagram.com")
PERSONS: Table = Person.__table__  # type: ignore[assignment]

P, B, T, F = AccountKind.PERSON, AccountKind.BUSINESS, AccountKind.BOT, AccountKind.FEED
# code → (the kind it points at, weight, msgid). Weights of scaled signals are per unit share.
SIGNALS: dict[str, tuple[AccountKind, float, str]] = {
    "full_name": (P, 2.2, N_("The name looks like a first and last name: “{name}”")),
    "first_name": (P, 1.0, N_("The name is a first name: “{name}”")),
    "handle_name": (P, 0.5, N_("The handle has a first name in it: {handle}")),
    "own_words": (P, 0.8, N_("They write messages of their own, with few links or reposts")),
    "bursty": (P, 0.4, N_("They post irregularly, as people do")),
    "avatar": (P, 0.2, N_("The profile has a picture")),
    "legal_form": (B, 3.0, N_("The name has a company form: “{word}”")),
    "business_word": (B, 2.4, N_("The name has a business word: “{word}”")),
    "city": (B, 1.4, N_("The name has a place in it: “{word}”")),
    "phone": (B, 2.0, N_("The name has a phone number in it")),
    "digits": (B, 0.8, N_("The name has digits in it")),
    "emoji": (B, 0.9, N_("The name has {n} emoji")),
    "quotes": (B, 1.2, N_("The name has a brand in quotes")),
    "caps": (B, 0.6, N_("The name is written in capitals")),
    "long_name": (B, 0.8, N_("The name is {n} words long")),
    "handle_business": (B, 1.0, N_("The handle has a business word in it: {handle}")),
    "role_mailbox": (B, 1.2, N_("The address is a role mailbox: {handle}")),
    "community": (B, 2.0, N_("The account is a community page: {handle}")),
    "website": (B, 0.6, N_("The profile links to a website")),
    "audience": (B, 0.8, N_("{n} followers")),
    "bot_word": (T, 2.6, N_("The name says it is automatic: “{word}”")),
    "bot_handle": (T, 3.2, N_("The handle ends in “bot”: {handle}")),
    "machine_mailbox": (T, 2.6, N_("The address sends automatic mail: {handle}")),
    "clockwork": (T, 2.2, N_("They post at near-constant intervals")),
    "around_clock": (T, 1.6, N_("They post around the clock, with no quiet hours")),
    "prolific": (T, 1.4, N_("They post about {n} messages a day")),
    "feed_word": (F, 2.4, N_("The name sounds like a news or repost page: “{word}”")),
    "handle_feed": (F, 1.0, N_("The handle sounds like a news page: {handle}")),
    "reposts": (F, 4.0, N_("Reposts among their messages: {share}%")),
    "links": (F, 2.4, N_("Messages with links: {share}%")),
}
NO_EVIDENCE = N_("Nothing to go by yet: no name, profile or messages to read")
SCORE_WORDS = (
    (0.85, N_("very likely a live person")),
    (0.65, N_("probably a live person")),
    (0.4, N_("hard to say")),
    (0.15, N_("probably not a live person")),
    (0.0, N_("very unlikely to be a live person")),
)


@dataclass(frozen=True)
class Features:
    """What we know of an account: what ``assess`` reads (and the dev set holds)."""

    name: str = ""
    handles: tuple[str, ...] = ()  # usernames, profile URLs, email addresses
    telegram: bool = False  # a Telegram account: its bots' usernames must end in "bot"
    messages: int = 0
    reposts: int = 0
    links: int = 0
    gap_cv: float | None = None  # coefficient of variation of the gaps between messages
    quiet_share: float | None = None  # least share of messages in any 5 hours of the day
    per_day: float | None = None
    followers: int | None = None
    avatar: bool = False
    website: bool = False


@dataclass(frozen=True)
class Assessment:
    kind: AccountKind
    score: float  # 0..1: how likely a live person
    reasons: list[dict[str, Any]] = field(default_factory=list)


def score_words(score: float | None) -> str | None:
    """The score in words (an English msgid)."""
    if score is None:
        return None
    return next(words for floor, words in SCORE_WORDS if score >= floor)


# --- features ---------------------------------------------------------------------------------


def activity(times: Sequence[datetime]) -> tuple[float | None, float | None, float | None]:
    """(gap CV, quiet share, messages a day) of message times; None where too few."""
    times = sorted(times)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    gap_cv = None
    if len(gaps) >= MIN_GAPS and statistics.fmean(gaps) > 0:
        gap_cv = statistics.pstdev(gaps) / statistics.fmean(gaps)
    quiet = None
    if len(times) >= MIN_CLOCK:
        hours = Counter(t.hour for t in times)
        windows = [sum(hours[(start + i) % 24] for i in range(5)) for start in range(24)]
        quiet = min(windows) / len(times)
    per_day = None
    if len(times) >= MIN_MESSAGES:
        days = max((times[-1] - times[0]).total_seconds() / 86_400, 1.0)
        per_day = len(times) / days
    return gap_cv, quiet, per_day


def _activity_signals(f: Features) -> list[Signal]:
    found: list[Signal] = []
    if f.messages >= MIN_MESSAGES:
        reposts, links = f.reposts / f.messages, f.links / f.messages
        if reposts >= 0.3:
            found.append(Signal("reposts", {"share": round(reposts * 100)}))
        if links >= 0.4:
            found.append(Signal("links", {"share": round(links * 100)}))
        if reposts < 0.1 and links < 0.2:
            found.append(Signal("own_words"))
    if f.gap_cv is not None:
        if f.gap_cv < 0.3:
            found.append(Signal("clockwork"))
        elif f.gap_cv > 1.2:
            found.append(Signal("bursty"))
    if f.quiet_share is not None and f.quiet_share >= 0.1:
        found.append(Signal("around_clock"))
    if f.per_day is not None and f.per_day >= 20:
        found.append(Signal("prolific", {"n": round(f.per_day)}))
    return found


def _profile_signals(f: Features) -> list[Signal]:
    found = []
    if f.followers is not None and f.followers >= 10_000:
        found.append(Signal("audience", {"n": f.followers}))
    if f.avatar:
        found.append(Signal("avatar"))
    if f.website:
        found.append(Signal("website"))
    return found


# --- the model ----------------------------------------------------------------------------------


def _merged(signals: Iterable[Signal]) -> list[tuple[Signal, int]]:
    """One reason per code; a second word of the same kind counts half again."""
    by_code: dict[str, list[Signal]] = {}
    for signal in signals:
        by_code.setdefault(signal.code, []).append(signal)
    out = []
    for code, group in by_code.items():
        params = dict(group[0].params)
        if "word" in params:
            params["word"] = ", ".join(dict.fromkeys(s.params["word"] for s in group))
        out.append((Signal(code, params), len(group)))
    return out


def assess(features: Features) -> Assessment:
    """Kind, score and reasons of an account, from its features alone (pure)."""
    signals = [
        *name_signals(features.name),
        *handle_signals(list(features.handles), features.telegram),
        *_activity_signals(features),
        *_profile_signals(features),
    ]
    if not signals:
        reason = {"code": "no_evidence", "msgid": NO_EVIDENCE, "params": {}, "weight": 0.0}
        return Assessment(AccountKind.UNKNOWN, round(_sigmoid(BIAS), 3), [reason])
    total, against = BIAS, dict[AccountKind, float]()
    reasons: list[dict[str, Any]] = []
    for signal, count in _merged(signals):
        kind, base, msgid = SIGNALS[signal.code]
        weight = float(base)
        if "share" in signal.params:
            weight *= float(signal.params["share"]) / 100
        weight *= 1 + 0.5 * (min(count, 2) - 1)
        signed = weight if kind is P else -weight
        total += signed
        if kind is not P:
            against[kind] = against.get(kind, 0.0) + weight
        reasons.append(
            {
                "code": signal.code,
                "msgid": msgid,
                "params": signal.params,
                "weight": round(signed, 2),
            }
        )
    reasons.sort(key=lambda r: -abs(r["weight"]))
    score = _sigmoid(total)
    kind = P if score >= 0.5 or not against else max(against, key=lambda k: against[k])
    return Assessment(kind, round(score, 3), reasons)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def evaluate(cases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Precision and recall per kind of labelled cases (rows of the dev/test set)."""
    pairs = [(AccountKind(c["kind"]), assess(case_features(c)).kind) for c in cases]
    report: dict[str, Any] = {"cases": len(pairs)}
    report["accuracy"] = round(sum(a == b for a, b in pairs) / max(len(pairs), 1), 3)
    for kind in (P, B, T, F):
        hit = sum(1 for gold, got in pairs if gold is kind and got is kind)
        predicted = sum(1 for _, got in pairs if got is kind)
        actual = sum(1 for gold, _ in pairs if gold is kind)
        report[kind.value] = {
            "precision": round(hit / predicted, 3) if predicted else None,
            "recall": round(hit / actual, 3) if actual else None,
            "support": actual,
        }
    return report


def case_features(case: dict[str, Any]) -> Features:
    """A row of the dev/test set as features (unknown keys are the label and the split)."""
    known = Features.__dataclass_fields__
    values = {k: v for k, v in case.items() if k in known}
    values["handles"] = tuple(values.get("handles", ()))
    return Features(**values)


# --- refreshing persons ---------------------------------------------------------------------------


def features_of(
    name: str, identities: Sequence[Identity], stats: Sequence[channels.AuthorStats]
) -> Features:
    """A person's features from their identities and their authors' posting figures."""
    handles = [h for i in identities for h in (i.display, i.url) if h]
    times = [t for s in stats for t in s.times]
    gap_cv, quiet, per_day = activity(times)
    followers = [i.followers for i in identities if i.followers is not None]
    website = any(
        i.url and i.url.startswith("http") and not any(host in i.url for host in SOCIAL_HOSTS)
        for i in identities
    )
    return Features(
        name=name,
        handles=tuple(dict.fromkeys(handles)),
        telegram=any(i.kind is IdentityKind.TELEGRAM for i in identities),
        messages=sum(s.messages for s in stats),
        reposts=sum(s.reposts for s in stats),
        links=sum(s.links for s in stats),
        gap_cv=gap_cv,
        quiet_share=quiet,
        per_day=per_day,
        followers=max(followers) if followers else None,
        avatar=any(i.avatar_url for i in identities),
        website=website,
    )


def refresh_liveness(
    session: Session, *, workspace_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> int:
    """Assess these persons again and store kind, score and reasons; returns how many."""
    ids = list(dict.fromkeys(person_ids))
    done = 0
    for start in range(0, len(ids), CHUNK):
        persons = session.execute(
            select(Person.id, Person.name, Person.avatar_url).where(
                Person.workspace_id == workspace_id,
                Person.id.in_(ids[start : start + CHUNK]),
                Person.merged_into_id.is_(None),
                Person.erased_at.is_(None),
            )
        ).all()
        found = session.scalars(
            select(Identity).where(
                Identity.workspace_id == workspace_id,
                Identity.person_id.in_([p.id for p in persons]),
            )
        ).all()
        stats = channels.author_stats(
            session, workspace_id=workspace_id, identity_ids=[i.id for i in found]
        )
        rows = []
        for person in persons:
            own = [i for i in found if i.person_id == person.id]
            features = features_of(person.name, own, [stats[i.id] for i in own if i.id in stats])
            if person.avatar_url and not features.avatar:
                features = Features(**{**features.__dict__, "avatar": True})
            result = assess(features)
            rows.append(
                {
                    "b_ws": workspace_id,
                    "b_id": person.id,
                    "b_kind": result.kind.value,
                    "b_score": result.score,
                    "b_reasons": result.reasons,
                }
            )
        _store(session, rows)
        done += len(rows)
    return done


def _store(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    # A derived field is not a change to the person: keeping ``updated_at`` keeps the
    # refresh and identity-resolution watermarks from seeing every person as changed.
    session.execute(
        update(PERSONS)
        .where(PERSONS.c.workspace_id == bindparam("b_ws"), PERSONS.c.id == bindparam("b_id"))
        .values(
            account_kind=bindparam("b_kind"),
            liveness=bindparam("b_score"),
            liveness_reasons=bindparam("b_reasons"),
            updated_at=PERSONS.c.updated_at,
        ),
        rows,
    )


# --- the profile panel ------------------------------------------------------------------------


def _panel(session: Session, workspace_id: uuid.UUID, person: Any) -> dict[str, Any]:
    return {
        "kind": person.account_kind,
        "kind_label": ACCOUNT_KIND_LABELS[person.account_kind],
        "score": person.liveness,
        "words": score_words(person.liveness),
        "reasons": list(person.liveness_reasons or []),
    }


profile_panel(Panel("liveness", "people/_liveness_panel.html", _panel, order=30))
