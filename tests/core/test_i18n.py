"""The Russian catalog covers every UI string, and each person gets the language they chose."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from h2h import i18n
from h2h.accounts import service as accounts
from h2h.deps import LANG_COOKIE
from tests.conftest import Cast, csrf_from, login

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "h2h"  # babel.cfg patterns are relative to it, as in `make messages`
CATALOG = SOURCE / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}
RUSSIAN_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
# "{name}" for Python's str.format, "%(name)s" for Jinja's |format.
PLACEHOLDER = re.compile(r"\{\w*(?:[!:][^{}]*)?\}|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")

MessageKey = str | tuple[str, str]


def _key(message_id: str | tuple[str, ...] | list[str]) -> MessageKey:
    if isinstance(message_id, str):
        return message_id
    singular, plural = message_id[0], message_id[1]
    return (singular, plural)


@cache
def source_messages() -> dict[MessageKey, list[str]]:
    """Every msgid in the source, extracted as `make messages` does, with where it occurs."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[MessageKey, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(_key(message), []).append(f"{filename}:{lineno}")
    return found


@cache
def catalog() -> Catalog:
    # No locale argument: the header alone must say which language and plural rules apply.
    with CATALOG.open("rb") as handle:
        return read_po(handle)


def catalog_messages() -> dict[MessageKey, Message]:
    return {_key(m.id): m for m in catalog() if m.id}


def forms(message: Message) -> list[str]:
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return [s or "" for s in strings]


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def _describe(key: MessageKey) -> str:
    where = ", ".join(source_messages().get(key, ["not in the source"])[:3])
    return f"{key!r} ({where})"


# --- the catalog ----------------------------------------------------------------------------


def test_extraction_finds_python_and_template_strings() -> None:
    places = [place for where in source_messages().values() for place in where]
    assert any(".py:" in place for place in places)
    assert any(".html:" in place for place in places)
    assert "Not found." in source_messages()  # marked with N_() in h2h/errors.py
    assert "Log in to H2H" in source_messages()  # _() in accounts/login.html


def test_catalog_header_declares_russian_with_its_plural_forms() -> None:
    assert catalog().locale_identifier == "ru"
    assert catalog().plural_forms == RUSSIAN_PLURAL_FORMS
    assert catalog().charset.lower() == "utf-8"
    assert not catalog().fuzzy


def test_every_source_message_has_a_russian_translation() -> None:
    translated = catalog_messages()
    missing = [
        _describe(key)
        for key in source_messages()
        if key not in translated or not all(f.strip() for f in forms(translated[key]))
    ]
    assert not missing, "untranslated (run `make messages`, then translate):\n" + "\n".join(missing)


def test_no_translation_is_fuzzy() -> None:
    fuzzy = [_describe(key) for key, message in catalog_messages().items() if message.fuzzy]
    assert not fuzzy, "fuzzy translations are not used at runtime:\n" + "\n".join(fuzzy)


def test_plural_messages_have_every_russian_form() -> None:
    incomplete = [
        _describe(key)
        for key, message in catalog_messages().items()
        if message.pluralizable
        and (len(forms(message)) != catalog().num_plurals or not all(forms(message)))
    ]
    assert catalog().num_plurals == 3
    assert not incomplete, "plural messages need all three forms:\n" + "\n".join(incomplete)


def test_translations_keep_the_placeholders_of_the_source() -> None:
    broken = []
    for key, message in catalog_messages().items():
        # Every Russian form is used for several numbers (form 0 also for 21, 31…), so each
        # one must carry the placeholders of the English plural.
        expected = placeholders(key if isinstance(key, str) else key[1])
        for text in forms(message):
            if text and placeholders(text) != expected:
                broken.append(f"{_describe(key)}: {text!r}")
    assert not broken, "placeholders differ from the msgid:\n" + "\n".join(broken)


def test_translations_format_without_errors() -> None:
    # A stray "{" breaks str.format of flash messages; a stray "%" breaks Jinja's |format.
    broken = []
    for key, message in catalog_messages().items():
        for text in forms(message):
            try:
                if names := re.findall(r"%\((\w+)\)", text):
                    text % dict.fromkeys(names, 1)
                else:
                    text.format(**dict.fromkeys(re.findall(r"\{(\w+)", text), "x"))
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                broken.append(f"{_describe(key)}: {text!r} ({exc})")
    assert not broken, "\n".join(broken)


