"""Generated inbox data for ``bench_inbox.py``: a workspace as threading would leave it.

One workspace with agents and four channels (``setup``), then conversations, their
messages and everything threading, routing, replies and the breach job write for them
(``Generator``), written chunk by chunk with COPY on PostgreSQL and batched inserts on
SQLite (``fill``). Rows follow what the code produces: identities keyed by
``identities.claim_for_author`` (as linking keys them), messages with the lemmas, hashes
and MinHash bands ingest computes, SLA clocks from ``sla.DEFAULTS`` (clocks that ran out
recorded as breaches and ``due_at`` moved on), numbers in time order.
"""

from __future__ import annotations

import io
import json
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, text, update
from sqlalchemy.engine import make_url

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.channels import textproc
from h2h.channels.connectors.base import Author, ChannelKind, Direction
from h2h.db import Base, make_engine, make_sessionmaker, new_id
from h2h.inbox import service, sla, threading
from h2h.inbox.models import DeliveryStatus, InboxSettings, Priority, SlaTarget, State
from h2h.nlp.models import intent_mask
from h2h.people import identities

PASSWORD = "bench-password-long-enough"  # noqa: S105 - a throwaway database
AGENTS = 8
KINDS = (ChannelKind.TELEGRAM, ChannelKind.VK, ChannelKind.EMAIL, ChannelKind.WIDGET)
FIRST = ["Анна", "Мария", "Елена", "Ольга", "Иван", "Дмитрий", "Sarah", "James", "Priya", "Tom"]
LAST = ["Смирнова", "Кузнецов", "Попова", "Орлов", "Волков", "Mitchell", "Patel", "Evans"]
# Products are what searches look for; their weights fall off like real traffic (Zipf).
PRODUCTS_RU = [
    *("раф", "латте", "капучино", "эспрессо", "круассан", "чизкейк", "сырники", "торт"),
    *("какао", "матча", "американо", "флэт уайт", "глясе", "маффин", "брауни", "эклер"),
    *("медовик", "наполеон", "тирамису", "панкейки", "сэндвич", "киш", "гранола", "смузи"),
    *("лимонад", "пуэр", "улун", "сертификат", "абонемент", "термокружка"),
]
PRODUCTS_EN = ["whitening", "implant", "filling", "checkup", "braces", "crown", "veneer", "scaling"]
OPENERS_RU = ["Здравствуйте", "Добрый день", "Привет", "Подскажите", "Помогите", "Слушайте"]
TOPICS_RU = [
    "курьер опоздал с заказом",
    "списали деньги дважды",
    "не начислились бонусы",
    "хочу вернуть деньги за",
    "можно ли заказать",
    "когда снова будет",
    "очень понравился",
    "в зале было грязно, а",
    "доставка не приехала, где мой",
    "спасибо бариста за",
    "почему подорожал",
    "нет ли скидки на",
]
OPENERS_EN = ["Hi", "Hello", "Good morning", "Quick question", "Hey there"]
TOPICS_EN = [
    "I was charged twice for",
    "can I book an appointment for",
    "my insurance claim for",
    "thank you so much for the",
    "how much does",
    "I am still in pain after the",
    "please refund the",
    "do you do Saturday slots for",
]
REPLIES_RU = [
    "Простите, пожалуйста, уже разбираемся",
    "Спасибо, что написали! Передали команде",
    "Вернули деньги на карту, проверьте, пожалуйста",
    "Да, можно: напишите, к какому времени",
]
REPLIES_EN = [
    "Sorry about that, we are looking into it now",
    "Thank you for writing, I have passed it on",
    "We have refunded the charge to your card",
    "Yes, we can: which day suits you",
]
# Connector settings the channels need to exist; nothing is polled or sent in the bench.
CHANNEL_SETTINGS: dict[ChannelKind, tuple[dict[str, str], dict[str, str]]] = {
    ChannelKind.TELEGRAM: ({}, {"bot_token": "bench:not-a-token"}),
    ChannelKind.VK: ({"group_id": "1"}, {"access_token": "bench"}),
    ChannelKind.EMAIL: (
        {
            "imap_host": "imap.bench.invalid",
            "smtp_host": "smtp.bench.invalid",
            "from_address": "help@bench.example",
        },
        {"username": "bench", "password": "bench"},
    ),
    ChannelKind.WIDGET: ({}, {}),
}
SENTIMENTS = ("negative", "neutral", "positive")
INTENT_MIX = (
    (["complaint"], 30),
    (["question"], 25),
    (["praise"], 15),
    (["request", "purchase"], 10),
    (["suggestion"], 8),
    (["complaint", "threat"], 2),
    (["spam"], 3),
    (["other"], 7),
)
PRIORITY_MIX = (
    (Priority.LOW, 34),
    (Priority.NORMAL, 50),
    (Priority.HIGH, 12),
    (Priority.URGENT, 4),
)
# A fresh conversation is often still open; an old one was mostly dealt with long ago.
RECENT_STATES = (
    (State.OPEN, 55),
    (State.PENDING, 25),
    (State.RESOLVED, 15),
    (State.NOT_ANSWERING, 5),
)
OLD_STATES = ((State.OPEN, 1), (State.PENDING, 1), (State.RESOLVED, 88), (State.NOT_ANSWERING, 10))
HISTORY_DAYS, RECENT_DAYS = 180, 3
REASONS = ("spam", "troll", "resolved_elsewhere", "duplicate", "not_about_us", "no_answer_needed")


