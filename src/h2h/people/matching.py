"""What identity resolution compares: a person's match profile, blocking keys and evidence.

A profile is what we know that could show two persons are one human: canonical emails
and phones (also those hidden in a handle or walk-in contact), profile URLs, avatars and
the name taken apart by ``names``. Persons meet only through shared blocking keys; the
evidence of a pair is scored here.

Scores combine by noisy-OR: each piece of evidence is an independent chance that the
pair is one human (same phone 0.9, same name 0.6, …), so the score is
``1 − Π(1 − wᵢ)``. One strong piece suggests a merge on its own, corroboration raises it
towards 1 but never past it, and weak pieces (an initial, a first name alone) cannot add
up to a strong one quickly. Contradicting evidence (two different known first names)
multiplies the result by ``1 − |w|``: a shared family phone still shows up, lower.
A logistic model would need labelled merges we do not have; these weights are readable
in the evidence list and easy to argue about.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from h2h.people import identities, names
from h2h.people.models import IdentityKind

GMAIL = frozenset({"gmail.com", "googlemail.com"})
YANDEX = frozenset(
    {"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua", "narod.ru"}
)
WEIGHTS = {
    "same_profile_url": 0.95,
    "same_email": 0.9,
    "same_phone": 0.9,
    "same_avatar": 0.7,
    "name": 0.6,  # the same full name once diminutives and spellings are set aside
    "similar_name": 0.45,  # a typo or another spelling of the last name
    "name_initial": 0.3,  # "A. Ivanov" and "Alexander Ivanov"
    "first_name": 0.15,  # only a first name each, and it is the same
    "different_first_names": -0.5,
}
# Identities whose value may be an address or a number written some other way.
CONTACT_KINDS = frozenset(
    {IdentityKind.HANDLE, IdentityKind.WALKIN, IdentityKind.SITE, IdentityKind.CUSTOMER_ID}
)
SIMILAR_NAME = 0.9  # names.similarity from which two different spellings count


@dataclass
class Profile:
    """A person as resolution sees them."""

    id: uuid.UUID
    name: str
    parts: names.NameParts
    created_at: datetime
    activity: int  # messages and orders: the busier profile wins a merge
    emails: dict[str, str] = field(default_factory=dict)  # canonical → as written
    phones: dict[str, str] = field(default_factory=dict)  # E.164 → as written
    urls: set[str] = field(default_factory=set)
    avatars: set[str] = field(default_factory=set)

    def block_keys(self) -> set[str]:
        """Blocking keys: persons sharing any of them are compared."""
        keys = names.block_keys(self.parts)
        keys |= {f"email:{e}" for e in self.emails}
        keys |= {f"phone:{p}" for p in self.phones}
        keys |= {f"url:{u}" for u in self.urls}
        keys |= {f"avatar:{a}" for a in self.avatars}
        return {k[:400] for k in keys}


def canonical_email(email: str) -> str:
    """The mailbox an address delivers to: no "+tag", and Gmail's dots and Yandex's aliases."""
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    elif domain in YANDEX:
        local, domain = local.replace(".", "-"), "yandex.ru"
    return f"{local}@{domain}"


def canonical_url(url: str) -> str:
    text = url.strip().lower().split("#")[0].split("?")[0].rstrip("/")
    for prefix in ("https://", "http://", "www.", "m."):
        text = text.removeprefix(prefix)
    return text


def add_identity(profile: Profile, identity: Any, region: str) -> None:
    """Take what an identity row tells about its person into the profile."""
    kind, value, display = identity.kind, identity.value, identity.display or identity.value
    if kind == IdentityKind.EMAIL:
        profile.emails.setdefault(canonical_email(value), display)
    elif kind == IdentityKind.PHONE:
        profile.phones.setdefault(value, display)
    elif kind in CONTACT_KINDS:
        # A handle that is an address or a number written another way than its identity.
        claim = identities.contact_claim(display, region)
        if claim is not None and claim.kind == IdentityKind.EMAIL:
            profile.emails.setdefault(canonical_email(claim.value), display)
        elif claim is not None:
            profile.phones.setdefault(claim.value, display)
    if identity.url:
        profile.urls.add(canonical_url(identity.url))
    if identity.avatar_url:
        profile.avatars.add(identity.avatar_url.strip())


def _item(kind: str, detail: str) -> dict[str, Any]:
    return {"kind": kind, "detail": detail[:300], "weight": WEIGHTS[kind]}


def evidence(a: Profile, b: Profile) -> list[dict[str, Any]]:
    """What suggests (or contradicts) that two persons are one human, strongest first."""
    found = [
        _item("same_email", f"{a.emails[e]} = {b.emails[e]}") for e in a.emails.keys() & b.emails
    ]
    found += [_item("same_phone", p) for p in sorted(a.phones.keys() & b.phones)]
    found += [_item("same_profile_url", u) for u in sorted(a.urls & b.urls)]
    found += [_item("same_avatar", u) for u in sorted(a.avatars & b.avatars)]
    name = _name_evidence(a, b)
    if name is not None:
        found.append(name)
    if names.disagree(a.parts, b.parts):
        found.append(_item("different_first_names", f"{a.name} ≠ {b.name}"))
    return sorted(found, key=lambda e: -float(e["weight"]))


def _name_evidence(a: Profile, b: Profile) -> dict[str, Any] | None:
    pa, pb, detail = a.parts, b.parts, f"{a.name} ~ {b.name}"
    if pa.last is None or pb.last is None:
        same = pa.last is None and pb.last is None and bool(pa.firsts & pb.firsts)
        return _item("first_name", detail) if same else None
    if pa.last != pb.last and pa.last.rstrip("a") == pb.last.rstrip("a"):
        return None  # Иванов and Иванова: a family more often than one person
    if pa.full and pb.full and pa.firsts & pb.firsts and pa.last == pb.last:
        return _item("name", detail)
    score = names.similarity(pa, pb)
    if pa.full and pb.full and score >= SIMILAR_NAME:
        return _item("similar_name", detail)
    if (not pa.full or not pb.full) and pa.last == pb.last and pa.initial == pb.initial:
        return _item("name_initial", detail) if pa.initial else None
    return None


def score(items: Iterable[dict[str, Any]]) -> float:
    """Noisy-OR of the supporting evidence, lowered by contradicting evidence (see above)."""
    keep, lower = 1.0, 1.0
    for item in items:
        weight = float(item["weight"])
        if weight >= 0:
            keep *= 1 - weight
        else:
            lower *= 1 + weight
    return round((1 - keep) * lower, 4)


def winner_of(a: Profile, b: Profile) -> tuple[Profile, Profile]:
    """(winner, loser): the busier profile stays, then the older one."""
    if (b.activity, a.created_at) > (a.activity, b.created_at):
        return b, a
    return a, b
