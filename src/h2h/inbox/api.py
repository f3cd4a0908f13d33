"""JSON endpoints of the inbox under /api/v1/workspaces/<ws>/inbox…

Members read conversations; agents and up reply, write notes, assign, change state and
priority, merge and split; admins manage outbound webhooks and automation rules.
Conversations are addressed by their number in the workspace (``#12`` → ``/12``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from h2h.accounts.models import User
from h2h.channels import service as channels
from h2h.db import utcnow
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    Auth,
    JobsDep,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    api_csrf,
)
from h2h.errors import N_, InvalidInput, NotFound
from h2h.inbox import automation, listing, notify_out, replies, schemas, service, sla, webhooks
from h2h.inbox.models import Conversation, Delivery, DeliveryStatus, Priority
from h2h.jobs import Jobs
from h2h.nlp.models import INTENTS, Sentiment, intents_of
from h2h.people import service as people
from h2h.templating import page_gettext

AuthDep = Annotated[Auth, Depends(api_csrf)]
Number = Annotated[int, Path(ge=1, le=schemas.MAX_NUMBER)]
BASE = "/workspaces/{ws}/inbox"
CONVERSATION = BASE + "/conversations/{number}"
router = APIRouter(tags=["inbox"])
READ_FIELDS = tuple(schemas.ConversationRead.model_fields)


def _dispatch(session: SessionDep, jobs: JobsDep) -> Iterator[None]:
    # Runs after the handler returned and before the request's commit: the webhooks its
    # events queued are sent once that commit succeeds (and never if it rolls back).
    yield
    webhooks.dispatch_after_commit(session, jobs)
    notify_out.dispatch_after_commit(session, jobs)


Writes = [Depends(_dispatch)]


# --- reading ----------------------------------------------------------------------------------


def _conversation(session: Session, ctx: WorkspaceContext, number: int) -> Conversation:
    return service.by_number(session, workspace_id=ctx.workspace.id, number=number)


def _reads(
    session: Session, ctx: WorkspaceContext, conversations: Sequence[Conversation]
) -> list[schemas.ConversationRead]:
    ws, now = ctx.workspace.id, utcnow()
    owner_ids = {c.owner_id for c in conversations if c.owner_id}
    names = (
        dict(session.execute(select(User.id, User.name).where(User.id.in_(owner_ids))).all())
        if owner_ids
        else {}
    )
    kinds = {c.id: c.kind.value for c in channels.list_channels(session, workspace_id=ws)}
    identities = sorted({c.identity_id for c in conversations if c.identity_id})
    persons = people.persons_by_identity(session, workspace_id=ws, identity_ids=identities)
    merged = {c.merged_into_id for c in conversations if c.merged_into_id}
    numbers = (
        dict(
            session.execute(
                select(Conversation.id, Conversation.number).where(
                    Conversation.workspace_id == ws, Conversation.id.in_(merged)
                )
            ).all()
        )
        if merged
        else {}
    )
    reads = []
    for c in conversations:
        person = persons.get(c.identity_id) if c.identity_id else None
        owner = (
            schemas.OwnerRead(id=c.owner_id, name=names.get(c.owner_id, "")) if c.owner_id else None
        )
        extra = {
            "owner": owner,
            "channel_kind": kinds.get(c.channel_id),
            "person_id": person.id if person else None,
            "intents": intents_of(c.intents),
            "sla_status": sla.status(c, now),
            "merged_into": numbers.get(c.merged_into_id) if c.merged_into_id else None,
        }
        columns = {name: getattr(c, name) for name in READ_FIELDS if hasattr(c, name)}
        reads.append(schemas.ConversationRead.model_validate(columns | extra))
    return reads


def _owner_param(value: str) -> str:
    if value in ("", "me", "none"):
        return {"me": "mine", "none": "unassigned"}.get(value, "")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(N_("A member's id, “me” or “none”."), field="owner") from None


@router.get(BASE + "/conversations", response_model=schemas.ConversationPage)
def list_conversations(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    state: Literal["open", "pending", "resolved", "not_answering", "all"] = "open",
    owner: Annotated[str, Query(max_length=64, description='A user id, "me" or "none".')] = "",
    priority: Priority | None = None,
    sla_status: Literal["breached", "due_soon", "on_track", "none"] | None = None,
    channel_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    sentiment: Sentiment | None = None,
    intent: Annotated[str | None, Query(max_length=32)] = None,
    aspect: Annotated[str | None, Query(max_length=100)] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str, Query(max_length=300)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """Conversations: overdue first, then by priority, then the latest message first."""
    if intent and intent not in INTENTS:
        raise InvalidInput(
            N_("Unknown intent; one of: {known}."), field="intent", known=", ".join(INTENTS)
        )
    query = listing.InboxQuery.from_params(
        {
            "state": state,
            "owner": _owner_param(owner),
            "priority": priority.value if priority else "",
            "sla": sla_status or "",
            "channel": str(channel_id or ""),
            "subject": str(subject_id or ""),
            "sentiment": sentiment.value if sentiment else "",
            "intent": intent or "",
            "aspect": aspect or "",
            "language": language or "",
            "tag": tag or "",
            "q": q,
        }
    )
    rows, total = listing.list_conversations(
        session, workspace_id=ctx.workspace.id, query=query, user_id=auth.user.id, page=page
    )
    return schemas.ConversationPage(
        items=_reads(session, ctx, rows), total=total, page=page, page_size=listing.PAGE_SIZE
    )


@router.get(CONVERSATION, response_model=schemas.ConversationDetail)
def get_conversation(
    number: Number, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """One conversation with its messages (oldest first), history, notes and replies."""
    conversation = _conversation(session, ctx, number)
    return _detail(session, ctx, conversation)


def _detail(
    session: Session, ctx: WorkspaceContext, conversation: Conversation
) -> schemas.ConversationDetail:
    ids = service.message_ids(session, conversation=conversation)
    messages = channels.messages_by_id(session, workspace_id=ctx.workspace.id, message_ids=ids)
    return schemas.ConversationDetail(
        **_reads(session, ctx, [conversation])[0].model_dump(),
        can_send=replies.can_send(session, conversation),
        messages=[
            schemas.MessageRead(
                id=m.id,
                direction=m.direction.value,
                author_handle=m.author_handle,
                author_name=m.author_name,
                text=m.text,
                url=m.url,
                language=m.language,
                created_at=m.created_at,
            )
            for m in messages
        ],
        events=[
            schemas.EventRead.model_validate(e)
            for e in service.history(session, conversation=conversation)
        ],
        notes=[
            schemas.ConversationNoteRead.model_validate(n)
            for n in service.notes(session, conversation=conversation)
        ],
        deliveries=[
            schemas.DeliveryRead.model_validate(d)
            for d in replies.deliveries_of(session, conversation=conversation)
        ],
    )


@router.get(BASE + "/close-reasons", response_model=list[schemas.CloseReasonRead])
def list_close_reasons(
    request: Request, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """Reasons to close a conversation without an answer, in the workspace's order."""
    gettext = page_gettext(request)
    return [
        schemas.CloseReasonRead(key=key, label=gettext(label))
        for key, label in service.reasons(session, workspace_id=ctx.workspace.id)
    ]


