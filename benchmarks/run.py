#!/usr/bin/env python
"""How fast is unstuck? Generates a synthetic journal corpus and times the real commands.

    python benchmarks/run.py            # full run: 10k and 100k entries, training (~15-25 min on 2 cores)
    python benchmarks/run.py --quick    # a few hundred entries, no 100k, no training (< 1 min; CI runs it)
    python benchmarks/run.py --out table.md

Every number is measured against a floor taken in the same run, on the same machine, so a busy
machine moves both:

1. cold start: `unstuck tag "..."` as a process (median of --runs) vs a process that only imports
   spaCy and scikit-learn, builds the pipeline with `unstuck.model.nlp.build_nlp` and unpickles
   the shipped model;
2. batch throughput: `unstuck batch --workers 1` and `--workers 2` on 10k entries vs spaCy `nlp.pipe`
   over the same texts with the same pipeline (time inside the process, nothing else);
3. peak memory of the batch process tree at 10k and 100k entries (os.wait4 max RSS, which covers the
   worker processes too, and the sampled peak of the tree's summed PSS from /proc);
4. training time: `unstuck train --out <tmp>` on the seed set.

The corpus, the outputs and a private UNSTUCK_HOME live in a temporary directory that is removed at
the end (--keep keeps it). Nothing is downloaded; the corpus comes from built-in sentence templates
and, when the package's seed set is readable, from words sampled from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HEADER = "| measurement | unstuck | floor | ratio | target | met |"
ROOT = Path(__file__).resolve().parent.parent
TAG_ENTRY = ("I cancelled again, work has eaten every Thursday this month. Honestly I'm not sure she gets "
             "why I keep putting it off, and I didn't tell her about the drinking either.")

# ----------------------------------------------------------------------------------------- corpus

PEOPLE = ["my therapist", "she", "he", "Dr Patel", "my counsellor", "mum", "my partner", "my sister", "my boss",
          "the group leader", "my dad", "my friend Sam", "the receptionist", "my psychiatrist", "they"]
FEEL = ["anxious", "tired", "angry", "numb", "hopeful", "embarrassed", "scared", "relieved", "frustrated", "calm",
        "overwhelmed", "stuck", "ashamed", "okay", "lonely", "irritated", "flat", "nervous", "fine", "guilty"]
TOPICS = ["my childhood", "the accident", "work", "money", "the divorce", "my drinking", "sleep", "the kids",
          "homework sheets", "breathing exercises", "my mum", "the move", "church", "school", "my body",
          "the panic attacks", "medication", "boundaries", "the breakup", "our goals", "the waiting list"]
ACTS = ["go to my session", "do the worksheet", "call the clinic", "tell her the truth", "bring it up",
        "book another appointment", "practise the exercise", "write in this journal", "ask what the plan is",
        "say no", "take my meds", "leave the house", "text back", "pay the invoice", "open up"]
PAST = ["cancelled", "skipped", "rescheduled", "went", "cried", "laughed", "argued", "slept", "walked home",
        "ate dinner", "drank", "worked late", "forgot", "lied about it", "changed the subject", "shut down"]
WHEN = ["today", "yesterday", "last week", "this morning", "on Tuesday", "again", "all month", "tonight",
        "since March", "every Thursday", "after lunch", "at 3am", "for weeks", "before the session"]
ADV = ["really", "kind of", "so", "a bit", "weirdly", "honestly", "totally", "not very", "pretty", "quite"]
REASONS = ["work was insane", "I couldn't afford it", "the bus never came", "I was hungover",
           "I didn't see the point", "she was late again", "the kids were sick", "I forgot", "I was scared",
           "nobody explained what we were doing", "my phone died", "it felt pointless"]
TEMPLATES = [
    "I felt {feel} {when}.", "{person} said I should {act}.", "I didn't {act} because {reason}.",
    "We talked about {topic} for {num} minutes and I felt {feel}.", "Honestly I'm not sure I want to {act}.",
    "{When} I {past} and then {past2}.", "I keep thinking about {topic}.", "{person} doesn't get {topic} at all.",
    "It's been {num} weeks since I {past}.", "I'm {adv} {feel} about {topic}, not gonna lie.",
    "Not {feel}, just {feel2}.", "Why do I always {act} {when}?", "{person} asked about {topic} and I {past}.",
    "I never {act}, but {person} says it matters.", "Maybe next time I'll {act}.",
    "I don\u2019t know what we're even doing in there.", "Session {num} and still no plan.",
    "{person} cancelled {when}, {reason}.", "Spent {num} dollars on this and I {past}.",
    "Wasn't {feel} until {person} mentioned {topic}.", "I think I {past} because {reason}.",
]


def seed_words() -> list[str]:
    """Words from the shipped seed set (its texts only; no labels), or [] if it is not there."""
    words: list[str] = []
    for path in sorted((ROOT / "data" / "seed").glob("*.jsonl")):
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                words.extend(re.findall(r"[A-Za-z']+", json.loads(line).get("text", "")))
        except (OSError, ValueError):
            continue
    return words


class Corpus:
    """Entries of 20-400 words (log-normal, median ~90), sentences from templates and from word salad."""

    def __init__(self, seed: int = 0) -> None:
        self.random = random.Random(seed)
        self.words = seed_words() or [w for t in TEMPLATES for w in re.findall(r"[a-z]+", t)] + FEEL + PAST

    def length(self) -> int:
        return max(20, min(400, int(self.random.lognormvariate(4.5, 0.65))))

    def sentence(self) -> str:
        r = self.random
        if r.random() < 0.55:
            text = r.choice(TEMPLATES).format(
                feel=r.choice(FEEL), feel2=r.choice(FEEL), when=r.choice(WHEN), When=r.choice(WHEN).capitalize(),
                person=r.choice(PEOPLE), act=r.choice(ACTS), reason=r.choice(REASONS), topic=r.choice(TOPICS),
                num=r.randint(2, 90), past=r.choice(PAST), past2=r.choice(PAST), adv=r.choice(ADV))
            return text[0].upper() + text[1:]
        words = r.choices(self.words, k=r.randint(4, 22))
        return " ".join(words).capitalize() + r.choice([".", ".", ".", "!", "?", "...", ","])

    def entry(self) -> str:
        target, parts, count = self.length(), [], 0
        while count < target:
            sentence = self.sentence()
            parts.append(sentence)
            count += sentence.count(" ") + 1
            if self.random.random() < 0.06:
                parts.append("\n\n")
        text = " ".join(parts)
        if count > 400:  # keep the last sentence from running past 400 words
            text = " ".join(text.split(" ")[:400])
        if self.random.random() < 0.3:
            text = text.lower()
        return text

    def write(self, path: Path, n: int) -> Path:
        with open(path, "w", encoding="utf-8") as handle:
            for i in range(n):
                handle.write(json.dumps({"id": f"e{i:06d}", "text": self.entry()}) + "\n")
        return path


# ------------------------------------------------------------------------------------ measuring

@dataclass
class Run:
    seconds: float
    max_rss_mb: float  # os.wait4: the largest resident set of the process or any of its waited-for children
    peak_pss_mb: float  # sampled: the process tree's summed proportional set size (Linux only, else 0)
    stdout: str = ""
    cpu: float = 0.0  # user + system seconds of the process and its waited-for children (os.wait4)


def _tree(pid: int) -> list[int]:
    pids, frontier = [pid], [pid]
    while frontier:
        found = []
        for parent in frontier:
            try:
                with open(f"/proc/{parent}/task/{parent}/children") as handle:
                    found += [int(p) for p in handle.read().split()]
            except OSError:
                pass
        pids += found
        frontier = found
    return pids


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(cmd: list[str], env: dict, stdin: str | None = None, sample: bool = False, check: bool = True) -> Run:
    """Run a command; wall time, max RSS (os.wait4, children included) and optionally sampled tree PSS."""
    start = time.perf_counter()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    process = subprocess.Popen(cmd, env=env, stdout=out, stderr=err,
                               stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
    if stdin is not None:
        process.stdin.write(stdin.encode())
        process.stdin.close()
    peak = 0
    proc_fs = sample and os.path.exists(f"/proc/{process.pid}/smaps_rollup")
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if proc_fs:
            peak = max(peak, sum(_pss_kb(p) for p in _tree(process.pid)))
        time.sleep(0.05 if proc_fs else 0.01)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and process.returncode != 0:
        raise SystemExit(f"benchmark command failed ({process.returncode}): {' '.join(cmd[:4])} ...\n{stderr[-2000:]}")
    # ru_maxrss is in KiB on Linux, bytes on macOS
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Run(seconds, rss, peak / 1024, stdout, usage.ru_utime + usage.ru_stime)


def unstuck_command() -> list[str]:
    """The console script next to this interpreter (not a pyenv/asdf shim, whose own start-up is not ours)."""
    for directory in (Path(sys.executable).parent, Path(sys.prefix) / "bin"):
        script = directory / ("unstuck.exe" if os.name == "nt" else "unstuck")
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-c", "import sys; from unstuck.cli.app import main; sys.argv[0] = 'unstuck'; main()"]


FLOOR_LOAD = """
import gzip, pickle, sklearn, spacy
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.model.artifact import PIPELINE_FILE
from unstuck.model.nlp import build_nlp
nlp = build_nlp()
pipeline = pickle.loads(gzip.decompress((DEFAULT_MODEL_DIR / PIPELINE_FILE).read_bytes()))
"""

FLOOR_PIPE = """
import json, sys, time
from unstuck.model.nlp import build_nlp
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
nlp = build_nlp()
start, cpu = time.perf_counter(), time.process_time()
for doc in nlp.pipe(texts, batch_size=int(sys.argv[2])):
    pass
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "n": len(texts)}))
"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "n/a"


