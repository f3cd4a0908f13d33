"""The Advocates page under /w/<ws>/feedback/advocates: who speaks for us, who may speak
against us, and how engaged people are by their own choice (docs/advocacy.md).

Every member may read it: it shows names and the reasons behind each place on a list, which
is what the people pages show them already. Reasons are translated here, not in the
template, so each sentence is formatted after translation with its own parameters.

Below the lists, the share of each level at the end of each of the last six months (or
four quarters, ``?over=quarters``) and who moved between levels in the last of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from h2h.accounts.models import Role
from h2h.advocacy import service
from h2h.advocacy.engagement import LEVEL_LABELS, LEVELS, Level
from h2h.advocacy.influence import Standing
from h2h.db import utcnow
from h2h.deps import SessionDep, WorkspaceDep, form_csrf, language_for
from h2h.feedback import ui_advocacy_actions as acting
from h2h.people.models import Person
from h2h.templating import page_gettext, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
# ?over= → (periods, days per period)
VIEWS = {"months": (6, 30), "quarters": (4, 90)}
MOVES_NAMED = 3


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


def _day(request: Request, timezone: str) -> Callable[[datetime], str]:
    lang = language_for(request, getattr(request.state, "user", None))
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return lambda at: format_date(at.astimezone(zone).date(), format="medium", locale=lang)


def _movement(found: service.Movement) -> dict[str, Any]:
    shown = [level for level in LEVELS if level is not Level.NONE]
    return {
        "levels": [(level, LEVEL_LABELS[level]) for level in shown],
        "periods": found.periods,
        "since": found.periods[-2].at,
        "matrix": [
            (level, LEVEL_LABELS[level], [found.transitions.get((level, to), 0) for to in LEVELS])
            for level in LEVELS
        ],
        "columns": [(level, LEVEL_LABELS[level]) for level in LEVELS],
        "moves": found.moves[:MOVES_NAMED],
        "any": bool(found.transitions),
    }


@router.get("/w/{ws}/feedback/advocates", response_class=HTMLResponse)
def advocates(
    request: Request, ctx: WorkspaceDep, session: SessionDep, over: str = "months"
) -> Response:
    view = over if over in VIEWS else "months"
    now = utcnow()
    found = service.boards(session, workspace_id=ctx.workspace.id, now=now)
    periods, days = VIEWS[view]
    moved = service.movement(
        session, workspace_id=ctx.workspace.id, now=now, periods=periods, period_days=days
    )
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
        "movement": _movement(moved),
        "over": view,
        "day": _day(request, ctx.workspace.timezone),
        "level_labels": LEVEL_LABELS,
        "cap": service.CAP,
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "acting": acting.outcome_summary(session, ctx),
    }
    return render(request, "feedback/advocates.html", context)
