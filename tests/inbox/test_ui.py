"""The inbox working screen: the list and its filters, a conversation and what agents do on
it, live updates, presence, and the settings pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.channels.connectors.base import ChannelKind, get_connector
from h2h.channels.models import Channel
from h2h.db import utcnow
from h2h.inbox import listing, service, templates, ui_live
from h2h.inbox.models import (
    Agent,
    AssignmentRule,
    Conversation,
    Delivery,
    DeliveryStatus,
    Draft,
    InboxSettings,
    Notification,
    Priority,
    SavedView,
    SlaPolicy,
    State,
)
from h2h.nlp import service as nlp
from tests.channels.fakes.telegram import ANNA, FakeTelegram, private_chat
from tests.conftest import Cast, login
from tests.inbox.conftest import actor_of, conversation_of, customer, make_channel, store

COMPLAINT = "Курьер опоздал на два часа, ужасно! Верните деньги за доставку"
QUESTION = "Подскажите, пожалуйста, есть ли у вас овсяное молоко?"


def two_conversations(session: Session, cast: Cast) -> tuple[Conversation, Conversation]:
    widget = make_channel(session, cast)
    [a] = store(session, cast, widget, customer("m1", COMPLAINT))
    [b] = store(
        session, cast, widget, customer("m2", QUESTION, handle="ivan@example.com", name="Иван")
    )
    first, second = conversation_of(session, cast, a), conversation_of(session, cast, b)
    session.commit()
    return first, second


def numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-number="(\d+)"', html)]


def refreshed(session: Session, row: object) -> None:
    session.expire_all()
    session.refresh(row)


# --- the list ---------------------------------------------------------------------------------


def test_the_inbox_lists_open_conversations_with_labels_and_counts(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, second = two_conversations(session, cast)
    login(client, cast.agent.user.email)
    page = client.get("/w/alpha/inbox")
    assert page.status_code == 200
    assert sorted(numbers(page.text)) == [first.number, second.number]
    assert "Анна Петрова" in page.text and "Иван" in page.text
    assert "Курьер опоздал" in page.text  # the preview
    assert 'data-testid="count-open">2<' in page.text
    assert 'data-testid="count-resolved">0<' in page.text
    assert 'data-inbox-live="/w/alpha/inbox/events"' in page.text
    assert "/static/inbox.js" in page.text


def test_filters_narrow_the_list(client: TestClient, session: Session, cast: Cast) -> None:
    first, second = two_conversations(session, cast)
    service.assign(
        session, conversation=second, actor=actor_of(cast.owner), owner_id=cast.agent.user.id
    )
    service.assign(session, conversation=first, actor=actor_of(cast.owner), owner_id=None)
    service.set_priority(
        session, conversation=first, actor=actor_of(cast.owner), priority=Priority.URGENT
    )
    session.commit()
    login(client, cast.agent.user.email)

    def listed(query: str) -> list[int]:
        response = client.get(f"/w/alpha/inbox?{query}")
        assert response.status_code == 200
        return numbers(response.text)

    assert listed("owner=mine") == [second.number]
    assert listed("owner=unassigned") == [first.number]
    assert listed(f"owner={cast.agent.user.id}") == [second.number]
    assert listed("priority=urgent") == [first.number]
    assert listed("sentiment=negative") == [first.number]
    assert listed("intent=question") == [second.number]
    assert listed("q=молоко") == [second.number]  # a word in a message
    assert listed(f"q=%23{first.number}") == [first.number]  # a number
    assert first.number in listed(f"q={first.number}")  # a bare one: the number, or text
    assert listed("state=resolved") == []
    assert listed("channel=not-a-uuid&sla=nonsense") != []  # bad values are ignored


def test_the_list_fragment_for_htmx_pushes_the_clean_url(
    client: TestClient, session: Session, cast: Cast
) -> None:
    two_conversations(session, cast)
    login(client, cast.agent.user.email)
    headers = {"HX-Request": "true", "HX-Target": "inbox-results"}
    response = client.get("/w/alpha/inbox?state=open&priority=&owner=mine", headers=headers)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.headers["HX-Push-Url"] == "/w/alpha/inbox?owner=mine"
    live = client.get("/w/alpha/inbox", headers={**headers, "X-Inbox-Live": "1"})
    assert "HX-Push-Url" not in live.headers


def test_overdue_conversations_come_first(session: Session, cast: Cast) -> None:
    first, second = two_conversations(session, cast)
    second.due_at = utcnow() - timedelta(minutes=5)
    first.due_at = utcnow() + timedelta(hours=5)
    session.commit()
    rows, total = listing.list_conversations(
        session, workspace_id=cast.a.id, query=listing.InboxQuery(), user_id=None
    )
    assert total == 2
    assert [c.number for c in rows] == [second.number, first.number]
    overdue, _ = listing.list_conversations(
        session,
        workspace_id=cast.a.id,
        query=listing.InboxQuery(sla="breached"),
        user_id=None,
    )
    assert [c.number for c in overdue] == [second.number]


def test_a_saved_view_keeps_the_filters_and_shared_ones_need_an_admin(
    client: TestClient, session: Session, cast: Cast
) -> None:
    two_conversations(session, cast)
    csrf = login(client, cast.agent.user.email)
    saved = client.post(
        "/w/alpha/inbox/views",
        data={"csrf_token": csrf, "name": "My urgent", "owner": "mine", "priority": "urgent"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    [view] = session.scalars(select(SavedView)).all()
    assert view.user_id == cast.agent.user.id
    assert view.filters == {"owner": "mine", "priority": "urgent"}
    page = client.get("/w/alpha/inbox?owner=mine&priority=urgent")
    assert "My urgent" in page.text and 'class="saved-view current"' in page.text
    shared = client.post(
        "/w/alpha/inbox/views",
        data={"csrf_token": csrf, "name": "Everyone's", "shared": "1"},
    )
    assert "Your role does not allow this." in shared.text
    assert session.scalar(select(SavedView).where(SavedView.user_id.is_(None))) is None
    deleted = client.post(
        f"/w/alpha/inbox/views/{view.id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert deleted.status_code == 303
    session.expire_all()
    assert session.scalars(select(SavedView)).all() == []


# --- one conversation -------------------------------------------------------------------------


def test_the_conversation_page_shows_messages_customer_labels_and_reply_box(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    login(client, cast.agent.user.email)
    page = client.get(f"/w/alpha/inbox/{first.number}")
    assert page.status_code == 200
    html = page.text
    assert COMPLAINT in html
    assert 'data-testid="customer"' in html and "Анна Петрова" in html
    assert 'data-testid="nlp-labels"' in html and 'data-testid="sentiment-negative"' in html
    assert 'data-testid="reply-form"' in html
    assert 'data-testid="record-elsewhere-hint"' in html  # the widget takes no replies
    assert 'data-testid="not-answering-form"' in html
    assert 'data-testid="shortcut-help"' in html
    live = client.get(
        f"/w/alpha/inbox/{first.number}", headers={"HX-Request": "true", "HX-Target": "conv-live"}
    )
    assert "<html" not in live.text and COMPLAINT in live.text
    assert client.get("/w/alpha/inbox/999").status_code == 404


def test_a_viewer_reads_a_conversation_but_gets_no_forms(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    login(client, cast.viewer.user.email)
    html = client.get(f"/w/alpha/inbox/{first.number}").text
    assert COMPLAINT in html
    assert 'data-testid="reply-form"' not in html
    assert 'data-testid="correct-sentiment"' not in html


def from_telegram(session: Session, cast: Cast, channel: Channel, telegram: FakeTelegram) -> int:
    telegram.post(private_chat(ANNA), ANNA, "Где мой заказ? Жду третий день")
    fetched = get_connector(ChannelKind.TELEGRAM).fetch(channel.config, channel.secrets, None)
    [message_id] = store(session, cast, channel, *fetched.items)
    number = conversation_of(session, cast, message_id).number
    session.commit()
    return number


def test_a_reply_creates_a_delivery_that_reaches_the_chat(
    client: TestClient,
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
) -> None:
    number = from_telegram(session, cast, telegram_channel, telegram)
    csrf = login(client, cast.agent.user.email)
    response = client.post(
        f"/w/alpha/inbox/{number}/reply",
        data={"csrf_token": csrf, "text": "Анна, заказ у курьера, будет к 18:00."},
        follow_redirects=False,
    )
    assert response.status_code == 303
    [delivery] = session.scalars(select(Delivery)).all()
    assert delivery.author_id == cast.agent.user.id
    assert delivery.status is DeliveryStatus.SENT  # the job ran after the commit
    [sent] = telegram.sent
    assert "заказ у курьера" in sent["text"]
    page = client.get(f"/w/alpha/inbox/{number}").text
    assert 'data-testid="delivery-status">Sent<' in page


def test_a_failed_reply_shows_its_error_and_is_sent_again_once(
    client: TestClient,
    session: Session,
    cast: Cast,
    telegram_channel: Channel,
    telegram: FakeTelegram,
) -> None:
    number = from_telegram(session, cast, telegram_channel, telegram)
    conversation = service.by_number(session, workspace_id=cast.a.id, number=number)
    delivery = Delivery(
        workspace_id=cast.a.id,
        conversation_id=conversation.id,
        author_id=cast.agent.user.id,
        author_name=cast.agent.user.name,
        text="Анна, извините за ожидание.",
        to_handle=str(ANNA["id"]),
        thread_id=conversation.thread_key,
        status=DeliveryStatus.FAILED,
        attempts=6,
        last_error="HTTP 502 from the Bot API",
    )
    session.add(delivery)
    session.commit()
    csrf = login(client, cast.agent.user.email)
    page = client.get(f"/w/alpha/inbox/{number}").text
    assert "HTTP 502 from the Bot API" in page and 'data-testid="delivery-retry"' in page
    response = client.post(
        f"/w/alpha/inbox/{number}/deliveries/{delivery.id}/retry",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    refreshed(session, delivery)
    assert delivery.status is DeliveryStatus.SENT
    assert len(telegram.sent) == 1
    again = client.post(
        f"/w/alpha/inbox/{number}/deliveries/{delivery.id}/retry", data={"csrf_token": csrf}
    )
    assert "Only a failed reply can be sent again." in again.text
    assert len(telegram.sent) == 1


def test_a_reply_made_elsewhere_is_recorded_with_its_link(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    csrf = login(client, cast.agent.user.email)
    bad = client.post(
        f"/w/alpha/inbox/{first.number}/reply",
        data={"csrf_token": csrf, "text": "Ответили в отзыве", "link": "javascript:alert(1)"},
    )
    assert bad.status_code == 422
    assert "A link starts with http:// or https://." in bad.text
    assert "Ответили в отзыве" in bad.text  # the text typed is kept
    ok = client.post(
        f"/w/alpha/inbox/{first.number}/reply",
        data={"csrf_token": csrf, "text": "Ответили в отзыве", "link": "https://maps.example/r/1"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    [delivery] = session.scalars(select(Delivery)).all()
    assert delivery.status is DeliveryStatus.RECORDED
    assert delivery.link == "https://maps.example/r/1"


def test_a_template_fills_the_reply_but_cannot_be_sent_unedited(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    template = templates.save_template(
        session,
        workspace_id=cast.a.id,
        actor=actor_of(cast.agent),
        name="Delay",
        body="{name}, простите за задержку. {agent}",
    )
    session.commit()
    csrf = login(client, cast.agent.user.email)
    filled = client.get(f"/w/alpha/inbox/{first.number}/template?template_id={template.id}")
    assert filled.status_code == 200
    text = re.search(r"<textarea[^>]*>([^<]*)</textarea>", filled.text)
    assert text is not None
    assert text.group(1) == f"Анна, простите за задержку. {cast.agent.user.name}"
    unedited = client.post(
        f"/w/alpha/inbox/{first.number}/reply",
        data={"csrf_token": csrf, "text": text.group(1), "template_id": str(template.id)},
    )
    assert unedited.status_code == 422
    assert "Edit the template before sending" in unedited.text
    assert session.scalars(select(Delivery)).all() == []


def test_not_answering_requires_a_reason_and_a_note(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    csrf = login(client, cast.agent.user.email)
    url = f"/w/alpha/inbox/{first.number}/not-answering"
    no_reason = client.post(url, data={"csrf_token": csrf, "reason": "", "note": "Тролль"})
    assert no_reason.status_code == 422
    assert "Choose a reason from the list." in no_reason.text
    assert "Тролль" in no_reason.text  # the note typed is kept
    no_note = client.post(url, data={"csrf_token": csrf, "reason": "troll", "note": "  "})
    assert no_note.status_code == 422
    assert "Write a note" in no_note.text
    refreshed(session, first)
    assert first.state is State.OPEN
    done = client.post(
        url,
        data={"csrf_token": csrf, "reason": "troll", "note": "Провокация, не кормим"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    refreshed(session, first)
    assert first.state is State.NOT_ANSWERING
    assert (first.close_reason, first.close_note) == ("troll", "Провокация, не кормим")
    page = client.get(f"/w/alpha/inbox/{first.number}").text
    assert 'data-testid="not-answering-note"' in page and "Troll or provocation" in page


def test_state_owner_priority_and_notes_from_the_page(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    csrf = login(client, cast.agent.user.email)
    base = f"/w/alpha/inbox/{first.number}"

    def post(path: str, **data: str) -> None:
        response = client.post(base + path, data={"csrf_token": csrf, **data})
        assert response.status_code == 200, response.text  # the redirect, followed

    post("/assign", owner_id="me")
    post("/priority", priority="high")
    first_name = cast.admin.user.email.split("@")[0]
    post("/notes", text=f"@{first_name} посмотри, пожалуйста")
    post("/state", state="pending")
    refreshed(session, first)
    assert first.owner_id == cast.agent.user.id
    assert (first.priority, first.priority_manual) == (Priority.HIGH, True)
    assert first.state is State.PENDING
    mention = session.scalars(
        select(Notification).where(Notification.user_id == cast.admin.user.id)
    ).one()
    assert mention.kind == "mention"
    post("/state", state="resolved")
    refreshed(session, first)
    assert first.state is State.RESOLVED
    page = client.get(base).text
    assert "посмотри, пожалуйста" in page and 'data-testid="history"' in page
    wrong = client.post(base + "/assign", data={"csrf_token": csrf, "owner_id": "nobody-here"})
    assert "Choose a member of this workspace." in wrong.text


def test_merge_and_split_from_the_page(client: TestClient, session: Session, cast: Cast) -> None:
    widget = make_channel(session, cast)
    [a] = store(session, cast, widget, customer("m1", "Вопрос по заказу 1042"))
    [b] = store(session, cast, widget, customer("m2", "И ещё: где чек?", minutes=5))
    [c] = store(session, cast, widget, customer("m3", "Другое", handle="oleg@example.com"))
    one, other = conversation_of(session, cast, a), conversation_of(session, cast, c)
    session.commit()
    csrf = login(client, cast.agent.user.email)
    split = client.post(
        f"/w/alpha/inbox/{one.number}/split",
        data={"csrf_token": csrf, "message_id": str(b)},
        follow_redirects=False,
    )
    assert split.status_code == 303
    new = conversation_of(session, cast, b)
    assert new.number not in (one.number, other.number)
    assert split.headers["location"] == f"/w/alpha/inbox/{new.number}"
    merged = client.post(
        f"/w/alpha/inbox/{other.number}/merge",
        data={"csrf_token": csrf, "into": f"#{one.number}"},
        follow_redirects=False,
    )
    assert merged.status_code == 303
    session.expire_all()
    assert conversation_of(session, cast, c).number == one.number
    live = client.get(
        f"/w/alpha/inbox/{other.number}", headers={"HX-Request": "true", "HX-Target": "conv-live"}
    )
    assert live.headers["HX-Redirect"] == f"/w/alpha/inbox/{one.number}"
    missing = client.post(
        f"/w/alpha/inbox/{new.number}/merge", data={"csrf_token": csrf, "into": "4242"}
    )
    assert "There is no conversation #4242." in missing.text


def test_a_label_is_corrected_with_one_click(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    csrf = login(client, cast.agent.user.email)
    base = f"/w/alpha/inbox/{first.number}/labels"
    client.post(base, data={"csrf_token": csrf, "field": "sentiment", "sentiment": "positive"})
    client.post(base, data={"csrf_token": csrf, "field": "intents", "intent": "praise"})
    refreshed(session, first)
    assert first.last_inbound_id is not None
    analysis = nlp.analysis_of(session, workspace_id=cast.a.id, message_id=first.last_inbound_id)
    assert analysis is not None
    assert analysis.sentiment.value == "positive"
    assert "praise" in analysis.details["intents"]
    assert set(analysis.corrected) >= {"sentiment", "intents"}
    assert first.sentiment == "positive"  # the list filters on the corrected label


# --- live updates, presence, drafts -----------------------------------------------------------


def test_the_event_stream_names_the_conversations_that_changed(
    client: TestClient, session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_conversations(session, cast)
    since = utcnow() - timedelta(seconds=1)
    service.set_priority(
        session, conversation=second, actor=actor_of(cast.owner), priority=Priority.LOW
    )
    session.commit()
    monkeypatch.setattr(ui_live, "STREAM_SECONDS", 0.2)
    monkeypatch.setattr(ui_live, "POLL_SECONDS", 0.05)
    login(client, cast.viewer.user.email)
    response = client.get(f"/w/alpha/inbox/events?since={since.isoformat()}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    changed = [line for line in response.text.splitlines() if line.startswith('data: {"numbers"')]
    assert changed, response.text
    reported = {n for line in changed for n in map(int, re.findall(r"\d+", line))}
    assert second.number in reported
    assert "event: changed" in response.text
    assert client.get("/w/beta/inbox/events").status_code == 404


def test_the_watcher_reports_each_change_once(session: Session, cast: Cast) -> None:
    first, second = two_conversations(session, cast)
    from h2h.db import make_sessionmaker

    watcher = ui_live._Watcher(
        make_sessionmaker(session.get_bind()),  # type: ignore[arg-type]
        cast.a.id,
        utcnow() - timedelta(minutes=1),
    )
    changed, _ = watcher.poll()
    assert set(changed) == {first.number, second.number}
    assert watcher.poll() == ([], [])
    service.set_priority(
        session, conversation=first, actor=actor_of(cast.owner), priority=Priority.LOW
    )
    session.commit()
    assert watcher.poll()[0] == [first.number]


def test_another_agent_viewing_and_typing_is_shown(
    app: object, client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    base = f"/w/alpha/inbox/{first.number}"
    with TestClient(app, raise_server_exceptions=False) as colleague:  # type: ignore[arg-type]
        csrf = login(colleague, cast.admin.user.email)
        assert colleague.post(base + "/presence", data={"csrf_token": csrf}).status_code == 200
        mine = login(client, cast.agent.user.email)
        here = client.post(base + "/presence", data={"csrf_token": mine}).text
        assert f"{cast.admin.user.name} is also here" in here
        draft = colleague.post(base + "/draft", data={"csrf_token": csrf, "text": "Анна, мы"})
        assert draft.status_code == 200 and "Draft saved" in draft.text
    typing = client.get(base + "/presence").text
    assert f"{cast.admin.user.name} is typing a reply" in typing
    page = client.get(base).text
    assert 'data-testid="presence-warning"' in page
    [saved] = session.scalars(select(Draft)).all()
    assert (saved.user_id, saved.text) == (cast.admin.user.id, "Анна, мы")
    own = client.get(base + "/presence").text
    assert cast.agent.user.name not in own  # nobody is warned about themselves


# --- settings ---------------------------------------------------------------------------------


def test_only_admins_open_the_inbox_settings(
    client: TestClient, session: Session, cast: Cast
) -> None:
    login(client, cast.agent.user.email)
    assert client.get("/w/alpha/inbox/settings").status_code == 403
    assert client.get("/w/alpha/inbox/me").status_code == 200
    assert client.get("/w/alpha/inbox/templates").status_code == 200
    login(client, cast.admin.user.email)
    page = client.get("/w/alpha/inbox/settings")
    assert page.status_code == 200
    assert "Spam or advertising" in page.text  # the default reasons


def test_settings_forms_explain_what_is_wrong(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.admin.user.email)
    base = "/w/alpha/inbox/settings"
    hours = client.post(
        base + "/hours",
        data={"csrf_token": csrf, "timezone": "Europe/Moscow", "open_mon": "18:00",
              "close_mon": "09:00"},
    )  # fmt: skip
    assert hours.status_code == 422
    assert "Monday: the closing time must be after the opening time." in hours.text
    zone = client.post(base + "/hours", data={"csrf_token": csrf, "timezone": "Mars/Base"})
    assert "Unknown time zone “Mars/Base”" in zone.text
    holiday = client.post(
        base + "/hours",
        data={"csrf_token": csrf, "open_mon": "09:00", "close_mon": "18:00", "holidays": "31.12"},
    )
    assert holiday.status_code == 422 and "holidays[0]: not a date" in holiday.text
    sla = client.post(base + "/sla", data={"csrf_token": csrf, "priority": "high",
                                           "first_response": "soon"})  # fmt: skip
    assert sla.status_code == 422 and "whole minutes" in sla.text
    empty = client.post(base + "/sla", data={"csrf_token": csrf, "priority": "high"})
    assert "Set at least one target time." in empty.text
    reasons = client.post(base + "/reasons", data={"csrf_token": csrf, "reasons": "\n  \n"})
    assert reasons.status_code == 422 and "Keep at least one reason." in reasons.text
    rule = client.post(base + "/rules", data={"csrf_token": csrf, "name": "VIP"})
    assert rule.status_code == 422 and "Choose who gets these conversations." in rule.text
    reach = client.post(
        base + "/rules",
        data={"csrf_token": csrf, "name": "VIP", "user_ids": str(cast.agent.user.id),
              "min_reach": "many"},
    )  # fmt: skip
    assert "A whole number is expected." in reach.text
    owner = client.post(
        base + "/general",
        data={"csrf_token": csrf, "escalation_owner_id": str(cast.viewer.user.id)},
    )
    assert "The escalation owner must be an agent of this workspace." in owner.text
    assert session.scalars(select(SlaPolicy)).all() == []
    assert session.scalars(select(AssignmentRule)).all() == []


def test_settings_are_saved(client: TestClient, session: Session, cast: Cast) -> None:
    csrf = login(client, cast.admin.user.email)
    base = "/w/alpha/inbox/settings"

    def post(path: str, **data: str) -> None:
        response = client.post(base + path, data={"csrf_token": csrf, **data})
        assert response.status_code == 200, response.text

    post("/hours", timezone="Europe/Moscow", open_mon="09:00", close_mon="18:00",
         open_sat="10:00", close_sat="00:00", holidays="2026-01-01")  # fmt: skip
    post("/sla", priority="urgent", channel_kind="telegram", name="Fast", first_response="10",
         resolution="120", business_hours="")  # fmt: skip
    post("/reasons", reasons="Спам\nТролль\nSpam or advertising")
    post("/general", escalation_owner_id=str(cast.admin.user.id), auto_assign="",
         playbook="Не паниковать\nПозвонить юристу")  # fmt: skip
    client.post(
        base + "/rules",
        data={"csrf_token": csrf, "name": "English", "languages": "en",
              "intents": ["question", "complaint"], "user_ids": [str(cast.agent.user.id)],
              "enabled": "1"},
    )  # fmt: skip
    settings = session.get(InboxSettings, cast.a.id)
    assert settings is not None
    assert settings.business_hours["timezone"] == "Europe/Moscow"
    assert settings.business_hours["days"]["mon"] == ["09:00", "18:00"]
    assert settings.business_hours["days"]["sat"] == ["10:00", "24:00"]
    assert settings.business_hours["days"]["sun"] is None
    assert settings.business_hours["holidays"] == ["2026-01-01"]
    assert settings.escalation_owner_id == cast.admin.user.id
    assert settings.auto_assign is False
    assert settings.playbook == ["Не паниковать", "Позвонить юристу"]
    [policy] = session.scalars(select(SlaPolicy)).all()
    assert (policy.priority, policy.channel_kind, policy.first_response_minutes) == (
        Priority.URGENT,
        "telegram",
        10,
    )
    assert policy.business_hours is False
    assert [label for _, label in service.reasons(session, workspace_id=cast.a.id)] == [
        "Спам",
        "Тролль",
        "Spam or advertising",
    ]
    [rule] = session.scalars(select(AssignmentRule)).all()
    assert rule.conditions == {"languages": ["en"], "intents": ["question", "complaint"]}
    assert rule.user_ids == [str(cast.agent.user.id)]
    page = client.get(base).text
    assert "Не паниковать" in page and "English" in page and "Fast" in page


def test_a_threat_shows_the_workspace_playbook_or_the_default(
    client: TestClient, session: Session, cast: Cast
) -> None:
    first, _ = two_conversations(session, cast)
    first.threat = True
    session.commit()
    login(client, cast.agent.user.email)
    page = client.get(f"/w/alpha/inbox/{first.number}").text
    assert 'data-testid="threat-playbook"' in page
    assert "Do not give in by reflex" in page
    settings = service.settings_of(session, workspace_id=cast.a.id)
    settings.playbook = ["Позвонить юристу"]
    session.commit()
    page = client.get(f"/w/alpha/inbox/{first.number}").text
    assert "Позвонить юристу" in page and "Do not give in by reflex" not in page


def test_reply_templates_are_checked_when_saved(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    bad = client.post(
        "/w/alpha/inbox/templates",
        data={"csrf_token": csrf, "name": "Hi", "body": "Здравствуйте, {imya}!"},
    )
    assert bad.status_code == 422
    assert "Unknown variable {imya}" in bad.text
    good = client.post(
        "/w/alpha/inbox/templates",
        data={"csrf_token": csrf, "name": "Hi", "body": "Здравствуйте, {name}!", "language": "ru"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    [saved] = templates.list_templates(session, workspace_id=cast.a.id)
    assert (saved.name, saved.language) == ("Hi", "ru")


def test_an_agent_sets_their_own_availability_and_signature(
    client: TestClient, session: Session, cast: Cast
) -> None:
    csrf = login(client, cast.agent.user.email)
    response = client.post(
        "/w/alpha/inbox/me",
        data={"csrf_token": csrf, "available": "", "signature": "Агент Смит, кофейня"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    agent = session.scalars(select(Agent).where(Agent.user_id == cast.agent.user.id)).one()
    assert agent.available is False
    assert agent.signature == "Агент Смит, кофейня"
    too_long = client.post("/w/alpha/inbox/me", data={"csrf_token": csrf, "signature": "x" * 1001})
    assert too_long.status_code == 422
    assert "at most 1000 characters" in too_long.text
