"""Real mail servers on loopback for the email connector tests.

- ``Dovecot``: the Debian ``dovecot-imapd`` run as a child process (``dovecot -F``) with a
  private config in a temp directory: IMAP with STARTTLS and IMAPS on free ports, users in
  passwd-files (one per user), Maildir storage. Dovecot refuses to run mail sessions or
  its login processes as root, so under root mail belongs to ``nobody`` and the service
  users are the package's ``dovecot``/``dovenull``.
- ``FaultProxy``: a TCP proxy in front of Dovecot that can break the next connection
  (reset it, refuse the login with ``NO [LIMIT]`` as a throttling server does, or stall).
- ``SmtpSink``: an aiosmtpd server recording what it receives, with AUTH, optionally
  behind STARTTLS or implicit TLS.

Everything binds 127.0.0.1 and is stopped by its owner: warnings are errors in this suite,
so no socket, thread or child process may outlive its fixture.
"""

from __future__ import annotations

import grp
import os
import pwd
import selectors
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imap_tools import BaseMailBox, MailBoxUnencrypted

DOVECOT_MISSING = "Debian dovecot-imapd not installed: apt-get install dovecot-imapd"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def dovecot_binary() -> str | None:
    """The dovecot master, if the IMAP server of dovecot-imapd is installed beside it."""
    binary = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if binary and Path("/usr/lib/dovecot/imap").exists():
        return binary
    return None


def self_signed_certificate(directory: Path) -> tuple[Path, Path] | None:
    """(cert, key) for 127.0.0.1/localhost, or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key)]
        + ["-out", str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    return cert, key


def _accounts() -> dict[str, Any]:
    """Who Dovecot's processes and mail files run as."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        return {
            "internal": me,
            "login": me,
            "group": group,
            "uid": os.geteuid(),
            "gid": os.getegid(),
        }

    def known(name: str) -> str:
        with suppress(KeyError):
            return pwd.getpwnam(name).pw_name
        return "nobody"

    internal = known("dovecot")
    nobody = pwd.getpwnam("nobody")
    return {
        "internal": internal,
        "login": known("dovenull"),
        "group": grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name,
        "uid": nobody.pw_uid,
        "gid": nobody.pw_gid,
    }


class Dovecot:
    """A private Dovecot on loopback; ``root`` must be traversable by the mail user."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.passwords: dict[str, str] = {}
        self.tls = self_signed_certificate(root)
        self._process: subprocess.Popen[bytes] | None = None
        self._passwd = root / "passwd"  # one file per user: a new user needs no reload
        self._passwd.mkdir()

    @property
    def cert_pem(self) -> str:
        return self.tls[0].read_text() if self.tls else ""

    def start(self) -> None:
        accounts = _accounts()
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, accounts["uid"], accounts["gid"])
        config = self.root / "dovecot.conf"
        config.write_text(self._config(accounts))
        with open(self.root / "stderr.log", "wb") as stderr:
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
        self._wait_ready()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _config(self, accounts: dict[str, Any]) -> str:
        root = self.root
        tls = (
            f"ssl = yes\nssl_cert = <{self.tls[0]}\nssl_key = <{self.tls[1]}\n"
            if self.tls
            else "ssl = no\n"
        )
        return f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {HOST}
{tls}disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests fail logins on purpose: no delay, and no per-IP penalty (anvil below).
auth_failure_delay = 0
default_internal_user = {accounts["internal"]}
default_internal_group = {accounts["group"]}
default_login_user = {accounts["login"]}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = {self._passwd}/%u
}}
userdb {{
  driver = static
  args = uid={accounts["uid"]} gid={accounts["gid"]} home={root}/mail/%u
}}
# chroot needs root; without it Dovecot also runs as an ordinary user.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port if self.tls else 0}
    ssl = yes
  }}
}}
"""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                break
            with suppress(OSError), socket.create_connection((HOST, self.imap_port), 1) as probe:
                if probe.recv(64).startswith(b"* OK"):
                    return
            time.sleep(0.05)
        logs = [(self.root / name) for name in ("stderr.log", "dovecot.log")]
        detail = "\n".join(path.read_text() for path in logs if path.exists())
        self.stop()
        raise RuntimeError(f"dovecot did not start:\n{detail}")

    def set_password(self, user: str, password: str) -> None:
        """Create ``user`` or change their password; Dovecot sees it at the next login."""
        rotating = user in self.passwords
        self.passwords[user] = password
        path = self._passwd / user
        path.write_text(f"{user}:{{PLAIN}}{password}\n")
        if rotating:
            # Dovecot stats a cached passwd-file at most once a second and compares its
            # mtime and size: make the mtime differ and let that second pass.
            stamp = path.stat().st_mtime + 1
            os.utime(path, (stamp, stamp))
            time.sleep(1.05 - time.time() % 1)

    @contextmanager
    def imap(self, user: str) -> Iterator[BaseMailBox]:
        """A logged-in session straight to Dovecot (not through the proxy)."""
        box = MailBoxUnencrypted(HOST, self.imap_port, timeout=5)
        try:
            password = self.passwords[user]
            if password.isascii():
                box.login(user, password, initial_folder=None)
            else:
                box.login_utf8(user, password, initial_folder=None)
            yield box
        finally:
            try:
                box.client.logout()
            except Exception:
                box.client.shutdown()

    def deliver(
        self,
        user: str,
        messages: list[bytes],
        folder: str = "INBOX",
        received: datetime | None = None,
    ) -> None:
        """Put mails into the user's folder (IMAP APPEND, INTERNALDATE ``received``)."""
        with self.imap(user) as box:
            for message in messages:
                box.append(message, folder, dt=received)


