"""Local HTTP servers that speak the channels' documented APIs, for the connector tests.

Each fake keeps its state in memory (items, the valid credentials, the failure to inject
next, what was sent) and answers on 127.0.0.1 from a thread. ``FakeServer`` holds the
plumbing: parse a request, hand it to ``handle``, write the answer, shut down cleanly so
no thread or socket outlives the test (warnings are errors in this suite).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]  # query string, then form or JSON body (JSON values kept typed)
    query: dict[str, str] = field(default_factory=dict)  # the query string alone


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode())

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        return cls(status, f"<html><body><h1>{text}</h1></body></html>".encode(), "text/html")


@dataclass
class Failures:
    """Failures to inject, consumed one per request, in order."""

    queue: list[str] = field(default_factory=list)

    def push(self, kind: str) -> None:
        self.queue.append(kind)

    def pop(self) -> str | None:
        return self.queue.pop(0) if self.queue else None


def _parse(handler: BaseHTTPRequestHandler) -> Request:
    url = urllib.parse.urlsplit(handler.path)
    query = dict(urllib.parse.parse_qsl(url.query))
    params: dict[str, Any] = dict(query)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    content_type = handler.headers.get_content_type()
    if body and content_type == "application/json":
        params.update(json.loads(body))
    elif body:
        params.update(urllib.parse.parse_qsl(body.decode()))
    return Request(handler.command, url.path, params, query)


class FakeServer:
    """A threaded HTTP server on a free loopback port; subclasses implement ``handle``."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.closing = False
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Join handler threads on close, so a long-poll wait cannot outlive the test.
        self._server.daemon_threads = False
        self._server.block_on_close = True
        # shutdown() waits for the serve loop to notice; the default half second per test adds up.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def wait(self, seconds: float) -> None:
        """Block a long-poll request until something is published, shutdown, or timeout."""
        if seconds > 0 and not self.closing:
            self.lock.wait(timeout=seconds)

    def notify(self) -> None:
        with self.lock:
            self.lock.notify_all()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            self.closing = True
            self.lock.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @contextmanager
    def running(self) -> Iterator[Self]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        request = _parse(handler)
        with self.lock:
            self.requests.append(request)
            response = self.handle(request)
        if response.drop:
            handler.close_connection = True
            return
        handler.send_response(response.status)
        handler.send_header("Content-Type", f"{response.content_type}; charset=utf-8")
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)
