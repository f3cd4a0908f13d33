"""The Advocates page under /w/<ws>/feedback/advocates: who speaks for us, who may speak
against us, and how engaged people are by their own choice (docs/advocacy.md).

Every member may read it: it shows names and the reasons behind each place on a list, which
is what the people pages show them already. Reasons are translated here, not in the
template, so each sentence is formatted after translation with its own parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from h2h.accounts.models import Role
from h2h.advocacy import service
from h2h.advocacy.engagement import LEVEL_LABELS
from h2h.advocacy.influence import Standing
from h2h.deps import SessionDep, WorkspaceDep, form_csrf
from h2h.people.models import Person
from h2h.templating import page_gettext, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)


def _rows(
    found: list[tuple[Person, Standing]], score: str, gettext: Callable[[str], str]
) -> list[dict[str, Any]]:
    return [
        {
            "person": person,
            "score": getattr(standing, score),
            "reasons": [reason.text(gettext) for reason in standing.reasons],
        }
        for person, standing in found
    ]


@router.get("/w/{ws}/feedback/advocates", response_class=HTMLResponse)
def advocates(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    found = service.boards(session, workspace_id=ctx.workspace.id)
    gettext = page_gettext(request)
    context = {
        "active": "feedback",
        "advocates": _rows(found.advocates, "advocate_score", gettext),
        "at_risk": _rows(found.at_risk, "risk_score", gettext),
        "levels": [
            (level, LEVEL_LABELS[level], found.counts[level], share)
            for level, share in found.shares.items()
        ],
        "boards": found,
        "cap": service.CAP,
        "is_admin": ctx.role.at_least(Role.ADMIN),
    }
    return render(request, "feedback/advocates.html", context)
