"""The RSS/Atom connector against a local feed server (tests/channels/fakes/feeds.py)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from h2h.channels.connectors import rss
from h2h.channels.connectors.base import ChannelKind, ConnectorError, RawMessage, get_connector
from h2h.channels.connectors.rss import RssConnector, html_to_text, parse_retry_after
from tests.channels.contract import *  # noqa: F403 - the shared contract tests
from tests.channels.fakes.feeds import START, FeedServer, rss_document

connector = RssConnector()


@dataclass
class FeedHarness:
    server: FeedServer
    path: str
    connector: RssConnector = field(default_factory=RssConnector)
    secrets: dict[str, str] = field(
        default_factory=lambda: {"username": "reader", "password": "s3cret"}
    )

    @property
    def config(self) -> dict[str, Any]:
        return {"url": self.server.url(self.path)}

    def publish(self, count: int) -> list[str]:
        return self.server.publish(count)

    def fail_next(self, kind: str) -> None:
        self.server.fail_next(kind)

    def break_credentials(self) -> None:
        self.server.credentials = ("reader", "rotated")

    def sent(self) -> list[Mapping[str, Any]]:
        return []


@pytest.fixture(params=["/rss", "/atom"], ids=["rss2", "atom"])
def harness(request: pytest.FixtureRequest) -> Iterator[FeedHarness]:
    with FeedServer(username="reader", password="s3cret") as server:
        yield FeedHarness(server, request.param)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feeds:
        yield feeds


def fetch(url: str, cursor: str | None = None, **config: Any) -> tuple[list[RawMessage], str]:
    result = connector.fetch({"url": url, **config}, {}, cursor)
    return result.items, result.cursor or cursor or ""


def ids(items: list[RawMessage]) -> list[str]:
    return [item.external_id for item in items]


def failure(url: str, cursor: str | None = None) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        connector.fetch({"url": url}, {}, cursor)
    return caught.value


def test_connector_is_registered_for_rss_channels() -> None:
    assert isinstance(get_connector(ChannelKind.RSS), RssConnector)


def test_not_modified_feed_sends_the_validators_and_returns_nothing(server: FeedServer) -> None:
    server.publish(2)
    _, cursor = fetch(server.url())
    first = server.requests[-1]
    result = connector.fetch({"url": server.url()}, {}, cursor)
    assert result.items == [] and result.cursor is None  # None keeps the previous cursor
    sent = server.requests[-1].headers
    assert "if-none-match" not in first.headers
    assert sent["if-none-match"] == json.loads(cursor)["etag"]
    assert sent["if-modified-since"] == json.loads(cursor)["last_modified"]


def test_last_modified_alone_is_enough_for_a_not_modified_answer() -> None:
    with FeedServer(etag=False) as server:
        server.publish(1)
        _, cursor = fetch(server.url())
        assert connector.fetch({"url": server.url()}, {}, cursor).items == []
        assert "if-none-match" not in server.requests[-1].headers
        assert server.requests[-1].headers["if-modified-since"]


def test_entries_re_served_across_polls_are_not_returned_twice() -> None:
    with FeedServer(conditional=False) as server:
        first_ids = server.publish(2)
        items, cursor = fetch(server.url())
        assert ids(items) == first_ids
        items, cursor = fetch(server.url(), cursor)
        assert items == []
        more = server.publish(1)
        items, cursor = fetch(server.url(), cursor)
        assert ids(items) == more


def test_items_come_oldest_first_with_their_published_time(server: FeedServer) -> None:
    expected = server.publish(3)
    items, _ = fetch(server.url("/atom"))
    assert ids(items) == expected
    assert [i.created_at for i in items] == [START + timedelta(minutes=n) for n in (1, 2, 3)]


def test_entry_without_guid_gets_its_link_as_a_stable_id(server: FeedServer) -> None:
    links = server.publish(2, guid=False)
    assert ids(fetch(server.url())[0]) == links == ids(fetch(server.url())[0])
    assert links[0] == server.url("/reviews/1")


ANONYMOUS_ITEMS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Отзывы</title>
<item><title>Хорошо</title><description>Всё понравилось</description>
<pubDate>Mon, 02 Mar 2026 10:00:00 +0300</pubDate></item>
<item><title>Плохо</title><description>Долго ждали</description></item>
<item><title>Same page 1</title><link>https://reviews.test/company</link></item>
<item><title>Same page 2</title><link>https://reviews.test/company</link></item>
</channel></rss>"""


def test_entry_without_guid_or_link_gets_a_stable_hash_id(server: FeedServer) -> None:
    url = server.put("/anonymous", ANONYMOUS_ITEMS.encode())
    first, second = fetch(url)[0], fetch(url)[0]
    assert ids(first) == ids(second)
    hashed = [i for i in ids(first) if i.startswith("hash:")]
    assert len(hashed) == 2 and len(set(hashed)) == 2


def test_entries_sharing_one_link_get_distinct_ids(server: FeedServer) -> None:
    items, _ = fetch(server.put("/anonymous", ANONYMOUS_ITEMS.encode()))
    shared = [i for i in ids(items) if i.startswith("https://reviews.test/company#")]
    assert len(set(shared)) == 2


