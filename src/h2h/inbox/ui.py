"""The inbox working screen under /w/<ws>/inbox: the list, saved views and a conversation.

Actions on a conversation are in ``ui_actions``, live updates, presence and drafts in
``ui_live``, the settings pages in ``ui_settings``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.numbers import format_currency, get_currency_precision
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.channels.connectors.base import Direction
from h2h.channels.models import CHANNEL_LABELS
from h2h.db import utcnow
from h2h.deps import (
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
    language_for,
)
from h2h.errors import N_, H2HError
from h2h.inbox import listing, presence, replies, service, sla, templates
from h2h.inbox import settings as inbox_settings
from h2h.inbox.models import (
    ACTIVE_STATES,
    PRIORITY_LABELS,
    SLA_TARGET_LABELS,
    STATE_LABELS,
    Conversation,
    DeliveryStatus,
    Priority,
    State,
)
from h2h.nlp import service as nlp
from h2h.nlp.models import INTENT_LABELS, INTENTS, SENTIMENT_LABELS, URGENCY_REASON_LABELS
from h2h.nlp.models import intents_of as intent_names
from h2h.people import directory, orders, profile
from h2h.people import service as people
from h2h.people.models import IDENTITY_LABELS, STAGE_LABELS
from h2h.problems import service as problems
from h2h.problems.models import STATE_LABELS as PROBLEM_STATE_LABELS
from h2h.subjects import service as subjects
from h2h.templating import NavItem, add_nav, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=10_000)]

add_nav(NavItem("inbox", N_("Inbox"), "/inbox", "inbox"), after="dashboard")

STATE_TAB_LABELS = {**{s.value: label for s, label in STATE_LABELS.items()}, "all": N_("All")}
SLA_FILTER_LABELS = {**sla.STATUS_LABELS, "none": N_("No clock running")}
DELIVERY_LABELS = {
    DeliveryStatus.QUEUED: N_("Queued"),
    DeliveryStatus.SENDING: N_("Sending"),
    DeliveryStatus.SENT: N_("Sent"),
    DeliveryStatus.FAILED: N_("Not delivered"),
    DeliveryStatus.RECORDED: N_("Answered elsewhere"),
}
EVENT_LABELS = {
    "opened": N_("Conversation opened"),
    "assigned": N_("Owner changed"),
    "state": N_("State changed"),
    "priority": N_("Priority changed"),
    "sla_breach": N_("SLA breached"),
    "note": N_("Internal note"),
    "merged": N_("Another conversation merged in"),
    "split": N_("Split off from another conversation"),
    "split_off": N_("Part split into a new conversation"),
    "reply": N_("Reply queued"),
    "reply_recorded": N_("Reply made elsewhere recorded"),
    "reply_sent": N_("Reply delivered"),
    "reply_failed": N_("Reply not delivered"),
    "responded": N_("Answered"),
}
ASSIGN_REASONS = {
    "manual": N_("by hand"),
    "threat": N_("threat: escalation owner"),
    "person_owner": N_("the person's owner"),
    "round_robin": N_("in turn"),
}
LANGUAGE_CHOICES = {"ru": N_("Russian"), "en": N_("English")}


def labels(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Label tables every inbox template uses."""
    return {
        "active": "inbox",
        "state_labels": STATE_LABELS,
        "state_tab_labels": STATE_TAB_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "sla_labels": SLA_FILTER_LABELS,
        "sla_target_labels": SLA_TARGET_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "sentiment_labels": SENTIMENT_LABELS,
        "intent_labels": INTENT_LABELS,
        "intent_choices": INTENTS,
        "reason_labels": URGENCY_REASON_LABELS,
        "aspect_labels": nlp.aspect_labels(session, workspace_id=workspace_id),
        "delivery_labels": DELIVERY_LABELS,
        "event_labels": EVENT_LABELS,
        "assign_reasons": ASSIGN_REASONS,
        "language_choices": LANGUAGE_CHOICES,
        "intents_of": intent_names,
        "sla_status": sla.status,
    }


