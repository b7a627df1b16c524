"""Writing what unstuck makes: tagged rows as JSON Lines or CSV (always valid JSON; no cell a
spreadsheet would run), and every file through `atomic_output`, a temporary name beside the target
that takes the real name only when complete, never over an input, a link, a device or a folder.
"""

from __future__ import annotations

import csv
import glob
import json
import math
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from unstuck.data.errors import InputError
from unstuck.data.formats import entry_files
from unstuck.data.taxonomy import LABEL_IDS

C1_CONTROL = re.compile("[\x80-\x9f\u2028\u2029]")  # and the separators that split lines in JavaScript and str.splitlines
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OUTPUT_SUFFIXES = (".jsonl", ".csv")


class JsonlWriter:
    """One JSON object per line, keys in the order given; always valid JSON (a number JSON has no
    name for becomes null), and C1 control characters escaped so that the lines are safe to show."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    def write(self, record: dict) -> None:
        self.handle.write(json_line(record) + "\n")


def json_line(record) -> str:
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN or infinity somewhere: JSON has no such numbers
        line = json.dumps(_finite(record), ensure_ascii=False, allow_nan=False)
    return C1_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", line)  # only ever inside strings


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class CsvWriter:
    """id, kept fields, labels joined by ';', crisis, safety, the help lines shown (compact text), a
    score_<tag> column per tag, and evidence if asked."""

    def __init__(self, handle: IO[str], keep_fields: tuple[str, ...] = (), evidence: bool = False) -> None:
        self.keep_fields = keep_fields
        self.evidence = evidence
        self.writer = csv.writer(handle, lineterminator="\n")
        columns = ["id", *keep_fields, "labels", "crisis", "safety", "resources", *(f"score_{k}" for k in LABEL_IDS)]
        self.writer.writerow(columns + (["evidence"] if evidence else []))

    def write(self, record: dict) -> None:
        cells = [_cell(record["id"]), *(_cell(record.get(name)) for name in self.keep_fields),
                 ";".join(record["labels"]), "true" if record["crisis"] else "false",
                 "true" if record.get("safety") else "false", _cell(_compact(record.get("resources") or [])),
                 *(record["scores"][k] for k in LABEL_IDS)]
        if self.evidence:
            cells.append(json.dumps(record.get("evidence", {}), ensure_ascii=False))
        self.writer.writerow(cells)


def _compact(resources: list[dict]) -> str:
    """Help lines as one cell: "uk Samaritans: call 116 123 | uk Emergency services: call 999"."""
    return " | ".join(f"{r['region']} {r['name']}: {r['reach']}" for r in resources)


def _cell(value) -> str:
    """A cell as text; one a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is quoted
    with a leading apostrophe, as OWASP advises, so that opening the CSV runs nothing."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json_line(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def output_writer(target: str, handle: IO[str], keep_fields: tuple[str, ...] = (),
                  evidence: bool = False) -> JsonlWriter | CsvWriter:
    """CSV when the target ends in .csv, JSON Lines otherwise (including `-`, standard output)."""
    if target.lower().endswith(".csv"):
        return CsvWriter(handle, keep_fields, evidence)
    return JsonlWriter(handle)


def check_output(target: str, source: Path, suffixes: tuple[str, ...] = (), option: str = "-o") -> None:
    """Raise InputError unless `target` is `-` or a new path or a regular file (not a link, device,
    FIFO or folder) that is not the input, ending in one of `suffixes` (any, if none are given)."""
    if target == "-":
        return
    out = Path(target)
    try:
        mode = os.lstat(out).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(out, None, f"that is a folder; give {option} a file name such as "
                         f"tags{suffixes[0] if suffixes else '.jsonl'}")
    if mode is not None and stat.S_ISLNK(mode):
        raise InputError(out, None, "that is a symbolic link; refusing to replace it (name the file itself)")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(out, None, "that is not a regular file (a device, FIFO or socket); refusing to replace "
                         "it (use - for standard output)")
    inputs = entry_files(source) if Path(source).is_dir() else [Path(source)]
    if mode is not None and any(_same_file(out, p) for p in inputs):
        raise InputError(out, None, f"that is the input; refusing to write over it (choose another {option})")
    if suffixes and out.suffix.lower() not in suffixes:
        raise InputError(out, None, f"cannot tell what to write from {out.suffix or 'no suffix'!r}; end the name "
                         f"in {' or '.join(suffixes)}, or use - for standard output")
    if not out.parent.is_dir():
        raise InputError(out, None, f"cannot write here: folder {out.parent} does not exist")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def remove_leftovers(out: Path) -> list[Path]:
    """Delete the temporary files that runs writing `out` left when they were killed (they may hold
    entries): ours, named for `out`, by a process that is gone. Returns what was deleted."""
    removed = []
    for tmp in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
        pid = tmp.name[len(out.name) + 2:].split(".", 1)[0]
        try:
            if not pid.isdigit() or tmp.lstat().st_uid != os.geteuid() or _alive(int(pid)):
                continue
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_output(target: str) -> Iterator[IO[str]]:
    """A handle to write `target` through: standard output for `-`, else a temporary file beside the
    target, renamed onto it only if the block completes; on any failure the temporary file is removed."""
    if target == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    out = Path(target)
    remove_leftovers(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text(target: Path, text: str) -> None:
    """Write a whole small file (a preference, a marker) through `atomic_output`."""
    with atomic_output(str(target)) as handle:
        handle.write(text)