# --- replies ----------------------------------------------------------------------------------


def _enqueue_delivery(session: Session, jobs: Jobs, delivery: Delivery) -> None:
    if delivery.status is DeliveryStatus.QUEUED:
        jobs.enqueue_after_commit(
            session,
            "inbox.deliver",
            workspace_id=str(delivery.workspace_id),
            delivery_id=str(delivery.id),
        )


@router.post(
    CONVERSATION + "/replies",
    response_model=schemas.DeliveryRead,
    status_code=201,
    dependencies=Writes,
)
def reply(
    number: Number,
    body: schemas.ReplyCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    jobs: JobsDep,
) -> object:
    """Reply through the conversation's channel; delivered by a job, retried, sent once.

    A channel H2H cannot post to records the reply instead (status ``recorded``).
    """
    conversation = _conversation(session, ctx, number)
    delivery = replies.compose(
        session,
        conversation=conversation,
        actor=ctx.actor,
        text=body.text,
        template_id=body.template_id,
    )
    _enqueue_delivery(session, jobs, delivery)
    return delivery


@router.post(
    CONVERSATION + "/replies/elsewhere",
    response_model=schemas.DeliveryRead,
    status_code=201,
    dependencies=Writes,
)
def record_reply(
    number: Number,
    body: schemas.ReplyElsewhere,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Record a reply made outside H2H (a review site, a call), with a link if there is one."""
    conversation = _conversation(session, ctx, number)
    return replies.compose(
        session,
        conversation=conversation,
        actor=ctx.actor,
        text=body.text,
        link=body.link,
        elsewhere=True,
    )


@router.post(
    CONVERSATION + "/deliveries/{delivery_id}/retry",
    response_model=schemas.DeliveryRead,
    dependencies=Writes,
)
def retry_delivery(
    number: Number,
    delivery_id: uuid.UUID,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    jobs: JobsDep,
) -> object:
    """Send a failed reply again: the same delivery, so the customer never gets it twice."""
    conversation = _conversation(session, ctx, number)
    delivery = replies.get_delivery(session, workspace_id=ctx.workspace.id, delivery_id=delivery_id)
    if delivery.conversation_id != conversation.id:
        raise NotFound()
    replies.retry(session, delivery=delivery, actor=ctx.actor)
    _enqueue_delivery(session, jobs, delivery)
    return delivery


# --- notes, owner, state, priority ------------------------------------------------------------


@router.post(
    CONVERSATION + "/notes",
    response_model=schemas.ConversationNoteRead,
    status_code=201,
    dependencies=Writes,
)
def add_note(
    number: Number,
    body: schemas.ConversationNoteCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """An internal note; ``@name`` or ``@email`` of a member notifies them."""
    conversation = _conversation(session, ctx, number)
    return service.add_note(session, conversation=conversation, actor=ctx.actor, text=body.text)


@router.post(CONVERSATION + "/assign", response_model=schemas.ConversationRead, dependencies=Writes)
def assign(
    number: Number,
    body: schemas.AssignmentChange,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Give the conversation a named owner: a member's id, ``"me"``, or null to unassign."""
    conversation = _conversation(session, ctx, number)
    owner = ctx.actor.user_id if body.owner_id == "me" else body.owner_id
    service.assign(session, conversation=conversation, actor=ctx.actor, owner_id=owner)
    return _reads(session, ctx, [conversation])[0]


@router.post(CONVERSATION + "/state", response_model=schemas.ConversationRead, dependencies=Writes)
def set_state(
    number: Number,
    body: schemas.StateChange,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Open, pending (waiting for the customer) or resolved."""
    conversation = _conversation(session, ctx, number)
    service.set_state(session, conversation=conversation, actor=ctx.actor, state=body.state)
    return _reads(session, ctx, [conversation])[0]


@router.post(
    CONVERSATION + "/not-answering", response_model=schemas.ConversationRead, dependencies=Writes
)
def not_answering(
    number: Number,
    body: schemas.NotAnsweringCreate,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Close without a reply, on purpose: a reason key from ``close-reasons`` and a note."""
    conversation = _conversation(session, ctx, number)
    service.not_answering(
        session, conversation=conversation, actor=ctx.actor, reason=body.reason, note=body.note
    )
    return _reads(session, ctx, [conversation])[0]


@router.post(
    CONVERSATION + "/priority", response_model=schemas.ConversationRead, dependencies=Writes
)
def set_priority(
    number: Number,
    body: schemas.PriorityChange,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Override the computed priority; null hands it back to the computation."""
    conversation = _conversation(session, ctx, number)
    service.set_priority(
        session, conversation=conversation, actor=ctx.actor, priority=body.priority
    )
    return _reads(session, ctx, [conversation])[0]


# --- merge and split --------------------------------------------------------------------------


@router.post(CONVERSATION + "/merge", response_model=schemas.ConversationRead, dependencies=Writes)
def merge(
    number: Number,
    body: schemas.ConversationMerge,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Merge this conversation into ``into``; answers the conversation that kept everything."""
    source = _conversation(session, ctx, number)
    try:
        target = _conversation(session, ctx, body.into)
    except NotFound:
        raise InvalidInput(N_("There is no conversation #{number}."), field="into",
                           number=body.into) from None  # fmt: skip
    service.merge(session, target=target, source=source, actor=ctx.actor)
    return _reads(session, ctx, [target])[0]


@router.post(
    CONVERSATION + "/split",
    response_model=schemas.ConversationRead,
    status_code=201,
    dependencies=Writes,
)
def split(
    number: Number,
    body: schemas.ConversationSplit,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Move a message and every later one into a new conversation; answers the new one."""
    conversation = _conversation(session, ctx, number)
    new = service.split(
        session, conversation=conversation, actor=ctx.actor, from_message_id=body.message_id
    )
    return _reads(session, ctx, [new])[0]


# --- webhooks (admins) ------------------------------------------------------------------------

WEBHOOK = BASE + "/webhooks/{webhook_id}"


@router.get(BASE + "/webhooks", response_model=list[schemas.WebhookRead])
def list_webhooks(ctx: AdminWorkspace, auth: AuthDep, session: SessionDep) -> object:
    """The workspace's outbound webhooks (secrets are shown only when created)."""
    return webhooks.list_endpoints(session, workspace_id=ctx.workspace.id)


@router.post(BASE + "/webhooks", response_model=schemas.WebhookCreated, status_code=201)
def create_webhook(
    body: schemas.WebhookCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """POST conversation events to a URL, signed ``X-H2H-Signature: sha256=<hmac>``."""
    endpoint = webhooks.create_endpoint(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        url=body.url,
        events=body.events,
        name=body.name,
        secret=body.secret,
        active=body.active,
    )
    session.flush()
    return endpoint


@router.patch(WEBHOOK, response_model=schemas.WebhookRead)
def update_webhook(
    webhook_id: uuid.UUID,
    body: schemas.WebhookUpdate,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Change URL, name, events, secret or switch it on or off; only the fields sent change."""
    endpoint = webhooks.get_endpoint(session, workspace_id=ctx.workspace.id, endpoint_id=webhook_id)
    return webhooks.update_endpoint(
        session, endpoint=endpoint, actor=ctx.actor, changes=body.model_dump(exclude_unset=True)
    )


@router.delete(WEBHOOK, status_code=204)
def delete_webhook(
    webhook_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    """Remove a webhook and its delivery log."""
    endpoint = webhooks.get_endpoint(session, workspace_id=ctx.workspace.id, endpoint_id=webhook_id)
    webhooks.delete_endpoint(session, endpoint=endpoint, actor=ctx.actor)
    return Response(status_code=204)


@router.get(WEBHOOK + "/deliveries", response_model=list[schemas.WebhookDeliveryRead])
def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    """The webhook's latest deliveries, newest first, with status and last error."""
    endpoint = webhooks.get_endpoint(session, workspace_id=ctx.workspace.id, endpoint_id=webhook_id)
    return webhooks.deliveries_of(session, endpoint=endpoint, limit=limit)


# --- automation rules (admins) ----------------------------------------------------------------

AUTOMATION = BASE + "/automations/{automation_id}"


@router.get(BASE + "/automations", response_model=list[schemas.AutomationRead])
def list_automations(ctx: AdminWorkspace, auth: AuthDep, session: SessionDep) -> object:
    """Automation rules in the order they are evaluated."""
    return automation.list_rules(session, workspace_id=ctx.workspace.id)


@router.post(BASE + "/automations", response_model=schemas.AutomationRead, status_code=201)
def create_automation(
    body: schemas.AutomationCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """A rule: on ``event``, if every condition holds, run the actions in order."""
    rule = automation.create_rule(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        name=body.name,
        event=body.event,
        conditions=body.conditions,
        actions=body.actions,
        enabled=body.enabled,
    )
    session.flush()
    return rule


@router.get(AUTOMATION, response_model=schemas.AutomationRead)
def get_automation(
    automation_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    return automation.get_rule(session, workspace_id=ctx.workspace.id, rule_id=automation_id)


@router.patch(AUTOMATION, response_model=schemas.AutomationRead)
def update_automation(
    automation_id: uuid.UUID,
    body: schemas.AutomationUpdate,
    ctx: AdminWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Change a rule; only the fields sent change."""
    rule = automation.get_rule(session, workspace_id=ctx.workspace.id, rule_id=automation_id)
    return automation.update_rule(
        session, rule=rule, actor=ctx.actor, changes=body.model_dump(exclude_unset=True)
    )


@router.delete(AUTOMATION, status_code=204)
def delete_automation(
    automation_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> Response:
    rule = automation.get_rule(session, workspace_id=ctx.workspace.id, rule_id=automation_id)
    automation.delete_rule(session, rule=rule, actor=ctx.actor)
    return Response(status_code=204)
