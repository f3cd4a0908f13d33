"""VK communities: private messages to the community and comments on its wall.

Reads with the Bots Long Poll API (``groups.getLongPollServer``, then ``a_check`` on the
server it names), the documented way for a community token. The community must have the
Long Poll API on, API version 5.199, and the events ``message_new``, ``message_reply``,
``message_edit``, ``wall_reply_new`` and ``wall_reply_edit`` ticked.

Settings: ``group_id`` (the community's number; ``club123`` and ``-123`` are read too),
``base_url`` (default https://api.vk.com), ``api_version`` (default 5.199), ``poll_wait``
(seconds the long poll may wait for news, 0-90, default 0), ``backfill_conversations``
and ``backfill_messages`` (how much recent history to read back, default 20 and 20; 0
conversations turns reading back off). Secret: ``access_token``, a community token with
access to messages and the wall.

Cursor: the long poll ``ts`` alone. The server and key are fetched afresh on every poll:
the cursor is stored in plain text beside the channel's settings, and a key there would let
anyone who reads it read the community's messages. Failures the docs describe:
- ``failed: 1`` (history outdated or partly lost): go on from the ``ts`` it gives;
- ``failed: 2`` (key expired): fetch a new key, keep our ``ts``;
- ``failed: 3`` (key and ``ts`` lost): fetch both.
Long poll only knows what happens from now on, so on the first poll, and after 1 or 3,
recent private messages are read back with ``messages.getConversations``/``getHistory``;
their ids equal the long poll ones, so what both return is stored once. Wall comments
cannot be read back with a community token (``wall.getComments`` wants a user or service
token): comments lost in such a gap stay lost.

Ids: messages ``msg:<peer_id>:<conversation_message_id>`` (``id`` is 0 in group chats),
thread ``msg:<peer_id>``; comments ``wall:<owner>_<post>:<comment id>``, thread
``wall:<owner>_<post>``. Edits are their own items, ``<id>:edit:<marker>``, with
``parent_id`` the original (ingestion keeps the first version of an id). The community's
own messages and comments (``out = 1``, or from ``-group_id``) are OUTBOUND, not skipped.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from h2h.channels.connectors.base import (
    Author,
    ChannelKind,
    ConnectorError,
    Direction,
    FetchResult,
    RawMessage,
    Reply,
    register,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.vk.com"
DEFAULT_API_VERSION = "5.199"
MAX_TEXT = 4096
MAX_WAIT = 90
CHAT_PEER_BASE = 2_000_000_000  # peer ids above this are group chats
# Error codes worth retrying, with the delay to wait when one is known: unknown error,
# too many requests per second, flood control, internal server error, method quota.
_RETRYABLE: dict[int, float | None] = {1: None, 6: 1.0, 9: None, 10: None, 29: None}
_CALLS_PER_SECOND = 20  # the documented limit for a community token
_TIMEOUT = 15.0
_LONG_POLL_TRIES = 3
_REPLY_TO = re.compile(r"(msg:-?\d+|wall:-?\d+_\d+):(\d+)(?::edit:.+)?")


@dataclass(frozen=True)
class _Settings:
    base_url: str
    token: str
    group_id: int
    version: str
    wait: int
    conversations: int  # how many recent conversations to read back when catching up
    messages: int  # and how many messages of each

    @classmethod
    def parse(cls, config: Mapping[str, Any], secrets: Mapping[str, str]) -> _Settings:
        base_url = str(config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ConnectorError("base_url must be an http(s) URL", retryable=False)
        token = secrets.get("access_token", "").strip()
        if not token:
            raise ConnectorError("the community access_token is missing", retryable=False)
        group = re.fullmatch(r"(?:-|club|public)?(\d+)", str(config.get("group_id", "")).strip())
        if not group:
            raise ConnectorError("group_id must be the community's number", retryable=False)
        return cls(
            base_url=base_url,
            token=token,
            group_id=int(group.group(1)),
            version=str(config.get("api_version") or DEFAULT_API_VERSION),
            wait=_number(config, "poll_wait", 0, MAX_WAIT),
            conversations=_number(config, "backfill_conversations", 20, 200),
            messages=max(1, _number(config, "backfill_messages", 20, 200)),
        )


def _number(config: Mapping[str, Any], name: str, default: int, high: int) -> int:
    try:
        value = int(config.get(name, default))
    except (TypeError, ValueError):
        raise ConnectorError(f"{name} must be a whole number", retryable=False) from None
    return max(0, min(value, high))


def _http(url: str, data: bytes | None, timeout: float) -> tuple[int, bytes]:
    """One request; the status and body, HTTP errors included. Transport failures raise."""
    request = urllib.request.Request(url, data=data)  # noqa: S310 - scheme checked in parse
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()
    # Messages name the failure, never the address: long poll URLs carry the key.
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or type(error).__name__
        raise ConnectorError(f"VK is unreachable: {reason}", retryable=True) from None


def _json(status: int, body: bytes) -> dict[str, Any]:
    if status != 200:
        raise ConnectorError(f"VK answered HTTP {status}", retryable=status >= 500 or status == 429)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ConnectorError("VK answered without a JSON object", retryable=True)
    return answer


def _api_error(error: Mapping[str, Any]) -> ConnectorError:
    code = int(error.get("error_code") or 0)
    message = f"VK error {code}: {error.get('error_msg', 'no message')}"
    if code in _RETRYABLE:
        return ConnectorError(message, retryable=True, retry_after=_RETRYABLE[code])
    # 5 (bad token), 15 (access denied), 27 (method closed to community tokens), bad
    # parameters...: none of them goes away by asking again.
    return ConnectorError(message, retryable=False)


@dataclass(frozen=True)
class _LongPollServer:
    server: str
    key: str
    ts: str


class _Api:
    """Method calls and long poll checks for one fetch or send, paced to VK's rate limit."""

    def __init__(self, settings: _Settings) -> None:
        self.settings = settings
        self._recent: deque[float] = deque(maxlen=_CALLS_PER_SECOND)

    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        if len(self._recent) == _CALLS_PER_SECOND:
            pause = self._recent[0] + 1.0 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self._recent.append(time.monotonic())
        # The token goes in the body, where no proxy or server log keeps it.
        body = {**params, "access_token": self.settings.token, "v": self.settings.version}
        url = f"{self.settings.base_url}/method/{method}"
        answer = _json(*_http(url, urllib.parse.urlencode(body).encode(), _TIMEOUT))
        if "error" in answer:
            raise _api_error(answer["error"])
        return answer.get("response")

    def long_poll_server(self) -> _LongPollServer:
        answer = self.call("groups.getLongPollServer", {"group_id": self.settings.group_id})
        server = str(answer["server"])
        if not server.startswith(("https://", "http://")):
            server = f"https://{server}"
        return _LongPollServer(server, str(answer["key"]), str(answer["ts"]))

    def check(self, server: _LongPollServer, ts: str) -> dict[str, Any]:
        wait = self.settings.wait
        query = urllib.parse.urlencode(
            {"act": "a_check", "key": server.key, "ts": ts, "wait": wait}
        )
        return _json(*_http(f"{server.server}?{query}", None, wait + _TIMEOUT))