# --------------------------------------------------------------------------------------- report

@dataclass
class Row:
    name: str
    ours: str
    floor: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.rows.append(Row(*args, **kwargs))
        row = self.rows[-1]
        print(f"  {row.name}: {row.ours}" + (f" (floor {row.floor}, {row.ratio})" if row.floor else ""),
              file=sys.stderr, flush=True)

    def table(self) -> str:
        lines = [HEADER, "|---|---:|---:|---:|---|---|"]
        lines += [f"| {r.name} | {r.ours} | {r.floor} | {r.ratio} | {r.target} | {r.met} |" for r in self.rows]
        return "\n".join(lines)


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def machine() -> str:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    try:
        with open("/proc/meminfo") as handle:
            ram = f"{int(handle.readline().split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        ram = "RAM n/a"
    libs = ", ".join(f"{n} {version(n)}" for n in ("spacy", "scikit-learn", "numpy", "scipy", "joblib", "typer"))
    extra = [n for n in ("torch", "pandas") if version(n) != "-"]
    return (f"{platform.platform()}; {os.cpu_count()} cores; {ram}; Python {platform.python_version()}; {libs}"
            + (f"; also installed (imported by spaCy/scikit-learn when present): {', '.join(extra)}" if extra else ""))


# ------------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny corpus; skip 100k entries and training")
    parser.add_argument("--out", type=Path, help="also write the report as Markdown to this file")
    parser.add_argument("--runs", type=int, help="cold-start runs per command (median) [5, quick: 2]")
    parser.add_argument("--entries", type=int, help="batch corpus size [10000, quick: 300]")
    parser.add_argument("--big", type=int, default=100_000, help="memory corpus size, 0 for none [100000]")
    parser.add_argument("--skip", action="append", default=[], choices=["cold", "batch", "memory", "train"],
                        help="leave a section out (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 5)
    n = args.entries or (300 if args.quick else 10_000)
    skip = set(args.skip) | ({"train"} if args.quick else set())

    work = Path(tempfile.mkdtemp(prefix="unstuck-bench-"))
    env = {**os.environ, "UNSTUCK_HOME": str(work / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    unstuck = unstuck_command()
    report = Report()
    started = datetime.now(timezone.utc).replace(microsecond=0)
    loads = [load_average()]
    print(f"unstuck benchmarks in {work} ({'quick' if args.quick else 'full'}); load average {loads[0]}",
          file=sys.stderr, flush=True)
    try:
        corpus = Corpus(seed=0)
        small = corpus.write(work / f"corpus-{n}.jsonl", n)

        if "cold" not in skip:
            run(unstuck + ["tag", TAG_ENTRY], env)  # once untimed: file caches warm for both sides
            ours, floor = [], []
            for _ in range(runs):  # interleaved, so load changes hit both alike
                ours.append(run(unstuck + ["tag", TAG_ENTRY], env).seconds)
                floor.append(run([sys.executable, "-c", FLOOR_LOAD], env).seconds)
            t, f = median(ours), median(floor)
            report.add("`unstuck tag` cold start (median of %d)" % runs, f"{t:.2f} s", f"{f:.2f} s",
                       f"{t / f:.2f}x", "<= 1.25x floor", yes(t <= 1.25 * f))
            helps = [run(unstuck + ["--help"], env).seconds for _ in range(2)]
            labels = [run(unstuck + ["labels"], env).seconds for _ in range(2)]
            bare = min(run([sys.executable, "-c", "pass"], env).seconds for _ in range(2))
            report.add("`unstuck --help` / `unstuck labels` (floor: bare `python`)",
                       f"{min(helps):.2f} s / {min(labels):.2f} s", f"{bare:.2f} s", "",
                       "no spaCy/sklearn import", "see tests/test_cli.py")
            loads.append(load_average())

        if "batch" not in skip:
            from_pipe = json.loads(run([sys.executable, "-c", FLOOR_PIPE, str(small), "128"], env).stdout)
            pipe_rate = from_pipe["n"] / from_pipe["seconds"]
            one = work / "one.jsonl"
            one.write_text(json.dumps({"id": "x", "text": TAG_ENTRY}) + "\n", encoding="utf-8")
            # start-up and exit of the batch command: one entry (one chunk, so no pool with any --workers)
            starts = [run(unstuck + ["batch", "--quiet", str(one), "-o", str(work / "one.out.jsonl")], env)
                      for _ in range(1 if args.quick else 2)]
            startup, startup_cpu = median([r.seconds for r in starts]), median([r.cpu for r in starts])
            rates = {}
            for workers in (1, 2):
                command = unstuck + ["batch", "--workers", str(workers), "--quiet"]
                timed = run(command + [str(small), "-o", str(work / f"out-{workers}.jsonl")], env, sample=True)
                lines = sum(1 for _ in open(work / f"out-{workers}.jsonl", encoding="utf-8"))
                if lines != n:
                    raise SystemExit(f"batch wrote {lines} results for {n} entries")
                net = n / max(timed.seconds - startup, 1e-9)
                rates[workers] = (n / timed.seconds, net, timed)
                if workers == 1:
                    report.add(f"batch {n:,} entries, --workers 1: entries/s end to end (net of {startup:.1f} s start-up)",
                               f"{n / timed.seconds:,.0f} ({net:,.0f})", f"{pipe_rate:,.0f}",
                               f"{n / timed.seconds / pipe_rate:.0%} ({net / pipe_rate:.0%})",
                               ">= 50% of nlp.pipe", yes(net >= 0.5 * pipe_rate))
                else:
                    speedup, net_speedup = n / timed.seconds / rates[1][0], net / rates[1][1]
                    report.add(f"batch {n:,} entries, --workers 2: entries/s end to end (net of {startup:.1f} s start-up)",
                               f"{n / timed.seconds:,.0f} ({net:,.0f})", f"{rates[1][0]:,.0f} (workers 1)",
                               f"{speedup:.2f}x ({net_speedup:.2f}x)", ">= 1.7x workers 1", yes(net_speedup >= 1.7))
            # CPU time is much less sensitive than wall time to other processes on the machine: when
            # these rates are far above the ones above, the run was competing for the cores.
            cpu_floor = from_pipe["n"] / from_pipe["cpu"]
            for workers in (1, 2):
                timed = rates[workers][2]
                per_cpu = n / max(timed.cpu - startup_cpu, 1e-9)
                report.add(f"same, --workers {workers}: entries per CPU-second, all processes, net of start-up "
                           f"(less sensitive to other load)", f"{per_cpu:,.0f}", f"{cpu_floor:,.0f}",
                           f"{per_cpu / cpu_floor:.0%}", "", "")
            loads.append(load_average())

        if "memory" not in skip:
            sizes = [n] if args.quick or args.big <= 0 else [n, args.big]
            measured = {}
            for size in sizes:
                path = small if size == n else corpus.write(work / f"corpus-{size}.jsonl", size)
                for workers in (1, 2):
                    if size == n and "batch" not in skip:
                        timed = rates[workers][2]
                    else:
                        timed = run(unstuck + ["batch", "--workers", str(workers), "--quiet", str(path), "-o",
                                               str(work / f"mem-{size}-{workers}.jsonl")], env, sample=True)
                    measured[size, workers] = timed
                    pss = f", tree PSS {timed.peak_pss_mb:,.0f} MB" if timed.peak_pss_mb else ""
                    report.add(f"peak memory, batch {size:,} entries, --workers {workers}",
                               f"max RSS {timed.max_rss_mb:,.0f} MB{pss}", "", "", "", "")
                    if size != n:
                        base = measured[n, workers]
                        grow = timed.max_rss_mb / base.max_rss_mb
                        report.rows[-1].ratio = f"{grow:.2f}x of {n:,}" + (
                            f" (PSS {timed.peak_pss_mb / base.peak_pss_mb:.2f}x)" if base.peak_pss_mb else "")
                        report.rows[-1].target = f"<= 1.10x of {n:,}"
                        report.rows[-1].met = yes(grow <= 1.10)
                        report.rows[-1].name += f" ({timed.seconds:,.0f} s, {size / timed.seconds:,.0f}/s)"
            loads.append(load_average())

        if "train" not in skip:
            timed = run(unstuck + ["train", "--out", str(work / "trained")], env)
            report.add("`unstuck train --out DIR` on the seed set", f"{timed.seconds:,.1f} s", "", "", "", "")
            loads.append(load_average())
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    report.notes += [
        f"date: {started.isoformat()}; load average (1, 5, 15 min) at start and after each section: "
        + " -> ".join(loads),
        f"machine: {machine()}",
        f"command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(unstuck))}; "
        f"corpus: {n:,} synthetic entries of 20-400 words" + ("" if args.quick or args.big <= 0 else
                                                             f", and {args.big:,} for memory"),
    ]
    text = report.table() + "\n\n" + "\n".join(f"- {note}" for note in report.notes)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
