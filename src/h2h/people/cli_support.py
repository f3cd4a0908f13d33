"""What the people commands share: a workspace's sessions, and the file import runner
(progress bar, counts, the first bad rows) behind ``h2h import orders`` and ``events``."""

from __future__ import annotations

import glob
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

SHOWN_REJECTIONS = 20

# importer(factory, workspace_id, paths, on_progress, on_file) -> ids of the DataImports
Importer = Callable[[Any, uuid.UUID, list[Path], Any, Callable[[Path], None]], list[uuid.UUID]]


@contextmanager
def workspace_factory(slug: str) -> Iterator[tuple[Any, uuid.UUID]]:
    """A session factory on the configured database and the id of workspace ``slug``;
    exits with an error naming the slug when there is no such workspace."""
    from h2h import cli as main_cli
    from h2h.accounts import service as accounts
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.errors import NotFound

    engine = engine_from_settings(main_cli._settings())
    factory = make_sessionmaker(engine)
    try:
        try:
            with transaction(factory) as session:
                workspace_id = accounts.get_workspace(session, slug=slug).id
        except NotFound:
            typer.echo(f"Error: no workspace {slug!r}", err=True)
            raise typer.Exit(1) from None
        yield factory, workspace_id
    finally:
        engine.dispose()


def expand(files: list[str]) -> list[Path]:
    """Files and glob patterns (quoted, so the shell did not expand them) as sorted paths;
    exits with an error naming what is missing."""
    paths: list[Path] = []
    for item in files:
        matches = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
        paths.extend(Path(m) for m in matches)
    paths = list(dict.fromkeys(paths))
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths or missing:
        typer.echo(f"Error: no such file: {', '.join(missing) or ' '.join(files)}", err=True)
        raise typer.Exit(1)
    return paths


def run_import(files: list[str], *, workspace: str, label: str, importer: Importer) -> None:
    """Import the files with a progress bar, then print the counts and the first bad rows;
    exits 1 when no file could be imported at all."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from h2h.db import transaction
    from h2h.people import imports

    paths = expand(files)
    with workspace_factory(workspace) as (factory, ws):
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task(label, total=len(paths), stats="")
            before = dict.fromkeys(imports.COUNTS, 0)  # counts of the files already done
            latest = dict.fromkeys(imports.COUNTS, 0)  # counts of the file being imported
            started: list[Path] = []

            def on_file(path: Path) -> None:
                if started:
                    bar.advance(task)
                for key in imports.COUNTS:
                    before[key] += latest[key]
                    latest[key] = 0
                started.append(path)
                bar.update(task, description=path.name[:40])

            def on_progress(read: int, imported: int, duplicates: int, rejected: int) -> None:
                latest.update(
                    zip(imports.COUNTS, (read, imported, duplicates, rejected), strict=True)
                )
                total = {key: before[key] + latest[key] for key in imports.COUNTS}
                bar.update(
                    task,
                    stats=f"{total['rows_read']} rows, {total['imported']} new, "
                    f"{total['rejected']} rejected",
                )

            run_ids = importer(factory, ws, paths, on_progress, on_file)
            bar.advance(task)
        with transaction(factory) as session:
            report = _report(session, ws, run_ids)
    _print(Console(), report)
    if report["failed"] == len(run_ids):
        raise typer.Exit(1)


def _report(session: Any, ws: uuid.UUID, run_ids: list[uuid.UUID]) -> dict[str, Any]:
    from h2h.people import imports

    runs = [imports.get_import(session, workspace_id=ws, import_id=r) for r in run_ids]
    rejections = [
        (run.filename, item.line, item.column, item.reason)
        for run in runs
        if run.rejected
        for item in imports.rejections_of(
            session, workspace_id=ws, import_id=run.id, limit=SHOWN_REJECTIONS
        )
    ]
    failed = [(run.filename, run.error) for run in runs if run.error]
    totals = {key: sum(getattr(run, key) for run in runs) for key in imports.COUNTS}
    return {
        "files": len(runs),
        "failed": len(failed),
        "errors": failed,
        "totals": totals,
        "rejections": rejections,
    }


def _print(console: Any, report: dict[str, Any]) -> None:
    totals = report["totals"]
    console.print(
        f"{report['files']} file(s): {totals['rows_read']} rows read, {totals['imported']} "
        f"imported, {totals['duplicates']} already there, {totals['rejected']} rejected."
    )
    for filename, error in report["errors"]:
        console.print(f"  {filename}: {error}", markup=False)
    for filename, line, column, reason in report["rejections"][:SHOWN_REJECTIONS]:
        where = f", column {column}" if column else ""
        console.print(f"  {filename} line {line}{where}: {reason}", markup=False)
    if totals["rejected"] > SHOWN_REJECTIONS:
        console.print(f"  … and more ({totals['rejected']} in all)")
