"""The email connector against a real Dovecot (IMAP) and aiosmtpd (SMTP) on loopback.

Dovecot starts once per module; every test gets its own mailbox user, so tests never see
each other's mail. See tests/channels/fakes/mailserver.py for how the servers run.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from h2h.channels.connectors.base import (
    ChannelKind,
    ConnectorError,
    Direction,
    RawMessage,
    Reply,
    ReplyingConnector,
    get_connector,
)
from h2h.channels.connectors.email import EmailConnector, reply_subject
from tests.channels.contract import *  # noqa: F403 - the shared contract tests
from tests.channels.fakes.mailserver import (
    DOVECOT_MISSING,
    HOST,
    Dovecot,
    FaultProxy,
    SmtpSink,
    dovecot_binary,
    free_port,
)

MSK = timezone(timedelta(hours=3))
SENT_AT = datetime(2026, 11, 20, 10, 30, tzinfo=MSK)
_user_numbers = itertools.count(1)


@dataclass
class MailServers:
    dovecot: Dovecot
    proxy: FaultProxy
    smtp: dict[str, SmtpSink]  # by security: "plain", and "starttls"/"ssl" when TLS works


@pytest.fixture(scope="module")
def servers() -> Iterator[MailServers]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip(DOVECOT_MISSING)
    root = Path(tempfile.mkdtemp(prefix="h2h-dovecot-"))
    root.chmod(0o755)  # the mail user (nobody, when the suite runs as root) must reach it
    running: list[Dovecot | FaultProxy | SmtpSink] = []
    try:
        dovecot = Dovecot(binary, root)
        dovecot.start()
        running.append(dovecot)
        proxy = FaultProxy(dovecot.imap_port)
        proxy.start()
        running.append(proxy)
        sinks: dict[str, SmtpSink] = {}
        for security in ("plain", "starttls", "ssl") if dovecot.tls else ("plain",):
            sinks[security] = SmtpSink(security, dovecot.tls)
            sinks[security].start()
            running.append(sinks[security])
        yield MailServers(dovecot, proxy, sinks)
    finally:
        for server in reversed(running):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def mail(
    *,
    subject: str = "Вопрос по заказу №1024",
    body: str | None = "Здравствуйте! Заказ ещё не пришёл, подскажите, где он?",
    html: str | None = None,
    sender: str = "Иван Петров <Ivan.Petrov@Example.RU>",
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """An RFC 5322 mail as a mail client writes it (UTF-8, MIME-encoded headers)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Поддержка <support@shop.test>"
    message["Subject"] = subject
    message["Date"] = SENT_AT
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None and body is not None:
        message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message.as_bytes()


def new_id() -> str:
    return make_msgid(domain="customer.test")[1:-1]


@dataclass
class EmailHarness:
    servers: MailServers
    user: str
    password: str
    connector: EmailConnector = field(default_factory=EmailConnector)
    config: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.servers.dovecot.set_password(self.user, self.password)
        for sink in self.servers.smtp.values():
            sink.credentials[self.user] = self.password
        self.config = {
            "imap_host": HOST,
            "imap_port": self.servers.proxy.port,
            "imap_security": "plain",
            "smtp_host": HOST,
            "smtp_port": self.servers.smtp["plain"].port,
            "smtp_security": "plain",
            "from_address": f"{self.user}@support.test",
            "from_name": "Анна Смирнова",
            "timeout": 5,
        }
        self.secrets = {"username": self.user, "password": self.password}

    def deliver(
        self, *messages: bytes, folder: str = "INBOX", received: datetime | None = None
    ) -> None:
        self.servers.dovecot.deliver(self.user, list(messages), folder, received)

    def publish(self, count: int) -> list[str]:
        ids = [new_id() for _ in range(count)]
        self.deliver(*(mail(message_id=i, subject=f"Вопрос №{n}") for n, i in enumerate(ids)))
        return ids

    def fail_next(self, kind: str) -> None:
        self.servers.proxy.fail_next({"server": "reset", "rate_limit": "limit"}[kind])

    def break_credentials(self) -> None:
        self.servers.dovecot.set_password(self.user, f"rotated-{self.password}")

    def sent(self) -> list[Mapping[str, Any]]:
        sinks = self.servers.smtp.values()
        mine = self.config["from_address"]
        return [m for sink in sinks for m in sink.messages if m["mail_from"] == mine]

    def fetch(self, cursor: str | None = None, **config: Any) -> tuple[list[RawMessage], str]:
        result = self.connector.fetch({**self.config, **config}, self.secrets, cursor)
        assert result.cursor is not None
        return result.items, result.cursor

    def only(self, message: bytes, **config: Any) -> RawMessage:
        self.deliver(message)
        items, _ = self.fetch(**config)
        assert len(items) == 1
        return items[0]

    def failure(self, **config: Any) -> ConnectorError:
        with pytest.raises(ConnectorError) as caught:
            self.connector.fetch({**self.config, **config}, self.secrets, None)
        return caught.value


