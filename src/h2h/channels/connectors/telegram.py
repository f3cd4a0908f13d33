"""Telegram bots: messages to the bot, in its groups and channels, and to a connected business.

Settings: ``base_url`` (default https://api.telegram.org; another for a Bot API proxy or
a local Bot API server), ``poll_timeout`` (seconds Telegram may hold ``getUpdates`` open
waiting for news, 0-50, default 0: the poller calls back on its own schedule). Secret:
``bot_token`` from @BotFather. The bot must have no webhook set (``check`` says so).

Reads with the Bot API's ``getUpdates`` and answers with ``sendMessage``. The cursor is the
next ``offset`` (last ``update_id`` + 1). Passing it to ``getUpdates`` is also what tells
Telegram the earlier updates were handled, and the poller only passes a cursor it saved
after storing the items, so nothing is confirmed before it is stored.

Ids (see ``_ids``):
- ``external_id`` is ``<chat id>:<message id>``; Telegram numbers messages per chat.
  Business messages add ``@<business connection id>``: the business owner's chat with a
  customer has the same chat id as the bot's own chat with them, but its own numbering.
- ``thread_id`` is the chat id, ``<chat id>/<topic id>`` in a forum topic (plus the same
  business suffix); ``send`` reads the destination back from it.
- ``parent_id`` is the message replied to, except the service message that opens a forum
  topic, which Telegram sets as the "reply" of every message in the topic.

Edits: ingestion keeps the first version of an ``external_id`` and drops later ones, so an
edit is its own item, ``<chat>:<message>:edit:<edit_date>``, dated at the edit, with
``parent_id`` pointing at the original; ``raw`` holds the ``edited_*`` update.

Direction: the bot never receives its own messages, but the CRM does see what "we" said:
channel posts, channel posts mirrored into the discussion group, business messages the
owner (or the bot for them) wrote, and anything from the bot's own user id. Those are
marked OUTBOUND rather than skipped, so a thread keeps both sides.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
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

DEFAULT_BASE_URL = "https://api.telegram.org"
MAX_POLL_TIMEOUT = 50
MAX_TEXT_UTF16 = 4096  # sendMessage's limit, counted in UTF-16 code units
_HTTP_SLACK = 10.0  # seconds on top of the long-poll timeout before giving up on a request
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_THREAD = re.compile(r"(-?\d+)(?:/(\d+))?(?:@(.+))?")
_MESSAGE_ID = re.compile(r"(-?\d+):(\d+)(?::edit:\d+)?(?:@(.+))?")

# Update kinds read, and whether each is an edit. Asking for exactly these keeps reactions,
# member changes and button presses out of the queue.
_KINDS: dict[str, bool] = {
    "message": False,
    "edited_message": True,
    "channel_post": False,
    "edited_channel_post": True,
    "business_message": False,
    "edited_business_message": True,
}
# A service message (someone joined, a topic was opened, a message was pinned) carries no
# customer's words; anything else, media without a caption included, is kept.
_SERVICE_FIELDS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "channel_chat_created",
        "message_auto_delete_timer_changed",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "video_chat_scheduled",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_participants_invited",
        "write_access_allowed",
        "users_shared",
        "chat_shared",
        "boost_added",
    }
)


@dataclass(frozen=True)
class _Settings:
    base_url: str
    token: str
    poll_timeout: int

    @classmethod
    def parse(cls, config: Mapping[str, Any], secrets: Mapping[str, str]) -> _Settings:
        base_url = str(config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ConnectorError("base_url must be an http(s) URL", retryable=False)
        token = secrets.get("bot_token", "").strip()
        # The token becomes part of the URL path: refuse anything that could change the path.
        if not _TOKEN.fullmatch(token):
            raise ConnectorError(
                "bot_token is missing or is not a Telegram bot token", retryable=False
            )
        try:
            poll_timeout = int(config.get("poll_timeout", 0))
        except (TypeError, ValueError):
            raise ConnectorError(
                "poll_timeout must be a number of seconds", retryable=False
            ) from None
        return cls(base_url, token, max(0, min(poll_timeout, MAX_POLL_TIMEOUT)))

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])


def _http_post(url: str, payload: Mapping[str, Any], timeout: float) -> tuple[int, bytes]:
    """POST JSON; the status and body, HTTP errors included. Transport failures raise."""
    request = urllib.request.Request(  # noqa: S310 - scheme checked in _Settings.parse
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()
    # The URL holds the token, so messages name the failure, never the address.
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or type(error).__name__
        raise ConnectorError(f"Telegram is unreachable: {reason}", retryable=True) from None


def _error(status: int, answer: Mapping[str, Any]) -> ConnectorError:
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters") or {}
    if code == 429:
        retry_after = parameters.get("retry_after")
        return ConnectorError(
            f"Telegram rate limit: {description}",
            retryable=True,
            retry_after=float(retry_after) if retry_after is not None else None,
        )
    if code in (401, 404):
        return ConnectorError(
            f"Telegram refused the bot token ({description}); check it with @BotFather",
            retryable=False,
        )
    if code == 409:
        # A webhook stays set until someone removes it; two pollers overlap only briefly.
        webhook = "webhook" in description.lower()
        return ConnectorError(f"Telegram conflict: {description}", retryable=not webhook)
    if "migrate_to_chat_id" in parameters:
        description += f" (the group is now chat {parameters['migrate_to_chat_id']})"
    return ConnectorError(f"Telegram error {code}: {description}", retryable=code >= 500)


def _call(settings: _Settings, method: str, params: Mapping[str, Any], wait: int = 0) -> Any:
    """A Bot API method's result; ``wait`` is how long Telegram may hold the request."""
    url = f"{settings.base_url}/bot{settings.token}/{method}"
    status, body = _http_post(url, params, wait + _HTTP_SLACK)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # A proxy's HTML error page, or a body cut short: not the Bot API speaking.
        raise ConnectorError(
            f"Telegram answered HTTP {status} without a Bot API response",
            retryable=status >= 500 or status in (200, 429),
        )
    if status != 200 or not answer.get("ok"):
        raise _error(status, answer)
    return answer.get("result")