def choice(rng: random.Random, mix: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in mix], weights=[w for _, w in mix])[0]


def zipf(rng: random.Random, items: Sequence[str]) -> str:
    return items[min(len(items) - 1, int(len(items) * rng.random() ** 3))]


# --- the workspace ------------------------------------------------------------------------------


@dataclass
class Setup:
    workspace_id: uuid.UUID
    token: str  # the bearer token of agent 0, whose "mine" the list shows
    agent_ids: list[uuid.UUID]
    agent_names: dict[uuid.UUID, str]
    channels: dict[ChannelKind, uuid.UUID]
    region: str


def setup(url: str) -> Setup:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        owner = accounts.create_user(
            session, email="owner@bench.example", name="Bench Owner", password=PASSWORD
        )
        ws = accounts.create_workspace(session, name="Bench", slug="bench", owner=owner)
        system = accounts.SYSTEM
        agents = []
        for n in range(AGENTS):
            user = accounts.create_user(
                session, email=f"agent{n}@bench.example", name=f"Agent {n}", password=PASSWORD
            )
            accounts.add_member(
                session, workspace_id=ws.id, actor=system, user=user, role=Role.AGENT
            )
            service.set_status(
                session,
                workspace_id=ws.id,
                actor=accounts.Actor(user_id=user.id, role=Role.AGENT),
                signature=f"Agent {n}, Bench",
            )
            agents.append(user)
        raw, _ = accounts.create_api_token(session, user=agents[0], name="bench")
        found = {}
        for kind in KINDS:
            channel = channels.create_channel(
                session,
                workspace_id=ws.id,
                actor=system,
                kind=kind,
                name=kind.value,
                config=CHANNEL_SETTINGS[kind][0],
                secrets=CHANNEL_SETTINGS[kind][1],
            )
            channel.next_poll_at = None  # nothing is polled: the bench has no internet
            found[kind] = channel.id
        settings = service.settings_of(session, workspace_id=ws.id)
        settings.escalation_owner_id = owner.id
        session.commit()
        result = Setup(
            ws.id,
            raw,
            [a.id for a in agents],
            {a.id: a.name for a in agents},
            found,
            identities.region_for(ws.language),
        )
    engine.dispose()
    return result


# --- generation ---------------------------------------------------------------------------------


TABLE_ORDER = (
    "persons",
    "identities",
    "conversations",
    "messages",
    "conversation_messages",
    "conversation_events",
    "deliveries",
    "sla_breaches",
    "conversation_notes",
)


@dataclass
class Customer:
    kind: ChannelKind
    handle: str
    name: str
    language: str
    identity_id: uuid.UUID
    followers: int | None


