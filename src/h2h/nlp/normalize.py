"""Text normalisation before analysis: markup out, meaning kept, size bounded."""

from __future__ import annotations

import html
import re
import unicodedata

MAX_CHARS = 20_000  # longer texts are analysed by their head: a customer states the point early

_VK_MENTION = re.compile(r"\[(?:id|club|public)\d+\|([^\]\n]{0,100})\]")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,500}>")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_HANDLE = re.compile(r"(?<![\w@])@\w{1,64}")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_REPEATS = re.compile(r"(.)\1{3,}")

URL_TOKEN = " xurl "  # noqa: S105 - placeholder words, not secrets
HANDLE_TOKEN = " xuser "  # noqa: S105


def normalize(text: str) -> str:
    """Plain text for the models: VK/Telegram markup, HTML, URLs, handles and junk removed."""
    text = text[:MAX_CHARS]
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", _CONTROL.sub(" ", text))
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = _VK_MENTION.sub(r"\1", text)
    text = _URL.sub(URL_TOKEN, text)
    text = _EMAIL.sub(URL_TOKEN, text)
    text = _HANDLE.sub(HANDLE_TOKEN, text)
    text = _REPEATS.sub(r"\1\1\1", text)
    return _SPACES.sub(" ", text).strip()


def visible(text: str) -> str:
    """The normalised text without the placeholder tokens (for lexicon matching and display)."""
    return _SPACES.sub(
        " ", normalize(text).replace(URL_TOKEN.strip(), " ").replace(HANDLE_TOKEN.strip(), " ")
    ).strip()


_SENTENCE_END = re.compile(r"[.!?…]+[)\s]*\s+|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end): a cheap punctuation split, stable across versions."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans
