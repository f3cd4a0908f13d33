"""HTML pages of the channels domain: the mention stream, channels, imports, the site widget."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from itertools import islice
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from h2h.accounts.models import Role
from h2h.channels import importer
from h2h.channels import service as channels
from h2h.channels.api import _receive_upload
from h2h.channels.connectors.base import ChannelKind
from h2h.channels.models import CHANNEL_LABELS, Channel, ImportRun, ImportStatus
from h2h.config import Settings
from h2h.db import utcnow
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    JobsDep,
    SessionDep,
    SettingsDep,
    WorkspaceContext,
    WorkspaceDep,
    form_csrf,
)
from h2h.errors import N_, Conflict, InvalidInput, NotFound
from h2h.jobs import Jobs
from h2h.nlp import profanity
from h2h.nlp import service as nlp
from h2h.nlp import ui as nlp_ui
from h2h.nlp.models import INTENT_LABELS, SENTIMENT_LABELS, URGENCY_REASON_LABELS
from h2h.subjects import service as subjects
from h2h.templating import NavItem, add_nav, explain, flash, page_gettext, redirect, render

router = APIRouter(dependencies=[Depends(form_csrf)], include_in_schema=False)

FormStr = Annotated[str, Form(max_length=10_000)]
LongText = Annotated[str, Form(max_length=100_000)]
RECENT = 10
CLAMP_AT = 480  # characters; longer texts show a preview with a "more" expander
REJECTIONS_SHOWN = 500
UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.(?:csv|tsv|txt|jsonl|ndjson|json|xlsx)")
LANGUAGE_FILTERS = {
    "ru": N_("Russian"),
    "en": N_("English"),
    "uk": N_("Ukrainian"),
    "other": N_("Other languages"),
}
URGENCY_FILTERS = {"high": (N_("High urgency"), 0.6), "medium": (N_("Medium or higher"), 0.3)}


add_nav(NavItem("mentions", N_("Mentions"), "/mentions", "inbox"), after="dashboard")
add_nav(NavItem("channels", N_("Channels"), "/channels", "plug"), after="mentions")


# --- the settings each kind of channel asks for --------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One input of the "add channel" form; ``secret`` values go to Channel.secrets."""

    key: str
    label: str  # English msgid
    input: str = "text"  # text | url | number | password | email | select
    required: bool = False
    secret: bool = False
    advanced: bool = False
    placeholder: str = ""
    hint: str = ""  # English msgid
    choices: tuple[str, ...] = ()


_SECURITY = ("ssl", "starttls", "plain")
_POLL = Setting(
    "poll_minutes", N_("Check every, minutes"), "number", placeholder="5", hint=N_("1 to 1440.")
)
SETTINGS: dict[ChannelKind, tuple[Setting, ...]] = {
    ChannelKind.RSS: (
        Setting("url", N_("Feed address"), "url", True, placeholder="https://example.com/feed"),
        _POLL,
    ),
    ChannelKind.EMAIL: (
        Setting("imap_host", N_("IMAP server"), required=True, placeholder="imap.example.com"),
        Setting("imap_port", N_("IMAP port"), "number", placeholder="993"),
        Setting("imap_security", N_("IMAP encryption"), "select", choices=_SECURITY),
        Setting("folder", N_("Folder"), placeholder="INBOX"),
        Setting("smtp_host", N_("SMTP server"), required=True, placeholder="smtp.example.com"),
        Setting("smtp_port", N_("SMTP port"), "number", placeholder="465"),
        Setting("smtp_security", N_("SMTP encryption"), "select", choices=_SECURITY),
        Setting("from_address", N_("Answer from address"), "email", True),
        Setting("from_name", N_("Sender name"), placeholder=N_("Coffee shop “Zerno”")),
        Setting("username", N_("Login"), required=True, secret=True),
        Setting("password", N_("Password"), "password", required=True, secret=True),
        _POLL,
    ),
    ChannelKind.TELEGRAM: (
        Setting(
            "bot_token",
            N_("Bot token"),
            "password",
            required=True,
            secret=True,
            hint=N_("From @BotFather: /newbot, then copy the token."),
        ),
        Setting("base_url", N_("Bot API address"), "url", advanced=True),
        _POLL,
    ),
    ChannelKind.VK: (
        Setting("group_id", N_("Community ID"), required=True, placeholder="123456"),
        Setting(
            "access_token",
            N_("Community access token"),
            "password",
            required=True,
            secret=True,
            hint=N_("Community settings → API usage → Access tokens (messages, wall)."),
        ),
        Setting("base_url", N_("API address"), "url", advanced=True),
        _POLL,
    ),
}


