"""JSON endpoints of the channels domain: channels, the message stream, webhooks, imports."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from h2h.accounts.schemas import Input
from h2h.channels import ingest, schemas
from h2h.channels import service as channels
from h2h.channels.connectors.base import Author, ChannelKind, RawMessage
from h2h.channels.models import Channel, ImportRejection, Message
from h2h.deps import (
    AdminWorkspace,
    AgentWorkspace,
    Auth,
    JobsDep,
    SessionDep,
    SettingsDep,
    WorkspaceDep,
    api_csrf,
)
from h2h.errors import N_, InvalidInput, NotFound
from h2h.nlp.models import INTENTS, Sentiment
from h2h.subjects import service as subjects

AuthDep = Annotated[Auth, Depends(api_csrf)]
InputT = TypeVar("InputT", bound=Input)
router = APIRouter(tags=["channels"])
public_router = APIRouter(tags=["channels"])
MAX_UPLOAD = 512 * 1024 * 1024
MAX_WEBHOOK_BODY = 5 * 1024 * 1024


@router.get("/workspaces/{ws}/channels", response_model=list[schemas.ChannelRead])
def list_channels(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """Every channel of the workspace with its polling state."""
    return channels.list_channels(session, workspace_id=ctx.workspace.id)


@router.post("/workspaces/{ws}/channels", response_model=schemas.ChannelRead, status_code=201)
def create_channel(
    body: schemas.ChannelCreate, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Add a channel. Webhook channels get a signing secret; widgets a public key."""
    return channels.create_channel(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        kind=body.kind,
        name=body.name,
        config=dict(body.config),
        secrets=body.secrets,
        poll_interval_seconds=body.poll_interval_seconds,
    )