def test_entries_without_dates_are_dated_now(server: FeedServer) -> None:
    before = datetime.now(UTC)
    server.publish(2, dated=False)
    items, _ = fetch(server.url())
    assert len(items) == 2
    assert all(before <= i.created_at <= datetime.now(UTC) for i in items)
    dated = fetch(server.put("/anonymous", ANONYMOUS_ITEMS.encode()))[0]
    by_title = {i.text.split("\n")[0]: i.created_at for i in dated}
    assert by_title["Хорошо"] == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # +0300 → UTC
    assert by_title["Плохо"] >= before


@pytest.mark.parametrize("path", ["/rss", "/atom"])
def test_html_is_stripped_and_entities_decoded(server: FeedServer, path: str) -> None:
    server.publish(4)
    texts = [i.text for i in fetch(server.url(path))[0]]
    assert texts == [
        "Отличная доставка\n\nЗаказывала торт на юбилей — привезли вовремя, "
        "всё «как на картинке».\n\nСпасибо курьеру!",
        "Support never answered\n\nWaited two weeks for a refund & still nothing."
        "\n\nOrder #4411\n3 emails",
        "Курьер опоздал\n\nКурьер опоздал на 2 часа.\nОператор извинился, дали скидку 10%.",
        "Great value\n\nFair prices: 5€ for coffee & cake <3",
    ]


def test_html_to_text_keeps_plain_text_readable() -> None:
    html = "<h2>Итог</h2><p>A &lt;b&gt; &amp;amp; B</p><style>p{}</style><ol><li>1</li></ol>"
    assert html_to_text(html) == "Итог\n\nA <b> &amp; B\n\n1"


@pytest.mark.parametrize("path", ["/rss", "/atom"])
def test_authors_are_named_and_anonymous_reviews_belong_to_the_feed_host(
    server: FeedServer, path: str
) -> None:
    server.publish(3)
    authors = [i.author for i in fetch(server.url(path))[0]]
    assert (authors[0].handle, authors[0].name) == ("anna@example.ru", "Анна Петрова")
    assert (authors[1].handle, authors[1].name) == ("John Smith", "John Smith")
    assert (authors[2].handle, authors[2].name) == ("127.0.0.1", None)


@pytest.mark.parametrize("content_type", ["text/xml", "application/rss+xml", "text/html"])
def test_cp1251_feed_declared_in_the_prolog_is_decoded_to_russian(
    server: FeedServer, content_type: str
) -> None:
    server.publish(3)
    body = rss_document(server.reviews, server.base_url, encoding="windows-1251")
    assert "Заказывала".encode("cp1251") in body
    url = server.put("/cp1251", body, content_type)
    items, _ = fetch(url)
    assert items[0].text.startswith("Отличная доставка\n\nЗаказывала торт на юбилей")
    assert items[0].author.name == "Анна Петрова"
    assert "«Ромашке»" in connector.check({"url": url}, {})


def test_retry_after_seconds_are_surfaced(server: FeedServer) -> None:
    server.fail_next("rate_limit")
    error = failure(server.url())
    assert error.retryable and error.retry_after == 7.0


def test_retry_after_http_date_is_surfaced(server: FeedServer) -> None:
    server.fail_next("rate_limit_date")
    error = failure(server.url())
    assert error.retryable and error.retry_after is not None and 80 <= error.retry_after <= 90


def test_unavailable_server_is_retried_when_it_says(server: FeedServer) -> None:
    server.fail_next("unavailable")
    error = failure(server.url())
    assert error.retryable and error.retry_after == 120.0


