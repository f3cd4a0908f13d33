"""Acting on advocates: personal messages through the inbox and a local Telegram Bot API,
only where consent allows, at most one request a month, rewards stated in the message, and
each message followed to its outcome — found in the data or set by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h import jobs
from h2h.accounts.models import AuditEvent
from h2h.advocacy import actions, outcomes
from h2h.advocacy.models import ActionKind, ActionState, AdvocacyAction
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.errors import InvalidInput
from h2h.i18n import translations
from h2h.people import consent_records, events, privacy
from h2h.people import service as people
from h2h.people.models import ConsentPurpose, Identity, Order, Person
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind
from tests.channels.fakes.telegram import ANNA, IVAN, JOHN, FakeTelegram
from tests.conftest import Cast, login
from tests.feedback.conftest import known
from tests.inbox.conftest import actor_of, customer, store
from tests.people.test_merge import merge, unmerge

API = "/api/v1/workspaces/alpha/advocacy"
REVIEW_SITE = "https://reviews.example/alpha-coffee"
TG = {"anna": ANNA, "ivan": IVAN, "john": JOHN}


def agree_to_marketing(session: Session, cast: Cast, person: Person) -> None:
    consent_records.record_consent(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        person_id=person.id,
        channel="telegram",
        purpose=ConsentPurpose.MARKETING,
        source="ticked the box at checkout",
    )


@pytest.fixture
def cast_people(session: Session, cast: Cast, telegram_channel: Channel) -> dict[str, Person]:
    """Anna, Ivan and John wrote to us on Telegram two days ago; Anna and John agreed to
    marketing messages, Ivan did not. All read English."""
    found = {who: known(session, cast, telegram_channel, who) for who in ("anna", "ivan", "john")}
    for person in found.values():
        person.language = "en"
    agree_to_marketing(session, cast, found["anna"])
    agree_to_marketing(session, cast, found["john"])
    session.commit()
    return found


def post(client: TestClient, cast: Cast, body: dict[str, Any], who: str = "agent") -> Any:
    return client.post(API + "/actions", json=body, headers=cast.members[who].headers)


def ask(kind: str, people_: list[Person], text: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "person_ids": [str(p.id) for p in people_], "text": text, **extra}


def sent_to(telegram: FakeTelegram, who: str) -> list[str]:
    return [m["text"] for m in telegram.sent if str(m["chat_id"]) == str(TG[who]["id"])]


def actions_of(session: Session, cast: Cast) -> list[AdvocacyAction]:
    session.expire_all()
    query = select(AdvocacyAction).where(AdvocacyAction.workspace_id == cast.a.id)
    return list(session.scalars(query.order_by(AdvocacyAction.sent_at)))


# --- sending -------------------------------------------------------------------------------------


def test_each_kind_goes_out_through_telegram_from_a_named_member(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], telegram: FakeTelegram,
    session: Session,
) -> None:  # fmt: skip
    anna, _ivan, john = cast_people["anna"], cast_people["ivan"], cast_people["john"]
    thank = post(client, cast, ask("thank", [anna], "{name}, thank you for the kind words!"))
    assert thank.status_code == 200, thank.text
    assert thank.json()["sent"] == 1 and thank.json()["actions"][0]["route"] == "reply"
    invite = post(
        client, cast,
        ask("invite", [anna], "{name}, join our tasting club: {link}",
            link="https://club.example/join"),
    )  # fmt: skip
    assert invite.json()["sent"] == 1 and invite.json()["actions"][0]["route"] == "new"
    review = post(
        client, cast, ask("review", [john], "{name}, would you tell others about us?",
                          link=REVIEW_SITE, rewarded=True, reward="a free coffee"),
    )  # fmt: skip
    assert review.json()["sent"] == 1
    [anna_thanks, anna_invite] = sent_to(telegram, "anna")
    assert anna_thanks.startswith(f"{anna.name.split()[0]}, thank you for the kind words!")
    assert anna_thanks.endswith("— Agent Person, Alpha Coffee")  # the signature: a named person
    assert "https://club.example/join" in anna_invite
    [john_review] = sent_to(telegram, "john")
    assert REVIEW_SITE in john_review
    assert "For this review we offer: a free coffee." in john_review  # stated, not hidden
    stored = actions_of(session, cast)
    assert [(a.kind, a.rewarded, a.reward) for a in stored] == [
        (ActionKind.THANK, False, None),
        (ActionKind.INVITE, False, None),
        (ActionKind.REVIEW, True, "a free coffee"),
    ]
    assert all(a.sent_by == cast.agent.user.id and a.state is ActionState.SENT for a in stored)


def test_a_referral_request_carries_its_own_code_and_discloses_the_reward(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], telegram: FakeTelegram,
    session: Session,
) -> None:  # fmt: skip
    john = cast_people["john"]
    john.language = "ru"
    session.commit()
    answer = post(
        client, cast,
        ask("referral", [john], "{name}, если знаете, кому мы пригодимся, расскажите о нас!",
            rewarded=True, reward="скидка 10%"),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    [action] = answer.json()["actions"]
    code = action["referral_code"]
    assert code and len(code) == 8
    [text] = sent_to(telegram, "john")
    ru = translations("ru").gettext
    assert ru(actions.CODE_LINE).format(code=code) in text
    assert text.split("\n\n—")[0].endswith(
        ru(actions.DISCLOSURE[ActionKind.REFERRAL]).format(reward="скидка 10%")
    )  # the disclosure, in his language, closes the message
    assert action["rewarded"] is True and action["language"] == "ru"


def test_without_consent_or_with_a_block_nobody_is_asked_and_refusals_are_counted(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], telegram: FakeTelegram,
    session: Session,
) -> None:  # fmt: skip
    anna, ivan, john = cast_people["anna"], cast_people["ivan"], cast_people["john"]
    consent_records.block(
        session, workspace_id=cast.a.id, actor=actor_of(cast.agent), person_id=john.id,
        channel="any",
    )  # fmt: skip
    session.commit()
    answer = post(
        client, cast, ask("review", [anna, ivan, john], "{name}, a short review?", link=REVIEW_SITE)
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["sent"], body["refused"]) == (1, {"no_consent": 1, "blocked": 1})
    assert sent_to(telegram, "ivan") == [] and sent_to(telegram, "john") == []
    # A thank-you in her own conversation needs no marketing consent…
    thanks = post(client, cast, ask("thank", [ivan], "{name}, thank you for writing!"))
    assert thanks.json()["sent"] == 1 and len(sent_to(telegram, "ivan")) == 1
    # …but a do-not-contact stands over it too.
    blocked = post(client, cast, ask("thank", [john], "{name}, thank you for writing!"))
    assert (blocked.json()["sent"], blocked.json()["refused"]) == (0, {"blocked": 1})


def test_the_page_shows_who_was_not_written_to_and_why(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], telegram: FakeTelegram
) -> None:
    anna, ivan = cast_people["anna"], cast_people["ivan"]
    csrf = login(client, cast.agent.user.email)
    url = "/w/alpha/feedback/advocates/act"
    form = client.get(url, params={"kind": "review", "person_id": [str(anna.id), str(ivan.id)]})
    assert form.status_code == 200
    assert "A new conversation on telegram" in form.text
    assert "Not possible: No marketing consent on Telegram" in form.text
    unedited = client.post(url, data={
        "csrf_token": csrf, "kind": "review", "person_id": [str(anna.id), str(ivan.id)],
        "text": actions.default_text(ActionKind.REVIEW, "en"), "link": REVIEW_SITE,
    })  # fmt: skip
    assert unedited.status_code == 422 and "Edit the message before sending" in unedited.text
    sent = client.post(url, data={
        "csrf_token": csrf, "kind": "review", "person_id": [str(anna.id), str(ivan.id)],
        "text": "{name}, it would help us a lot if you wrote a few words", "link": REVIEW_SITE,
    })  # fmt: skip
    assert sent.status_code == 200
    assert "Written to 1 people." in sent.text
    assert "Not written to, 1 people: no consent to such messages" in sent.text
    assert len(sent_to(telegram, "anna")) == 1


def test_one_request_a_month_per_person_whatever_its_kind(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], session: Session
) -> None:
    anna = cast_people["anna"]
    first = post(client, cast, ask("invite", [anna], "{name}, join us: {link}",
                                   link="https://club.example/join"))  # fmt: skip
    assert first.json()["sent"] == 1
    again = post(client, cast, ask("review", [anna], "{name}, a review?", link=REVIEW_SITE))
    assert (again.json()["sent"], again.json()["capped"]) == (0, 1)
    thanks = post(client, cast, ask("thank", [anna], "{name}, thank you!"))
    assert thanks.json()["sent"] == 1  # a thank-you asks for nothing
    [invite] = [a for a in actions_of(session, cast) if a.kind is ActionKind.INVITE]
    invite.sent_at = utcnow() - timedelta(days=actions.CAP_DAYS + 1)
    session.commit()
    later = post(client, cast, ask("review", [anna], "{name}, a review?", link=REVIEW_SITE))
    assert later.json()["sent"] == 1


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "thank", "text": "   "}, "text", "Write the message first"),
        ({"kind": "poke", "text": "Hi {name}"}, "kind", "Unknown kind"),
        ({"kind": "thank", "text": "x" * 5001}, "text", "too long"),
        ({"kind": "review", "text": "Hi {name}", "link": REVIEW_SITE, "rewarded": True},
         "reward", "Say what the reward is"),
        ({"kind": "review", "text": "Hi {name}"}, "link", "Give the link"),
        ({"kind": "review", "text": "Hi {name}", "link": "javascript:alert(1)"}, "link", "http"),
        ({"kind": "thank", "text": "Hi {name}", "reward": "a mug"}, "reward", "Only a review"),
        ({"kind": "thank", "text": "Hi {nmae}"}, "text", "Unknown variable"),
        ({"kind": "thank", "text": "Your code {code}"}, "text", "Only a referral"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_the_field_named(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], body: dict[str, Any],
    field: str, words: str,
) -> None:  # fmt: skip
    answer = post(client, cast, {"person_ids": [str(cast_people["anna"].id)], **body})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"][0]["field"] == field and words in problem["detail"]


def test_nobody_chosen_and_viewers_are_refused(
    client: TestClient, cast: Cast, cast_people: dict[str, Person]
) -> None:
    nobody = post(client, cast, {"kind": "thank", "text": "Hi {name}", "person_ids": []})
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "person_ids"
    viewer = post(client, cast, ask("thank", [cast_people["anna"]], "Hi {name}"), who="viewer")
    assert viewer.status_code == 403


# --- outcomes ------------------------------------------------------------------------------------


def _send(
    session: Session, cast: Cast, kind: str, person: Person, text: str, **extra: Any
) -> AdvocacyAction:
    request = actions.check_request(kind=kind, text=text, **extra)
    outcome = actions.send(
        session, workspace_id=cast.a.id, actor=actor_of(cast.agent), request=request,
        person_ids=[person.id],
    )  # fmt: skip
    [action] = outcome.actions
    session.flush()
    return action


def test_a_reply_in_the_conversation_marks_the_message_replied(
    session: Session, cast: Cast, cast_people: dict[str, Person], telegram_channel: Channel
) -> None:
    anna = cast_people["anna"]
    action = _send(session, cast, "invite", anna, "{name}, join us: {link}",
                   link="https://club.example/join")  # fmt: skip
    assert outcomes.detect(session, workspace_id=cast.a.id) == 0  # her old message is older
    store(session, cast, telegram_channel, customer(
        "anna-answer", "С удовольствием!", handle=str(ANNA["id"]), name="Anna",
        at=utcnow() + timedelta(seconds=1),
    ))  # fmt: skip
    assert outcomes.detect(session, workspace_id=cast.a.id) == 1
    assert action.state is ActionState.REPLIED and action.replied_at is not None
    assert "message_id" in action.evidence


def test_a_public_review_after_the_request_marks_it_posted(
    session: Session, cast: Cast, cast_people: dict[str, Person], telegram_channel: Channel
) -> None:
    john, anna = cast_people["john"], cast_people["anna"]
    on_site = _send(session, cast, "review", john, "{name}, a review?", link=REVIEW_SITE)
    about_us = _send(session, cast, "review", anna, "{name}, a review?", link=REVIEW_SITE)
    subjects.create_subject(
        session, workspace_id=cast.a.id, actor=actor_of(cast.admin), kind=SubjectKind.BRAND,
        name="Alpha", query="альфа",
    )  # fmt: skip
    later = utcnow() + timedelta(seconds=1)
    store(session, cast, telegram_channel, customer(
        "john-post", "Great coffee, recommend!", handle=str(JOHN["id"]), name="John", at=later,
    ))  # fmt: skip
    assert outcomes.detect(session, workspace_id=cast.a.id) == 1  # a chat answer, not public
    assert on_site.state is ActionState.REPLIED
    review = customer("r-1", "Лучший кофе", handle=str(JOHN["id"]), name="John", at=later)
    review = type(review)(**{**review.__dict__, "url": "https://www.reviews.example/r/1"})
    store(session, cast, telegram_channel, review)
    post_ = customer("anna-post", "Альфа — мой любимый кофе", handle=str(ANNA["id"]), at=later)
    store(
        session,
        cast,
        telegram_channel,
        type(post_)(**{**post_.__dict__, "url": "https://t.me/c/1/2"}),
    )
    # John's review on the site; Anna's post also answers in her conversation: replied, posted.
    assert outcomes.detect(session, workspace_id=cast.a.id) == 3
    assert on_site.state is ActionState.POSTED  # on the site the request pointed to
    assert about_us.state is ActionState.POSTED  # elsewhere, but about us (a subject matched)


def _identity_of(session: Session, cast: Cast, email: str) -> Identity:
    return session.scalars(
        select(Identity).where(Identity.workspace_id == cast.a.id, Identity.value == email)
    ).one()


def test_a_referral_by_code_then_an_order_marks_it_referred_then_converted(
    session: Session, cast: Cast, cast_people: dict[str, Person]
) -> None:
    john = cast_people["john"]
    action = _send(session, cast, "referral", john, "{name}, tell a friend, code {code}",
                   rewarded=True, reward="a free coffee")  # fmt: skip
    assert action.referral_code and action.referral_code in action.text
    at = utcnow() + timedelta(seconds=1)
    events.record(session, workspace_id=cast.a.id, items=[{
        "name": "app.referral", "occurred_at": at.isoformat(),
        "identity": {"kind": "email", "value": "friend@example.com"},
        "properties": {"referral_code": action.referral_code.lower()},
    }])  # fmt: skip
    assert outcomes.detect(session, workspace_id=cast.a.id) == 1
    assert action.state is ActionState.REFERRED
    friend = people.persons_by_identity(
        session, workspace_id=cast.a.id,
        identity_ids=[_identity_of(session, cast, "friend@example.com").id],
    )  # fmt: skip
    assert action.referred_person_id == next(iter(friend.values())).id
    session.add(Order(
        workspace_id=cast.a.id, external_id="INV-1", total=35000, currency="RUB",
        identity_id=_identity_of(session, cast, "friend@example.com").id,
        placed_at=at + timedelta(minutes=5),
    ))  # fmt: skip
    session.flush()
    assert outcomes.detect(session, workspace_id=cast.a.id) == 1
    assert action.state is ActionState.CONVERTED and action.converted_at is not None
    assert "order_id" in action.evidence and action.referred_at is not None


def test_a_referral_naming_the_person_or_a_purchase_with_the_code_is_found_too(
    session: Session, cast: Cast, cast_people: dict[str, Person]
) -> None:
    anna, john = cast_people["anna"], cast_people["john"]
    by_person = _send(session, cast, "referral", anna, "{name}, tell a friend")
    by_purchase = _send(session, cast, "referral", john, "{name}, tell a friend")
    at = (utcnow() + timedelta(seconds=1)).isoformat()
    events.record(session, workspace_id=cast.a.id, items=[
        {"name": "app.referral", "occurred_at": at, "properties": {"referrer": str(anna.id)},
         "identity": {"kind": "email", "value": "anna-friend@example.com"}},
        {"name": "purchase", "occurred_at": at, "properties": {"ref": by_purchase.referral_code},
         "identity": {"kind": "email", "value": "john-friend@example.com"}},
        # An advocate "referring" themselves counts for nothing.
        {"name": "app.referral", "occurred_at": at, "properties": {"referrer": str(john.id)},
         "identity": {"kind": "telegram", "value": str(JOHN["id"])}},
    ])  # fmt: skip
    outcomes.detect(session, workspace_id=cast.a.id)
    assert by_person.state is ActionState.REFERRED
    assert by_purchase.state is ActionState.CONVERTED and by_purchase.referred_at is not None


def test_silence_for_thirty_days_is_no_response_and_the_job_finds_it(
    session: Session, cast: Cast, cast_people: dict[str, Person]
) -> None:
    club = {"link": "https://club.example/join"}
    action = _send(session, cast, "invite", cast_people["anna"], "{name}, join: {link}", **club)
    fresh = _send(session, cast, "invite", cast_people["john"], "{name}, join: {link}", **club)
    action.sent_at = utcnow() - timedelta(days=outcomes.RESPONSE_DAYS + 1)
    session.commit()
    assert jobs.registered()["advocacy.track_outcomes"](session) == 1
    session.expire_all()
    assert session.get(AdvocacyAction, (cast.a.id, action.id)).state is ActionState.NO_RESPONSE
    assert session.get(AdvocacyAction, (cast.a.id, fresh.id)).state is ActionState.SENT
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == str(action.id),
                                 AuditEvent.action == "advocacy.outcome")
    ).one()  # fmt: skip
    assert audit.details["after"] == "no_response" and audit.details["detected"] is True


def test_a_member_sets_the_outcome_by_hand_with_a_note_and_it_is_audited(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], session: Session
) -> None:
    action = _send(session, cast, "review", cast_people["john"], "{name}, a review?",
                   link=REVIEW_SITE)  # fmt: skip
    session.commit()
    url = f"{API}/actions/{action.id}"
    headers = cast.agent.headers
    no_note = client.patch(url, json={"state": "declined", "note": " "}, headers=headers)
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    wrong = client.patch(url, json={"state": "referred", "note": "x"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "state"
    done = client.patch(
        url, json={"state": "posted", "note": "He posted on the site, saw it"}, headers=headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "posted" and done.json()["outcome_manual"] is True
    declined = client.patch(
        url, json={"state": "declined", "note": "Said no on the phone"}, headers=headers
    )
    assert declined.json()["state"] == "declined"
    session.expire_all()
    trail = session.scalars(
        select(AuditEvent.details).where(AuditEvent.entity_id == str(action.id))
        .order_by(AuditEvent.created_at)
    ).all()  # fmt: skip
    assert [d.get("after") for d in trail] == [None, "posted", "declined"]
    # Detection never overrides a decline a member set.
    fresh = session.get(AdvocacyAction, (cast.a.id, action.id))
    assert fresh is not None
    assert not actions.advance(session, action=fresh, state=ActionState.CONVERTED, at=utcnow())


def test_the_advocates_page_and_the_list_count_outcomes_per_kind(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], session: Session
) -> None:
    replied = _send(session, cast, "thank", cast_people["anna"], "{name}, thank you!")
    _send(session, cast, "thank", cast_people["ivan"], "{name}, thanks a lot!")
    actions.advance(session, action=replied, state=ActionState.REPLIED, at=utcnow())
    session.commit()
    found = actions.counts(session, workspace_id=cast.a.id)
    assert (found[ActionKind.THANK]["sent"], found[ActionKind.THANK]["replied"]) == (2, 1)
    assert found[ActionKind.THANK]["share"] == 0.5 and found[ActionKind.REVIEW]["sent"] == 0
    csrf = login(client, cast.agent.user.email)
    page = client.get("/w/alpha/feedback/advocates")
    assert page.status_code == 200 and 'data-testid="outcomes-thank"' in page.text
    row = page.text.split('data-testid="outcomes-thank"')[1].split("</tr>")[0]
    assert '<td data-col="sent">2</td>' in row and '<td data-col="share">50%</td>' in row
    listing = client.get("/w/alpha/feedback/advocates/actions?kind=thank")
    assert listing.text.count('data-testid="action-row"') == 2
    form = client.post(
        f"/w/alpha/feedback/advocates/actions/{replied.id}/outcome",
        data={"csrf_token": csrf, "state": "declined", "note": "said no, politely"},
        follow_redirects=False,
    )
    assert form.status_code == 303
    session.expire_all()
    assert session.get(AdvocacyAction, (cast.a.id, replied.id)).state is ActionState.DECLINED
    profile = client.get(f"/w/alpha/people/{cast_people['anna'].id}")
    assert 'data-testid="advocacy-panel"' in profile.text and "declined" in profile.text


def test_another_workspace_sees_and_changes_nothing(
    client: TestClient, cast: Cast, cast_people: dict[str, Person], session: Session
) -> None:
    action = _send(session, cast, "thank", cast_people["anna"], "{name}, thank you!")
    session.commit()
    outsider = cast.outsider.headers
    assert client.get(API + "/actions", headers=outsider).status_code == 404
    foreign = f"/api/v1/workspaces/beta/advocacy/actions/{action.id}"
    assert client.get(foreign, headers=outsider).status_code == 404
    assert (
        client.patch(foreign, json={"state": "declined", "note": "x"}, headers=outsider).status_code
        == 404
    )
    assert client.get("/api/v1/workspaces/beta/advocacy/actions", headers=outsider).json() == []
    with pytest.raises(InvalidInput):
        actions.check_request(kind="thank", text="")


def test_an_erasure_keeps_the_count_but_not_what_we_said_to_them(
    session: Session, cast: Cast, cast_people: dict[str, Person]
) -> None:
    anna = cast_people["anna"]
    action = _send(session, cast, "thank", anna, "{name}, thank you for everything!")
    privacy.erase_person(
        session, workspace_id=cast.a.id, actor=actor_of(cast.admin), person_id=anna.id
    )
    session.commit()
    session.expire_all()
    kept = session.get(AdvocacyAction, (cast.a.id, action.id))
    assert kept is not None and kept.text == "" and kept.kind is ActionKind.THANK
    assert actions.counts(session, workspace_id=cast.a.id)[ActionKind.THANK]["sent"] == 1


def test_a_merge_takes_the_actions_along_and_an_undo_brings_them_back(
    session: Session, cast: Cast, cast_people: dict[str, Person]
) -> None:
    anna, john = cast_people["anna"], cast_people["john"]
    action = _send(session, cast, "thank", anna, "{name}, thank you for the kind words today!")
    record = merge(session, cast, john, anna)
    session.refresh(action)
    assert action.person_id == john.id
    unmerge(session, cast, record)
    session.refresh(action)
    assert action.person_id == anna.id
