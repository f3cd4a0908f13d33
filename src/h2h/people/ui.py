"""Pages of the people domain under /w/<ws>/people…"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.numbers import format_currency, get_currency_precision
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.channels.models import CHANNEL_LABELS
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
    language_for,
)
from h2h.errors import N_, Conflict, H2HError, InvalidInput, NotFound
from h2h.nlp import profanity
from h2h.nlp.models import INTENT_LABELS, SENTIMENT_LABELS, Sentiment
from h2h.people import directory, fields, interests, profile, service, timeline
from h2h.people.consent_records import PURPOSE_LABELS
from h2h.people.fields import FIELD_TYPE_LABELS
from h2h.people.models import (
    ACCOUNT_KIND_LABELS,
    IDENTITY_LABELS,
    STAGE_LABELS,
    AccountKind,
    ConsentPurpose,
    FieldType,
    IdentityKind,
    LifecycleStage,
    Person,
)
from h2h.people.rfm import SEGMENT_LABELS, RfmSegment
from h2h.templating import NavItem, add_nav, explain, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=10_000)]

add_nav(NavItem("people", N_("People"), "/people", "users"), after="mentions")


# --- the People list and profiles --------------------------------------------------------------

KIND_LABELS = {
    "message": N_("Message"),
    "reply": N_("Our reply"),
    "note": N_("Note"),
    "order": N_("Order"),
    "event": N_("Event"),
    "consent": N_("Consent"),
    "merge": N_("Merge"),
    "survey": N_("Survey"),
}
IDENTITY_ICONS = {
    IdentityKind.EMAIL: "@",
    IdentityKind.PHONE: "☎",
    IdentityKind.TELEGRAM: "TG",
    IdentityKind.VK: "VK",
    IdentityKind.TWITTER: "X",
    IdentityKind.SITE: "WWW",
    IdentityKind.CUSTOMER_ID: "#",
    IdentityKind.WALKIN: "⌂",
    IdentityKind.HANDLE: "ID",
}
LAST_CONTACT = {  # filter value → (label, contacted within days, silent for days)
    "7d": (N_("In the last 7 days"), 7, None),
    "30d": (N_("In the last 30 days"), 30, None),
    "90d": (N_("In the last 90 days"), 90, None),
    "silent90": (N_("Not for 90 days or more"), None, 90),
    "silent365": (N_("Not for a year or more"), None, 365),
}


def _enum(cls: Any, value: str) -> Any:
    try:
        return cls(value) if value else None
    except ValueError:
        return None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def money(minor: int, currency: str, lang: str) -> str:
    """Minor units (kopecks, cents) as the reader writes an amount of that currency."""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return str(format_currency(amount, currency, locale=lang))


def _shared(request: Request) -> dict[str, Any]:
    gettext = page_gettext(request)
    lang = language_for(request, getattr(request.state, "user", None))

    def title_of(item: timeline.TimelineItem) -> str:
        text = gettext(item.title) if item.title else ""
        try:
            return text.format(**item.data) if item.data and "{" in text else text
        except (KeyError, IndexError, ValueError):
            return text

    return {
        "active": "people",
        "stage_labels": STAGE_LABELS,
        "account_kind_labels": ACCOUNT_KIND_LABELS,
        "identity_labels": IDENTITY_LABELS,
        "identity_icons": IDENTITY_ICONS,
        "kind_labels": KIND_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "sentiment_labels": SENTIMENT_LABELS,
        "intent_labels": INTENT_LABELS,
        "field_type_labels": FIELD_TYPE_LABELS,
        "last_contact_filters": LAST_CONTACT,
        "rfm_labels": SEGMENT_LABELS,
        "purpose_labels": PURPOSE_LABELS,
        "masked": profanity.mask,
        "money": lambda minor, currency: money(minor, currency, lang),
        "title_of": title_of,
    }


def _list_query(params: dict[str, str]) -> directory.PersonQuery:
    within, silent = LAST_CONTACT.get(params.get("last_contact", ""), ("", None, None))[1:]
    tag = params.get("tag", "")
    return directory.PersonQuery(
        q=params.get("q", ""),
        stage=_enum(LifecycleStage, params.get("stage", "")),
        account_kind=_enum(AccountKind, params.get("account_kind", "")),
        tag=" ".join(tag.split()).lower() or None,
        interest=" ".join(params.get("interest", "").split()) or None,
        reachable_on=_enum(IdentityKind, params.get("channel", "")),
        owner_id=_uuid(params.get("owner", "")),
        contacted_within_days=within,
        silent_for_days=silent,
        rfm_segment=_enum(RfmSegment, params.get("rfm", "")),
        consent=_enum(ConsentPurpose, params.get("consent", "")),
        sentiment=_enum(Sentiment, params.get("sentiment", "")),
    )


LIST_PARAMS = (
    "q",
    "stage",
    "account_kind",
    "tag",
    "interest",
    "channel",
    "owner",
    "last_contact",
    "rfm",
    "consent",
    "sentiment",
)


def _people_page(
    request: Request, ctx: WorkspaceContext, session: Session, page: int = 1, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    ws = ctx.workspace.id
    params = {k: request.query_params.get(k, "")[:300] for k in LIST_PARAMS}
    persons, total = service.list_persons(
        session, workspace_id=ws, filters=_list_query(params), page=page
    )
    ids = [p.id for p in persons]
    filled = {k: v for k, v in params.items() if v}

    def page_url(number: int) -> str:
        query = {**filled, **({"page": str(number)} if number > 1 else {})}
        return f"/w/{ctx.workspace.slug}/people" + (f"?{urlencode(query)}" if query else "")

    context = {
        **_shared(request),
        "persons": persons,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // directory.PAGE_SIZE)),
        "page_url": page_url,
        "params": params,
        "filtered": bool(filled),
        "identities": directory.identities_of(session, workspace_id=ws, person_ids=ids),
        "members": service.member_names(session, workspace_id=ws),
        "tags": service.workspace_tags(session, workspace_id=ws),
        "interests": interests.interest_choices(session, ws),
        "currency": service.get_settings(session, workspace_id=ws).currency,
        "can_edit": ctx.role.at_least(Role.AGENT),
        "form": {},
        **extra,
    }
    if _fragment(request, "people-results"):
        response = render(request, "people/_list_results.html", context, status_code=status)
        response.headers["HX-Push-Url"] = page_url(page)
    else:
        response = render(request, "people/list.html", context, status_code=status)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def _fragment(request: Request, target: str) -> bool:
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-target") == target
        and headers.get("hx-history-restore-request") != "true"
    )


@router.get("/w/{ws}/people", response_class=HTMLResponse)
def people_page(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _people_page(request, ctx, session, page)


@router.post("/w/{ws}/people", response_class=HTMLResponse)
def create_person(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    name: FormStr = "",
    email: FormStr = "",
    phone: FormStr = "",
) -> Response:
    try:
        person = service.create_person(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            name=name,
            email=email or None,
            phone=phone or None,
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        form = {"name": name, "email": email, "phone": phone, "open": True}
        return _people_page(
            request,
            ctx,
            session,
            form=form,
            error=explain(request, exc),
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/people/{person.id}")
    flash(response, request, N_("{name} added."), name=person.name)
    return response


def _profile_context(
    request: Request, ctx: WorkspaceContext, session: Session, person: Person, before: str | None
) -> dict[str, Any]:
    ws = ctx.workspace.id
    items, cursor = profile.timeline(
        session, workspace_id=ws, person_id=person.id, before=before, limit=profile.PAGE
    )
    org = person.organization_id and service.get_organization(
        session, workspace_id=ws, organization_id=person.organization_id
    )
    return {
        **_shared(request),
        "person": person,
        "identities": directory.identities_of(session, workspace_id=ws, person_ids=[person.id]).get(
            person.id, []
        ),
        "person_tags": service.tags_of(session, workspace_id=ws, person_ids=[person.id]).get(
            person.id, []
        ),
        "organization": org.name if org else "",
        "organizations": [
            o.name for o in service.list_organizations(session, workspace_id=ws, limit=200)
        ],
        "members": service.member_names(session, workspace_id=ws),
        "figures": profile.key_figures(session, workspace_id=ws, person=person),
        "field_defs": fields.list_fields(session, workspace_id=ws),
        "items": items,
        "cursor": cursor,
        "older_page": bool(before),
        "panels": [(p, p.load(session, ws, person)) for p in timeline.panels()],
        "can_edit": ctx.role.at_least(Role.AGENT),
        "can_manage_fields": ctx.role.at_least(Role.ADMIN),
        "user_id": ctx.actor.user_id,
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "form": None,
        "error": None,
    }


def _show_person(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    person_id: uuid.UUID,
    before: str | None = None,
    **extra: Any,
) -> Response:
    status = int(extra.pop("status_code", 200))
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    if person.merged_into_id is not None and person.erased_at is None:
        winner = service.current_person(session, workspace_id=ctx.workspace.id, person=person)
        response = redirect(f"/w/{ctx.workspace.slug}/people/{winner.id}")
        flash(
            response, request, N_("{name} was merged into this profile."), "info", name=person.name
        )
        return response
    if person.erased_at is not None:
        context = {**_shared(request), "person": person}
        return render(request, "people/erased.html", context, status_code=410)
    context = {**_profile_context(request, ctx, session, person, before), **extra}
    return render(request, "people/profile.html", context, status_code=status)


@router.get("/w/{ws}/people/{person_id:uuid}", response_class=HTMLResponse)
def person_page(
    request: Request,
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    session: SessionDep,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _show_person(request, ctx, session, person_id, before)


@router.get("/w/{ws}/people/{person_id:uuid}/timeline", response_class=HTMLResponse)
def timeline_fragment(
    request: Request,
    person_id: uuid.UUID,
    ctx: WorkspaceDep,
    session: SessionDep,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The "Older" button: the next page of the timeline and the button after it."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    items, cursor = profile.timeline(
        session,
        workspace_id=ctx.workspace.id,
        person_id=person.id,
        before=before,
        limit=profile.PAGE,
    )
    context = {
        **_shared(request),
        "person": person,
        "items": items,
        "cursor": cursor,
        "members": service.member_names(session, workspace_id=ctx.workspace.id),
        "can_edit": ctx.role.at_least(Role.AGENT),
        "user_id": ctx.actor.user_id,
        "is_admin": ctx.role.at_least(Role.ADMIN),
    }
    return render(request, "people/_timeline.html", context)


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form as text (already parsed, and checked, by ``form_csrf``)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def _changes(form: dict[str, str], definitions: list[Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {
        key: form.get(key, "")
        for key in ("name", "first_name", "last_name", "city", "language", "organization")
    }
    changes["owner_id"] = _uuid(form.get("owner_id", ""))
    if form.get("owner_id") and changes["owner_id"] is None:
        raise InvalidInput(N_("The owner must be a member of this workspace."), field="owner_id")
    changes["stage"] = form.get("stage") or None
    changes["attributes"] = {d.key: form.get(f"attr.{d.key}", "") for d in definitions}
    return changes


@router.post("/w/{ws}/people/{person_id:uuid}", response_class=HTMLResponse)
def update_person(
    request: Request, person_id: uuid.UUID, ctx: AgentWorkspace, session: SessionDep, form: FormDep
) -> Response:
    ws = ctx.workspace.id
    person = service.get_person(session, workspace_id=ws, person_id=person_id)
    try:
        changes = _changes(form, fields.list_fields(session, workspace_id=ws))
        service.update_person(
            session, workspace_id=ws, actor=ctx.actor, person=person, changes=changes
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _show_person(
            request,
            ctx,
            session,
            person_id,
            form=form,
            error=explain(request, exc),
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/people/{person.id}")
    flash(response, request, N_("Profile saved."))
    return response


def person_action(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    person_id: uuid.UUID,
    action: Callable[[Person], Any],
    done: str,
    *,
    anchor: str = "",
    done_params: Callable[[Any], dict[str, Any]] | None = None,
    **params: Any,
) -> Response:
    """Do ``action`` to the person from a profile form, then back to the profile (at
    ``anchor``) with ``done`` or the error; ``done_params`` reads the action's result."""
    person = service.get_person(session, workspace_id=ctx.workspace.id, person_id=person_id)
    response = redirect(f"/w/{ctx.workspace.slug}/people/{person.id}{anchor}")
    try:
        result = action(person)
    except H2HError as exc:
        session.rollback()
        flash(response, request, exc.message, "error", **exc.params)
        return response
    flash(response, request, done, **(done_params(result) if done_params else params))
    return response