class FaultProxy:
    """Forwards TCP connections to ``upstream_port``; ``fail_next`` breaks the next one.

    Faults: "reset" (RST right after accept), "limit" (an IMAP greeting, then ``NO
    [LIMIT]`` to the login, as throttling servers answer), "stall" (accept, never speak).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        for worker in self._workers:
            worker.join()
        self._listener.close()

    def fail_next(self, fault: str) -> None:
        assert fault in ("reset", "limit", "stall"), fault
        with self._lock:
            self._faults.append(fault)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                fault = self._faults.pop(0) if self._faults else None
            worker = threading.Thread(target=self._serve, args=(client, fault), daemon=True)
            self._workers = [w for w in self._workers if w.is_alive()] + [worker]
            worker.start()

    def _serve(self, client: socket.socket, fault: str | None) -> None:
        with client:
            client.settimeout(0.05)
            if fault == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif fault == "limit":
                self._refuse_login(client)
            elif fault == "stall":
                self._wait_for_close(client)
            else:
                self._pump(client)

    def _refuse_login(self, client: socket.socket) -> None:
        client.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Proxy ready.\r\n")
        while line := self._read_line(client):
            tag, _, command = line.partition(b" ")
            if command.upper().startswith(b"CAPABILITY"):
                client.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK Done.\r\n")
                continue
            client.sendall(tag + b" NO [LIMIT] Too many connections, try again later\r\n")
            break
        self._wait_for_close(client)

    def _read_line(self, client: socket.socket) -> bytes:
        line = b""
        while not line.endswith(b"\n") and not self._stopping.is_set():
            with suppress(TimeoutError):
                chunk = client.recv(1024)
                if not chunk:
                    break
                line += chunk
        return line

    def _wait_for_close(self, client: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                if not client.recv(1024):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def _pump(self, client: socket.socket) -> None:
        with (
            socket.create_connection((HOST, self.upstream_port), timeout=5) as upstream,
            selectors.DefaultSelector() as selector,
        ):
            client.settimeout(5)
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while not self._stopping.is_set():
                for key, _ in selector.select(0.05):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = source.recv(65536)
                        if not data:
                            return
                        key.data.sendall(data)
                    except OSError:
                        return


class _Recorder:
    """aiosmtpd handler: requires AUTH when credentials are set, records each message."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.sink.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.sink.record(envelope, session)
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on a free loopback port. ``security``: "plain", "starttls" or "ssl"."""

    def __init__(self, security: str = "plain", tls: tuple[Path, Path] | None = None) -> None:
        self.security = security
        self.port = free_port()
        self.credentials: dict[str, str] = {}
        self.messages: list[dict[str, Any]] = []
        options: dict[str, Any] = {"auth_require_tls": False}
        if security != "plain":
            assert tls is not None, "TLS needs a certificate"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            if security == "starttls":
                options = {"tls_context": context, "require_starttls": True}
            else:
                options["ssl_context"] = context
        self._controller = Controller(
            _Recorder(self),
            hostname=HOST,
            port=self.port,
            authenticator=self._authenticate,
            **options,
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        valid = isinstance(data, LoginPassword) and (
            self.credentials.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=valid, handled=False, auth_data=data)

    def record(self, envelope: Envelope, session: Session) -> None:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.messages.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "login": login,
                "security": self.security,
                "headers": {name.lower(): str(value) for name, value in message.items()},
                "text": body.get_content() if isinstance(body, EmailMessage) else "",
                "data": content.decode("ascii", "replace"),
            }
        )
