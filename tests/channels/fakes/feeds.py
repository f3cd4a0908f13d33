"""A feed server on loopback: RSS 2.0 and Atom built from published reviews.

It behaves like the feeds the RSS connector meets in the wild: it answers conditional
requests with 304 (ETag and Last-Modified), may demand basic auth, serves only its latest
entries when windowed, redirects, serves HTML where a feed was expected, and fails on
demand (500, 503 and 429 with Retry-After, a dropped connection).

    with FeedServer() as server:
        ids = server.publish(3)
        connector.fetch({"url": server.url("/rss")}, {}, None)
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape, quoteattr

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FEED_TITLE = "Отзывы о «Ромашке» & reviews"

# (title, HTML body, author name, author email): review-like texts as sites publish them.
REVIEWS: list[tuple[str, str, str | None, str | None]] = [
    (
        "Отличная доставка",
        "<p>Заказывала торт на&nbsp;юбилей &mdash; привезли <b>вовремя</b>, "
        "всё &laquo;как на картинке&raquo;.</p><p>Спасибо курьеру!</p>",
        "Анна Петрова",
        "Anna@Example.ru",
    ),
    (
        "Support never answered",
        "<p>Waited <em>two weeks</em> for a refund &amp; still nothing.</p>"
        "<ul><li>Order #4411</li><li>3 emails</li></ul>",
        "John Smith",
        None,
    ),
    (
        "Курьер опоздал",
        "Курьер опоздал на 2&nbsp;часа.<br>Оператор извинился, дали скидку 10&#37;.",
        None,
        None,
    ),
    (
        "Great value",
        "<div>Fair prices: 5&euro; for coffee &amp; cake &lt;3</div><script>alert(1)</script>",
        "M. O'Brien",
        "mob@example.com",
    ),
]


@dataclass
class Review:
    number: int
    title: str
    html: str
    author: str | None
    email: str | None
    published: datetime | None
    guid: bool = True

    @property
    def id(self) -> str:
        return f"tag:reviews.test,2026:review-{self.number}"

    def link(self, base: str) -> str:
        return f"{base}/reviews/{self.number}"


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


def rss_document(
    reviews: list[Review], base: str, *, encoding: str = "utf-8", title: str = FEED_TITLE
) -> bytes:
    """An RSS 2.0 document, newest entry first, encoded as its XML prolog says."""
    items = []
    for review in reversed(reviews):
        parts = [f"<title>{escape(review.title)}</title>"]
        parts.append(f"<link>{escape(review.link(base))}</link>")
        if review.guid:
            parts.append(f'<guid isPermaLink="false">{escape(review.id)}</guid>')
        if review.published:
            parts.append(f"<pubDate>{format_datetime(review.published, usegmt=True)}</pubDate>")
        if review.email:
            parts.append(f"<author>{escape(review.email)} ({escape(review.author or '')})</author>")
        elif review.author:
            parts.append(f"<dc:creator>{escape(review.author)}</dc:creator>")
        parts.append(f"<description>{escape(review.html)}</description>")
        items.append("<item>" + "".join(parts) + "</item>")
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(base)}/</link>"
        "<description>Customer reviews</description>" + "".join(items) + "</channel></rss>"
    )
    return text.encode(encoding)


def atom_document(reviews: list[Review], base: str, *, title: str = FEED_TITLE) -> bytes:
    """An Atom 1.0 document, newest entry first."""
    entries = []
    for review in reversed(reviews):
        parts = [f"<title>{escape(review.title)}</title>"]
        parts.append(f"<link rel='alternate' href={quoteattr(review.link(base))}/>")
        if review.guid:
            parts.append(f"<id>{escape(review.id)}</id>")
        if review.published:
            stamp = review.published.isoformat()
            parts.append(f"<published>{stamp}</published><updated>{stamp}</updated>")
        if review.author:
            email = f"<email>{escape(review.email)}</email>" if review.email else ""
            parts.append(f"<author><name>{escape(review.author)}</name>{email}</author>")
        parts.append(f"<content type='html'>{escape(review.html)}</content>")
        entries.append("<entry>" + "".join(parts) + "</entry>")
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>tag:reviews.test,2026:feed</id>"
        f"<updated>{START.isoformat()}</updated><link rel='self' href={quoteattr(base)}/>"
        + "".join(entries)
        + "</feed>"
    )
    return text.encode()


class FeedServer:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``/rss`` and ``/atom`` from ``reviews``."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        window: int | None = None,
        conditional: bool = True,
        etag: bool = True,
        compress: bool = False,
    ) -> None:
        self.credentials = (username, password or "") if username else None
        self.window = window  # serve only the latest N entries, as most real feeds do
        self.conditional = conditional  # False: ignore validators, always 200
        self.etag = etag  # False: Last-Modified only
        self.compress = compress  # gzip when the client accepts it
        self.reviews: list[Review] = []
        self.documents: dict[str, tuple[str, bytes]] = {}  # extra paths: (content type, body)
        self.redirects: dict[str, tuple[int, str]] = {"/moved": (301, "/rss")}
        self.statuses: dict[str, int] = {}  # paths that always answer with this status
        self.requests: list[Seen] = []
        self.modified = START
        self._failures: deque[str] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.feeds = self  # type: ignore[attr-defined]
        # Join handler threads on close, so no request outlives the test.
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/rss") -> str:
        return self.base_url + path

    def publish(self, count: int, *, guid: bool = True, dated: bool = True) -> list[str]:
        """Add ``count`` reviews, a minute apart; their guids (or links without guids)."""
        added = []
        with self._lock:
            for _ in range(count):
                number = len(self.reviews) + 1
                title, html, author, email = REVIEWS[(number - 1) % len(REVIEWS)]
                self.modified += timedelta(minutes=1)
                published = self.modified if dated else None
                review = Review(number, title, html, author, email, published, guid)
                self.reviews.append(review)
                added.append(review.id if guid else review.link(self.base_url))
        return added

    def put(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> str:
        """Serve a fixed document at ``path``; its URL."""
        with self._lock:
            self.documents[path] = (content_type, body)
            self.modified += timedelta(minutes=1)
        return self.url(path)

    def fail_next(self, kind: str) -> None:
        """``server`` (500), ``unavailable`` (503 + Retry-After), ``rate_limit`` (429 +
        Retry-After seconds), ``rate_limit_date`` (429 + an HTTP-date) or ``drop``."""
        self._failures.append(kind)

    def take_failure(self) -> str | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def document(self, path: str) -> tuple[str, bytes] | None:
        with self._lock:
            if path in self.documents:
                return self.documents[path]
            visible = self.reviews[-self.window :] if self.window else list(self.reviews)
        if path == "/rss":
            return "application/rss+xml; charset=utf-8", rss_document(visible, self.base_url)
        if path == "/atom":
            return "application/atom+xml", atom_document(visible, self.base_url)
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeFeeds/1.0"

    @property
    def feeds(self) -> FeedServer:
        feeds: FeedServer = self.server.feeds  # type: ignore[attr-defined]
        return feeds

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        feeds = self.feeds
        path = self.path.split("?")[0]
        feeds.requests.append(Seen("GET", path, {k.lower(): v for k, v in self.headers.items()}))
        failure = feeds.take_failure()
        if failure:
            self._fail(failure)
        elif feeds.credentials and self.headers.get("Authorization") != _basic(feeds.credentials):
            self._send(401, b"no", {"WWW-Authenticate": 'Basic realm="feeds"'})
        elif path in feeds.statuses:
            self._send(feeds.statuses[path], b"no feed here", {"Content-Type": "text/plain"})
        elif path in feeds.redirects:
            code, target = feeds.redirects[path]
            self._send(code, b"", {"Location": target})
        elif path == "/page":
            self._send(200, _page(), {"Content-Type": "text/html; charset=utf-8"})
        elif (document := feeds.document(path)) is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"})
        else:
            self._serve(*document)

    def _serve(self, content_type: str, body: bytes) -> None:
        feeds = self.feeds
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"Content-Type": content_type}
        headers["Last-Modified"] = format_datetime(feeds.modified, usegmt=True)
        if feeds.etag:
            headers["ETag"] = etag
        if feeds.conditional and self._not_modified(etag if feeds.etag else None):
            self._send(304, b"", headers)
            return
        if feeds.compress and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, headers)

    def _not_modified(self, etag: str | None) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            return etag is not None and etag in [tag.strip() for tag in match.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return self.feeds.modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def _fail(self, kind: str) -> None:
        if kind == "drop":
            self.close_connection = True  # no status line at all: the client sees a reset
        elif kind == "server":
            self._send(500, b"Internal Server Error", {"Content-Type": "text/plain"})
        elif kind == "unavailable":
            self._send(503, b"maintenance", {"Retry-After": "120"})
        elif kind == "rate_limit":
            self._send(429, b"slow down", {"Retry-After": "7"})
        elif kind == "rate_limit_date":
            when = datetime.now(UTC) + timedelta(seconds=90)
            self._send(429, b"slow down", {"Retry-After": format_datetime(when, usegmt=True)})
        else:
            raise ValueError(f"unknown failure {kind!r}")

    def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 304:
            self.wfile.write(body)


def _basic(credentials: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(":".join(credentials).encode()).decode()


def _page() -> bytes:
    """A company's home page: HTML, not a feed, but it links to one."""
    return (
        "<!doctype html><html><head><title>Ромашка</title>"
        '<link rel="alternate" type="application/rss+xml" title="Отзывы" href="/rss">'
        "</head><body><h1>Ромашка</h1><p>Доставка цветов</p></body></html>"
    ).encode()
