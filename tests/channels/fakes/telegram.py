"""A Telegram Bot API server on loopback: getMe, getUpdates and sendMessage.

It follows https://core.telegram.org/bots/api: requests go to ``/bot<token>/<method>`` as a
query string, a form or JSON; answers are ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code": ..., "description": ..., "parameters": {...}}`` with the same HTTP status.
``getUpdates`` forgets every update whose id is below ``offset`` (that is how a bot
confirms them), keeps the ``allowed_updates`` it was last given, and waits up to
``timeout`` seconds for a new update when it has none.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.channels.fakes import Failures, FakeServer, Request, Response

TOKEN = "123456789:AAH3kq-test_token_0123456789abcdefgh"
BOT: dict[str, Any] = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Ромашка поддержка",
    "username": "romashka_help_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
START = 1_772_442_000  # 2026-03-02 09:00:00 UTC

ANNA: dict[str, Any] = {
    "id": 5011223344,
    "is_bot": False,
    "first_name": "Анна",
    "last_name": "Петрова",
    "username": "anna_petrova",
    "language_code": "ru",
}
IVAN: dict[str, Any] = {
    "id": 6022334455,
    "is_bot": False,
    "first_name": "Иван",
    "language_code": "ru",
}
JOHN: dict[str, Any] = {
    "id": 7033445566,
    "is_bot": False,
    "first_name": "John",
    "last_name": "Smith",
    "language_code": "en",
}
OWNER: dict[str, Any] = {
    "id": 8044556677,
    "is_bot": False,
    "first_name": "Мария",
    "username": "maria_shop",
}


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    chat = {k: user[k] for k in ("id", "first_name", "last_name", "username") if k in user}
    return chat | {"type": "private"}


GROUP: dict[str, Any] = {"id": -1001234567890, "title": "Ромашка — клиенты", "type": "supergroup"}
FORUM: dict[str, Any] = {
    "id": -1009876543210,
    "title": "Ромашка: поддержка",
    "type": "supergroup",
    "is_forum": True,
    "username": "romashka_forum",
}
CHANNEL: dict[str, Any] = {
    "id": -1005550001111,
    "title": "Ромашка новости",
    "type": "channel",
    "username": "romashka_news",
}
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
# Update kinds getUpdates leaves out unless allowed_updates names them.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
TEXTS = [
    "Здравствуйте! Заказ №4411 так и не пришёл 😡",
    "Спасибо курьеру, всё вовремя 🙏🎂",
    "Where is my refund? Waiting two weeks already.",
    "Подскажите, есть ли доставка в Казань? 🚚",
    "Торт — просто 🔥🔥🔥",
]


class FakeTelegram(FakeServer):
    """The Bot API of one bot. ``publish``-style helpers put updates in its queue."""

    def __init__(self) -> None:
        super().__init__()
        self.token = TOKEN
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 700_000_001
        self.next_message_id: dict[int, int] = {}
        self.allowed_updates: list[str] | None = None
        self.failures = Failures()
        self.sent: list[dict[str, Any]] = []
        self.clock = START
        self.retry_after = 7
        self.conflict: str | None = None  # a 409 to answer getUpdates with
        self.webhook = ""  # the webhook URL set for the bot, if any

    # --- what tests publish -------------------------------------------------------------

    def message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any] | None,
        text: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A new Message object in ``chat`` (not yet in the queue)."""
        with self.lock:
            message_id = self.next_message_id.get(chat["id"], 1)
            self.next_message_id[chat["id"]] = message_id + 1
            self.clock += 60
            message: dict[str, Any] = {"message_id": message_id}
            if sender is not None:
                message["from"] = sender
            message |= {"chat": chat, "date": self.clock}
            if text is not None:
                message["text"] = text
            return message | fields

    def push(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        """Queue an update of ``kind`` ("message", "edited_message", ...) carrying ``message``."""
        with self.lock:
            update = {"update_id": self.next_update_id, kind: message}
            self.next_update_id += 1
            self.updates.append(update)
            self.lock.notify_all()
            return update

    def post(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any] | None,
        text: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        return self.push("message", self.message(chat, sender, text, **fields))

    def edit(self, kind: str, message: dict[str, Any], text: str) -> dict[str, Any]:
        with self.lock:
            self.clock += 30
            edited = message | {"text": text, "edit_date": self.clock}
        return self.push(kind, edited)

    # --- the API --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        failure = self.failures.pop()
        if failure == "server":
            return Response.html(502, "502 Bad Gateway")
        if failure == "drop":
            return Response(drop=True)
        if failure == "rate_limit":
            return self._error(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        prefix, _, method = request.path.removeprefix("/bot").rpartition("/")
        if not request.path.startswith("/bot") or ":" not in prefix:
            return self._error(404, "Not Found")
        if prefix != self.token:
            return self._error(401, "Unauthorized")
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return self._error(404, "Not Found")
        result: Response = handler(request.params)
        return result

    def _api_getme(self, params: dict[str, Any]) -> Response:
        return self._ok(BOT)

    def _api_getwebhookinfo(self, params: dict[str, Any]) -> Response:
        return self._ok(
            {
                "url": self.webhook,
                "has_custom_certificate": False,
                "pending_update_count": len(self.updates),
            }
        )

    def _api_getupdates(self, params: dict[str, Any]) -> Response:
        if self.webhook:
            return self._error(409, WEBHOOK_CONFLICT)
        if self.conflict:
            return self._error(409, self.conflict)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.allowed_updates = json.loads(allowed) if isinstance(allowed, str) else allowed
        offset = int(params.get("offset", 0))
        if offset < 0:
            self.updates = self.updates[offset:]
        elif offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        # Updates of a kind the bot did not ask for are never delivered.
        self.updates = [u for u in self.updates if self._allowed(u)]
        if not self.updates:
            deadline = time.monotonic() + float(params.get("timeout", 0))
            while not self.updates and not self.closing and time.monotonic() < deadline:
                self.wait(deadline - time.monotonic())
        limit = int(params.get("limit", 100))
        return self._ok(self.updates[:limit])

    def _api_sendmessage(self, params: dict[str, Any]) -> Response:
        chat = self._known_chat(params.get("chat_id"))
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        text = params.get("text") or ""
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return self._error(400, "Bad Request: message is too long")
        self.sent.append(dict(params))
        reply_to = params.get("reply_parameters") or {}
        if isinstance(reply_to, str):
            reply_to = json.loads(reply_to)
        fields: dict[str, Any] = {}
        if reply_to:
            fields["reply_to_message"] = {"message_id": int(reply_to["message_id"]), "chat": chat}
        if "message_thread_id" in params:
            fields |= {
                "message_thread_id": int(params["message_thread_id"]),
                "is_topic_message": True,
            }
        if "business_connection_id" in params:
            fields["business_connection_id"] = params["business_connection_id"]
        if "business_connection_id" in params:
            # Sent on behalf of the business account: from the owner, via the bot.
            sent = self.message(chat, OWNER, text, sender_business_bot=BOT, **fields)
        else:
            sent = self.message(chat, BOT, text, **fields)
        return self._ok(sent)

    # --- plumbing -------------------------------------------------------------------------

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self.allowed_updates:  # an empty list means "the default" too
            return kind in self.allowed_updates
        return kind not in NOT_BY_DEFAULT

    def _known_chat(self, chat_id: Any) -> dict[str, Any] | None:
        for chat in (GROUP, FORUM, CHANNEL):
            if str(chat["id"]) == str(chat_id):
                return chat
        for user in (ANNA, IVAN, JOHN):
            if str(user["id"]) == str(chat_id):
                return private_chat(user)
        return None

    @staticmethod
    def _ok(result: Any) -> Response:
        return Response.json({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
        payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return Response.json(payload, status=code)