def _setting_label(key: str) -> str:
    if key == "signing_secret":
        return N_("Signing secret")
    for settings in SETTINGS.values():
        for setting in settings:
            if setting.key == key:
                return setting.label
    return key


# --- helpers ----------------------------------------------------------------------------------


def _zone(ctx: WorkspaceContext) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.workspace.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _fragment(request: Request, target: str) -> bool:
    """An htmx request that swaps only ``target`` (not a boosted page, not a history restore)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-target") == target
        and headers.get("hx-history-restore-request") != "true"
    )


def safe_url(value: str | None) -> str | None:
    """Links from channels are shown only when they are web links (never javascript:)."""
    if value and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once by form_csrf; Starlette caches it


FormDep = Annotated[FormData, Depends(_form)]


# --- the mention stream -----------------------------------------------------------------------


@dataclass
class StreamQuery:
    """The stream's filters as the form and the URL carry them."""

    q: str = ""
    subject: str = ""
    channel: str = ""
    language: str = ""
    author: str = ""
    since: str = ""
    until: str = ""
    reposts: bool = False
    sentiment: str = ""
    intent: str = ""
    aspect: str = ""
    urgency: str = ""
    sort: str = ""
    direction: str = ""  # "in": what customers wrote (the dashboard's links)

    def filters(self, zone: ZoneInfo) -> channels.MessageFilter:
        since, until = _as_date(self.since), _as_date(self.until)
        return channels.MessageFilter(
            query=self.q,
            channel_id=_as_uuid(self.channel),
            subject_id=_as_uuid(self.subject),
            language=self.language if self.language in LANGUAGE_FILTERS else None,
            author=self.author.strip() or None,
            # Days are the workspace's days: "until the 5th" includes all of the 5th there.
            since=_day_start(since, zone) if since else None,
            until=_day_start(until + timedelta(days=1), zone) if until else None,
            include_duplicates=self.reposts,
            sentiment=self.sentiment if self.sentiment in SENTIMENT_LABELS else None,
            intent=self.intent if self.intent in INTENT_LABELS else None,
            aspect=self.aspect or None,
            min_urgency=URGENCY_FILTERS[self.urgency][1]
            if self.urgency in URGENCY_FILTERS
            else None,
            most_urgent_first=self.sort == "urgent",
            direction=self.direction if self.direction in ("in", "out") else None,
        )

    def url(self, slug: str, page: int = 1) -> str:
        params = {k: v for k, v in asdict(self).items() if v}
        if params.get("reposts"):
            params["reposts"] = "1"
        if page > 1:
            params["page"] = str(page)
        return f"/w/{slug}/mentions" + (f"?{urlencode(params)}" if params else "")

    @property
    def active(self) -> bool:
        return any(v for k, v in asdict(self).items() if k not in ("reposts", "sort"))


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, day_start.min, tzinfo=zone).astimezone(UTC)


