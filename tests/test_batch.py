"""`unstuck batch` through the CLI: every input kind, bad rows, output formats, atomic output, workers."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model import batch
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model.nlp import MAX_CHARS
from unstuck.model.tagger import Tagger

from batch_inputs import ENTRIES, read_jsonl, write_jsonl

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")

SECRET = "my secret diary words"


def run(*args: str):
    return runner.invoke(app, ["batch", *args])


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("unstuck: ") and ": " in line[9:]]


def test_batch_jsonl_tags_every_entry_in_input_order(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": f"e{9 - i}", "text": t} for i, t in enumerate(ENTRIES)])
    result = run(str(source), "-o", "out.jsonl", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ["e9", "e8", "e7", "e6"]
    for row in rows:
        assert list(row)[:5] == ["id", "labels", "scores", "crisis", "crisis_matches"]
        assert set(row["scores"]) == set(LABEL_IDS)
        assert all(0.0 <= s <= 1.0 for s in row["scores"].values())
    assert "unstuck: tagged 4 entries into out.jsonl; none matched the crisis screen" in result.stderr


def test_batch_matches_unstuck_tag(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"text": ENTRIES[0]}])
    run(str(source), "-o", "out.jsonl")
    tagged = json.loads(runner.invoke(app, ["tag", "--json", ENTRIES[0]]).stdout)
    [row] = read_jsonl(tmp_path / "out.jsonl")
    assert (row["labels"], row["scores"], row["crisis"]) == (tagged["labels"], tagged["scores"], tagged["crisis"])


def test_batch_csv_with_bom_semicolons_and_quoted_newlines(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(
        b"\xef\xbb\xbfid;text;date\n"
        b'a;"I keep cancelling;\nwork is insane";2024-01-01\n'
        b';"I am scared\nof my therapist";2024-01-02\n'
        b"c;We never agreed on goals.;2024-01-03\n"
    )
    result = run(str(source), "-o", "out.jsonl", "--delimiter", ";", "--keep-fields", "date")
    assert result.exit_code == 0, result.stderr
    rows = read_jsonl(tmp_path / "out.jsonl")
    # The second row starts on physical line 4: its id is that line number.
    assert [(r["id"], r["date"]) for r in rows] == [("a", "2024-01-01"), ("4", "2024-01-02"), ("c", "2024-01-03")]


def test_batch_csv_bad_rows_are_reported_at_their_first_physical_line(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(
        b'id,text\n'
        b'a,"two\nlines about cancelling"\n'
        b'b,\n'
        b'c,"caf\xe9 talk"\n'
        b'd,too,many\n'
        b'e,"I am scared\nof my therapist"\n'
    )
    result = run(str(source), "-o", "out.jsonl")
    assert result.exit_code == 0, result.stderr
    assert error_lines(result)[:3] == [
        f'unstuck: {source}:4: no text in the "text" column',
        f"unstuck: {source}:5: bytes that are not valid utf-8 text; pick the file's encoding with --encoding "
        "(e.g. --encoding cp1252)",
        f"unstuck: {source}:6: 3 fields but the header has 2; check the quoting or --delimiter",
    ]
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["a", "e"]


def test_batch_txt_skips_blank_lines_and_keeps_true_line_numbers(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(f"{ENTRIES[0]}\n\n   \n{ENTRIES[1]}\n{ENTRIES[2]}", encoding="utf-8")
    result = run(str(source), "-o", "out.jsonl")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["1", "4", "5"]


def test_batch_folder_one_entry_per_file_sorted_by_relative_path(tmp_path):
    folder = tmp_path / "notes"
    (folder / "b").mkdir(parents=True)
    (folder / "z.txt").write_text(ENTRIES[0], encoding="utf-8")
    (folder / "b" / "c.md").write_text(ENTRIES[1], encoding="utf-8")
    (folder / "a.txt").write_text(ENTRIES[2], encoding="utf-8")
    (folder / "empty.txt").write_text("\n", encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\0\0")
    (folder / ".hidden.txt").write_text(ENTRIES[3], encoding="utf-8")
    result = run(str(folder), "-o", "out.jsonl")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["a.txt", "b/c.md", "z.txt"]
    assert error_lines(result)[0] == f"unstuck: {folder / 'empty.txt'}: the file is empty"


@pytest.mark.parametrize("line, reason", [
    (b'{"id": "x", "text": ""}', '"text" is empty'),
    (b'{"id": "x", "body": "words"}', 'no "text" field; name the text field with --text-field NAME'),
    (b'{"id": "x", "text": "' + SECRET.encode() + b'"', "invalid JSON (Expecting ',' delimiter, column 44)"),
    (b'["a list"]', "expected a JSON object, one per line"),
    (b'{"text": "caf\xe9 ' + SECRET.encode() + b'"}',
     "bytes that are not valid utf-8 text; pick the file's encoding with --encoding (e.g. --encoding cp1252)"),
    (b'{"text": "' + b"x" * (MAX_CHARS + 1) + b'"}',
     f"entry is {MAX_CHARS + 1:,} characters; the limit is {MAX_CHARS:,} (split it into several entries)"),
])
def test_batch_bad_row_is_reported_with_its_line_and_skipped(tmp_path, line, reason):
    source = tmp_path / "in.jsonl"
    good = [json.dumps({"id": str(i), "text": t}).encode() for i, t in enumerate(ENTRIES[:2])]
    source.write_bytes(b"\n".join([good[0], line, good[1]]) + b"\n")
    result = run(str(source), "-o", "out.jsonl")
    assert result.exit_code == 0, result.stderr
    assert error_lines(result)[0] == f"unstuck: {source}:2: {reason}"
    assert "unstuck: skipped 1 bad row (line 2); the rest were tagged" in result.stderr
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["0", "1"]
    assert SECRET not in result.stderr and "xxxxxxxx" not in result.stderr


def test_batch_strict_stops_at_the_first_bad_row_and_writes_nothing(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": ENTRIES[0]}) + "\nnot json\n" + json.dumps({"text": ""}) + "\n")
    result = run(str(source), "-o", "out.jsonl", "--strict")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"unstuck: {source}:2: invalid JSON (Expecting value, column 1)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_batch_summary_lists_the_first_twenty_skipped_lines(tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes(b"\n".join([ENTRIES[0].encode()] + [b"caf\xe9"] * 25))
    result = run(str(source), "-o", "out.jsonl")
    assert result.exit_code == 0
    lines = ", ".join(str(n) for n in range(2, 22))
    assert f"unstuck: skipped 25 bad rows (lines {lines}, …); the rest were tagged" in result.stderr


def test_batch_encoding_option_reads_other_encodings(tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes("Caf\u00e9 talk: I keep cancelling because work is insane.\n".encode("cp1252"))
    result = run(str(source), "-o", "out.jsonl", "--encoding", "cp1252")
    assert result.exit_code == 0, result.stderr
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 1


@pytest.mark.parametrize("name, content, reason", [
    ("missing.jsonl", None, "file not found"),
    ("in.jsonl", b"", "the file is empty"),
    ("in.txt", b"\xef\xbb\xbf\n  \n", "the file is empty"),
    ("in.csv", b"id,text\n1,\x00\x01\x02\x00", "looks like a binary file, not text"),
    ("in.pdf", b"%PDF-1.4", "unsupported file type '.pdf'; use .jsonl, .csv, .txt, a Day One .json export or a folder of .txt/.md files"),
])
def test_batch_unusable_input_is_one_line_and_exit_2(tmp_path, name, content, reason):
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    result = run(str(source), "-o", "out.jsonl")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"unstuck: {source}: {reason}"]
    assert not (tmp_path / "out.jsonl").exists()


def test_batch_csv_without_the_text_column_names_it_and_the_columns_found(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,body,date\n1,words,2024-01-01\n", encoding="utf-8")
    result = run(str(source), "-o", "out.jsonl")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'unstuck: {source}:1: no "text" column; found "id", "body", "date"; name the column with --text-field NAME'
    ]
    assert run(str(source), "-o", "out.jsonl", "--text-field", "body").exit_code == 0


def test_batch_csv_output_columns(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": "a", "text": ENTRIES[0], "date": "2024-01-01", "mood": 3}])
    result = run(str(source), "-o", "out.csv", "--keep-fields", "date,mood", "--evidence")
    assert result.exit_code == 0, result.stderr
    [header, *rows] = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert header == ["id", "date", "mood", "labels", "crisis", "safety", "resources",
                      *(f"score_{k}" for k in LABEL_IDS), "evidence"]
    [row] = rows
    record = dict(zip(header, row))
    assert (record["id"], record["date"], record["mood"], record["crisis"], record["safety"], record["resources"]) \
        == ("a", "2024-01-01", "3", "false", "false", "")
    labels = record["labels"].split(";") if record["labels"] else []
    assert set(labels) <= set(LABEL_IDS)
    assert set(json.loads(record["evidence"])) == set(labels)
    assert all(0.0 <= float(record[f"score_{k}"]) <= 1.0 for k in LABEL_IDS)


def test_batch_csv_carries_safety_and_the_help_lines_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSTUCK_REGION", "uk")
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": "a", "text": "I want to kill myself tonight."},
                         {"id": "b", "text": "My husband hits me when he drinks and I'm scared to go home."}])
    assert run(str(source), "-o", "out.csv").exit_code == 0
    assert run(str(source), "-o", "out.jsonl").exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    for row, record in zip(rows, read_jsonl(tmp_path / "out.jsonl")):
        assert row["safety"] == str(record["safety"]).lower() and record["resources"]
        assert row["resources"] == " | ".join(f"{r['region']} {r['name']}: {r['reach']}" for r in record["resources"])
    assert rows[0]["crisis"] == "true" and "116 123" in rows[0]["resources"]
    assert rows[1]["safety"] == "true"


def test_batch_evidence_offsets_point_into_the_text(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"text": t} for t in ENTRIES])
    run(str(source), "-o", "out.jsonl", "--evidence")
    for text, row in zip(ENTRIES, read_jsonl(tmp_path / "out.jsonl")):
        assert set(row["evidence"]) == set(row["labels"])
        for spans in row["evidence"].values():
            assert all(text[s["start"]:s["end"]] == s["text"] for s in spans)


def test_batch_keep_fields_pass_through_untouched(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"text": ENTRIES[0], "date": "2024-01-01", "meta": {"n": [1, 2]}}, {"text": ENTRIES[1]}])
    run(str(source), "-o", "out.jsonl", "--keep-fields", "date", "--keep-fields", "meta")
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [(r["date"], r["meta"]) for r in rows] == [("2024-01-01", {"n": [1, 2]}), (None, None)]
    assert "text" not in rows[0]


def test_batch_to_standard_output(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(ENTRIES), encoding="utf-8")
    result = run(str(source), "-o", "-", "--quiet")
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["1", "2", "3", "4"]
    assert result.stderr == ""


def test_batch_refuses_to_write_over_its_input(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"text": ENTRIES[0]}])
    before = source.read_bytes()
    result = run(str(source), "-o", str(tmp_path / "." / "in.jsonl"))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"unstuck: {tmp_path / '.' / 'in.jsonl'}: that is the input; refusing to write over it (choose another -o)"
    ]
    assert source.read_bytes() == before


def test_batch_refuses_to_write_over_a_file_of_its_input_folder(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text(ENTRIES[0], encoding="utf-8")
    result = run(str(folder), "-o", str(folder / "a.txt"))
    assert result.exit_code == 2
    assert "that is the input; refusing to write over it" in result.stderr
    assert (folder / "a.txt").read_text(encoding="utf-8") == ENTRIES[0]


def test_batch_failure_midway_leaves_no_file_under_the_real_name(tmp_path, monkeypatch):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"text": ENTRIES[i % 4]} for i in range(300)])
    (tmp_path / "out.jsonl").write_text("previous results\n")
    real_tag_many = Tagger.tag_many
    calls = []

    def failing_tag_many(self, texts, evidence=False):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk on fire")
        yield from real_tag_many(self, texts, evidence)

    monkeypatch.setattr(Tagger, "tag_many", failing_tag_many)
    result = run(str(source), "-o", "out.jsonl", "--workers", "1")
    assert result.exit_code == 1
    assert len(calls) == 2  # the first chunk was tagged and written before the failure
    assert (tmp_path / "out.jsonl").read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "unstuck-home") == ["in.jsonl", "out.jsonl"]


def test_batch_workers_give_the_same_output_as_one_process(tmp_path, monkeypatch):
    pools = []

    class CountedPool(batch.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(batch, "ProcessPoolExecutor", CountedPool)
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": f"r{i}", "text": f"{ENTRIES[i % 4]} Day {i}."} for i in range(700)])
    one = run(str(source), "-o", "one.jsonl", "--workers", "1")
    two = run(str(source), "-o", "two.jsonl", "--workers", "2")
    assert one.exit_code == two.exit_code == 0, two.stderr
    assert pools == [2]  # --workers 1 started no pool; --workers 2 started one
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert [r["id"] for r in read_jsonl(tmp_path / "two.jsonl")] == [f"r{i}" for i in range(700)]
