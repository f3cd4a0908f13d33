"""What an agent does to a conversation from its page: reply, note, state, owner, priority,
merge and split, label corrections, sending a failed reply again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.deps import AgentWorkspace, JobsDep, SessionDep, WorkspaceContext, form_csrf
from h2h.errors import N_, H2HError, InvalidInput
from h2h.inbox import replies, service, threading
from h2h.inbox.models import STATE_LABELS, Conversation, State
from h2h.inbox.ui import conversation_page, conversation_url, get_conversation
from h2h.jobs import Jobs
from h2h.nlp import service as nlp
from h2h.nlp.models import INTENTS, SENTIMENT_LABELS, CorrectionField
from h2h.templating import explain, flash, redirect

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]
STATE_DONE = {
    State.OPEN: N_("#{number} is open again."),
    State.PENDING: N_("#{number} is waiting for the customer."),
    State.RESOLVED: N_("#{number} is resolved."),
}


def act(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    number: int,
    action: Callable[[Conversation], Any],
    done: str,
    *,
    anchor: str = "",
    **params: Any,
) -> Response:
    """Do ``action`` to the conversation, then back to its page with ``done`` or the error."""
    conversation = get_conversation(session, ctx, number)
    try:
        action(conversation)
    except H2HError as exc:
        session.rollback()
        response = redirect(conversation_url(ctx, conversation, anchor))
        flash(response, request, exc.message, "error", **exc.params)
        return response
    response = redirect(conversation_url(ctx, conversation, anchor))
    flash(response, request, done, number=conversation.number, **params)
    return response


def enqueue_delivery(jobs: Jobs, session: Session, delivery: Any) -> None:
    if delivery.status.value == "queued":
        jobs.enqueue_after_commit(
            session,
            "inbox.deliver",
            workspace_id=str(delivery.workspace_id),
            delivery_id=str(delivery.id),
        )


@router.post("/w/{ws}/inbox/{number:int}/reply", response_class=HTMLResponse)
def reply(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    jobs: JobsDep,
    text: FormStr = "",
    template_id: FormStr = "",
    link: FormStr = "",
) -> Response:
    """Send a reply through the conversation's channel, or record one made elsewhere."""
    conversation = get_conversation(session, ctx, number)
    try:
        delivery = replies.compose(
            session,
            conversation=conversation,
            actor=ctx.actor,
            text=text,
            template_id=template_id or None,
            link=link,
        )
    except H2HError as exc:
        session.rollback()
        conversation = get_conversation(session, ctx, number)
        form = {"text": text, "template_id": template_id, "link": link}
        return conversation_page(
            request,
            ctx,
            session,
            conversation,
            errors={"reply": explain(request, exc)},
            form=form,
            reply_text=text,
            status_code=exc.status_code,
        )
    enqueue_delivery(jobs, session, delivery)
    response = redirect(conversation_url(ctx, conversation, "#reply"))
    if delivery.status.value == "recorded":
        flash(response, request, N_("The reply made elsewhere is recorded."))
    else:
        flash(response, request, N_("Reply on its way to the customer."))
    return response


@router.post("/w/{ws}/inbox/{number:int}/deliveries/{delivery_id}/retry")
def retry(
    request: Request,
    number: int,
    delivery_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    jobs: JobsDep,
) -> Response:
    """Send a failed reply again: the same delivery, so the customer never gets it twice."""

    def action(conversation: Conversation) -> None:
        delivery = replies.get_delivery(
            session, workspace_id=ctx.workspace.id, delivery_id=delivery_id
        )
        if delivery.conversation_id != conversation.id:
            raise InvalidInput(N_("This reply belongs to another conversation."))
        replies.retry(session, delivery=delivery, actor=ctx.actor)
        enqueue_delivery(jobs, session, delivery)

    return act(request, ctx, session, number, action, N_("Sending the reply again."))


@router.post("/w/{ws}/inbox/{number:int}/notes")
def add_note(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, text: FormStr = ""
) -> Response:
    def action(conversation: Conversation) -> None:
        service.add_note(session, conversation=conversation, actor=ctx.actor, text=text)

    return act(request, ctx, session, number, action, N_("Note added."), anchor="#notes")


@router.post("/w/{ws}/inbox/{number:int}/state")
def set_state(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, state: FormStr = ""
) -> Response:
    try:
        wanted = State(state)
    except ValueError:
        wanted = None

    def action(conversation: Conversation) -> None:
        service.set_state(session, conversation=conversation, actor=ctx.actor, state=state)

    done = STATE_DONE.get(wanted, N_("State saved.")) if wanted else N_("State saved.")
    return act(request, ctx, session, number, action, done)


@router.post("/w/{ws}/inbox/{number:int}/not-answering", response_class=HTMLResponse)
def not_answering(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    reason: FormStr = "",
    note: FormStr = "",
) -> Response:
    """Close on purpose without a reply: a reason from the list and a note are required."""
    conversation = get_conversation(session, ctx, number)
    try:
        service.not_answering(
            session, conversation=conversation, actor=ctx.actor, reason=reason, note=note
        )
    except H2HError as exc:
        session.rollback()
        conversation = get_conversation(session, ctx, number)
        return conversation_page(
            request,
            ctx,
            session,
            conversation,
            errors={"not_answering": explain(request, exc), "field": exc.field},
            form={"reason": reason, "note": note},
            status_code=exc.status_code,
        )
    response = redirect(conversation_url(ctx, conversation))
    flash(
        response,
        request,
        N_("#{number} closed without an answer: {state}."),
        translate=("state",),
        number=conversation.number,
        state=STATE_LABELS[State.NOT_ANSWERING],
    )
    return response


