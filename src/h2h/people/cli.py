"""``h2h people …`` and ``h2h import …``: persons, their data rights, orders and events."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="People: profiles, merges, segments, data-subject rights.", no_args_is_help=True
)
import_app = typer.Typer(help="Import orders and events from CSV or JSONL.", no_args_is_help=True)