def _timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def _username_url(username: Any) -> str | None:
    return f"https://t.me/{username}" if username else None


def _author(message: Mapping[str, Any]) -> Author:
    # A message sent on behalf of a chat (a channel, an anonymous admin) names that chat;
    # its "from" is then a placeholder user, the same for everyone.
    sender_chat = message.get("sender_chat")
    if sender_chat:
        return Author(
            handle=str(sender_chat["id"]),
            name=sender_chat.get("title"),
            url=_username_url(sender_chat.get("username")),
        )
    user = message.get("from") or message["chat"]
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return Author(
        handle=str(user["id"]),
        name=name or user.get("title"),
        url=_username_url(user.get("username")),
    )


def _direction(kind: str, message: Mapping[str, Any], bot_id: int) -> Direction:
    sender_id = (message.get("from") or {}).get("id")
    ours = (
        kind.endswith("channel_post")
        or bool(message.get("is_automatic_forward"))
        or sender_id == bot_id
        or "sender_business_bot" in message
        # In a business chat (always private) the customer's id is the chat id.
        or (kind.endswith("business_message") and sender_id != message["chat"]["id"])
    )
    return Direction.OUTBOUND if ours else Direction.INBOUND


def _message_url(chat: Mapping[str, Any], message_id: int) -> str | None:
    # Only public groups and channels have message links; private chats and basic groups
    # have none, even when the user has a username.
    if chat.get("type") not in ("supergroup", "channel"):
        return None
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat["id"])
    return f"https://t.me/c/{chat_id[4:]}/{message_id}" if chat_id.startswith("-100") else None


def _ids(message: Mapping[str, Any], is_edit: bool) -> tuple[str, str, str | None]:
    """(external_id, thread_id, parent_id) of a message."""
    chat_id = message["chat"]["id"]
    business = message.get("business_connection_id")
    suffix = f"@{business}" if business else ""
    original = f"{chat_id}:{message['message_id']}"
    topic = message.get("message_thread_id") if message.get("is_topic_message") else None
    thread_id = f"{chat_id}/{topic}{suffix}" if topic else f"{chat_id}{suffix}"
    if is_edit:
        return f"{original}:edit:{message['edit_date']}{suffix}", thread_id, original + suffix
    replied = message.get("reply_to_message")
    parent_id = None
    if replied and "forum_topic_created" not in replied:
        parent_id = f"{chat_id}:{replied['message_id']}{suffix}"
    return original + suffix, thread_id, parent_id


def _map_update(update: Mapping[str, Any], bot_id: int) -> RawMessage | None:
    kind = next((k for k in _KINDS if isinstance(update.get(k), dict)), None)
    if kind is None:
        return None
    message, is_edit = update[kind], _KINDS[kind]
    if _SERVICE_FIELDS.intersection(message):
        return None
    external_id, thread_id, parent_id = _ids(message, is_edit)
    return RawMessage(
        external_id=external_id,
        text=str(message.get("text") or message.get("caption") or ""),
        created_at=_timestamp(message["edit_date"] if is_edit else message["date"]),
        author=_author(message),
        thread_id=thread_id,
        parent_id=parent_id,
        url=_message_url(message["chat"], message["message_id"]),
        direction=_direction(kind, message, bot_id),
        raw=dict(update),
    )