@router.get("/w/{ws}/mentions", response_class=HTMLResponse)
def mentions(
    request: Request,
    ctx: WorkspaceDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500)] = "",
    subject: Annotated[str, Query(max_length=64)] = "",
    channel: Annotated[str, Query(max_length=64)] = "",
    language: Annotated[str, Query(max_length=8)] = "",
    author: Annotated[str, Query(max_length=300)] = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    reposts: bool = False,
    sentiment: Annotated[str, Query(max_length=16)] = "",
    intent: Annotated[str, Query(max_length=16)] = "",
    aspect: Annotated[str, Query(max_length=64)] = "",
    urgency: Annotated[str, Query(max_length=16)] = "",
    sort: Annotated[str, Query(max_length=16)] = "",
    direction: Annotated[str, Query(max_length=8)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    stream = StreamQuery(
        q,
        subject,
        channel,
        language,
        author,
        since,
        until,
        reposts,
        sentiment,
        intent,
        aspect,
        urgency,
        sort,
        direction,
    )
    workspace_id = ctx.workspace.id
    items, total = channels.list_messages(
        session, workspace_id=workspace_id, filters=stream.filters(_zone(ctx)), page=page
    )
    ids = [m.id for m in items]
    context = {
        "active": "mentions",
        "stream": stream,
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // channels.PAGE_SIZE)),
        "channels": {c.id: c for c in channels.list_channels(session, workspace_id=workspace_id)},
        "subjects": subjects.list_subjects(session, workspace_id=workspace_id),
        "matched": subjects.subjects_of(session, workspace_id=workspace_id, message_ids=ids),
        "reposts": channels.repost_counts(session, workspace_id=workspace_id, message_ids=ids),
        "analyses": nlp.analyses_of(session, workspace_id=workspace_id, message_ids=ids),
        "aspect_labels": nlp_ui.aspect_labels(session, workspace_id),
        "urgency_filters": URGENCY_FILTERS,
        **_shared(),
    }
    if _fragment(request, "stream-results"):
        response = render(request, "channels/_stream.html", context)
        # The address bar gets the tidy, shareable form, without the form's empty fields.
        response.headers["HX-Push-Url"] = stream.url(ctx.workspace.slug, page)
    else:
        response = render(request, "channels/mentions.html", context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def _shared() -> dict[str, Any]:
    return {
        "channel_labels": CHANNEL_LABELS,
        "language_filters": LANGUAGE_FILTERS,
        "safe_url": safe_url,
        "clamp_at": CLAMP_AT,
        "intent_labels": INTENT_LABELS,
        "sentiment_labels": SENTIMENT_LABELS,
        "masked": profanity.mask,
        "reason_labels": URGENCY_REASON_LABELS,
    }


@router.get("/w/{ws}/mentions/{message_id}", response_class=HTMLResponse)
def message_page(
    request: Request, message_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep
) -> Response:
    workspace_id = ctx.workspace.id
    message = channels.get_message(session, workspace_id=workspace_id, message_id=message_id)
    original = None
    if message.duplicate_of_id:
        original = channels.get_message(
            session, workspace_id=workspace_id, message_id=message.duplicate_of_id
        )
    context = {
        "active": "mentions",
        "message": message,
        "channel": channels.get_channel(
            session, workspace_id=workspace_id, channel_id=message.channel_id
        ),
        "matched": subjects.subjects_of(
            session, workspace_id=workspace_id, message_ids=[message.id]
        ).get(message.id, []),
        "thread": channels.thread_of(session, message=message),
        "original": original,
        "copies": channels.copies_of(session, message=message),
        "raw_json": json.dumps(message.raw, indent=2, ensure_ascii=False, default=str),
        **nlp_ui.analysis_context(session, ctx, message),
        **_shared(),
    }
    return render(request, "channels/message.html", context)


# --- channels ---------------------------------------------------------------------------------


def _channels_page(
    request: Request, ctx: WorkspaceContext, session: Session, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    context = {
        "active": "channels",
        "channel_list": channels.list_channels(session, workspace_id=ctx.workspace.id),
        "counts": channels.message_counts(session, workspace_id=ctx.workspace.id),
        "kinds": list(CHANNEL_LABELS),
        "settings": SETTINGS,
        "can_manage": ctx.role.at_least(Role.ADMIN),
        "form": {},
        **_shared(),
        **extra,
    }
    return render(request, "channels/channels.html", context, status_code=status)


@router.get("/w/{ws}/channels", response_class=HTMLResponse)
def channels_page(request: Request, ctx: WorkspaceDep, session: SessionDep) -> Response:
    return _channels_page(request, ctx, session)


@router.post("/w/{ws}/channels", response_class=HTMLResponse)
def create_channel(
    request: Request,
    ctx: AdminWorkspace,
    session: SessionDep,
    form: FormDep,
    kind: FormStr = "",
    name: FormStr = "",
) -> Response:
    gettext = page_gettext(request)
    try:
        channel_kind = _parse_kind(kind)
        config, secrets, interval = _settings_from(channel_kind, form, gettext)
        channel = channels.create_channel(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            kind=channel_kind,
            name=name,
            config=config,
            secrets=secrets,
            poll_interval_seconds=interval,
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        echo = {
            k: v for k, v in form.multi_items() if isinstance(v, str) and k not in _secret_keys()
        }
        return _channels_page(
            request,
            ctx,
            session,
            error=explain(request, exc),
            form=echo,
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/channels/{channel.id}")
    flash(response, request, N_("Channel “{name}” added."), name=channel.name)
    return response


def _parse_kind(value: str) -> ChannelKind:
    try:
        return ChannelKind(value)
    except ValueError:
        raise InvalidInput(N_("Choose what kind of channel to add."), field="kind") from None


def _secret_keys() -> set[str]:
    return {f"{kind}.{s.key}" for kind, items in SETTINGS.items() for s in items if s.secret}


def _settings_from(
    kind: ChannelKind, form: FormData, gettext: Any
) -> tuple[dict[str, Any], dict[str, str], int]:
    """Config, secrets and poll interval from the inputs named "<kind>.<key>"."""
    config: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    interval = 300
    for setting in SETTINGS.get(kind, ()):
        raw = form.get(f"{kind}.{setting.key}")
        value = raw.strip() if isinstance(raw, str) else ""
        if not value:
            if setting.required:
                # Named by its label in the reader's language, not by its config key.
                label = gettext(setting.label)
                raise InvalidInput(N_("Fill in “{label}”."), field=setting.key, label=label)
            continue
        if setting.key == "poll_minutes":
            interval = _minutes(value) * 60
        elif setting.secret:
            secrets[setting.key] = value
        elif setting.input == "number":
            config[setting.key] = _whole(value, gettext(setting.label))
        elif setting.choices and value not in setting.choices:
            raise InvalidInput(N_("Choose one of the offered values."), field=setting.key)
        else:
            config[setting.key] = value
    return config, secrets, interval


def _whole(value: str, label: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise InvalidInput(N_("“{label}” must be a whole number."), label=label)
    return int(value)


def _minutes(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 1440:
        raise InvalidInput(N_("Check every 1 to 1440 minutes."), field="poll_minutes")
    return int(value)


def _channel_page(
    request: Request, ctx: WorkspaceContext, session: Session, channel: Channel, **extra: Any
) -> Response:
    status = int(extra.pop("status_code", 200))
    workspace_id = ctx.workspace.id
    recent, total = channels.list_messages(
        session,
        workspace_id=workspace_id,
        filters=channels.MessageFilter(channel_id=channel.id, include_duplicates=True),
    )
    base = str(request.base_url).rstrip("/")
    context = {
        "active": "channels",
        "channel": channel,
        "config": [(_setting_label(k), v) for k, v in channel.config.items() if k != "public_key"],
        "secrets": [(_setting_label(k), v) for k, v in channels.masked_secrets(channel).items()],
        "is_admin": ctx.role.at_least(Role.ADMIN),
        "is_agent": ctx.role.at_least(Role.AGENT),
        "polled": channel.kind in channels.POLLED_KINDS,
        "recent": recent[:RECENT],
        "total": total,
        "webhook_url": f"{base}/api/v1/channels/{channel.id}/webhook",
        "widget_url": f"{base}/widget/{channel.config.get('public_key', '')}",
        "imports": [
            run
            for run in channels.list_imports(session, workspace_id=workspace_id, limit=100)
            if run.channel_id == channel.id
        ][:RECENT],
        "mappings": channels.list_mappings(session, workspace_id=workspace_id),
        "offline_form": {"happened_at": _local_now(ctx)},
        "upload_form": {},
        **_shared(),
        **extra,
    }
    return render(request, "channels/channel.html", context, status_code=status)


def _local_now(ctx: WorkspaceContext) -> str:
    return utcnow().astimezone(_zone(ctx)).strftime("%Y-%m-%dT%H:%M")


def _get(session: Session, ctx: WorkspaceContext, channel_id: uuid.UUID | str) -> Channel:
    """The workspace's channel by id, also as a form or query string gives it (else NotFound)."""
    return channels.get_channel(session, workspace_id=ctx.workspace.id, channel_id=channel_id)


@router.get("/w/{ws}/channels/{channel_id}", response_class=HTMLResponse)
def channel_page(
    request: Request, channel_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep
) -> Response:
    return _channel_page(request, ctx, session, _get(session, ctx, channel_id))


@router.post("/w/{ws}/channels/{channel_id}/check", response_class=HTMLResponse)
def check_channel(
    request: Request, channel_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    channel = _get(session, ctx, channel_id)
    inline = _fragment(request, "check-result")
    response = redirect(f"/w/{ctx.workspace.slug}/channels/{channel.id}")
    try:
        detail = channels.check_connection(session, channel=channel)
    except InvalidInput as exc:
        if inline:
            return render(request, "channels/_check.html", {"error": explain(request, exc)})
        flash(response, request, exc.message, "error", **exc.params)
        return response
    if inline:
        return render(request, "channels/_check.html", {"detail": detail})
    flash(response, request, N_("Connected: {detail}"), detail=detail)
    return response


@router.post("/w/{ws}/channels/{channel_id}/poll")
def poll_channel(
    request: Request, channel_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    channel = _get(session, ctx, channel_id)
    response = redirect(f"/w/{ctx.workspace.slug}/channels/{channel.id}")
    if channel.kind not in channels.POLLED_KINDS:
        flash(response, request, N_("This kind of channel is not polled."), "error")
        return response
    outcome = channels.poll(session, channel=channel)
    if outcome.error:
        flash(response, request, N_("Reading failed: {error}"), "error", error=outcome.error)
    else:
        flash(
            response,
            request,
            N_("Read {fetched}, new: {inserted}."),
            fetched=outcome.fetched,
            inserted=outcome.inserted,
        )
    return response


@router.post("/w/{ws}/channels/{channel_id}/pause")
def pause_channel(
    request: Request, channel_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    return _set_paused(request, ctx, session, channel_id, paused=True)


@router.post("/w/{ws}/channels/{channel_id}/resume")
def resume_channel(
    request: Request, channel_id: uuid.UUID, ctx: AdminWorkspace, session: SessionDep
) -> Response:
    return _set_paused(request, ctx, session, channel_id, paused=False)


def _set_paused(
    request: Request, ctx: WorkspaceContext, session: Session, channel_id: uuid.UUID, paused: bool
) -> Response:
    channel = _get(session, ctx, channel_id)
    channels.set_paused(session, channel=channel, actor=ctx.actor, paused=paused)
    response = redirect(f"/w/{ctx.workspace.slug}/channels/{channel.id}")
    flash(response, request, N_("Channel paused.") if paused else N_("Channel resumed."))
    return response


@router.post("/w/{ws}/channels/{channel_id}/offline", response_class=HTMLResponse)
def log_offline(
    request: Request,
    channel_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    who: FormStr = "",
    contact: FormStr = "",
    happened_at: FormStr = "",
    gist: LongText = "",
    felt: FormStr = "",
) -> Response:
    channel = _get(session, ctx, channel_id)
    try:
        channels.log_offline(
            session,
            channel=channel,
            actor=ctx.actor,
            who=who,
            gist=gist,
            happened_at=_local_datetime(happened_at, _zone(ctx)),
            felt=felt or None,
            contact=contact.strip() or None,
        )
    except InvalidInput as exc:
        session.rollback()
        echo = {"who": who, "contact": contact, "happened_at": happened_at, "gist": gist}
        return _channel_page(
            request,
            ctx,
            session,
            channel,
            offline_error=explain(request, exc),
            offline_form={**echo, "felt": felt},
            status_code=exc.status_code,
        )
    response = redirect(f"/w/{ctx.workspace.slug}/channels/{channel.id}")
    flash(response, request, N_("The conversation with {name} is logged."), name=who.strip())
    return response


def _local_datetime(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local value, read in the workspace's time zone; now when empty."""
    if not value.strip():
        return utcnow()
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            N_("Give the date and time of the conversation."), field="when"
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(UTC)


# --- file imports -----------------------------------------------------------------------------


@router.post("/w/{ws}/channels/{channel_id}/imports", response_class=HTMLResponse)
async def upload_file(
    request: Request,
    channel_id: uuid.UUID,
    ctx: AgentWorkspace,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    file: UploadFile | None = None,
    mapping: FormStr = "review",
) -> Response:
    channel = _get(session, ctx, channel_id)
    try:
        if channel.kind is not ChannelKind.FILE:
            raise InvalidInput(N_("Files are imported into a file channel."))
        if file is None or not file.filename:
            raise InvalidInput(N_("Choose a file to upload."), field="file")
        saved = None
        if mapping.startswith("saved:"):
            saved = channels.get_mapping_by_name(
                session, workspace_id=ctx.workspace.id, name=mapping.removeprefix("saved:")
            )
        sha256, path = await _receive_upload(file, ctx.workspace.id, settings.data_dir)
    except (InvalidInput, NotFound) as exc:
        return _channel_page(
            request,
            ctx,
            session,
            channel,
            upload_error=explain(request, exc),
            upload_form={"mapping": mapping},
            status_code=422,
        )
    if mapping == "review":
        query = urlencode({"channel": str(channel.id), "file": path.name, "name": file.filename})
        return redirect(f"/w/{ctx.workspace.slug}/imports/mapping?{query}")
    mapping_id = saved.id if saved is not None else None
    run = _start_import(
        session, jobs, ctx, channel, path, file.filename or path.name, sha256, mapping_id
    )
    return redirect(f"/w/{ctx.workspace.slug}/imports/{run.id}")


def _start_import(
    session: Session,
    jobs: Jobs,
    ctx: WorkspaceContext,
    channel: Channel,
    path: Path,
    filename: str,
    sha256: str,
    mapping_id: uuid.UUID | None,
) -> ImportRun:
    run = channels.start_import(
        session,
        workspace_id=ctx.workspace.id,
        channel_id=channel.id,
        filename=filename,
        sha256=sha256,
    )
    jobs.enqueue_after_commit(
        session,
        "channels.import_file",
        workspace_id=str(ctx.workspace.id),
        channel_id=str(channel.id),
        path=str(path),
        mapping_id=str(mapping_id) if mapping_id else None,
        import_id=str(run.id),
    )
    return run


def _uploaded(settings: Settings, ctx: WorkspaceContext, name: str) -> Path:
    """A file stored by an upload of this workspace; its name is all the form carries."""
    path = settings.data_dir / "imports" / str(ctx.workspace.id) / name
    if not UPLOAD_NAME.fullmatch(name) or not path.is_file():
        raise NotFound(N_("The uploaded file is gone; upload it again."))
    return path


@dataclass
class MappingForm:
    channel: str
    file: str
    name: str
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str = ""
    timezone: str = ""
    save_as: str = ""


def _mapping_page(
    request: Request,
    ctx: WorkspaceContext,
    session: Session,
    settings: Settings,
    form: MappingForm,
    **extra: Any,
) -> Response:
    status = int(extra.pop("status_code", 200))
    channel = _get(session, ctx, form.channel)
    path = _uploaded(settings, ctx, form.file)
    columns: list[str] = []
    samples: list[dict[str, Any]] = []
    try:
        columns = importer.peek_columns(path)
        samples = [
            row.values for row in islice(importer.read_rows(path, importer.detect_format(path)), 3)
        ]
    except importer.ImportFileError as exc:
        extra.setdefault("error", str(exc))
    if not form.columns:
        form.columns = importer.guess_mapping(columns)
    context = {
        "active": "channels",
        "channel": channel,
        "form": form,
        "columns": columns,
        "samples": samples,
        "fields": importer.FIELDS,
        **extra,
    }
    return render(request, "channels/mapping.html", context, status_code=status)


@router.get("/w/{ws}/imports/mapping", response_class=HTMLResponse)
def mapping_page(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    settings: SettingsDep,
    channel: Annotated[str, Query(max_length=64)] = "",
    file: Annotated[str, Query(max_length=64)] = "",
    name: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    channel_record = _get(session, ctx, channel)
    form = MappingForm(
        channel,
        file,
        name,
        timezone=ctx.workspace.timezone,
        save_as=channel_record.name,
    )
    return _mapping_page(request, ctx, session, settings, form)


@router.post("/w/{ws}/imports/mapping", response_class=HTMLResponse)
def start_mapped_import(
    request: Request,
    ctx: AgentWorkspace,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    form_data: FormDep,
    channel: FormStr = "",
    file: FormStr = "",
    name: FormStr = "",
    date_format: FormStr = "",
    timezone: FormStr = "",
    save_as: FormStr = "",
) -> Response:
    channel_record = _get(session, ctx, channel)
    path = _uploaded(settings, ctx, file)
    columns = {
        key.removeprefix("map."): value
        for key, value in form_data.multi_items()
        if key.startswith("map.") and isinstance(value, str) and value
    }
    form = MappingForm(channel, file, name, columns, date_format, timezone, save_as)
    try:
        saved = channels.save_mapping(
            session,
            workspace_id=ctx.workspace.id,
            actor=ctx.actor,
            name=save_as,
            columns=columns,
            date_format=date_format.strip() or None,
            timezone=timezone.strip() or "UTC",
        )
    except InvalidInput as exc:
        session.rollback()
        return _mapping_page(
            request,
            ctx,
            session,
            settings,
            form,
            error=explain(request, exc),
            status_code=exc.status_code,
        )
    run = _start_import(
        session,
        jobs,
        ctx,
        channel_record,
        path,
        name or path.name,
        importer.file_sha256(path),
        saved.id,
    )
    return redirect(f"/w/{ctx.workspace.slug}/imports/{run.id}")


def _import_context(
    session: Session, ctx: WorkspaceContext, import_id: uuid.UUID
) -> dict[str, Any]:
    run = channels.get_import(session, workspace_id=ctx.workspace.id, import_id=import_id)
    rejections = []
    if run.status is not ImportStatus.RUNNING and run.rejected:
        rejections = channels.import_rejections(session, run=run)[:REJECTIONS_SHOWN]
    return {
        "active": "channels",
        "run": run,
        "channel": _get(session, ctx, run.channel_id),
        "rejections": rejections,
        "rejections_shown": REJECTIONS_SHOWN,
        "running": run.status is ImportStatus.RUNNING,
    }


@router.get("/w/{ws}/imports/{import_id}", response_class=HTMLResponse)
def import_page(
    request: Request, import_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep
) -> Response:
    return render(request, "channels/import.html", _import_context(session, ctx, import_id))


@router.get("/w/{ws}/imports/{import_id}/progress", response_class=HTMLResponse)
def import_progress(
    request: Request, import_id: uuid.UUID, ctx: WorkspaceDep, session: SessionDep
) -> Response:
    return render(request, "channels/_import.html", _import_context(session, ctx, import_id))
