"""Events in the demo: page views, searches and app opens of a few demo customers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from h2h.db import utcnow
from h2h.people import events

# (identity kind, value, event name, properties, hours ago) per workspace slug.
EVENTS: dict[str, list[tuple[str, str, str, dict[str, Any], float]]] = {
    "zerno": [
        ("email", "a.ivanov@mail.example", "page_view", {"path": "/catalog/ethiopia"}, 300),
        ("email", "a.ivanov@mail.example", "search", {"query": "кения в зёрнах"}, 299.5),
        ("email", "a.ivanov@mail.example", "page_view", {"path": "/catalog/kenya"}, 299),
        (
            "email",
            "a.ivanov@mail.example",
            "add_to_cart",
            {"product": "Эфиопия, 1 кг"},
            298,
        ),
        ("email", "a.ivanov@mail.example", "page_view", {"path": "/brewing/v60"}, 50),
        ("phone", "+7 927 555-01-02", "search", {"query": "подарочный сертификат"}, 220),
        ("phone", "+7 927 555-01-02", "page_view", {"path": "/gift-cards"}, 219.5),
        ("phone", "+7 927 555-01-02", "app_open", {"platform": "ios"}, 40),
    ],
    "carter-dental": [
        ("email", "sarah.mitchell@mail.example", "page_view", {"path": "/booking"}, 370),
        ("email", "sarah.mitchell@mail.example", "form_submit", {"form": "Reschedule"}, 369),
        ("email", "j.oconnor@mail.example", "search", {"query": "implant payment plan"}, 100),
        ("email", "j.oconnor@mail.example", "page_view", {"path": "/pricing/implants"}, 99.5),
    ],
}


def load(session: Session, *, workspace_ids: dict[str, uuid.UUID]) -> None:
    """Record the demo events (external ids keep a second load from adding any)."""
    now = utcnow()
    for slug, rows in EVENTS.items():
        if slug not in workspace_ids:
            continue
        items = [
            {
                "external_id": f"demo-event-{slug}-{n}",
                "name": name,
                "occurred_at": now - timedelta(hours=hours),
                "identity": {"kind": kind, "value": value},
                "properties": properties,
            }
            for n, (kind, value, name, properties, hours) in enumerate(rows)
        ]
        outcome = events.record(
            session, workspace_id=workspace_ids[slug], items=items, source="demo"
        )
        if outcome.errors:  # the demo data is ours: a refusal is a bug
            raise ValueError(f"demo events refused: {outcome.errors}")