@pytest.fixture
def harness(servers: MailServers) -> EmailHarness:
    user = f"agent{next(_user_numbers)}"
    return EmailHarness(servers, user, f"secret-{user}")


def test_connector_is_registered_for_email_channels_and_replies() -> None:
    connector = get_connector(ChannelKind.EMAIL)
    assert isinstance(connector, EmailConnector)
    assert isinstance(connector, ReplyingConnector)


def test_mail_is_mapped_with_sender_subject_and_utc_date(harness: EmailHarness) -> None:
    item = harness.only(mail(message_id="q1@customer.test"))
    assert item.external_id == "q1@customer.test"
    assert item.thread_id == "q1@customer.test" and item.parent_id is None
    assert item.author.handle == "ivan.petrov@example.ru"
    assert item.author.name == "Иван Петров"
    assert item.created_at == SENT_AT and item.created_at.tzinfo == UTC
    assert item.text == "Здравствуйте! Заказ ещё не пришёл, подскажите, где он?"
    assert item.direction is Direction.INBOUND
    assert item.raw["subject"] == "Вопрос по заказу №1024"
    assert item.raw["headers"]["to"] == "Поддержка <support@shop.test>"
    assert item.raw["headers"]["message-id"] == "<q1@customer.test>"
    json.dumps(dict(item.raw))


def test_threading_follows_message_id_in_reply_to_and_references(harness: EmailHarness) -> None:
    ours = harness.config["from_address"]
    harness.deliver(
        mail(message_id="q1@customer.test", subject="Не работает оплата"),
        mail(
            message_id="r1@support.test",
            subject="Re: Не работает оплата",
            sender=f"Анна Смирнова <{ours}>",
            headers={"In-Reply-To": "<q1@customer.test>", "References": "<q1@customer.test>"},
        ),
        mail(
            message_id="q2@customer.test",
            subject="Re: Re: Не работает оплата",
            headers={
                "In-Reply-To": "<r1@support.test>",
                "References": "<q1@customer.test> <r1@support.test>",
            },
        ),
    )
    items, _ = harness.fetch()
    assert [i.external_id for i in items] == [
        "q1@customer.test",
        "r1@support.test",
        "q2@customer.test",
    ]
    assert {i.thread_id for i in items} == {"q1@customer.test"}
    assert [i.parent_id for i in items] == [None, "q1@customer.test", "r1@support.test"]
    assert [i.direction for i in items] == [
        Direction.INBOUND,
        Direction.OUTBOUND,
        Direction.INBOUND,
    ]


def test_contact_form_mail_from_our_own_address_is_still_inbound(harness: EmailHarness) -> None:
    ours = harness.config["from_address"]
    form = mail(sender=f"Форма на сайте <{ours}>", headers={"Reply-To": "ivan@example.ru"})
    item = harness.only(form)
    assert item.direction is Direction.INBOUND
    assert item.raw["headers"]["reply-to"] == "ivan@example.ru"


