"""Batch tagging on a Dask cluster, the only module that imports dask (`tag_on_cluster` is the way in):
the inputs are cut into partitions, each worker tags its partitions through local batch's `run_batch`
into one file each, and a manifest records what is done so that a re-run redoes only what is missing
or damaged. Returns values; never prints.

Inputs, the output folder and (without shipping) the model directory must be at the same paths on
every worker, as they are on one machine or a shared filesystem. Tasks carry paths and line ranges,
never entry text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from unstuck.data.errors import InputError, UnstuckError
from unstuck.data.formats import file_sha256, input_size
from unstuck.model.artifact import META_FILE, PIPELINE_FILES, ModelError, model_format, staged_directory
from unstuck.model.batch import LISTED_SKIPS, BatchSummary
from unstuck.data.partition import (
    MANIFEST_FILE, MANIFEST_FORMAT, FilePartition, ReadOptions, check_output_folder, partition_entry, read_manifest,
    write_manifest,
)
from unstuck.model.partition import cached_tagger, write_partition
from unstuck.model.tagger import Tagger

SHIPPED_MODELS = "unstuck-models"  # under each worker's local directory


@dataclass(frozen=True)
class ModelSource:
    """The model every worker uses: its directory, or a copy shipped to each worker; and its sha256."""

    path: str
    sha256: str
    shipped: bool = False


@dataclass
class DistributedRun:
    output: Path
    manifest: Path
    partitions: int
    reused: int  # written by an earlier run, checked, and not tagged again
    summary: BatchSummary


class SchedulerUnreachable(UnstuckError):
    """No Dask scheduler answered at the address given; the message is one line."""

    exit_code = 1


def local_workers(scheduler: str) -> int | None:
    """N for `local:N`, None for a scheduler's address; ValueError for `local:` without a count of at least 1."""
    if not scheduler.startswith("local:"):
        return None
    count = scheduler.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"--scheduler local:N needs a number of workers of at least 1, not {count!r}")
    return int(count)


@contextmanager
def connect(scheduler: str) -> Iterator[Client]:
    """A client of `scheduler`: a scheduler's address, or `local:N` for N worker processes on this
    machine, one thread each, listening on 127.0.0.1 only, without a dashboard."""
    workers = local_workers(scheduler)
    if workers is None:
        try:
            client = Client(scheduler, set_as_default=False)
        except OSError as err:
            raise SchedulerUnreachable(f"no Dask scheduler answered at {scheduler} ({err}); start one with "
                                       "`dask scheduler`, or use --scheduler local:N") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                      silence_logs=logging.ERROR) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


def tag_on_cluster(scheduler: str, partitions: list[FilePartition], out_dir: str | os.PathLike, tagger: Tagger,
                   **how) -> DistributedRun:
    """The one way in for a command: connect to `scheduler` (see `connect`) and `run_on_dask` there
    with `how` (options, evidence, strict, ship_model, on_skip, on_progress)."""
    with connect(scheduler) as client:
        return run_on_dask(client, partitions, out_dir, tagger, **how)


def run_on_dask(client: Client, partitions: list[FilePartition], out_dir: str | os.PathLike, tagger: Tagger, *,
                options: ReadOptions = ReadOptions(), evidence: bool = False, strict: bool = False,
                ship_model: bool = False, on_skip: Callable[[InputError], None] = lambda error: None,
                on_progress: Callable[[int, int], None] = lambda done, offset: None) -> DistributedRun:
    """Tag `partitions` (from `plan_partitions` with the same `options`) on the cluster into `out_dir`:
    one `part-NNNNN.jsonl` per partition and `manifest.json`, listing them in input order. Partitions
    that an earlier run of the same plan, options and model wrote, and whose checksum still matches,
    are kept. Bad rows go to `on_skip` in input order; with `strict` the first one found is raised."""
    check_output_folder(out_dir, partitions)
    out = Path(out_dir)
    out.mkdir(exist_ok=True)
    run = _run_record(partitions, tagger, options, evidence)
    entries = _resumable(out, partitions, run)
    reused = sum(entry["sha256"] is not None for entry in entries)
    write_manifest(out, run, entries, complete=False)
    model = _model_source(client, tagger, ship_model)
    futures = {client.submit(_tag_on_worker, p, str(out.absolute()), model, options, evidence, strict, pure=False): p
               for p in partitions if entries[p.index]["sha256"] is None}
    reported = _report_in_order(entries, 0, on_skip)
    done = [p for p in partitions if entries[p.index]["sha256"] is not None]
    tagged, read = sum(entries[p.index]["rows"] for p in done), sum(map(_size, done))
    try:
        for future, entry in as_completed(futures, with_results=True, loop=client.loop):
            entries[entry["index"]] = entry
            write_manifest(out, run, entries, complete=False)
            reported = _report_in_order(entries, reported, on_skip)
            tagged, read = tagged + entry["rows"], read + _size(futures[future])
            on_progress(tagged, read)
    finally:
        client.cancel(list(futures))
    write_manifest(out, run, entries, complete=True)
    for orphan in out.glob(".part-*.tmp"):  # left by a worker killed while writing; its task was redone
        orphan.unlink(missing_ok=True)
    return DistributedRun(out, out / MANIFEST_FILE, len(partitions), reused, _summary(entries))


