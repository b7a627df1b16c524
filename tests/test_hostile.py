"""Hostile input and hostile files (issue 19): nothing lost, nothing run, nothing leaked.

Each test asserts what a user would notice: the exit code, the one-line `unstuck: FILE:LINE: reason`
on standard error, the rows written, and files left as they were."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.model.artifact import save_model

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")


def one_line_error(result, code: int = 2) -> str:
    """The single `unstuck: ...` line of a failed command."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unstuck: "), result.stderr
    return lines[0]


# --- train --out deletes nothing but a model ------------------------------------------------------

@pytest.mark.parametrize("setup, reason", [
    (lambda p: (p.mkdir(), (p / "taxes.txt").write_text("mine")), "is a folder with other things in it"),
    (lambda p: (p.mkdir(), (p / "meta.json").write_text("{}"), (p / "thesis.tex").write_text("mine")),
     "is a folder with other things in it"),
    (lambda p: p.write_text("mine"), "is a file, not a folder"),
    (lambda p: (Path("elsewhere").mkdir(), (Path("elsewhere") / "a.txt").write_text("mine"),
                p.symlink_to(Path("elsewhere").absolute())), "is a symbolic link"),
])
def test_hostile_train_out_refuses_what_is_not_a_model_folder_and_deletes_nothing(setup, reason):
    target = Path("Documents")
    setup(target)
    before = sorted(str(p) for p in Path(".").rglob("*"))
    line = one_line_error(runner.invoke(app, ["train", "--out", str(target)]))
    assert line.startswith(f"unstuck: {target}: {reason}") and "nothing was" in line
    assert sorted(str(p) for p in Path(".").rglob("*")) == before


def test_hostile_save_model_itself_refuses_a_folder_of_other_files():
    from unstuck.data.errors import InputError

    Path("Documents").mkdir()
    (Path("Documents") / "letter.txt").write_text("mine")
    with pytest.raises(InputError, match="not a model folder"):
        save_model(Path("Documents"), object(), None)
    assert (Path("Documents") / "letter.txt").read_text() == "mine"


def test_hostile_train_out_may_replace_a_model_folder():
    from unstuck.model.artifact import check_model_target

    copy = shutil.copytree(DEFAULT_MODEL_DIR, "model-copy")
    check_model_target(Path(copy))  # a model folder: replacing it is what --out is for
    Path("empty").mkdir()
    check_model_target(Path("empty"))
    check_model_target(Path("new-name"))


# --- models are data, not code, unless the user says otherwise -------------------------------------

def _model_commands(folder: Path) -> list[list[str]]:
    Path("in.jsonl").write_text('{"id": "1", "text": "I keep cancelling my sessions"}\n', encoding="utf-8")
    Path("labeled.jsonl").write_text('{"text": "I keep cancelling my sessions", "labels": ["inconsistency"]}\n',
                                     encoding="utf-8")
    model = ["--model", str(folder)]
    return [["tag", "I keep cancelling", *model], ["explain", "I keep cancelling", "-l", "fear", *model],
            ["batch", "in.jsonl", "-o", "out.jsonl", *model], ["report", "in.jsonl", "-o", "r.html", *model],
            ["evaluate", "labeled.jsonl", *model], ["suggest", "in.jsonl", *model]]


@pytest.mark.parametrize("command", range(6), ids=["tag", "explain", "batch", "report", "evaluate", "suggest"])
def test_hostile_model_from_elsewhere_is_refused_without_running_it(payload_model, command):
    folder, marker = payload_model("downloads/model")
    args = _model_commands(folder)[command]
    line = one_line_error(runner.invoke(app, args))
    assert line.startswith(f"unstuck: {folder}: not the shipped model") and "--trust-model" in line
    assert not marker.exists()
    assert not Path("out.jsonl").exists() and not Path("r.html").exists()


def test_hostile_model_symlinked_into_the_models_directory_is_still_from_elsewhere(payload_model, private_home):
    folder, marker = payload_model("downloads/model")
    (private_home / "models").mkdir(parents=True)
    (private_home / "models" / "looks-mine").symlink_to(folder.absolute())
    one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(private_home / "models" / "looks-mine")]))
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../../downloads/model", "/tmp", "..", "looks-mine", "no-such-model"])
def test_hostile_models_use_takes_only_names_of_the_users_models(payload_model, private_home, name):
    folder, marker = payload_model("downloads/model")
    (private_home / "models").mkdir(parents=True)
    (private_home / "models" / "looks-mine").symlink_to(folder.absolute())
    one_line_error(runner.invoke(app, ["models", "use", name]))
    assert not (private_home / "active").exists()
    assert not marker.exists()


