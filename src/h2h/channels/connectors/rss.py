"""RSS and Atom feeds: review sites, blogs and news, polled over HTTP.

We download the feed ourselves with ``urllib`` and only hand the bytes to feedparser, so
every network failure is classified here (feedparser would swallow it into ``bozo``) and
feedparser never fetches a URL. Polls are conditional (ETag / Last-Modified), and the
cursor remembers which entries were already returned, because feeds re-serve the same
entries on every request and many have no usable dates.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import http.client
import io
import json
import logging
import re
import time
import urllib.error
import urllib.request
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import IO, Any, ClassVar
from urllib.parse import urljoin, urlsplit

import feedparser

from h2h import __version__
from h2h.channels.connectors.base import (
    Author,
    ChannelKind,
    ConnectorError,
    FetchResult,
    RawMessage,
    register,
)

log = logging.getLogger(__name__)

TIMEOUT = 20.0  # seconds, per request
MAX_BYTES = 10 * 1024 * 1024  # a feed bigger than this (after decompression) is refused
SEEN_LIMIT = 500  # entry fingerprints kept in the cursor beyond those in the current feed
DEFAULT_MAX_ITEMS = 100
DEFAULT_USER_AGENT = f"H2H/{__version__} (self-hosted social CRM; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
MAX_ID = 300  # messages.external_id is a String(300); longer ids are hashed
_REFUSED = {
    401: "the feed needs a valid username and password",
    403: "the feed refused access; if it opens in a browser, try another user_agent",
}
_GONE = {404: "no feed at this URL (404)", 410: "the feed was removed (410)"}
_RETRYABLE_4XX = {408, 425, 429}


@dataclass(frozen=True)
class _Settings:
    url: str
    user_agent: str
    max_items: int
    username: str | None
    password: str

    @classmethod
    def parse(cls, config: Mapping[str, Any], secrets: Mapping[str, str]) -> _Settings:
        url = str(config.get("url") or "").strip()
        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a malformed IPv6 host or port
            valid = False
        if not valid:
            raise ConnectorError("the feed URL must be an http(s) address", retryable=False)
        try:
            max_items = int(config.get("max_items") or DEFAULT_MAX_ITEMS)
        except (TypeError, ValueError):
            max_items = 0
        if max_items < 1:
            raise ConnectorError("max_items must be a positive whole number", retryable=False)
        user_agent = str(config.get("user_agent") or "").strip() or DEFAULT_USER_AGENT
        username = secrets.get("username") or None
        return cls(url, user_agent, max_items, username, secrets.get("password") or "")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or self.url

    @property
    def authorization(self) -> str | None:
        if self.username is None:
            return None
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


@dataclass
class _Cursor:
    """Validators for a conditional GET, and fingerprints of the entries already returned.

    Dates cannot be the watermark: review feeds often have none, back-date entries or
    re-date them on edit. Fingerprints (8-byte hashes of external ids) keep the cursor
    small: every entry of the last feed document plus up to SEEN_LIMIT older ones.
    """

    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, cursor: str | None) -> _Cursor:
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            return cls(data.get("etag"), data.get("last_modified"), list(data.get("seen", [])))
        except (ValueError, TypeError, AttributeError):
            # Starting over only re-returns entries, which ingestion turns into no-ops.
            log.warning("unreadable RSS cursor, reading the feed from scratch")
            return cls()

    def dump(self) -> str:
        data = {"v": 1, "etag": self.etag, "last_modified": self.last_modified}
        return json.dumps({**data, "seen": self.seen}, separators=(",", ":"))


@dataclass(frozen=True)
class _Download:
    body: bytes | None  # None: 304 Not Modified
    headers: Mapping[str, str]
    url: str
    moved_to: str | None  # where a chain of permanent redirects ended


def _fingerprint(external_id: str) -> str:
    return hashlib.blake2b(external_id.encode(), digest_size=8).hexdigest()


def _seen_after(seen: list[str], messages: list[RawMessage], items: list[RawMessage]) -> list[str]:
    """The feed's entries already returned, newest first, then older fingerprints."""
    returned = set(seen) | {_fingerprint(m.external_id) for m in items}
    current = [f for m in reversed(messages) if (f := _fingerprint(m.external_id)) in returned]
    kept = set(current)
    older = [f for f in seen if f not in kept]
    return (current + older)[: max(SEEN_LIMIT, len(current))]


