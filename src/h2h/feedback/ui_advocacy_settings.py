"""The engagement model's settings page, /w/<ws>/feedback/advocates/settings (admins).

Every number the engagement model and the two lists use can be changed here; a field left
at its default keeps following the default (only changes are stored, see
``advocacy.settings``). The form posts plain numbers: "0,5" is read as 0.5, because
Russian keyboards type a comma; anything else that is not a number is refused with the
field named, and the models check the ranges, so the page, the API and stored JSON agree.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h.advocacy import engagement as eng
from h2h.advocacy import settings as tuning
from h2h.deps import AdminWorkspace, SessionDep, WorkspaceContext, form_csrf
from h2h.errors import N_, H2HError, InvalidInput
from h2h.templating import flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)
PATH = "/w/{ws}/feedback/advocates/settings"
MAX_VALUE = 30  # characters: no number we take is longer

ENGAGEMENT_FIELDS = {
    "window_days": N_("Look back this many days"),
    "deep_min_months": N_("Deep: active in at least this many months"),
    "deep_max_pause_months": N_("Deep: the longest pause, in months"),
    "deep_recent_days": N_("Deep: a chosen action within this many days"),
    "intermittent_recent_days": N_("Intermittent: a chosen action within this many days"),
    "shallow_min_chosen": N_("Fewer chosen actions than this are one-off"),
    "month_cap": N_("Actions of one kind counted per month for the score"),
    "recency_half_life_days": N_("The recency points halve every this many days"),
    "burst_days": N_("Promotion burst: at most this many days long"),
    "burst_min": N_("Promotion burst: at least this many interactions"),
    "silence_days": N_("Silence after a burst, in days"),
    "unfollow_days": N_("An unfollow this many days after a burst flags it"),
}
WEIGHT_FIELDS = {
    eng.ActivityKind.REFERRAL: N_("Referrals"),
    eng.ActivityKind.PURCHASE: N_("Purchases"),
    eng.ActivityKind.CONVERSATION_STARTED: N_("Conversations started"),
    eng.ActivityKind.IDEA: N_("Ideas"),
    eng.ActivityKind.REVIEW: N_("Reviews"),
    eng.ActivityKind.SURVEY_ANSWER: N_("Survey answers"),
    eng.ActivityKind.REPLY: N_("Replies"),
    eng.ActivityKind.VOTE: N_("Votes"),
    eng.ActivityKind.COMMENT: N_("Comments"),
    eng.ActivityKind.SHARE: N_("Shares"),
    eng.ActivityKind.MENTION: N_("Mentions"),
    eng.ActivityKind.LIKE: N_("Likes"),
    eng.ActivityKind.FOLLOW: N_("Follows"),
    eng.ActivityKind.CAMPAIGN_ENTRY: N_("Giveaway and contest entries"),
}
INFLUENCE_FIELDS = {
    "window_days": N_("Sentiment older than this many days is ignored"),
    "recent_days": N_("“Lately” is the last this many days"),
    "full_reach_followers": N_("Followers for full reach"),
    "full_reach_echo": N_("Reposts and replies for full reach"),
    "high_reach": N_("Widely heard from this reach (0–1)"),
    "relevance_half": N_("Relevant posts for half the relevance"),
    "min_relevant_posts": N_("Relevant posts a positive voice needs"),
    "min_relevance": N_("Relevance a positive voice needs (0–1)"),
    "positive_sentiment": N_("Positive: recent sentiment above this (0–1)"),
    "negative_sentiment": N_("Unhappy: recent sentiment at or below minus this (0–1)"),
    "falling_change": N_("Unhappy: sentiment fell by at least this much (0–2)"),
}
LABELS = {
    **{f"engagement.{name}": label for name, label in ENGAGEMENT_FIELDS.items()},
    **{f"engagement.weights.{kind.value}": label for kind, label in WEIGHT_FIELDS.items()},
    **{f"influence.{name}": label for name, label in INFLUENCE_FIELDS.items()},
}
_INTEGER = re.compile(r"^[+-]?\d+$")


def shown(value: Any) -> str:
    """A setting as the form shows it: 365, 0.05, 90 (not 90.0)."""
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.10g}"


def parse_number(raw: str, *, field: str) -> int | float:
    """A typed number: whole numbers stay whole, a decimal comma is a decimal point."""
    text = raw.strip().replace(",", ".")
    if len(text) > MAX_VALUE:
        raise InvalidInput(N_("Enter a number."), field=field)
    try:
        return int(text) if _INTEGER.match(text) else float(text)
    except ValueError:
        raise InvalidInput(N_("Enter a number."), field=field) from None


def parse_form(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The engagement and influence JSON from the form's fields; blank fields are defaults."""
    engagement: dict[str, Any] = {}
    weights: dict[str, Any] = {}
    influence: dict[str, Any] = {}
    for key in LABELS:
        raw = form.get(key, "")
        if not raw.strip():
            continue
        value = parse_number(raw, field=key)
        part, _, name = key.partition(".")
        if name.startswith("weights."):
            weights[name.removeprefix("weights.")] = value
        else:
            (engagement if part == "engagement" else influence)[name] = value
    if weights:
        engagement["weights"] = weights
    return engagement, influence


