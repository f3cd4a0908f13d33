"""Orders: importing purchases from CSV/JSONL, and showing them on a person's profile.

Lines are grouped into orders by invoice number. Every write is idempotent: an order is
keyed by ``(workspace, external_id)``, a line by ``(order, line_key)`` where the key is a
digest of what the line says plus its occurrence among identical lines of the invoice in
that file — so re-importing a file, or a file overlapping an earlier one, adds nothing,
while two genuinely identical lines of one invoice both stay. A re-appearing line updates
nothing. The UCI Online Retail layout is recognised by its columns.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from h2h.db import new_id, transaction, utcnow
from h2h.errors import N_
from h2h.people import identities, imports, service
from h2h.people.imports import ChunkResult, ImportFileError, Rejection, Row
from h2h.people.models import (
    DataImportKind,
    IdentityKind,
    Order,
    OrderLine,
    Person,
    Product,
)
from h2h.people.timeline import Panel, TimelineItem, TimelineQuery, profile_panel, timeline_source

ORDERS: Table = Order.__table__  # type: ignore[assignment]
LINES: Table = OrderLine.__table__  # type: ignore[assignment]
PRODUCTS: Table = Product.__table__  # type: ignore[assignment]
FIELDS = (
    "order_id",
    "placed_at",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "customer_id",
    "email",
    "phone",
    "customer_name",
    "country",
    "currency",
)
REQUIRED = ("order_id", "placed_at", "quantity", "unit_price")
ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "invoiceno", "invoice", "order", "номер заказа", "заказ"),
    "placed_at": ("placed_at", "invoicedate", "date", "order date", "дата", "дата заказа"),
    "sku": ("sku", "stockcode", "product_id", "артикул"),
    "description": ("description", "product", "name", "товар", "наименование"),
    "quantity": ("quantity", "qty", "количество", "кол-во"),
    "unit_price": ("unit_price", "unitprice", "price", "цена"),
    "customer_id": ("customer_id", "customerid", "customer", "клиент", "id клиента"),
    "email": ("email", "e-mail", "почта"),
    "phone": ("phone", "телефон"),
    "customer_name": ("customer_name", "имя", "фио"),
    "country": ("country", "страна"),
    "currency": ("currency", "валюта"),
}
_FLOAT_ID = re.compile(r"^\d+\.0+$")
ONLINE_RETAIL = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)


@dataclass
class OrderMapping:
    columns: dict[str, str] = field(default_factory=dict)  # field -> column name
    currency: str = "RUB"
    timezone: str = "UTC"
    date_format: str | None = None
    source: str | None = None


def guess_mapping(columns: list[str], currency: str | None = None) -> OrderMapping:
    """Map fields to a file's columns by common names; Online Retail defaults to GBP, London."""
    by_lower = {c.strip().lower(): c for c in columns}
    chosen: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_lower and by_lower[alias] not in chosen.values():
                chosen[name] = by_lower[alias]
                break
    if set(ONLINE_RETAIL) <= set(columns):
        return OrderMapping(chosen, currency or "GBP", "Europe/London", source="online-retail")
    return OrderMapping(chosen, currency or "RUB")


