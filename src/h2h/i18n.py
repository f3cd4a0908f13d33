"""Interface languages: Russian and English through Babel catalogs shipped in the package.

Catalogs are kept as ``.po`` files and compiled in memory on first use, so there is no
build step and no stale ``.mo`` file can shadow an edited translation.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: dict[str, str] = {"ru": "Русский", "en": "English"}
SOURCE_LANGUAGE = "en"


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The catalog for a language; English (the source language) needs none."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return gettext_module.NullTranslations()
    po_file = resources.files("h2h") / "locales" / language / "LC_MESSAGES" / "messages.po"
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def negotiate(accept_language: str | None) -> str | None:
    """Pick a supported language from an Accept-Language header, if any fits."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language[:1000].split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        quality = _quality(params)
        if tag and tag != "*" and quality > 0:  # q=0 means "not acceptable" (RFC 9110)
            ranked.append((-quality, position, tag.replace("_", "-")))
    for _, _, tag in sorted(ranked):
        language = tag.split("-")[0].lower()
        if language in LANGUAGES:
            return language
    return None


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0  # also rejects NaN
    return 1.0


def format_dt(value: datetime | None, language: str, timezone: str = "UTC") -> str:
    """A date and time in the reader's language and the workspace's time zone."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return format_datetime(value, format="short", locale=language, tzinfo=zone)