def _tag_on_worker(partition: FilePartition, out_dir: str, model: ModelSource, options: ReadOptions,
                   evidence: bool, strict: bool) -> dict:
    directory = Path(get_worker().local_directory, SHIPPED_MODELS, model.sha256) if model.shipped else model.path
    try:
        return write_partition(partition, out_dir, cached_tagger(directory, model.sha256), options, evidence, strict)
    except (InputError, ModelError):
        raise
    except Exception as err:  # Dask logs a task's error on the worker; its message could quote an entry
        raise RuntimeError(f"partition {partition.index} of {partition.source} failed ({type(err).__name__})") from None


class ModelShipment(WorkerPlugin):
    """A model directory's files, sent once to each worker (and to each that joins later) and written
    under its local directory; refused unless the pipeline file has the sha256 that meta.json records."""

    def __init__(self, files: dict[str, bytes], sha256: str) -> None:
        self.files = files
        self.sha256 = sha256

    def setup(self, worker) -> None:
        target = Path(worker.local_directory, SHIPPED_MODELS, self.sha256)
        meta = json.loads(self.files[META_FILE])
        recorded = meta.get("sha256")
        received = hashlib.sha256(self.files.get(PIPELINE_FILES.get(model_format(meta)), b"")).hexdigest()
        if not received == recorded == self.sha256:
            raise ModelError(f"the model sent to {worker.address} arrived with sha256 {received[:12]}, its "
                             f"manifest records {str(recorded)[:12]}; nothing was loaded")
        if target.is_dir():
            return
        with staged_directory(target) as staging:
            for name, data in self.files.items():
                (staging / name).write_bytes(data)


def _model_source(client: Client, tagger: Tagger, ship: bool) -> ModelSource:
    if tagger.path is None:
        raise ModelError("this tagger has no model directory to give the workers")
    source = ModelSource(str(Path(tagger.path).resolve()), tagger.manifest.sha256, ship)
    if ship:
        names = (META_FILE, PIPELINE_FILES[tagger.manifest.format])
        files = {name: (Path(tagger.path) / name).read_bytes() for name in names}
        client.register_plugin(ModelShipment(files, source.sha256), name=f"unstuck-model-{source.sha256[:16]}")
    return source


def _run_record(partitions: list[FilePartition], tagger: Tagger, options: ReadOptions, evidence: bool) -> dict:
    """What makes two runs the same run: the inputs as they are now, the model, options and partitions."""
    paths = [Path(path) for path in dict.fromkeys(p.path for p in partitions)]
    inputs = [{"path": str(path), "size": input_size(path), "mtime_ns": path.stat().st_mtime_ns} for path in paths]
    cuts = hashlib.sha256(json.dumps([(p.path, p.lines, p.span) for p in partitions]).encode()).hexdigest()
    return _plain({"inputs": inputs, "model_sha256": tagger.manifest.sha256, "model_version": tagger.version,
                   "read": asdict(options), "evidence": evidence, "partitions_sha256": cuts})


def _resumable(out: Path, plan: list[FilePartition], run: dict) -> list[dict]:
    """Each partition's entry: the earlier run's if its output is still there with the same checksum,
    else a pending one. Raises InputError if the folder holds a different run."""
    entries = [_plain(partition_entry(p)) for p in plan]
    path = out / MANIFEST_FILE
    if not path.exists():
        return entries
    try:
        earlier = read_manifest(out)
        same = earlier["format"] == MANIFEST_FORMAT and earlier["run"] == run
    except (ValueError, KeyError, TypeError):
        raise InputError(path, None, "damaged manifest; remove the folder or choose another -o") from None
    if not same:
        raise InputError(path, None, "this folder holds a run of other inputs, options or model; "
                         "choose another -o, or remove the folder to start over")
    for entry, done in zip(entries, earlier.get("partitions", [])):
        written = out / entry["output"]
        if done.get("sha256") and all(done.get(k) == entry[k] for k in ("source", "lines", "bytes", "output")) \
                and written.is_file() and file_sha256(written) == done["sha256"]:
            entries[entry["index"]] = done
    return entries


def _report_in_order(entries: list[dict], start: int, on_skip: Callable[[InputError], None]) -> int:
    """Hand the bad rows of finished partitions to `on_skip`, in input order, up to the first unfinished
    one; return where to start next time."""
    while start < len(entries) and entries[start]["sha256"] is not None:
        for error in entries[start]["errors"]:
            on_skip(InputError(error["path"], error["line"], error["reason"]))
        start += 1
    return start


def _size(partition: FilePartition) -> int:
    return partition.span[1] - partition.span[0] if partition.span else input_size(Path(partition.path))


def _summary(entries: list[dict]) -> BatchSummary:
    summary = BatchSummary()
    for entry in entries:
        summary.tagged += entry["rows"]
        summary.crisis += entry["crisis"]
        summary.skipped += entry["skipped"]
        for label, count in entry["labels"].items():
            summary.label_counts[label] += count
        for error in entry["errors"][:LISTED_SKIPS - len(summary.skipped_at)]:
            summary.skipped_at.append(InputError(error["path"], error["line"], error["reason"]))
    return summary


def _plain(value) -> dict:
    """As it reads back from JSON (tuples become lists), so that entries and runs compare equal."""
    return json.loads(json.dumps(value))
