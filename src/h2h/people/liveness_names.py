"""What an author's name and handles say about them, for ``liveness``: signals, not verdicts.

A signal is a code and the words that fired it («потолки», "_bot", "club123"). Russian
words are read with pymorphy3: lemmas for the word lists, and its tags for first names
(``Name``), last names and patronymics (``Surn``, ``Patr``) and places (``Geox``), so
«Ульяновска» is a city and «Соколова» a last name in any form.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from h2h.people import liveness_words as words
from h2h.people.names import first_name_forms
from h2h.subjects.text import english_forms

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+|\b)\d[\d\s().-]{5,}\d")
_QUOTED = re.compile(r"[«\"“„'][^«»\"“”„']{2,}[»\"”']")
_HANDLE_PART = re.compile(r"[a-zа-яё]+", re.IGNORECASE)
_USERNAME = re.compile(r"[a-z0-9_.]+")  # "kotik_93": a nickname, digits and all
_COMMUNITY = re.compile(r"(?:vk\.com/)?(?:club|public|event)\d+$")
# Share of pymorphy3's parses a reading needs before we believe it.
READING = 0.3


@dataclass(frozen=True)
class Signal:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WordInfo:
    lemmas: frozenset[str]
    first_name: bool
    last_name: bool  # a surname or a patronymic
    place: bool


_lock = threading.Lock()
_morph: Any = None


def _analyzer() -> Any:
    global _morph
    if _morph is None:
        import pymorphy3

        _morph = pymorphy3.MorphAnalyzer()
    return _morph


@lru_cache(maxsize=50_000)
def word_info(word: str) -> WordInfo:
    """Lemmas and name/place readings of one word (Cyrillic through pymorphy3)."""
    low = word.lower().replace("ё", "е")
    if not _CYRILLIC.search(low):
        latin_first = bool(first_name_forms(low)) or low in words.ENGLISH_FIRST_NAMES
        return WordInfo(english_forms(low), latin_first, False, low in words.CITIES)
    with _lock:  # pymorphy3 promises no thread safety
        parses = _analyzer().parse(low)

    def share(*tags: str) -> float:
        return float(sum(p.score for p in parses if any(t in p.tag for t in tags)))

    geo, surname, first = share("Geox"), share("Surn", "Patr"), share("Name")
    lemmas = frozenset(p.normal_form.replace("ё", "е") for p in parses) or frozenset((low,))
    # «Владимир» and «Киров» are cities too: the likelier reading wins.
    place = (geo >= READING and geo >= max(surname, first)) or _city_adjective(parses)
    known = first >= READING or bool(first_name_forms(low))  # «Роман» is a novel, mostly
    return WordInfo(lemmas, known and not place, surname >= READING, place)


def _city_adjective(parses: Any) -> bool:
    """«Ульяновская», «Самарский»: an adjective made from a city's name."""
    top = parses[0] if parses else None
    if top is None or "ADJF" not in top.tag or not top.normal_form.endswith("ский"):
        return False
    root = top.normal_form[:-4]
    return any(word_info(root + end).place for end in ("ск", "а", "ь") if len(root) > 2)


def _emoji(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch) == "So")


def name_signals(name: str) -> list[Signal]:
    """Signals of an author's display name."""
    name = " ".join(name.split())
    found = _word_signals(name)
    if _PHONE.search(name):
        found.append(Signal("phone"))
    elif sum(ch.isdigit() for ch in name) >= 2 and not _USERNAME.fullmatch(name.lower()):
        found.append(Signal("digits"))
    emoji = _emoji(name)
    if emoji >= 2 or (emoji and len(_WORD.findall(name)) <= 1):
        found.append(Signal("emoji", {"n": emoji}))
    if _QUOTED.search(name):
        found.append(Signal("quotes"))
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) >= 8 and all(ch.isupper() for ch in letters) and " " in name:
        found.append(Signal("caps"))
    count = len(_WORD.findall(name))
    if count >= 5:
        found.append(Signal("long_name", {"n": count}))
    return found


