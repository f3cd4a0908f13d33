"""The inbox without reloads: server-sent events, presence heartbeats, drafts, templates.

``/w/<ws>/inbox/events`` is a ``text/event-stream`` that polls the workspace's
conversations every ``POLL_SECONDS`` and says which numbers changed (``changed``) and on
which ones somebody's presence changed (``presence``); ``inbox.js`` then refreshes the
list rows or the open conversation through htmx. The stream authenticates with a short
transaction of its own and holds no database connection while it waits, and it ends after
``STREAM_SECONDS`` (the browser reconnects, resuming from the last event id).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from h2h.db import transaction, utcnow
from h2h.deps import (
    AgentWorkspace,
    SessionDep,
    WorkspaceDep,
    form_csrf,
    optional_auth,
    workspace_context,
)
from h2h.errors import N_, Unauthenticated
from h2h.inbox import listing, presence, replies, templates
from h2h.inbox.ui import get_conversation
from h2h.templating import render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]

POLL_SECONDS = 2.0
STREAM_SECONDS = 300.0
PING_SECONDS = 15.0
# Rows changed by a transaction that committed after a later one are still seen: each poll
# looks this far behind its cursor and reports a number only when its updated_at is new.
LOOKBACK = timedelta(seconds=10)
MAX_RESUME = timedelta(minutes=10)


def _since(request: Request, since: str | None) -> datetime:
    now = utcnow()
    raw = request.headers.get("last-event-id") or since or ""
    try:
        at = datetime.fromisoformat(raw.strip().replace(" ", "+")) if raw else now
    except ValueError:
        at = now
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return min(max(at, now - MAX_RESUME), now)


def _authorize(request: Request, ws: str) -> uuid.UUID:
    """The workspace id, if the caller may read it (as every page checks)."""
    with transaction(request.app.state.sessions) as session:
        auth = optional_auth(request, session, request.app.state.settings)
        if auth is None:
            raise Unauthenticated(N_("Please log in."))
        return workspace_context(ws, request, session, auth.user).workspace.id


class _Watcher:
    """What changed since the last poll: conversation numbers, and presence on them."""

    def __init__(
        self, factory: sessionmaker[Session], workspace_id: uuid.UUID, since: datetime
    ) -> None:
        self.factory = factory
        self.workspace_id = workspace_id
        self.cursor = since
        self.presence_cursor = since
        self.seen: dict[int, datetime] = {}

    def poll(self) -> tuple[list[int], list[int]]:
        with transaction(self.factory) as session:
            rows = listing.changed_since(
                session, workspace_id=self.workspace_id, since=self.cursor - LOOKBACK
            )
            beats = presence.seen_since(
                session, workspace_id=self.workspace_id, since=self.presence_cursor
            )
        changed = sorted({n for n, at in rows if at > self.cursor or self.seen.get(n) != at})
        for number, at in rows:
            self.seen[number] = at
            self.cursor = max(self.cursor, at)
        horizon = self.cursor - LOOKBACK
        self.seen = {n: at for n, at in self.seen.items() if at >= horizon}
        for _, at in beats:
            self.presence_cursor = max(self.presence_cursor, at)
        return changed, sorted({n for n, _ in beats})


def _event(name: str, numbers: list[int], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps({'numbers': numbers})}\n\n"


async def _stream(watcher: _Watcher) -> AsyncIterator[str]:
    started = last_ping = time.monotonic()
    yield f"retry: 3000\nid: {watcher.cursor.isoformat()}\nevent: ready\ndata: {{}}\n\n"
    while time.monotonic() - started < STREAM_SECONDS:
        changed, seen = await run_in_threadpool(watcher.poll)
        if changed:
            yield _event("changed", changed, watcher.cursor.isoformat())
        if seen:
            yield _event("presence", seen)
        if time.monotonic() - last_ping >= PING_SECONDS:
            last_ping = time.monotonic()
            yield ": ping\n\n"
        await anyio.sleep(POLL_SECONDS)


@router.get("/w/{ws}/inbox/events")
async def events(
    request: Request, ws: str, since: Annotated[str | None, Query(max_length=64)] = None
) -> StreamingResponse:
    """Server-sent events: which conversations changed, as they change."""
    workspace_id = await run_in_threadpool(_authorize, request, ws)
    watcher = _Watcher(request.app.state.sessions, workspace_id, _since(request, since))
    return StreamingResponse(
        _stream(watcher),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# --- presence and drafts ------------------------------------------------------------------------


def _presence(request: Request, session: SessionDep, ctx: WorkspaceDep, number: int) -> Response:
    conversation = get_conversation(session, ctx, number)
    others = presence.others(session, conversation=conversation, user_id=ctx.actor.user_id)
    return render(request, "inbox/_presence.html", {"others": others})


@router.get("/w/{ws}/inbox/{number:int}/presence", response_class=HTMLResponse)
def who_is_here(request: Request, number: int, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _presence(request, session, ctx, number)


@router.post("/w/{ws}/inbox/{number:int}/presence", response_class=HTMLResponse)
def heartbeat(request: Request, number: int, ctx: AgentWorkspace, session: SessionDep) -> Response:
    """The open page's heartbeat; answers with who else is here."""
    conversation = get_conversation(session, ctx, number)
    presence.heartbeat(session, conversation=conversation, actor=ctx.actor)
    return _presence(request, session, ctx, number)


@router.post("/w/{ws}/inbox/{number:int}/draft", response_class=HTMLResponse)
def save_draft(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, text: FormStr = ""
) -> Response:
    """Autosave the reply being written; colleagues see "typing"."""
    conversation = get_conversation(session, ctx, number)
    draft = replies.save_draft(session, conversation=conversation, actor=ctx.actor, text=text)
    presence.heartbeat(session, conversation=conversation, actor=ctx.actor, typing=bool(text))
    return render(request, "inbox/_draft_status.html", {"draft": draft})


@router.get("/w/{ws}/inbox/{number:int}/template", response_class=HTMLResponse)
def use_template(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    template_id: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The reply box filled from a template, for the agent to edit before sending."""
    conversation = get_conversation(session, ctx, number)
    text = ""
    if template_id:
        template = templates.get_template(
            session, workspace_id=ctx.workspace.id, template_id=template_id
        )
        user = ctx.membership.user
        text = templates.render(session, conversation=conversation, template=template, agent=user)
    context = {"conversation": conversation, "reply_text": text, "errors": {}}
    return render(request, "inbox/_reply_text.html", context)
