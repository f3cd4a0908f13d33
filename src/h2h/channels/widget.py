"""The public feedback widget: a form page a business embeds on its own site (no login)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from h2h import i18n
from h2h.accounts.models import Workspace
from h2h.channels import service as channels
from h2h.channels.models import Channel
from h2h.channels.ui import safe_url
from h2h.deps import (
    SessionDep,
)
from h2h.errors import N_, InvalidInput, NotFound
from h2h.templating import ENV, redirect

# The widget lives in an iframe on the customer's site, where browsers neither keep nor send
# our SameSite=Lax cookies: the cookie-bound CSRF token of form_csrf could never match there.
# Its form carries a signed, expiring token instead (see _widget_token); nothing on these
# pages acts with anybody's authority, so there is nothing for a forged request to abuse.
public_router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form(max_length=10_000)]
LongText = Annotated[str, Form(max_length=100_000)]
WIDGET_TOKEN_TTL = 12 * 3600
WIDGET_CSP = (
    "default-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors *"
)


# --- the public feedback widget -----------------------------------------------------------------


def _widget_token(secret_key: str, public_key: str, issued: int) -> str:
    payload = f"widget:{public_key}:{issued}".encode()
    return f"{issued}.{hmac.new(secret_key.encode(), payload, hashlib.sha256).hexdigest()[:32]}"


def _widget_token_ok(secret_key: str, public_key: str, token: str, now: int) -> bool:
    issued, _, _ = token.partition(".")
    if not issued.isdigit() or not -300 <= now - int(issued) <= WIDGET_TOKEN_TTL:
        return False
    return hmac.compare_digest(_widget_token(secret_key, public_key, int(issued)), token)


def _widget_response(
    request: Request, session: Session, channel: Channel, status_code: int = 200, **extra: Any
) -> Response:
    workspace = _workspace_of(session, channel)
    lang = _widget_language(request, workspace)
    translations = i18n.translations(lang)
    public_key = str(channel.config.get("public_key", ""))
    context = {
        "lang": lang,
        "_": translations.gettext,
        "gettext": translations.gettext,
        "workspace_name": workspace.name,
        "action": f"/widget/{public_key}",
        "token": _widget_token(request.app.state.settings.secret_key, public_key, int(time.time())),
        "form": {},
        "version": ENV.globals["version"],
        **extra,
    }
    html = ENV.get_template("channels/widget.html").render(context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = WIDGET_CSP
    return response


def _workspace_of(session: Session, channel: Channel) -> Workspace:
    workspace = session.get(Workspace, channel.workspace_id)
    if workspace is None:  # cannot happen: the channel's foreign key guarantees it
        raise NotFound()
    return workspace


def _widget_language(request: Request, workspace: Workspace) -> str:
    """The visitor's language if we speak it, else the one the business chose."""
    return i18n.negotiate(request.headers.get("accept-language")) or workspace.language


WidgetKey = Annotated[str, PathParam(max_length=100)]


@public_router.get("/widget/{public_key}", response_class=HTMLResponse)
def widget_page(
    request: Request, public_key: WidgetKey, session: SessionDep, sent: bool = False
) -> Response:
    channel = channels.widget_channel(session, public_key=public_key)
    page_url = safe_url(request.headers.get("referer"))
    return _widget_response(request, session, channel, sent=sent, page_url=page_url or "")


@public_router.post("/widget/{public_key}", response_class=HTMLResponse)
def widget_submit(
    request: Request,
    public_key: WidgetKey,
    session: SessionDep,
    name: FormStr = "",
    contact: FormStr = "",
    text: LongText = "",
    token: FormStr = "",
    page_url: FormStr = "",
) -> Response:
    channel = channels.widget_channel(session, public_key=public_key)
    secret_key = request.app.state.settings.secret_key
    form = {"name": name, "contact": contact, "text": text}
    try:
        if any("\x00" in value for value in (name, contact, text, page_url)):
            raise InvalidInput(N_("The form contains a NUL character; remove it and try again."))
        if not _widget_token_ok(secret_key, public_key, token, int(time.time())):
            raise InvalidInput(N_("The form has expired. Please send it again."))
        channels.submit_widget(
            session,
            channel=channel,
            name=name,
            contact=contact,
            text_=text,
            page_url=safe_url(page_url),
        )
    except InvalidInput as exc:
        session.rollback()
        lang = _widget_language(request, _workspace_of(session, channel))
        gettext = i18n.translations(lang).gettext
        return _widget_response(
            request,
            session,
            channel,
            status_code=exc.status_code,
            error=exc.translated(gettext),
            form=form,
            page_url=page_url,
        )
    response = redirect(f"/widget/{public_key}?sent=true")
    response.headers["Content-Security-Policy"] = WIDGET_CSP
    return response