def test_html_only_mail_becomes_readable_text(harness: EmailHarness) -> None:
    html = (
        "<html><head><title>Письмо</title><style>p {color: red}</style></head><body>"
        "<p>Здравствуйте!</p><p>Не&nbsp;проходит <b>оплата</b> картой.<br>Заказ №1024</p>"
        '<div class="gmail_quote">вт, 17 нояб. 2026 г. в 12:00, Поддержка &lt;support@shop.test'
        "&gt;:<blockquote>Ваш заказ принят.</blockquote></div>"
        "<script>track()</script></body></html>"
    )
    item = harness.only(mail(body=None, html=html))
    assert item.text == "Здравствуйте!\n\nНе проходит оплата картой.\nЗаказ №1024"
    assert "> Ваш заказ принят." in item.raw["text"]
    assert item.raw["html"].startswith("<html>")


QUOTED = {
    "gmail_ru": "вт, 17 нояб. 2026 г. в 12:00, Анна Смирнова <support@shop.test>:",
    "apple_ru": "17 нояб. 2026 г., в 12:00, Анна Смирнова <support@shop.test> написал(а):",
    "thunderbird_ru": "17.11.2026 12:00, Анна Смирнова пишет:",
    "gmail_en_wrapped": "On Tue, 17 Nov 2026 at 12:00, Anna Smirnova <\nsupport@shop.test> wrote:",
    "outlook_ru": "От: Анна Смирнова <support@shop.test>\nОтправлено: 17 ноября 2026 г. 12:00",
    "outlook_separator": "-----Original Message-----\nFrom: support@shop.test",
}


@pytest.mark.parametrize("attribution", QUOTED.values(), ids=QUOTED.keys())
def test_quoted_history_is_stripped_from_text_but_kept_in_raw(
    harness: EmailHarness, attribution: str
) -> None:
    body = (
        f"Спасибо, всё пришло!\nИван\n\n{attribution}\n"
        "> Здравствуйте! Ваш заказ отправлен.\n> Трек-номер: RA123456789RU\n"
    )
    item = harness.only(mail(body=body))
    assert item.text == "Спасибо, всё пришло!\nИван"
    assert "> Трек-номер: RA123456789RU" in item.raw["text"]


def test_a_forwarded_mail_is_kept_whole(harness: EmailHarness) -> None:
    body = (
        "Посмотрите, пожалуйста, письмо ниже.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Магазин <orders@shop.test>\nDate: Tue, 17 Nov 2026 at 12:00\n"
        "Subject: Заказ №1024 оплачен\n\nСумма: 2 490 ₽\n"
    )
    assert harness.only(mail(body=body)).text == body.strip()


def test_interleaved_answers_keep_the_customers_lines(harness: EmailHarness) -> None:
    body = "> Какой у вас номер заказа?\n1024\n> Когда оформили?\nВчера вечером.\n"
    assert harness.only(mail(body=body)).text == "1024\nВчера вечером."


def _b64_header(text: str, charset: str) -> bytes:
    return f"=?{charset}?B?".encode() + base64.b64encode(text.encode(charset)) + b"?="


LEGACY = {
    "koi8-r": b"".join(
        [
            b"From: " + _b64_header("Пётр Сидоров", "koi8-r") + b" <petr@example.ru>\r\n",
            b"Subject: " + _b64_header("Возврат товара", "koi8-r") + b"\r\n",
            b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n",
            b"\r\n" + "Хочу вернуть чайник.\r\n".encode("koi8-r"),
        ]
    ),
    "windows-1251": b"".join(
        [
            b"From: " + _b64_header("Пётр Сидоров", "windows-1251") + b" <petr@example.ru>\r\n",
            b"Subject: =?windows-1251?Q?=C2=EE=E7=E2=F0=E0=F2_=F2=EE=E2=E0=F0=E0?=\r\n",
            b"Content-Type: text/plain; charset=windows-1251\r\n",
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            b"=D5=EE=F7=F3 =E2=E5=F0=ED=F3=F2=FC =F7=E0=E9=ED=E8=EA.\r\n",
        ]
    ),
    "undeclared-8bit-cp1251": b"".join(
        [
            b"From: " + "Пётр Сидоров".encode("cp1251") + b" <petr@example.ru>\r\n",
            b"Subject: " + "Возврат товара".encode("cp1251") + b"\r\n",
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n",
            b"\r\n" + "Хочу вернуть чайник.\r\n".encode("cp1251"),
        ]
    ),
}


