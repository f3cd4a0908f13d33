"""Normalising handles into identities, and who a message author is in each kind of channel."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import Author, ChannelKind
from h2h.people import identities
from h2h.people.identities import (
    claim_for_author,
    normalize_email,
    normalize_numeric_id,
    normalize_phone,
    normalize_twitter,
    region_for,
)
from h2h.people.models import Identity, IdentityKind, Person
from tests.conftest import Cast

CHANNEL = uuid.UUID("00000000-0000-7000-8000-000000000001")


@pytest.mark.parametrize(
    "raw",
    ["8 (916) 123-45-67", "+7 916 123 45 67", "89161234567", "+7(916)1234567", "916 123-45-67"],
)
def test_russian_phone_formats_become_one_e164_number(raw: str) -> None:
    assert normalize_phone(raw, "RU") == "+79161234567"


@pytest.mark.parametrize("raw", ["12345", "not a phone", "", "+7 000 000 00 00", "8" * 30])
def test_a_phone_that_is_not_a_valid_number_is_none(raw: str) -> None:
    assert normalize_phone(raw, "RU") is None


def test_the_phone_region_follows_the_workspace_language() -> None:
    assert region_for("ru") == "RU" and region_for("en") == "GB" and region_for(None) == "RU"
    assert normalize_phone("020 7946 0958", region_for("en")) == "+442079460958"
    assert normalize_phone("89161234567", region_for("en")) is None


def test_emails_are_lower_cased_trimmed_and_validated() -> None:
    assert normalize_email("  Anna.Petrova@Example.COM ") == "anna.petrova@example.com"
    assert normalize_email("mailto:ivan@yandex.ru") == "ivan@yandex.ru"
    assert normalize_email("ivan@") is None
    assert normalize_email("Иван Петров") is None


def test_telegram_and_vk_ids_and_twitter_handles_are_normalised() -> None:
    assert normalize_numeric_id(" 00123 ") == "123"
    assert normalize_numeric_id("-100200") == "-100200"
    assert normalize_numeric_id("ivan") is None
    assert normalize_twitter("@Ivan_Petrov") == "ivan_petrov"
    assert normalize_twitter("https://x.com/Ivan_Petrov/status/1") == "ivan_petrov"
    assert normalize_twitter("not a handle!") is None


def _claim(kind: ChannelKind, handle: str, **author: Any) -> identities.Claim | None:
    return claim_for_author(kind, CHANNEL, Author(handle=handle, **author), "RU")


def test_email_telegram_and_vk_authors_are_global_identities() -> None:
    email = _claim(ChannelKind.EMAIL, "Anna@Example.com", name="Анна")
    telegram = _claim(ChannelKind.TELEGRAM, "42", name="Иван", url="https://t.me/ivan")
    vk = _claim(ChannelKind.VK, "-77", url="https://vk.com/club77")
    assert email is not None and (email.kind, email.value, email.namespace) == (
        IdentityKind.EMAIL,
        "anna@example.com",
        "",
    )
    assert telegram is not None and (telegram.kind, telegram.value, telegram.display) == (
        IdentityKind.TELEGRAM,
        "42",
        "@ivan",
    )
    assert vk is not None and (vk.kind, vk.value) == (IdentityKind.VK, "-77")


@pytest.mark.parametrize(
    "kind", [ChannelKind.WIDGET, ChannelKind.FILE, ChannelKind.WEBHOOK, ChannelKind.RSS]
)
def test_a_handle_that_is_an_email_or_phone_becomes_that_global_identity(kind: ChannelKind) -> None:
    email = _claim(kind, "ivan@example.com")
    phone = _claim(kind, "8 (916) 123-45-67")
    handle = _claim(kind, "Ivan_Petrov", name="Иван")
    assert email is not None and (email.kind, email.namespace) == (IdentityKind.EMAIL, "")
    assert phone is not None and (phone.kind, phone.value) == (IdentityKind.PHONE, "+79161234567")
    assert handle is not None
    assert (handle.kind, handle.value, handle.namespace) == (
        IdentityKind.HANDLE,
        "ivan_petrov",
        str(CHANNEL),
    )


def test_an_offline_conversation_without_contact_is_a_walk_in_of_that_log() -> None:
    walkin = _claim(ChannelKind.OFFLINE, "мария ивановна", name="Мария Ивановна")
    with_phone = _claim(ChannelKind.OFFLINE, "+7 916 123 45 67", name="Мария Ивановна")
    assert walkin is not None and (walkin.kind, walkin.namespace) == (
        IdentityKind.WALKIN,
        str(CHANNEL),
    )
    assert with_phone is not None and with_phone.kind is IdentityKind.PHONE


def test_placeholder_authors_are_nobody() -> None:
    for handle in ("unknown", "unknown-sender", "  ", "UNKNOWN"):
        assert _claim(ChannelKind.FILE, handle) is None


def test_a_telegram_handle_that_is_not_an_id_stays_within_its_channel() -> None:
    claim = _claim(ChannelKind.TELEGRAM, "someone")
    assert claim is not None and claim.kind is IdentityKind.HANDLE


def test_ensure_uses_the_identity_a_concurrent_writer_created_and_leaves_no_orphan(
    session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = identities.Claim(IdentityKind.EMAIL, "race@example.com", name="Первый")
    theirs = identities.ensure(session, workspace_id=cast.a.id, claims=[claim])[claim.key]
    session.commit()
    real_lookup = identities._lookup
    calls = {"n": 0}

    def stale_lookup(*args: Any) -> Any:
        # The first lookup ran before the other writer committed: it saw nothing.
        calls["n"] += 1
        return {} if calls["n"] == 1 else real_lookup(*args)

    monkeypatch.setattr(identities, "_lookup", stale_lookup)
    other = identities.Claim(IdentityKind.PHONE, "+79161234567")
    found = identities.ensure(session, workspace_id=cast.a.id, claims=[claim, other])
    assert found[claim.key].identity_id == theirs.identity_id
    assert found[claim.key].person_id == theirs.person_id
    assert found[other.key].created
    persons = session.scalar(
        select(func.count()).select_from(Person).where(Person.workspace_id == cast.a.id)
    )
    identities_count = session.scalar(
        select(func.count()).select_from(Identity).where(Identity.workspace_id == cast.a.id)
    )
    assert (persons, identities_count) == (2, 2)
