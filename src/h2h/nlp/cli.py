"""``h2h nlp …``: analyse texts, evaluate and train models, re-analyse stored messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Understand texts: sentiment, intents, threats, aspects, profanity.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)
BATCH = 512

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the shared data sets (default: ../shared/data or $H2H_SHARED_DATA).",
    ),
]


@app.command()
def analyze(
    text: Annotated[str | None, typer.Argument(help="A text to analyse.")] = None,
    input_: Annotated[
        Path | None, typer.Option("--input", help='JSONL, one {"text": …} per line; "-" for stdin.')
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write JSONL analyses (default: stdout).")
    ] = None,
    entities: Annotated[bool, typer.Option(help="Also extract named entities (slower).")] = True,
) -> None:
    """Analyse one text, or stream a JSONL file: one analysis per input line, in order."""
    from h2h.nlp.pipeline import analyze as run

    if text is None and input_ is None:
        err.print("[red]Error:[/red] give a text or --input FILE")
        raise typer.Exit(2)
    if text is not None:
        print(json.dumps(run([text], entities=entities)[0].to_dict(), ensure_ascii=False, indent=2))
        return
    source = sys.stdin if str(input_) == "-" else _open(input_)
    sink: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        done = _stream(source, sink, entities)
    finally:
        if source is not sys.stdin:
            source.close()
        if output:
            sink.close()
    if output:
        err.print(f"{done} texts analysed → {output}")


def _stream(source: TextIO, sink: TextIO, entities: bool) -> int:
    from h2h.nlp.pipeline import analyze as run

    done = 0
    for batch in _batches(source):
        texts = [item["text"] for item in batch]
        languages = [item.get("language") for item in batch]
        for item, result in zip(batch, run(texts, languages, entities=entities), strict=True):
            record: dict[str, Any] = result.to_dict()
            if "id" in item:
                record = {"id": item["id"], **record}
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        done += len(batch)
    return done


def _open(path: Path | None) -> TextIO:
    if path is None or not path.is_file():
        err.print(f"[red]Error:[/red] {path} is not a file")
        raise typer.Exit(2)
    return path.open(encoding="utf-8", errors="replace")


def _batches(source: TextIO) -> Iterator[list[dict[str, Any]]]:
    """Lines parsed and checked; a bad line stops with its number and the reason."""
    batch: list[dict[str, Any]] = []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            err.print(f"[red]Error:[/red] line {number}: not JSON ({exc.msg})")
            raise typer.Exit(1) from exc
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            err.print(f'[red]Error:[/red] line {number}: expected an object with a "text" string')
            raise typer.Exit(1)
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@app.command("eval")
def eval_(
    dataset: Annotated[
        str,
        typer.Option(
            help="rusentiment, rusentitweet, airline, test_ru, test_en, challenge, "
            "dev_ru, dev_en, dev_threats."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    recipe: Annotated[
        bool,
        typer.Option(help="Also train the recipe on the set's own train split (paper protocol)."),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Measure the shipped pipeline on a data set's test split or on our annotations."""
    from h2h.nlp import datasets
    from h2h.nlp.evaluate import evaluate

    try:
        report = evaluate(dataset, data_dir, recipe=recipe)
    except datasets.DataMissing as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"{report['dataset']}")
    for column in ("metric", "value"):
        table.add_column(column)
    for section in ("classes", "three_way"):
        if section in report:
            for key in ("weighted_f1", "macro_f1", "accuracy", "ece"):
                if key in report[section]:
                    table.add_row(f"{section} {key}", str(report[section][key]))
    for label, values in report.get("labels", {}).items():
        table.add_row(
            label, f"P {values['precision']:.2f}  R {values['recall']:.2f}  n {values['support']}"
        )
    console.print(table)


@app.command()
def train(
    workspace: Annotated[
        str | None, typer.Option(help="Train this workspace's model from its corrections.")
    ] = None,
    own_data_only: Annotated[
        bool, typer.Option(help="Use only the workspace's corrections (no non-commercial data).")
    ] = False,
    activate: Annotated[
        bool, typer.Option(help="Switch to the new model if it is not worse.")
    ] = True,
    out: Annotated[
        Path | None, typer.Option(help="Where shipped models go (default: the package).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Train the shipped models, or a workspace model that learns from its corrections."""
    from h2h.nlp import datasets, runtime
    from h2h.nlp import train as training

    try:
        if workspace is None:
            report = training.train_shipped(out or runtime.SHIPPED_DIR, data_dir)
            print(json.dumps(report, indent=2))
            return
        _train_workspace(workspace, own_data_only, activate, data_dir)
    except datasets.DataMissing as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _train_workspace(slug: str, own_data_only: bool, activate: bool, data_dir: Path | None) -> None:
    from h2h import cli as main_cli
    from h2h.accounts import service as accounts
    from h2h.nlp import service
    from h2h.nlp import train as training
    from h2h.nlp.models import CorrectionField

    settings = main_cli._settings()
    with main_cli._unit_of_work(settings) as session:
        ws = accounts.get_workspace(session, slug=slug)
        current = service.models_for(session, workspace_id=ws.id)
        pairs = service.list_corrections(
            session, workspace_id=ws.id, field=CorrectionField.SENTIMENT
        )
        analyses = service.analyses_of(
            session, workspace_id=ws.id, message_ids=[c.message_id for c, _ in pairs]
        )
        corrections = [
            (text, current.language_for(analyses[c.message_id].language or "", text), str(c.value))
            for c, text in pairs
            if c.message_id in analyses
        ]
        result = training.train_workspace(
            corrections,
            current=current,
            out_dir=settings.data_dir / "models" / str(ws.id),
            own_data_only=own_data_only,
            root=data_dir,
        )
        for code, outcome in result.items():
            if "version" in outcome:
                chosen = activate and outcome["better_or_equal"]
                service.register_model(
                    session,
                    workspace_id=ws.id,
                    actor=accounts.SYSTEM,
                    language=code,
                    version=outcome["version"],
                    path=Path(outcome["path"]),
                    metrics=outcome,
                    activate=chosen,
                )
                outcome["activated"] = chosen
    print(json.dumps(result, indent=2, ensure_ascii=False))


@app.command()
def reanalyze(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    force: Annotated[
        bool, typer.Option(help="Re-analyse every message, not only stale ones.")
    ] = False,
) -> None:
    """Bring every stored message's analysis up to the current models, with progress."""
    from rich.progress import Progress

    from h2h import cli as main_cli
    from h2h.accounts import service as accounts
    from h2h.db import engine_from_settings, make_sessionmaker, transaction
    from h2h.nlp import service

    settings = main_cli._settings()
    engine = engine_from_settings(settings)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            ws = accounts.get_workspace(session, slug=workspace)
            if force:
                service.forget_analyses(session, workspace_id=ws.id)
            state = service.progress(session, workspace_id=ws.id)
        with Progress(console=err) as bar:
            task = bar.add_task("analysing", total=state["total"], completed=state["analyzed"])
            while True:
                with transaction(factory) as session:
                    done = service.analyze_pending(session, workspace_id=ws.id)
                if not done:
                    break
                bar.advance(task, done)
    finally:
        engine.dispose()
    err.print("All messages carry a current analysis.")
