"""Throughput of batch tagging on this machine: local batch with 1 and 2 worker processes next to a
Dask LocalCluster with 1 and 2 workers, on a generated corpus of short entries. Prints a table to
standard output; everything it writes goes to a temporary folder that is removed afterwards.

    python benchmarks/dask_bench.py            # 3,000 entries
    python benchmarks/dask_bench.py --n 20000 --partition-lines 2000
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from unstuck.data.formats import read_rows
from unstuck.data.output import JsonlWriter, atomic_output
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.model.batch import run_batch
from unstuck.model.distributed import connect, run_on_dask
from unstuck.data.partition import ReadOptions, plan_partitions
from unstuck.model.partition import cached_tagger
from unstuck.model.tagger import Tagger

OPENINGS = ["I keep cancelling my sessions", "Work has eaten every Thursday", "I'm scared to tell her",
            "We never agreed on goals", "Had a few drinks before the session", "She checks her phone while I talk",
            "I don't think he gets my culture", "I just nod along and say nothing", "Made lasagna with my daughter",
            "The bus was late again"]
CLOSINGS = ["and I don't know why.", "again this week.", "so nothing changes.", "but the walk helped.",
            "which makes me want to quit.", "and I felt calm after."]


def corpus(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = " ".join(f"{rng.choice(OPENINGS)} {rng.choice(CLOSINGS)}" for _ in range(rng.randint(1, 3)))
            handle.write(json.dumps({"id": f"e{i}", "text": text}) + "\n")


def local(source: Path, out: Path, tagger: Tagger, workers: int) -> tuple[float | None, float, int]:
    """Local batch as `unstuck batch --workers N` runs it; its time includes starting the process pool."""
    start = time.perf_counter()
    with atomic_output(str(out)) as handle:
        writer = JsonlWriter(handle)
        summary = run_batch(read_rows(source), tagger, lambda tagged: writer.write(tagged.as_dict()), workers=workers)
    return None, time.perf_counter() - start, summary.tagged


def on_dask(source: Path, out: Path, tagger: Tagger, workers: int, partition_lines: int) -> tuple[float, float, int]:
    """`unstuck batch --scheduler local:N`; startup (cluster up, model loaded on every worker) timed apart."""
    start, model = time.perf_counter(), str(tagger.path)
    with connect(f"local:{workers}") as client:
        client.run(lambda: cached_tagger(model) and None)
        ready = time.perf_counter()
        run = run_on_dask(client, plan_partitions([source], ReadOptions(), partition_lines), out, tagger)
        return ready - start, time.perf_counter() - ready, run.summary.tagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="entries to generate (default 3000)")
    parser.add_argument("--partition-lines", type=int, default=250, help="lines per Dask partition (default 250)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="unstuck-bench-") as folder:
        tagger = Tagger.load(shutil.copytree(DEFAULT_MODEL_DIR, Path(folder) / "model"))  # fixed while we measure
        source = Path(folder) / "corpus.jsonl"
        corpus(source, args.n)
        runs = [(f"local --workers {k}", lambda k=k: local(source, Path(folder) / f"local{k}.jsonl", tagger, k))
                for k in (1, 2)]
        runs += [(f"dask local:{k}", lambda k=k: on_dask(source, Path(folder) / f"dask{k}", tagger, k,
                                                          args.partition_lines)) for k in (1, 2)]
        size = source.stat().st_size / 1e6
        print(f"{args.n:,} entries, {size:.2f} MB; Dask partitions of {args.partition_lines} lines")
        print(f"{'run':<20}{'startup s':>11}{'tagging s':>11}{'entries/s':>11}")
        for name, measure in runs:
            startup, seconds, tagged = measure()
            assert tagged == args.n, (name, tagged)
            shown = "-" if startup is None else f"{startup:.1f}"
            print(f"{name:<20}{shown:>11}{seconds:>11.1f}{tagged / seconds:>11.0f}", flush=True)


if __name__ == "__main__":
    main()
