"""The pages of the channels domain: the stream, messages, channels, imports and the widget."""

from __future__ import annotations

import html
import io
import re
import urllib.request
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import ingest
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.channels.models import Channel, ChannelStatus, ImportRun, ImportStatus, Message
from h2h.subjects import service as subjects
from h2h.subjects.models import SubjectKind
from tests.conftest import Cast, login

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _owner(cast: Cast) -> accounts.Actor:
    return accounts.Actor(user_id=cast.owner.user.id, role=Role.OWNER)


def _channel(session: Session, cast: Cast, kind: ChannelKind, name: str, **config: str) -> Channel:
    channel = channels.create_channel(
        session, workspace_id=cast.a.id, actor=_owner(cast), kind=kind, name=name, config=config
    )
    session.commit()
    return channel


def _item(
    external_id: str, text: str, *, minutes: int = 0, author: str = "anna", **extra: object
) -> RawMessage:
    return RawMessage(
        external_id=external_id,
        text=text,
        created_at=NOON + timedelta(minutes=minutes),
        author=Author(handle=author, name=author.title()),
        **extra,  # type: ignore[arg-type]
    )


def _store(session: Session, cast: Cast, channel: Channel, *items: RawMessage) -> list[str]:
    result = ingest.store(session, workspace_id=cast.a.id, channel_id=channel.id, items=items)
    session.commit()
    return [str(i) for i in result.inserted]


def _texts(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", t).strip()
        for t in re.findall(r'<div class="message-text">(.*?)</div>', html, re.S)
    ]


def _stream(client: TestClient, **params: str) -> str:
    response = client.get("/w/alpha/mentions", params=params)
    assert response.status_code == 200, response.text
    return response.text


# --- channels -----------------------------------------------------------------------------


def test_an_admin_adds_channels_of_several_kinds_through_the_form(
    client: TestClient, cast: Cast, session: Session
) -> None:
    csrf = login(client, cast.admin.user.email)
    forms = [
        {"kind": "rss", "name": "Reviews feed", "rss.url": "https://example.com/feed"},
        {
            "kind": "rss",
            "name": "Slow feed",
            "rss.url": "https://example.com/a",
            "rss.poll_minutes": "60",
        },
        {"kind": "telegram", "name": "Bot", "telegram.bot_token": "123:ABC"},
        {
            "kind": "email",
            "name": "Support mail",
            "email.imap_host": "imap.example.com",
            "email.imap_port": "993",
            "email.imap_security": "ssl",
            "email.smtp_host": "smtp.example.com",
            "email.from_address": "help@example.com",
            "email.username": "help",
            "email.password": "hunter2",
        },
        {"kind": "vk", "name": "VK", "vk.group_id": "123456", "vk.access_token": "vk1.a.secret"},
        {"kind": "webhook", "name": "Shop hook"},
        {"kind": "widget", "name": "Site form"},
        {"kind": "offline", "name": "Shop floor"},
        {"kind": "file", "name": "Old reviews"},
    ]
    for form in forms:
        response = client.post("/w/alpha/channels", data={**form, "csrf_token": csrf})
        assert response.status_code == 200, response.text
        assert form["name"] in response.text
    stored = {c.name: c for c in session.scalars(select(Channel))}
    assert set(stored) == {f["name"] for f in forms}
    assert stored["Slow feed"].poll_interval_seconds == 3600
    assert stored["Bot"].secrets == {"bot_token": "123:ABC"} and stored["Bot"].config == {}
    mail = stored["Support mail"]
    assert mail.config["imap_port"] == 993 and mail.secrets["password"] == "hunter2"
    assert "hunter2" not in client.get(f"/w/alpha/channels/{mail.id}").text
    assert stored["Shop hook"].secrets["signing_secret"].startswith("whsec_")


def test_a_missing_setting_re_renders_the_form_naming_it(client: TestClient, cast: Cast) -> None:
    csrf = login(client, cast.owner.user.email)
    form = {
        "kind": "email",
        "name": "Mail",
        "email.imap_host": "imap.example.com",
        "email.password": "hunter2",
    }
    response = client.post("/w/alpha/channels", data={**form, "csrf_token": csrf})
    assert response.status_code == 422
    assert "Fill in “SMTP server”." in response.text
    assert 'value="imap.example.com"' in response.text and "hunter2" not in response.text
    assert '<option value="email" selected>' in response.text