@router.get("/workspaces/{ws}/channels/{channel_id}", response_model=schemas.ChannelRead)
def read_channel(
    channel_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """One channel."""
    return channels.get_channel(session, workspace_id=ctx.workspace.id, channel_id=channel_id)


@router.post("/workspaces/{ws}/channels/{channel_id}/check", response_model=schemas.CheckResult)
def check_channel(
    channel_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Test the connection with the channel's current settings."""
    channel = channels.get_channel(session, workspace_id=ctx.workspace.id, channel_id=channel_id)
    return schemas.CheckResult(ok=True, detail=channels.check_connection(session, channel=channel))


@router.post("/workspaces/{ws}/channels/{channel_id}/poll", response_model=schemas.PollResult)
def poll_channel(
    channel_id: uuid.UUID, ctx: AdminWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Read the channel now instead of waiting for its next scheduled poll."""
    channel = channels.get_channel(session, workspace_id=ctx.workspace.id, channel_id=channel_id)
    if channel.kind not in channels.POLLED_KINDS:
        raise InvalidInput(N_("This kind of channel is not polled; messages arrive by themselves."))
    outcome = channels.poll(session, channel=channel)
    return schemas.PollResult(
        fetched=outcome.fetched, inserted=outcome.inserted, error=outcome.error
    )


@router.post(
    "/workspaces/{ws}/channels/{channel_id}/offline",
    response_model=schemas.Created,
    status_code=201,
)
def log_offline(
    channel_id: uuid.UUID,
    body: schemas.OfflineEntry,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
) -> object:
    """Record a conversation that happened offline: a call, the shop floor, a meeting."""
    channel = channels.get_channel(session, workspace_id=ctx.workspace.id, channel_id=channel_id)
    message_id = channels.log_offline(
        session,
        channel=channel,
        actor=ctx.actor,
        who=body.who,
        gist=body.gist,
        happened_at=body.happened_at,
        felt=body.felt,
        contact=body.contact,
    )
    return schemas.Created(id=message_id)


def _message_read(message: Message, names: list[str]) -> schemas.MessageRead:
    data = schemas.MessageRead.model_validate(message).model_dump(exclude={"subjects"})
    return schemas.MessageRead(**data, subjects=names)


@router.get("/workspaces/{ws}/messages", response_model=schemas.MessagePage)
def list_messages(
    ctx: WorkspaceDep,
    auth: AuthDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500)] = "",
    channel_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    author: Annotated[str | None, Query(max_length=300)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_duplicates: bool = False,
    sentiment: Sentiment | None = None,
    intent: Annotated[str | None, Query(pattern="^(" + "|".join(INTENTS) + ")$")] = None,
    aspect: Annotated[str | None, Query(max_length=64)] = None,
    min_urgency: Annotated[float | None, Query(ge=0, le=1)] = None,
    most_urgent_first: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> object:
    """The stream of messages: filter by channel, subject, language, author, dates, sentiment,
    intent, aspect and urgency; search text."""
    filters = channels.MessageFilter(
        query=q,
        channel_id=channel_id,
        subject_id=subject_id,
        language=language,
        author=author,
        since=since,
        until=until,
        include_duplicates=include_duplicates,
        sentiment=sentiment.value if sentiment else None,
        intent=intent,
        aspect=aspect,
        min_urgency=min_urgency,
        most_urgent_first=most_urgent_first,
    )
    items, total = channels.list_messages(
        session, workspace_id=ctx.workspace.id, filters=filters, page=page
    )
    found = subjects.subjects_of(
        session, workspace_id=ctx.workspace.id, message_ids=[m.id for m in items]
    )
    return schemas.MessagePage(
        items=[_message_read(m, [s.name for s in found.get(m.id, [])]) for m in items],
        total=total,
        page=page,
        page_size=channels.PAGE_SIZE,
    )


@router.get("/workspaces/{ws}/messages/{message_id}", response_model=schemas.MessageDetail)
def read_message(
    message_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """One message with its raw payload as the channel delivered it."""
    message = channels.get_message(session, workspace_id=ctx.workspace.id, message_id=message_id)
    found = subjects.subjects_of(session, workspace_id=ctx.workspace.id, message_ids=[message.id])
    data = _message_read(message, [s.name for s in found.get(message.id, [])]).model_dump()
    return schemas.MessageDetail(**data, raw=message.raw)


@router.get("/workspaces/{ws}/mappings", response_model=list[schemas.MappingRead])
def list_mappings(ctx: WorkspaceDep, auth: AuthDep, session: SessionDep) -> object:
    """Saved column mappings for file imports."""
    return channels.list_mappings(session, workspace_id=ctx.workspace.id)


@router.post("/workspaces/{ws}/mappings", response_model=schemas.MappingRead, status_code=201)
def save_mapping(
    body: schemas.MappingCreate, ctx: AgentWorkspace, auth: AuthDep, session: SessionDep
) -> object:
    """Create or replace a named mapping of message fields to file columns."""
    return channels.save_mapping(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        name=body.name,
        columns=body.columns,
        date_format=body.date_format,
        timezone=body.timezone,
    )


@router.post("/workspaces/{ws}/imports", response_model=schemas.ImportRead, status_code=202)
async def upload_import(
    file: UploadFile,
    ctx: AgentWorkspace,
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    channel: Annotated[str, Query(max_length=200)] = "",
    mapping: Annotated[str | None, Query(max_length=200)] = None,
) -> object:
    """Upload a CSV, JSONL or XLSX file; it is imported in the background (poll its status)."""
    run, path = await _receive_upload(file, ctx.workspace.id, settings.data_dir)
    target = channels.get_or_create_channel(
        session,
        workspace_id=ctx.workspace.id,
        actor=ctx.actor,
        kind=ChannelKind.FILE,
        name=channel or f"Import: {Path(file.filename or 'file').stem}"[:200],
    )
    mapping_id = None
    if mapping:
        mapping_id = str(
            channels.get_mapping_by_name(session, workspace_id=ctx.workspace.id, name=mapping).id
        )
    started = channels.start_import(
        session,
        workspace_id=ctx.workspace.id,
        channel_id=target.id,
        filename=file.filename or path.name,
        sha256=run,
    )
    jobs.enqueue_after_commit(
        session,
        "channels.import_file",
        workspace_id=str(ctx.workspace.id),
        channel_id=str(target.id),
        path=str(path),
        mapping_id=mapping_id,
        import_id=str(started.id),
    )
    return started


async def _receive_upload(
    file: UploadFile, workspace_id: uuid.UUID, data_dir: Path, *, keep_name: bool = False
) -> tuple[str, Path]:
    """Store an upload under the data directory; its sha256 and path. ``keep_name`` stores
    it as ``<random>/<its own name, made safe>`` so that reports show the name the user knows."""
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".xlsx"):
        raise InvalidInput(N_("Upload a .csv, .tsv, .jsonl or .xlsx file."), field="file")
    folder = data_dir / "imports" / str(workspace_id)
    if keep_name:
        folder = folder / uuid.uuid4().hex
        stem = re.sub(r"[^\w.\- ]+", "_", Path(file.filename or "file").stem).strip(" .")
        path = folder / f"{(stem or 'file')[:150]}{suffix}"
    else:
        path = folder / f"{uuid.uuid4().hex}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                out.close()
                path.unlink(missing_ok=True)
                raise InvalidInput(N_("The file is larger than {n} MB."), field="file", n=512)
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInput(N_("The file is empty."), field="file")
    return digest.hexdigest(), path


@router.get("/workspaces/{ws}/imports/{import_id}", response_model=schemas.ImportRead)
def read_import(
    import_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> object:
    """Progress and counts of an import."""
    return channels.get_import(session, workspace_id=ctx.workspace.id, import_id=import_id)


@router.get("/workspaces/{ws}/imports/{import_id}/report.csv", response_class=Response)
def import_report(
    import_id: uuid.UUID, ctx: WorkspaceDep, auth: AuthDep, session: SessionDep
) -> Response:
    """The rejected rows of an import: line, column, reason, content."""
    run = channels.get_import(session, workspace_id=ctx.workspace.id, import_id=import_id)
    return Response(
        report_csv(channels.import_rejections(session, run=run)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{run.id}.csv"'},
    )


def report_csv(rejections: list[ImportRejection]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "column", "reason", "content"])
    for r in rejections:
        writer.writerow([r.line, r.column or "", r.reason, r.content or ""])
    return "\ufeff" + buffer.getvalue()  # a BOM so spreadsheet programs read UTF-8


# --- the webhook, authenticated by its signature, not by a user -----------------------------------


@public_router.post("/channels/{channel_id}/webhook", response_model=schemas.WebhookAccepted)
async def receive_webhook(channel_id: uuid.UUID, request: Request, session: SessionDep) -> object:
    """Deliver messages to a webhook channel.

    Sign the exact body: `X-H2H-Timestamp: <unix seconds>` and
    `X-H2H-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the channel secret>`.
    Body: `{"messages": [{"external_id", "text", "created_at", "author": {"handle", ...}}]}`.
    Re-sending a message with the same `external_id` stores nothing new.
    """
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BODY:
        raise InvalidInput(N_("The body is larger than {n} MB."), n=5)
    channel = _webhook_channel(session, channel_id)
    channels.verify_webhook(
        channel,
        body=body,
        timestamp=request.headers.get("x-h2h-timestamp"),
        signature=request.headers.get("x-h2h-signature"),
    )
    delivery = _parse(schemas.WebhookDelivery, body)
    items = [
        RawMessage(
            external_id=m.external_id,
            text=m.text,
            created_at=m.created_at,
            author=Author(
                handle=m.author.handle,
                name=m.author.name,
                url=m.author.url,
                followers=m.author.followers,
            ),
            thread_id=m.thread_id,
            parent_id=m.parent_id,
            url=m.url,
            language=m.language,
            raw=m.model_dump(mode="json"),
        )
        for m in delivery.messages
    ]
    result = ingest.store(
        session, workspace_id=channel.workspace_id, channel_id=channel.id, items=items
    )
    return schemas.WebhookAccepted(
        received=len(items), stored=len(result.inserted), duplicates=result.duplicates
    )


def _webhook_channel(session: SessionDep, channel_id: uuid.UUID) -> Channel:
    channel = session.scalars(select(Channel).where(Channel.id == channel_id)).one_or_none()
    if channel is None or channel.kind is not ChannelKind.WEBHOOK:
        raise NotFound()
    return channel


def _parse(model: type[InputT], body: bytes) -> InputT:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(
            N_("Invalid delivery at {where}: {reason}"),
            field=where,
            where=where,
            reason=first["msg"],
        ) from None