def _timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def _author(from_id: int) -> Author:
    url = f"https://vk.com/id{from_id}" if from_id > 0 else f"https://vk.com/club{-from_id}"
    return Author(handle=str(from_id), url=url)


def _direction(from_id: int, group_id: int, out: Any = 0) -> Direction:
    return Direction.OUTBOUND if out == 1 or from_id == -group_id else Direction.INBOUND


def _message_item(
    message: Mapping[str, Any], group_id: int, raw: Mapping[str, Any], edit: bool = False
) -> RawMessage:
    peer_id = int(message["peer_id"])
    thread_id = f"msg:{peer_id}"
    external_id = f"{thread_id}:{message['conversation_message_id']}"
    replied = message.get("reply_message") or {}
    parent_id = f"{thread_id}:{replied['conversation_message_id']}" if replied else None
    created = message["date"]
    if edit:
        created = message.get("update_time") or created
        parent_id, external_id = external_id, f"{external_id}:edit:{created}"
    chat = f"c{peer_id - CHAT_PEER_BASE}" if peer_id > CHAT_PEER_BASE else str(peer_id)
    from_id = int(message["from_id"])
    return RawMessage(
        external_id=external_id,
        text=str(message.get("text") or ""),
        created_at=_timestamp(created),
        author=_author(from_id),
        thread_id=thread_id,
        parent_id=parent_id,
        url=f"https://vk.com/gim{group_id}?sel={chat}",
        direction=_direction(from_id, group_id, message.get("out")),
        raw=dict(raw),
    )