class RssConnector:
    kind: ClassVar[ChannelKind] = ChannelKind.RSS

    def fetch(
        self, config: Mapping[str, Any], secrets: Mapping[str, str], cursor: str | None
    ) -> FetchResult:
        """Entries not returned before, oldest first; nothing on 304 Not Modified."""
        settings = _Settings.parse(config, secrets)
        state = _Cursor.load(cursor)
        download = _download(settings, state)
        if download.body is None:
            return FetchResult(items=[], cursor=None)
        if download.moved_to:
            log.warning("feed %s moved permanently to %s", settings.url, download.moved_to)
        parsed = _parse(download)
        messages = _messages(parsed.entries, host=settings.host, base=download.url)
        seen = set(state.seen)
        fresh = [m for m in messages if _fingerprint(m.external_id) not in seen]
        items = fresh[: settings.max_items]
        truncated = len(fresh) > len(items)
        new_state = _Cursor(
            # The rest of a truncated batch must come back on the next poll, not a 304.
            etag=None if truncated else download.headers.get("etag"),
            last_modified=None if truncated else download.headers.get("last-modified"),
            seen=_seen_after(state.seen, messages, items),
        )
        return FetchResult(items=items, cursor=new_state.dump())

    def check(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        """Download and parse the feed; its title and entry count."""
        settings = _Settings.parse(config, secrets)
        download = _download(settings, _Cursor())
        parsed = _parse(download)
        title = _plain(parsed.feed.get("title_detail")) or settings.host
        summary = f"Feed “{title}”: {len(parsed.entries)} entries"
        if download.moved_to:
            summary += f"; it moved permanently to {download.moved_to}, update the URL"
        return summary


# --- HTTP ------------------------------------------------------------------------------


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, keeping credentials only on the feed's own origin."""

    def __init__(self, settings: _Settings) -> None:
        self._origin = _origin(settings.url)
        self._authorization = settings.authorization
        self._all_permanent = True
        self.moved_to: str | None = None

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        newurl = urljoin(req.full_url, newurl)
        if urlsplit(newurl).scheme not in ("http", "https"):
            return None  # urllib then raises HTTPError with the redirect's code
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        self._all_permanent = self._all_permanent and code in (301, 308)
        self.moved_to = newurl if self._all_permanent else None
        if self._authorization and _origin(newurl) == self._origin:
            new.add_unredirected_header("Authorization", self._authorization)
        return new


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _download(settings: _Settings, state: _Cursor) -> _Download:
    request = urllib.request.Request(settings.url)  # noqa: S310 - scheme checked in _Settings
    request.add_header("User-Agent", settings.user_agent)
    request.add_header("Accept", ACCEPT)
    request.add_header("Accept-Encoding", "gzip, deflate")
    if state.etag:
        request.add_header("If-None-Match", state.etag)
    if state.last_modified:
        request.add_header("If-Modified-Since", state.last_modified)
    if settings.authorization:
        # Unredirected: _Redirects re-adds it only while we stay on the same origin.
        request.add_unredirected_header("Authorization", settings.authorization)
    redirects = _Redirects(settings)
    opener = urllib.request.build_opener(redirects)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            raw = response.read(MAX_BYTES + 1)
            headers = {k.lower(): v for k, v in response.headers.items()}
            url = response.geturl()
    except urllib.error.HTTPError as error:
        with error:
            if error.code == 304:
                return _Download(None, {}, settings.url, redirects.moved_to)
            raise _http_error(error) from None
    except (OSError, http.client.HTTPException, ValueError) as error:  # URLError, timeouts, resets
        raise ConnectorError(f"could not reach the feed: {_reason(error)}") from error
    body = _decompress(raw, headers.get("content-encoding", ""))
    return _Download(body, headers, url, redirects.moved_to)


def _decompress(raw: bytes, encoding: str) -> bytes:
    if len(raw) > MAX_BYTES:
        raise ConnectorError("the feed is larger than 10 MB", retryable=False)
    if encoding.strip().lower() not in ("gzip", "x-gzip", "deflate"):
        return raw
    try:
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)  # gzip or zlib header
        body = inflater.decompress(raw, MAX_BYTES + 1)
    except zlib.error as error:
        raise ConnectorError(f"the feed arrived corrupted: {error}") from error
    if len(body) > MAX_BYTES:
        raise ConnectorError("the feed is larger than 10 MB", retryable=False)
    return body


def _http_error(error: urllib.error.HTTPError) -> ConnectorError:
    code = error.code
    if code in _REFUSED:
        return ConnectorError(f"{_REFUSED[code]} ({code})", retryable=False)
    if code in _GONE:
        return ConnectorError(_GONE[code], retryable=False)
    retry_after = parse_retry_after(error.headers.get("Retry-After") if error.headers else None)
    if code >= 500 or code in _RETRYABLE_4XX:
        what = "the feed asked us to slow down" if code == 429 else "the feed server failed"
        return ConnectorError(f"{what} ({code})", retry_after=retry_after)
    if 300 <= code < 400:
        return ConnectorError(
            f"the feed redirected somewhere we cannot follow ({code})", retryable=False
        )
    return ConnectorError(f"the feed answered HTTP {code}", retryable=False)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error) or type(error).__name__


# --- Parsing -----------------------------------------------------------------------------


