"""The FastAPI application: mounts each domain's API and UI, health checks and error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from h2h import __version__, registry
from h2h.accounts import api as accounts_api
from h2h.accounts import ui as accounts_ui
from h2h.accounts import ui_exports as accounts_exports_ui
from h2h.advocacy import api as advocacy_api
from h2h.advocacy import api_engagement as advocacy_engagement_api
from h2h.channels import api as channels_api
from h2h.channels import ui as channels_ui
from h2h.channels import ui_exports as channels_exports_ui
from h2h.channels import widget as channels_widget
from h2h.config import Settings, get_settings
from h2h.db import engine_from_settings, make_sessionmaker
from h2h.deps import LANG_COOKIE, SESSION_COOKIE
from h2h.errors import N_, H2HError, Unauthenticated
from h2h.feedback import api as feedback_api
from h2h.feedback import ui as feedback_ui
from h2h.feedback import ui_advocacy as feedback_advocacy
from h2h.feedback import ui_advocacy_actions as feedback_advocacy_actions
from h2h.feedback import ui_advocacy_settings as feedback_advocacy_settings
from h2h.feedback import ui_exports as feedback_exports_ui
from h2h.feedback import ui_public as feedback_public
from h2h.inbox import api as inbox_api
from h2h.inbox import api_report as inbox_report_api
from h2h.inbox import api_staff as inbox_staff_api
from h2h.inbox import ui as inbox_ui
from h2h.inbox import ui_actions as inbox_actions_ui
from h2h.inbox import ui_exports as inbox_exports_ui
from h2h.inbox import ui_live as inbox_live_ui
from h2h.inbox import ui_notify as inbox_notify_ui
from h2h.inbox import ui_settings as inbox_settings_ui
from h2h.inbox import ui_staff as inbox_staff_ui
from h2h.jobs import Backend, ImmediateBackend, Jobs, ThreadBackend
from h2h.migrate import current_revision, head_revision
from h2h.nlp import api as nlp_api
from h2h.nlp import ui as nlp_ui
from h2h.people import api as people_api
from h2h.people import api_events as people_events_api
from h2h.people import api_interests as people_interests_api
from h2h.people import api_segments as people_segments_api
from h2h.people import liveness as _people_liveness  # noqa: F401  (registers its profile panel)
from h2h.people import ui as people_ui
from h2h.people import ui_exports as people_exports_ui
from h2h.people import ui_imports as people_imports_ui
from h2h.people import ui_interests as people_interests_ui
from h2h.people import ui_merges as people_merges_ui
from h2h.people import ui_privacy as people_privacy_ui
from h2h.people import ui_segments as people_segments_ui
from h2h.problems import api as problems_api
from h2h.problems import ui as problems_ui
from h2h.problems import ui_actions as problems_actions_ui
from h2h.problems import ui_exports as problems_exports_ui
from h2h.reports import ui as reports_ui
from h2h.reports import ui_digest as reports_digest_ui
from h2h.subjects import api as subjects_api
from h2h.subjects import ui as subjects_ui
from h2h.templating import page_gettext, redirect, render

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}
# Page titles for errors raised by the framework itself (unknown URL, wrong method, ...).
HTTP_TITLES = {
    400: N_("Bad request"),
    404: N_("Page not found"),
    405: N_("This action is not available here"),
    413: N_("The request is too large"),
    415: N_("Unsupported content type"),
}
# Cookies that change the page shell: <html lang>, the body's CSRF header, its layout class.
SHELL_COOKIES = frozenset({SESSION_COOKIE, LANG_COOKIE})


def create_app(settings: Settings | None = None, *, immediate_jobs: bool = False) -> FastAPI:
    """Build the app for these settings (read from the environment when not given)."""
    settings = settings or get_settings()
    engine = engine_from_settings(settings)
    sessions = make_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Immediate jobs (tests, one-off tools) run in the caller's thread and skip periodic ones.
        backend: Backend = (
            ImmediateBackend(sessions)
            if immediate_jobs
            else ThreadBackend(sessions, workers=settings.job_workers)
        )
        jobs = Jobs(backend)
        jobs.every(timedelta(hours=1), "accounts.purge_expired")
        jobs.every(timedelta(seconds=30), "channels.poll_due")
        jobs.every(timedelta(seconds=10), "nlp.analyze_pending")
        jobs.every(timedelta(seconds=30), "people.link_pending")
        jobs.every(timedelta(minutes=10), "people.resolve")
        jobs.every(timedelta(hours=1), "people.refresh_profiles")
        jobs.every(timedelta(days=1), "people.rfm")
        jobs.every(timedelta(seconds=30), "inbox.thread_pending")
        jobs.every(timedelta(seconds=30), "inbox.deliver_due")
        jobs.every(timedelta(minutes=1), "inbox.check_sla")
        jobs.every(timedelta(seconds=10), "inbox.webhooks_due")
        jobs.every(timedelta(seconds=15), "inbox.notify_out_due")
        jobs.every(timedelta(seconds=30), "problems.cluster_pending")
        jobs.every(timedelta(hours=1), "problems.refine")
        jobs.every(timedelta(hours=1), "problems.check_fixed")
        jobs.every(timedelta(minutes=15), "problems.check_spikes")
        jobs.every(timedelta(minutes=5), "feedback.ask_csat")
        jobs.every(timedelta(hours=1), "feedback.expire_links")
        jobs.every(timedelta(minutes=15), "advocacy.track_outcomes")
        jobs.every(timedelta(minutes=10), "reports.refresh")
        jobs.every(timedelta(hours=24), "reports.rebuild")
        jobs.every(timedelta(minutes=15), "reports.digest_due")
        app.state.jobs = jobs
        yield
        jobs.shutdown()
        engine.dispose()

    app = FastAPI(
        title="H2H API",
        version=__version__,
        description="Social CRM for human-to-human customer relationships. Authenticate with "
        "`Authorization: Bearer <token>`; create tokens under Account → API tokens.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions

    registry.load()
    for api in (
        accounts_api.router,
        channels_api.router,
        channels_api.public_router,
        subjects_api.router,
        nlp_api.router,
        people_api.router,
        people_segments_api.router,
        people_events_api.router,
        people_interests_api.router,
        inbox_report_api.router,
        inbox_staff_api.router,
        inbox_api.router,
        problems_api.router,
        feedback_api.router,
        advocacy_engagement_api.router,
        advocacy_api.router,
    ):
        app.include_router(api, prefix=API_PREFIX)
    for ui in (
        # Exports first: "/mentions/export.csv" would otherwise be taken for a message id.
        accounts_exports_ui.router,
        channels_exports_ui.router,
        people_exports_ui.router,
        inbox_exports_ui.router,
        problems_exports_ui.router,
        feedback_exports_ui.router,
        accounts_ui.router,
        channels_ui.router,
        channels_widget.public_router,
        subjects_ui.router,
        nlp_ui.router,
        people_ui.router,
        people_merges_ui.router,
        people_privacy_ui.router,
        people_segments_ui.router,
        people_imports_ui.router,
        people_interests_ui.router,
        inbox_ui.router,
        inbox_actions_ui.router,
        inbox_live_ui.router,
        inbox_settings_ui.router,
        inbox_notify_ui.router,
        inbox_staff_ui.router,
        problems_ui.router,
        problems_actions_ui.router,
        feedback_ui.router,
        feedback_advocacy.router,
        feedback_advocacy_actions.router,
        feedback_advocacy_settings.router,
        feedback_public.public_router,
        reports_digest_ui.router,
        reports_ui.router,
    ):
        app.include_router(ui)
    app.mount(
        "/static", StaticFiles(directory=str(resources.files("h2h") / "static")), name="static"
    )
    _add_health(app)
    _add_error_handlers(app)

    @app.middleware("http")
    async def refuse_nul(request: Request, call_next: Any) -> Response:
        # PostgreSQL cannot even compare text holding NUL (a 500); such a URL is only bad input.
        if "\x00" in request.url.path or b"%00" in request.scope["query_string"]:
            if _is_api(request):
                return _problem(400, "Bad request", "The URL must not contain NUL characters.")
            title = page_gettext(request)("Invalid input")
            return _error_page(request, 400, title, "")
        response: Response = await call_next(request)
        return response

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        # A page that sets its own policy (the embeddable widget) decides about framing too.
        own_policy = "content-security-policy" in response.headers
        for name, value in SECURITY_HEADERS.items():
            if not (own_policy and name == "X-Frame-Options"):
                response.headers.setdefault(name, value)
        return _full_load_if_shell_changed(request, response)

    return app


def _full_load_if_shell_changed(request: Request, response: Response) -> Response:
    # A boosted htmx request swaps only the children of <body>, so after logging in or out or
    # switching the language the page would keep the old <html lang>, layout class and CSRF
    # header (and the next form post would fail with 403). Have htmx load the next page in full.
    if request.headers.get("hx-request") != "true" or response.status_code != 303:
        return response
    names = {c.partition("=")[0].strip() for c in response.headers.getlist("set-cookie")}
    location = response.headers.get("location")
    if location and names & SHELL_COOKIES:
        response.headers["HX-Redirect"] = location
        del response.headers["location"]
        response.status_code = 200
    return response


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> JSONResponse:
        engine = request.app.state.engine
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                current = current_revision(connection)
        except Exception as exc:  # the point is to report any failure, not to crash
            log.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        head = head_revision()
        if current != head:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "database": "ok",
                    "migrations": "pending",
                    "current": current,
                    "head": head,
                },
                503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "migrations": head})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        status_code=status,
    )


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    loc = [str(p) for p in error["loc"]]
    if error["type"] == "json_invalid":
        # The location of a JSON syntax error ends in a character offset, not a field name.
        reason = error.get("ctx", {}).get("error", "")
        return {"field": loc[0], "message": f"{error['msg']} at character {loc[-1]}: {reason}"}
    return {"field": ".".join(loc), "message": error["msg"]}


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(H2HError)
    async def domain_error(request: Request, exc: H2HError) -> Response:
        gettext = page_gettext(request)
        detail = exc.translated(gettext)
        headers = {}
        if hasattr(exc, "retry_after"):
            headers["Retry-After"] = str(exc.retry_after)
        if _is_api(request):
            extra = {"errors": [{"field": exc.field, "message": detail}]} if exc.field else {}
            response = _problem(exc.status_code, exc.title, detail, **extra)
            response.headers.update(headers)
            return response
        if isinstance(exc, Unauthenticated):
            return redirect(f"/login?next={request.url.path}")
        return _error_page(request, exc.status_code, gettext(exc.title), detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [_field_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if _is_api(request):
            return _problem(422, "Invalid input", detail, errors=errors)
        gettext = page_gettext(request)
        return _error_page(request, 422, gettext("Invalid input"), detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        response: Response
        if _is_api(request):
            response = _problem(exc.status_code, detail, detail)
        else:
            gettext = page_gettext(request)
            title = gettext(HTTP_TITLES.get(exc.status_code, N_("Something went wrong")))
            response = _error_page(request, exc.status_code, title, "")
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        gettext = page_gettext(request)
        detail = gettext("Something went wrong on our side. The error has been logged.")
        if _is_api(request):
            return _problem(500, "Internal server error", detail)
        return _error_page(request, 500, gettext("Internal server error"), detail)
