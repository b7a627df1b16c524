"""Batch tagging on Dask: the DataFrame partition function, cutting inputs into partitions, and
`unstuck batch --scheduler` on a LocalCluster of two worker processes that listens on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.errors import InputError
from unstuck.data.formats import file_sha256, read_rows
from unstuck.model import DEFAULT_MODEL_DIR, distributed, partition
from unstuck.model.artifact import META_FILE, PIPELINE_FILE, ModelError
from unstuck.model.distributed import ModelShipment, run_on_dask
from unstuck.data.partition import ReadOptions, plan_partitions, read_partition
from unstuck.model.partition import tag_partition
from unstuck.model.tagger import Tagger

from batch_inputs import ENTRIES, write_jsonl

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")

SECRET = "Marguerite-7731 told me about the lake house"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A copy of the shipped model, so that every run here uses the same one even if it is retrained."""
    return Path(shutil.copytree(DEFAULT_MODEL_DIR, tmp_path_factory.mktemp("model") / "model"))


@pytest.fixture(scope="module")
def tagger(model_dir) -> Tagger:
    return Tagger.load(model_dir)


@pytest.fixture(scope="module")
def client(model_dir):
    """Two worker processes, one thread each, on 127.0.0.1, with the model loaded before the first test.
    Its tests are marked slow: starting the cluster takes some ten seconds."""
    with distributed.connect("local:2") as client:
        addresses = [client.scheduler.address, *client.scheduler_info()["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        path = str(model_dir)
        client.run(lambda: partition.cached_tagger(path) and None)
        yield client


def entries(n: int) -> list[dict]:
    return [{"id": f"r{i}", "text": f"{ENTRIES[i % 4]} Day {i}."} for i in range(n)]


def local_batch(source, model_dir, *args: str) -> tuple[bytes, list[str]]:
    """Local batch's output bytes and its stderr lines, for `--workers 1`."""
    target = f"local-{len(os.listdir('.'))}.jsonl"
    result = runner.invoke(app, ["batch", str(source), "-o", target, "--workers", "1", "--model", str(model_dir),
                                 "--trust-model", *args])
    assert result.exit_code == 0, result.stderr
    with open(target, "rb") as handle:
        return handle.read(), result.stderr.splitlines()


def on_cluster(client, model_dir, *args: str):
    return runner.invoke(app, ["batch", *args, "--scheduler", client.scheduler.address, "--model", str(model_dir),
                               "--trust-model"])


def parts(folder) -> bytes:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return b"".join((folder / p["output"]).read_bytes() for p in manifest["partitions"])


def error_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("unstuck: ") and ": " in line[9:]]


def plan(source: str, every: int):
    return plan_partitions([source], ReadOptions(), every)


def keyed(item) -> tuple:
    """A row or an error as plain values (they compare by identity)."""
    if isinstance(item, InputError):
        return item.path, item.line, item.reason
    return item.line, item.id, item.text, item.kept


@pytest.mark.parametrize("evidence", [False, True])
def test_distributed_tag_partition_equals_local_batch_records(tmp_path, model_dir, tagger, evidence):
    rows = [{**row, "date": f"2024-01-{i + 1:02}"} for i, row in enumerate(entries(6))]
    write_jsonl(tmp_path / "in.jsonl", rows)
    output, _ = local_batch(tmp_path / "in.jsonl", model_dir, "--keep-fields", "date", *(["--evidence"] if evidence else []))
    frame = pd.DataFrame(rows + [{"id": "bad", "text": "  ", "date": "x"}], index=range(10, 17))
    tagged = tag_partition(frame, tagger, evidence=evidence)
    assert list(tagged.columns) == ["id", "labels", "scores", "crisis", "crisis_matches", "safety", "safety_matches",
                                    "resources", *(["evidence"] if evidence else []), "error", "date"]
    assert list(tagged.index) == list(frame.index)
    expected = [json.loads(line) for line in output.decode().splitlines()]
    assert tagged.iloc[:6].drop(columns="error").to_dict("records") == expected
    assert tagged.iloc[6][["id", "labels", "error"]].tolist() == ["bad", None, '"text" is empty']


def test_distributed_tag_partition_of_an_empty_frame_is_its_schema_without_a_model(monkeypatch):
    monkeypatch.setattr(partition, "cached_tagger", lambda *args: pytest.fail("loaded a model"))
    empty = tag_partition(pd.DataFrame({"id": [], "text": [], "mood": pd.Series([], dtype="int64")}), "nowhere")
    assert list(empty.columns) == ["id", "labels", "scores", "crisis", "crisis_matches", "safety", "safety_matches",
                                   "resources", "error", "mood"]
    assert (str(empty["crisis"].dtype), str(empty["mood"].dtype)) == ("boolean", "int64")


@pytest.mark.parametrize("every", [1, 3, 1000])
def test_distributed_partitions_read_exactly_the_rows_of_local_batch(tmp_path, every):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(r).encode() + b"\r\n" for r in entries(7))
                      + b"not json\n\n" + b'{"text": "no id"}\n' + b'{"id": "e", "text": ""}\n' + b"caf\xe9\n")
    csv = tmp_path / "in.csv"
    csv.write_bytes(b'id,text\na,"two\nlines, ""quoted"""\n,"no id\n\nthree lines"\nc,\nd,6" tall\ne,plain\n')
    txt = tmp_path / "in.txt"
    txt.write_text("\n".join(["one", "", "two", "  ", "three", "four"]), encoding="utf-8")
    cut = plan_partitions([jsonl, csv, txt], ReadOptions(), every)
    assert [p.index for p in cut] == list(range(len(cut)))
    for source in (jsonl, csv, txt):
        mine = [p for p in cut if p.source == str(source)]
        assert [keyed(r) for p in mine for r in read_partition(p)] == [keyed(r) for r in read_rows(source)]
        assert len(mine) > 1 if every < 5 else [p.span for p in mine] == [None]