def _parse(download: _Download) -> Any:
    # No Content-Location on purpose: feedparser would resolve a permalink guid such as
    # "12345" against it, so ids would change when the feed moves.
    headers = {"content-type": download.headers.get("content-type") or "application/xml"}
    parsed = feedparser.parse(io.BytesIO(download.body or b""), response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        raise ConnectorError(_not_a_feed(download), retryable=False)
    if parsed.get("bozo"):
        log.info(
            "feed %s is malformed (%s); kept its entries",
            download.url,
            parsed.get("bozo_exception"),
        )
    return parsed


def _not_a_feed(download: _Download) -> str:
    message = "not an RSS/Atom feed"
    content_type = download.headers.get("content-type", "").split(";")[0].strip()
    if content_type:
        message += f" (the server sent {content_type})"
    finder = _FeedLinks(download.url)
    finder.feed((download.body or b"").decode("utf-8", "replace"))
    if finder.links:
        message += f"; the page links to a feed at {finder.links[0]}"
    return message


def _messages(entries: list[Any], *, host: str, base: str) -> list[RawMessage]:
    """Entries as messages, oldest first (feeds list newest first), each external id once."""
    ids = [_entry_id(entry) for entry in entries]
    counts = Counter(ids)
    dated: dict[str, tuple[datetime, RawMessage]] = {}
    undated = datetime.max.replace(tzinfo=UTC)  # "now": after every dated entry
    for entry, external_id in zip(reversed(entries), reversed(ids), strict=True):
        if counts[external_id] > 1:
            # Some review sites give every entry the same link (and no guid), or one guid.
            external_id = f"{external_id}#{_content_hash(entry)}"
        if len(external_id) > MAX_ID:
            external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
        if external_id not in dated:
            published = _published(entry)
            message = _message(entry, external_id, published, host=host, base=base)
            dated[external_id] = (published or undated, message)
    return [message for _, message in sorted(dated.values(), key=lambda pair: pair[0])]


def _message(
    entry: Any, external_id: str, published: datetime | None, *, host: str, base: str
) -> RawMessage:
    title = _plain(entry.get("title_detail")) or str(entry.get("title") or "").strip()
    body = _body(entry)
    text = f"{title}\n\n{body}" if title and body and body != title else body or title
    detail = entry.get("author_detail") or {}
    name = str(detail.get("name") or "").strip() or None
    email = str(detail.get("email") or "").strip().lower() or None
    return RawMessage(
        external_id=external_id,
        text=text,
        created_at=published or datetime.now(UTC),
        author=Author(handle=email or name or host, name=name, url=detail.get("href") or None),
        url=urljoin(base, entry["link"]) if entry.get("link") else None,
        raw=_jsonable(entry),
    )


def _entry_id(entry: Any) -> str:
    for key in ("id", "link"):
        value = str(entry.get(key) or "").strip()
        if value:
            return value
    return f"hash:{_content_hash(entry)}"


def _content_hash(entry: Any) -> str:
    date = entry.get("published") or entry.get("updated") or ""
    parts = [str(entry.get("title") or ""), str(date)]
    if not any(parts):
        parts.append(_body(entry))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return _utc(value)
            except (TypeError, ValueError, OverflowError, OSError):  # year 0, year 99999
                continue
    return None


def _utc(value: time.struct_time) -> datetime:
    """feedparser's parsed dates are UTC struct_times."""
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


def _body(entry: Any) -> str:
    for detail in [*(entry.get("content") or []), entry.get("summary_detail")]:
        text = _plain(detail)
        if text:
            return text
    return ""


def _plain(detail: Mapping[str, Any] | None) -> str:
    """A feedparser text construct as plain text."""
    if not detail:
        return ""
    value = str(detail.get("value") or "")
    if "html" in str(detail.get("type") or ""):
        return html_to_text(value)
    return _tidy(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, time.struct_time):
        try:
            return _utc(value).isoformat()
        except (ValueError, OverflowError, OSError):
            return list(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# --- HTML ---------------------------------------------------------------------------------

_BLOCKS = {
    "address", "article", "blockquote", "div", "dl", "figcaption", "footer", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "ol", "p", "pre", "section", "table", "ul",
}  # fmt: skip
_LINES = {"br", "dd", "dt", "li", "tr"}  # a new line, not a new paragraph
_SKIPPED = {"script", "style", "template", "noscript"}
_SPACES = re.compile(r"[ \t\f\v\r\xa0\u2009\u202f]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _LINES:
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, paragraphs kept."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return _tidy("".join(extractor.parts))


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class _FeedLinks(HTMLParser):
    """``<link rel="alternate" type="application/rss+xml">`` of an HTML page."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: (v or "") for k, v in attrs}
        is_feed = found.get("type", "").lower() in ("application/rss+xml", "application/atom+xml")
        if tag == "link" and "alternate" in found.get("rel", "").lower() and is_feed:
            self.links.append(urljoin(self.base, found.get("href", "")))


register(RssConnector())
