"""``h2h people …`` and ``h2h import …``: persons, their data rights, orders and events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="People: profiles, merges, segments, data-subject rights.", no_args_is_help=True
)
import_app = typer.Typer(help="Import orders and events from CSV or JSONL.", no_args_is_help=True)


# --- linking and identity resolution ---------------------------------------------------------


def _workspace_id(factory: Any, slug: str) -> Any:
    from h2h.accounts import service as accounts
    from h2h.db import transaction
    from h2h.errors import NotFound

    try:
        with transaction(factory) as session:
            return accounts.get_workspace(session, slug=slug).id
    except NotFound:
        typer.echo(f"Error: no workspace {slug!r}", err=True)
        raise typer.Exit(1) from None


@app.command()
def link(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Link every message not linked yet to its author's person, with progress."""
    from rich.console import Console
    from rich.progress import Progress

    from h2h import cli as main_cli
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.people import linking

    engine = engine_from_settings(main_cli._settings())
    factory = make_sessionmaker(engine)
    try:
        ws = _workspace_id(factory, workspace)
        with transaction(factory) as session:
            total = linking.pending_count(session, workspace_id=ws)
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("linking", total=total)
            while True:
                with transaction(factory) as session:
                    done = linking.link_pending(session, workspace_id=ws)
                if not done:
                    break
                bar.advance(task, done)
    finally:
        engine.dispose()
    typer.echo("Every message is linked to its author.", err=True)


@app.command()
def resolve(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Look at every person again and propose merges; prints what the pass did as JSON."""
    import json

    from h2h import cli as main_cli
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.people import resolution

    engine = engine_from_settings(main_cli._settings())
    factory = make_sessionmaker(engine)
    try:
        ws = _workspace_id(factory, workspace)
        with transaction(factory) as session:
            report = resolution.suggest(session, workspace_id=ws)
    finally:
        engine.dispose()
    typer.echo(json.dumps(report.as_dict()))


# --- data-subject rights ----------------------------------------------------------------------


@app.command("export")
def export_person(
    person_id: Annotated[str, typer.Argument(help="The person's id (from the profile's URL).")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    output: Annotated[
        Path | None, typer.Option(help="Write the JSON here instead of standard output.")
    ] = None,
) -> None:
    """Export everything about a person as JSON (a data-subject access request)."""
    import json

    from h2h import cli as main_cli
    from h2h.accounts import service as accounts
    from h2h.errors import H2HError
    from h2h.people import privacy

    try:
        with main_cli._unit_of_work() as session:
            ws = accounts.get_workspace(session, slug=workspace).id
            data = privacy.export_person(
                session, workspace_id=ws, person_id=person_id, actor=accounts.SYSTEM
            )
    except H2HError as exc:
        raise main_cli._fail(exc) from exc
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote {output}", err=True)


@app.command("erase")
def erase_person(
    person_id: Annotated[str, typer.Argument(help="The person's id (from the profile's URL).")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone.")] = False,
) -> None:
    """Erase a person at their request (irreversible); prints what was erased as JSON."""
    import json

    from h2h import cli as main_cli
    from h2h.accounts import service as accounts
    from h2h.errors import H2HError
    from h2h.people import privacy

    if not yes:
        typer.echo("Erasure cannot be undone; run again with --yes to confirm.", err=True)
        raise typer.Exit(2)
    try:
        with main_cli._unit_of_work() as session:
            ws = accounts.get_workspace(session, slug=workspace).id
            report = privacy.erase_person(
                session, workspace_id=ws, actor=accounts.SYSTEM, person_id=person_id
            )
    except H2HError as exc:
        raise main_cli._fail(exc) from exc
    typer.echo(json.dumps(report.as_dict()))