def money(minor: int, currency: str, lang: str) -> str:
    """Minor units (kopecks, cents) as the reader writes an amount of that currency."""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return str(format_currency(amount, currency, locale=lang))


def fragment(request: Request, target: str) -> bool:
    """An htmx request that swaps only ``target`` (not a boosted page, not a history restore)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-target") == target
        and headers.get("hx-history-restore-request") != "true"
    )


# --- the list ---------------------------------------------------------------------------------


def list_url(slug: str, query: listing.InboxQuery, page: int = 1, **changes: str) -> str:
    params = {**query.as_params(), **changes}
    params = {k: v for k, v in params.items() if v}
    if "state" in changes and changes["state"] == listing.InboxQuery().state:
        params.pop("state", None)
    if page > 1:
        params["page"] = str(page)
    return f"/w/{slug}/inbox" + (f"?{urlencode(params)}" if params else "")


def _list_context(
    request: Request, ctx: WorkspaceContext, session: Session, page: int
) -> dict[str, Any]:
    ws = ctx.workspace.id
    user_id = ctx.actor.user_id
    query = listing.InboxQuery.from_params(request.query_params)
    now = utcnow()
    rows, total = listing.list_conversations(
        session, workspace_id=ws, query=query, user_id=user_id, page=page, now=now
    )
    views = listing.list_views(session, workspace_id=ws, user_id=user_id)
    current = query.as_params()
    slug = ctx.workspace.slug
    return {
        **labels(session, ws),
        "query": query,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // listing.PAGE_SIZE)),
        "counts": listing.state_counts(
            session, workspace_id=ws, query=query, user_id=user_id, now=now
        ),
        "now": now,
        "url": lambda page=1, **changes: list_url(slug, query, page, **changes),
        "clear_url": list_url(slug, listing.InboxQuery(state=query.state)),
        "views": views,
        "current_view": next((v for v in views if v.filters == current), None),
        "channels": {c.id: c for c in channels.list_channels(session, workspace_id=ws)},
        "members": people.member_names(session, workspace_id=ws),
        "agents": service.agents(session, workspace_id=ws),
        "subjects": subjects.list_subjects(session, workspace_id=ws),
        "tags": people.workspace_tags(session, workspace_id=ws),
        "can_act": ctx.role.at_least(Role.AGENT),
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "unread": service.unread_count(session, workspace_id=ws, user_id=user_id) if user_id else 0,
        "since": now.isoformat(),
    }


def _inbox_page(
    request: Request, ctx: WorkspaceContext, session: Session, page: int = 1, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {**_list_context(request, ctx, session, page), **extra}
    if fragment(request, "inbox-results"):
        response = render(request, "inbox/_results.html", context, status_code=status)
        if request.headers.get("x-inbox-live") != "1":  # a live refresh keeps the history as is
            response.headers["HX-Push-Url"] = context["url"](page)
    else:
        response = render(request, "inbox/list.html", context, status_code=status)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@router.get("/w/{ws}/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _inbox_page(request, ctx, session, page)


@router.post("/w/{ws}/inbox/views", response_class=HTMLResponse)
async def save_view(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    """Save the filters the form carries as a named view (shared ones: admins)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    query = listing.InboxQuery.from_params(form)
    try:
        view = listing.save_view(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            name=form.get("name", ""),
            query=query,
            shared=form.get("shared") == "1",
        )
    except H2HError as exc:
        session.rollback()
        response = redirect(list_url(ctx.workspace.slug, query))
        flash(response, request, exc.message, "error", **exc.params)
        return response
    response = redirect(list_url(ctx.workspace.slug, query))
    flash(response, request, N_("View “{name}” saved."), name=view.name)
    return response