@pytest.mark.parametrize("encoded", LEGACY.values(), ids=LEGACY.keys())
def test_legacy_russian_encodings_are_decoded(harness: EmailHarness, encoded: bytes) -> None:
    head = (
        b"To: support@shop.test\r\nDate: Fri, 20 Nov 2026 10:30:00 +0300\r\nMIME-Version: 1.0\r\n"
    )
    item = harness.only(head + encoded)
    assert item.author.name == "Пётр Сидоров"
    assert item.raw["subject"] == "Возврат товара"
    assert item.text == "Хочу вернуть чайник."


def test_mail_without_message_id_gets_a_stable_uid_based_id(harness: EmailHarness) -> None:
    harness.deliver(mail(), mail())
    first, _ = harness.fetch()
    again, _ = harness.fetch()
    uidvalidity = first[0].raw["uidvalidity"]
    expected = [f"uid:{uidvalidity}:1", f"uid:{uidvalidity}:2"]
    assert [i.external_id for i in first] == [i.external_id for i in again] == expected
    assert first[0].thread_id == expected[0]


@pytest.mark.parametrize("date", ["вчера вечером", "Mon, 45 Foo 2026 99:99:99 +9999", None])
def test_a_bad_or_missing_date_falls_back_to_the_arrival_time(
    harness: EmailHarness, date: str | None
) -> None:
    message = mail().replace(b"Date: Fri, 20 Nov 2026 10:30:00 +0300\n", b"")
    if date is not None:
        message = f"Date: {date}\n".encode() + message
    received = datetime(2026, 11, 21, 8, 15, tzinfo=MSK)
    harness.deliver(message, received=received)
    items, _ = harness.fetch()
    assert items[0].created_at == received and items[0].created_at.tzinfo == UTC


def test_uidvalidity_change_rereads_the_folder(harness: EmailHarness) -> None:
    with harness.servers.dovecot.imap(harness.user) as box:
        box.folder.create("Support")
    harness.deliver(*(mail(message_id=new_id()) for _ in range(3)), folder="Support")
    first, cursor = harness.fetch(folder="Support")
    assert len(first) == 3
    with harness.servers.dovecot.imap(harness.user) as box:
        box.folder.delete("Support")
        box.folder.create("Support")
    later = [new_id(), new_id()]  # UIDs 1 and 2 again: below the cursor's last UID
    harness.deliver(*(mail(message_id=i) for i in later), folder="Support")
    items, new_cursor = harness.fetch(cursor, folder="Support")
    assert [i.external_id for i in items] == later
    assert new_cursor.split(":")[0] != cursor.split(":")[0]


def test_batch_limit_reads_a_big_folder_over_several_polls(harness: EmailHarness) -> None:
    expected = harness.publish(5)
    cursor: str | None = None
    batches = []
    for _ in range(4):
        items, cursor = harness.fetch(cursor, batch_limit=2)
        batches.append([i.external_id for i in items])
    assert batches == [expected[:2], expected[2:4], expected[4:], []]


def test_reading_leaves_mail_unseen(harness: EmailHarness) -> None:
    harness.publish(2)
    harness.fetch()
    with harness.servers.dovecot.imap(harness.user) as box:
        box.folder.set("INBOX")
        flags = [m.flags for m in box.fetch(mark_seen=False)]
    # Not \Seen; and still \Recent, which a read-write SELECT would have taken.
    assert flags == [("\\Recent",), ("\\Recent",)]


