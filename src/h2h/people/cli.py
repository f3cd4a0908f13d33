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
def refresh(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Recount figures, lifecycle stage and liveness of persons with new activity."""
    from h2h import cli as main_cli
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.people import refresh as profiles

    engine = engine_from_settings(main_cli._settings())
    factory = make_sessionmaker(engine)
    try:
        ws = _workspace_id(factory, workspace)
        with transaction(factory) as session:
            done = profiles.refresh_workspace(session, workspace_id=ws)
    finally:
        engine.dispose()
    typer.echo(f"Refreshed {done} profiles.", err=True)


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


# --- orders -----------------------------------------------------------------------------------


def _expand(files: list[str]) -> list[Path]:
    """Files and glob patterns (quoted, so the shell did not expand them) as sorted paths."""
    import glob

    paths: list[Path] = []
    for item in files:
        matches = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
        paths.extend(Path(m) for m in matches)
    return list(dict.fromkeys(paths))


def _order_mapping(pairs: list[str], currency: str | None, timezone: str | None) -> Any:
    from h2h.people import orders

    if not pairs:
        return None
    chosen = orders.OrderMapping(currency=(currency or "RUB").upper(), timezone=timezone or "UTC")
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or name not in orders.FIELDS:
            typer.echo(
                f"Error: --map {pair!r}: use field=column; fields: {', '.join(orders.FIELDS)}",
                err=True,
            )
            raise typer.Exit(2)
        chosen.columns[name] = column
    return chosen


@import_app.command("orders")
def import_orders(
    files: Annotated[list[str], typer.Argument(help="CSV/JSONL files or quoted glob patterns.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column, e.g. --map order_id=Invoice (repeatable)."),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(help="Currency of prices (default: GBP for Online Retail, else RUB)."),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of dates without one.")] = None,
) -> None:
    """Import orders; lines already imported are skipped, bad rows reported."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from h2h import cli as main_cli
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.people import imports, orders

    paths = _expand(files)
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths or missing:
        typer.echo(f"Error: no such file: {', '.join(missing) or ' '.join(files)}", err=True)
        raise typer.Exit(1)
    mapping = _order_mapping(map_ or [], currency, timezone)
    console = Console()
    engine = engine_from_settings(main_cli._settings())
    factory = make_sessionmaker(engine)
    totals = dict.fromkeys(imports.COUNTS, 0)
    try:
        ws = _workspace_id(factory, workspace)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task("orders", total=len(paths), stats="")
            done: dict[str, int] = dict.fromkeys(imports.COUNTS, 0)

            def on_file(path: Path) -> None:
                for key in imports.COUNTS:
                    done[key] = totals[key]
                bar.update(task, description=path.name[:40])

            def on_progress(read: int, imported: int, duplicates: int, rejected: int) -> None:
                for key, value in zip(
                    imports.COUNTS, (read, imported, duplicates, rejected), strict=True
                ):
                    totals[key] = done[key] + value
                bar.update(
                    task,
                    stats="{} rows, {} new, {} rejected".format(
                        totals["rows_read"], totals["imported"], totals["rejected"]
                    ),
                )

            def advance(path: Path) -> None:
                if path != paths[0]:
                    bar.advance(task)
                on_file(path)

            run_ids = orders.import_files(
                factory,
                workspace_id=ws,
                paths=paths,
                mapping=mapping,
                currency=currency,
                on_progress=on_progress,
                on_file=advance,
            )
            bar.advance(task)
        with transaction(factory) as session:
            runs = [imports.get_import(session, workspace_id=ws, import_id=r) for r in run_ids]
            rejections = [
                (run.filename, item)
                for run in runs
                if run.rejected
                for item in imports.rejections_of(
                    session, workspace_id=ws, import_id=run.id, limit=20
                )
            ]
            failed = [(run.filename, run.error) for run in runs if run.error]
            for key in imports.COUNTS:
                totals[key] = sum(getattr(run, key) for run in runs)
    finally:
        engine.dispose()
    console.print(
        f"{len(runs)} file(s): {totals['rows_read']} rows read, {totals['imported']} imported, "
        f"{totals['duplicates']} already there, {totals['rejected']} rejected."
    )
    for filename, item in rejections[:20]:
        column = f", column {item.column}" if item.column else ""
        console.print(f"  {filename} line {item.line}{column}: {item.reason}", markup=False)
    if len(rejections) > 20:
        console.print(f"  … and more ({totals['rejected']} in all)")
    if failed and len(failed) == len(runs):
        raise typer.Exit(1)


# --- events -----------------------------------------------------------------------------------


@import_app.command("events")
def import_events(
    files: Annotated[list[str], typer.Argument(help="CSV/JSONL files or quoted glob patterns.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column, e.g. --map occurred_at=Time (repeatable)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Every row is this event, e.g. page_view.")
    ] = None,
    identity_kind: Annotated[
        str | None, typer.Option(help="The identity_value column holds this kind, e.g. email.")
    ] = None,
    property_: Annotated[
        list[str] | None,
        typer.Option("--property", help="key=column: a property from a column (repeatable)."),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of times without one.")] = None,
) -> None:
    """Import events (page views, searches, app events); rows already there are skipped."""
    from h2h.people import events_cli

    mapping = events_cli.mapping_from_options(
        map_ or [],
        name=name,
        identity_kind=identity_kind,
        properties=property_ or [],
        timezone=timezone,
    )
    events_cli.run(files, workspace=workspace, mapping=mapping)
