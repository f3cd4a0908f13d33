"""JSON endpoints of the people domain under /api/v1/workspaces/<ws>/people…"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    Auth,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    api_csrf,
)
from h2h.errors import N_, InvalidInput, NotFound
from h2h.people import (
    consent,
    directory,
    fields,
    merging,
    privacy,
    profile,
    schemas,
    service,
    suggestions,
)
from h2h.people import orders as people_orders
from h2h.people.models import AccountKind, IdentityKind, LifecycleStage, Person
from h2h.people.timeline import TimelineItem

AuthDep = Annotated[Auth, Depends(api_csrf)]
router = APIRouter(tags=["people"])


# --- persons, profiles and timelines --------------------------------------------------------------


def _person(session: Session, ctx: WorkspaceContext, person_id: uuid.UUID) -> Person:
    return service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)


def _reads(
    session: Session, ctx: WorkspaceContext, persons: list[Person]
) -> list[schemas.PersonRead]:
    ws, ids = ctx.workspace.id, [p.id for p in persons]
    tags = service.tags_of(session, workspace_id=ws, person_ids=ids)
    found = directory.identities_of(session, workspace_id=ws, person_ids=ids)
    orgs = {o.id: o.name for o in service.list_organizations(session, workspace_id=ws)}
    return [
        schemas.PersonRead.model_validate(p).model_copy(
            update={
                "tags": tags.get(p.id, []),
                "identities": [schemas.IdentityRead.model_validate(i) for i in found.get(p.id, [])],
                "organization": orgs.get(p.organization_id) if p.organization_id else None,
            }
        )
        for p in persons
    ]


def _profile(session: Session, ctx: WorkspaceContext, person: Person) -> schemas.PersonProfile:
    figures = profile.key_figures(session, workspace_id=ctx.workspace.id, person=person)
    read = _reads(session, ctx, [person])[0]
    return schemas.PersonProfile(
        **read.model_dump(),
        key_figures=schemas.KeyFiguresRead.model_validate(figures, from_attributes=True),
    )


@router.get("/workspaces/{ws}/people", response_model=schemas.PersonPage)
def list_people(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=300)] = "",
    stage: LifecycleStage | None = None,
    account_kind: AccountKind | None = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    interest: Annotated[str | None, Query(max_length=100)] = None,
    reachable_on: IdentityKind | None = None,
    owner_id: uuid.UUID | None = None,
    contacted_within_days: Annotated[int | None, Query(ge=0, le=36_500)] = None,
    silent_for_days: Annotated[int | None, Query(ge=0, le=36_500)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """Persons of the workspace, most recently in contact first; search by name or identity."""
    filters = directory.PersonQuery(
        q=q,
        stage=stage,
        account_kind=account_kind,
        tag=service.clean_tag(tag) if tag else None,
        interest=" ".join((interest or "").split()) or None,
        reachable_on=reachable_on,
        owner_id=owner_id,
        contacted_within_days=contacted_within_days,
        silent_for_days=silent_for_days,
    )
    persons, total = service.list_persons(
        session, workspace_id=ctx.workspace.id, filters=filters, page=page
    )
    return schemas.PersonPage(
        items=_reads(session, ctx, persons), total=total, page=page, page_size=directory.PAGE_SIZE
    )


@router.post("/workspaces/{ws}/people", response_model=schemas.PersonProfile, status_code=201)
def create_person(
    body: schemas.PersonCreate, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Add a person by hand, with an email address and/or a phone if known."""
    changes = body.model_dump(exclude_unset=True, exclude={"name", "email", "phone"})
    person = service.create_person(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        name=body.name,
        email=body.email,
        phone=body.phone,
        changes=changes,
    )
    return _profile(session, ctx, person)