def test_attachments_are_listed_by_name_and_size_not_read_as_text(harness: EmailHarness) -> None:
    message = EmailMessage()
    message["From"] = "ivan@example.ru"
    message["Subject"] = "Счёт"
    message.set_content("Счёт во вложении.")
    message.add_attachment(
        b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="счёт.pdf"
    )
    item = harness.only(message.as_bytes())
    assert item.text == "Счёт во вложении."
    assert item.raw["attachments"] == [
        {"filename": "счёт.pdf", "content_type": "application/pdf", "size": 13}
    ]


AUTO = {
    "vacation": {"Auto-Submitted": "auto-replied"},
    "bulk": {"Precedence": "bulk"},
    "autoreply_header": {"X-Autoreply": "yes"},
    "bounce": {"From": "Mail Delivery System <MAILER-DAEMON@mx.example.ru>"},
}


def _auto_mail(extra: Mapping[str, str]) -> bytes:
    sender = extra.get("From", "Иван Петров <ivan@example.ru>")
    headers = {k: v for k, v in extra.items() if k != "From"}
    return mail(message_id=new_id(), sender=sender, headers=headers)


def test_auto_replies_and_bounces_are_skipped_but_the_cursor_moves_on(
    harness: EmailHarness,
) -> None:
    person = new_id()
    harness.deliver(*(_auto_mail(extra) for extra in AUTO.values()))
    harness.deliver(mail(message_id=person, headers={"Auto-Submitted": "no"}))
    items, cursor = harness.fetch()
    assert [i.external_id for i in items] == [person]
    assert cursor.endswith(":5")


def test_auto_replies_can_be_included_flagged(harness: EmailHarness) -> None:
    harness.deliver(*(_auto_mail(extra) for extra in AUTO.values()))
    items, _ = harness.fetch(include_auto_replies=True)
    reasons = [i.raw["auto_reply"] for i in items]
    assert reasons == [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "x-autoreply: yes",
        "bounce from mailer-daemon@mx.example.ru",
    ]