def check_mapping(mapping: OrderMapping) -> None:
    missing = [name for name in REQUIRED if name not in mapping.columns]
    if missing:
        raise ImportFileError(f"no column for {', '.join(missing)}")


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in minor units (kopecks, pence) of the currency, rounded half up."""
    digits = get_currency_precision(currency)
    return int((amount.scaleb(digits)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Line:
    row: int
    order_id: str
    placed_at: Any
    sku: str | None
    description: str | None
    quantity: int
    unit_price: int
    currency: str
    country: str | None
    claim: identities.Claim | None


def parse_line(row: Row, mapping: OrderMapping) -> Line | Rejection:
    """One row as an order line, or why it cannot be one."""
    if "__error__" in row.values:
        return Rejection(row.line, None, str(row.values["__error__"]), _content(row.values))
    cols = mapping.columns

    def get(name: str) -> Any:
        return row.values.get(cols[name]) if name in cols else None

    order_id = imports.text_of(get("order_id"))
    if not order_id:
        return Rejection(row.line, cols["order_id"], "no order number", _content(row.values))
    try:
        placed_at = imports.parse_datetime(get("placed_at"), mapping.timezone, mapping.date_format)
    except (ValueError, TypeError) as exc:
        return Rejection(
            row.line, cols["placed_at"], f"unreadable date: {exc}", _content(row.values)
        )
    currency = (imports.text_of(get("currency")) or mapping.currency).upper()[:3]
    try:
        quantity = imports.parse_int(get("quantity"))
    except ValueError as exc:
        return Rejection(row.line, cols["quantity"], str(exc), _content(row.values))
    try:
        price = to_minor(imports.parse_decimal(get("unit_price")), currency)
    except (ValueError, KeyError) as exc:
        return Rejection(row.line, cols["unit_price"], str(exc), _content(row.values))
    return Line(
        row=row.line,
        order_id=order_id[:200],
        placed_at=placed_at,
        sku=(imports.text_of(get("sku")) or "")[:100] or None,
        description=(imports.text_of(get("description")) or "")[:500] or None,
        quantity=quantity,
        unit_price=price,
        currency=currency,
        country=(imports.text_of(get("country")) or "")[:100] or None,
        claim=_claim(get, placed_at),
    )


def _claim(get: Any, placed_at: Any) -> identities.Claim | None:
    name = imports.text_of(get("customer_name"))
    customer = imports.text_of(get("customer_id"))
    if customer and _FLOAT_ID.match(customer):
        customer = customer.split(".")[0]  # spreadsheets write customer 17850 as 17850.0
    if customer:
        return identities.Claim(
            IdentityKind.CUSTOMER_ID, customer[:320], name=name, seen_at=placed_at
        )
    email = identities.normalize_email(imports.text_of(get("email")))
    if email:
        return identities.Claim(IdentityKind.EMAIL, email, name=name, seen_at=placed_at)
    phone = identities.normalize_phone(imports.text_of(get("phone")))
    if phone:
        return identities.Claim(IdentityKind.PHONE, phone, name=name, seen_at=placed_at)
    return None


def _content(values: dict[str, Any]) -> str:
    return ",".join(str(v) for k, v in values.items() if not k.startswith("__"))[:500]


class OrderImport:
    """The state of one run over one or more files: caches and the persons it touched."""

    def __init__(self, workspace_id: uuid.UUID, mapping: OrderMapping) -> None:
        self.workspace_id = workspace_id
        self.mapping = mapping
        self.products: dict[str, uuid.UUID] = {}
        self.persons: set[uuid.UUID] = set()
        self.occurrences: dict[str, Counter[str]] = defaultdict(Counter)  # per file
        self.import_id: uuid.UUID | None = None

    def started(self, import_id: uuid.UUID) -> None:
        self.import_id = import_id

    def handle(self, session: Session, rows: list[Row]) -> ChunkResult:
        result = ChunkResult()
        lines: list[Line] = []
        for row in rows:
            parsed = parse_line(row, self.mapping)
            if isinstance(parsed, Rejection):
                result.rejections.append(parsed)
            else:
                lines.append(parsed)
        if not lines:
            return result
        found = identities.ensure(
            session,
            workspace_id=self.workspace_id,
            claims=[line.claim for line in lines if line.claim is not None],
        )
        self.persons.update(f.person_id for f in found.values())
        products = self._products(session, lines)
        orders = self._orders(session, lines, found)
        line_rows = [self._line_row(line, orders, products) for line in lines]
        inserted = imports.insert_ignore(
            session, LINES, line_rows, ("workspace_id", "order_id", "line_key")
        )
        touched = {r["order_id"] for r in line_rows if r["id"] in inserted}
        self._recount(session, touched)
        result.imported, result.duplicates = len(inserted), len(line_rows) - len(inserted)
        return result

    def _products(self, session: Session, lines: list[Line]) -> dict[str, uuid.UUID]:
        new: dict[str, dict[str, Any]] = {}
        for line in lines:
            if line.sku and line.sku not in self.products:
                new[line.sku] = {
                    "workspace_id": self.workspace_id,
                    "id": new_id(),
                    "sku": line.sku,
                    "name": (line.description or line.sku)[:500],
                    "unit_price": line.unit_price,
                    "currency": line.currency,
                    "created_at": utcnow(),
                }
        if new:
            imports.insert_ignore(session, PRODUCTS, list(new.values()), ("workspace_id", "sku"))
            for start in range(0, len(new), 500):
                skus = list(new)[start : start + 500]
                for sku, pid in session.execute(
                    select(Product.sku, Product.id).where(
                        Product.workspace_id == self.workspace_id, Product.sku.in_(skus)
                    )
                ):
                    self.products[sku] = pid
        return self.products

    def _cancels(self, line: Line) -> bool:
        """Online Retail numbers a cancellation "C…"; elsewhere a refund has negative lines
        (an order numbered "CAFE-12" is an order)."""
        if self.mapping.source == "online-retail":
            return line.order_id.upper().startswith("C")
        return line.quantity < 0

    def _orders(
        self, session: Session, lines: list[Line], found: dict[Any, identities.Found]
    ) -> dict[str, uuid.UUID]:
        rows: dict[str, dict[str, Any]] = {}
        for line in lines:
            if line.order_id in rows:
                continue
            identity = found.get(line.claim.key) if line.claim else None
            rows[line.order_id] = {
                "workspace_id": self.workspace_id,
                "id": new_id(),
                "external_id": line.order_id,
                "identity_id": identity.identity_id if identity else None,
                "placed_at": line.placed_at,
                "is_cancellation": self._cancels(line),
                "total": 0,
                "currency": line.currency,
                "country": line.country,
                "line_count": 0,
                "source": self.mapping.source,
                "import_id": self.import_id,
                "created_at": utcnow(),
            }
        imports.insert_ignore(session, ORDERS, list(rows.values()), ("workspace_id", "external_id"))
        ids: dict[str, uuid.UUID] = {}
        keys = list(rows)
        for start in range(0, len(keys), 500):
            for external_id, oid in session.execute(
                select(Order.external_id, Order.id).where(
                    Order.workspace_id == self.workspace_id,
                    Order.external_id.in_(keys[start : start + 500]),
                )
            ):
                ids[external_id] = oid
        return ids

    def _line_row(
        self, line: Line, orders: dict[str, uuid.UUID], products: dict[str, uuid.UUID]
    ) -> dict[str, Any]:
        content = f"{line.sku}\x1f{line.description}\x1f{line.quantity}\x1f{line.unit_price}"
        digest = hashlib.sha256(content.encode()).hexdigest()[:32]
        seen = self.occurrences[line.order_id]
        seen[digest] += 1
        return {
            "workspace_id": self.workspace_id,
            "id": new_id(),
            "order_id": orders[line.order_id],
            "line_key": f"{digest}:{seen[digest]}",
            "product_id": products.get(line.sku) if line.sku else None,
            "sku": line.sku,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.quantity * line.unit_price,
        }

    def _recount(self, session: Session, order_ids: set[uuid.UUID]) -> None:
        ids = list(order_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            lines = OrderLine.__table__.alias("l")
            same = (lines.c.workspace_id == Order.workspace_id) & (lines.c.order_id == Order.id)
            session.execute(
                update(Order)
                .where(Order.workspace_id == self.workspace_id, Order.id.in_(chunk))
                .values(
                    total=select(func.coalesce(func.sum(lines.c.amount), 0))
                    .where(same)
                    .scalar_subquery(),
                    line_count=select(func.count()).where(same).scalar_subquery(),
                ),
                execution_options={"synchronize_session": False},
            )


def import_files(
    factory: sessionmaker[Session],
    *,
    workspace_id: uuid.UUID,
    paths: list[Path],
    mapping: OrderMapping | None = None,
    currency: str | None = None,
    on_progress: imports.ProgressCallback | None = None,
    on_file: Any = None,
    chunk_size: int = imports.CHUNK_SIZE,
) -> list[uuid.UUID]:
    """Import order files (one DataImport each), then refresh the customers' aggregates."""
    run_ids: list[uuid.UUID] = []
    state: OrderImport | None = None
    for path in paths:
        chosen = mapping or guess_mapping(_columns(path), currency)
        if state is None or state.mapping != chosen:
            previous = state.persons if state else set()
            state = OrderImport(workspace_id, chosen)
            state.persons |= previous
        state.occurrences.clear()
        if on_file:
            on_file(path)
        run_ids.append(
            imports.run_file(
                factory,
                workspace_id=workspace_id,
                kind=DataImportKind.ORDERS,
                path=path,
                handle=state.handle,
                on_progress=on_progress,
                chunk_size=chunk_size,
                check=functools.partial(_check, chosen),
                on_start=state.started,
            )
        )
    if state is not None and state.persons:
        persons = list(state.persons)
        for start in range(0, len(persons), 2000):
            with transaction(factory) as session:
                service.refresh_aggregates(
                    session, workspace_id=workspace_id, person_ids=persons[start : start + 2000]
                )
    return run_ids


