"""Consent and do-not-contact: the decision table of ``may_contact``, audit, API and UI."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import AUDIT_ACTIONS, AuditEvent, Role
from h2h.channels.connectors.base import ChannelKind, Direction
from h2h.db import utcnow
from h2h.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from h2h.people import consent, merging, privacy, profile, service
from h2h.people.models import Consent, ConsentPurpose, Order, Person
from tests.conftest import Cast, login
from tests.people.privacy_data import World, ago, world

MARKETING, SERVICE = ConsentPurpose.MARKETING, ConsentPurpose.SERVICE
TG, EMAIL = ChannelKind.TELEGRAM, ChannelKind.EMAIL


def _actor(cast: Cast, role: str = "agent") -> accounts.Actor:
    return accounts.Actor(user_id=cast.members[role].user.id, role=Role(role))


@pytest.fixture
def anna(session: Session, cast: Cast) -> tuple[World, Person]:
    """Anna wrote to us on Telegram 40 days ago; Boris wrote in another chat."""
    w = world(session, cast.a.id)
    first = w.write(session, w.telegram, "tg-1", "424242", "Где мой заказ?", ago(40), name="Анна")
    w.write(session, w.telegram, "tg-b", "515151", "Я Борис", ago(39), name="Борис")
    person = w.person_of(session, first)
    session.commit()
    return w, person


def _ask(
    session: Session, person: Person, channel: ChannelKind | str, purpose: ConsentPurpose, **kw: Any
) -> consent.Decision:
    return consent.may_contact(
        session,
        workspace_id=person.workspace_id,
        person_id=person.id,
        channel=channel,
        purpose=purpose,
        **kw,
    )


def _record(session: Session, cast: Cast, person: Person, **kw: Any) -> Consent:
    kw.setdefault("source", "widget form")
    return consent.record_consent(
        session, workspace_id=cast.a.id, actor=_actor(cast), person_id=person.id, **kw
    )


def test_marketing_without_consent_is_refused_with_its_reason(
    session: Session, anna: tuple[World, Person]
) -> None:
    _, person = anna
    decision = _ask(session, person, TG, MARKETING)
    assert not decision.allowed
    assert decision.rule == "no_consent"
    assert decision.text() == "No marketing consent on Telegram"
    assert decision.record is None


def test_granted_then_withdrawn_marketing_is_refused_and_a_new_grant_allows_again(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    granted = _record(
        session, cast, person, channel="telegram", purpose="marketing", recorded_at=ago(10)
    )
    assert _ask(session, person, TG, MARKETING).record == granted
    withdrawn = consent.withdraw(
        session,
        workspace_id=cast.a.id,
        actor=_actor(cast),
        person_id=person.id,
        channel="telegram",
        purpose="marketing",
        source="replied STOP",
        recorded_at=ago(5),
    )
    decision = _ask(session, person, TG, MARKETING)
    assert (decision.allowed, decision.rule, decision.record) == (False, "withdrawn", withdrawn)
    assert decision.text() == f"Marketing consent on Telegram withdrawn on {ago(5).date()}"
    _record(session, cast, person, channel="telegram", purpose="marketing", recorded_at=ago(1))
    assert _ask(session, person, TG, MARKETING).allowed


def test_a_channel_record_beats_any_channel_only_when_it_is_newer(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    everywhere = _record(
        session, cast, person, channel="any", purpose="marketing", recorded_at=ago(20)
    )
    not_telegram = _record(
        session,
        cast,
        person,
        channel="telegram",
        purpose="marketing",
        status="withdrawn",
        recorded_at=ago(10),
    )
    assert _ask(session, person, TG, MARKETING).record == not_telegram
    email = _ask(session, person, EMAIL, MARKETING)
    assert email.allowed and email.record == everywhere
    state = consent.consent_state(session, workspace_id=cast.a.id, person_id=person.id)
    assert state.cell("email", MARKETING).inherited
    assert not state.cell("telegram", MARKETING).inherited
    assert not state.cell("telegram", MARKETING).granted
    # "any" said later overrides the older Telegram withdrawal.
    again = _record(session, cast, person, channel="any", purpose="marketing", recorded_at=ago(2))
    assert _ask(session, person, TG, MARKETING).record == again


def test_at_the_same_instant_a_withdrawal_beats_a_grant(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    at = ago(3)
    _record(session, cast, person, channel="telegram", purpose="surveys", recorded_at=at)
    _record(
        session, cast, person, channel="any", purpose="surveys", status="withdrawn", recorded_at=at
    )
    assert _ask(session, person, TG, ConsentPurpose.SURVEYS).rule == "withdrawn"


def test_a_direct_reply_needs_no_marketing_consent_but_marketing_does(
    session: Session, anna: tuple[World, Person]
) -> None:
    w, person = anna
    reply = _ask(session, person, TG, SERVICE, in_reply_to=w.stored["tg-1"])
    assert (reply.allowed, reply.rule, reply.text()) == (
        True,
        "reply",
        "A direct reply to their own message",
    )
    assert reply.record is not None and reply.record.id == w.stored["tg-1"]
    assert not _ask(session, person, TG, MARKETING, in_reply_to=w.stored["tg-1"]).allowed


def test_a_reply_to_someone_elses_message_or_on_another_channel_is_refused(
    session: Session, anna: tuple[World, Person]
) -> None:
    w, person = anna
    ours = w.write(
        session,
        w.telegram,
        "tg-ours",
        "us",
        "Ищем",
        ago(39),
        direction=Direction.OUTBOUND,
        thread=None,
    )
    for message_id in (w.stored["tg-b"], ours, uuid.uuid4(), "not-an-id"):
        decision = _ask(session, person, TG, SERVICE, in_reply_to=message_id)
        assert (decision.allowed, decision.rule) == (False, "not_theirs"), message_id
    # Their own message, but asked for another channel kind.
    assert _ask(session, person, EMAIL, SERVICE, in_reply_to=w.stored["tg-1"]).rule == "not_theirs"


def test_do_not_contact_forbids_everything_on_its_channel_but_answers_what_they_wrote_after(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    w, person = anna
    _record(session, cast, person, channel="any", purpose="marketing", recorded_at=ago(30))
    _record(session, cast, person, channel="any", purpose="service", recorded_at=ago(30))
    consent.block(
        session,
        workspace_id=cast.a.id,
        actor=_actor(cast),
        person_id=person.id,
        channel="telegram",
        reason="asked us to stop",
    )
    for purpose in ConsentPurpose:
        decision = _ask(session, person, TG, purpose)
        assert (decision.allowed, decision.rule) == (False, "blocked")
    assert decision.text().startswith("Do not contact on Telegram since ")
    assert not _ask(session, person, TG, SERVICE, in_reply_to=w.stored["tg-1"]).allowed
    assert _ask(session, person, EMAIL, MARKETING).allowed
    later = w.write(session, w.telegram, "tg-2", "424242", "А всё-таки, где заказ?", utcnow())
    answer = _ask(session, person, TG, SERVICE, in_reply_to=later)
    assert (answer.allowed, answer.rule) == (True, "reply_after_block")
    assert not _ask(session, person, TG, MARKETING, in_reply_to=later).allowed
    consent.block(
        session, workspace_id=cast.a.id, actor=_actor(cast), person_id=person.id, channel="any"
    )
    email = _ask(session, person, EMAIL, MARKETING)
    assert email.rule == "blocked" and email.text().startswith("Do not contact on any channel")
    # The newer block on every channel covers Telegram too: tg-2 came before it.
    assert _ask(session, person, TG, SERVICE, in_reply_to=later).rule == "blocked"
    consent.unblock(
        session, workspace_id=cast.a.id, actor=_actor(cast), person_id=person.id, channel="any"
    )
    assert _ask(session, person, EMAIL, MARKETING).allowed
    with pytest.raises(NotFound):
        consent.unblock(
            session,
            workspace_id=cast.a.id,
            actor=_actor(cast),
            person_id=person.id,
            channel="email",
        )


def test_service_messages_follow_a_recent_conversation_or_order(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    w, person = anna
    wrote = w.write(session, w.telegram, "tg-3", "424242", "Спасибо", ago(5))
    assert _ask(session, person, TG, SERVICE).rule == "conversation"
    assert _ask(session, person, TG, SERVICE, now=utcnow() + timedelta(days=40)).rule == (
        "no_consent"
    )
    assert _ask(session, person, EMAIL, SERVICE).rule == "no_consent"
    assert wrote
    ids = service.identity_ids(session, workspace_id=cast.a.id, person_id=person.id)
    session.add(
        Order(
            workspace_id=cast.a.id,
            external_id="INV-1",
            identity_id=ids[0],
            placed_at=ago(60),
            total=150_00,
            currency="RUB",
        )
    )
    session.flush()
    assert _ask(session, person, EMAIL, SERVICE).rule == "order"
    assert not _ask(session, person, EMAIL, MARKETING).allowed
    refused = _record(session, cast, person, channel="email", purpose="service", status="withdrawn")
    assert _ask(session, person, EMAIL, SERVICE).record == refused


def test_erased_and_merged_persons_are_never_contacted(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    w, person = anna
    boris = w.person_of(session, w.stored["tg-b"])
    _record(session, cast, boris, channel="any", purpose="marketing")
    merging.merge(
        session, workspace_id=cast.a.id, actor=_actor(cast), winner_id=person.id, loser_id=boris.id
    )
    assert _ask(session, boris, TG, MARKETING).rule == "merged"
    assert _ask(session, person, TG, MARKETING).allowed  # the consent moved with the merge
    privacy.erase_person(
        session, workspace_id=cast.a.id, actor=_actor(cast, "admin"), person_id=person.id
    )
    decision = _ask(session, person, TG, SERVICE)
    assert (decision.allowed, decision.rule) == (False, "erased")
    with pytest.raises(Conflict):
        _record(session, cast, person, channel="any", purpose="marketing")


def test_consent_changes_are_audited_without_their_source_or_evidence(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    record = _record(
        session,
        cast,
        person,
        channel="telegram",
        purpose="research",
        source="call with Анна",
        evidence="Да, можно звонить",
    )
    consent.block(
        session, workspace_id=cast.a.id, actor=_actor(cast), person_id=person.id, channel="email"
    )
    consent.unblock(
        session, workspace_id=cast.a.id, actor=_actor(cast), person_id=person.id, channel="email"
    )
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.workspace_id == cast.a.id, AuditEvent.entity_id == str(person.id))
        .order_by(AuditEvent.created_at)
    ).all()
    assert [e.action for e in events] == ["consent.grant", "person.block", "person.unblock"]
    assert all(e.actor_id == cast.agent.user.id for e in events)
    assert events[0].details == {
        "consent_id": str(record.id),
        "channel": "telegram",
        "purpose": "research",
        "status": "granted",
    }
    assert {"consent.grant", "consent.withdraw", "person.block", "person.unblock"} <= set(
        AUDIT_ACTIONS
    )


def test_viewers_cannot_record_consent_and_bad_input_names_its_field(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    with pytest.raises(PermissionDenied):
        consent.record_consent(
            session,
            workspace_id=cast.a.id,
            actor=_actor(cast, "viewer"),
            person_id=person.id,
            channel="any",
            purpose="marketing",
            source="x",
        )
    bad: list[tuple[dict[str, Any], str]] = [
        ({"channel": "pigeon", "purpose": "marketing"}, "channel"),
        ({"channel": "any", "purpose": "spam"}, "purpose"),
        ({"channel": "any", "purpose": "marketing", "source": "  "}, "source"),
        ({"channel": "any", "purpose": "marketing", "status": "maybe"}, "status"),
        (
            {"channel": "any", "purpose": "marketing", "recorded_at": utcnow() + timedelta(days=1)},
            "recorded_at",
        ),
    ]
    for kwargs, field in bad:
        with pytest.raises(InvalidInput) as caught:
            _record(session, cast, person, **kwargs)
        assert caught.value.field == field
    with pytest.raises(InvalidInput):
        _ask(session, person, "any", MARKETING)
    assert session.scalars(select(Consent)).all() == []


def test_consents_and_blocks_appear_on_the_timeline(
    session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    _record(session, cast, person, channel="telegram", purpose="marketing", recorded_at=ago(3))
    consent.block(
        session, workspace_id=cast.a.id, actor=_actor(cast), person_id=person.id, channel="any"
    )
    items, _ = profile.timeline(session, workspace_id=cast.a.id, person_id=person.id)
    mine = [(i.title.format(**i.data), i.data["status"]) for i in items if i.kind == "consent"]
    assert mine == [
        ("Do not contact on any channel", "blocked"),
        ("Agreed to marketing on Telegram", "granted"),
    ]


# --- API and pages -----------------------------------------------------------------------------


def test_the_api_records_consent_blocks_and_answers_may_contact(
    client: TestClient, session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    w, person = anna
    base = f"/api/v1/workspaces/{cast.a.slug}/people/{person.id}"
    agent = cast.agent.headers
    asked = client.get(
        f"{base}/may-contact", params={"channel": "telegram", "purpose": "marketing"}, headers=agent
    )
    assert asked.status_code == 200
    assert asked.json()["allowed"] is False
    assert asked.json()["message"] == "No marketing consent on Telegram"
    body = {"channel": "telegram", "purpose": "marketing", "source": "widget", "evidence": "✓"}
    created = client.post(f"{base}/consents", json=body, headers=agent)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "granted"
    asked = client.get(
        f"{base}/may-contact", params={"channel": "telegram", "purpose": "marketing"}, headers=agent
    )
    assert asked.json()["allowed"] is True
    assert asked.json()["record_id"] == created.json()["id"]
    reply = client.get(
        f"{base}/may-contact",
        headers=agent,
        params={"channel": "telegram", "purpose": "service", "in_reply_to": str(w.stored["tg-b"])},
    )
    assert reply.json()["rule"] == "not_theirs"
    assert client.post(f"{base}/blocks", json={"channel": "any"}, headers=agent).status_code == 201
    state = client.get(f"{base}/consents", headers=cast.viewer.headers).json()
    assert [b["channel"] for b in state["blocks"]] == ["any"]
    assert len(state["history"]) == 1
    assert client.delete(f"{base}/blocks?channel=any", headers=agent).status_code == 204
    assert client.delete(f"{base}/blocks?channel=any", headers=agent).status_code == 404
    bad = client.post(f"{base}/consents", json={**body, "channel": "pigeon"}, headers=agent)
    assert bad.status_code == 422
    assert (
        client.post(f"{base}/consents", json=body, headers=cast.viewer.headers).status_code == 403
    )
    bad_ask = client.get(f"{base}/may-contact?channel=telegram&purpose=spam", headers=agent)
    assert bad_ask.status_code == 422


def test_the_profile_panel_shows_the_matrix_and_its_forms_work(
    client: TestClient, session: Session, cast: Cast, anna: tuple[World, Person]
) -> None:
    _, person = anna
    csrf = login(client, cast.agent.user.email)
    url = f"/w/{cast.a.slug}/people/{person.id}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="consent-matrix"' in page.text
    assert 'data-testid="export-link"' in page.text
    assert 'data-testid="erase-link"' not in page.text  # agents cannot erase
    form = {
        "csrf_token": csrf,
        "channel": "telegram",
        "purpose": "surveys",
        "status": "granted",
        "source": "asked in chat",
        "evidence": "",
    }
    assert client.post(f"{url}/consents", data=form, follow_redirects=False).status_code == 303
    posted = client.post(
        f"{url}/blocks", data={"csrf_token": csrf, "channel": "email"}, follow_redirects=False
    )
    assert posted.status_code == 303
    page = client.get(url)
    assert 'data-purpose="surveys" data-status="granted"' in page.text
    assert 'data-testid="contact-block"' in page.text
    assert 'data-testid="unblock"' in page.text
    client.post(f"{url}/blocks/remove", data={"csrf_token": csrf, "channel": "email"})
    assert 'data-testid="contact-block"' not in client.get(url).text
    bad = client.post(f"{url}/consents", data={**form, "source": ""}, follow_redirects=True)
    assert "Say where this comes from" in bad.text
