"""``h2h people …`` and ``h2h import …``: persons, their data rights, orders and events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from h2h.people.cli_support import run_import, workspace_factory

app = typer.Typer(
    help="People: profiles, merges, segments, data-subject rights.", no_args_is_help=True
)
import_app = typer.Typer(help="Import orders and events from CSV or JSONL.", no_args_is_help=True)


# --- linking, identity resolution, profile refresh, RFM ----------------------------------------


@app.command()
def link(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Link every message not linked yet to its author's person, with progress."""
    from rich.console import Console
    from rich.progress import Progress

    from h2h.db import transaction
    from h2h.people import linking

    with workspace_factory(workspace) as (factory, ws):
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
    typer.echo("Every message is linked to its author.", err=True)


@app.command()
def refresh(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Recount figures, lifecycle stage and liveness of persons with new activity."""
    from h2h.db import transaction
    from h2h.people import refresh as profiles

    with workspace_factory(workspace) as (factory, ws), transaction(factory) as session:
        done = profiles.refresh_workspace(session, workspace_id=ws)
    typer.echo(f"Refreshed {done} profiles.", err=True)


@app.command()
def resolve(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Look at every person again and propose merges; prints what the pass did as JSON.
    Works in chunks of persons, a transaction each, so the app keeps writing meanwhile."""
    import json
    from collections import Counter

    from rich.console import Console
    from rich.progress import Progress

    from h2h.db import transaction, utcnow
    from h2h.people import resolution
    from h2h.people.tasks import RESOLVE_CHUNK

    totals: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    with workspace_factory(workspace) as (factory, ws):
        started = utcnow()
        with transaction(factory) as session:
            ids = resolution.active_person_ids(session, workspace_id=ws)
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("resolving", total=len(ids))
            for start in range(0, len(ids), RESOLVE_CHUNK):
                chunk = ids[start : start + RESOLVE_CHUNK]
                with transaction(factory) as session:
                    report = resolution.suggest(session, workspace_id=ws, person_ids=chunk)
                numbers = report.as_dict()
                seconds.update(numbers.pop("seconds"))
                totals.update(numbers)
                bar.advance(task, len(chunk))
        with transaction(factory) as session:
            resolution.mark_resolved(session, workspace_id=ws, at=started)
    summary = {k: totals[k] for k in resolution.Report().as_dict() if k != "seconds"}
    typer.echo(json.dumps({**summary, "seconds": {k: round(v, 3) for k, v in seconds.items()}}))


@app.command()
def rfm(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Score as of this date (YYYY-MM-DD), e.g. a data set's last day."
        ),
    ] = None,
) -> None:
    """Score customers by recency, frequency and monetary value; recount the segments.
    Prints the customers per RFM segment as JSON."""
    import json
    from datetime import UTC, date, datetime, time

    from h2h.db import transaction
    from h2h.people import rfm as scoring
    from h2h.people import segments

    moment = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            typer.echo(f"Error: --as-of {as_of!r}: use YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
        moment = datetime.combine(day, time.max, tzinfo=UTC)
    with workspace_factory(workspace) as (factory, ws), transaction(factory) as session:
        report = scoring.compute(session, workspace_id=ws, as_of=moment)
        segments.recount_all(session, workspace_id=ws)
    typer.echo(
        json.dumps(
            {
                "as_of": report.as_of.isoformat(),
                "customers": report.customers,
                "changed": report.changed,
                "segments": dict(report.segments.most_common()),
            }
        )
    )


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
    from h2h.people import orders

    mapping = _order_mapping(map_ or [], currency, timezone)

    def importer(factory: Any, ws: Any, paths: Any, on_progress: Any, on_file: Any) -> Any:
        return orders.import_files(
            factory,
            workspace_id=ws,
            paths=paths,
            mapping=mapping,
            currency=currency,
            on_progress=on_progress,
            on_file=on_file,
        )

    run_import(files, workspace=workspace, label="orders", importer=importer)


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