def _check(mapping: OrderMapping, _columns: list[str]) -> None:
    check_mapping(mapping)


def _columns(path: Path) -> list[str]:
    try:
        return imports.peek_columns(path)
    except ImportFileError:
        return []  # the import itself records why the file cannot be read


# --- the profile: timeline source and purchases panel --------------------------------------------


@timeline_source("order")
def order_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """The person's orders and cancellations, with total and line count."""
    if not query.identity_ids:
        return []
    stmt = select(Order).where(
        Order.workspace_id == query.workspace_id, Order.identity_id.in_(query.identity_ids)
    )
    if query.before is not None:
        stmt = stmt.where(Order.placed_at < query.before)
    rows = session.scalars(stmt.order_by(Order.placed_at.desc()).limit(query.limit))
    return [
        TimelineItem(
            kind="order",
            at=service.as_utc(o.placed_at),
            id=str(o.id),
            title=N_("Cancellation {number}") if o.is_cancellation else N_("Order {number}"),
            data={
                "number": o.external_id,
                "total": o.total,
                "currency": o.currency,
                "line_count": o.line_count,
                "is_cancellation": o.is_cancellation,
            },
        )
        for o in rows
    ]


def person_orders(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID, page: int, page_size: int
) -> tuple[list[Order], int]:
    """A page of the person's orders, newest first, and how many there are."""
    ids = service.identity_ids(session, workspace_id=workspace_id, person_id=person_id)
    if not ids:
        return [], 0
    where = (Order.workspace_id == workspace_id) & Order.identity_id.in_(ids)
    total = session.scalar(select(func.count()).select_from(Order).where(where)) or 0
    rows = session.scalars(
        select(Order)
        .where(where)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


def top_products(
    session: Session, *, workspace_id: uuid.UUID, person_id: uuid.UUID, limit: int = 5
) -> list[tuple[str, int]]:
    """What the person bought most (net quantity, cancellations subtracted)."""
    ids = service.identity_ids(session, workspace_id=workspace_id, person_id=person_id)
    if not ids:
        return []
    name = func.coalesce(OrderLine.description, OrderLine.sku)
    qty = func.sum(OrderLine.quantity)
    rows = session.execute(
        select(name, qty)
        .join(
            Order, (Order.workspace_id == OrderLine.workspace_id) & (Order.id == OrderLine.order_id)
        )
        .where(Order.workspace_id == workspace_id, Order.identity_id.in_(ids))
        .group_by(name)
        .having(qty > 0)
        .order_by(qty.desc(), name)
        .limit(limit)
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def _panel(session: Session, workspace_id: uuid.UUID, person: Person) -> dict[str, Any]:
    currency = session.scalar(
        select(Order.currency)
        .where(
            Order.workspace_id == workspace_id,
            Order.identity_id.in_(
                service.identity_ids(session, workspace_id=workspace_id, person_id=person.id)
            ),
        )
        .limit(1)
    )
    return {
        "order_count": person.order_count,
        "lifetime_value": person.lifetime_value,
        "currency": currency or service.get_settings(session, workspace_id=workspace_id).currency,
        "first_order_at": person.first_order_at,
        "last_order_at": person.last_order_at,
        "top_products": top_products(session, workspace_id=workspace_id, person_id=person.id)
        if person.order_count
        else [],
    }


profile_panel(Panel("purchases", "people/_purchases.html", _panel, order=20))