@router.post("/w/{ws}/people/{person_id:uuid}/tags")
def add_tag(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    tag: FormStr = "",
) -> Response:
    def act(person: Person) -> Any:
        return service.add_tag(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, person=person, tag=tag
        )

    return person_action(
        request, ctx, session, person_id, act, N_("Tag “{tag}” added."), tag=tag.strip()
    )


@router.post("/w/{ws}/people/{person_id:uuid}/tags/remove")
def remove_tag(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    tag: FormStr = "",
) -> Response:
    def act(person: Person) -> Any:
        return service.remove_tag(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, person=person, tag=tag
        )

    return person_action(
        request, ctx, session, person_id, act, N_("Tag “{tag}” removed."), tag=tag.strip()
    )


@router.post("/w/{ws}/people/{person_id:uuid}/notes")
def add_note(
    request: Request,
    person_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    text: FormStr = "",
) -> Response:
    def act(person: Person) -> Any:
        return service.add_note(
            session, workspace_id=ctx.workspace.id, actor=ctx.actor, person=person, text=text
        )

    return person_action(request, ctx, session, person_id, act, N_("Note saved."))


@router.post("/w/{ws}/people/{person_id:uuid}/notes/{note_id}/delete")
def delete_note(
    request: Request,
    person_id: uuid.UUID,
    note_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
) -> Response:
    def act(person: Person) -> None:
        note = service.get_note(session, workspace_id=ctx.workspace.id, note_id=note_id)
        if note.person_id != person.id:
            raise NotFound()
        service.delete_note(session, workspace_id=ctx.workspace.id, actor=ctx.actor, note=note)

    return person_action(request, ctx, session, person_id, act, N_("Note deleted."))


