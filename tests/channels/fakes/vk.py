"""A VK API server on loopback for one community: methods and the Bots Long Poll server.

It follows https://dev.vk.com/en/api/bots-long-poll/getting-started and the method pages:
methods are ``/method/<name>`` with ``access_token`` and ``v``, answering HTTP 200 with
``{"response": ...}`` or ``{"error": {"error_code": ..., "error_msg": ...}}``. The long
poll server is ``<server>?act=a_check&key=&ts=&wait=``: it answers the events after
``ts`` as ``{"ts": "...", "updates": [...]}``, or ``{"failed": 1, "ts": ...}`` (history
outdated), ``{"failed": 2}`` (key expired), ``{"failed": 3}`` (key and ts lost).

The state is a small VK: users, conversations with their messages, wall posts with their
comments, and the event log that every change appends to.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from tests.channels.fakes import Failures, FakeServer, Request, Response

TOKEN = "vk1.a.community-token-Xq9_test_0123456789"
GROUP: dict[str, Any] = {
    "id": 218000111,
    "name": "Кондитерская «Ромашка»",
    "screen_name": "romashka_cakes",
    "is_closed": 0,
    "type": "group",
    "photo_50": "https://sun9-1.userapi.com/romashka_50.jpg",
}
GROUP_ID: int = GROUP["id"]
POST_ID = 512  # a post on the community's wall that customers comment on
START = 1_772_442_000  # 2026-03-02 09:00:00 UTC
USERS: dict[int, dict[str, Any]] = {
    1001: {"id": 1001, "first_name": "Анна", "last_name": "Петрова"},
    1002: {"id": 1002, "first_name": "Иван", "last_name": "Соколов"},
    1003: {"id": 1003, "first_name": "John", "last_name": "Smith"},
    1004: {"id": 1004, "first_name": "Ольга", "last_name": "Ким"},
}
TEXTS = [
    "Здравствуйте! Торт на 12 марта ещё можно заказать? 🎂",
    "Курьер опоздал на два часа 😡 [id1002|Иван], подтвердите",
    "Where is my refund? Waiting two weeks already.",
    "Спасибо, всё было очень вкусно ❤️🔥",
    "Есть ли доставка в Казань? 🚚",
]
# error_msg texts as VK words them, for the codes the tests inject.
ERRORS = {
    1: "Unknown error occurred",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied: no access to call this method",
    27: "Group authorization failed: method is unavailable with group auth.",
    901: "Can't send messages for users without permission",
}
CLIENT_INFO: dict[str, Any] = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def _error(code: int, message: str) -> Response:
    return Response.json(
        {"error": {"error_code": code, "error_msg": message, "request_params": []}}
    )


class FakeVk(FakeServer):
    """One community's VK API and long poll server."""

    def __init__(self) -> None:
        super().__init__()
        self.token = TOKEN
        self.clock = START
        self.next_message_id = 9001
        self.history: dict[int, list[dict[str, Any]]] = {}  # peer_id -> messages, oldest first
        self.comments: list[dict[str, Any]] = []
        self.next_comment_id = 70
        self.events: list[tuple[int, dict[str, Any]]] = []  # (number, event); ts = last number
        self.last_event = 41_000
        self.floor = self.last_event  # events up to here are out of the history
        self.keys: set[str] = set()
        self.issued_keys = 0
        self.failures = Failures()
        self.long_poll_failures: list[int] = []
        self.sent: list[dict[str, Any]] = []
        self.random_ids: dict[int, dict[str, Any]] = {}
        self.guids: dict[str, int] = {}

    # --- what tests publish -------------------------------------------------------------

    def post_message(
        self, from_id: int, text: str, peer_id: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A user writes to the community (or in a group chat with it, ``peer_id``)."""
        message = self._add_message(peer_id or from_id, from_id, text, out=0, **fields)
        self.event("message_new", {"message": message, "client_info": CLIENT_INFO})
        return message

    def post_comment(self, from_id: int, text: str, **fields: Any) -> dict[str, Any]:
        """Someone comments on the community's post; ``wall_reply_new`` goes out."""
        with self.lock:
            self.clock += 60
            comment = {
                "id": self.next_comment_id,
                "from_id": from_id,
                "date": self.clock,
                "text": text,
                "post_owner_id": -GROUP_ID,
                "owner_id": -GROUP_ID,
                "post_id": POST_ID,
                "parents_stack": [],
                "thread": {"count": 0},
            } | fields
            self.next_comment_id += 1
            self.comments.append(comment)
            self.event("wall_reply_new", comment)
            return comment

    def edit_message(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        with self.lock:
            self.clock += 30
            message.update(text=text, update_time=self.clock)
            self.event("message_edit", dict(message))
            return message

    def edit_comment(self, comment: dict[str, Any], text: str) -> dict[str, Any]:
        with self.lock:
            comment["text"] = text
            self.event("wall_reply_edit", dict(comment))
            return comment

    def forget_events(self) -> None:
        """Drop the event history so far, as VK does with old events."""
        with self.lock:
            self.floor = self.last_event
            self.events = []

    # --- the API --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        failure = self.failures.pop()
        if failure == "server":
            return Response.html(502, "502 Bad Gateway")
        if failure == "drop":
            return Response(drop=True)
        if request.path == f"/lp/wh{GROUP_ID}":
            return self._long_poll(request.params)
        if failure == "rate_limit":
            return _error(6, ERRORS[6])
        if failure and failure.startswith("error:"):  # e.g. "error:10", "error:27"
            code = int(failure.removeprefix("error:"))
            return _error(code, ERRORS.get(code, "Unknown error occurred"))
        if not request.path.startswith("/method/"):
            return Response.html(404, "404 Not Found")
        params = request.params
        if params.get("access_token") != self.token:
            return _error(5, ERRORS[5])
        if not params.get("v"):
            return _error(8, "Invalid request: v (version) is required")
        method = request.path.removeprefix("/method/")
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return _error(3, "Unknown method passed")
        result: Response = handler(params)
        return result

    def _api_groups_getById(self, params: dict[str, Any]) -> Response:  # noqa: N802
        if int(params.get("group_id", GROUP_ID)) != GROUP_ID:
            return _error(100, "One of the parameters specified was missing or invalid: group_id")
        return Response.json({"response": {"groups": [GROUP], "profiles": []}})

    def _api_groups_getLongPollServer(self, params: dict[str, Any]) -> Response:  # noqa: N802
        if int(params.get("group_id", 0)) != GROUP_ID:
            return _error(15, "Access denied: no access to call this method")
        self.issued_keys += 1
        key = hashlib.sha1(f"key{self.issued_keys}".encode()).hexdigest()  # noqa: S324
        self.keys.add(key)
        server = f"{self.url}/lp/wh{GROUP_ID}"
        return Response.json(
            {"response": {"key": key, "server": server, "ts": str(self.last_event)}}
        )

    def _api_users_get(self, params: dict[str, Any]) -> Response:
        ids = [int(i) for i in str(params.get("user_ids", "")).split(",") if i]
        users = [
            USERS[i] | {"can_access_closed": True, "is_closed": False} for i in ids if i in USERS
        ]
        return Response.json({"response": users})

    def _api_messages_getConversations(self, params: dict[str, Any]) -> Response:  # noqa: N802
        peers = sorted(self.history, key=lambda p: -self.history[p][-1]["date"])
        items = [
            {
                "conversation": {
                    "peer": {"id": p, "type": "user", "local_id": p},
                    "last_message_id": self.history[p][-1]["id"],
                    "in_read": self.history[p][-1]["id"],
                    "out_read": self.history[p][-1]["id"],
                    "last_conversation_message_id": self.history[p][-1]["conversation_message_id"],
                    "can_write": {"allowed": True},
                },
                "last_message": self.history[p][-1],
            }
            for p in peers
        ]
        count = int(params.get("count", 20))
        return Response.json({"response": {"count": len(items), "items": items[:count]}})

    def _api_messages_getHistory(self, params: dict[str, Any]) -> Response:  # noqa: N802
        messages = list(reversed(self.history.get(int(params["peer_id"]), [])))
        offset, count = int(params.get("offset", 0)), int(params.get("count", 20))
        page = messages[offset : offset + count]
        return Response.json({"response": {"count": len(messages), "items": page}})

    def _api_messages_send(self, params: dict[str, Any]) -> Response:
        if "random_id" not in params:
            return _error(100, "One of the parameters specified was missing or invalid: random_id")
        text = str(params.get("message") or "")
        if len(text) > 4096:
            return _error(914, "Message is too long")
        random_id = int(params["random_id"])
        many = "peer_ids" in params
        peer_id = int(params["peer_ids"] if many else params["peer_id"])
        message = self.random_ids.get(random_id)
        if message is None:  # a random_id already used sends nothing again
            self.sent.append({"method": "messages.send"} | params)
            fields: dict[str, Any] = {"random_id": random_id}
            if "forward" in params:
                forward = json.loads(params["forward"])
                cmid = forward["conversation_message_ids"][0]
                replied = next(
                    m for m in self.history[peer_id] if m["conversation_message_id"] == cmid
                )
                fields["reply_message"] = {k: v for k, v in replied.items() if k != "reply_message"}
            message = self._add_message(peer_id, -GROUP_ID, text, out=1, **fields)
            self.random_ids[random_id] = message
            self.event("message_reply", message)
        if not many:
            return Response.json({"response": message["id"]})
        item = {k: message[k] for k in ("peer_id", "conversation_message_id")}
        return Response.json({"response": [item | {"message_id": message["id"]}]})

    def _api_wall_createComment(self, params: dict[str, Any]) -> Response:  # noqa: N802
        if (int(params["owner_id"]), int(params["post_id"])) != (-GROUP_ID, POST_ID):
            return _error(100, "One of the parameters specified was missing or invalid: post_id")
        guid = str(params.get("guid", ""))
        if guid and guid in self.guids:
            return Response.json(
                {"response": {"comment_id": self.guids[guid], "parents_stack": []}}
            )
        self.sent.append({"method": "wall.createComment"} | params)
        fields = {}
        if "reply_to_comment" in params:
            replied = next(c for c in self.comments if c["id"] == int(params["reply_to_comment"]))
            fields = {"reply_to_comment": replied["id"], "reply_to_user": replied["from_id"]}
        comment = self.post_comment(-GROUP_ID, str(params.get("message", "")), **fields)
        if guid:
            self.guids[guid] = comment["id"]
        return Response.json({"response": {"comment_id": comment["id"], "parents_stack": []}})

    def _long_poll(self, params: dict[str, Any]) -> Response:
        if params.get("act") != "a_check":
            return Response.json({"failed": 4})
        if self.long_poll_failures:
            failed = self.long_poll_failures.pop(0)
            if failed in (2, 3):
                self.keys.discard(params.get("key", ""))
            if failed == 1:
                return Response.json({"failed": 1, "ts": str(self.last_event)})
            return Response.json({"failed": failed})
        if params.get("key") not in self.keys:
            return Response.json({"failed": 2})
        ts = int(params.get("ts", 0))
        if ts < self.floor or ts > self.last_event:
            return Response.json({"failed": 1, "ts": str(self.floor)})
        deadline = time.monotonic() + float(params.get("wait", 0))
        while ts == self.last_event and not self.closing and time.monotonic() < deadline:
            self.wait(deadline - time.monotonic())
        updates = [event for number, event in self.events if number > ts]
        return Response.json({"ts": str(self.last_event), "updates": updates})

    # --- plumbing -------------------------------------------------------------------------

    def _add_message(
        self, peer_id: int, from_id: int, text: str, out: int, **fields: Any
    ) -> dict[str, Any]:
        with self.lock:
            self.clock += 60
            conversation = self.history.setdefault(peer_id, [])
            message = {
                "date": self.clock,
                "from_id": from_id,
                "id": self.next_message_id,
                "out": out,
                "version": 10_000_000 + self.next_message_id,
                "attachments": [],
                "conversation_message_id": len(conversation) + 1,
                "fwd_messages": [],
                "important": False,
                "is_hidden": False,
                "peer_id": peer_id,
                "random_id": 0,
                "text": text,
            } | fields
            self.next_message_id += 1
            conversation.append(message)
            return message

    def event(self, kind: str, obj: dict[str, Any]) -> None:
        """Append an event to the long poll log."""
        with self.lock:
            self.last_event += 1
            event_id = hashlib.sha1(f"event{self.last_event}".encode()).hexdigest()  # noqa: S324
            event = {"group_id": GROUP_ID, "type": kind, "event_id": event_id, "v": "5.199"}
            self.events.append((self.last_event, event | {"object": obj}))
            self.lock.notify_all()
