"""The body of ``h2h import events`` (registered on ``import_app`` in ``h2h.people.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from h2h.people import events_import

SHOWN_REJECTIONS = 20


def mapping_from_options(
    pairs: list[str],
    *,
    name: str | None,
    identity_kind: str | None,
    properties: list[str],
    timezone: str | None,
) -> events_import.EventMapping:
    """The mapping the options describe; exits with a usage error for a malformed one."""
    mapping = events_import.EventMapping(
        name=name, identity_kind=identity_kind, timezone=timezone or "UTC"
    )
    for pair in pairs:
        key, sep, column = pair.partition("=")
        if not sep or key not in events_import.FIELDS or not column:
            _usage(f"--map {pair!r}: use field=column; fields: {', '.join(events_import.FIELDS)}")
        mapping.columns[key] = column
    for pair in properties:
        key, sep, column = pair.partition("=")
        if not sep or not key or not column:
            _usage(f"--property {pair!r}: use key=column, e.g. --property path=URL")
        mapping.property_columns[key] = column
    return mapping


def _usage(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def run(files: list[str], *, workspace: str, mapping: events_import.EventMapping) -> None:
    """Import the files with a progress bar, then print the counts and the first bad rows."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from h2h import cli as main_cli
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.people import imports
    from h2h.people.cli import _expand, _workspace_id

    paths = _expand(files)
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths or missing:
        typer.echo(f"Error: no such file: {', '.join(missing) or ' '.join(files)}", err=True)
        raise typer.Exit(1)
    console = Console()
    engine = engine_from_settings(main_cli._settings())
    factory = make_sessionmaker(engine)
    try:
        ws = _workspace_id(factory, workspace)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task("events", total=len(paths), stats="")
            started: list[Path] = []

            def on_file(path: Path) -> None:
                if started:
                    bar.advance(task)
                started.append(path)
                bar.update(task, description=path.name[:40])

            def on_progress(read: int, imported: int, duplicates: int, rejected: int) -> None:
                bar.update(task, stats=f"{read} rows, {imported} new, {rejected} rejected")

            run_ids = events_import.import_files(
                factory,
                workspace_id=ws,
                paths=paths,
                mapping=mapping,
                on_progress=on_progress,
                on_file=on_file,
            )
            bar.advance(task)
        with transaction(factory) as session:
            report = _report(session, ws, run_ids, imports)
    finally:
        engine.dispose()
    _print(console, report)
    if report["failed"] == len(run_ids):
        raise typer.Exit(1)


def _report(session: Any, ws: Any, run_ids: list[Any], imports: Any) -> dict[str, Any]:
    runs = [imports.get_import(session, workspace_id=ws, import_id=r) for r in run_ids]
    rejections = [
        (run.filename, item.line, item.column, item.reason)
        for run in runs
        if run.rejected
        for item in imports.rejections_of(
            session, workspace_id=ws, import_id=run.id, limit=SHOWN_REJECTIONS
        )
    ]
    totals = {key: sum(getattr(run, key) for run in runs) for key in imports.COUNTS}
    return {
        "files": len(runs),
        "failed": sum(1 for run in runs if run.error),
        "totals": totals,
        "rejections": rejections,
    }


def _print(console: Any, report: dict[str, Any]) -> None:
    totals = report["totals"]
    console.print(
        f"{report['files']} file(s): {totals['rows_read']} rows read, {totals['imported']} "
        f"imported, {totals['duplicates']} already there, {totals['rejected']} rejected."
    )
    for filename, line, column, reason in report["rejections"][:SHOWN_REJECTIONS]:
        where = f", column {column}" if column else ""
        console.print(f"  {filename} line {line}{where}: {reason}", markup=False)
    if totals["rejected"] > SHOWN_REJECTIONS:
        console.print(f"  … and more ({totals['rejected']} in all)")
