"""Inbox settings pages: the admins' policy page, reply templates, and each agent's own status.

``/w/<ws>/inbox/settings`` (admins): reasons for not answering, SLA policies, business
hours, escalation owner, threat playbook, automatic assignment and assignment rules.
``/w/<ws>/inbox/templates`` (agents): reply templates. ``/w/<ws>/inbox/me`` (agents):
availability, signature, notifications.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels import service as channels
from h2h.channels.connectors.base import ChannelKind
from h2h.db import get_in_workspace
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, H2HError, InvalidInput
from h2h.inbox import routing, service, templates
from h2h.inbox import settings as inbox_settings
from h2h.inbox.hours import DAY_NAMES, BusinessHours
from h2h.inbox.models import AssignmentRule, Priority
from h2h.inbox.ui import labels
from h2h.people import service as people
from h2h.subjects import service as subjects
from h2h.templating import explain, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]
NOTIFICATION_LABELS = {
    "assigned": N_("#{number} was assigned to you"),
    "mention": N_("You were mentioned in #{number}"),
    "sla_breach": N_("#{number} is overdue"),
    "reply_failed": N_("Your reply in #{number} was not delivered"),
    "automation": N_("An automation rule pointed you to #{number}"),
    "problem_spike": N_("Unusually many complaints today: {title}"),
}
TOO_LONG = InvalidInput(N_("The signature has at most {limit} characters."), limit=1000)


async def form_multi(request: Request) -> dict[str, list[str]]:
    """The submitted form with every value of repeated fields (checked by ``form_csrf``)."""
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


FormMulti = Annotated[dict[str, list[str]], Depends(form_multi)]


def _first(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0]


# --- the admins' page ---------------------------------------------------------------------------


def _rule_form(rule: AssignmentRule) -> dict[str, Any]:
    c = rule.conditions or {}
    return {
        "name": rule.name,
        "languages": ", ".join(c.get("languages") or []),
        "tags": ", ".join(c.get("tags") or []),
        "aspects": list(c.get("aspects") or []),
        "intents": list(c.get("intents") or []),
        "channels": list(c.get("channels") or []),
        "subjects": list(c.get("subjects") or []),
        "min_reach": c.get("min_reach") or "",
        "user_ids": list(rule.user_ids or []),
        "enabled": rule.enabled,
    }


def _settings_page(
    request: Request, ctx: WorkspaceContext, session: Session, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace.id
    settings = service.settings_of(session, workspace_id=ws)
    steps, default_steps = inbox_settings.playbook(settings)
    hours = inbox_settings.hours_of(settings)
    config = hours.to_config() if hours else None
    rules = routing.rules(session, workspace_id=ws)
    context = {
        **labels(session, ws),
        "tab": "settings",
        "settings": settings,
        "reasons": service.reasons(session, workspace_id=ws),
        "default_reasons": service.DEFAULT_REASONS,
        "policies": inbox_settings.list_policies(session, workspace_id=ws),
        "priorities": list(Priority),
        "channel_kinds": list(ChannelKind),
        "hours": config,
        "day_names": DAY_NAMES,
        "day_labels": inbox_settings.DAY_LABELS,
        "default_timezone": ctx.workspace.timezone,
        "playbook": [] if default_steps else steps,
        "default_playbook": inbox_settings.DEFAULT_PLAYBOOK,
        "agents": service.agents(session, workspace_id=ws),
        "rules": [(rule, _rule_form(rule)) for rule in rules],
        "channels": channels.list_channels(session, workspace_id=ws),
        "subjects": subjects.list_subjects(session, workspace_id=ws),
        "errors": {},
        "forms": {},
        **extra,
    }
    return render(request, "inbox/settings.html", context, status_code=status)


@router.get("/w/{ws}/inbox/settings", response_class=HTMLResponse)
def settings_page(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    return _settings_page(request, ctx, session)


def _save(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    section: str,
    form: dict[str, Any],
    action: Callable[[], Any],
    done: str,
    **params: Any,
) -> Response:
    """Run a settings change; errors re-show the page with the section's form as sent."""
    try:
        action()
    except H2HError as exc:
        session.rollback()
        return _settings_page(
            request,
            ctx,
            session,
            errors={section: explain(request, exc), f"{section}_field": exc.field},
            forms={section: form},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/settings#{section}")
    flash(response, request, done, **params)
    return response


@router.post("/w/{ws}/inbox/settings/general", response_class=HTMLResponse)
def save_general(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    escalation_owner_id: FormStr = "",
    auto_assign: FormStr = "",
    playbook: FormStr = "",
) -> Response:
    def action() -> None:
        inbox_settings.save_general(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            escalation_owner_id=escalation_owner_id,
            auto_assign=auto_assign == "1",
            steps=playbook.splitlines(),
        )

    form = {"escalation_owner_id": escalation_owner_id, "auto_assign": auto_assign == "1"}
    form["playbook"] = playbook
    return _save(request, ctx, session, "general", form, action, N_("Inbox settings saved."))


@router.post("/w/{ws}/inbox/settings/reasons", response_class=HTMLResponse)
def save_reasons(
    request: Request, ctx: AdminWorkspace, session: SessionDep, reasons: FormStr = ""
) -> Response:
    # The default reasons are shown translated; saved back as their msgids, they keep their
    # keys (what reports count) and their translations.
    gettext = page_gettext(request)
    msgids = {gettext(label): label for label in service.DEFAULT_REASONS.values()}
    lines = [msgids.get(line.strip(), line) for line in reasons.splitlines()]

    def action() -> None:
        service.save_reasons(session, workspace_id=ctx.workspace.id, actor=ctx.actor, labels=lines)

    done = N_("Reasons for not answering saved.")
    return _save(request, ctx, session, "reasons", {"reasons": reasons}, action, done)


@router.post("/w/{ws}/inbox/settings/hours", response_class=HTMLResponse)
async def save_hours(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}

    def action() -> None:
        if form.get("always") == "1":
            hours = BusinessHours(timezone=ctx.workspace.timezone, days=BusinessHours.always().days)
        else:
            hours = inbox_settings.hours_from_form(form, ctx.workspace.timezone)
        inbox_settings.save_hours(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, hours=hours
        )

    return _save(request, ctx, session, "hours", form, action, N_("Business hours saved."))


@router.post("/w/{ws}/inbox/settings/sla", response_class=HTMLResponse)
def save_policy(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    priority: FormStr = "",
    channel_kind: FormStr = "",
    name: FormStr = "",
    first_response: FormStr = "",
    next_response: FormStr = "",
    resolution: FormStr = "",
    business_hours: FormStr = "",
) -> Response:
    form = {
        "priority": priority,
        "channel_kind": channel_kind,
        "name": name,
        "first_response": first_response,
        "next_response": next_response,
        "resolution": resolution,
        "business_hours": business_hours == "1",
    }

    def action() -> None:
        inbox_settings.save_policy(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            priority=priority,
            channel_kind=channel_kind,
            name=name,
            first_response=first_response,
            next_response=next_response,
            resolution=resolution,
            business_hours=business_hours == "1",
        )

    return _save(request, ctx, session, "sla", form, action, N_("SLA policy saved."))


@router.post("/w/{ws}/inbox/settings/sla/{policy_id}/delete")
def delete_policy(
    request: Request, policy_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    policy = inbox_settings.get_policy(session, workspace_id=ctx.workspace.id, policy_id=policy_id)
    inbox_settings.delete_policy(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, policy=policy
    )
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/settings#sla")
    flash(response, request, N_("SLA policy deleted; the defaults apply to that priority."))
    return response


def _rule_values(form: dict[str, list[str]]) -> tuple[str, dict[str, object], list[str], bool]:
    conditions: dict[str, object] = {
        "languages": _first(form, "languages"),
        "tags": _first(form, "tags"),
        "aspects": form.get("aspects", []),
        "intents": form.get("intents", []),
        "channels": form.get("channels", []),
        "subjects": form.get("subjects", []),
        "min_reach": _first(form, "min_reach").strip(),
    }
    return (
        _first(form, "name"),
        conditions,
        form.get("user_ids", []),
        _first(form, "enabled") == "1",
    )


def _save_rule(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    form: dict[str, list[str]],
    rule: AssignmentRule | None,
) -> Response:
    name, conditions, user_ids, enabled = _rule_values(form)

    def action() -> None:
        routing.save_rule(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            name=name,
            conditions=conditions,
            user_ids=user_ids,
            rule=rule,
            enabled=enabled,
        )

    shown: dict[str, Any] = {k: _first(form, k) for k in ("name", "languages", "tags", "min_reach")}
    shown.update({k: form.get(k, []) for k in ("aspects", "intents", "channels", "subjects")})
    shown.update({"user_ids": user_ids, "enabled": enabled, "id": str(rule.id) if rule else ""})
    section = f"rule-{rule.id}" if rule else "rules"
    done = N_("Assignment rule “{name}” saved.")
    return _save(request, ctx, session, section, shown, action, done, name=name.strip())


def _get_rule(session: Session, ctx: WorkspaceContext, rule_id: uuid.UUID) -> AssignmentRule:
    return get_in_workspace(session, AssignmentRule, workspace_id=ctx.workspace.id, id=rule_id)


@router.post("/w/{ws}/inbox/settings/rules", response_class=HTMLResponse)
def create_rule(
    request: Request, ctx: AdminWorkspace, session: SessionDep, form: FormMulti
) -> Response:
    return _save_rule(request, ctx, session, form, None)


@router.post("/w/{ws}/inbox/settings/rules/{rule_id}", response_class=HTMLResponse)
def update_rule(
    request: Request, rule_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep, form: FormMulti
) -> Response:
    return _save_rule(request, ctx, session, form, _get_rule(session, ctx, rule_id))


@router.post("/w/{ws}/inbox/settings/rules/{rule_id}/delete")
def delete_rule(
    request: Request, rule_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    rule = _get_rule(session, ctx, rule_id)
    name = rule.name
    routing.delete_rule(session, workspace_id=ctx.workspace.id, actor=ctx.actor, rule=rule)
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/settings#rules")
    flash(response, request, N_("Assignment rule “{name}” deleted."), name=name)
    return response


# --- reply templates ----------------------------------------------------------------------------


def _templates_page(
    request: Request, ctx: WorkspaceContext, session: Session, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        **labels(session, ctx.workspace.id),
        "tab": "templates",
        "reply_templates": templates.list_templates(session, workspace_id=ctx.workspace.id),
        "variables": templates.VARIABLES,
        "can_edit": ctx.role.at_least(Role.AGENT),
        "errors": {},
        "forms": {},
        **extra,
    }
    return render(request, "inbox/templates.html", context, status_code=status)


@router.get("/w/{ws}/inbox/templates", response_class=HTMLResponse)
def templates_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _templates_page(request, ctx, session)


def _save_template(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    template_id: uuid.UUID | None,
    name: str,
    body: str,
    language: str,
) -> Response:
    ws = ctx.workspace.id
    section = f"template-{template_id}" if template_id else "new"
    try:
        existing = (
            templates.get_template(session, workspace_id=ws, template_id=template_id)
            if template_id
            else None
        )
        saved = templates.save_template(
            session,
            workspace_id=ws,
            actor=ctx.actor,
            name=name,
            body=body,
            language=language or None,
            template=existing,
        )
    except H2HError as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        form = {"name": name, "body": body, "language": language}
        return _templates_page(
            request,
            ctx,
            session,
            errors={section: explain(request, exc)},
            forms={section: form},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/templates")
    flash(response, request, N_("Template “{name}” saved."), name=saved.name)
    return response


@router.post("/w/{ws}/inbox/templates", response_class=HTMLResponse)
def create_template(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    name: FormStr = "",
    body: FormStr = "",
    language: FormStr = "",
) -> Response:
    return _save_template(request, ctx, session, None, name, body, language)


@router.post("/w/{ws}/inbox/templates/{template_id}", response_class=HTMLResponse)
def update_template(
    request: Request,
    template_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    name: FormStr = "",
    body: FormStr = "",
    language: FormStr = "",
) -> Response:
    return _save_template(request, ctx, session, template_id, name, body, language)


@router.post("/w/{ws}/inbox/templates/{template_id}/delete")
def delete_template(
    request: Request, template_id: uuid.UUID, ctx: AgentWorkspace, session: SessionDep
) -> Response:
    template = templates.get_template(
        session, workspace_id=ctx.workspace.id, template_id=template_id
    )
    name = template.name
    templates.delete_template(session, actor=ctx.actor, template=template)
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/templates")
    flash(response, request, N_("Template “{name}” deleted."), name=name)
    return response


# --- an agent's own status ----------------------------------------------------------------------


def _me_page(request: Request, ctx: WorkspaceContext, session: Session, **extra: Any) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace.id
    user_id = service.person_of(ctx.actor)
    agent = service.agent_row(session, workspace_id=ws, user_id=user_id)
    context = {
        **labels(session, ws),
        "tab": "me",
        "agent": agent,
        "notifications": service.notifications(session, workspace_id=ws, user_id=user_id),
        "notification_labels": NOTIFICATION_LABELS,
        "unread": service.unread_count(session, workspace_id=ws, user_id=user_id),
        "members": people.member_names(session, workspace_id=ws),
        "errors": {},
        **extra,
    }
    return render(request, "inbox/me.html", context, status_code=status)


@router.get("/w/{ws}/inbox/me", response_class=HTMLResponse)
def me_page(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    return _me_page(request, ctx, session)


@router.post("/w/{ws}/inbox/me", response_class=HTMLResponse)
def save_me(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    available: FormStr = "",
    signature: FormStr = "",
) -> Response:
    """An agent's own availability (routing skips those away) and signature."""
    if len(signature) > 1000:
        return _me_page(
            request,
            ctx,
            session,
            errors={"me": explain(request, TOO_LONG)},
            status_code=422,
        )
    service.set_status(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        available=available == "1",
        signature=signature,
    )
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/me")
    flash(response, request, N_("Your status is saved."))
    return response


@router.post("/w/{ws}/inbox/me/read")
def mark_read(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    user_id = service.person_of(ctx.actor)
    service.mark_read(session, workspace_id=ctx.workspace.id, user_id=user_id)
    response = redirect(f"/w/{ctx.workspace.slug}/inbox/me")
    flash(response, request, N_("Notifications marked as read."))
    return response