def _comment_item(
    comment: Mapping[str, Any],
    group_id: int,
    raw: Mapping[str, Any],
    edit: tuple[str, datetime] | None = None,
) -> RawMessage:
    owner_id = int(comment.get("post_owner_id") or comment["owner_id"])
    thread_id = f"wall:{owner_id}_{comment['post_id']}"
    external_id = f"{thread_id}:{comment['id']}"
    replied = comment.get("reply_to_comment")
    parent_id = f"{thread_id}:{replied}" if replied else None
    created_at = _timestamp(comment["date"])
    if edit:
        # A comment carries no edit time: the event id marks the edit, the poll dates it.
        parent_id, external_id, created_at = external_id, f"{external_id}:edit:{edit[0]}", edit[1]
    url = f"https://vk.com/wall{owner_id}_{comment['post_id']}?reply={comment['id']}"
    if comment.get("parents_stack"):
        url += f"&thread={comment['parents_stack'][0]}"
    from_id = int(comment["from_id"])
    return RawMessage(
        external_id=external_id,
        text=str(comment.get("text") or ""),
        created_at=created_at,
        author=_author(from_id),
        thread_id=thread_id,
        parent_id=parent_id,
        url=url,
        direction=_direction(from_id, group_id),
        raw=dict(raw),
    )


def _map_event(event: Mapping[str, Any], group_id: int, now: datetime) -> RawMessage | None:
    kind, obj = event.get("type"), event.get("object") or {}
    if kind == "message_new":
        # Since 5.103 the message comes wrapped with the client's capabilities.
        message = obj["message"] if isinstance(obj.get("message"), dict) else obj
        return _message_item(message, group_id, event)
    if kind in ("message_reply", "message_edit"):
        return _message_item(obj, group_id, event, edit=kind == "message_edit")
    if kind == "wall_reply_new":
        return _comment_item(obj, group_id, event)
    if kind == "wall_reply_edit":
        marker = str(event.get("event_id") or int(now.timestamp()))
        return _comment_item(obj, group_id, event, edit=(marker, now))
    return None  # joins, likes, deletions...: nothing a customer said


def _events(events: Any, group_id: int, now: datetime) -> list[RawMessage]:
    items = []
    for event in events if isinstance(events, list) else []:
        try:
            item = _map_event(event, group_id, now)
        except (KeyError, TypeError, ValueError):
            # One malformed event must not stall the channel: skip it, move on.
            log.warning("skipping a VK event it cannot read: %s", event.get("event_id"))
            continue
        if item is not None:
            items.append(item)
    return items


def _read_back(api: _Api) -> list[RawMessage]:
    """Recent private messages, for what the long poll cannot give (see module docstring)."""
    settings = api.settings
    if not settings.conversations:
        return []
    items: list[RawMessage] = []
    conversations = api.call("messages.getConversations", {"count": settings.conversations})
    for entry in conversations.get("items", []):
        peer_id = entry["conversation"]["peer"]["id"]
        history = api.call("messages.getHistory", {"peer_id": peer_id, "count": settings.messages})
        for message in history.get("items", []):
            raw = {"method": "messages.getHistory", "message": message}
            items.append(_message_item(message, settings.group_id, raw))
    return items


def _with_names(api: _Api, items: list[RawMessage]) -> list[RawMessage]:
    """Authors' names from users.get; best effort, as a name is not worth losing a poll."""
    ids = sorted({i.author.handle for i in items if not i.author.handle.startswith("-")})
    if not ids:
        return items
    try:
        users = api.call("users.get", {"user_ids": ",".join(ids)})
    except ConnectorError as error:
        log.warning("VK author names unavailable: %s", error)
        return items
    names = {
        str(u["id"]): " ".join(p for p in (u.get("first_name"), u.get("last_name")) if p)
        for u in users or []
    }
    return [
        replace(i, author=replace(i.author, name=names[i.author.handle] or None))
        if i.author.handle in names
        else i
        for i in items
    ]


def _finish(api: _Api, items: list[RawMessage]) -> list[RawMessage]:
    unique = {item.external_id: item for item in reversed(items)}  # the first read wins
    return _with_names(api, sorted(unique.values(), key=lambda i: i.created_at))


def _idempotency_key(thread_id: str, reply: Reply, now: datetime) -> int:
    """Same reply, same key, within the hour: a retried send is not sent twice.

    VK refuses a second message with a random_id it has already seen, forever; the hour in
    the key lets an agent say the same short thing to the same person again later.
    """
    hour = int(now.timestamp()) // 3600
    seed = f"{thread_id}\n{reply.in_reply_to}\n{reply.text}\n{hour}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:4], "big") & 0x7FFFFFFF or 1


