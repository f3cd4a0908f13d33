"""The mention stream as a file: /w/<ws>/mentions/export.csv and export.xlsx.

The same query parameters, role (any member), filters, search and order as the stream,
read in pages through ``channels.stream_statement``; texts are masked where the page masks
them (profanity), erased messages come out as the page shows them: without text or author.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from h2h import exports
from h2h.channels import service as channels
from h2h.channels.models import Message
from h2h.channels.ui import StreamQuery, _zone, safe_url
from h2h.db import utcnow
from h2h.deps import SessionDep, WorkspaceDep
from h2h.errors import N_
from h2h.nlp import profanity
from h2h.nlp import service as nlp
from h2h.nlp.models import INTENT_LABELS, SENTIMENT_LABELS, Analysis, intents_of
from h2h.subjects import service as subjects
from h2h.templating import page_gettext

router = APIRouter(include_in_schema=False)

COLUMNS = (
    exports.Column(N_("Date"), 18),
    exports.Column(N_("Channel"), 18),
    exports.Column(N_("Author"), 24),
    exports.Column(N_("Handle"), 20),
    exports.Column(N_("Text"), 60),
    exports.Column(N_("Language"), 8),
    exports.Column(N_("Tone"), 10),
    exports.Column(N_("Intents"), 20),
    exports.Column(N_("Urgency"), 9),
    exports.Column(N_("Subjects"), 20),
    exports.Column(N_("Reposts"), 9),
    exports.Column(N_("Link"), 30),
)


def stream_query(
    q: Annotated[str, Query(max_length=500)] = "",
    subject: Annotated[str, Query(max_length=64)] = "",
    channel: Annotated[str, Query(max_length=64)] = "",
    language: Annotated[str, Query(max_length=8)] = "",
    author: Annotated[str, Query(max_length=300)] = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    reposts: bool = False,
    sentiment: Annotated[str, Query(max_length=16)] = "",
    intent: Annotated[str, Query(max_length=16)] = "",
    aspect: Annotated[str, Query(max_length=64)] = "",
    urgency: Annotated[str, Query(max_length=16)] = "",
    sort: Annotated[str, Query(max_length=16)] = "",
) -> StreamQuery:
    """The stream's query parameters, with the page's limits."""
    return StreamQuery(
        q, subject, channel, language, author, since, until, reposts,
        sentiment, intent, aspect, urgency, sort,
    )  # fmt: skip


@router.get("/w/{ws}/mentions/export.csv")
@router.get("/w/{ws}/mentions/export.xlsx")
def export_mentions(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    stream: Annotated[StreamQuery, Depends(stream_query)],
) -> Response:
    """The messages the stream shows for these query parameters."""
    fmt = exports.requested_format(request)
    ws = ctx.workspace.id
    stmt = channels.stream_statement(session, workspace_id=ws, filters=stream.filters(_zone(ctx)))
    names = {c.id: c.name for c in channels.list_channels(session, workspace_id=ws)}
    gettext = page_gettext(request)

    def rows(reading: Session) -> Iterator[list[Any]]:
        for page in exports.scalars_in_pages(reading, stmt):
            ids = [m.id for m in page]
            analyses = nlp.analyses_of(reading, workspace_id=ws, message_ids=ids)
            matched = subjects.subjects_of(reading, workspace_id=ws, message_ids=ids)
            copies = channels.repost_counts(reading, workspace_id=ws, message_ids=ids)
            for m in page:
                analysis = analyses.get(m.id)
                found = ", ".join(s.name for s in matched.get(m.id, ()))
                yield _row(m, analysis, names, found, copies.get(m.id, 0), gettext)

    filename = f"{ctx.workspace.slug}-mentions-{utcnow().date().isoformat()}"
    table = exports.Export(filename, COLUMNS, rows, ctx.workspace.timezone)
    return exports.respond(request, session, table, fmt)


def _row(
    m: Message,
    analysis: Analysis | None,
    names: dict[Any, str],
    subject_names: str,
    reposts: int,
    gettext: Any,
) -> list[Any]:
    text = profanity.mask(m.text) if analysis and analysis.profanity else m.text
    return [
        m.created_at,
        names.get(m.channel_id),
        m.author_name,
        m.author_handle,
        text,
        m.language,
        gettext(SENTIMENT_LABELS[analysis.sentiment]) if analysis else None,
        ", ".join(gettext(INTENT_LABELS.get(i, i)) for i in intents_of(analysis.intents))
        if analysis
        else None,
        round(analysis.urgency, 2) if analysis else None,
        subject_names,
        reposts,
        safe_url(m.url),
    ]