@router.get("/workspaces/{ws}/people/{person_id:uuid}", response_model=schemas.PersonProfile)
def get_person(
    person_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """A person's profile with key figures and identities; merged ones name ``merged_into_id``."""
    return _profile(session, ctx, _person(session, ctx, person_id))


@router.patch("/workspaces/{ws}/people/{person_id:uuid}", response_model=schemas.PersonProfile)
def update_person(
    person_id: uuid.UUID,
    body: schemas.PersonUpdate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Change a person's profile: only the fields sent change."""
    person = _person(session, ctx, person_id)
    service.update_person(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person=person,
        changes=body.model_dump(exclude_unset=True),
    )
    return _profile(session, ctx, person)


def timeline_read(slug: str, item: TimelineItem) -> schemas.TimelineItemRead:
    return schemas.TimelineItemRead(
        kind=item.kind,
        at=item.at,
        id=item.id,
        title=item.title,
        body=item.body,
        url=f"/w/{slug}{item.url}" if item.url else None,
        data=item.data,
    )


@router.get(
    "/workspaces/{ws}/people/{person_id:uuid}/timeline", response_model=schemas.TimelinePage
)
def get_timeline(
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=profile.MAX_LIMIT)] = 50,
) -> object:
    """Everything about the person, newest first; page with ``before=<next_cursor>``."""
    person = _person(session, ctx, person_id)
    items, cursor = profile.timeline(
        session, workspace_id=ctx.workspace.id, person_id=person.id, before=before, limit=limit
    )
    slug = ctx.workspace.slug
    return schemas.TimelinePage(items=[timeline_read(slug, i) for i in items], next_cursor=cursor)


