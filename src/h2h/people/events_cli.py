"""The body of ``h2h import events`` (registered on ``import_app`` in ``h2h.people.cli``)."""

from __future__ import annotations

from typing import Any

import typer

from h2h.people import events_import
from h2h.people.cli_support import run_import


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

    def importer(factory: Any, ws: Any, paths: Any, on_progress: Any, on_file: Any) -> Any:
        return events_import.import_files(
            factory,
            workspace_id=ws,
            paths=paths,
            mapping=mapping,
            on_progress=on_progress,
            on_file=on_file,
        )

    run_import(files, workspace=workspace, label="events", importer=importer)
