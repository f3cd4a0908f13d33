"""A support mailbox: IMAP polling in, SMTP replies out.

Cursor: ``"<UIDVALIDITY>:<last UID read>"``. A UID means something only together with the
folder's UIDVALIDITY; when the server changes it (the folder was recreated, the mailbox
migrated), old UIDs are not comparable any more, so the poll re-reads the folder from the
start and ingestion's unique (channel, external_id) turns the repeats into no-ops. Mail
without a Message-ID is identified by ``uid:<UIDVALIDITY>:<UID>`` and is the one case that
such a reset duplicates. An unreadable cursor is treated the same way as a reset.

Reading never changes the mailbox: the folder is EXAMINEd (read-only) and bodies are
fetched with BODY.PEEK, so mail stays unseen for the humans who also use the mailbox.

Auto-replies and bounces (Auto-Submitted, Precedence: bulk/junk/auto_reply, X-Autoreply,
mailer-daemon/postmaster senders, delivery reports) are skipped by default: no customer is
speaking, and answering them is how mail loops start. With ``include_auto_replies`` they
are returned instead, flagged with ``raw["auto_reply"]`` (the reason).

``text`` is what the customer wrote this time: quoted history (``>`` lines, and everything
from an "On ... wrote:" / "... написал(а):" / Outlook "From:/Sent:" header on) is cut;
``raw["text"]`` keeps the whole body. Replies are not appended to an IMAP "Sent" folder:
many providers file SMTP submissions there themselves and a second copy would be noise.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, ClassVar

from imap_tools import (
    BaseMailBox,
    ImapToolsError,
    MailBox,
    MailboxLoginError,
    MailBoxUnencrypted,
    UnexpectedCommandStatusError,
)

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

SECURITY_MODES = ("ssl", "starttls", "plain")
_DEFAULT_PORTS = {
    "imap": {"ssl": 993, "starttls": 143, "plain": 143},
    "smtp": {"ssl": 465, "starttls": 587, "plain": 25},
}
DEFAULT_BATCH_LIMIT = 200
DEFAULT_TIMEOUT = 30.0
_FETCH_CHUNK = 20  # messages per UID FETCH: bounds memory when mails carry big attachments
# Login refusals that mean "later", not "wrong password" (RFC 5530 response codes).
_TRANSIENT_LOGIN_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]", "[THROTTLED]")
_RAW_HEADERS = (
    *("from", "to", "cc", "reply-to", "subject", "date"),
    *("message-id", "in-reply-to", "references"),
)
_AUTO_HEADERS = ("auto-submitted", "precedence", "x-autoreply", "x-autorespond")
_HEADERS = frozenset(_RAW_HEADERS + _AUTO_HEADERS)


@dataclass(frozen=True)
class _Endpoint:
    host: str
    port: int
    security: str
    username: str
    password: str
    timeout: float
    tls_ca: str | None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        # ``tls_ca`` (PEM) lets a self-hosted server with its own CA be trusted without
        # turning verification off.
        return ssl.create_default_context(cadata=self.tls_ca)


@dataclass(frozen=True)
class _Cursor:
    uidvalidity: int
    uid: int

    @classmethod
    def parse(cls, value: str | None) -> _Cursor | None:
        if not value:
            return None
        validity, _, uid = value.partition(":")
        try:
            return cls(int(validity), int(uid))
        except ValueError:
            log.warning("unreadable email cursor %r: reading the folder from the start", value)
            return None

    def __str__(self) -> str:
        return f"{self.uidvalidity}:{self.uid}"


@dataclass(frozen=True)
class _Fetched:
    uid: int
    internaldate: datetime | None
    message: Message


@dataclass(frozen=True)
class _Folder:
    name: str
    uidvalidity: int
    own_address: str
    include_auto_replies: bool


class EmailConnector:
    """IMAP in, SMTP out.

    config: imap_host, imap_port (993 for ssl, else 143), imap_security ("ssl" | "starttls" |
    "plain", default "ssl"), folder ("INBOX"), batch_limit (200), include_auto_replies
    (false), smtp_host, smtp_port (465 / 587 / 25), smtp_security ("ssl"), from_address,
    from_name, timeout (30 s), tls_ca (PEM of a private CA, optional).
    secrets: username, password; smtp_username / smtp_password default to them.
    """

    kind: ClassVar[ChannelKind] = ChannelKind.EMAIL

    def fetch(
        self, config: Mapping[str, Any], secrets: Mapping[str, str], cursor: str | None
    ) -> FetchResult:
        """Read up to ``batch_limit`` mails with a UID above the cursor's."""
        imap = _endpoint(config, secrets, "imap")
        folder = str(config.get("folder") or "INBOX")
        limit = max(1, _int(config, "batch_limit", DEFAULT_BATCH_LIMIT))
        previous = _Cursor.parse(cursor)
        with _imap_session(imap) as mailbox:
            uidvalidity = _select(mailbox, folder).get("UIDVALIDITY", 0)
            same = previous is not None and previous.uidvalidity == uidvalidity
            after = previous.uid if previous is not None and same else 0
            uids = _uids_after(mailbox, after)[:limit]
            fetched = list(_fetch(mailbox, uids))
        context = _Folder(
            name=folder,
            uidvalidity=uidvalidity,
            own_address=str(config.get("from_address") or "").strip().lower(),
            include_auto_replies=_flag(config.get("include_auto_replies")),
        )
        items = [item for item in (_to_raw_safely(f, context) for f in fetched) if item]
        next_cursor = _Cursor(uidvalidity, uids[-1] if uids else after)
        return FetchResult(items=items, cursor=str(next_cursor))

    def check(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        """Log in to IMAP (and SMTP when configured); the folder's size on success."""
        imap = _endpoint(config, secrets, "imap")
        folder = str(config.get("folder") or "INBOX")
        with _imap_session(imap) as mailbox:
            status = _select(mailbox, folder)
        summary = f"{folder}: {status.get('MESSAGES', 0)} messages"
        if config.get("smtp_host"):
            smtp = _endpoint(config, secrets, "smtp")
            with _smtp_session(smtp) as client:
                client.noop()
            summary += f"; SMTP {smtp.where} OK"
        return summary

    def send(self, config: Mapping[str, Any], secrets: Mapping[str, str], reply: Reply) -> str:
        """Send ``reply`` as a mail in its thread; the new Message-ID, without <>."""
        smtp = _endpoint(config, secrets, "smtp")
        message = _reply_message(config, reply)
        with _smtp_session(smtp) as client:
            client.send_message(message)
        return str(message["Message-ID"]).strip().strip("<>")


# --- settings -------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    if isinstance(value, str):  # a form may hand over "false"
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"{key} must be a number, not {value!r}", retryable=False) from None


