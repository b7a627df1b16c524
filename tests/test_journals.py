"""Journal exports (`unstuck.data.journals`): notes with front matter and a title, Day One-style JSON,
plain-text journals under date headings; each round-trips through `batch` and `report`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.journals import front_matter, leading_title, note_record
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.model.tagger import Tagger

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures" / "journals"
# (input, --keep-fields for batch, date field, the words only front matter or titles hold)
EXPORTS = {
    "notes": (FIXTURES / "notes", "date,title,text", "date",
              ["anxious", "drinking", "terrified", "Dr. Reyes", "better off without me", "Thursday session"]),
    "dayone": (FIXTURES / "dayone.json", "creationDate,title,text", "creationDate", ["Monday", "Hangover"]),
    "dated": (FIXTURES / "journal.txt", "date,text", "date", ["Monday, March 2", "## 2026", "==="]),
}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.load(DEFAULT_MODEL_DIR)


def test_journals_front_matter_reads_the_simple_yaml_subset():
    text = ('---\ndate: 2026-03-05\nmood: "low, tired"  \ntags: [therapy, dad]\npeople:\n  - Ana\n  - "Dr. Reyes"\n'
            "energy: 3  # of 10\nnested:\n  key: skipped\n---\n# Thursday\n\nThe entry.\n")
    record = note_record(text, "n.md")
    assert record == {"date": "2026-03-05", "mood": "low, tired", "tags": ["therapy", "dad"],
                      "people": ["Ana", "Dr. Reyes"], "energy": "3", "nested": None, "title": "Thursday",
                      "text": "\nThe entry.\n"}


def test_journals_unclosed_front_matter_is_an_error_at_its_first_line():
    fields, _, _ = front_matter("---\ndate: 2026-03-05\nThe entry itself\n", "n.md")
    assert str(fields) == "n.md:1: front matter opened here is never closed (no '---' line after it)"


@pytest.mark.parametrize("text, title, body", [
    ("# Title\nbody", "Title", "body"),
    ("\n\n# Title  \n\nbody", "Title", "\nbody"),
    ("## Not a title\nbody", None, "## Not a title\nbody"),
    ("body only", None, "body only"),
])
def test_journals_leading_title(text, title, body):
    assert leading_title(text) == (title, body)


@pytest.mark.parametrize("name", list(EXPORTS))
def test_journals_round_trip_through_batch_and_report(tmp_path, tagger, name):
    source, keep, date_field, hidden = EXPORTS[name]
    tags, page = tmp_path / "tags.jsonl", tmp_path / "report.html"
    result = runner.invoke(app, ["batch", str(source), "-o", str(tags), "--evidence", "--keep-fields", keep])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in tags.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    for row in rows:  # tagged on the entry alone: front matter and titles change no score
        alone = tagger.tag(row["text"], evidence=True)
        assert row["labels"] == alone.labels and row["scores"] == pytest.approx(alone.scores, abs=1e-4)
        for spans in row["evidence"].values():
            assert all(row["text"][s["start"]:s["end"]] == s["text"] for s in spans)
        assert not any(word in json.dumps(row["evidence"]) or word in row["text"] for word in hidden)
    result = runner.invoke(app, ["report", str(tags), "-o", str(page)])
    assert result.exit_code == 0, result.stderr
    assert f'dates from its "{date_field}" field' in result.stderr
    two_steps = page.read_text(encoding="utf-8")
    assert "2 Mar 2026 to 26 Mar 2026" in two_steps
    one_step = tmp_path / "direct.html"
    date_option = [] if name == "dated" else ["--date-field", date_field]
    result = runner.invoke(app, ["report", str(source), "-o", str(one_step), *date_option])
    assert result.exit_code == 0, result.stderr
    assert _body(one_step.read_text(encoding="utf-8")) == _body(two_steps)  # the same page, one step or two


def _body(page: str) -> str:
    """The page without what names where the tags came from: the model version (or batch output), and line
    numbers, which are those of the file read (the journal, or the batch output)."""
    return re.sub(r" · line \d+|<dt>Model</dt><dd>[^<]*</dd>", "", page)


def test_journals_dated_txt_is_detected_and_said_in_the_summary(tmp_path):
    result = runner.invoke(app, ["batch", str(FIXTURES / "journal.txt"), "-o", str(tmp_path / "t.jsonl")])
    assert result.exit_code == 0, result.stderr
    assert "tagged 5 entries, one under each date heading (detected: --no-split-on-dates reads one a line)," \
        in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["1", "5", "11", "14", "17"]  # the line of each heading
    result = runner.invoke(app, ["batch", str(FIXTURES / "journal.txt"), "-o", str(tmp_path / "l.jsonl"),
                                 "--no-split-on-dates"])
    assert result.exit_code == 0 and "date heading" not in result.stderr
    assert len((tmp_path / "l.jsonl").read_text(encoding="utf-8").splitlines()) == 14  # one a non-blank line


def test_journals_split_on_dates_reports_a_heading_with_nothing_under_it(tmp_path):
    source = tmp_path / "j.txt"
    source.write_text("2026-03-01\nFirst entry.\n2026-03-02\n\n2026-03-03\nThird.\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source), "-o", str(tmp_path / "o.jsonl"), "--split-on-dates"])
    assert result.exit_code == 0
    assert f"unstuck: {source}:3: a date heading with no entry under it" in result.stderr


@pytest.mark.parametrize("content, reason", [
    ('[{"text": "x"}]', ':1: expected a Day One-style export, {"entries": [...]}; for one JSON object a line, name '
                        "the file .jsonl"),
    ('{"metadata": {}}', ': no "entries" list; expected a Day One-style export, {"entries": [...]}'),
    ('{"entries": [\n{"text": "a"},\n{"text": "b",,}]}', ":3: invalid JSON (Expecting property name enclosed in "
                                                         "double quotes, column 14)"),
])
def test_journals_dayone_that_is_not_one_is_one_line(tmp_path, content, reason):
    source = tmp_path / "export.json"
    source.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"unstuck: {source}{reason}"]


def test_journals_dayone_entry_that_is_not_an_object_is_a_skipped_row(tmp_path):
    source = tmp_path / "export.json"
    source.write_text('{"entries": [\n  {"uuid": "A", "text": "I cancelled again."},\n  "oops",\n'
                      '  {"uuid": "B", "text": "Scared to say it."}\n]}', encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0
    assert f'unstuck: {source}:3: expected each of "entries" to be a JSON object' in result.stderr
    ids = [json.loads(line)["id"] for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert ids == ["A", "B"]