@pytest.mark.parametrize("changes, reason", [
    ({"thresholds": {"fear": 0}}, "manifest needs one threshold per label"),
    ({"label_ids": ["fear", "hope"]}, "made for other labels (missing communication_gap"),
    ({"format": 7}, "made for model format 7"),
    ({"library_versions": {}}, "does not record the scikit-learn and numpy versions"),
    ({"sha256": "0" * 64}, "model file is missing, truncated or changed"),
    ({"version": "x\x1b]0;owned\x07"}, "manifest has no usable version name"),
])
def test_hostile_manifest_is_checked_before_anything_is_unpickled(payload_model, private_home, changes, reason):
    folder, marker = payload_model(private_home / "models" / "mine", **changes)
    line = one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(folder)]))
    assert reason in line and "\x1b" not in line
    assert not marker.exists()


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.2, "0.5", True, None])
def test_hostile_thresholds_outside_zero_and_one_are_refused(payload_model, private_home, value):
    from unstuck.data.taxonomy import LABEL_IDS

    folder, marker = payload_model(private_home / "models" / "mine",
                                   thresholds={**dict.fromkeys(LABEL_IDS, 0.5), "trust": value})
    line = one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(folder)]))
    assert "threshold for trust is" in line and "not between 0 and 1" in line
    assert not marker.exists()


def test_hostile_trusted_model_that_is_no_pipeline_is_one_line(tmp_path, private_home):
    import hashlib

    from conftest import pickled_pipeline
    from unstuck.model.artifact import PIPELINE_FILE

    folder = private_home / "models" / "odd"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    (folder / PIPELINE_FILE).write_bytes(pickled_pipeline({"not": "a pipeline"}))
    meta = json.loads((folder / "meta.json").read_text())
    meta["sha256"] = hashlib.sha256((folder / PIPELINE_FILE).read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    line = one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(folder)]))
    assert "holds no scikit-learn pipeline" in line


# --- readers: strict about structure, lenient per row ----------------------------------------------

SECRET = "Marguerite-7731 told me about the lake house"
GOOD = "I keep cancelling my sessions"


def batch(source: str, *args: str, output: str = "out.jsonl"):
    return runner.invoke(app, ["batch", source, "-o", output, "--workers", "1", *args])


def written(output: str = "out.jsonl") -> list[dict]:
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    text = Path(output).read_text(encoding="utf-8")
    return [json.loads(line, parse_constant=refuse) for line in text.split("\n")[:-1]]


def notes(result) -> list[str]:
    """The per-row notes on standard error (not the summary)."""
    return [line for line in result.stderr.splitlines() if line.startswith("unstuck: in.") or "unstuck: entries/" in line]


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("body, line", [
    (f'id,text\n1,{GOOD}\n2,"{SECRET}\n3,{GOOD}\n4,{GOOD}\n', 3),
    (f'id,text\n1,{GOOD}\n2,"{SECRET}\n3,{GOOD}\n4,"she said "no""\n5,{GOOD}\n', 3),
])
def test_hostile_unclosed_csv_quote_is_an_error_where_it_opened(body, line, strict):
    Path("in.csv").write_text(body, encoding="utf-8")
    result = batch("in.csv", *(["--strict"] if strict else []))
    error = one_line_error(result)
    assert error.startswith(f"unstuck: in.csv:{line}: malformed CSV: ")
    assert "Marguerite" not in result.stderr
    assert not Path("out.jsonl").exists()


def test_hostile_unclosed_csv_quote_fails_the_dask_partitions_too():
    from unstuck.data.errors import InputError
    from unstuck.data.partition import ReadOptions, plan_partitions, read_partition

    Path("in.csv").write_text("id,text\n" + "".join(f"{i},{GOOD}\n" for i in range(30)) + f'31,"{SECRET}\n'
                              + "".join(f"{i},{GOOD}\n" for i in range(32, 60)), encoding="utf-8")
    with pytest.raises(InputError, match="in.csv:32: malformed CSV: a quote opened here is never closed"):
        for part in plan_partitions(["in.csv"], ReadOptions(), 10):
            list(read_partition(part, ReadOptions()))