def _endpoint(config: Mapping[str, Any], secrets: Mapping[str, str], prefix: str) -> _Endpoint:
    host = str(config.get(f"{prefix}_host") or "").strip()
    if not host:
        raise ConnectorError(f"{prefix}_host is not set", retryable=False)
    security = str(config.get(f"{prefix}_security") or "ssl").lower()
    if security not in SECURITY_MODES:
        raise ConnectorError(
            f"{prefix}_security must be one of {', '.join(SECURITY_MODES)}", retryable=False
        )
    username = secrets.get("username", "")
    password = secrets.get("password", "")
    if prefix == "smtp":
        username = secrets.get("smtp_username") or username
        password = secrets.get("smtp_password") or password
    elif not (username and password):
        raise ConnectorError("the IMAP username and password are not set", retryable=False)
    try:
        timeout = float(config.get("timeout") or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        raise ConnectorError("timeout must be a number of seconds", retryable=False) from None
    return _Endpoint(
        host=host,
        port=_int(config, f"{prefix}_port", _DEFAULT_PORTS[prefix][security]),
        security=security,
        username=username,
        password=password,
        timeout=timeout,
        tls_ca=config.get("tls_ca") or None,
    )


# --- IMAP -----------------------------------------------------------------------------


@contextmanager
def _imap_session(endpoint: _Endpoint) -> Iterator[BaseMailBox]:
    """A logged-in mailbox; every IMAP failure inside comes out as a ConnectorError."""
    try:
        mailbox: BaseMailBox
        if endpoint.security == "ssl":
            mailbox = MailBox(
                endpoint.host,
                endpoint.port,
                timeout=endpoint.timeout,
                ssl_context=endpoint.tls_context(),
            )
        else:
            mailbox = MailBoxUnencrypted(endpoint.host, endpoint.port, timeout=endpoint.timeout)
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
        raise _imap_error(endpoint, exc) from exc
    done = False
    try:
        if endpoint.security == "starttls":
            # Not MailBoxStartTls: it leaks the socket when STARTTLS is refused.
            mailbox.client.starttls(ssl_context=endpoint.tls_context())
        user, password = endpoint.username, endpoint.password
        if (user + password).isascii():
            mailbox.login(user, password, initial_folder=None)
        else:  # LOGIN is ASCII-only in imaplib; AUTHENTICATE PLAIN carries UTF-8
            mailbox.login_utf8(user, password, initial_folder=None)
        yield mailbox
        done = True
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
        raise _imap_error(endpoint, exc) from exc
    finally:
        _close_imap(mailbox, polite=done)


def _close_imap(mailbox: BaseMailBox, *, polite: bool) -> None:
    # After a failure the server may be gone or stalled: a LOGOUT would only wait out the
    # timeout, so just free the socket.
    if polite:
        with suppress(Exception):
            mailbox.client.logout()
            return
    with suppress(Exception):
        mailbox.client.shutdown()


def _imap_error(endpoint: _Endpoint, exc: Exception) -> ConnectorError:
    where = f"IMAP {endpoint.where}"
    if isinstance(exc, UnexpectedCommandStatusError):
        status, detail = exc.command_result[0], _response_text(exc.command_result[1])
        if isinstance(exc, MailboxLoginError):
            transient = any(code in detail.upper() for code in _TRANSIENT_LOGIN_CODES)
            return ConnectorError(f"{where}: login refused: {detail}", retryable=transient)
        return ConnectorError(f"{where}: server answered {status}: {detail}", retryable=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectorError(f"{where}: TLS certificate not trusted: {exc}", retryable=False)
    # Refused connections, timeouts, dropped sockets, NO/BAD on SELECT or FETCH.
    return ConnectorError(f"{where}: {exc}", retryable=True)


def _response_text(data: Any) -> str:
    items = data if isinstance(data, list | tuple) else [data]
    return " ".join(
        item.decode(errors="replace") if isinstance(item, bytes) else str(item) for item in items
    )


def _select(mailbox: BaseMailBox, folder: str) -> dict[str, int]:
    mailbox.folder.set(folder, readonly=True)  # EXAMINE: reading must not touch \Recent
    return mailbox.folder.status(folder, ("MESSAGES", "UIDVALIDITY"))


def _uids_after(mailbox: BaseMailBox, after: int) -> list[int]:
    # "n:*" also matches the highest UID when it is below n, hence the filter.
    return sorted(uid for uid in map(int, mailbox.uids(f"UID {after + 1}:*")) if uid > after)


def _fetch(mailbox: BaseMailBox, uids: list[int]) -> Iterator[_Fetched]:
    for start in range(0, len(uids), _FETCH_CHUNK):
        uid_set = ",".join(str(uid) for uid in uids[start : start + _FETCH_CHUNK])
        typ, data = mailbox.client.uid("FETCH", uid_set, "(UID INTERNALDATE BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH {typ}: {_response_text(data)}")
        yield from _split_fetch(data)


def _split_fetch(data: list[Any]) -> Iterator[_Fetched]:
    """imaplib returns (head, literal) tuples, each followed by bytes closing the response."""
    parts: list[tuple[bytes, bytes]] = []
    for item in data:
        if isinstance(item, tuple):
            parts.append((item[0], item[1]))
        elif isinstance(item, bytes) and parts:
            parts[-1] = (parts[-1][0] + b" " + item, parts[-1][1])
    for head, body in parts:
        uid = re.search(rb"\bUID (\d+)", head)
        if uid is None:
            continue
        internaldate = re.search(rb'INTERNALDATE "([^"]+)"', head)
        yield _Fetched(
            uid=int(uid.group(1)),
            internaldate=_parse_internaldate(internaldate.group(1)) if internaldate else None,
            message=message_from_bytes(body),
        )


def _parse_internaldate(value: bytes) -> datetime | None:
    try:
        parsed = datetime.strptime(value.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


# --- mail to RawMessage ---------------------------------------------------------------


def _to_raw_safely(item: _Fetched, folder: _Folder) -> RawMessage | None:
    """Never let one mail stop the channel: its UID would block the cursor for good."""
    try:
        return _to_raw(item, folder)
    except Exception as exc:
        log.exception("mail uid %s in %s could not be read", item.uid, folder.name)
        external_id = f"uid:{folder.uidvalidity}:{item.uid}"
        return RawMessage(
            external_id=external_id,
            text="",
            created_at=item.internaldate or datetime.now(UTC),
            author=Author(handle="unknown-sender"),
            thread_id=external_id,
            raw={"uid": item.uid, "folder": folder.name, "error": _clean(repr(exc))},
        )


def _read_headers(message: Message) -> tuple[dict[str, str], dict[str, str]]:
    """The headers we use, decoded, and as they came (address parsing needs those)."""
    decoded: dict[str, str] = {}
    undecoded: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in _HEADERS and key not in decoded:
            decoded[key] = _header_text(value)
            undecoded[key] = value
    return decoded, undecoded


def _to_raw(item: _Fetched, folder: _Folder) -> RawMessage | None:
    message = item.message
    headers, undecoded = _read_headers(message)
    name, address = _sender(undecoded.get("from", ""))
    auto_reply = _auto_reply_reason(headers, address, message.get_content_type())
    if auto_reply and not folder.include_auto_replies:
        log.info("skipping mail uid %s in %s: %s", item.uid, folder.name, auto_reply)
        return None
    own_id = _message_ids(headers.get("message-id", ""))
    external_id = own_id[0] if own_id else f"uid:{folder.uidvalidity}:{item.uid}"
    references = _message_ids(headers.get("references", ""))
    in_reply_to = _message_ids(headers.get("in-reply-to", ""))
    plain, html = _bodies(message)
    body = plain or html_to_text(html)
    raw: dict[str, Any] = {
        "uid": item.uid,
        "uidvalidity": folder.uidvalidity,
        "folder": folder.name,
        "subject": headers.get("subject", ""),
        "headers": {key: headers[key] for key in _RAW_HEADERS if key in headers},
        "text": body,
        "html": html,
        "attachments": _attachments(message),
    }
    if auto_reply:
        raw["auto_reply"] = auto_reply
    handle = address or headers.get("from", "").lower() or "unknown-sender"
    # Contact forms send from our own address with the customer in Reply-To: not ours.
    reply_to = _sender(undecoded.get("reply-to", ""))[1]
    outbound = bool(address) and address == folder.own_address and reply_to in ("", address)
    return RawMessage(
        external_id=external_id,
        text=strip_quoted(body),
        created_at=_parse_date(headers.get("date", "")) or item.internaldate or datetime.now(UTC),
        author=Author(handle=handle, name=name or None),
        thread_id=(references or in_reply_to or [external_id])[0],
        parent_id=in_reply_to[0] if in_reply_to else None,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        raw=raw,
    )


def _clean(text: str) -> str:
    # PostgreSQL stores neither NUL nor lone surrogates (left by undecodable 8-bit headers).
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _decode_bytes(data: bytes, charset: str | None) -> str:
    if charset and charset.lower() not in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        with suppress(LookupError):
            return _clean(data.decode(charset, errors="replace"))
    try:
        return _clean(data.decode("utf-8"))
    except UnicodeDecodeError:  # undeclared 8-bit Russian mail is nearly always Windows-1251
        return _clean(data.decode("cp1251", errors="replace"))


def _unescape_8bit(value: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them as text."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return _decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def _header_text(value: Any) -> str:
    text = _unescape_8bit(str(value))
    if "=?" in text:
        try:
            chunks = decode_header(text)
        except Exception:  # a broken encoded-word: keep the header as it came
            chunks = [(text, None)]
        text = "".join(
            chunk
            if isinstance(chunk, str)
            else _decode_bytes(chunk, charset)
            if charset
            else chunk.decode("raw-unicode-escape", errors="replace")
            for chunk, charset in chunks
        )
    return _clean(" ".join(text.split()))


def _sender(raw_from: str) -> tuple[str, str]:
    for name, address in getaddresses([_unescape_8bit(raw_from)]):
        if "@" in address:
            return _header_text(name), address.strip().lower()
    return "", ""


def _message_ids(value: str) -> list[str]:
    found = re.findall(r"<([^<>\s]+)>", value)
    if not found and "@" in value and len(value.split()) == 1:
        found = [value.strip()]  # some mailers forget the angle brackets
    return found


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": the time is UTC, the zone unknown
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _auto_reply_reason(headers: Mapping[str, str], sender: str, content_type: str) -> str | None:
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("bulk", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("x-autoreply", "x-autorespond"):
        if header in headers:
            return f"{header}: {headers[header]}"
    if sender.partition("@")[0] in ("mailer-daemon", "postmaster"):
        return f"bounce from {sender}"
    if content_type == "multipart/report":
        return "delivery report"
    return None


def _leaves(part: Message) -> Iterator[Message]:
    """Non-multipart parts; an attached message counts as one part, not as our body."""
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaves(sub)
    else:
        yield part


def _is_attachment(part: Message) -> bool:
    return (
        part.get_content_disposition() == "attachment"
        or bool(part.get_filename())
        or part.get_content_type() == "message/rfc822"
    )


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset()).replace("\r\n", "\n")


def _bodies(message: Message) -> tuple[str, str]:
    plain: list[str] = []
    html: list[str] = []
    for part in _leaves(message):
        if _is_attachment(part):
            continue
        if part.get_content_type() == "text/plain":
            plain.append(_part_text(part))
        elif part.get_content_type() == "text/html":
            html.append(_part_text(part))
    return "\n".join(plain).strip(), "\n".join(html)


def _attachments(message: Message) -> list[dict[str, Any]]:
    found = []
    for part in _leaves(message):
        if not _is_attachment(part):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            subparts = part.get_payload() or []
            payload = b"".join(sub.as_bytes() for sub in subparts if isinstance(sub, Message))
        found.append(
            {
                "filename": _header_text(part.get_filename() or ""),
                "content_type": part.get_content_type(),
                "size": len(payload),
            }
        )
    return found


class _HtmlText(HTMLParser):
    """HTML to plain lines; blockquote content comes out as "> " lines, like a plain quote."""

    _BLOCKS = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer"}
        | {"form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav"}
        | {"ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"}
    )
    _HIDDEN = frozenset({"head", "script", "style", "template", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._words: list[str] = []
        self._hidden = 0
        self._quote = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden = 0  # an unclosed <head> must not hide the whole mail
        elif tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.newline()
        self._quote += tag == "blockquote"
        self._pre += tag == "pre"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/> is one line break, not two

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.newline()
        if tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            self._words.append(data)
            return
        first, *rest = data.split("\n")
        self._words.append(first)
        for line in rest:
            self.newline()
            self._words.append(line)

    def newline(self) -> None:
        text = "".join(self._words)
        self._words = []
        text = text.rstrip() if self._pre else " ".join(text.split())
        self.lines.append("> " * self._quote + text if text else "")


def html_to_text(html: str) -> str:
    """Readable text from an HTML mail body (standard library only)."""
    if not html:
        return ""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    parser.newline()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(parser.lines)).strip()


# "On <date> Ivan <i@x> wrote:", "<дата>, Иван <i@x> написал(а):", "<дата>, Иван <i@x>:" (the
# Russian Gmail and Yandex form), "... пишет:" (Thunderbird).
_ATTRIBUTION = re.compile(
    r"(?:\b(?:wrote|написал(?:\(а\)|а)?|пишет)|<[^<>\s]+@[^<>\s]+>)\s*:\s*$", re.IGNORECASE
)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(?:original message|исходное сообщение)\s*-{2,}", re.I)
# A forwarded mail is what the customer wants us to read, not history to hide.
_FORWARDED = re.compile(r"forwarded message|пересылаемое сообщение|пересланное сообщение", re.I)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|от)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(?:sent|date|to|отправлено|дата|кому)\s*:", re.IGNORECASE)


def _is_attribution(line: str) -> bool:
    # A real attribution carries a date, so "Мой муж написал:" alone does not cut the mail.
    return bool(_ATTRIBUTION.search(line)) and any(char.isdigit() for char in line)


def _history_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _FORWARDED.search(line):
            break
        if _is_attribution(line) or _ORIGINAL.match(line):
            return i
        if _OUTLOOK_FROM.match(line) and _OUTLOOK_NEXT.match(following):
            return i
        # Gmail wraps a long attribution: "On Tue, 5 Mar 2024, Ivan <\nivan@x.ru> wrote:".
        wrapped = not line.rstrip().endswith((".", "!", "?")) and not _is_attribution(following)
        if following and wrapped and _is_attribution(f"{line} {following}"):
            return i
    return len(lines)


def strip_quoted(text: str) -> str:
    """The new part of a reply: without '>' lines and the quoted history below them."""
    lines = text.splitlines()
    kept = [line for line in lines[: _history_start(lines)] if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip() or text.strip()


# --- SMTP -----------------------------------------------------------------------------


@contextmanager
def _smtp_session(endpoint: _Endpoint) -> Iterator[smtplib.SMTP]:
    """A connected (and, when the server offers AUTH, logged-in) SMTP client."""
    try:
        client: smtplib.SMTP
        if endpoint.security == "ssl":
            client = smtplib.SMTP_SSL(
                endpoint.host,
                endpoint.port,
                timeout=endpoint.timeout,
                context=endpoint.tls_context(),
            )
        else:
            client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=endpoint.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise _smtp_error(endpoint, exc) from exc
    try:
        client.ehlo()
        if endpoint.security == "starttls":
            client.starttls(context=endpoint.tls_context())
            client.ehlo()
        if endpoint.username and endpoint.password and client.has_extn("auth"):
            _smtp_login(client, endpoint.username, endpoint.password)
        yield client
    except (OSError, smtplib.SMTPException) as exc:
        raise _smtp_error(endpoint, exc) from exc
    finally:
        try:
            client.quit()
        except Exception:  # the mail is already accepted or already failed; just free the socket
            client.close()


def _smtp_login(client: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        client.login(username, password)
        return
    # smtplib encodes credentials as ASCII; AUTH PLAIN itself is UTF-8 (RFC 4616).
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    code, response = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, response)


def _smtp_error(endpoint: _Endpoint, exc: Exception) -> ConnectorError:
    where = f"SMTP {endpoint.where}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return ConnectorError(
            f"{where}: recipient refused: {exc.recipients}",
            retryable=all(400 <= code < 500 for code in codes),  # greylisting
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = _response_text(exc.smtp_error)
        return ConnectorError(f"{where}: {exc.smtp_code} {detail}", retryable=exc.smtp_code < 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
        return ConnectorError(f"{where}: {exc}", retryable=False)
    return ConnectorError(f"{where}: {exc}", retryable=True)


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|отв|ответ)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE
)


def reply_subject(subject: str | None) -> str:
    """'Re: ' exactly once, whatever prefixes the thread has piled up."""
    base = _REPLY_PREFIX.sub("", " ".join((subject or "").split()))
    return f"Re: {base}" if base else "Re:"


def _is_message_id(value: str | None) -> bool:
    # uid:... ids of mails that had no Message-ID are ours, not something to put in headers.
    return bool(value) and re.fullmatch(r"[^<>\s]+@[^<>\s]+", value or "") is not None


def _from_name(config: Mapping[str, Any], reply: Reply) -> str:
    """The From name: the agent who answers, with the mailbox's own name after it."""
    mailbox = str(config.get("from_name") or "").strip()
    if reply.sender_name and mailbox:
        return f"{reply.sender_name} ({mailbox})"
    return reply.sender_name or mailbox


def _reply_message(config: Mapping[str, Any], reply: Reply) -> EmailMessage:
    from_address = str(config.get("from_address") or "").strip()
    to_address = reply.to_handle.strip()
    for key, value in (("from_address", from_address), ("recipient", to_address)):
        if not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", value):
            raise ConnectorError(f"{key} is not an email address: {value!r}", retryable=False)
    message = EmailMessage()
    try:
        message["From"] = Address(_from_name(config, reply), addr_spec=from_address)
    except ValueError as exc:
        raise ConnectorError(f"from_address: {exc}", retryable=False) from exc
    message["To"] = to_address
    replying = bool(reply.in_reply_to or reply.thread_id)
    # A new mail (a staff notification, a digest) answers nothing: no "Re:" in front.
    message["Subject"] = reply_subject(reply.subject) if replying else (reply.subject or "")
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = from_address.rpartition("@")[2]
    # One reply keeps one Message-ID however often it is retried: mail clients drop copies.
    message["Message-ID"] = (
        f"<h2h.{re.sub(r'[^A-Za-z0-9.-]', '', reply.key)}@{domain}>"
        if reply.key
        else make_msgid(domain=domain)
    )
    if _is_message_id(reply.in_reply_to):
        message["In-Reply-To"] = f"<{reply.in_reply_to}>"
    references = dict.fromkeys(i for i in (reply.thread_id, reply.in_reply_to) if _is_message_id(i))
    if references:
        message["References"] = " ".join(f"<{i}>" for i in references)
    message.set_content(reply.text, cte="base64")
    if reply.html:
        message.add_alternative(reply.html, subtype="html", cte="base64")
    return message


register(EmailConnector())
