"""Acting on advocates from the Advocates page and the profile: write to them, see outcomes.

- ``/w/<ws>/feedback/advocates/act`` — a member (agent and up) picks the kind, edits the
  text and sends; the page shows beforehand, per person, where the message would go or why
  it cannot, and afterwards how many were written to and why the others were not;
- ``/w/<ws>/feedback/advocates/actions`` — every message sent, with its outcome; a member
  can set the outcome by hand, with a note.

The profile panel lists the person's messages and links to the form.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.advocacy import actions
from h2h.advocacy.models import (
    KIND_LABELS,
    REQUESTS,
    REWARDABLE,
    STATE_LABELS,
    ActionKind,
    ActionState,
)
from h2h.channels import service as channels
from h2h.deps import AgentWorkspace, SessionDep, WorkspaceContext, WorkspaceDep, form_csrf
from h2h.errors import N_, H2HError, NotFound
from h2h.inbox.ui_actions import enqueue_delivery
from h2h.people import service as people
from h2h.people.models import Person
from h2h.people.timeline import Panel, profile_panel
from h2h.templating import flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=20_000)]
PAGE = "/w/{ws}/feedback/advocates"


def _kind(raw: str) -> ActionKind:
    return ActionKind(raw) if raw in {k.value for k in ActionKind} else ActionKind.THANK


def _persons(session: Session, ctx: WorkspaceContext, raw: list[str]) -> list[Person]:
    found = []
    for value in dict.fromkeys(raw[: actions.MAX_PEOPLE]):
        try:
            found.append(people.get_person(session, workspace_id=ctx.workspace.id, person_id=value))
        except NotFound:
            continue  # a stale or foreign id in the query: nobody to write to
    return found


def _preview(
    session: Session, ctx: WorkspaceContext, kind: ActionKind, persons: list[Person]
) -> list[dict[str, Any]]:
    """Per person, where the message would go now, or why it would not."""
    order = actions.sendable_channels(session, workspace_id=ctx.workspace.id)
    capped = (
        actions.capped_people(
            session, workspace_id=ctx.workspace.id, person_ids=[p.id for p in persons]
        )
        if kind in REQUESTS
        else set()
    )
    rows = []
    for person in persons:
        way = actions.route(session, person=person, kind=kind, channels_in_order=order)
        rows.append({"person": person, "capped": person.id in capped, "way": way})
    return rows


def _act_page(
    request: Request,
    session: Session,
    ctx: WorkspaceContext,
    *,
    kind: ActionKind,
    persons: list[Person],
    form: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace.id
    context = {
        "active": "feedback",
        "kind": kind,
        "kinds": list(ActionKind),
        "kind_labels": KIND_LABELS,
        "persons": persons,
        "preview": _preview(session, ctx, kind, persons),
        "channels": actions.sendable_channels(session, workspace_id=ws),
        "form": form or {"text": actions.default_text(kind, ctx.workspace.language)},
        "needs_link": kind in actions.NEEDS_LINK,
        "rewardable": kind in REWARDABLE,
        "variables": actions.VARIABLES,
        "cap_days": actions.CAP_DAYS,
        "refusals": actions.REFUSALS,
        "other_refusal": actions.OTHER_REFUSAL,
        "gettext": page_gettext(request),
        "outcome": None,
        "error": None,
        "field": None,
        **extra,
    }
    return render(request, "feedback/advocacy_act.html", context, status_code=status)


@router.get(PAGE + "/act", response_class=HTMLResponse)
def act_form(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    kind: str = "thank",
    person_id: Annotated[list[str] | None, Query(max_length=actions.MAX_PEOPLE)] = None,
) -> Response:
    persons = _persons(session, ctx, person_id or [])
    return _act_page(request, session, ctx, kind=_kind(kind), persons=persons)


@router.post(PAGE + "/act", response_class=HTMLResponse)
async def act(request: Request, ctx: AgentWorkspace, session: SessionDep) -> Response:
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str) and k != "person_id"}
    chosen = [v for v in data.getlist("person_id") if isinstance(v, str)]
    persons = _persons(session, ctx, chosen)
    kind = _kind(values.get("kind", ""))
    try:
        checked = actions.check_request(
            kind=values.get("kind", ""),
            text=values.get("text", "")[:20_000],
            link=values.get("link"),
            reward=values.get("reward"),
            rewarded=bool(values.get("rewarded")),
        )
        outcome = actions.send(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            request=checked,
            person_ids=[p.id for p in persons],
            channel_id=values.get("channel_id") or None,
        )
        for delivery in outcome.deliveries:
            enqueue_delivery(request.app.state.jobs, session, delivery)
        session.commit()
    except H2HError as exc:
        session.rollback()
        return _act_page(
            request, session, ctx, kind=kind, persons=persons, form=values,
            error=exc.translated(page_gettext(request)), field=exc.field,
            status_code=exc.status_code,
        )  # fmt: skip
    return _act_page(request, session, ctx, kind=kind, persons=persons, form=values,
                     outcome=outcome)  # fmt: skip


@router.get(PAGE + "/actions", response_class=HTMLResponse)
def action_list(
    request: Request, ctx: WorkspaceDep, session: SessionDep, kind: str = "", state: str = ""
) -> Response:
    ws = ctx.workspace.id
    chosen_kind = ActionKind(kind) if kind in {k.value for k in ActionKind} else None
    chosen_state = ActionState(state) if state in {s.value for s in ActionState} else None
    found = actions.list_actions(
        session, workspace_id=ws, kind=chosen_kind, state=chosen_state, limit=200
    )
    context = {
        "active": "feedback",
        "items": found,
        "persons": {
            a.person_id: people.get_person(session, workspace_id=ws, person_id=a.person_id)
            for a in found
        },
        "members": people.member_names(session, workspace_id=ws),
        "channel_names": {c.id: c.name for c in channels.list_channels(session, workspace_id=ws)},
        "kind_labels": KIND_LABELS,
        "state_labels": STATE_LABELS,
        "kinds": list(ActionKind),
        "states": list(ActionState),
        "manual": {k: (ActionState.SENT, *v, *actions.CLOSING) for k, v in actions.MANUAL.items()},
        "chosen_kind": chosen_kind,
        "chosen_state": chosen_state,
        "counts": actions.counts(session, workspace_id=ws),
        "can_act": ctx.role.at_least(Role.AGENT),
    }
    return render(request, "feedback/advocacy_actions.html", context)


@router.post(PAGE + "/actions/{action_id}/outcome", response_class=HTMLResponse)
def set_outcome(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    action_id: uuid.UUID,
    state: FormStr = "",
    note: FormStr = "",
) -> Response:
    action = actions.get_action(session, workspace_id=ctx.workspace.id, action_id=action_id)
    response = redirect(f"/w/{ctx.workspace.slug}/feedback/advocates/actions")
    try:
        actions.set_outcome(session, action=action, actor=ctx.actor, state=state, note=note)
    except H2HError as exc:
        session.rollback()
        flash(response, request, exc.message, "error", **exc.params)
        return response
    flash(response, request, N_("Outcome saved."))
    return response


def outcome_summary(session: Session, ctx: WorkspaceContext) -> dict[str, Any]:
    """What the Advocates page shows of actions: counts per kind and who may act."""
    return {
        "counts": actions.counts(session, workspace_id=ctx.workspace.id),
        "kind_labels": KIND_LABELS,
        "can_act": ctx.role.at_least(Role.AGENT),
    }


def _panel(session: Session, workspace_id: uuid.UUID, person: Any) -> dict[str, Any]:
    return {
        "sent": actions.list_actions(
            session, workspace_id=workspace_id, person_id=person.id, limit=10
        ),
        "kind_labels": KIND_LABELS,
        "state_labels": STATE_LABELS,
        "kinds": list(ActionKind),
        "person_id": person.id,
    }


profile_panel(Panel("advocacy", "feedback/_advocacy_panel.html", _panel, order=46))