def test_reply_is_a_threaded_mail_from_a_named_human(harness: EmailHarness) -> None:
    harness.deliver(
        mail(
            message_id="q2@customer.test",
            subject="Re: Вопрос по заказу",
            headers={"In-Reply-To": "<r1@support.test>", "References": "<q1@customer.test>"},
        )
    )
    item = harness.fetch()[0][0]
    reply = Reply(
        text="Иван, добрый день! Заказ передан в доставку.\n— Анна",
        to_handle=item.author.handle,
        thread_id=item.thread_id,
        in_reply_to=item.external_id,
        subject=item.raw["subject"],
    )
    message_id = harness.connector.send(harness.config, harness.secrets, reply)
    [sent] = harness.sent()
    headers = sent["headers"]
    assert headers["from"] == f"Анна Смирнова <{harness.config['from_address']}>"
    assert "From: =?utf-8?" in sent["data"]  # the name MIME-encoded, not raw 8-bit
    assert headers["to"] == "ivan.petrov@example.ru"
    assert headers["subject"] == "Re: Вопрос по заказу"
    assert headers["in-reply-to"] == "<q2@customer.test>"
    assert headers["references"] == "<q1@customer.test> <q2@customer.test>"
    assert headers["message-id"] == f"<{message_id}>" and message_id.endswith("@support.test")
    assert parsedate_to_datetime(headers["date"]).tzinfo is not None
    assert sent["text"] == reply.text + "\n"
    assert sent["rcpt_tos"] == ["ivan.petrov@example.ru"] and sent["login"] == harness.user


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Вопрос", "Re: Вопрос"),
        ("Re: Вопрос", "Re: Вопрос"),
        ("RE: re:Вопрос", "Re: Вопрос"),
        ("Re[2]: Ответ: Вопрос", "Re: Вопрос"),
        ("AW: Frage", "Re: Frage"),
        ("Reminder: оплата", "Re: Reminder: оплата"),
        (None, "Re:"),
    ],
)
def test_reply_subject_gets_re_exactly_once(subject: str | None, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_reply_without_thread_headers_still_sends(harness: EmailHarness) -> None:
    reply = Reply(text="Здравствуйте!", to_handle="ivan@example.ru", in_reply_to="uid:1:7")
    harness.connector.send(harness.config, harness.secrets, reply)
    [sent] = harness.sent()
    assert "in-reply-to" not in sent["headers"] and "references" not in sent["headers"]


def test_check_reports_the_folder_size_and_smtp(harness: EmailHarness) -> None:
    harness.publish(2)
    summary = harness.connector.check(harness.config, harness.secrets)
    assert summary == f"INBOX: 2 messages; SMTP {HOST}:{harness.config['smtp_port']} OK"


def test_non_ascii_passwords_log_in_to_imap_and_smtp(harness: EmailHarness) -> None:
    harness = EmailHarness(harness.servers, f"{harness.user}-ru", "пароль-ёжик")
    harness.publish(1)
    assert len(harness.fetch()[0]) == 1
    harness.connector.send(harness.config, harness.secrets, Reply("Да", "ivan@example.ru"))
    assert harness.sent()[0]["login"] == harness.user


def _tls_servers(harness: EmailHarness) -> None:
    if not harness.servers.dovecot.tls:
        pytest.skip("openssl is not installed: no certificate for the TLS tests")


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_connections_verify_the_server_certificate(
    harness: EmailHarness, security: str
) -> None:
    _tls_servers(harness)
    dovecot = harness.servers.dovecot
    harness.config |= {
        "imap_security": security,
        "imap_port": dovecot.imaps_port if security == "ssl" else dovecot.imap_port,
        "smtp_security": security,
        "smtp_port": harness.servers.smtp[security].port,
    }
    untrusted = harness.failure()
    assert not untrusted.retryable and "certificate" in str(untrusted)
    harness.config["tls_ca"] = dovecot.cert_pem
    assert harness.connector.check(harness.config, harness.secrets).startswith("INBOX: 0")
    harness.connector.send(harness.config, harness.secrets, Reply("Да", "ivan@example.ru"))
    assert [m["security"] for m in harness.sent()] == [security]


def test_stalled_imap_server_times_out_as_retryable(harness: EmailHarness) -> None:
    harness.servers.proxy.fail_next("stall")
    assert harness.failure(timeout=0.3).retryable


def test_refused_imap_connection_is_retryable(harness: EmailHarness) -> None:
    assert harness.failure(imap_port=free_port()).retryable


def test_missing_folder_is_retryable(harness: EmailHarness) -> None:
    error = harness.failure(folder="Архив")
    assert error.retryable and "NO: Mailbox doesn't exist: Архив" in str(error)


def test_throttled_login_is_retryable_unlike_a_wrong_password(harness: EmailHarness) -> None:
    harness.servers.proxy.fail_next("limit")
    throttled = harness.failure()
    assert throttled.retryable and "[LIMIT]" in str(throttled)
    harness.secrets["password"] = "wrong"
    refused = harness.failure()
    assert not refused.retryable and "[AUTHENTICATIONFAILED]" in str(refused)


def test_wrong_smtp_password_is_not_retried(harness: EmailHarness) -> None:
    harness.secrets["smtp_password"] = "wrong"
    with pytest.raises(ConnectorError) as caught:
        harness.connector.send(harness.config, harness.secrets, Reply("Да", "ivan@example.ru"))
    assert not caught.value.retryable and "535" in str(caught.value)


def test_smtp_server_down_is_retryable(harness: EmailHarness) -> None:
    harness.config["smtp_port"] = free_port()
    with pytest.raises(ConnectorError) as caught:
        harness.connector.send(harness.config, harness.secrets, Reply("Да", "ivan@example.ru"))
    assert caught.value.retryable


def test_missing_settings_are_not_retried(harness: EmailHarness) -> None:
    assert not harness.failure(imap_host="").retryable
    assert not harness.failure(imap_security="tls1.0").retryable
    with pytest.raises(ConnectorError) as caught:
        reply = Reply("Да", "not an address")
        harness.connector.send(harness.config, harness.secrets, reply)
    assert not caught.value.retryable