def _values(current: tuning.Current) -> dict[str, str]:
    engagement, influence = current.engagement.to_dict(), current.influence.to_dict()
    values = {f"engagement.{name}": shown(engagement[name]) for name in ENGAGEMENT_FIELDS}
    for kind in WEIGHT_FIELDS:
        values[f"engagement.weights.{kind.value}"] = shown(engagement["weights"][kind.value])
    values.update({f"influence.{name}": shown(influence[name]) for name in INFLUENCE_FIELDS})
    return values


def _defaults() -> dict[str, str]:
    return _values(tuning.DEFAULTS)


def _page(
    request: Request,
    session: Session,
    ctx: WorkspaceContext,
    *,
    values: dict[str, str] | None = None,
    error: H2HError | None = None,
) -> Response:
    current = tuning.get(session, workspace_id=ctx.workspace.id)
    gettext = page_gettext(request)
    message = None
    if error is not None:
        message = error.translated(gettext)
        if error.field in LABELS:
            message = f"{gettext(LABELS[error.field])}: {message}"
    context = {
        "active": "feedback",
        "is_admin": True,
        "values": values or _values(current),
        "defaults": _defaults(),
        "engagement_fields": [(f"engagement.{n}", label) for n, label in ENGAGEMENT_FIELDS.items()],
        "weight_fields": [(f"engagement.weights.{k.value}", lb) for k, lb in WEIGHT_FIELDS.items()],
        "influence_fields": [(f"influence.{n}", label) for n, label in INFLUENCE_FIELDS.items()],
        "changed": sum(len(v) for v in current.overrides.values()),
        "error": message,
        "field": error.field if error is not None else None,
    }
    status = error.status_code if error is not None else 200
    return render(request, "feedback/advocacy_settings.html", context, status_code=status)


@router.get(PATH, response_class=HTMLResponse)
def settings_page(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    return _page(request, session, ctx)


@router.post(PATH, response_class=HTMLResponse)
async def save_settings(request: Request, ctx: AdminWorkspace, session: SessionDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    reset = bool(form.get("reset"))
    try:
        engagement, influence = ({}, {}) if reset else parse_form(form)
        tuning.save(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            engagement=engagement,
            influence=influence,
        )
    except H2HError as exc:
        session.rollback()
        submitted = {key: form.get(key, "")[:MAX_VALUE] for key in LABELS}
        return _page(request, session, ctx, values=submitted, error=exc)
    response = redirect(f"/w/{ctx.workspace.slug}/feedback/advocates/settings")
    done = N_("The defaults are back.") if reset else N_("Engagement settings saved.")
    flash(response, request, done)
    return response