@pytest.mark.parametrize("name, body, ids, bad", [
    ("in.txt", f"{GOOD}\nfirst half\rsecond half\n{GOOD}\n", ["1", "3"], [2]),
    ("in.txt", f"{GOOD}\r\n{GOOD}\r\n", ["1", "2"], []),
    ("in.txt", f"{GOOD}\r{GOOD}\r{GOOD}\r", ["1", "2", "3"], []),  # lines ending in CR alone: old Mac files
    ("in.csv", f"id,text\na,{GOOD}\nb,first half\rsecond half\nc,{GOOD}\n", ["a", "c"], [3]),
    ("in.csv", f'id,text\na,{GOOD}\nb,"first half\rsecond half"\nc,{GOOD}\n', ["a", "b", "c"], []),
    ("in.jsonl", f'{{"id": "a", "text": "{GOOD}"}}\n{{"id": "b", "text": "x\ry"}}\n{{"id": "c", "text": "{GOOD}"}}\r\n',
     ["a", "c"], [2]),
])
def test_hostile_lone_carriage_return_is_a_line_end_only_where_lines_end_so(name, body, ids, bad):
    Path(name).write_bytes(body.encode())
    result = batch(name)
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in written()] == ids
    assert [int(n.split(":")[2]) for n in notes(result)] == bad


@pytest.mark.parametrize("row, reason", [
    ('{"id": "x", "text": "ok", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply"),
    ('{"id": "x", "text": "ok", "mood": ' + "[" * 900 + "]" * 900 + "}", "JSON nested too deeply"),
    ('{"id": 1' + "0" * 5000 + ', "text": "ok"}', "a number too long to read"),
    ('{"id": "\\ud800", "text": "ok"}', '"id" holds an escaped lone surrogate'),
    ('{"id": "x", "text": "ok \\udfff"}', '"text" holds an escaped lone surrogate'),
    ('{"id": "x", "text": "ok", "mood": {"\\ud83d": 1}}', '"mood" holds an escaped lone surrogate'),
    ('{"id": "x", "text": "ok"', "invalid JSON"),
], ids=["deep", "deep-kept", "giant-int", "surrogate-id", "surrogate-text", "surrogate-key", "unclosed"])
def test_hostile_bad_json_row_is_reported_and_skipped(row, reason):
    Path("in.jsonl").write_text(f'{{"id": "a", "text": "{GOOD}"}}\n{row}\n{{"id": "c", "text": "{GOOD}"}}\n',
                                encoding="utf-8")
    result = batch("in.jsonl", "--keep-fields", "mood")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in written()] == ["a", "c"]
    assert notes(result)[0].startswith(f"unstuck: in.jsonl:2: {reason}")
    assert not list(Path(".").glob(".out.jsonl*"))  # no temp file left holding entries


@pytest.mark.parametrize("kept", ["NaN", "Infinity", "-Infinity", "1e999", "[NaN, 2]"])
def test_hostile_non_finite_numbers_never_make_invalid_json(kept):
    Path("in.jsonl").write_text(f'{{"id": NaN, "text": "{GOOD}", "mood": {kept}}}\n', encoding="utf-8")
    result = batch("in.jsonl", "--keep-fields", "mood")
    assert result.exit_code == 0, result.stderr
    (record,) = written()
    assert record["id"] == "NaN" and record["mood"] is not None


def test_hostile_folder_reports_each_file_it_cannot_read_and_tags_the_rest():
    import os

    folder = Path("entries")
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD)
    (folder / "b.txt").symlink_to(folder.absolute() / "gone.txt")  # dangling
    (folder / "c.txt").symlink_to(folder.absolute() / "c.txt")  # looping
    os.mkfifo(folder / "d.txt")  # reading it would wait forever
    os.close(os.open(os.fsencode(folder) + b"/e\xff\x1b[2J.txt", os.O_CREAT | os.O_WRONLY))  # not UTF-8
    (folder / "z.txt").write_text(GOOD)
    result = batch("entries")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in written()] == ["a.txt", "z.txt"]
    reported = notes(result)
    assert [n.split(":")[1].strip() for n in reported] == ["entries/b.txt", "entries/c.txt", "entries/d.txt",
                                                          "entries/e\\udcff\\x1b[2J.txt"]
    assert "\x1b" not in result.stderr
    assert "skipped 4 bad rows" in result.stderr


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
                    reason="root reads every file")