# --- custom fields --------------------------------------------------------------------------------


def _fields_page(
    request: Request, ctx: WorkspaceContext, session: Session, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        **_shared(request),
        "field_defs": fields.list_fields(session, workspace_id=ctx.workspace.id),
        "types": list(FieldType),
        "can_manage": ctx.role.at_least(Role.ADMIN),
        "form": {"type": FieldType.TEXT.value},
        "error": None,
        **extra,
    }
    return render(request, "people/fields.html", context, status_code=status)


@router.get("/w/{ws}/people/fields", response_class=HTMLResponse)
def fields_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _fields_page(request, ctx, session)


def _choices(raw: str) -> list[str]:
    return [line for line in raw.replace(",", "\n").splitlines() if line.strip()]


@router.post("/w/{ws}/people/fields", response_class=HTMLResponse)
def create_field(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    key: FormStr = "",
    label: FormStr = "",
    type: FormStr = "",
    choices: FormStr = "",
) -> Response:
    try:
        field_type = _enum(FieldType, type)
        if field_type is None:
            raise InvalidInput(N_("Choose the type of the field."), field="type")
        fields.create_field(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            key=key,
            label=label,
            type=field_type,
            choices=_choices(choices),
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        form = {"key": key, "label": label, "type": type, "choices": choices}
        return _fields_page(
            request,
            ctx,
            session,
            form=form,
            error=explain(request, exc),
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/people/fields")
    flash(response, request, N_("Field “{label}” added."), label=label.strip())
    return response


@router.post("/w/{ws}/people/fields/{field_id}", response_class=HTMLResponse)
def update_field(
    request: Request,
    field_id: uuid.UUID,
    ctx: AdminWorkspace,
    session: SessionDep,
    label: FormStr = "",
    choices: FormStr = "",
) -> Response:
    definition = fields.get_field(session, workspace_id=ctx.workspace.id, field_id=field_id)
    try:
        fields.update_field(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            definition=definition,
            label=label,
            choices=_choices(choices),
        )
    except InvalidInput as exc:
        session.rollback()
        return _fields_page(
            request, ctx, session, error=explain(request, exc), status_code=exc.status_code
        )
    response = redirect(f"/w/{ctx.workspace.slug}/people/fields")
    flash(response, request, N_("Field “{label}” saved."), label=definition.label)
    return response


@router.post("/w/{ws}/people/fields/{field_id}/delete")
def delete_field(
    request: Request, field_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    definition = fields.get_field(session, workspace_id=ctx.workspace.id, field_id=field_id)
    label = definition.label
    fields.delete_field(
        session, workspace_id=ctx.workspace.id, actor=ctx.actor, definition=definition
    )
    response = redirect(f"/w/{ctx.workspace.slug}/people/fields")
    flash(response, request, N_("Field “{label}” deleted; stored values are kept."), label=label)
    return response
