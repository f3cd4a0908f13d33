"""The VK connector against a local VK API and Bots Long Poll server: contract, then details."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
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
from h2h.channels.connectors.vk import VkConnector
from tests.channels.contract import *  # noqa: F403 - the shared contract tests
from tests.channels.fakes.vk import GROUP_ID, POST_ID, TEXTS, TOKEN, FakeVk

NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
THREAD = f"wall:-{GROUP_ID}_{POST_ID}"


class VkHarness:
    def __init__(self, server: FakeVk) -> None:
        self.server = server
        self.connector: Connector = get_connector(ChannelKind.VK)
        self.config: dict[str, Any] = {"base_url": server.url, "group_id": GROUP_ID}
        self.secrets: dict[str, str] = {"access_token": TOKEN}
        self.cursor: str | None = None

    def publish(self, count: int) -> list[str]:
        ids = []
        for n in range(count):
            user = 1001 + n % 4
            message = self.server.post_message(user, TEXTS[n % len(TEXTS)])
            ids.append(f"msg:{user}:{message['conversation_message_id']}")
        return ids

    def fail_next(self, kind: str) -> None:
        self.server.failures.push(kind)

    def break_credentials(self) -> None:
        self.server.token = "vk1.a.revoked"

    def sent(self) -> list[Mapping[str, Any]]:
        return list(self.server.sent)

    def poll(self) -> list[RawMessage]:
        """Fetch with the saved cursor and save the new one, as the poller does."""
        result: FetchResult = self.connector.fetch(self.config, self.secrets, self.cursor)
        self.cursor = result.cursor or self.cursor
        return result.items

    def send(self, reply: Reply, connector: Connector | None = None) -> str:
        connector = connector or self.connector
        assert isinstance(connector, ReplyingConnector)
        return connector.send(self.config, self.secrets, reply)

    def methods(self) -> list[str]:
        return [r.path.removeprefix("/method/") for r in self.server.requests]


@pytest.fixture
def server() -> Iterator[FakeVk]:
    with FakeVk().running() as fake:
        yield fake


@pytest.fixture
def harness(server: FakeVk) -> VkHarness:
    return VkHarness(server)


@pytest.fixture
def polling(harness: VkHarness) -> VkHarness:
    """A harness whose first poll is done: from here on it reads the long poll."""
    assert harness.poll() == []
    harness.server.requests.clear()
    return harness


def reply_to(item: RawMessage, text: str = "Спасибо! Уже разбираемся 🙏") -> Reply:
    return Reply(
        text=text,
        to_handle=item.author.handle,
        thread_id=item.thread_id,
        in_reply_to=item.external_id,
    )


# --- mapping --------------------------------------------------------------------------------


def test_private_message_maps_ids_author_and_keeps_vk_markup(polling: VkHarness) -> None:
    message = polling.server.post_message(1002, TEXTS[1])
    (item,) = polling.poll()
    assert item.external_id == "msg:1002:1"
    assert item.thread_id == "msg:1002" and item.parent_id is None
    assert item.author.handle == "1002"
    assert item.author.name == "Иван Соколов"  # from users.get
    assert item.author.url == "https://vk.com/id1002"
    assert item.text == "Курьер опоздал на два часа 😡 [id1002|Иван], подтвердите"
    assert item.created_at == datetime.fromtimestamp(message["date"], tz=UTC)
    assert item.url == f"https://vk.com/gim{GROUP_ID}?sel=1002"
    assert item.direction is Direction.INBOUND
    assert item.raw["type"] == "message_new"
    assert item.raw["object"]["message"] == message


def test_group_chat_messages_thread_by_chat_and_link_to_it(polling: VkHarness) -> None:
    chat = 2_000_000_007
    polling.server.post_message(1001, "Всем привет из чата 👋", peer_id=chat, id=0)
    (item,) = polling.poll()
    assert (item.external_id, item.thread_id) == (f"msg:{chat}:1", f"msg:{chat}")
    assert item.author.handle == "1001"
    assert item.url == f"https://vk.com/gim{GROUP_ID}?sel=c7"


def test_a_reply_in_a_conversation_points_at_the_replied_message(polling: VkHarness) -> None:
    first = polling.server.post_message(1001, "Торт на 12 марта можно?")
    polling.server.post_message(1001, "И ещё свечи 🕯", reply_message=first)
    question, follow_up = polling.poll()
    assert follow_up.parent_id == question.external_id == "msg:1001:1"


def test_wall_comments_thread_by_post_and_answers_point_at_their_comment(
    polling: VkHarness,
) -> None:
    first = polling.server.post_comment(1003, "Sounds tasty! Delivery to Kazan? 🚚")
    polling.server.post_comment(
        1004, "Да, по средам", reply_to_comment=first["id"], parents_stack=[first["id"]]
    )
    question, answer = polling.poll()
    assert question.external_id == f"{THREAD}:{first['id']}"
    assert question.thread_id == answer.thread_id == THREAD
    assert question.author.name == "John Smith"
    wall_url = f"https://vk.com/wall-{GROUP_ID}_{POST_ID}"
    assert question.url == f"{wall_url}?reply={first['id']}"
    assert answer.parent_id == question.external_id
    assert answer.url == f"{wall_url}?reply={first['id'] + 1}&thread={first['id']}"


def test_the_communitys_own_messages_and_comments_are_outbound(polling: VkHarness) -> None:
    server = polling.server
    server.post_message(1001, "Добрый день!")
    (customer,) = polling.poll()
    sent_id = polling.send(reply_to(customer))
    server.post_comment(-GROUP_ID, "Спасибо за отзывы! ❤️")
    ours, comment = polling.poll()
    assert ours.external_id == sent_id  # message_reply brings our own answer back, same id
    assert ours.direction is comment.direction is Direction.OUTBOUND
    assert comment.author.url == f"https://vk.com/club{GROUP_ID}"


def test_edits_are_new_items_linked_to_the_original(polling: VkHarness) -> None:
    server = polling.server
    message = server.post_message(1001, "Торт на 12 марта")
    comment = server.post_comment(1002, "Было вкусно")
    original_message, original_comment = polling.poll()
    server.edit_message(message, "Торт на 14 марта, простите 🙈")
    server.edit_comment(comment, "Было очень вкусно!")
    message_edit, comment_edit = polling.poll()
    assert message_edit.external_id == f"msg:1001:1:edit:{message['update_time']}"
    assert message_edit.parent_id == original_message.external_id
    assert message_edit.text == "Торт на 14 марта, простите 🙈"
    assert message_edit.created_at == datetime.fromtimestamp(message["update_time"], tz=UTC)
    assert (
        comment_edit.external_id
        == f"{original_comment.external_id}:edit:{comment_edit.raw['event_id']}"
    )
    assert comment_edit.parent_id == original_comment.external_id


def test_events_a_crm_does_not_need_are_skipped_but_read_past(polling: VkHarness) -> None:
    polling.server.event("group_join", {"user_id": 1004, "join_type": "join"})
    polling.server.event(
        "message_typing_state", {"state": "typing", "from_id": 1004, "to_id": -GROUP_ID}
    )
    assert polling.poll() == []
    polling.server.post_message(1004, "Привет")
    assert [i.external_id for i in polling.poll()] == ["msg:1004:1"]


# --- catching up: first poll and long poll failures -------------------------------------------


def test_first_poll_reads_recent_conversations_back_then_follows_the_long_poll(
    harness: VkHarness,
) -> None:
    server = harness.server
    expected = harness.publish(3)
    harness.send(Reply(text="Здравствуйте! Чем помочь?", to_handle="1001", thread_id="msg:1001"))
    items = harness.poll()
    assert {i.external_id for i in items} == {*expected, "msg:1001:2"}
    ours = next(i for i in items if i.external_id == "msg:1001:2")
    assert ours.direction is Direction.OUTBOUND  # out = 1 in the history
    assert ours.raw["method"] == "messages.getHistory"
    assert harness.poll() == []  # the events behind the read-back are not delivered again
    server.post_message(1004, "Ещё вопрос")
    assert [i.external_id for i in harness.poll()] == ["msg:1004:1"]


def test_an_unreadable_cursor_starts_over_by_reading_back(harness: VkHarness) -> None:
    expected = harness.publish(2)
    harness.cursor = "not-a-ts"
    assert sorted(i.external_id for i in harness.poll()) == sorted(expected)
    assert harness.cursor.isdigit()


def test_reading_back_is_bounded_by_the_settings(harness: VkHarness) -> None:
    harness.publish(3)
    harness.config |= {"backfill_conversations": 1}
    assert [i.author.handle for i in harness.poll()] == ["1003"]  # the latest conversation
    harness.config |= {"backfill_conversations": 0}
    harness.cursor = None
    assert harness.poll() == []


def test_reading_back_many_conversations_keeps_under_vks_rate_limit(
    harness: VkHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user in range(2001, 2025):
        harness.server.post_message(user, "Здравствуйте 👋")
    pauses: list[float] = []
    monkeypatch.setattr("h2h.channels.connectors.vk.time.sleep", pauses.append)
    assert len(harness.poll()) == 20  # the 20 latest conversations, one message each
    assert len(harness.server.requests) == 23  # the long poll server, 1 + 20 reads, names
    assert pauses and all(0 < pause <= 1 for pause in pauses)


def test_an_outdated_history_goes_on_from_the_new_ts_and_reads_messages_back(
    polling: VkHarness,
) -> None:
    expected = polling.publish(2)
    polling.server.forget_events()  # the long poll answers failed=1 for our ts
    assert sorted(i.external_id for i in polling.poll()) == sorted(expected)
    assert "messages.getHistory" in polling.methods()
    later = polling.publish(1)
    assert [i.external_id for i in polling.poll()] == later


def test_an_expired_key_is_renewed_and_no_event_is_lost(polling: VkHarness) -> None:
    expected = polling.publish(2)
    comment = polling.server.post_comment(1003, "Супер 🔥")
    polling.server.long_poll_failures.append(2)
    items = polling.poll()
    assert [i.external_id for i in items] == [*expected, f"{THREAD}:{comment['id']}"]
    assert polling.methods().count("groups.getLongPollServer") == 2
    assert "messages.getConversations" not in polling.methods()  # nothing to read back


def test_lost_key_and_ts_are_renewed_and_messages_read_back_but_comments_cannot_be(
    polling: VkHarness,
) -> None:
    expected = polling.publish(2)
    polling.server.post_comment(1003, "Лучший торт в городе")
    polling.server.long_poll_failures.append(3)
    # wall.getComments needs a user or service token, so this comment is the documented loss.
    assert sorted(i.external_id for i in polling.poll()) == sorted(expected)
    later = polling.publish(1)
    assert [i.external_id for i in polling.poll()] == later


def test_a_long_poll_that_keeps_failing_is_retried_later(polling: VkHarness) -> None:
    polling.server.long_poll_failures += [2, 2, 2]
    with pytest.raises(ConnectorError) as failure:
        polling.poll()
    assert failure.value.retryable


def test_long_poll_returns_as_soon_as_an_event_arrives(polling: VkHarness) -> None:
    polling.config["poll_wait"] = 5
    timer = threading.Timer(0.2, polling.publish, args=(1,))
    started = time.monotonic()
    timer.start()
    try:
        items = polling.poll()
    finally:
        timer.join()
    assert len(items) == 1 and time.monotonic() - started < 3
    assert polling.server.requests[-2].params["wait"] == "5"


# --- replies --------------------------------------------------------------------------------


def test_a_reply_is_threaded_to_the_message_it_answers(polling: VkHarness) -> None:
    polling.server.post_message(1001, "Где мой заказ?")
    (item,) = polling.poll()
    assert polling.send(reply_to(item)) == "msg:1001:2"
    (sent,) = polling.server.sent
    assert (sent["method"], sent["peer_ids"], sent["message"]) == (
        "messages.send",
        "1001",
        "Спасибо! Уже разбираемся 🙏",
    )
    forward = json.loads(sent["forward"])
    assert forward == {"peer_id": 1001, "conversation_message_ids": [1], "is_reply": True}


def test_a_retried_reply_is_sent_once_thanks_to_random_id(polling: VkHarness) -> None:
    polling.server.post_message(1001, "Где мой заказ?")
    (item,) = polling.poll()
    clock = [NOW]
    connector = VkConnector(clock=lambda: clock[0])
    first = polling.send(reply_to(item), connector)
    again = polling.send(reply_to(item), connector)
    assert again == first and len(polling.server.sent) == 1
    clock[0] = NOW + timedelta(hours=2)  # the same words, said again later, do go out
    assert polling.send(reply_to(item), connector) != first
    assert len(polling.server.sent) == 2


def test_a_wall_reply_answers_the_comment_as_the_community_once(polling: VkHarness) -> None:
    comment = polling.server.post_comment(1003, "Do you deliver on Sundays?")
    (item,) = polling.poll()
    connector = VkConnector(clock=lambda: NOW)
    sent_id = polling.send(reply_to(item, "Yes, 10:00–18:00 🙂"), connector)
    assert polling.send(reply_to(item, "Yes, 10:00–18:00 🙂"), connector) == sent_id
    (sent,) = polling.server.sent
    assert sent["method"] == "wall.createComment"
    assert (sent["owner_id"], sent["post_id"]) == (str(-GROUP_ID), str(POST_ID))
    assert (sent["reply_to_comment"], sent["from_group"]) == (str(comment["id"]), str(GROUP_ID))
    assert sent["guid"]
    (ours,) = polling.poll()
    assert ours.external_id == sent_id and ours.parent_id == item.external_id


def test_a_reply_over_the_length_limit_is_refused_before_sending(polling: VkHarness) -> None:
    with pytest.raises(ConnectorError) as failure:
        polling.send(Reply(text="а" * 4097, to_handle="1001", thread_id="msg:1001"))
    assert not failure.value.retryable
    assert polling.server.requests == []


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "retryable", "retry_after"),
    [
        (5, False, None),  # authorization failed
        (15, False, None),  # access denied
        (27, False, None),  # method unavailable with a community token
        (6, True, 1.0),  # too many requests per second
        (9, True, None),  # flood control
        (10, True, None),  # internal server error
    ],
)
def test_vk_errors_are_sorted_into_retried_and_not(
    harness: VkHarness, code: int, retryable: bool, retry_after: float | None
) -> None:
    harness.fail_next(f"error:{code}")
    with pytest.raises(ConnectorError) as failure:
        harness.poll()
    assert failure.value.retryable is retryable
    assert failure.value.retry_after == retry_after
    assert str(code) in str(failure.value)


@pytest.mark.parametrize("kind", ["server", "drop"])
def test_a_failing_long_poll_server_is_retried(polling: VkHarness, kind: str) -> None:
    polling.server.failures.push("none")  # let getLongPollServer through
    polling.server.failures.push(kind)
    with pytest.raises(ConnectorError) as failure:
        polling.poll()
    assert failure.value.retryable


def test_the_token_travels_in_the_body_and_never_shows_in_errors(harness: VkHarness) -> None:
    harness.poll()
    assert all("access_token" not in r.query for r in harness.server.requests)
    harness.break_credentials()
    with pytest.raises(ConnectorError) as failure:
        harness.poll()
    assert TOKEN not in str(failure.value)


def test_a_token_of_another_community_is_not_retried(harness: VkHarness) -> None:
    harness.config["group_id"] = 1
    with pytest.raises(ConnectorError) as failure:
        harness.poll()
    assert not failure.value.retryable


@pytest.mark.parametrize(
    ("config", "secrets"),
    [
        ({"group_id": ""}, {"access_token": TOKEN}),
        ({"group_id": "romashka"}, {"access_token": TOKEN}),
        ({"group_id": GROUP_ID}, {}),
        ({"group_id": GROUP_ID, "poll_wait": "soon"}, {"access_token": TOKEN}),
    ],
)
def test_bad_settings_are_refused_before_any_request(
    harness: VkHarness, config: dict[str, Any], secrets: dict[str, str]
) -> None:
    with pytest.raises(ConnectorError) as failure:
        harness.connector.fetch({"base_url": harness.server.url} | config, secrets, None)
    assert not failure.value.retryable
    assert harness.server.requests == []


def test_group_id_may_be_written_as_vk_shows_it(harness: VkHarness) -> None:
    for written in (f"club{GROUP_ID}", f"-{GROUP_ID}", str(GROUP_ID)):
        harness.config["group_id"] = written
        assert harness.connector.check(harness.config, harness.secrets)


def test_check_names_the_community(harness: VkHarness) -> None:
    description = harness.connector.check(harness.config, harness.secrets)
    assert description == f"VK community Кондитерская «Ромашка» (club{GROUP_ID})"
    assert harness.methods() == ["groups.getById", "groups.getLongPollServer"]


def test_the_connector_is_registered_for_vk() -> None:
    connector = get_connector(ChannelKind.VK)
    assert isinstance(connector, VkConnector)
    assert isinstance(connector, ReplyingConnector)