def test_distributed_a_file_with_lone_carriage_returns_is_not_cut(tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes(b"one\rtwo\nthree\nfour\n")
    [whole] = plan_partitions([source], ReadOptions(), 1)
    assert whole.span is None
    assert [keyed(r) for r in read_partition(whole)] == [keyed(r) for r in read_rows(source)]


def test_distributed_shipped_model_is_checked_against_its_manifest_on_arrival(tmp_path, model_dir):
    files = {name: (model_dir / name).read_bytes() for name in (META_FILE, PIPELINE_FILE)}
    sha = json.loads(files[META_FILE])["sha256"]
    worker = SimpleNamespace(local_directory=str(tmp_path / "w"), address="tcp://127.0.0.1:1")
    with pytest.raises(ModelError, match="arrived with sha256"):
        ModelShipment({**files, PIPELINE_FILE: files[PIPELINE_FILE][:-1]}, sha).setup(worker)
    assert not (tmp_path / "w" / distributed.SHIPPED_MODELS / sha).exists()
    ModelShipment(files, sha).setup(worker)
    assert Tagger.load(tmp_path / "w" / distributed.SHIPPED_MODELS / sha).manifest.sha256 == sha


def test_distributed_local_cluster_listens_on_loopback_only(monkeypatch):
    seen = {}

    class FakeCluster(SimpleNamespace):
        def __init__(self, **kwargs):
            seen.update(kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(distributed, "Client", lambda cluster, set_as_default: FakeCluster())
    with distributed.connect("local:3"):
        pass
    assert (seen["n_workers"], seen["threads_per_worker"], seen["processes"]) == (3, 1, True)
    assert (seen["host"], seen["dashboard_address"]) == ("127.0.0.1", None)
    assert seen["scheduler_kwargs"]["dashboard_address"].startswith("127.0.0.1:")
    with pytest.raises(ValueError, match="at least 1"):
        distributed.local_workers("local:0")


@pytest.mark.parametrize("args, reason", [
    (["in.jsonl", "in.jsonl", "-o", "out.jsonl"],
     "2 inputs given; tag one at a time, or several at once with --scheduler local:N"),
    (["in.jsonl", "-o", "out.jsonl", "--scheduler", "local:2"],
     "out.jsonl: with --scheduler, -o names a folder for the partitions, e.g. -o tagged/"),
    (["in.jsonl", "-o", "-", "--scheduler", "local:2"],
     "with --scheduler, -o names a folder for the partitions (standard output cannot take them)"),
    (["in.jsonl", "-o", "out", "--scheduler", "local:none"],
     "--scheduler local:N needs a number of workers of at least 1, not 'none'"),
    (["in.jsonl", "-o", "out", "--scheduler", "local:2", "--workers", "2"],
     "--workers is for tagging on this machine; with --scheduler the cluster's workers tag"),
    (["missing.jsonl", "-o", "out", "--scheduler", "local:2"], "missing.jsonl: file not found"),
])
def test_distributed_usage_errors_are_one_line_before_any_cluster_starts(tmp_path, monkeypatch, args, reason):
    monkeypatch.setattr(distributed, "connect", lambda scheduler: pytest.fail("started a cluster"))
    write_jsonl(tmp_path / "in.jsonl", entries(2))
    result = runner.invoke(app, ["batch", *args])
    assert (result.exit_code, result.stderr.splitlines()) == (2, [f"unstuck: {reason}"])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.enable_socket
def test_distributed_two_workers_give_the_output_of_one_local_process(tmp_path, model_dir, client):
    write_jsonl(tmp_path / "a.jsonl", entries(50))
    (tmp_path / "b.csv").write_text("id,text\n" + "".join(f'c{i},"{ENTRIES[i % 4]}\nDay {i}."\n' for i in range(16)),
                                    encoding="utf-8")
    (tmp_path / "c.txt").write_text("\n".join(f"{ENTRIES[i % 4]} Night {i}." for i in range(20)), encoding="utf-8")
    inputs = ["a.jsonl", "b.csv", "c.txt"]
    local = b"".join(local_batch(name, model_dir)[0] for name in inputs)
    result = on_cluster(client, model_dir, *inputs, "-o", "out", "--partition-lines", "12")
    assert result.exit_code == 0, result.stderr
    assert parts(tmp_path / "out") == local
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and len(manifest["partitions"]) > len(inputs)
    assert [p["source"] for p in manifest["partitions"]] == sorted(p["source"] for p in manifest["partitions"])
    assert sum(p["rows"] for p in manifest["partitions"]) == 86
    assert [p["lines"][0] for p in manifest["partitions"] if p["source"] == "b.csv"][0] == 2  # after the header
    for entry in manifest["partitions"]:
        assert file_sha256(tmp_path / "out" / entry["output"]) == entry["sha256"]
    assert "unstuck: tagged 86 entries into out;" in result.stderr
    assert list(client.run(lambda: len(partition._TAGGERS)).values()) == [1, 1]  # the model, loaded once


@pytest.mark.slow
@pytest.mark.enable_socket
def test_distributed_bad_rows_are_reported_with_file_and_line_as_in_local_batch(tmp_path, model_dir, client):
    lines = [json.dumps(r) for r in entries(30)]
    lines[4], lines[17], lines[25] = '{"text": "' + SECRET, json.dumps({"text": ""}), json.dumps(["a list"])
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    for name, text in [("a.txt", ENTRIES[0]), ("empty.txt", "\n"), ("b.md", ENTRIES[1]), ("c.txt", "x" * 200_001)]:
        (tmp_path / "notes" / name).write_text(text, encoding="utf-8")
    (local_a, errors_a), (local_b, errors_b) = local_batch(source, model_dir), local_batch("notes", model_dir)
    result = on_cluster(client, model_dir, str(source), "notes", "-o", "out", "--partition-lines", "8")
    assert result.exit_code == 0, result.stderr
    assert parts(tmp_path / "out") == local_a + local_b
    errors = error_lines(result.stderr.splitlines())
    assert errors == error_lines(errors_a) + error_lines(errors_b)
    assert errors[1:] == [f'unstuck: {source}:18: "text" is empty',
                          f"unstuck: {source}:26: expected a JSON object, one per line",
                          "unstuck: notes/c.txt: entry is 200,001 characters; the limit is 200,000 (split it into "
                          "several entries)",
                          "unstuck: notes/empty.txt: the file is empty"]
    assert SECRET not in result.stderr + (tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")
    assert (f"unstuck: skipped 5 bad rows ({source}:5, {source}:18, {source}:26, notes/c.txt, notes/empty.txt); "
            "the rest were tagged") in result.stderr
    strict = on_cluster(client, model_dir, str(source), "-o", "strict", "--partition-lines", "8", "--strict")
    assert strict.exit_code == 2
    assert strict.stderr.splitlines()[-1] in errors


@pytest.mark.slow
@pytest.mark.enable_socket
def test_distributed_rerun_redoes_only_missing_or_damaged_partitions(tmp_path, client, tagger):
    write_jsonl(tmp_path / "in.jsonl", entries(60))
    first = run_on_dask(client, plan("in.jsonl", 10), "out", tagger)
    out = tmp_path / "out"
    before = parts(out)
    assert (first.partitions, first.reused, first.summary.tagged) == (6, 0, 60)
    (out / "part-00001.jsonl").unlink()
    damaged = out / "part-00003.jsonl"
    damaged.write_bytes(damaged.read_bytes().replace(b'"crisis": false', b'"crisis": true ', 1))
    untouched = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*") if p.name != damaged.name}
    again = run_on_dask(client, plan("in.jsonl", 10), "out", tagger)
    assert (again.reused, again.summary.tagged) == (4, 60)
    assert parts(out) == before
    assert {name: (out / name).stat().st_mtime_ns for name in untouched} == untouched
    for other in [dict(partitions=plan("in.jsonl", 20)), dict(evidence=True)]:
        with pytest.raises(InputError, match="holds a run of other inputs, options or model"):
            run_on_dask(client, **{"partitions": plan("in.jsonl", 10), "out_dir": "out", "tagger": tagger, **other})


@pytest.mark.slow
@pytest.mark.enable_socket
def test_distributed_shipped_model_is_what_the_workers_load(tmp_path, model_dir, client, tagger):
    write_jsonl(tmp_path / "in.jsonl", entries(12))
    local, _ = local_batch(tmp_path / "in.jsonl", model_dir)
    run_on_dask(client, plan("in.jsonl", 6), "out", tagger, ship_model=True)
    assert parts(tmp_path / "out") == local
    loaded = client.run(lambda: sorted(partition._TAGGERS))
    assert all(any(distributed.SHIPPED_MODELS in path for path in paths) for paths in loaded.values())


@pytest.mark.slow
@pytest.mark.enable_socket
def test_distributed_a_killed_worker_still_gives_every_row_exactly_once(tmp_path, model_dir, client, tagger):
    write_jsonl(tmp_path / "in.jsonl", entries(160))
    local, _ = local_batch(tmp_path / "in.jsonl", model_dir)
    finished = {}
    run = threading.Thread(target=lambda: finished.update(run=run_on_dask(
        client, plan("in.jsonl", 8), str(tmp_path / "out"), tagger)))
    run.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "out" / "part-00000.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    done_when_killed = len(list((tmp_path / "out").glob("part-*.jsonl")))
    os.kill(next(iter(client.run(os.getpid).values())), signal.SIGKILL)
    run.join(120)
    assert 0 < done_when_killed < 20  # killed mid-run
    assert finished["run"].summary.tagged == 160
    assert parts(tmp_path / "out") == local
    assert not list((tmp_path / "out").glob(".part-*"))


def test_distributed_a_crashing_partition_reaches_the_worker_log_without_entry_text(monkeypatch):
    """Dask logs a failed task's exception (and its chain) on the worker: what it gets names the
    partition and the error's type, never the message of the error that quoted an entry."""
    import traceback

    entry = "my therapist said something about my brother that I cannot stop thinking about"

    def crash(*args, **kwargs):
        raise ValueError(f"could not handle {entry!r}")

    monkeypatch.setattr(distributed, "write_partition", crash)
    monkeypatch.setattr(distributed, "cached_tagger", lambda *args: None)
    part = SimpleNamespace(index=3, source="journal.jsonl")
    with pytest.raises(RuntimeError) as raised:
        distributed._tag_on_worker(part, "out", distributed.ModelSource("model", "sha"), ReadOptions(), False, False)
    logged = "".join(traceback.format_exception(raised.value))
    assert "partition 3 of journal.jsonl failed (ValueError)" in logged
    assert "brother" not in logged
