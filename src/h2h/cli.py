"""The `h2h` command line: serve, migrate, manage workspaces and users, load the demo."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from h2h import __version__, registry
from h2h.accounts import service as accounts
from h2h.accounts.models import Role
from h2h.config import Settings, get_settings
from h2h.db import engine_from_settings, make_sessionmaker, transaction
from h2h.errors import H2HError
from h2h.nlp import cli as nlp_cli
from h2h.people import cli as people_cli

app = typer.Typer(
    help="H2H — social CRM for human-to-human customer relationships.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workspace_app = typer.Typer(help="Manage workspaces.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users and invitations.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(user_app, name="user")
app.add_typer(nlp_cli.app, name="nlp")
app.add_typer(people_cli.app, name="people")
app.add_typer(people_cli.import_app, name="import")
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(exc: H2HError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {exc}")
    return typer.Exit(1)


@contextmanager
def _unit_of_work(settings: Settings | None = None) -> Iterator[Session]:
    """One transaction for one command; the engine is closed afterwards."""
    engine = engine_from_settings(settings or _settings())
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug output.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        # Alembic narrates every plugin and step at INFO; the command prints its own summary.
        for noisy in ("alembic", "pymorphy3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    registry.load()


@app.command()
def version() -> None:
    """Print the H2H version."""
    console.print(__version__)


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (creates the SQLite file if needed)."""
    from h2h.migrate import upgrade

    settings = _settings()
    engine_from_settings(settings).dispose()  # creates the data directory for SQLite
    upgrade(settings.sqlalchemy_url, revision)
    console.print(f"Database at revision [bold]{revision}[/bold].")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: H2H_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: H2H_PORT).")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Run the web server with the in-process job runner."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "h2h.web:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        proxy_headers=True,
    )


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Display name, e.g. “Кофейня Зерно”.")],
    owner: Annotated[str, typer.Option(help="Email of an existing user who will own it.")],
    slug: Annotated[str | None, typer.Option(help="Address part, e.g. zerno.")] = None,
    language: Annotated[str, typer.Option(help="ru or en.")] = "ru",
) -> None:
    """Create a workspace owned by an existing user."""
    with _unit_of_work() as session:
        user = accounts.get_user_by_email(session, email=owner)
        if user is None:
            err.print(f"[red]Error:[/red] no user with email {owner}; create it first.")
            raise typer.Exit(1)
        try:
            workspace = accounts.create_workspace(
                session, name=name, owner=user, slug=slug, language=language
            )
        except H2HError as exc:
            raise _fail(exc) from exc
        console.print(f"Workspace [bold]{workspace.name}[/bold] at /w/{workspace.slug}/")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="Login email.")],
    name: Annotated[str, typer.Option(help="Name customers will see.")],
    workspace: Annotated[str | None, typer.Option(help="Workspace slug to join.")] = None,
    role: Annotated[Role, typer.Option(help="Role in that workspace.")] = Role.AGENT,
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when omitted; prefer the prompt).")
    ] = None,
) -> None:
    """Create a user, optionally as a member of a workspace."""
    password = password or getpass.getpass("Password: ")
    with _unit_of_work() as session:
        try:
            user = accounts.create_user(session, email=email, name=name, password=password)
            if workspace:
                ws = accounts.get_workspace(session, slug=workspace)
                accounts.add_member(
                    session, workspace_id=ws.id, actor=accounts.SYSTEM, user=user, role=role
                )
        except H2HError as exc:
            raise _fail(exc) from exc
        console.print(f"User [bold]{user.email}[/bold] created.")


@user_app.command("invite")
def user_invite(
    email: Annotated[str, typer.Argument(help="Email of the person to invite.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    role: Annotated[Role, typer.Option(help="Role they get.")] = Role.AGENT,
    base_url: Annotated[str, typer.Option(help="Public address of H2H.")] = "http://127.0.0.1:8000",
) -> None:
    """Invite someone to a workspace and print the link to send them."""
    with _unit_of_work() as session:
        try:
            ws = accounts.get_workspace(session, slug=workspace)
            raw, _ = accounts.invite(
                session, workspace_id=ws.id, actor=accounts.SYSTEM, email=email, role=role
            )
        except H2HError as exc:
            raise _fail(exc) from exc
    console.print(f"Send this link (valid {accounts.INVITATION_DAYS} days):")
    console.print(f"{base_url.rstrip('/')}/invite/{raw}", soft_wrap=True, markup=False)


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Argument(help="Login email.")],
) -> None:
    """Set a user's password (asks for it) and end their sessions."""
    password = getpass.getpass("New password: ")
    with _unit_of_work() as session:
        user = accounts.get_user_by_email(session, email=email)
        if user is None:
            err.print(f"[red]Error:[/red] no user with email {email}.")
            raise typer.Exit(1)
        try:
            accounts.set_password(session, user=user, password=password)
        except H2HError as exc:
            raise _fail(exc) from exc
    console.print("Password changed.")


