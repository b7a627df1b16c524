"""Added examples are the user's data: listed, removed, corrected in place; unanswered rows refused."""

import json

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.training import train as train_module
from unstuck.training.examples import added_examples, example_key, text_start

runner = CliRunner()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def no_training(monkeypatch):
    """`train --add FILE --curve` stores the examples, then draws a curve: stubbed here, so the
    tests see exactly what was stored without training anything."""
    monkeypatch.setattr(train_module, "learning_curve", lambda *a, **k: [])


def add(path):
    return runner.invoke(app, ["train", "--add", str(path), "--curve"])


def test_examples_lists_what_was_added_with_file_labels_and_a_safe_text_start(tmp_path, no_training):
    new = write_jsonl(tmp_path / "mine.jsonl", [
        {"text": "I keep cancelling, work ate my thursdays again and again and again", "labels": ["inconsistency"]},
        {"text": "scared\u202e to tell her\x1b[2J about dad", "labels": ["fear", "trust"]},
        {"text": "made soup and watched the rain", "labels": []},
    ])
    assert add(new).exit_code == 0
    result = runner.invoke(app, ["examples"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    first = lines[0].split("  ")
    assert first[0] == example_key("I keep cancelling, work ate my thursdays again and again and again")
    assert first[1].endswith("-mine.jsonl:1") and first[2] == "inconsistency"
    assert first[3] == '"I keep cancelling, work ate my thursday…"'
    assert "fear, trust" in lines[1] and "\u202e" not in lines[1] and "\x1b" not in lines[1]
    assert "(no barrier)" in lines[2]


def test_examples_remove_takes_one_out_and_says_which(tmp_path, no_training):
    new = write_jsonl(tmp_path / "mine.jsonl", [{"text": "skipped therapy again this week", "labels": ["inconsistency"]},
                                               {"text": "too scared to bring up my dad", "labels": ["fear"]}])
    add(new)
    key = example_key("skipped therapy again this week")
    result = runner.invoke(app, ["examples", "remove", key])
    assert result.exit_code == 0 and result.stdout.startswith(f"removed {key} (")
    assert [a.example.text for a in added_examples()] == ["too scared to bring up my dad"]
    runner.invoke(app, ["examples", "remove", example_key("too scared to bring up my dad")])
    assert added_examples() == []
    assert runner.invoke(app, ["examples"]).stdout == ""


def test_examples_remove_unknown_id_is_a_one_line_error():
    result = runner.invoke(app, ["examples", "remove", "nope"])
    assert result.exit_code == 2
    assert result.stderr == "unstuck: no added example 'nope'; see `unstuck examples` for the ids\n"


def test_examples_a_corrected_label_replaces_the_old_one_and_says_so(tmp_path, no_training):
    text = "she never explains what the homework is for"
    add(write_jsonl(tmp_path / "first.jsonl", [{"text": text, "labels": ["communication_gap"]}]))
    fixed = write_jsonl(tmp_path / "fixed.jsonl", [{"text": text, "labels": ["unclear_expectations"]}])
    result = add(fixed)
    assert result.exit_code == 0, result.stderr
    assert (f"{fixed}:1: corrects added example {example_key(text)}: labels were communication_gap, "
            "now unclear_expectations") in result.stderr
    assert [(a.example.text, a.example.labels) for a in added_examples()] == [(text, ("unclear_expectations",))]
    again = add(fixed)
    assert again.exit_code == 2 and "duplicate of an example already in the training data" in again.stderr


def test_examples_an_unanswered_row_is_refused_never_added_as_no_barrier(tmp_path, private_home):
    new = write_jsonl(tmp_path / "to_label.jsonl", [
        {"id": "1", "text": "I cancelled again", "labels": ["inconsistency"]},
        {"id": "2", "text": "not sure what this one is", "labels": None, "unsure_about": "fear", "score": 0.4},
        {"id": "3", "text": "no labels key at all"},
    ])
    result = runner.invoke(app, ["train", "--add", str(new)])
    assert result.exit_code == 2
    assert f'unstuck: {new}:2: no answer yet ("labels" is null or missing)' in result.stderr
    assert f"unstuck: {new}:3: no answer yet" in result.stderr
    assert "not sure what" not in result.stderr
    assert not (private_home / "examples").exists()


def test_examples_skip_invalid_adds_the_answered_rows_only(tmp_path, no_training):
    new = write_jsonl(tmp_path / "to_label.jsonl", [{"text": "I cancelled again", "labels": ["inconsistency"]},
                                                    {"text": "unanswered", "labels": None}])
    result = runner.invoke(app, ["train", "--add", str(new), "--skip-invalid", "--curve"])
    assert result.exit_code == 0
    assert [a.example.text for a in added_examples()] == ["I cancelled again"]


def test_examples_suggest_writes_null_labels(tmp_path):
    source = tmp_path / "notes.txt"
    source.write_text("skipped therapy again\nmade soup\nscared to talk about dad\n", encoding="utf-8")
    result = runner.invoke(app, ["suggest", str(source), "-n", "2"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 and all(row["labels"] is None for row in rows)


@pytest.mark.parametrize("text, shown", [
    ("short", "short"),
    ("line one\nline two\ttabbed", "line one line two tabbed"),
    ("\x1b]0;title\x07evil", "]0;title evil"),
    ("x" * 50, "x" * 39 + "…"),
])
def test_examples_text_start_is_one_safe_line(text, shown):
    assert text_start(text) == shown