def test_catalog_has_no_messages_that_left_the_source() -> None:
    stale = [repr(key) for key in catalog_messages() if key not in source_messages()]
    stale += [f"{key!r} (obsolete #~ entry)" for key in catalog().obsolete]
    assert not stale, "remove these from the catalog (`make messages` does):\n" + "\n".join(stale)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 событие."),
        (2, "2 события."),
        (5, "5 событий."),
        (11, "11 событий."),
        (21, "21 событие."),
        (22, "22 события."),
        (111, "111 событий."),
    ],
)
def test_runtime_translations_follow_russian_plural_rules(count: int, expected: str) -> None:
    text = i18n.translations("ru").ngettext(
        "%(num)d event. Who did what, and when.", "%(num)d events. Who did what, and when.", count
    )
    assert (text % {"num": count}).startswith(expected)


def test_english_needs_no_catalog() -> None:
    assert i18n.translations("en").gettext("Log in") == "Log in"


# --- Accept-Language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru-RU,ru;q=0.9", "ru"),
        ("ru", "ru"),
        ("RU-ru", "ru"),
        ("ru_RU", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("en;q=0.3, ru;q=0.8", "ru"),  # quality beats position
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.3", "ru"),  # unsupported ones are skipped
        ("ru, en", "ru"),  # equal quality: the first wins
        ("en, ru", "en"),
        ("de-DE,fr;q=0.9", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_negotiate_picks_the_best_supported_language(
    header: str | None, expected: str | None
) -> None:
    assert i18n.negotiate(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        ";;;,,,",
        "q=1",
        "ru;q=abc",
        "ru;q=nan, en",
        "en;q=",
        "ru-RU;q=0.9;level=1",
        "-ru",
        "en-",
        "x" * 1000,
        "ЯЗЫК",
        "\udcff",
        "ru,\x00",
        "\t\n",
        "i-klingon, zh-Hant-TW",
    ],
)
def test_negotiate_survives_a_garbage_header(header: str) -> None:
    assert i18n.negotiate(header) in (None, *i18n.LANGUAGES)


def test_negotiate_skips_languages_with_zero_quality() -> None:
    assert i18n.negotiate("ru;q=0") is None


# --- over HTTP ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "lang", "present", "absent"),
    [
        ("ru-RU,ru;q=0.9", "ru", "Вход в H2H", "Log in to H2H"),
        ("de-DE, ru;q=0.5", "ru", "Вход в H2H", "Log in to H2H"),
        ("en", "en", "Log in to H2H", "Вход в H2H"),
    ],
)
def test_login_page_speaks_the_browser_language(
    client: TestClient, accept_language: str, lang: str, present: str, absent: str
) -> None:
    page = client.get("/login", headers={"Accept-Language": accept_language})
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    assert present in page.text
    assert absent not in page.text


def test_language_switch_sets_a_cookie_that_beats_the_browser(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    page = client.get("/login")
    assert "Log in to H2H" in page.text
    switched = client.post(
        "/language",
        data={"lang": "ru", "next": "/login", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    assert client.cookies.get(LANG_COOKIE) == "ru"
    page = client.get("/login")
    assert "Вход в H2H" in page.text

    client.headers["Accept-Language"] = "ru"
    client.post("/language", data={"lang": "en", "csrf_token": csrf_from(page.text)})
    assert "Log in to H2H" in client.get("/login").text


def test_an_unknown_language_is_refused_in_the_readers_language(client: TestClient) -> None:
    client.headers["Accept-Language"] = "ru"
    token = csrf_from(client.get("/login").text)
    refused = client.post("/language", data={"lang": "de", "csrf_token": token})
    assert refused.status_code == 422
    assert "Неизвестный язык." in refused.text
    assert LANG_COOKIE not in client.cookies


def test_a_missing_page_is_reported_in_russian(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"Accept-Language": "ru"})
    assert page.status_code == 404
    assert "Страница не найдена" in page.text


def test_the_users_own_language_beats_the_browser(
    client: TestClient, cast: Cast, session: Session
) -> None:
    accounts.update_profile(session, user=cast.owner.user, language="ru")
    session.commit()
    client.headers["Accept-Language"] = "en"
    login(client, cast.owner.user.email)
    page = client.get("/account")
    assert '<html lang="ru">' in page.text
    assert "Ваш аккаунт" in page.text
    dashboard = client.get("/w/alpha/")
    assert "Обзор" in dashboard.text
    assert "Владелец" in dashboard.text  # a role label marked with N_() in Python


def test_switching_language_when_logged_in_is_saved_to_the_profile(
    client: TestClient, cast: Cast, session: Session
) -> None:
    client.headers["Accept-Language"] = "en"
    token = login(client, cast.owner.user.email)
    assert "Your account" in client.get("/account").text
    client.post("/language", data={"lang": "ru", "next": "/account", "csrf_token": token})
    session.refresh(cast.owner.user)
    assert cast.owner.user.language == "ru"
    # Another browser of the same person has no cookie yet, and still gets Russian.
    client.cookies.delete(LANG_COOKIE)
    assert "Ваш аккаунт" in client.get("/account").text