def test_hostile_unreadable_file_in_a_folder_is_one_reported_skip():
    folder = Path("entries")
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD)
    (folder / "b.txt").write_text(SECRET)
    (folder / "b.txt").chmod(0)
    result = batch("entries")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in written()] == ["a.txt"]
    assert notes(result) == ["unstuck: entries/b.txt: cannot be read (Permission denied); skipped"]


def test_hostile_csv_field_over_the_limit_is_one_bad_row():
    from unstuck.data.formats import CSV_FIELD_LIMIT

    with open("in.csv", "w", encoding="utf-8") as out:
        out.write(f"id,text\na,{GOOD}\nb,{'x' * (CSV_FIELD_LIMIT + 1)}\nc,{GOOD}\n")
    result = batch("in.csv")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in written()] == ["a", "c"]
    assert notes(result) == [f"unstuck: in.csv:3: malformed CSV row: a field over {CSV_FIELD_LIMIT:,} characters"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_hostile_utf16_input_gets_an_encoding_hint(encoding):
    Path("in.jsonl").write_bytes(f'{{"id": "a", "text": "{GOOD}"}}\n'.encode(encoding))
    line = one_line_error(batch("in.jsonl"))
    assert line == f"unstuck: in.jsonl: looks like UTF-16 text; read it with --encoding {encoding}"
    assert batch("in.jsonl", "--encoding", encoding).exit_code == 0
    if encoding != "utf-16":  # without a byte-order mark, plain utf-16 cannot know the byte order
        line = one_line_error(batch("in.jsonl", "--encoding", "utf-16"))
        assert line.startswith("unstuck: in.jsonl: no byte-order mark at the start") and "utf-16-le" in line


def test_hostile_missing_id_column_is_an_error_not_line_numbers():
    Path("in.csv").write_text(f"id,text\na,{GOOD}\n", encoding="utf-8")
    line = one_line_error(batch("in.csv", "--id-field", "uid"))
    assert line == 'unstuck: in.csv:1: no "uid" column; found "id", "text"; name the column with --id-field NAME'


@pytest.mark.parametrize("command", [["batch", "in.csv", "-o", "out.jsonl"], ["report", "in.csv", "-o", "r.html"],
                                     ["train", "--add", "in.csv"], ["evaluate", "in.csv"]])
def test_hostile_headerless_csv_never_echoes_the_first_entry(command):
    Path("in.csv").write_text(f"I hate my job so much,2024-03-01\n{GOOD},2024-03-02\n", encoding="utf-8")
    line = one_line_error(runner.invoke(app, command))
    assert "hate" not in line and "job" not in line
    assert "does the file start with a header line?" in line


def test_hostile_invalid_utf8_in_the_tag_argument_is_one_line():
    line = one_line_error(runner.invoke(app, ["tag", "caf\udce9 and more"]))
    assert line == "unstuck: the entry argument is not valid UTF-8 text"


def test_hostile_overlong_entry_in_evaluate_is_one_line():
    from unstuck.model.nlp import MAX_CHARS

    Path("in.jsonl").write_text(json.dumps({"text": GOOD, "labels": []}) + "\n" +
                                json.dumps({"text": "word " * (MAX_CHARS // 5 + 1), "labels": []}) + "\n",
                                encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["evaluate", "in.jsonl"]))
    assert line.startswith("unstuck: in.jsonl:2: entry is ") and "the limit is" in line


# --- outputs: only regular files or new paths, never an input, valid JSON, no formulas -------------

def _special(kind: str) -> Path:
    import os

    if kind == "fifo":
        os.mkfifo("target.jsonl")
    elif kind == "symlink":
        Path("real.jsonl").write_text("keep me\n")
        Path("target.jsonl").symlink_to(Path("real.jsonl").absolute())
    elif kind == "symlink-to-input":
        Path("target.jsonl").symlink_to(Path("in.jsonl").absolute())
    elif kind == "folder":
        Path("target.jsonl").mkdir()
    return Path("target.jsonl")


@pytest.mark.parametrize("kind, reason", [
    ("fifo", "that is not a regular file (a device, FIFO or socket)"),
    ("symlink", "that is a symbolic link"), ("symlink-to-input", "that is a symbolic link"),
    ("folder", "that is a folder"),
])
@pytest.mark.parametrize("command", ["batch", "suggest", "report", "evaluate"])
def test_hostile_outputs_never_replace_a_special_file_or_link(kind, reason, command):
    import os
    import stat

    Path("in.jsonl").write_text(json.dumps({"id": "a", "text": GOOD, "labels": []}) + "\n", encoding="utf-8")
    target = _special(kind)
    before = os.lstat(target)
    args = {"batch": ["batch", "in.jsonl", "-o", str(target)], "suggest": ["suggest", "in.jsonl", "-o", str(target)],
            "report": ["report", "in.jsonl", "-o", str(target)],
            "evaluate": ["evaluate", "in.jsonl", "--errors-out", str(target)]}[command]
    line = one_line_error(runner.invoke(app, args))
    assert line.startswith(f"unstuck: {target}: {reason}")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert Path("in.jsonl").read_text(encoding="utf-8").startswith('{"id": "a"')


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_hostile_batch_never_replaces_a_device(device):
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    Path("in.jsonl").write_text(json.dumps({"text": GOOD}) + "\n", encoding="utf-8")
    line = one_line_error(batch("in.jsonl", output=device))
    assert line == (f"unstuck: {device}: that is not a regular file (a device, FIFO or socket); refusing to replace "
                    "it (use - for standard output)")
    assert Path(device).is_char_device()


def test_hostile_evaluate_errors_out_never_writes_over_its_input():
    labeled = Path("labeled.jsonl")
    labeled.write_text(json.dumps({"text": GOOD, "labels": ["fear"]}) + "\n", encoding="utf-8")
    before = labeled.read_bytes()
    line = one_line_error(runner.invoke(app, ["evaluate", str(labeled), "--errors-out", "./labeled.jsonl"]))
    assert line == "unstuck: labeled.jsonl: that is the input; refusing to write over it (choose another --errors-out)"
    assert labeled.read_bytes() == before


def test_hostile_evaluate_errors_out_is_written_whole_or_not_at_all():
    Path("labeled.jsonl").write_text(json.dumps({"text": GOOD, "labels": ["fear"]}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "labeled.jsonl", "--errors-out", "mistakes.jsonl"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["missed"] for line in Path("mistakes.jsonl").read_text().splitlines()] == [["fear"]]
    assert sorted(p.name for p in Path(".").iterdir() if p.name != "unstuck-home") == ["labeled.jsonl",
                                                                                       "mistakes.jsonl"]


@pytest.mark.parametrize("name", ["out.json", "out.txt", "out", "out.jsonl.bak", "in.html"])
def test_hostile_batch_output_must_say_its_format(name):
    Path("in.jsonl").write_text(json.dumps({"text": GOOD}) + "\n", encoding="utf-8")
    line = one_line_error(batch("in.jsonl", output=name))
    assert line.startswith(f"unstuck: {name}: cannot tell what to write from ")
    assert not Path(name).exists()


def test_hostile_csv_output_never_holds_a_formula():
    import csv

    cells = ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "\t=1", "plain", "it's = fine"]
    Path("in.jsonl").write_text("".join(json.dumps({"id": c, "text": GOOD, "mood": c}) + "\n" for c in cells),
                                encoding="utf-8")
    result = batch("in.jsonl", "--keep-fields", "mood", output="out.csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(open("out.csv", encoding="utf-8", newline="")))
    expected = ["'" + c if c[0] in "=+-@\t" else c for c in cells]
    assert [r["id"] for r in rows] == expected and [r["mood"] for r in rows] == expected


def test_hostile_jsonl_output_is_always_valid_json_and_safe_to_print():
    from unstuck.data.output import json_line

    line = json_line({"id": "a\x9b2J", "x": float("nan"), "y": [float("inf")], "z": "\x1b[2J"})
    assert json.loads(line) == {"id": "a\x9b2J", "x": None, "y": [None], "z": "\x1b[2J"}
    assert not any(ch in line for ch in "\x1b\x9b")


# --- nothing half-done survives --------------------------------------------------------------------

def _children(pid: int) -> set[int]:
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat_file.parent.name))
    return found


def _gone(pids: set[int], seconds: float) -> bool:
    import os
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                os.kill(pid, 0)
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    alive.add(pid)
            except (ProcessLookupError, FileNotFoundError):
                pass
        if not alive:
            return True
        time.sleep(0.2)
    return False


def _batch_process(tmp_path):
    """A real `unstuck batch --workers 2` over enough entries to be stopped midway, once its pool is up."""
    import os
    import signal
    import subprocess
    import sys
    import time

    with open("in.jsonl", "w", encoding="utf-8") as out:
        for i in range(40_000):
            out.write(json.dumps({"id": str(i), "text": f"{SECRET}, day {i}. {GOOD}."}) + "\n")
    env = {**os.environ, "UNSTUCK_HOME": str(tmp_path / "unstuck-home")}
    # A shell starts background jobs with SIGINT ignored, and Python keeps an ignored SIGINT: give the
    # command the default, as a terminal would, even when the suite itself runs in the background.
    process = subprocess.Popen([sys.executable, "-c", "from unstuck.cli.app import main; main()", "batch", "in.jsonl",
                                "-o", "out.jsonl", "--workers", "2", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(_children(process.pid)) < 2:
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    workers = _children(process.pid)
    assert len(workers) >= 2 and list(Path(".").glob(".out.jsonl.*.tmp"))
    return process, workers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
@pytest.mark.parametrize("signame, code", [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)])
def test_hostile_term_and_hup_stop_a_batch_as_ctrl_c_does(tmp_path, signame, code):
    import signal

    process, workers = _batch_process(tmp_path)
    process.send_signal(getattr(signal, signame))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.decode().splitlines() == ["unstuck: interrupted" if signame == "SIGINT" else "unstuck: stopped"]
    assert _gone(workers, 10)
    assert sorted(p.name for p in Path(".").iterdir() if p.name != "unstuck-home") == ["in.jsonl"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
def test_hostile_killed_batch_leaves_no_workers_and_the_next_run_removes_its_temp_file(tmp_path):
    import signal

    process, workers = _batch_process(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert _gone(workers, 10)
    leftover = list(Path(".").glob(".out.jsonl.*.tmp"))
    assert leftover  # nothing can clean up after SIGKILL, but the next run does:
    Path("in.jsonl").write_text(json.dumps({"id": "a", "text": GOOD}) + "\n", encoding="utf-8")
    assert batch("in.jsonl").exit_code == 0
    assert sorted(p.name for p in Path(".").iterdir() if p.name != "unstuck-home") == ["in.jsonl", "out.jsonl"]


def test_hostile_next_run_keeps_the_temp_file_of_a_run_still_going():
    import os

    alive = Path(f".out.jsonl.{os.getpid()}.abcd.tmp")
    alive.write_text("a run in progress")
    Path("in.jsonl").write_text(json.dumps({"id": "a", "text": GOOD}) + "\n", encoding="utf-8")
    assert batch("in.jsonl").exit_code == 0
    assert alive.exists()


def test_hostile_overlong_example_is_refused_before_anything_is_stored(private_home):
    from unstuck.model.nlp import MAX_CHARS

    Path("new.jsonl").write_text(json.dumps({"text": GOOD + " again", "labels": ["inconsistency"]}) + "\n" +
                                 json.dumps({"text": "word " * (MAX_CHARS // 5 + 1), "labels": ["fear"]}) + "\n",
                                 encoding="utf-8")
    result = runner.invoke(app, ["train", "--add", "new.jsonl"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("unstuck: new.jsonl:2: entry is ")
    assert result.stderr.splitlines()[-1] == ("unstuck: new.jsonl: 1 bad row(s); nothing was added (fix them, or use "
                                              "--skip-invalid)")
    assert not (private_home / "examples").exists()


def test_hostile_an_overlong_example_stored_by_an_older_version_stops_train_and_data_check_with_the_fix(
        private_home):
    from unstuck.model.nlp import MAX_CHARS

    examples = private_home / "examples"
    examples.mkdir(parents=True)
    (examples / "20260101-000000-old.jsonl").write_text(
        json.dumps({"text": GOOD, "labels": ["inconsistency"], "source": "user"}) + "\n"
        + json.dumps({"text": "word " * (MAX_CHARS // 5 + 1), "labels": ["fear"], "source": "user"}) + "\n",
        encoding="utf-8")
    listed = runner.invoke(app, ["examples"])
    assert listed.exit_code == 0  # the user can still see it, and remove it
    for command in (["data", "check"], ["train", "--curve"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, command
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("unstuck: ") and "20260101-000000-old.jsonl:2: an added example of" in line
        assert "`unstuck examples remove " in line and "word word" not in line


def test_hostile_lone_surrogate_example_is_refused_and_leaves_no_temp_file(private_home):
    Path("new.jsonl").write_text('{"text": "I keep \\ud800 cancelling", "labels": ["inconsistency"]}\n',
                                 encoding="utf-8")
    result = runner.invoke(app, ["train", "--add", "new.jsonl"])
    assert result.exit_code == 2
    assert "new.jsonl:1: holds an escaped lone surrogate" in result.stderr
    assert not (private_home / "examples").exists()


# --- no entry text in messages; nothing from a file reaches the terminal as a control sequence ------

ESCAPES = ["\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;cm0gLXJmIH4=\x07", "\x9b31m", "\u202e"]


@pytest.mark.parametrize("sequence", ESCAPES)
def test_hostile_tag_view_shows_control_sequences_as_escapes(sequence):
    result = runner.invoke(app, ["tag", f"I keep cancelling my sessions {sequence} and skipping therapy"])
    assert result.exit_code == 0, result.stderr
    assert sequence not in result.stdout and "\x1b" not in result.stdout and "\x9b" not in result.stdout


@pytest.mark.parametrize("sequence", ESCAPES)
def test_hostile_csv_header_and_file_names_never_reach_the_terminal_raw(sequence):
    Path("in.csv").write_text(f"id,body{sequence}\n1,{SECRET}\n", encoding="utf-8")
    line = one_line_error(batch("in.csv"))
    assert sequence not in line and "Marguerite" not in line
    name = f"in{sequence}.jsonl"
    Path(name).write_text("not json\n", encoding="utf-8")
    result = batch(name)
    assert result.exit_code == 0 and sequence not in result.stderr and "\x1b" not in result.stderr


def test_hostile_unexpected_error_is_one_line_without_entry_text(monkeypatch, capsys):
    from unstuck.cli import app as cli_app
    from unstuck.model import batch as model_batch

    def crash(*args, **kwargs):
        raise ValueError(f"could not handle {SECRET}")

    monkeypatch.setattr(model_batch, "run_batch", crash)
    monkeypatch.setattr(cli_app, "_leave", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    monkeypatch.setattr("sys.argv", ["unstuck", "batch", "in.jsonl", "-o", "out.jsonl"])
    Path("in.jsonl").write_text(json.dumps({"text": SECRET}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        cli_app.main()
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("unstuck: unexpected error (ValueError)") and len(err.splitlines()) == 1
    assert "Marguerite" not in err


# --- property: no input makes batch exit other than 0 or 2, or lose a row without reporting it -------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HOSTILE_TEXT = st.builds(str.__add__, st.sampled_from(["", GOOD, SECRET]), st.text(alphabet=st.one_of(
    st.sampled_from(list('"\',;\t\r\\{}[]=+-@ \x00\x1b\x0b\x0c\x1c\x85\u2028\u202e\ufeff\ud800\udcff')),
    st.characters(codec="utf-8")), max_size=30))
JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE_TEXT,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
                          max_leaves=8)
JSONL_LINE = st.one_of(
    st.builds(lambda text, mood: json.dumps({"text": text, "mood": mood}, ensure_ascii=True), HOSTILE_TEXT, JSON_VALUE),
    st.builds(lambda text: json.dumps({"text": GOOD + text}, ensure_ascii=False, allow_nan=True), HOSTILE_TEXT),
    st.builds(lambda depth: '{"text": "ok", "mood": ' + "[" * depth + "]" * depth + "}", st.integers(0, 3000)),
    st.builds(lambda digits: '{"text": "ok", "mood": 1' + "0" * digits + "}", st.integers(4000, 5000)),
    JSON_VALUE.map(lambda v: json.dumps(v, allow_nan=True)),
    HOSTILE_TEXT,
)
BYTES_LINE = st.one_of(HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=20))


@pytest.fixture(scope="module")
def shipped_tagger():
    from unstuck.model.tagger import Tagger

    return Tagger.load(DEFAULT_MODEL_DIR)


def _run_batch(monkeypatch, tagger, name: str, data: bytes, *args: str):
    """batch over `data` with the loaded shipped model: (exit code, output records, reported lines, stderr)."""
    from unstuck.cli import batch as cli_batch

    monkeypatch.setattr(cli_batch, "get_tagger", lambda model, trust=False: tagger)
    for stale in Path(".").iterdir():
        if stale.is_file():
            stale.unlink()
    Path(name).write_bytes(data)
    result = runner.invoke(app, ["batch", name, "-o", "out.jsonl", "--workers", "1", *args])
    assert result.exit_code in (0, 2), (result.exit_code, result.exception, result.stderr)
    assert SECRET not in result.stderr
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("unstuck: ")
        assert not Path("out.jsonl").exists()
        return 2, [], set(), result.stderr
    records = written()
    reported = {int(line.split(":")[2]) for line in result.stderr.splitlines()
                if line.startswith(f"unstuck: {name}:") and line.split(":")[2].isdigit()}
    skipped = sum(int(line.split()[2].replace(",", "")) for line in result.stderr.splitlines()
                  if line.startswith("unstuck: skipped "))
    assert skipped == len(reported) or skipped > 20  # every bad row counted (the summary lists the first 20)
    return 0, records, reported, result.stderr


def _entry_lines(data: bytes) -> list[int]:
    """Physical lines (1-based, split at \\n) that are not blank: each one an entry, good or bad."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [n for n, raw in enumerate(lines, start=1)
            if raw.decode("utf-8", "surrogateescape").removesuffix("\r").strip()]


PROPERTY = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


@PROPERTY
@given(lines=st.lists(JSONL_LINE, min_size=1, max_size=8))
def test_hostile_property_jsonl_rows_are_tagged_or_reported(monkeypatch, shipped_tagger, lines):
    data = ("\n".join(lines) + "\n").replace("\r", " ").encode("utf-8", "surrogatepass")
    code, records, reported, stderr = _run_batch(monkeypatch, shipped_tagger, "in.jsonl", data, "--keep-fields",
                                                 "mood", "--id-field", "line")
    if code == 0:
        tagged = [int(r["id"]) for r in records]
        assert tagged == sorted(tagged)
        assert sorted(tagged + sorted(reported)) == _entry_lines(data), stderr


@PROPERTY
@given(lines=st.lists(BYTES_LINE, min_size=1, max_size=8), crlf=st.booleans())
def test_hostile_property_txt_lines_are_tagged_or_reported(monkeypatch, shipped_tagger, lines, crlf):
    data = b"".join(line.replace(b"\n", b" ") + (b"\r\n" if crlf else b"\n") for line in lines)
    if b"\x00" in data[:8192]:
        data = data.replace(b"\x00", b" ")  # a NUL makes it a binary file: refused whole, tested elsewhere
    code, records, reported, stderr = _run_batch(monkeypatch, shipped_tagger, "in.txt", data)
    if code == 0:
        assert sorted([int(r["id"]) for r in records] + sorted(reported)) == _entry_lines(data), stderr


@PROPERTY
@given(rows=st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT), min_size=1, max_size=8),
       junk=st.lists(st.tuples(st.integers(0, 8), HOSTILE_TEXT.filter(lambda t: '"' not in t)), max_size=3))
def test_hostile_property_csv_rows_are_tagged_or_reported(monkeypatch, shipped_tagger, rows, junk):
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text", "mood"])
    starts, ids = {}, []
    for index, (text, mood) in enumerate(rows):
        for position, line in junk:
            if position == index:
                starts[buffer.getvalue().count("\n") + 1] = None
                buffer.write(line.replace("\n", " ").replace("\r", " ") + "\n")
        starts[buffer.getvalue().count("\n") + 1] = f"r{index}"
        writer.writerow([f"r{index}", text, mood])
    data = buffer.getvalue().encode("utf-8", "surrogatepass")
    code, records, reported, stderr = _run_batch(monkeypatch, shipped_tagger, "in.csv", data, "--keep-fields", "mood")
    if code == 0:
        tagged = [r["id"] for r in records]
        for start, row_id in starts.items():  # each generated row is tagged or reported where it starts
            assert (row_id is not None and row_id in tagged) or start in reported or row_id is None, (start, stderr)
        assert [i for i in tagged if i.startswith("r")] == sorted((i for i in tagged if i.startswith("r")),
                                                               key=lambda i: int(i[1:]))
