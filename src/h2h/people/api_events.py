"""The events API: live tracking of page views, searches and app events, and a person's events.

``POST /api/v1/workspaces/<ws>/events`` takes one event, a list of up to 1000, or
``{"events": [...]}``, with an API token (or a member's session and CSRF header) of an
agent or above. Each item is checked on its own: the answer counts what was stored, what
was already there (same external id, or the same event sent again) and lists the refused
items by index, field and reason. ``POST /api/v1/events`` is the same for a token whose
user belongs to one workspace (or names it with ``?workspace=<slug>``): tokens belong to
users, not to workspaces.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, RootModel
from sqlalchemy.orm import Session

from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.accounts.schemas import ORMModel
from h2h.deps import AgentWorkspace, Auth, SessionDep, WorkspaceContext, WorkspaceDep, api_csrf
from h2h.deps import workspace_context as resolve_workspace
from h2h.errors import N_, InvalidInput, NotFound
from h2h.people import events, events_timeline, identities, service

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["events"])
MAX_PAGE = 200


class EventBatch(RootModel[list[Any] | dict[str, Any]]):
    """One event, a list of events, or {"events": [...]}.

    An event: ``name`` (page_view, search, app_open, signup, … or app.<name>),
    ``occurred_at`` (ISO 8601 with a zone), optional ``identity`` ({"kind": "email",
    "value": "anna@example.com"}; kinds email, phone, site, telegram, vk, twitter,
    customer_id; none for an anonymous event), ``properties`` (a JSON object, ≤ 16 KB,
    ≤ 3 levels) and ``external_id`` (your id of the event; makes retries safe).
    """


class ItemErrorRead(BaseModel):
    index: int = Field(description="Position of the item in the batch, from 0.")
    field: str | None
    reason: str


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events already stored (or sent twice in this batch).")
    rejected: int
    errors: list[ItemErrorRead]


class EventRead(ORMModel):
    id: uuid.UUID
    external_id: str
    name: str
    occurred_at: datetime
    identity_id: uuid.UUID | None
    properties: dict[str, Any]
    source: str | None
    received_at: datetime


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None = Field(description="Pass as ?before= for the next, older page.")


def _items(body: EventBatch) -> list[Any]:
    value = body.root
    if isinstance(value, dict) and isinstance(value.get("events"), list):
        value = value["events"]
    items = value if isinstance(value, list) else [value]
    if len(items) > events.MAX_BATCH:
        raise InvalidInput(
            N_("At most {limit} events per request; this one has {count}."),
            field="events",
            limit=events.MAX_BATCH,
            count=len(items),
        )
    return items


def _record(session: Session, ctx: WorkspaceContext, body: EventBatch) -> EventsAccepted:
    outcome = events.record(
        session,
        workspace_id=ctx.workspace.id,
        items=_items(body),
        source="api",
        region=identities.region_for(ctx.workspace.language),
    )
    return EventsAccepted(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=outcome.rejected,
        errors=[
            ItemErrorRead(index=e.index, field=e.field, reason=e.reason) for e in outcome.errors
        ],
    )


@router.post("/workspaces/{ws}/events", response_model=EventsAccepted)
def track_events(
    body: EventBatch, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Record events (one or up to 1000); bad items are listed, good ones stored once."""
    return _record(session, ctx, body)


@router.post("/events", response_model=EventsAccepted)
def track_events_by_token(
    body: EventBatch,
    request: Request,
    auth: AuthDep,
    session: SessionDep,
    workspace: Annotated[str | None, Query(max_length=100, description="Workspace slug.")] = None,
) -> object:
    """Record events in the token's workspace (name it with ?workspace= if there are several)."""
    slug = workspace or _only_workspace(session, auth)
    ctx = resolve_workspace(slug, request, session, auth.user)
    ctx.actor.require(Role.AGENT)
    return _record(session, ctx, body)


def _only_workspace(session: Session, auth: Auth) -> str:
    memberships = accounts.list_memberships_of(session, user=auth.user)
    if not memberships:
        raise NotFound()
    if len(memberships) > 1:
        raise InvalidInput(
            N_(
                "You belong to {count} workspaces: add ?workspace=<slug>, or post to "
                "/api/v1/workspaces/<slug>/events."
            ),
            field="workspace",
            count=len(memberships),
        )
    return memberships[0].workspace.slug


@router.get("/workspaces/{ws}/people/{person_id:uuid}/events", response_model=EventPage)
def person_events(
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    name: Annotated[str | None, Query(max_length=100)] = None,
) -> object:
    """A person's events, newest first; page with ``before=<next_cursor>``."""
    ws = ctx.workspace.id
    person = service.get_person(session, workspace_id=ws, person_id=person_id)
    found = events_timeline.newest(
        session,
        workspace_id=ws,
        identity_ids=service.identity_ids(session, workspace_id=ws, person_id=person.id),
        before=events_timeline.decode_cursor(before),
        limit=limit + 1,
        name=events.check_name(name) if name else None,
    )
    page = found[:limit]
    cursor = events_timeline.encode_cursor(page[-1]) if len(found) > limit else None
    return EventPage(items=[EventRead.model_validate(e) for e in page], next_cursor=cursor)