class VkConnector:
    """A VK community, polled with the Bots Long Poll API; see the module docstring."""

    kind: ClassVar[ChannelKind] = ChannelKind.VK

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock

    def fetch(
        self, config: Mapping[str, Any], secrets: Mapping[str, str], cursor: str | None
    ) -> FetchResult:
        api = _Api(_Settings.parse(config, secrets))
        server = api.long_poll_server()
        if cursor is not None and not cursor.isdigit():
            log.warning("ignoring a VK cursor that is not a long poll ts: %r", cursor)
            cursor = None
        if cursor is None:
            return FetchResult(_finish(api, _read_back(api)), cursor=server.ts)
        ts, caught_up = cursor, list[RawMessage]()
        for _ in range(_LONG_POLL_TRIES):
            answer = api.check(server, ts)
            failed = answer.get("failed")
            if failed is None:
                events = _events(answer.get("updates"), api.settings.group_id, self.clock())
                return FetchResult(_finish(api, caught_up + events), cursor=str(answer["ts"]))
            if failed == 1:  # history outdated or partly lost: go on from the ts it gives
                ts = str(answer["ts"])
            elif failed == 2:  # the key expired: a new one, the same ts
                server = api.long_poll_server()
            elif failed == 3:  # key and ts lost: both anew
                server = api.long_poll_server()
                ts = server.ts
            else:
                raise ConnectorError(f"VK long poll failed with code {failed}", retryable=True)
            if failed != 2:
                log.warning("VK long poll lost events (failed=%s); reading history back", failed)
                caught_up = _read_back(api)
        raise ConnectorError("VK long poll kept failing; will try again", retryable=True)

    def check(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        api = _Api(_Settings.parse(config, secrets))
        answer = api.call("groups.getById", {"group_id": api.settings.group_id})
        # Since 5.194 the communities come in "groups"; before, as a bare list.
        groups = answer.get("groups") if isinstance(answer, dict) else answer
        if not groups:
            raise ConnectorError("VK did not return the community", retryable=False)
        group = groups[0]
        api.long_poll_server()  # the token fits this community and its Long Poll API is on
        return f"VK community {group.get('name')} (club{group.get('id')})"

    def send(self, config: Mapping[str, Any], secrets: Mapping[str, str], reply: Reply) -> str:
        api = _Api(_Settings.parse(config, secrets))
        if not reply.text.strip():
            raise ConnectorError("an empty reply cannot be sent", retryable=False)
        if len(reply.text) > MAX_TEXT:
            raise ConnectorError(
                f"the reply is longer than VK's {MAX_TEXT} characters", retryable=False
            )
        answered = _REPLY_TO.fullmatch(reply.in_reply_to or "")
        thread_id = reply.thread_id or (answered.group(1) if answered else f"msg:{reply.to_handle}")
        reply_to = int(answered.group(2)) if answered and answered.group(1) == thread_id else None
        key = _idempotency_key(thread_id, reply, self.clock())
        if wall := re.fullmatch(r"wall:(-?\d+)_(\d+)", thread_id):
            return f"{thread_id}:{_send_comment(api, wall, reply.text, reply_to, key)}"
        if peer := re.fullmatch(r"msg:(-?\d+)", thread_id):
            return f"{thread_id}:{_send_message(api, int(peer[1]), reply.text, reply_to, key)}"
        raise ConnectorError(f"no VK conversation to send to ({thread_id!r})", retryable=False)


def _send_comment(api: _Api, wall: re.Match[str], text: str, reply_to: int | None, key: int) -> int:
    """Comment on a wall post as the community; ``guid`` makes a retry a no-op."""
    params: dict[str, Any] = {
        "owner_id": wall[1],
        "post_id": wall[2],
        "from_group": api.settings.group_id,
        "message": text,
        "guid": key,
    }
    if reply_to:
        params["reply_to_comment"] = reply_to
    return int(api.call("wall.createComment", params)["comment_id"])


def _send_message(api: _Api, peer_id: int, text: str, reply_to: int | None, key: int) -> int:
    """Send a private message, its ``random_id`` making a retry a no-op; its conversation id."""
    # peer_ids (not peer_id) makes VK answer with the conversation_message_id too.
    params: dict[str, Any] = {"peer_ids": peer_id, "random_id": key, "message": text}
    if reply_to:
        # "forward" rather than "reply_to": it takes conversation ids, which group chats have.
        params["forward"] = json.dumps(
            {"peer_id": peer_id, "conversation_message_ids": [reply_to], "is_reply": True}
        )
    sent = api.call("messages.send", params)[0]
    if "error" in sent:
        raise _api_error(sent["error"])
    return int(sent["conversation_message_id"])


register(VkConnector())
