"""The inbox list as a file: /w/<ws>/inbox/export.csv and export.xlsx.

Same query parameters and role as the list (any member), same filters, search and order
(overdue first), read in pages through ``listing.list_statement``; labels are in the
reader's language, times in the workspace's time zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from h2h import exports
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.deps import SessionDep, WorkspaceDep
from h2h.errors import N_
from h2h.inbox import listing, sla
from h2h.inbox.models import PRIORITY_LABELS, STATE_LABELS, Conversation
from h2h.nlp.models import INTENT_LABELS, SENTIMENT_LABELS, intents_of
from h2h.people import service as people
from h2h.templating import page_gettext

router = APIRouter(include_in_schema=False)

COLUMNS = (
    exports.Column("#", 8),
    exports.Column(N_("State"), 14),
    exports.Column(N_("Priority"), 10),
    exports.Column(N_("SLA"), 12),
    exports.Column(N_("Assignee"), 20),
    exports.Column(N_("Channel"), 18),
    exports.Column(N_("Customer"), 24),
    exports.Column(N_("Email subject"), 30),
    exports.Column(N_("Last message"), 50),
    exports.Column(N_("Tone"), 10),
    exports.Column(N_("Intents"), 20),
    exports.Column(N_("Language"), 8),
    exports.Column(N_("Messages"), 10),
    exports.Column(N_("Opened"), 18),
    exports.Column(N_("Last message at"), 18),
    exports.Column(N_("Due"), 18),
)


@router.get("/w/{ws}/inbox/export.csv")
@router.get("/w/{ws}/inbox/export.xlsx")
def export_inbox(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    """The conversations the list shows for these query parameters."""
    fmt = exports.requested_format(request)
    ws = ctx.workspace.id
    query = listing.InboxQuery.from_params(request.query_params)
    now = utcnow()
    stmt = listing.list_statement(
        session, workspace_id=ws, query=query, user_id=ctx.actor.user_id, now=now
    )
    names = {
        "channels": {c.id: c.name for c in channels.list_channels(session, workspace_id=ws)},
        "members": people.member_names(session, workspace_id=ws),
    }
    row = _row_maker(page_gettext(request), names, now)

    def rows(reading: Session) -> Iterator[list[Any]]:
        for page in exports.scalars_in_pages(reading, stmt):
            yield from (row(c) for c in page)

    filename = f"{ctx.workspace.slug}-inbox-{now.date().isoformat()}"
    table = exports.Export(filename, COLUMNS, rows, ctx.workspace.timezone)
    return exports.respond(request, session, table, fmt)


def _row_maker(
    gettext: Callable[[str], str], names: dict[str, dict[uuid.UUID, str]], now: datetime
) -> Callable[[Conversation], list[Any]]:
    def label(table: dict[Any, str], key: Any) -> str | None:
        return gettext(table[key]) if key in table else key

    def row(c: Conversation) -> list[Any]:
        status = sla.status(c, now)
        return [
            c.number,
            label(STATE_LABELS, c.state),
            label(PRIORITY_LABELS, c.priority),
            gettext(sla.STATUS_LABELS[status]) if status else None,
            names["members"].get(c.owner_id) if c.owner_id else None,
            names["channels"].get(c.channel_id),
            c.author_name,
            c.subject,
            c.preview,
            label(SENTIMENT_LABELS, c.sentiment) if c.sentiment else None,
            ", ".join(label(INTENT_LABELS, i) or i for i in intents_of(c.intents)),
            c.language,
            c.message_count,
            c.opened_at,
            c.last_message_at,
            c.due_at,
        ]

    return row