@app.command()
def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV, TSV, JSONL or XLSX file.", exists=True, dir_okay=False, readable=True
        ),
    ],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[
        str, typer.Option(help="Channel name (created as a file channel if new).")
    ] = "",
    mapping: Annotated[str | None, typer.Option(help="Saved column mapping to use.")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column, e.g. --map text=Текст (repeatable)."),
    ] = None,
    save_mapping: Annotated[
        str | None, typer.Option(help="Save the mapping used under this name.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Zone of dates without one.")] = "UTC",
    date_format: Annotated[
        str | None, typer.Option(help="strptime format; default: detect.")
    ] = None,
) -> None:
    """Import a file of mentions; rows already imported are skipped, bad rows reported."""
    from rich.progress import BarColumn, Progress, TextColumn

    from h2h.channels import importer
    from h2h.channels import service as channels
    from h2h.channels.connectors.base import ChannelKind
    from h2h.channels.tasks import run_import

    settings = _settings()
    engine = engine_from_settings(settings)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            ws = accounts.get_workspace(session, slug=workspace)
            columns = importer.peek_columns(file)
            chosen = _mapping(session, ws.id, mapping, map_ or [], columns, timezone, date_format)
            if save_mapping:
                channels.save_mapping(
                    session,
                    workspace_id=ws.id,
                    actor=accounts.SYSTEM,
                    name=save_mapping,
                    columns=chosen.columns,
                    date_format=chosen.date_format,
                    timezone=chosen.timezone,
                )
            target = channels.get_or_create_channel(
                session,
                workspace_id=ws.id,
                actor=accounts.SYSTEM,
                kind=ChannelKind.FILE,
                name=channel or f"Import: {file.stem}"[:200],
            )
            workspace_id, channel_id = ws.id, target.id
        console.print(f"Mapping: {chosen.columns}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[stats]}"),
            console=console,
        ) as progress:
            task = progress.add_task(file.name, total=None, stats="")

            def report(read: int, imported: int, rejected: int) -> None:
                progress.update(task, stats=f"{read} rows, {imported} new, {rejected} rejected")

            run_id = run_import(
                factory,
                workspace_id=workspace_id,
                channel_id=channel_id,
                path=file,
                mapping=chosen,
                on_progress=report,
            )
        with transaction(factory) as session:
            run = channels.get_import(session, workspace_id=workspace_id, import_id=run_id)
            rejections = channels.import_rejections(session, run=run)
    except (H2HError, importer.ImportFileError) as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(
        f"{run.status.value}: {run.rows_read} rows read, {run.imported} imported, "
        f"{run.duplicates} already there, {run.rejected} rejected."
    )
    for rejection in rejections[:20]:
        column = f", column {rejection.column}" if rejection.column else ""
        console.print(f"  line {rejection.line}{column}: {rejection.reason}", markup=False)
    if len(rejections) > 20:
        console.print(f"  … and {len(rejections) - 20} more (see the import report in the UI)")
    if run.error:
        err.print(f"[red]Import failed:[/red] {run.error}")
        raise typer.Exit(1)
    if run.imported:
        # Big imports are analysed by the server's background job, not inside the import.
        console.print(
            f"Sentiment, intents and aspects follow in the background of `h2h serve`, "
            f"or now: h2h nlp reanalyze --workspace {workspace}"
        )


def _mapping(
    session: Session,
    workspace_id: Any,
    name: str | None,
    pairs: list[str],
    columns: list[str],
    timezone: str,
    date_format: str | None,
) -> Any:
    from h2h.channels import importer
    from h2h.channels import service as channels

    if name:
        saved = channels.get_mapping_by_name(session, workspace_id=workspace_id, name=name)
        return importer.Mapping(dict(saved.columns), saved.date_format, saved.timezone)
    chosen = importer.guess_mapping(columns) if not pairs else {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field not in importer.FIELDS:
            raise importer.ImportFileError(
                f"--map {pair!r}: use field=column with a field among {', '.join(importer.FIELDS)}"
            )
        if column not in columns:
            raise importer.ImportFileError(f"--map {pair!r}: the file has no column {column!r}")
        chosen[field] = column
    return importer.Mapping(chosen, date_format, timezone)


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server afterwards.")
    ] = True,
    reset: Annotated[bool, typer.Option(help="Delete the demo workspaces first.")] = False,
) -> None:
    """Migrate, load the demo workspaces and (by default) start the server."""
    from h2h.demo import DEMO_PASSWORD, load_demo
    from h2h.migrate import upgrade

    settings = _settings()
    engine_from_settings(settings).dispose()
    upgrade(settings.sqlalchemy_url)
    with _unit_of_work(settings) as session:
        created = load_demo(session, reset=reset)
    console.print(
        "[green]Demo workspaces ready[/green]"
        if created
        else "Demo workspaces already loaded (use --reset to start over)."
    )
    url = f"http://{settings.host}:{settings.port}/login"
    console.print(f"Open [bold]{url}[/bold] and log in as")
    console.print(
        f"  owner: [bold]anna@zerno.example[/bold]   password: [bold]{DEMO_PASSWORD}[/bold]"
    )
    console.print(
        f"  agent: [bold]dmitry@zerno.example[/bold] password: [bold]{DEMO_PASSWORD}[/bold]"
    )
    if serve_after:
        serve(host=None, port=None, reload=False)
