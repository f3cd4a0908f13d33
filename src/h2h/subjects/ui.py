"""HTML pages of the subjects domain: what the workspace listens for, with a live query check."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.accounts.models import Role
from h2h.deps import (
    AdminWorkspace,
    SessionDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, Conflict, H2HError, InvalidInput
from h2h.subjects import service as subjects
from h2h.subjects.models import SUBJECT_LABELS, Subject, SubjectKind
from h2h.subjects.query import QueryError, format_error, parse
from h2h.templating import NavItem, add_nav, explain, flash, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
FormStr = Annotated[str, Form(max_length=10_000)]


add_nav(NavItem("subjects", N_("Subjects"), "/subjects", "tag"), after="channels")


def query_feedback(request: Request, query: str) -> dict[str, str] | None:
    """None for a query that parses; else the faulty line with a caret under it, and why."""
    try:
        parse(query)
    except QueryError as exc:
        excerpt = format_error(query, exc, message="").rstrip()
        return {"excerpt": excerpt, "message": explain(request, exc)}
    return None


def _errors(request: Request, exc: H2HError, query: str) -> dict[str, Any]:
    """A query error goes under the query field, with a caret; anything else above the form."""
    feedback = query_feedback(request, query) if exc.field == "query" else None
    return {"query_error": feedback, "error": None if feedback else explain(request, exc)}


def _parse_kind(value: str) -> SubjectKind:
    try:
        return SubjectKind(value)
    except ValueError:
        raise InvalidInput(N_("Choose what kind of subject this is."), field="kind") from None


def _subjects_page(
    request: Request, ctx: WorkspaceContext, session: Session, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    listed = subjects.list_subjects(session, workspace_id=ctx.workspace.id)
    context = {
        "active": "subjects",
        "groups": [(kind, [s for s in listed if s.kind is kind]) for kind in SubjectKind],
        "total": len(listed),
        "counts": subjects.mention_counts(session, workspace_id=ctx.workspace.id),
        "kinds": list(SubjectKind),
        "subject_labels": SUBJECT_LABELS,
        "can_manage": ctx.role.at_least(Role.ADMIN),
        "form": {"kind": SubjectKind.BRAND.value},
        **extra,
    }
    return render(request, "subjects/subjects.html", context, status_code=status)


@router.get("/w/{ws}/subjects", response_class=HTMLResponse)
def subjects_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _subjects_page(request, ctx, session)


@router.post("/w/{ws}/subjects", response_class=HTMLResponse)
def create_subject(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    kind: FormStr = "",
    name: FormStr = "",
    query: FormStr = "",
) -> Response:
    try:
        subject = subjects.create_subject(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            kind=_parse_kind(kind),
            name=name,
            query=query,
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return _subjects_page(
            request,
            ctx,
            session,
            form={"kind": kind, "name": name, "query": query},
            status_code=exc.status_code,
            **_errors(request, exc, query),
        )
    response = redirect(f"/w/{ctx.workspace.slug}/subjects")
    flash(response, request, N_("Now listening for “{name}”."), name=subject.name)
    return response


@router.post("/w/{ws}/subjects/check-query", response_class=HTMLResponse)
def check_query(request: Request, ctx: AdminWorkspace, query: FormStr = "") -> Response:
    """The live check under the query field: OK, or where and why the query is wrong."""
    return render(
        request,
        "subjects/_query_check.html",
        {"query": query, "query_error": query_feedback(request, query) if query.strip() else None},
    )


def _edit_page(
    request: Request, subject: Subject, form: dict[str, Any] | None = None, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        "active": "subjects",
        "subject": subject,
        "kinds": list(SubjectKind),
        "subject_labels": SUBJECT_LABELS,
        "form": form
        or {
            "kind": subject.kind.value,
            "name": subject.name,
            "query": subject.query,
            "is_active": subject.is_active,
        },
        **extra,
    }
    return render(request, "subjects/edit.html", context, status_code=status)


def _get(session: Session, ctx: WorkspaceContext, subject_id: uuid.UUID) -> Subject:
    return subjects.get_subject(session, workspace_id=ctx.workspace.id, subject_id=subject_id)


@router.get("/w/{ws}/subjects/{subject_id}", response_class=HTMLResponse)
def edit_page(
    request: Request, subject_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    return _edit_page(request, _get(session, ctx, subject_id))


@router.post("/w/{ws}/subjects/{subject_id}", response_class=HTMLResponse)
def update_subject(
    request: Request,
    subject_id: uuid.UUID,
    ctx: AdminWorkspace,
    session: SessionDep,
    kind: FormStr = "",
    name: FormStr = "",
    query: FormStr = "",
    is_active: FormStr = "",
) -> Response:
    subject = _get(session, ctx, subject_id)
    try:
        subjects.update_subject(
            session,
            subject=subject,
            actor=ctx.actor,
            name=name,
            kind=_parse_kind(kind),
            query=query,
            is_active=bool(is_active),
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        form = {"kind": kind, "name": name, "query": query, "is_active": bool(is_active)}
        return _edit_page(
            request,
            subject,
            form,
            status_code=exc.status_code,
            **_errors(request, exc, query),
        )
    response = redirect(f"/w/{ctx.workspace.slug}/subjects")
    flash(response, request, N_("“{name}” saved."), name=subject.name)
    return response


@router.post("/w/{ws}/subjects/{subject_id}/delete")
def delete_subject(
    request: Request, subject_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    subject = _get(session, ctx, subject_id)
    name = subject.name
    subjects.delete_subject(session, subject=subject, actor=ctx.actor)
    response = redirect(f"/w/{ctx.workspace.slug}/subjects")
    flash(response, request, N_("“{name}” deleted; its messages stay."), name=name)
    return response