def test_viewers_see_the_stream_and_channels_but_cannot_add_channels(
    client: TestClient, cast: Cast
) -> None:
    csrf = login(client, cast.viewer.user.email)
    assert client.get("/w/alpha/mentions").status_code == 200
    page = client.get("/w/alpha/channels")
    assert page.status_code == 200 and 'data-testid="channel-form"' not in page.text
    response = client.post(
        "/w/alpha/channels", data={"kind": "webhook", "name": "Mine", "csrf_token": csrf}
    )
    assert response.status_code == 403


def test_a_broken_channel_shows_its_last_error(
    client: TestClient, cast: Cast, session: Session
) -> None:
    channel = _channel(
        session, cast, ChannelKind.RSS, "Feed", url="https://x.example/f", max_items="0"
    )
    channels.poll(session, channel=channel)  # a setting no retry can fix: the channel breaks
    session.commit()
    assert channel.status is ChannelStatus.BROKEN
    login(client, cast.viewer.user.email)
    listing = client.get("/w/alpha/channels").text
    assert "status-broken" in listing and "max_items must be a positive whole number" in listing
    page = client.get(f"/w/alpha/channels/{channel.id}").text
    assert 'data-testid="last-error"' in page
    assert "fix its settings, then resume it" in page


def test_test_connection_answers_inline_with_the_error(
    client: TestClient, cast: Cast, session: Session
) -> None:
    channel = _channel(
        session, cast, ChannelKind.RSS, "Feed", url="https://x.example/f", max_items="0"
    )
    csrf = login(client, cast.admin.user.email)
    response = client.post(
        f"/w/alpha/channels/{channel.id}/check",
        headers={"HX-Request": "true", "HX-Target": "check-result", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "The connection failed: max_items must be a positive whole number" in response.text


def test_an_admin_pauses_and_resumes_a_channel(
    client: TestClient, cast: Cast, session: Session
) -> None:
    channel = _channel(session, cast, ChannelKind.RSS, "Feed", url="https://x.example/f")
    csrf = login(client, cast.admin.user.email)
    page = client.post(f"/w/alpha/channels/{channel.id}/pause", data={"csrf_token": csrf})
    assert "Channel paused." in page.text and 'data-testid="resume"' in page.text
    session.refresh(channel)
    assert channel.status is ChannelStatus.PAUSED
    client.post(f"/w/alpha/channels/{channel.id}/resume", data={"csrf_token": csrf})
    session.refresh(channel)
    assert channel.status is ChannelStatus.ACTIVE


def test_the_webhook_page_gives_admins_an_example_that_works(
    client: TestClient, cast: Cast, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _channel(session, cast, ChannelKind.WEBHOOK, "Hook")
    secret = channel.secrets["signing_secret"]
    login(client, cast.agent.user.email)
    assert secret not in client.get(f"/w/alpha/channels/{channel.id}").text
    login(client, cast.admin.user.email)
    page = client.get(f"/w/alpha/channels/{channel.id}").text
    url = f"http://testserver/api/v1/channels/{channel.id}/webhook"
    assert f'value="{url}"' in page and f'value="{secret}"' in page
    snippet = html.unescape(re.findall(r'<pre class="code">(.*?)</pre>', page, re.S)[1])
    answers: list[httpx.Response] = []

    def deliver(request: urllib.request.Request) -> io.BytesIO:
        headers = dict(request.header_items())
        answers.append(client.post(request.full_url, content=request.data, headers=headers))
        return io.BytesIO(answers[-1].content)

    monkeypatch.setattr(urllib.request, "urlopen", deliver)
    exec(snippet, {})  # noqa: S102 - our own page's example, run against the test app
    assert answers[0].status_code == 200 and answers[0].json()["stored"] == 1
    assert session.scalars(select(Message.text)).one() == "Where is my order?"


# --- the stream ----------------------------------------------------------------------------


def test_the_stream_lists_messages_newest_first_with_subjects_and_reposts(
    client: TestClient, cast: Cast, session: Session
) -> None:
    subjects.create_subject(
        session,
        workspace_id=cast.a.id,
        actor=_owner(cast),
        kind=SubjectKind.BRAND,
        name="Zerno",
        query="зерно",
    )
    feed = _channel(session, cast, ChannelKind.WEBHOOK, "Hook")
    long_text = "Очень длинный отзыв про кофейню Зерно и её десерты. " * 20
    _store(
        session,
        cast,
        feed,
        _item("1", "Кофе в Зерне сегодня отличный, спасибо бариста", minutes=1),
        _item("2", "Где мой заказ? Жду уже час", minutes=2, author="boris"),
        _item("3", long_text, minutes=3),
    )
    _store(  # the same text again, later, from someone else: a repost of message 1
        session,
        cast,
        feed,
        _item("4", "Кофе в Зерне сегодня отличный, спасибо бариста", minutes=5, author="vera"),
    )
    login(client, cast.viewer.user.email)
    html = _stream(client)
    assert "3 messages" in html
    texts = _texts(html)
    assert texts[1] == "Где мой заказ? Жду уже час"
    assert texts[2] == "Кофе в Зерне сегодня отличный, спасибо бариста"
    assert 'class="clamp"' in html and "Show all" in html  # the long one is folded
    assert "+1 repost" in html
    assert html.count('data-testid="mention-subject"') == 2  # messages 1 and 3 name Zerno
    assert "Hook · Webhook" in html
    with_reposts = _stream(client, reposts="1")
    assert "4 messages" in with_reposts and ">repost<" in with_reposts


def test_search_finds_russian_word_forms(client: TestClient, cast: Cast, session: Session) -> None:
    feed = _channel(session, cast, ChannelKind.WEBHOOK, "Hook")
    _store(
        session,
        cast,
        feed,
        _item("1", "Опять проблемы с доставкой, курьер опоздал"),
        _item("2", "Спасибо за вкусный кофе", minutes=1),
    )
    login(client, cast.viewer.user.email)
    html = _stream(client, q="доставка")
    assert "1 message" in html
    assert _texts(html) == ["Опять проблемы с доставкой, курьер опоздал"]
    assert 'value="доставка"' in html  # the filter stays in the form


def test_filters_narrow_the_stream_and_stay_in_the_links(
    client: TestClient, cast: Cast, session: Session
) -> None:
    hook = _channel(session, cast, ChannelKind.WEBHOOK, "Hook")
    shop = _channel(session, cast, ChannelKind.OFFLINE, "Shop floor")
    _store(session, cast, hook, _item("1", "Russian? No, this one is English", author="ivan"))
    _store(
        session,
        cast,
        shop,
        _item("2", "Латте был холодный", minutes=60 * 24 * 3, author="olga"),
    )
    login(client, cast.viewer.user.email)
    assert _texts(_stream(client, channel=str(shop.id))) == ["Латте был холодный"]
    assert _texts(_stream(client, language="en")) == ["Russian? No, this one is English"]
    assert _texts(_stream(client, author="OLG")) == ["Латте был холодный"]
    assert _texts(_stream(client, since="2026-03-04")) == ["Латте был холодный"]
    assert _texts(_stream(client, until="2026-03-02")) == ["Russian? No, this one is English"]
    assert _texts(_stream(client, channel="not-an-id")) != []  # ignored, not an error
    fragment = client.get(
        "/w/alpha/mentions",
        params={"language": "ru"},
        headers={"HX-Request": "true", "HX-Target": "stream-results"},
    )
    assert "<html" not in fragment.text and _texts(fragment.text) == ["Латте был холодный"]
    assert fragment.headers["HX-Push-Url"] == "/w/alpha/mentions?language=ru"


def test_the_stream_pages_through_many_messages(
    client: TestClient, cast: Cast, session: Session
) -> None:
    hook = _channel(session, cast, ChannelKind.WEBHOOK, "Hook")
    _store(
        session,
        cast,
        hook,
        *(_item(str(n), f"Отзыв номер {n}", minutes=n) for n in range(channels.PAGE_SIZE + 5)),
    )
    login(client, cast.viewer.user.email)
    first = _stream(client, q="отзыв")
    assert len(_texts(first)) == channels.PAGE_SIZE
    assert "/w/alpha/mentions?q=%D0%BE%D1%82%D0%B7%D1%8B%D0%B2&amp;page=2" in first
    second = _stream(client, q="отзыв", page="2")
    assert _texts(second)[-1] == "Отзыв номер 0" and len(_texts(second)) == 5


def test_an_empty_workspace_says_what_to_do_next(client: TestClient, cast: Cast) -> None:
    login(client, cast.owner.user.email)
    html = _stream(client)
    assert "No mentions yet" in html
    for step in ("Add a channel", "Import a file", "Add subjects"):
        assert step in html


def test_the_message_page_shows_the_payload_escaped_and_the_thread(
    client: TestClient, cast: Cast, session: Session
) -> None:
    hook = _channel(session, cast, ChannelKind.WEBHOOK, "Hook")
    first, second = _store(
        session,
        cast,
        hook,
        _item(
            "1",
            "<script>alert('hi')</script> мой заказ потерялся",
            thread_id="t-1",
            raw={"note": "<img src=x onerror=alert(1)>"},
        ),
        _item("2", "Мы уже ищем ваш заказ", minutes=5, author="support", thread_id="t-1"),
    )
    login(client, cast.viewer.user.email)
    page = client.get(f"/w/alpha/mentions/{first}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;hi&#39;)" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'data-testid="raw-payload"' in page
    assert "Мы уже ищем ваш заказ" in page  # the other message of the thread
    assert client.get(f"/w/alpha/mentions/{second}").status_code == 200


# --- logging and importing -----------------------------------------------------------------


def test_an_agent_logs_an_offline_conversation_in_the_workspace_time_zone(
    client: TestClient, cast: Cast, session: Session
) -> None:
    shop = _channel(session, cast, ChannelKind.OFFLINE, "Shop floor")
    csrf = login(client, cast.agent.user.email)
    form = {
        "who": "Мария",
        "contact": "+7 900 000-00-00",
        "happened_at": "2026-03-02T10:30",
        "gist": "Просила добавить безлактозное молоко",
        "felt": "positive",
        "csrf_token": csrf,
    }
    page = client.post(f"/w/alpha/channels/{shop.id}/offline", data=form)
    assert "The conversation with Мария is logged." in page.text
    message = session.scalars(select(Message)).one()
    assert message.created_at.replace(tzinfo=UTC) == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert message.raw["felt"] == "positive" and message.author_name == "Мария"
    empty = client.post(f"/w/alpha/channels/{shop.id}/offline", data={**form, "gist": " "})
    assert empty.status_code == 422 and "Write down what the conversation was about." in empty.text


CSV = (
    "Дата,Автор,Текст,Ссылка\n"
    "01.03.2026 10:00,anna,Доставка опоздала на час,https://example.com/1\n"
    "01.03.2026 11:00,boris,,https://example.com/2\n"
    "02.03.2026 09:15,vera,Лучший капучино в городе,https://example.com/3\n"
)


def test_a_csv_upload_goes_through_the_column_step_to_a_finished_import(
    client: TestClient, cast: Cast, session: Session
) -> None:
    files = _channel(session, cast, ChannelKind.FILE, "Old reviews")
    csrf = login(client, cast.agent.user.email)
    upload = client.post(
        f"/w/alpha/channels/{files.id}/imports",
        data={"mapping": "review", "csrf_token": csrf},
        files={"file": ("reviews.csv", CSV.encode(), "text/csv")},
    )
    assert upload.status_code == 200 and "Which column holds what?" in upload.text
    assert '<option value="Текст" selected>' in upload.text  # guessed from the header
    mapping = {
        key: chosen[0]
        for key, options in re.findall(
            r'<select name="(map\.\w+)"(.*?)</select>', upload.text, re.S
        )
        if (chosen := re.findall(r'<option value="([^"]*)" selected>', options))
    }
    assert mapping == {
        "map.text": "Текст",
        "map.created_at": "Дата",
        "map.author_handle": "Автор",
        "map.url": "Ссылка",
    }
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', upload.text))
    done = client.post(
        "/w/alpha/imports/mapping",
        data={**hidden, **mapping, "save_as": "Reviews export", "timezone": "Europe/Moscow"},
    )
    assert done.status_code == 200, re.findall(r'role="alert"[^>]*>([^<]*)', done.text)
    assert 'data-status="done"' in done.text and "hx-trigger" not in done.text
    assert re.search(r'data-testid="rows-imported">2<', done.text)
    assert re.search(r'data-testid="rows-rejected">1<', done.text)
    assert "empty text" in done.text
    run = session.scalars(select(ImportRun)).one()
    assert run.status is ImportStatus.DONE
    report = client.get(f"/api/v1/workspaces/alpha/imports/{run.id}/report.csv")
    assert report.status_code == 200 and "empty text" in report.text
    assert [m.name for m in channels.list_mappings(session, workspace_id=cast.a.id)] == [
        "Reviews export"
    ]
    again = client.post(  # the saved mapping: straight to the import, nothing new to store
        f"/w/alpha/channels/{files.id}/imports",
        data={"mapping": "saved:Reviews export", "csrf_token": csrf},
        files={"file": ("reviews.csv", CSV.encode(), "text/csv")},
    )
    assert re.search(r'data-testid="rows-duplicates">2<', again.text)


def test_the_import_page_refreshes_itself_while_the_import_runs(
    client: TestClient, cast: Cast, session: Session
) -> None:
    files = _channel(session, cast, ChannelKind.FILE, "Old reviews")
    run = channels.start_import(
        session, workspace_id=cast.a.id, channel_id=files.id, filename="big.csv", sha256="0" * 64
    )
    session.commit()
    login(client, cast.viewer.user.email)
    page = client.get(f"/w/alpha/imports/{run.id}").text
    assert f'hx-get="/w/alpha/imports/{run.id}/progress" hx-trigger="every 1s"' in page
    assert 'data-status="running"' in page


def test_an_upload_with_recognised_columns_imports_at_once(
    client: TestClient, cast: Cast, session: Session
) -> None:
    files = _channel(session, cast, ChannelKind.FILE, "Old reviews")
    csrf = login(client, cast.agent.user.email)
    page = client.post(
        f"/w/alpha/channels/{files.id}/imports",
        data={"mapping": "auto", "csrf_token": csrf},
        files={"file": ("reviews.csv", CSV.encode(), "text/csv")},
    )
    assert 'data-status="done"' in page.text
    assert _texts(_stream(client, q="доставка")) == ["Доставка опоздала на час"]
    progress = client.get(f"{page.url.path}/progress")
    assert progress.status_code == 200 and "<html" not in progress.text
    wrong = client.post(
        f"/w/alpha/channels/{files.id}/imports",
        data={"mapping": "auto", "csrf_token": csrf},
        files={"file": ("notes.pdf", b"%PDF", "application/pdf")},
    )
    assert wrong.status_code == 422 and "Upload a .csv, .tsv, .jsonl or .xlsx file." in wrong.text


# --- the widget ----------------------------------------------------------------------------


def test_the_widget_stores_a_message_and_may_be_framed_anywhere(
    client: TestClient, cast: Cast, session: Session
) -> None:
    widget = _channel(session, cast, ChannelKind.WIDGET, "Site form")
    url = f"/widget/{widget.config['public_key']}"
    client.headers["Accept-Language"] = "en-US,en;q=0.9"
    page = client.get(url)
    assert page.status_code == 200
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers  # nothing to keep: it works in third-party frames
    assert "Write to Alpha Coffee" in page.text and 'class="sidebar"' not in page.text
    form = {
        "name": "Anna",
        "contact": "anna@example.com",
        "text": "Do you have oat milk?",
        "token": re.findall(r'name="token" value="([^"]+)"', page.text)[0],
        "page_url": "https://shop.example/contacts",
    }
    sent = client.post(url, data=form)
    assert sent.status_code == 200 and 'data-testid="widget-thanks"' in sent.text
    assert "A real person will answer you." in sent.text and "Alpha Coffee" in sent.text
    message = session.scalars(select(Message)).one()
    assert (
        message.text == "Do you have oat milk?" and message.url == "https://shop.example/contacts"
    )
    forged = client.post(url, data={**form, "token": "1.abc"})
    assert forged.status_code == 422 and "expired" in forged.text


def test_the_widget_speaks_the_visitors_language_else_the_workspaces(
    client: TestClient, cast: Cast, session: Session
) -> None:
    widget = _channel(session, cast, ChannelKind.WIDGET, "Site form")
    url = f"/widget/{widget.config['public_key']}"
    assert 'lang="en"' in client.get(url, headers={"Accept-Language": "en"}).text
    assert 'lang="ru"' in client.get(url, headers={"Accept-Language": "de"}).text  # workspace: ru
    empty = client.post(url, data={"name": "A", "text": " "}, headers={"Accept-Language": "ru"})
    assert empty.status_code == 422 and "Форма устарела" in empty.text
