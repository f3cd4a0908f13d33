"""Reading events: a person's newest events (the API) and the "event" timeline source."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, union_all
from sqlalchemy.orm import Session

from h2h.errors import N_, InvalidInput
from h2h.people.events import EVENTS
from h2h.people.models import Event
from h2h.people.timeline import TimelineItem, TimelineQuery, timeline_source

DETAIL_MAX = 200  # characters of a path or a query shown in a title
# Titles by event name; ``{…}`` are filled from the item's data (see ``_data``).
TITLES = {
    "page_view": N_("Viewed page {page}"),
    "search": N_("Searched “{query}”"),
    "app_open": N_("Opened the app"),
    "app_install": N_("Installed the app"),
    "signup": N_("Signed up"),
    "login": N_("Logged in"),
    "logout": N_("Logged out"),
    "add_to_cart": N_("Added {product} to the cart"),
    "remove_from_cart": N_("Removed {product} from the cart"),
    "checkout": N_("Started checkout"),
    "purchase": N_("Completed a purchase"),
    "form_submit": N_("Sent the form {form}"),
    "click": N_("Clicked {target}"),
    "download": N_("Downloaded {file}"),
    "video_play": N_("Watched {video}"),
    "email_open": N_("Opened an email"),
    "email_click": N_("Clicked a link in an email"),
    "subscribe": N_("Subscribed"),
    "unsubscribe": N_("Unsubscribed"),
    "share": N_("Shared {target}"),
}
UNTITLED = {  # the same actions when the detail is missing
    "page_view": N_("Viewed a page"),
    "search": N_("Searched"),
    "add_to_cart": N_("Added a product to the cart"),
    "remove_from_cart": N_("Removed a product from the cart"),
    "form_submit": N_("Sent a form"),
    "click": N_("Clicked"),
    "download": N_("Downloaded a file"),
    "video_play": N_("Watched a video"),
    "share": N_("Shared"),
}
OTHER = N_("Event {name}")
# The detail each title shows: the first property present of these.
DETAILS = {
    "page": ("path", "url", "title", "page"),
    "query": ("query", "q", "term", "search"),
    "product": ("product", "product_name", "sku", "item"),
    "form": ("form", "form_name", "name"),
    "target": ("target", "label", "url", "element"),
    "file": ("file", "filename", "url"),
    "video": ("video", "title", "url"),
}


def _detail(properties: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = properties.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            return " ".join(str(value).split())[:DETAIL_MAX]
    return None


def title_and_data(event: Event) -> tuple[str, dict[str, Any]]:
    """The English msgid of the event's title and the data that fills it."""
    properties = event.properties if isinstance(event.properties, dict) else {}
    data: dict[str, Any] = {"name": event.name, "properties": properties, "source": event.source}
    title = TITLES.get(event.name)
    if title is None:
        return OTHER, data
    for slot, keys in DETAILS.items():
        if "{" + slot + "}" in title:
            detail = _detail(properties, keys)
            if detail is None:
                return UNTITLED[event.name], data
            data[slot] = detail
    return title, data


@timeline_source("event")
def event_source(session: Session, query: TimelineQuery) -> list[TimelineItem]:
    """What the person did on the site or in the app, newest first."""
    found = newest(
        session,
        workspace_id=query.workspace_id,
        identity_ids=query.identity_ids,
        before=(query.before, None) if query.before is not None else None,
        limit=query.limit,
    )
    items = []
    for event in found:
        title, data = title_and_data(event)
        at, item_id = event.occurred_at, str(event.id)
        items.append(TimelineItem(kind="event", at=at, id=item_id, title=title, data=data))
    return items


# --- reading ------------------------------------------------------------------------------------


def newest(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    identity_ids: Sequence[uuid.UUID],
    before: tuple[datetime, uuid.UUID | None] | None = None,
    limit: int = 50,
    name: str | None = None,
) -> list[Event]:
    """The newest events of these identities, older than ``before`` (time, then id).

    One LIMITed range of the (workspace_id, identity_id, occurred_at) index per identity,
    merged here: ``identity_id IN (…)`` would read and sort every event of a heavy visitor.
    """
    if not identity_ids:
        return []
    parts = []
    for identity_id in identity_ids:
        stmt = select(EVENTS.c.id, EVENTS.c.occurred_at).where(
            EVENTS.c.workspace_id == workspace_id, EVENTS.c.identity_id == identity_id
        )
        if name is not None:
            stmt = stmt.where(EVENTS.c.name == name)
        if before is not None:
            at, last_id = before
            older = EVENTS.c.occurred_at < at
            if last_id is not None:
                older = or_(older, and_(EVENTS.c.occurred_at == at, EVENTS.c.id < last_id))
            stmt = stmt.where(older)
        parts.append(
            stmt.order_by(EVENTS.c.occurred_at.desc(), EVENTS.c.id.desc()).limit(limit).subquery()
        )
    query = union_all(*(select(p) for p in parts)) if len(parts) > 1 else select(parts[0])
    keys = sorted(session.execute(query), key=lambda r: (_utc(r.occurred_at), r.id), reverse=True)
    ids = [r.id for r in keys[:limit]]
    if not ids:
        return []
    events = {
        e.id: e
        for e in session.scalars(
            select(Event).where(Event.workspace_id == workspace_id, Event.id.in_(ids))
        )
    }
    return [events[i] for i in ids if i in events]


def _utc(value: Any) -> datetime:
    at: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def encode_cursor(event: Event) -> str:
    return f"{_utc(event.occurred_at).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}~{event.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID | None] | None:
    """(time, id) of the last event of the previous page; InvalidInput when it is not one."""
    if not cursor:
        return None
    text, _, last = cursor.partition("~")
    try:
        at = datetime.fromisoformat(text.strip().replace(" ", "+"))
        last_id = uuid.UUID(last) if last else None
    except ValueError:
        raise InvalidInput(
            N_("“{value}” is not a position in the events; use the next cursor of a page."),
            field="before",
            value=cursor[:60],
        ) from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC), last_id
