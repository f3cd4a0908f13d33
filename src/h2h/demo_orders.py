"""Purchases in the demo: a year and a half of orders at the coffee shop (roubles) and the
dental practice (pounds), RFM scores, and a few saved segments.

The orders go through the order importer's own row handler, as a CSV of the shop would,
so customers are found or created by email and phone like in a real import. Besides the
named customers of the people demo, a stable crowd of regulars, one-off buyers and lapsed
customers (a fixed seed) gives the RFM overview every kind of segment.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.channels.importer import Row
from h2h.db import utcnow
from h2h.people import orders, rfm, segments, service
from h2h.people.orders import OrderMapping

# sku → (name, price in major units)
ZERNO_PRODUCTS = {
    "ETH-1": ("Эфиопия Иргачефф, 1 кг", "2400"),
    "KEN-1": ("Кения АА, 1 кг", "2700"),
    "COL-250": ("Колумбия Супремо, 250 г", "690"),
    "DRIP-10": ("Дрип-пакеты, 10 шт.", "450"),
    "V60": ("Воронка V60", "1900"),
    "GIFT-3000": ("Подарочный сертификат 3000 ₽", "3000"),
}
DENTAL_PRODUCTS = {
    "CHECK": ("Check-up and clean", "85"),
    "FILL": ("Composite filling", "140"),
    "WHITE": ("Whitening", "320"),
    "IMPL-C": ("Implant consultation", "60"),
}
FIRST = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Ирина",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Павел",
    "Никита",
]
LAST = ["Смирнов", "Кузнецов", "Попов", "Соколов", "Морозов", "Волков", "Зайцев", "Орлов"]
EN_FIRST = ["Emma", "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack"]
EN_LAST = ["Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker"]
CROWD = 36  # synthetic coffee customers; dental gets half
Customer = tuple[str | None, str | None, str, list[tuple[int, str, int]]]
# email, phone, name, (days ago, sku, quantity): the named customers of demo_people.
NAMED: dict[str, list[Customer]] = {
    "zerno": [
        (
            "a.ivanov@mail.example",
            None,
            "Александр Иванов",
            [(200, "ETH-1", 1), (95, "KEN-1", 2), (40, "ETH-1", 2), (11, "V60", 1)],
        ),
        (
            None,
            "+7 927 555-01-02",
            "Екатерина Лебедева",
            [(8, "GIFT-3000", 1), (2, "GIFT-3000", 1)],
        ),
    ],
    "carter-dental": [
        (
            "sarah.mitchell@mail.example",
            None,
            "Sarah Mitchell",
            [(380, "CHECK", 1), (190, "CHECK", 1), (7, "FILL", 1)],
        ),
        ("j.oconnor@mail.example", None, "Jim O'Connor", [(3, "IMPL-C", 1)]),
    ],
}


def _rows(slug: str, now: datetime) -> list[Row]:
    """The order lines of a workspace, as the rows of a shop's CSV export."""
    products = ZERNO_PRODUCTS if slug == "zerno" else DENTAL_PRODUCTS
    english = slug != "zerno"
    rng = random.Random(f"h2h-demo-orders-{slug}")  # noqa: S311 - demo data, not secrets
    customers = list(NAMED.get(slug, []))
    for n in range(CROWD // 2 if english else CROWD):
        first = rng.choice(EN_FIRST if english else FIRST)
        last = rng.choice(EN_LAST if english else LAST)
        if not english and first.endswith("а"):
            last += "а"  # Смирнова
        kind = rng.random()
        # regulars buy every few weeks, one-off buyers once, the lapsed stopped a year ago
        if kind < 0.3:
            days = sorted(rng.sample(range(1, 400), rng.randint(4, 9)), reverse=True)
        elif kind < 0.65:
            days = [rng.randint(1, 500)]
        else:
            start = rng.randint(380, 540)
            days = [start - 30 * i for i in range(rng.randint(1, 4))]
        history = [(d, rng.choice(list(products)), rng.randint(1, 3)) for d in days]
        customers.append((f"demo.customer{n}@mail.example", None, f"{first} {last}", history))
    rows: list[Row] = []
    for c, (address, phone, name, history) in enumerate(customers):
        for o, (days_ago, sku, quantity) in enumerate(history):
            title, price = products[sku]
            rows.append(
                Row(
                    len(rows) + 2,
                    {
                        "order_id": f"{slug}-{c:03d}-{o:02d}",
                        "placed_at": (now - timedelta(days=days_ago, hours=c % 9)).isoformat(),
                        "sku": sku,
                        "description": title,
                        "quantity": str(quantity),
                        "unit_price": price,
                        "email": address or "",
                        "phone": phone or "",
                        "customer_name": name,
                    },
                )
            )
    return rows


MAPPING_COLUMNS = {
    k: k
    for k in (
        "order_id",
        "placed_at",
        "sku",
        "description",
        "quantity",
        "unit_price",
        "email",
        "phone",
        "customer_name",
    )
}
SEGMENTS: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {
    "zerno": [
        ("Постоянные гости", "Купили два раза и больше", {"stage": "repeat"}),
        ("Под угрозой ухода", "Покупали часто, но давно: позвонить", {"rfm_segment": "at_risk"}),
        ("Согласны на рассылку", None, {"consent": "marketing"}),
    ],
    "carter-dental": [
        ("Due a check-up", "Patients not seen for six months", {"silent_for_days": 180}),
        ("Champions", None, {"rfm_segment": "champions"}),
    ],
}


def load(session: Session, *, workspace_ids: dict[str, uuid.UUID], agent: accounts.Actor) -> None:
    """Orders, RFM scores and saved segments; a second load adds nothing."""
    now = utcnow()
    for slug, currency in (("zerno", "RUB"), ("carter-dental", "GBP")):
        if slug not in workspace_ids:
            continue
        ws = workspace_ids[slug]
        service.get_settings(session, workspace_id=ws).currency = currency
        mapping = OrderMapping(dict(MAPPING_COLUMNS), currency, "UTC", source="demo")
        state = orders.OrderImport(ws, mapping)
        result = state.handle(session, _rows(slug, now))
        if result.rejections:  # the demo data is ours: a rejection is a bug
            raise ValueError(f"demo orders refused: {result.rejections[:3]}")
        service.refresh_aggregates(session, workspace_id=ws, person_ids=list(state.persons))
        rfm.compute(session, workspace_id=ws)
        _segments(session, ws, agent, SEGMENTS[slug])


def _segments(
    session: Session,
    workspace_id: uuid.UUID,
    agent: accounts.Actor,
    wanted: list[tuple[str, str | None, dict[str, Any]]],
) -> None:
    existing = {s.name for s in segments.list_segments(session, workspace_id=workspace_id)}
    for name, description, definition in wanted:
        if name not in existing:
            segments.create_segment(
                session,
                workspace_id=workspace_id,
                actor=agent,
                name=name,
                description=description,
                definition=definition,
            )
