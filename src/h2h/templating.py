"""Jinja2 rendering for the HTML UI: one environment, per-request language, flash messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from h2h import __version__, i18n
from h2h.accounts import security
from h2h.accounts.models import AUDIT_ACTIONS, ROLE_HINTS, ROLE_LABELS, Role
from h2h.deps import ANON_COOKIE, LAST_WORKSPACE_COOKIE, csrf_binding, language_for
from h2h.errors import H2HError

FLASH_COOKIE = "h2h_flash"
# Domains that ship templates; each keeps them in <domain>/templates/<domain>/.
TEMPLATE_PACKAGES = [
    "h2h",
    "h2h.accounts",
    "h2h.channels",
    "h2h.subjects",
    "h2h.nlp",
    "h2h.people",
    "h2h.inbox",
    "h2h.problems",
    "h2h.feedback",
    "h2h.reports",
]


@dataclass(frozen=True)
class NavItem:
    """An entry of the workspace navigation; domains add theirs as they land."""

    key: str
    label: str  # English msgid
    path: str  # relative to /w/<slug>
    icon: str
    min_role: Role = Role.VIEWER


NAV: list[NavItem] = []


def add_nav(item: NavItem, *, after: str | None = None) -> None:
    """Add a navigation entry once; ``after`` places it behind the entry with that key."""
    keys = [existing.key for existing in NAV]
    if item.key in keys:
        return
    NAV.insert(keys.index(after) + 1 if after in keys else len(NAV), item)


def _environment() -> Environment:
    dirs = [str(resources.files(package) / "templates") for package in TEMPLATE_PACKAGES]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in dirs]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["role_labels"] = ROLE_LABELS
    env.globals["role_hints"] = ROLE_HINTS
    env.globals["audit_actions"] = AUDIT_ACTIONS
    return env


ENV = _environment()


def _sign(payload: bytes, key: str) -> str:
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()[:32]


def flash(
    response: RedirectResponse | HTMLResponse,
    request: Request,
    message: str,
    kind: str = "success",
    *,
    translate: tuple[str, ...] = (),
    **params: Any,
) -> None:
    """Show a message on the next page.

    ``message`` is an English msgid; parameters named in ``translate`` are msgids too. Both
    are translated when shown, in the language of the page that shows them.
    """
    payload = base64.urlsafe_b64encode(json.dumps([message, kind, params, translate]).encode())
    signature = _sign(payload, request.app.state.settings.secret_key)
    response.set_cookie(
        FLASH_COOKIE, f"{payload.decode()}.{signature}", max_age=60, httponly=True, samesite="lax"
    )


def _read_flash(request: Request, gettext: Any) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    payload, _, signature = raw.rpartition(".")
    if not hmac.compare_digest(
        _sign(payload.encode(), request.app.state.settings.secret_key), signature
    ):
        return None
    try:
        message, kind, params, translate = json.loads(base64.urlsafe_b64decode(payload))
        params = {k: gettext(v) if k in translate else v for k, v in dict(params).items()}
        return gettext(str(message)).format(**params), str(kind)
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def page_gettext(request: Request) -> Callable[[str], str]:
    """gettext in the language of the page being answered (user, cookie, browser, default)."""
    return i18n.translations(language_for(request, getattr(request.state, "user", None))).gettext


def explain(request: Request, exc: H2HError) -> str:
    """An error's message in the language of the page that shows it."""
    return exc.translated(page_gettext(request))


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page in the request's language with the common context."""
    user = getattr(request.state, "user", None)
    lang = language_for(request, user)
    translations = i18n.translations(lang)
    settings = request.app.state.settings
    binding = csrf_binding(request)
    new_anon = None
    if binding is None:
        new_anon = binding = secrets.token_urlsafe(24)
    flashed = _read_flash(request, translations.gettext)
    workspace = getattr(request.state, "workspace", None)
    membership = getattr(request.state, "membership", None)
    context = {
        "request": request,
        "user": user,
        "workspace": workspace,
        "membership": membership,
        "nav": [i for i in NAV if membership is not None and membership.role.at_least(i.min_role)],
        "lang": lang,
        "_": translations.gettext,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "csrf_token": security.csrf_token(settings.secret_key, binding),
        "flash": flashed,
        "format_dt": lambda value: i18n.format_dt(
            value, lang, workspace.timezone if workspace else "UTC"
        ),
        **(context or {}),
    }
    html = ENV.get_template(name).render(context)
    response = HTMLResponse(html, status_code=status_code)
    if new_anon is not None:
        response.set_cookie(
            ANON_COOKIE, new_anon, httponly=True, samesite="lax", secure=settings.cookie_secure
        )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
    if workspace is not None and request.cookies.get(LAST_WORKSPACE_COOKIE) != workspace.slug:
        response.set_cookie(
            LAST_WORKSPACE_COOKIE,
            workspace.slug,
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
        )
    return response
