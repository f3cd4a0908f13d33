"""The Telegram connector against a local Bot API server: the contract, then the mapping."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from h2h.channels.connectors.base import (
    ChannelKind,
    Connector,
    ConnectorError,
    Direction,
    FetchResult,
    RawMessage,
    Reply,
    ReplyingConnector,
    get_connector,
)
from h2h.channels.connectors.telegram import TelegramConnector
from tests.channels.contract import *  # noqa: F403 - the shared contract tests
from tests.channels.fakes.telegram import (
    ANNA,
    BOT,
    CHANNEL,
    FORUM,
    GROUP,
    IVAN,
    JOHN,
    OWNER,
    TEXTS,
    TOKEN,
    FakeTelegram,
    private_chat,
)

BUSINESS = "BcDE0123456789-business"
PHOTO = [
    {"file_id": "AgACAgIAAxkBAAIBZ2", "file_unique_id": "AQADq9Ex", "width": 90, "height": 67},
    {"file_id": "AgACAgIAAxkBAAIBZ3", "file_unique_id": "AQADq9Ey", "width": 1280, "height": 960},
]


class TelegramHarness:
    def __init__(self, server: FakeTelegram) -> None:
        self.server = server
        self.connector: Connector = get_connector(ChannelKind.TELEGRAM)
        self.config: dict[str, Any] = {"base_url": server.url, "poll_timeout": 0}
        self.secrets: dict[str, str] = {"bot_token": TOKEN}

    def publish(self, count: int) -> list[str]:
        ids = []
        for n in range(count):
            user = (ANNA, IVAN, JOHN)[n % 3]
            message = self.server.post(private_chat(user), user, TEXTS[n % len(TEXTS)])["message"]
            ids.append(f"{user['id']}:{message['message_id']}")
        return ids

    def fail_next(self, kind: str) -> None:
        self.server.failures.push(kind)

    def break_credentials(self) -> None:
        self.server.token = "123456789:AAH-revoked-by-BotFather"

    def sent(self) -> list[Mapping[str, Any]]:
        return list(self.server.sent)

    def fetch(self, cursor: str | None = None) -> FetchResult:
        return self.connector.fetch(self.config, self.secrets, cursor)

    def only(self) -> RawMessage:
        (item,) = self.fetch().items
        return item

    def send(self, reply: Reply) -> str:
        assert isinstance(self.connector, ReplyingConnector)
        return self.connector.send(self.config, self.secrets, reply)


@pytest.fixture
def server() -> Iterator[FakeTelegram]:
    with FakeTelegram().running() as fake:
        yield fake


@pytest.fixture
def harness(server: FakeTelegram) -> TelegramHarness:
    return TelegramHarness(server)


def reply_to(item: RawMessage, text: str = "Спасибо, уже разбираемся! 🙏") -> Reply:
    return Reply(
        text=text,
        to_handle=item.author.handle,
        thread_id=item.thread_id,
        in_reply_to=item.external_id,
    )


# --- mapping --------------------------------------------------------------------------------


def test_private_message_maps_ids_author_and_time(harness: TelegramHarness) -> None:
    update = harness.server.post(private_chat(ANNA), ANNA, TEXTS[0])
    item = harness.only()
    date = update["message"]["date"]
    assert item.external_id == f"{ANNA['id']}:1"
    assert item.thread_id == str(ANNA["id"]) and item.parent_id is None
    assert item.author.handle == "5011223344"
    assert item.author.name == "Анна Петрова"
    assert item.author.url == "https://t.me/anna_petrova"
    assert item.created_at == datetime.fromtimestamp(date, tz=UTC)
    assert item.text == "Здравствуйте! Заказ №4411 так и не пришёл 😡"
    assert item.direction is Direction.INBOUND
    assert item.url is None  # a private chat has no link
    assert item.raw == update


def test_user_without_username_or_last_name_is_named_by_first_name(
    harness: TelegramHarness,
) -> None:
    harness.server.post(private_chat(IVAN), IVAN, "Привет")
    author = harness.only().author
    assert (author.handle, author.name, author.url) == ("6022334455", "Иван", None)


def test_group_reply_points_parent_at_the_replied_message(harness: TelegramHarness) -> None:
    first = harness.server.post(GROUP, ANNA, "Кто-нибудь заказывал «Наполеон»?")["message"]
    harness.server.post(GROUP, JOHN, "Yes, it was great 👍", reply_to_message=first)
    question, answer = harness.fetch().items
    assert answer.parent_id == question.external_id == f"{GROUP['id']}:1"
    assert answer.thread_id == question.thread_id == str(GROUP["id"])
    assert answer.url == "https://t.me/c/1234567890/2"  # members-only link to a private group


def test_forum_topic_threads_by_topic_and_the_topic_root_is_not_a_parent(
    harness: TelegramHarness,
) -> None:
    server = harness.server
    root = server.post(
        FORUM,
        ANNA,
        None,
        message_thread_id=1,
        is_topic_message=True,
        forum_topic_created={"name": "Доставка 🚚", "icon_color": 7322096},
    )["message"]
    topic = {"message_thread_id": root["message_id"], "is_topic_message": True}
    asked = server.post(FORUM, ANNA, "Когда привезут?", reply_to_message=root, **topic)["message"]
    server.post(FORUM, IVAN, "Завтра до обеда", reply_to_message=asked, **topic)
    question, answer = harness.fetch().items  # the service message is not an item
    assert question.thread_id == answer.thread_id == f"{FORUM['id']}/{root['message_id']}"
    assert question.parent_id is None
    assert answer.parent_id == question.external_id
    assert question.url == "https://t.me/romashka_forum/2"


def test_caption_is_the_text_and_media_without_text_keeps_its_raw(
    harness: TelegramHarness,
) -> None:
    chat = private_chat(ANNA)
    harness.server.post(chat, ANNA, None, photo=PHOTO, caption="Вот такой торт пришёл 😢")
    sticker = {"file_id": "CAACAgIAAxkBAAEL", "emoji": "😭", "width": 512, "height": 512}
    harness.server.post(chat, ANNA, None, sticker=sticker)
    photo, only_sticker = harness.fetch().items
    assert photo.text == "Вот такой торт пришёл 😢"
    assert only_sticker.text == ""
    assert only_sticker.raw["message"]["sticker"] == sticker


def test_channel_posts_and_anonymous_admins_are_signed_by_their_chat(
    harness: TelegramHarness,
) -> None:
    server = harness.server
    server.push(
        "channel_post", server.message(CHANNEL, None, "Новое меню! 🍰", sender_chat=CHANNEL)
    )
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    server.post(GROUP, anonymous, "Правила группы обновлены", sender_chat=GROUP)
    post, admin = harness.fetch().items
    assert (post.author.handle, post.author.name) == (str(CHANNEL["id"]), "Ромашка новости")
    assert post.author.url == "https://t.me/romashka_news"
    assert post.url == "https://t.me/romashka_news/1"
    assert post.direction is Direction.OUTBOUND  # the channel is the organisation's own voice
    assert (admin.author.handle, admin.author.name) == (str(GROUP["id"]), "Ромашка — клиенты")


def test_an_edit_is_a_new_item_linked_to_the_original(harness: TelegramHarness) -> None:
    server = harness.server
    message = server.post(private_chat(ANNA), ANNA, "Торт на 12 марта")["message"]
    first = harness.fetch()
    edited = server.edit("edited_message", message, "Торт на 14 марта, простите 🙈")
    (edit,) = harness.fetch(first.cursor).items
    edit_date = edited["edited_message"]["edit_date"]
    assert edit.external_id == f"{ANNA['id']}:1:edit:{edit_date}"
    assert edit.parent_id == first.items[0].external_id == f"{ANNA['id']}:1"
    assert edit.text == "Торт на 14 марта, простите 🙈"
    assert edit.created_at == datetime.fromtimestamp(edit_date, tz=UTC)
    assert "edited_message" in edit.raw


def test_business_chats_keep_their_connection_and_the_owners_side_is_outbound(
    harness: TelegramHarness,
) -> None:
    server = harness.server
    chat = private_chat(ANNA)
    asked = server.message(chat, ANNA, "Есть торты без сахара?", business_connection_id=BUSINESS)
    server.push("business_message", asked)
    answered = server.message(
        chat, OWNER, "Да, есть! 🙂", business_connection_id=BUSINESS, reply_to_message=asked
    )
    server.push("business_message", answered)
    customer, owner = harness.fetch().items
    assert customer.external_id == f"{ANNA['id']}:1@{BUSINESS}"
    assert customer.thread_id == f"{ANNA['id']}@{BUSINESS}"
    assert customer.direction is Direction.INBOUND
    assert owner.direction is Direction.OUTBOUND
    assert owner.parent_id == customer.external_id


def test_the_bots_own_messages_and_mirrored_channel_posts_are_outbound(
    harness: TelegramHarness,
) -> None:
    harness.server.post(GROUP, BOT, "Мы ответим в течение часа")
    linked = {"sender_chat": CHANNEL, "is_automatic_forward": True}
    harness.server.post(
        GROUP, {"id": 777000, "is_bot": False, "first_name": "Telegram"}, "Новое меню! 🍰", **linked
    )
    harness.server.post(GROUP, ANNA, "А с малиной есть?")
    directions = [item.direction for item in harness.fetch().items]
    assert directions == [Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND]


def test_service_messages_are_skipped_but_the_cursor_moves_past_them(
    harness: TelegramHarness,
) -> None:
    update = harness.server.post(GROUP, IVAN, None, new_chat_members=[IVAN])
    result = harness.fetch()
    assert result.items == []
    assert result.cursor == str(update["update_id"] + 1)
    assert harness.fetch(result.cursor).items == []
    assert harness.server.updates == []  # confirmed with the offset


def test_reading_asks_only_for_messages_and_confirms_with_the_offset(
    harness: TelegramHarness,
) -> None:
    server = harness.server
    server.push("message_reaction", {"chat": GROUP, "message_id": 1, "date": 1, "user": ANNA})
    update = server.post(private_chat(ANNA), ANNA, "Привет 👋")
    first = harness.fetch()
    assert [i.raw for i in first.items] == [update]
    assert server.allowed_updates == [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_message",
        "edited_business_message",
    ]
    harness.fetch(first.cursor)
    assert server.requests[-1].params["offset"] == update["update_id"] + 1
    assert server.updates == []


def test_an_unreadable_cursor_starts_over_without_losing_updates(harness: TelegramHarness) -> None:
    expected = harness.publish(2)
    items = harness.fetch("not-an-offset").items
    assert [i.external_id for i in items] == expected


def test_long_poll_returns_as_soon_as_an_update_arrives(harness: TelegramHarness) -> None:
    harness.config["poll_timeout"] = 5
    timer = threading.Timer(0.2, harness.publish, args=(1,))
    started = time.monotonic()
    timer.start()
    try:
        items = harness.fetch().items
    finally:
        timer.join()
    assert len(items) == 1
    assert time.monotonic() - started < 3
    assert harness.server.requests[-1].params["timeout"] == 5


# --- replies --------------------------------------------------------------------------------


def test_a_reply_is_threaded_to_the_original_message(harness: TelegramHarness) -> None:
    harness.server.post(GROUP, ANNA, "Торт не привезли 😡")
    item = harness.only()
    sent_id = harness.send(reply_to(item))
    assert harness.server.sent == [
        {
            "chat_id": GROUP["id"],
            "reply_parameters": {"message_id": 1, "allow_sending_without_reply": True},
            "text": "Спасибо, уже разбираемся! 🙏",
        }
    ]
    assert sent_id == f"{GROUP['id']}:2"


def test_a_reply_in_a_forum_topic_stays_in_the_topic(harness: TelegramHarness) -> None:
    topic = {"message_thread_id": 5, "is_topic_message": True}
    harness.server.post(FORUM, ANNA, "Вопрос про доставку", **topic)
    harness.send(reply_to(harness.only()))
    sent = harness.server.sent[-1]
    assert (sent["chat_id"], sent["message_thread_id"]) == (FORUM["id"], 5)
    assert sent["reply_parameters"]["message_id"] == 1


def test_a_business_reply_goes_through_the_business_connection(harness: TelegramHarness) -> None:
    server = harness.server
    asked = server.message(
        private_chat(ANNA), ANNA, "Можно забрать сегодня?", business_connection_id=BUSINESS
    )
    server.push("business_message", asked)
    sent_id = harness.send(reply_to(harness.only(), "Да, до 20:00 🙂"))
    sent = server.sent[-1]
    assert sent["business_connection_id"] == BUSINESS
    assert sent["chat_id"] == ANNA["id"]
    assert sent_id == f"{ANNA['id']}:2@{BUSINESS}"


def test_a_private_reply_can_go_by_the_users_handle_alone(harness: TelegramHarness) -> None:
    harness.send(Reply(text="Ваш заказ готов 🎂", to_handle=str(ANNA["id"])))
    assert harness.server.sent == [{"chat_id": ANNA["id"], "text": "Ваш заказ готов 🎂"}]


def test_a_reply_over_the_length_limit_is_refused_before_sending(harness: TelegramHarness) -> None:
    # 2,049 emoji are 4,098 UTF-16 code units: Telegram counts those, not characters.
    with pytest.raises(ConnectorError) as failure:
        harness.send(Reply(text="🎂" * 2049, to_handle=str(ANNA["id"])))
    assert not failure.value.retryable
    assert harness.server.requests == []


# --- failures -------------------------------------------------------------------------------


def test_rate_limit_surfaces_retry_after(harness: TelegramHarness) -> None:
    harness.fail_next("rate_limit")
    with pytest.raises(ConnectorError) as failure:
        harness.fetch()
    assert failure.value.retryable and failure.value.retry_after == 7.0


@pytest.mark.parametrize("kind", ["server", "drop"])
def test_bad_gateway_and_dropped_connections_are_retried(
    harness: TelegramHarness, kind: str
) -> None:
    harness.fail_next(kind)
    with pytest.raises(ConnectorError) as failure:
        harness.fetch()
    assert failure.value.retryable


def test_a_refused_token_is_not_retried_and_never_shown(harness: TelegramHarness) -> None:
    harness.break_credentials()
    for attempt in (
        harness.fetch,
        lambda: harness.connector.check(harness.config, harness.secrets),
    ):
        with pytest.raises(ConnectorError) as failure:
            attempt()
        assert not failure.value.retryable
        assert TOKEN.split(":")[1] not in str(failure.value)


def test_a_malformed_token_is_refused_without_a_request(harness: TelegramHarness) -> None:
    harness.secrets["bot_token"] = "../../getMe?x="
    with pytest.raises(ConnectorError) as failure:
        harness.fetch()
    assert not failure.value.retryable
    assert harness.server.requests == []


def test_a_webhook_left_set_is_not_retried_and_check_says_so(harness: TelegramHarness) -> None:
    harness.server.webhook = "https://old-crm.example.com/telegram/hook"
    with pytest.raises(ConnectorError) as failure:
        harness.fetch()
    assert not failure.value.retryable and "webhook" in str(failure.value)
    with pytest.raises(ConnectorError, match="webhook"):
        harness.connector.check(harness.config, harness.secrets)


def test_a_competing_poller_is_retried(harness: TelegramHarness) -> None:
    harness.server.conflict = (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )
    with pytest.raises(ConnectorError) as failure:
        harness.fetch()
    assert failure.value.retryable


def test_check_names_the_bot(harness: TelegramHarness) -> None:
    description = harness.connector.check(harness.config, harness.secrets)
    assert description == "Telegram bot @romashka_help_bot (Ромашка поддержка)"


def test_the_connector_is_registered_for_telegram() -> None:
    connector = get_connector(ChannelKind.TELEGRAM)
    assert isinstance(connector, TelegramConnector)
    assert isinstance(connector, ReplyingConnector)