def _offset(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        return int(cursor)
    except ValueError:
        # Without an offset Telegram resends every unconfirmed update; ids make that safe.
        log.warning("ignoring a Telegram cursor that is not an update offset: %r", cursor)
        return None


def _destination(reply: Reply) -> dict[str, Any]:
    """sendMessage parameters naming where the reply goes."""
    thread = _THREAD.fullmatch(reply.thread_id or "")
    answered = _MESSAGE_ID.fullmatch(reply.in_reply_to or "")
    if thread:
        chat_id, topic, business = thread.group(1), thread.group(2), thread.group(3)
    elif answered:
        chat_id, topic, business = answered.group(1), None, answered.group(3)
    elif reply.to_handle.lstrip("-").isdigit():
        chat_id, topic, business = reply.to_handle, None, None  # a private chat's id is the user's
    else:
        raise ConnectorError(
            f"no Telegram chat to send to (thread {reply.thread_id!r}, handle {reply.to_handle!r})",
            retryable=False,
        )
    params: dict[str, Any] = {"chat_id": int(chat_id)}
    if topic:
        params["message_thread_id"] = int(topic)
    if business:
        params["business_connection_id"] = business
    if answered and answered.group(1) == chat_id:
        # Still send if the customer deleted their message meanwhile.
        params["reply_parameters"] = {
            "message_id": int(answered.group(2)),
            "allow_sending_without_reply": True,
        }
    return params


class TelegramConnector:
    """A Telegram bot, polled with getUpdates; see the module docstring for the mapping."""

    kind: ClassVar[ChannelKind] = ChannelKind.TELEGRAM

    def fetch(
        self, config: Mapping[str, Any], secrets: Mapping[str, str], cursor: str | None
    ) -> FetchResult:
        settings = _Settings.parse(config, secrets)
        params: dict[str, Any] = {
            "timeout": settings.poll_timeout,
            "limit": 100,
            "allowed_updates": list(_KINDS),
        }
        offset = _offset(cursor)
        if offset is not None:
            params["offset"] = offset
        updates = _call(settings, "getUpdates", params, wait=settings.poll_timeout)
        if not isinstance(updates, list):
            raise ConnectorError("getUpdates did not return a list of updates", retryable=True)
        items: list[RawMessage] = []
        last: int | None = None
        for update in updates:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int):
                raise ConnectorError("getUpdates returned an update without an id", retryable=True)
            last = update_id if last is None else max(last, update_id)
            try:
                item = _map_update(update, settings.bot_id)
            except (KeyError, TypeError, ValueError):
                # One malformed update must not stall the channel: skip it, move on.
                log.warning("skipping a Telegram update it cannot read: %s", update_id)
                continue
            if item is not None:
                items.append(item)
        return FetchResult(items=items, cursor=None if last is None else str(last + 1))

    def check(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        settings = _Settings.parse(config, secrets)
        me = _call(settings, "getMe", {})
        # While a webhook is set, getUpdates fails with 409 until someone removes it.
        webhook = _call(settings, "getWebhookInfo", {})
        if webhook.get("url"):
            raise ConnectorError(
                "this bot has a webhook set, so it cannot be polled; remove it with "
                "deleteWebhook or use a bot of its own for H2H",
                retryable=False,
            )
        return f"Telegram bot @{me.get('username')} ({me.get('first_name')})"

    def send(self, config: Mapping[str, Any], secrets: Mapping[str, str], reply: Reply) -> str:
        settings = _Settings.parse(config, secrets)
        if not reply.text.strip():
            raise ConnectorError("an empty reply cannot be sent", retryable=False)
        if len(reply.text.encode("utf-16-le")) // 2 > MAX_TEXT_UTF16:
            raise ConnectorError(
                f"the reply is longer than Telegram's {MAX_TEXT_UTF16} characters",
                retryable=False,
            )
        params = _destination(reply) | {"text": reply.text}
        sent = _call(settings, "sendMessage", params)
        suffix = (
            f"@{params['business_connection_id']}" if "business_connection_id" in params else ""
        )
        return f"{sent['chat']['id']}:{sent['message_id']}{suffix}"


register(TelegramConnector())