@router.post("/w/{ws}/inbox/views/{view_id}/delete")
def delete_view(
    request: Request, view_id: uuid.UUID, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    view = listing.get_view(session, workspace_id=ctx.workspace.id, view_id=view_id)
    name = view.name
    listing.delete_view(session, actor=ctx.actor, view=view)
    response = redirect(f"/w/{ctx.workspace.slug}/inbox")
    flash(response, request, N_("View “{name}” deleted."), name=name)
    return response


# --- one conversation -------------------------------------------------------------------------


def get_conversation(session: Session, ctx: WorkspaceContext, number: int) -> Conversation:
    return service.by_number(session, workspace_id=ctx.workspace.id, number=number)


def conversation_url(ctx: WorkspaceContext, conversation: Conversation, anchor: str = "") -> str:
    return f"/w/{ctx.workspace.slug}/inbox/{conversation.number}{anchor}"


def _thread(session: Session, conversation: Conversation) -> list[dict[str, Any]]:
    """Messages, notes and replies not sent yet, oldest first."""
    ws = conversation.workspace_id
    messages = channels.messages_by_id(
        session,
        workspace_id=ws,
        message_ids=service.message_ids(session, conversation=conversation),
    )
    inbound = [m.id for m in messages if m.direction is Direction.INBOUND]
    analyses = nlp.analyses_of(session, workspace_id=ws, message_ids=inbound)
    deliveries = replies.deliveries_of(session, conversation=conversation)
    by_message = {d.message_id: d for d in deliveries if d.message_id}
    items: list[dict[str, Any]] = [
        {
            "kind": "message",
            "at": m.created_at,
            "message": m,
            "analysis": analyses.get(m.id),
            "delivery": by_message.get(m.id),
            "first": i == 0,
        }
        for i, m in enumerate(messages)
    ]
    items += [
        {"kind": "delivery", "at": d.created_at, "delivery": d}
        for d in deliveries
        if d.message_id is None
    ]
    items += [
        {"kind": "note", "at": n.created_at, "note": n}
        for n in service.notes(session, conversation=conversation)
    ]
    return sorted(items, key=lambda item: item["at"])


def _customer(session: Session, conversation: Conversation) -> dict[str, Any] | None:
    """The person behind the conversation: key figures, tags, identities, recent history."""
    if conversation.identity_id is None:
        return None
    ws = conversation.workspace_id
    person = people.persons_by_identity(
        session, workspace_id=ws, identity_ids=[conversation.identity_id]
    ).get(conversation.identity_id)
    if person is None or person.erased_at is not None:
        return None
    person = people.current_person(session, workspace_id=ws, person=person)
    identity_ids = people.identity_ids(session, workspace_id=ws, person_id=person.id)
    recent_orders, order_total = orders.person_orders(
        session, workspace_id=ws, person_id=person.id, page=1, page_size=3
    )
    return {
        "person": person,
        "figures": profile.key_figures(session, workspace_id=ws, person=person),
        "tags": people.tags_of(session, workspace_id=ws, person_ids=[person.id]).get(person.id, []),
        "identities": directory.identities_of(session, workspace_id=ws, person_ids=[person.id]).get(
            person.id, []
        ),
        "conversations": [
            c
            for c in service.conversations_of(
                session, workspace_id=ws, identity_ids=identity_ids, limit=8
            )
            if c.id != conversation.id
        ],
        "orders": recent_orders,
        "order_total": order_total,
        "currency": people.get_settings(session, workspace_id=ws).currency,
    }


def live_context(
    request: Request, ctx: WorkspaceContext, session: Session, conversation: Conversation
) -> dict[str, Any]:
    """What the live part of the conversation page shows (refreshed when it changes)."""
    ws = ctx.workspace.id
    settings = service.settings_of(session, workspace_id=ws)
    steps, default_steps = inbox_settings.playbook(settings)
    members = people.member_names(session, workspace_id=ws)

    def member(user_id: Any) -> str | None:
        try:
            return members.get(uuid.UUID(str(user_id)))
        except ValueError:
            return None

    return {
        **labels(session, ws),
        "conversation": conversation,
        "channel": channels.get_channel(
            session, workspace_id=ws, channel_id=conversation.channel_id
        ),
        "thread": _thread(session, conversation),
        "events": service.history(session, conversation=conversation),
        "breaches": sla.breaches(session, conversation=conversation),
        "clocks": sla.running_clocks(conversation),
        "now": utcnow(),
        "members": members,
        "member": member,
        "close_reason": service.reason_label(
            session, workspace_id=ws, key=conversation.close_reason
        ),
        "playbook": steps,
        "default_playbook": default_steps,
        "can_act": ctx.role.at_least(Role.AGENT),
        "user_id": ctx.actor.user_id,
    }


def _reply_context(
    request: Request, ctx: WorkspaceContext, session: Session, conversation: Conversation
) -> dict[str, Any]:
    user_id = ctx.actor.user_id
    draft = (
        replies.draft_of(session, conversation=conversation, user_id=user_id) if user_id else None
    )
    decision = replies.check_consent(session, conversation)
    refused = decision.text(page_gettext(request)) if decision and not decision.allowed else None
    return {
        "can_send": replies.can_send(session, conversation),
        "reply_templates": templates.list_templates(session, workspace_id=ctx.workspace.id),
        "reply_text": draft.text if draft else "",
        "consent_refused": refused,
    }


def _problems(session: Session, conversation: Conversation) -> list[Any]:
    """The problems this conversation's complaints belong to (linked from the side panel)."""
    found = problems.problems_of_messages(
        session,
        workspace_id=conversation.workspace_id,
        message_ids=service.message_ids(session, conversation=conversation),
    )
    return sorted({p.id: p for p in found.values()}.values(), key=lambda p: p.number)


def conversation_page(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    conversation: Conversation,
    **extra: Any,
) -> Response:
    """The whole conversation page, or only its live part for an htmx refresh."""
    status = int(extra.pop("status_code", 200))
    if conversation.merged_into_id is not None:
        target = service.get_conversation(
            session, workspace_id=ctx.workspace.id, conversation_id=conversation.merged_into_id
        )
        if fragment(request, "conv-live"):  # a live refresh: the whole page moves on
            return Response(headers={"HX-Redirect": conversation_url(ctx, target)})
        response = redirect(conversation_url(ctx, target))
        flash(response, request, N_("#{number} was merged into this conversation."), "info",
              number=conversation.number)  # fmt: skip
        return response
    context = live_context(request, ctx, session, conversation)
    if fragment(request, "conv-live"):
        return render(request, "inbox/_live.html", context)
    ws = ctx.workspace.id
    last = conversation.last_inbound_id
    lang = language_for(request, getattr(request.state, "user", None))
    context.update(
        {
            **_reply_context(request, ctx, session, conversation),
            "problems": _problems(session, conversation),
            "problem_title": problems.title_of,
            "problem_state_labels": PROBLEM_STATE_LABELS,
            "agents": service.agents(session, workspace_id=ws),
            "reasons": service.reasons(session, workspace_id=ws),
            "customer": _customer(session, conversation),
            "stage_labels": STAGE_LABELS,
            "identity_labels": IDENTITY_LABELS,
            "money": lambda minor, currency: money(minor, currency, lang),
            "analysis": nlp.analysis_of(session, workspace_id=ws, message_id=last)
            if last
            else None,
            "others": presence.others(
                session, conversation=conversation, user_id=ctx.actor.user_id
            ),
            "heartbeat": presence.HEARTBEAT,
            "since": utcnow().isoformat(),
            "priorities": list(Priority),
            "states": [s for s in State if s is not State.NOT_ANSWERING],
            "active_states": ACTIVE_STATES,
            "errors": {},
            "form": {},
            **extra,
        }
    )
    page = render(request, "inbox/conversation.html", context, status_code=status)
    page.headers["Vary"] = "HX-Request, HX-Target"
    return page


@router.get("/w/{ws}/inbox/{number:int}", response_class=HTMLResponse)
def conversation(request: Request, number: int, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return conversation_page(request, ctx, session, get_conversation(session, ctx, number))