@router.post("/w/{ws}/inbox/{number:int}/assign")
def assign(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, owner_id: FormStr = ""
) -> Response:
    if owner_id == "me":
        owner_id = str(ctx.actor.user_id)

    def action(conversation: Conversation) -> None:
        service.assign(session, conversation=conversation, actor=ctx.actor, owner_id=owner_id)

    done = N_("#{number} assigned.") if owner_id else N_("#{number} is unassigned now.")
    return act(request, ctx, session, number, action, done)


@router.post("/w/{ws}/inbox/{number:int}/priority")
def set_priority(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, priority: FormStr = ""
) -> Response:
    def action(conversation: Conversation) -> None:
        service.set_priority(
            session, conversation=conversation, actor=ctx.actor, priority=priority or None
        )

    return act(request, ctx, session, number, action, N_("Priority saved."))


@router.post("/w/{ws}/inbox/{number:int}/merge")
def merge(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep, into: FormStr = ""
) -> Response:
    """Merge this conversation into another one (#into), which keeps every message."""
    text = into.strip().lstrip("#")
    if not text.isdigit() or len(text) > 9:
        conversation = get_conversation(session, ctx, number)
        response = redirect(conversation_url(ctx, conversation))
        flash(response, request, N_("Write the number of the conversation to merge into."), "error")
        return response
    conversation = get_conversation(session, ctx, number)
    try:
        target = get_conversation(session, ctx, int(text))
        service.merge(session, target=target, source=conversation, actor=ctx.actor)
    except H2HError as exc:
        session.rollback()
        response = redirect(conversation_url(ctx, conversation))
        message = exc.message if exc.status_code != 404 else N_("There is no conversation #{n}.")
        flash(response, request, message, "error", **{"n": int(text), **exc.params})
        return response
    response = redirect(conversation_url(ctx, target))
    flash(response, request, N_("#{source} merged into this conversation."), source=number)
    return response


@router.post("/w/{ws}/inbox/{number:int}/split")
def split(
    request: Request,
    number: int,
    ctx: AgentWorkspace,
    session: SessionDep,
    message_id: FormStr = "",
) -> Response:
    """Move a message and everything after it into a new conversation."""
    conversation = get_conversation(session, ctx, number)
    try:
        new = service.split(
            session, conversation=conversation, actor=ctx.actor, from_message_id=message_id
        )
    except H2HError as exc:
        session.rollback()
        response = redirect(conversation_url(ctx, conversation))
        flash(response, request, exc.message, "error", **exc.params)
        return response
    response = redirect(conversation_url(ctx, new))
    flash(response, request, N_("Split off from #{source} as a new conversation."), source=number)
    return response


def _correction(field: CorrectionField, form: dict[str, str], current: dict[str, Any]) -> Any:
    """The corrected value from a one-click form: a sentiment, an intent toggled, an aspect
    removed or given a sentiment, profanity on or off."""
    if field is CorrectionField.SENTIMENT:
        return form.get("sentiment", "")
    if field is CorrectionField.INTENTS:
        labels = [label for label in current.get("intents") or [] if label in INTENTS]
        toggled = form.get("intent", "")
        if toggled not in INTENTS:
            raise InvalidInput(N_("Choose an intent."), field="intent")
        return [x for x in labels if x != toggled] if toggled in labels else [*labels, toggled]
    if field is CorrectionField.ASPECTS:
        aspects = {
            str(a.get("aspect")): str(a.get("sentiment")) for a in current.get("aspects") or []
        }
        key, sentiment = form.get("aspect", ""), form.get("sentiment", "")
        if not key:
            raise InvalidInput(N_("Choose an aspect."), field="aspect")
        if sentiment in {s.value for s in SENTIMENT_LABELS}:
            aspects[key] = sentiment
        else:
            aspects.pop(key, None)
        return aspects
    return form.get("profanity") == "1"


@router.post("/w/{ws}/inbox/{number:int}/labels")
async def correct_labels(
    request: Request, number: int, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    """One-click correction of the latest customer message's labels (teaches the NLP)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}

    def action(conversation: Conversation) -> None:
        message_id = conversation.last_inbound_id
        if message_id is None:
            raise InvalidInput(N_("There is no customer message to correct."))
        try:
            field = CorrectionField(form.get("field", ""))
        except ValueError:
            raise InvalidInput(N_("Choose what to correct."), field="field") from None
        analysis = nlp.analysis_of(session, workspace_id=ctx.workspace.id, message_id=message_id)
        current = dict(analysis.details or {}) if analysis else {}
        nlp.correct(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            message_id=message_id,
            field=field,
            value=_correction(field, form, current),
        )
        threading.refresh_labels(session, conversation)

    done = N_("Correction saved; the model learns from it at the next training.")
    return act(request, ctx, session, number, action, done, anchor="#labels")