def test_retry_after_parses_seconds_dates_and_nonsense() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after("Mon, 02 Mar 2026 09:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_dropped_connection_and_closed_port_are_retryable(server: FeedServer) -> None:
    server.fail_next("drop")
    assert failure(server.url()).retryable
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert failure(f"http://127.0.0.1:{port}/rss").retryable


def test_non_feed_url_is_a_clear_non_retryable_error(server: FeedServer) -> None:
    error = failure(server.url("/page"))
    assert not error.retryable
    assert "not an RSS/Atom feed" in str(error) and "text/html" in str(error)
    assert f"links to a feed at {server.url('/rss')}" in str(error)


def test_missing_feed_is_not_retried(server: FeedServer) -> None:
    error = failure(server.url("/nowhere"))
    assert not error.retryable and "404" in str(error)


@pytest.mark.parametrize("status", [400, 401, 403, 410])
def test_refused_or_removed_feed_is_not_retried(server: FeedServer, status: int) -> None:
    server.statuses["/feed"] = status
    error = failure(server.url("/feed"))
    assert not error.retryable and str(status) in str(error)


@pytest.mark.parametrize("status", [408, 502, 504])
def test_gateway_trouble_is_retried(server: FeedServer, status: int) -> None:
    server.statuses["/feed"] = status
    assert failure(server.url("/feed")).retryable


@pytest.mark.parametrize(
    "url", ["", "ftp://reviews.test/feed", "file:///etc/passwd", "http://", "javascript:x"]
)
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        connector.fetch({"url": url}, {}, None)
    assert not caught.value.retryable


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/feed"])
def test_redirects_away_from_http_are_refused(server: FeedServer, target: str) -> None:
    server.redirects["/evil"] = (302, target)
    assert not failure(server.url("/evil")).retryable


def test_redirect_is_followed_and_a_permanent_move_is_reported(server: FeedServer) -> None:
    expected = server.publish(2)
    server.redirects["/temporary"] = (302, "/moved")
    assert ids(fetch(server.url("/moved"))[0]) == expected
    assert f"moved permanently to {server.url('/rss')}" in connector.check(
        {"url": server.url("/moved")}, {}
    )
    assert "moved" not in connector.check({"url": server.url("/temporary")}, {})


def test_credentials_follow_redirects_on_the_same_origin_only() -> None:
    secrets = {"username": "reader", "password": "s3cret"}
    with FeedServer(username="reader", password="s3cret") as server, FeedServer() as other:
        expected = server.publish(1)
        assert ids(connector.fetch({"url": server.url("/moved")}, secrets, None).items) == expected
        server.redirects["/away"] = (302, other.url("/rss"))
        connector.fetch({"url": server.url("/away")}, secrets, None)
        assert "authorization" not in other.requests[-1].headers


def test_windowed_feed_loses_no_entries_when_polled_in_time() -> None:
    with FeedServer(window=3) as server:
        reader: list[str] = []
        cursor = None
        published: list[str] = []
        for batch in (2, 3, 1, 2):
            published += server.publish(batch)
            items, cursor = fetch(server.url(), cursor)
            reader += ids(items)
        assert reader == published


def test_max_items_spreads_a_backlog_over_polls_without_losing_any(server: FeedServer) -> None:
    expected = server.publish(5)
    batches: list[list[str]] = []
    cursor = None
    for _ in range(4):
        items, cursor = fetch(server.url(), cursor, max_items=2)
        batches.append(ids(items))
    assert batches == [expected[:2], expected[2:4], expected[4:], []]
    assert server.requests[-1].headers.get("if-none-match")  # validators back once caught up


def test_gzip_feed_is_decompressed() -> None:
    with FeedServer(compress=True) as server:
        expected = server.publish(2)
        assert ids(fetch(server.url())[0]) == expected
        assert "gzip" in server.requests[-1].headers["accept-encoding"]


MALFORMED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Tom & Jerry's reviews</title>
<item><guid>r-1</guid><title>Fish & chips were cold</title></item>
</channel></rss>"""


SHORT_AND_LONG_GUIDS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Guids</title>
<item><guid>12345</guid><title>Permalink guid that is not a URL</title></item>
<item><guid isPermaLink="false">{"x" * 400}</guid><title>Very long guid</title></item>
</channel></rss>"""


def test_short_guid_stays_as_is_wherever_the_feed_lives(server: FeedServer) -> None:
    server.put("/guids", SHORT_AND_LONG_GUIDS.encode())
    server.redirects["/old-guids"] = (301, "/guids")
    direct, moved = fetch(server.url("/guids"))[0], fetch(server.url("/old-guids"))[0]
    assert ids(direct) == ids(moved)
    assert "12345" in ids(direct)


def test_guid_too_long_to_store_is_hashed_stably(server: FeedServer) -> None:
    url = server.put("/guids", SHORT_AND_LONG_GUIDS.encode())
    long_ids = [i for i in ids(fetch(url)[0]) if i.startswith("sha256:")]
    assert len(long_ids) == 1 and len(long_ids[0]) <= 300
    assert long_ids == [i for i in ids(fetch(url)[0]) if i.startswith("sha256:")]


def test_malformed_feed_with_entries_is_accepted(server: FeedServer) -> None:
    items, _ = fetch(server.put("/broken", MALFORMED))
    assert ids(items) == ["r-1"] and items[0].text == "Fish & chips were cold"


def test_unreadable_cursor_reads_the_feed_from_scratch(server: FeedServer) -> None:
    expected = server.publish(2)
    assert ids(fetch(server.url(), "{not json")[0]) == expected


def test_user_agent_is_configurable(server: FeedServer) -> None:
    fetch(server.url())
    assert server.requests[-1].headers["user-agent"].startswith("H2H/")
    fetch(server.url(), user_agent="ReviewBot/2.0")
    assert server.requests[-1].headers["user-agent"] == "ReviewBot/2.0"


def test_check_names_the_feed_and_counts_its_entries(server: FeedServer) -> None:
    server.publish(2)
    assert connector.check({"url": server.url("/atom")}, {}) == (
        "Feed “Отзывы о «Ромашке» & reviews”: 2 entries"
    )


def test_cursor_stays_bounded_however_long_the_feed_lives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rss, "SEEN_LIMIT", 4)
    with FeedServer(window=2) as server:
        cursor = None
        for _ in range(10):
            server.publish(1)
            _, cursor = fetch(server.url(), cursor)
        assert len(json.loads(cursor or "{}")["seen"]) == 4