def _word_signals(name: str) -> list[Signal]:
    tokens = _WORD.findall(name)
    found: list[Signal] = []
    shape = {"first": 0, "last": 0, "other": 0}
    for token in tokens:
        infos = [word_info(p) for p in ([token, *token.split("-")] if "-" in token else [token])]
        signal = _lexicon_signal(token, frozenset().union(*(i.lemmas for i in infos)))
        if signal is not None:
            found.append(signal)
        elif infos[0].place:
            found.append(Signal("city", {"word": token}))
        elif infos[0].first_name:
            shape["first"] += 1
        elif infos[0].last_name or len(token) == 1 or not _CYRILLIC.search(token):
            shape["last"] += 1  # an initial, or any Latin word: "Н.", "Smith", "Sokolova"
        else:
            shape["other"] += 1
    return found + _shape(name, tokens, found, shape)


def _lexicon_signal(token: str, lemmas: frozenset[str]) -> Signal | None:
    for code, lexicon in (
        ("legal_form", words.LEGAL_FORMS),
        ("business_word", words.BUSINESS),
        ("feed_word", words.FEED),
        ("bot_word", words.BOT),
    ):
        if lemmas & lexicon:
            return Signal(code, {"word": token})
    return None


def _shape(
    name: str, tokens: list[str], found: list[Signal], shape: dict[str, int]
) -> list[Signal]:
    """A first and last name ("Мария Соколова", "John Smith"), or a lone first name."""
    if found or shape["other"]:
        return []
    if shape["first"] >= 1 and shape["last"] >= 1 and 2 <= len(tokens) <= 3:
        return [Signal("full_name", {"name": name})]
    if shape["first"] == 1 and len(tokens) == 1:
        return [Signal("first_name", {"name": name})]
    return []


def handle_parts(handle: str) -> tuple[str, str]:
    """(kind of handle, the bare handle): "email", "url" or "name"; lower case."""
    text = handle.strip().lower()
    if "@" in text and not text.startswith("@"):
        return "email", text
    for prefix in ("https://", "http://", "www.", "t.me/", "x.com/", "twitter.com/"):
        text = text.removeprefix(prefix)
    kind = "url" if "/" in text or "." in text else "name"
    return kind, text.removeprefix("@").rstrip("/")


def handle_signals(handles: list[str], telegram: bool = False) -> list[Signal]:
    """Signals of an author's handles, profile URLs and email addresses."""
    found: dict[str, Signal] = {}
    for handle in handles:
        for signal in _one_handle(handle, telegram):
            found.setdefault(signal.code, signal)
    return list(found.values())


def _one_handle(handle: str, telegram: bool) -> list[Signal]:
    kind, bare = handle_parts(handle)
    params = {"handle": handle.strip()[:80]}
    if kind == "email":
        local = bare.split("@", 1)[0]
        if local in words.MACHINE_MAILBOXES:
            return [Signal("machine_mailbox", params)]
        return [Signal("role_mailbox", params)] if local in words.ROLE_MAILBOXES else []
    last = bare.split("/")[-1] if "/" in bare else bare
    if _COMMUNITY.search(bare) or re.fullmatch(r"-\d+", last):
        return [Signal("community", params)]
    if last.endswith("_bot") or (last.endswith("bot") and (telegram or "t.me/" in handle)):
        return [Signal("bot_handle", params)]
    parts = [p for p in _HANDLE_PART.findall(last) if len(p) > 1]
    if any(p.startswith(words.HANDLE_STEMS) for p in parts):
        return [Signal("handle_business", params)]
    if any(p.startswith(words.FEED_STEMS) for p in parts):
        return [Signal("handle_feed", params)]
    if any(p in {"bot", "robot"} for p in parts):
        return [Signal("bot_handle", params)]
    if any(len(p) > 2 and word_info(p).first_name for p in parts):
        return [Signal("handle_name", params)]
    return []