@dataclass
class Plan:
    """What the generator decided, for the measurements to pick their parameters from."""

    active: list[tuple[int, uuid.UUID, str, ChannelKind, str]] = field(default_factory=list)
    open_numbers: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLE_ORDER, 0))
    states: dict[str, int] = field(default_factory=dict)
    product_counts: dict[str, int] = field(default_factory=dict)
    order_numbers: list[int] = field(default_factory=list)  # quoted in open conversations
    open_names: list[str] = field(default_factory=list)  # customers with an open conversation


class Generator:
    """Conversations as threading, routing, replies and the breach job would have left them."""

    def __init__(self, setup: Setup, now: datetime, conversations: int, messages: int) -> None:
        self.s, self.now = setup, now
        self.count, self.target = conversations, messages
        self.rng = random.Random(42)  # noqa: S311 - benchmark data
        self.customers: list[Customer] = []
        self.plan = Plan()
        self.kinds = {kind: kind for kind in KINDS}

    def _customer(self, n: int) -> tuple[Customer, list[tuple[str, dict[str, Any]]]]:
        kind = KINDS[n % len(KINDS)]
        handle = {
            ChannelKind.TELEGRAM: str(100_000_000 + n),
            ChannelKind.VK: str(200_000_000 + n),
            ChannelKind.EMAIL: f"user{n}@example.com",
            ChannelKind.WIDGET: f"guest{n}@example.org",
        }[kind]
        name = f"{FIRST[n % len(FIRST)]} {LAST[(n // 10) % len(LAST)]} {n}"
        language = "en" if n % 10 in (6, 7, 8) else "ru"
        followers = self.rng.choice([None, None, 40, 350, 1200, 15_000])
        author = Author(handle, name, followers=followers)
        claim = identities.claim_for_author(
            kind, self.s.channels[kind], author, self.s.region, seen_at=self.now
        )
        assert claim is not None  # noqa: S101 - every generated handle is a real one
        person_id, identity_id = new_id(), new_id()
        ws = self.s.workspace_id
        person = identities._person_row(ws, person_id, claim, self.now, self.now)
        identity = identities._identity_row(ws, identity_id, person_id, claim, self.now, self.now)
        customer = Customer(kind, handle, name, language, identity_id, followers)
        return customer, [("persons", person), ("identities", identity)]

    def _lengths(self) -> list[tuple[int, State, int]]:
        """Length, state and age in minutes of every conversation, oldest first (numbers
        and rows follow time, as they do in a live inbox). Open ones end with the customer."""
        rng, out = self.rng, []
        for _ in range(self.count):
            minutes = rng.randint(5, HISTORY_DAYS * 24 * 60)  # a steady flow over half a year
            recent = minutes < RECENT_DAYS * 24 * 60
            state = choice(rng, RECENT_STATES if recent else OLD_STATES)
            k = max(1, round(rng.gauss(self.target / self.count, 1.5)))
            if state is State.OPEN and k % 2 == 0:
                k += 1
            if state is State.PENDING and k % 2:
                k += 1
            if state is State.NOT_ANSWERING:
                k = 1
            out.append((k, state, minutes))
        total = sum(k for k, _, _ in out)
        while total != self.target:  # adjust resolved ones, whose length is free
            i = rng.randrange(self.count)
            k, state, minutes = out[i]
            if state is not State.RESOLVED:
                continue
            step = 1 if total < self.target else -1
            if k + step >= 1:
                out[i] = (k + step, state, minutes)
                total += step
        return sorted(out, key=lambda row: -row[2])

    def rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        customers = int(self.count * 0.7)
        repeat = [
            n for n in range(customers) if KINDS[n % 4] in (ChannelKind.EMAIL, ChannelKind.WIDGET)
        ]
        for i, (k, state, minutes) in enumerate(self._lengths()):
            # Telegram and VK threads are the chat: one conversation per customer there;
            # email threads and widget sessions are their own, so those customers come back.
            n = i if i < customers else self.rng.choice(repeat)
            if n >= len(self.customers):
                customer, made = self._customer(n)
                self.customers.append(customer)
                yield from made
            yield from self._conversation(i, self.customers[n], k, state, minutes)

    def _conversation(
        self, i: int, customer: Customer, k: int, state: State, minutes: int
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        rng, ws, now = self.rng, self.s.workspace_id, self.now
        conversation_id = new_id()
        kind = customer.kind
        channel_id = self.s.channels[kind]
        thread = {
            ChannelKind.TELEGRAM: customer.handle,
            ChannelKind.VK: f"im:{customer.handle}",
            ChannelKind.EMAIL: f"<t{i}@example.com>",
            ChannelKind.WIDGET: f"widget:{i}",
        }[kind]
        opened = now - timedelta(minutes=minutes, seconds=rng.randint(0, 59))
        gaps = [timedelta(minutes=rng.randint(3, 240)) for _ in range(k)]
        times = [opened]
        for gap in gaps[1:]:
            times.append(min(times[-1] + gap, now - timedelta(seconds=30)))
        owner = self.s.agent_ids[i % AGENTS]
        unassigned = state is State.OPEN and rng.random() < 0.06
        owner_id = None if unassigned else owner
        labels = choice(rng, INTENT_MIX)
        priority = choice(rng, PRIORITY_MIX)
        if "threat" in labels:
            priority = Priority.URGENT
        language = customer.language
        last_inbound: dict[str, Any] | None = None
        first_reply: datetime | None = None
        last_agent: datetime | None = None
        for j, at in enumerate(times):
            inbound = j % 2 == 0
            message_id = new_id()
            text_ = self._text(language, inbound, quote=state is State.OPEN)
            message = self._message(
                message_id, channel_id, f"c{i}-{j}", thread, customer, text_, at, inbound, owner
            )
            if inbound:
                last_inbound = message
            else:
                first_reply = first_reply or at
                last_agent = at
                delivery = self._delivery(
                    conversation_id, owner, text_, customer, thread, at, message_id, last_inbound
                )
                message["raw"] = {"h2h_delivery": str(delivery["id"])}
                yield "deliveries", delivery
            yield "messages", message
            yield (
                "conversation_messages",
                {
                    "workspace_id": ws,
                    "id": message_id,
                    "conversation_id": conversation_id,
                    "inbound": inbound,
                    "created_at": at,
                },
            )
        assert last_inbound is not None  # noqa: S101 - every conversation starts with the customer
        targets = sla.DEFAULTS[priority]
        clocks: dict[str, datetime | None] = {
            "first_response": None,
            "next_response": None,
            "resolution": None,
        }
        if state is State.OPEN:
            if first_reply is None:
                clocks["first_response"] = opened + timedelta(minutes=targets.first_response or 0)
            else:
                clocks["next_response"] = last_inbound["created_at"] + timedelta(
                    minutes=targets.next_response or 0
                )
        if state in (State.OPEN, State.PENDING):
            clocks["resolution"] = opened + timedelta(minutes=targets.resolution or 0)
        passed = {t: at for t, at in clocks.items() if at is not None and at <= now}
        upcoming = [at for at in clocks.values() if at is not None and at > now]
        closed = state in (State.RESOLVED, State.NOT_ANSWERING)
        for target, due in passed.items():  # the breach job has seen them
            yield (
                "sla_breaches",
                {
                    "workspace_id": ws,
                    "id": new_id(),
                    "conversation_id": conversation_id,
                    "target": SlaTarget(target),
                    "due_at": due,
                    "breached_at": due + timedelta(minutes=1),
                    "owner_id": owner_id,
                    "priority": priority,
                },
            )
        last_at = times[-1]
        closed_at = last_at + timedelta(minutes=rng.randint(1, 120)) if closed else None
        self.plan.states[state.value] = self.plan.states.get(state.value, 0) + 1
        if state in (State.OPEN, State.PENDING):
            self.plan.active.append((i + 1, customer.identity_id, thread, kind, customer.handle))
        if state is State.OPEN:
            self.plan.open_numbers.append(i + 1)
            if len(self.plan.open_names) < 10 and rng.random() < 0.05:
                self.plan.open_names.append(customer.name)
        yield (
            "conversations",
            {
                "workspace_id": ws,
                "id": conversation_id,
                "number": i + 1,
                "channel_id": channel_id,
                "thread_key": thread,
                "identity_id": customer.identity_id,
                "author_name": customer.name,
                "subject": f"Re: {last_inbound['text'][:40]}"
                if kind is ChannelKind.EMAIL
                else None,
                "preview": last_inbound["text"][: threading.PREVIEW],
                "state": state,
                "priority": priority,
                "priority_manual": False,
                "priority_reasons": ["threat"] if "threat" in labels else [],
                "owner_id": owner_id,
                "threat": "threat" in labels,
                "last_inbound_id": last_inbound["id"],
                "sentiment": rng.choice(SENTIMENTS),
                "intents": intent_mask(labels),
                "urgency": {
                    Priority.LOW: 0.1,
                    Priority.NORMAL: 0.3,
                    Priority.HIGH: 0.6,
                    Priority.URGENT: 0.85,
                }[priority],
                "language": language,
                "reach": customer.followers,
                "message_count": k,
                "opened_at": opened,
                "last_message_at": last_at,
                "last_customer_at": last_inbound["created_at"],
                "last_agent_at": last_agent,
                "first_response_at": first_reply,
                "sla_policy_id": None,
                "first_response_due": clocks["first_response"],
                "next_response_due": clocks["next_response"],
                "resolution_due": clocks["resolution"],
                "due_at": min(upcoming) if upcoming else None,
                "breached": bool(passed) or (closed and rng.random() < 0.06),
                "closed_at": closed_at,
                "close_reason": rng.choice(REASONS) if state is State.NOT_ANSWERING else None,
                "close_note": "Closed on purpose, see the reason"
                if state is State.NOT_ANSWERING
                else None,
                "closed_by_id": owner if closed else None,
                "merged_into_id": None,
                "created_at": opened,
                "updated_at": closed_at or last_at,
            },
        )
        yield from self._events(
            conversation_id, kind, opened, owner_id, first_reply, state, closed_at
        )
        if rng.random() < 0.05:
            yield (
                "conversation_notes",
                {
                    "workspace_id": ws,
                    "id": new_id(),
                    "conversation_id": conversation_id,
                    "author_id": owner,
                    "text": "@Agent 1, could you check the order history here?",
                    "mentions": [str(self.s.agent_ids[1])],
                    "created_at": last_at,
                },
            )

    def _text(self, language: str, inbound: bool, *, quote: bool) -> str:
        rng = self.rng
        if not inbound:
            return rng.choice(REPLIES_EN if language == "en" else REPLIES_RU) + "."
        if language == "en":
            product = zipf(rng, PRODUCTS_EN)
            text_ = f"{rng.choice(OPENERS_EN)}, {rng.choice(TOPICS_EN)} {product}"
        else:
            product = zipf(rng, PRODUCTS_RU)
            text_ = f"{rng.choice(OPENERS_RU)}, {rng.choice(TOPICS_RU)} {product}"
        self.plan.product_counts[product] = self.plan.product_counts.get(product, 0) + 1
        if language != "ru":
            return text_ + "?"
        order = rng.randint(10_000, 99_999)
        if quote and len(self.plan.order_numbers) < 10 and rng.random() < 0.05:
            self.plan.order_numbers.append(order)
        return f"{text_}, заказ {order}"

    def _message(
        self,
        message_id: uuid.UUID,
        channel_id: uuid.UUID,
        external_id: str,
        thread: str,
        customer: Customer,
        text_: str,
        at: datetime,
        inbound: bool,
        owner: uuid.UUID,
    ) -> dict[str, Any]:
        # The same fields ingest computes for a stored message (``ingest._row``).
        tokens = textproc.words(text_)
        signature = textproc.minhash(tokens)
        b0, b1, b2, b3 = textproc.bands(signature)
        author = (
            (customer.handle, customer.name)
            if inbound
            else (f"agent:{owner}", self.s.agent_names[owner])
        )
        return {
            "workspace_id": self.s.workspace_id,
            "id": message_id,
            "channel_id": channel_id,
            "external_id": external_id,
            "thread_id": thread,
            "parent_id": None,
            "direction": Direction.INBOUND if inbound else Direction.OUTBOUND,
            "author_handle": author[0],
            "author_name": author[1],
            "author_url": None,
            "author_followers": customer.followers if inbound else None,
            "text": text_,
            "search_text": textproc.search_text(tokens),
            "language": customer.language,
            "url": None,
            "created_at": at,
            "received_at": at,
            "raw": {},
            "text_hash": textproc.text_hash(tokens),
            "minhash": textproc.encode_signature(signature),
            "band0": b0,
            "band1": b1,
            "band2": b2,
            "band3": b3,
            "duplicate_of_id": None,
            "import_id": None,
            "identity_id": customer.identity_id if inbound else None,
        }

    def _delivery(
        self,
        conversation_id: uuid.UUID,
        owner: uuid.UUID,
        text_: str,
        customer: Customer,
        thread: str,
        at: datetime,
        message_id: uuid.UUID,
        answered: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "workspace_id": self.s.workspace_id,
            "id": new_id(),
            "conversation_id": conversation_id,
            "author_id": owner,
            "author_name": self.s.agent_names[owner],
            "text": text_,
            "to_handle": customer.handle,
            "thread_id": thread,
            "in_reply_to_id": answered["id"] if answered else None,
            "subject": None,
            "link": None,
            "status": DeliveryStatus.SENT,
            "attempts": 1,
            "next_attempt_at": None,
            "claimed_at": at,
            "last_error": None,
            "external_id": f"sent-{message_id.hex[:16]}",
            "message_id": message_id,
            "created_at": at - timedelta(seconds=5),
            "sent_at": at,
        }

    def _events(
        self,
        conversation_id: uuid.UUID,
        kind: ChannelKind,
        opened: datetime,
        owner_id: uuid.UUID | None,
        first_reply: datetime | None,
        state: State,
        closed_at: datetime | None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        ws = self.s.workspace_id

        def row(kind_: str, at: datetime, **data: Any) -> tuple[str, dict[str, Any]]:
            event_ = {"workspace_id": ws, "id": new_id(), "conversation_id": conversation_id}
            return "conversation_events", event_ | {
                "kind": kind_,
                "actor_id": None,
                "data": data,
                "created_at": at,
            }

        yield row("opened", opened, channel=kind.value)
        if owner_id is not None:
            yield row("assigned", opened, owner=str(owner_id), reason="round_robin")
        if first_reply is not None:
            yield row("responded", first_reply)
        if closed_at is not None:
            yield row("state", closed_at, state=state.value, previous="pending")


# --- writing ------------------------------------------------------------------------------------


def _complete(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Fill columns a generator left out with the model's defaults (COPY applies none)."""
    for column in table.columns:
        if column.name in row:
            continue
        default = column.default
        if default is None:
            row[column.name] = None
        elif getattr(default, "is_callable", False):
            row[column.name] = default.arg(None)  # type: ignore[attr-defined]
        else:
            row[column.name] = getattr(default, "arg", None)
    return row


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def fill(url: str, generator: Generator, chunk: int) -> float:
    """Write the generated rows chunk by chunk, parents before children; returns seconds."""
    tables = {name: Base.metadata.tables[name] for name in TABLE_ORDER}
    started = time.perf_counter()
    postgres = url.startswith("postgresql")
    buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_ORDER}
    engine = make_engine(url)
    pg = None
    if postgres:
        import psycopg

        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        pg = psycopg.connect(plain)

    def flush() -> None:
        for name in TABLE_ORDER:
            rows = [_complete(tables[name], r) for r in buffers[name]]
            buffers[name] = []
            if not rows:
                continue
            generator.plan.rows[name] += len(rows)
            if pg is not None:
                columns = list(rows[0])
                with (
                    pg.cursor() as cur,
                    cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy,
                ):
                    out = io.StringIO()
                    for r in rows:
                        out.write("\t".join(_copy_text(r[c]) for c in columns) + "\n")
                    copy.write(out.getvalue())
            else:
                with engine.begin() as conn:
                    conn.execute(insert(tables[name]), rows)
        if pg is not None:
            pg.commit()

    conversations = 0
    for name, row in generator.rows():
        buffers[name].append(row)
        if name == "conversations":
            conversations += 1
            if conversations % chunk == 0:
                flush()
    flush()
    with engine.begin() as conn:
        conn.execute(
            update(InboxSettings)
            .where(InboxSettings.workspace_id == generator.s.workspace_id)
            .values(next_number=generator.count + 1)
        )
    if pg is not None:
        pg.autocommit = True
        pg.execute("VACUUM ANALYZE")
        pg.close()
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started
