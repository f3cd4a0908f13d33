"""``h2h nlp``: analyse one text or a JSONL stream, evaluate, and refuse bad input clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from h2h.cli import app
from h2h.nlp import datasets

runner = CliRunner()
SHARED = datasets.data_dir()
needs_data = pytest.mark.skipif(
    not (SHARED / "rusentiment").is_dir(), reason=f"shared data sets not found at {SHARED}"
)


def test_analyze_prints_one_analysis() -> None:
    result = runner.invoke(app, ["nlp", "analyze", "Спасибо, всё отлично!"])
    assert result.exit_code == 0, result.output
    analysis = json.loads(result.output)
    assert analysis["sentiment"] == "positive" and analysis["language"] == "ru"


def test_analyze_streams_jsonl_in_order_keeping_ids(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [{"id": n, "text": text} for n, text in enumerate(["ужасно", "", "great, thanks!"])]
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n")
    target = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["nlp", "analyze", "--input", str(source), "--output", str(target), "--no-entities"]
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in target.read_text().splitlines()]
    assert [o["id"] for o in out] == [0, 1, 2]
    assert [o["sentiment"] for o in out] == ["negative", "neutral", "positive"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json\n", "line 1: not JSON"), ('{"text": 1}\n', "line 1: expected an object")],
)
def test_analyze_names_the_bad_line(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(content)
    result = runner.invoke(app, ["nlp", "analyze", "--input", str(source)])
    assert result.exit_code == 1
    assert message in result.output


def test_analyze_without_a_text_or_input_explains_itself() -> None:
    result = runner.invoke(app, ["nlp", "analyze"])
    assert result.exit_code == 2 and "give a text or --input" in result.output


def test_eval_of_an_unknown_dataset_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["nlp", "eval", "--dataset", "imdb"])
    assert result.exit_code == 1 and "rusentiment" in result.output


def test_eval_with_a_missing_data_dir_says_where_it_looked(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["nlp", "eval", "--dataset", "airline", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1 and str(tmp_path) in result.output


@needs_data
def test_eval_on_our_english_test_annotations_reports_per_label(tmp_path: Path) -> None:
    result = runner.invoke(app, ["nlp", "eval", "--dataset", "test_en", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 200
    assert {"intent:complaint", "intent:question", "aspect:payment"} <= set(report["labels"])
    assert all(0 <= v["precision"] <= 1 for v in report["labels"].values())