@router.post(
    "/workspaces/{ws}/people/{person_id:uuid}/tags", response_model=list[str], status_code=201
)
def add_tag(
    person_id: uuid.UUID,
    body: schemas.TagCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Tag a person; answers the person's tags."""
    person = _person(session, ctx, person_id)
    ws = ctx.workspace.id
    service.add_tag(session, workspace_id=ws, actor=ctx.actor, person=person, tag=body.tag)
    session.flush()
    return service.tags_of(session, workspace_id=ws, person_ids=[person.id]).get(person.id, [])


@router.delete("/workspaces/{ws}/people/{person_id:uuid}/tags/{tag}", status_code=204)
def remove_tag(
    person_id: uuid.UUID, tag: str, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    """Take a tag off a person."""
    person = _person(session, ctx, person_id)
    service.remove_tag(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, person=person, tag=tag
    )
    return Response(status_code=204)


@router.post(
    "/workspaces/{ws}/people/{person_id:uuid}/notes",
    response_model=schemas.NoteRead,
    status_code=201,
)
def add_note(
    person_id: uuid.UUID,
    body: schemas.NoteCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Write a note about a person; it shows on their timeline."""
    person = _person(session, ctx, person_id)
    return service.add_note(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, person=person, text=body.text
    )


@router.delete("/workspaces/{ws}/people/{person_id:uuid}/notes/{note_id}", status_code=204)
def delete_note(
    person_id: uuid.UUID,
    note_id: uuid.UUID,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> Response:
    """Delete a note (its author or an admin)."""
    person = _person(session, ctx, person_id)
    note = service.get_note(session, workspace_id=ctx.workspace.id, note_id=note_id)
    if note.person_id != person.id:
        raise NotFound()
    service.delete_note(session, workspace_id=ctx.workspace.id, actor=ctx.actor, note=note)
    return Response(status_code=204)


# --- custom fields ------------------------------------------------------------------------------


@router.get("/workspaces/{ws}/people/fields", response_model=list[schemas.FieldRead])
def list_fields(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """The workspace's custom fields of persons."""
    return fields.list_fields(session, workspace_id=ctx.workspace.id)


@router.post("/workspaces/{ws}/people/fields", response_model=schemas.FieldRead, status_code=201)
def create_field(
    body: schemas.FieldCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Add a custom field; values go in a person's ``attributes`` under its key."""
    return fields.create_field(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        key=body.key,
        label=body.label,
        type=body.type,
        choices=body.choices,
    )


@router.patch("/workspaces/{ws}/people/fields/{field_id}", response_model=schemas.FieldRead)
def update_field(
    field_id: uuid.UUID,
    body: schemas.FieldUpdate,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Rename a custom field or change its choices."""
    definition = fields.get_field(session, workspace_id=ctx.workspace.id, field_id=field_id)
    return fields.update_field(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        definition=definition,
        label=body.label,
        choices=body.choices,
    )


@router.delete("/workspaces/{ws}/people/fields/{field_id}", status_code=204)
def delete_field(
    field_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    """Delete a custom field (stored values stay, hidden)."""
    definition = fields.get_field(session, workspace_id=ctx.workspace.id, field_id=field_id)
    fields.delete_field(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, definition=definition
    )
    return Response(status_code=204)


# --- merges -----------------------------------------------------------------------------------


def _suggestion_read(view: suggestions.SuggestionView) -> schemas.MergeSuggestionRead:
    s = view.suggestion
    return schemas.MergeSuggestionRead(
        id=s.id,
        person_a=schemas.PersonBrief(id=view.a.id, name=view.a.name),
        person_b=schemas.PersonBrief(id=view.b.id, name=view.b.name),
        score=s.score,
        evidence=[schemas.Evidence.model_validate(e) for e in s.evidence],
        created_at=s.created_at,
    )


@router.get("/workspaces/{ws}/people/merge-suggestions", response_model=schemas.MergeSuggestionPage)
def list_merge_suggestions(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    person_id: uuid.UUID | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """Open merge suggestions, highest score first, with the evidence for each."""
    views, total = suggestions.list_suggestions(
        session, workspace_id=ctx.workspace.id, person_id=person_id, page=page
    )
    return schemas.MergeSuggestionPage(
        items=[_suggestion_read(v) for v in views],
        total=total,
        page=page,
        page_size=suggestions.PAGE,
    )


@router.post(
    "/workspaces/{ws}/people/merge-suggestions/{suggestion_id:uuid}/merge",
    response_model=schemas.MergeRead,
    status_code=201,
)
def merge_suggestion(
    suggestion_id: uuid.UUID, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Merge the two persons of a suggestion; the busier profile stays."""
    return suggestions.merge_suggestion(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, suggestion_id=suggestion_id
    )


@router.post(
    "/workspaces/{ws}/people/merge-suggestions/{suggestion_id:uuid}/dismiss", status_code=204
)
def dismiss_merge_suggestion(
    suggestion_id: uuid.UUID, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    """ "Not the same person": the pair is never proposed again."""
    suggestions.dismiss(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, suggestion_id=suggestion_id
    )
    return Response(status_code=204)


@router.post(
    "/workspaces/{ws}/people/{person_id:uuid}/merge",
    response_model=schemas.MergeRead,
    status_code=201,
)
def merge_person(
    person_id: uuid.UUID,
    body: schemas.MergeCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Merge ``other_id`` into this person, who stays; can be undone."""
    return merging.merge(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        winner_id=_person(session, ctx, person_id).id,
        loser_id=body.other_id,
    )


@router.get("/workspaces/{ws}/people/merges", response_model=list[schemas.MergeRead])
def list_merges(
    ctx: WorkspaceDep, auth: AuthDep, session: SessionDep, person_id: uuid.UUID | None = None
) -> object:
    """Merges, newest first (those of one person with ``person_id``)."""
    views = suggestions.list_merges(session, workspace_id=ctx.workspace.id, person_id=person_id)
    return [v.merge for v in views]


@router.post(
    "/workspaces/{ws}/people/merges/{merge_id:uuid}/undo", response_model=schemas.MergeRead
)
def undo_merge(
    merge_id: uuid.UUID, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Undo a merge: both persons as they were (later merges of the winner first)."""
    return merging.unmerge(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, merge_id=merge_id
    )


# --- consent and data-subject rights ----------------------------------------------------------


@router.get(
    "/workspaces/{ws}/people/{person_id:uuid}/consents", response_model=schemas.ConsentStateRead
)
def get_consents(
    person_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """The person's consent matrix (channel × purpose, deciding record), blocks and history."""
    person = _person(session, ctx, person_id)
    state = consent.consent_state(session, workspace_id=ctx.workspace.id, person_id=person.id)
    cells = [
        schemas.ConsentCell(
            channel=channel,
            purpose=purpose,
            status=cell.record.status if cell.record else None,
            inherited=cell.inherited,
            consent_id=cell.record.id if cell.record else None,
        )
        for (channel, purpose), cell in state.cells.items()
    ]
    return schemas.ConsentStateRead(
        cells=cells,
        blocks=[schemas.BlockRead.model_validate(b) for b in state.blocks.values()],
        history=[schemas.ConsentRead.model_validate(c) for c in state.history],
    )


@router.post(
    "/workspaces/{ws}/people/{person_id:uuid}/consents",
    response_model=schemas.ConsentRead,
    status_code=201,
)
def record_consent(
    person_id: uuid.UUID,
    body: schemas.ConsentCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Record a consent granted or withdrawn (append-only: the history stays)."""
    person = _person(session, ctx, person_id)
    return consent.record_consent(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person_id=person.id,
        channel=body.channel,
        purpose=body.purpose,
        status=body.status,
        source=body.source,
        evidence=body.evidence,
        recorded_at=body.recorded_at,
    )


@router.post(
    "/workspaces/{ws}/people/{person_id:uuid}/blocks",
    response_model=schemas.BlockRead,
    status_code=201,
)
def block_contact(
    person_id: uuid.UUID,
    body: schemas.BlockCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Do not contact the person on a channel ("any": every channel)."""
    person = _person(session, ctx, person_id)
    return consent.block(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person_id=person.id,
        channel=body.channel,
        reason=body.reason,
    )


@router.delete("/workspaces/{ws}/people/{person_id:uuid}/blocks", status_code=204)
def unblock_contact(
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    channel: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Lift a do-not-contact: ``?channel=telegram`` (or ``any``)."""
    person = _person(session, ctx, person_id)
    consent.unblock(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        person_id=person.id,
        channel=channel,
    )
    return Response(status_code=204)


@router.get(
    "/workspaces/{ws}/people/{person_id:uuid}/may-contact", response_model=schemas.DecisionRead
)
def may_contact(
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    channel: Annotated[str, Query(max_length=16)] = "",
    purpose: Annotated[str, Query(max_length=16)] = "",
    in_reply_to: Annotated[str | None, Query(max_length=64)] = None,
) -> object:
    """May we send this person a message of ``purpose`` on ``channel`` now, and why."""
    person = _person(session, ctx, person_id)
    decision = consent.may_contact(
        session,
        workspace_id=ctx.workspace.id,
        person_id=person.id,
        channel=channel,
        purpose=purpose,
        in_reply_to=in_reply_to,
    )
    return decision.as_dict()


@router.get("/workspaces/{ws}/people/{person_id:uuid}/export")
def export_person(
    person_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> JSONResponse:
    """Everything about the person as JSON: profile, identities, messages, orders, consents…"""
    person = _person(session, ctx, person_id)
    return JSONResponse(
        privacy.export_person(
            session, workspace_id=ctx.workspace.id, person_id=person.id, actor=ctx.actor
        )
    )


@router.post("/workspaces/{ws}/people/{person_id:uuid}/erase", response_model=schemas.ErasureRead)
def erase_person(
    person_id: uuid.UUID,
    body: schemas.ErasureConfirm,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Erase the person at their request — irreversible; send ``{"confirm": true}``."""
    person = _person(session, ctx, person_id)
    if not body.confirm:
        raise InvalidInput(
            N_("Erasure cannot be undone: confirm it with “confirm”: true."), field="confirm"
        )
    report = privacy.erase_person(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, person_id=person.id
    )
    return report.as_dict()


ORDERS_PAGE = 50


@router.get("/workspaces/{ws}/people/{person_id:uuid}/orders", response_model=schemas.OrderPage)
def list_person_orders(
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """The person's orders and cancellations, newest first, in pages of 50."""
    person = _person(session, ctx, person_id)
    items, total = people_orders.person_orders(
        session,
        workspace_id=ctx.workspace.id,
        person_id=person.id,
        page=page,
        page_size=ORDERS_PAGE,
    )
    return schemas.OrderPage(
        items=[schemas.OrderRead.model_validate(o) for o in items],
        total=total,
        page=page,
        page_size=ORDERS_PAGE,
    )
