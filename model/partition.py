"""One partition of a batch, for any engine (Dask, Spark, a job queue): a pandas DataFrame, or a line
range of an input file, tagged through the same `tag_texts` as local batch. Imports neither pandas nor
dask at module level; never prints, and keeps no entry text beyond the partition in hand.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import numbers
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from unstuck.data.errors import InputError
from unstuck.data.formats import (
    CSV_FIELD_LIMIT, DEFAULTS, OUTPUT_KEYS, InputKind, JsonlWriter, Row, atomic_output, check_input, file_sha256,
    read_open, read_rows,
)
from unstuck.model import store

if TYPE_CHECKING:  # spaCy and pandas load when a partition is tagged, not on import (the CLI reads defaults)
    import pandas

    from unstuck.model.tagger import Tagger

LINES_PER_PARTITION = 100_000
ERRORS_KEPT = 1000  # bad rows listed per partition in the manifest; all of them are counted
ERROR_COLUMN = "error"


@dataclass(frozen=True)
class ReadOptions:
    """How to read the inputs: `read_rows`' arguments."""

    text_field: str = DEFAULTS.text_field
    id_field: str = DEFAULTS.id_field
    keep_fields: tuple[str, ...] = ()
    delimiter: str = DEFAULTS.delimiter
    encoding: str = DEFAULTS.encoding


@dataclass(frozen=True)
class FilePartition:
    """Physical lines `lines` (1-based, inclusive) at bytes `span` [start, end) of one input, as the user
    named it (`source`, for messages) and absolutely (`path`, for workers). `span` is None when the
    partition is the whole input (a small file, a folder, UTF-16), which is then read by `read_rows`."""

    index: int
    source: str
    path: str
    kind: str
    lines: tuple[int, int] | None
    span: tuple[int, int] | None

    @property
    def output(self) -> str:
        return f"part-{self.index:05d}.jsonl"



def tag_partition(frame: "pandas.DataFrame", tagger: Tagger | str | os.PathLike | None = None, *,
                  text_column: str = "text", id_column: str = "id", keep_columns: Sequence[str] | None = None,
                  evidence: bool = False) -> "pandas.DataFrame":
    """Tag every row of a DataFrame; one output row per input row, same index, in order.

    Columns: id, labels, scores (a dict of every tag id), crisis, crisis_matches, [evidence,] error,
    then the kept columns (by default every input column but the text and id). A tagged row equals
    local batch's JSON record; a bad row (text missing, not a string, empty, too long) has its reason
    in `error` and nulls for the rest. `tagger` is a Tagger, or a model directory (on a cluster, pass
    this: it is loaded once per worker process and kept), or None for the active model. An empty frame
    gives the empty result without loading a model: `meta=tag_partition(ddf._meta)`."""
    import pandas as pd

    from unstuck.model.batch import Tagged, tag_chunk
    from unstuck.model.tagger import Tagger

    keep = [c for c in frame.columns if c not in (text_column, id_column)] if keep_columns is None \
        else list(keep_columns)
    _check_columns(frame, text_column, keep)
    columns = [*(k for k in OUTPUT_KEYS if evidence or k != "evidence"), ERROR_COLUMN]
    given = frame[id_column] if id_column in frame.columns else frame.index
    ids = [_entry_id(value, label) for value, label in zip(given, frame.index)]
    rows = [_frame_row(position, entry_id, text, text_column)
            for position, (entry_id, text) in enumerate(zip(ids, frame[text_column]), start=1)]
    if rows:
        if not isinstance(tagger, Tagger):
            tagger = cached_tagger(tagger or store.model_path(store.active_version()))
        rows = tag_chunk(rows, tagger, evidence)
    records = [item.as_dict(evidence) if isinstance(item, Tagged) else {"id": entry_id, ERROR_COLUMN: item.reason}
               for item, entry_id in zip(rows, ids)]
    out = pd.DataFrame({name: pd.Series([r.get(name) for r in records], index=frame.index,
                                        dtype="boolean" if name in ("crisis", "safety") else object) for name in columns})
    for name in keep:
        out[name] = frame[name].array
    return out


def _check_columns(frame, text_column: str, keep: list[str]) -> None:
    if text_column not in frame.columns:
        found = ", ".join(f'"{c}"' for c in frame.columns) or "nothing"
        raise ValueError(f'no "{text_column}" column; found {found}; name it with text_column=NAME')
    clash = [c for c in keep if c in (*OUTPUT_KEYS, ERROR_COLUMN)]
    if clash:
        raise ValueError(f"cannot keep column {clash[0]!r}: the output has a column of that name; "
                         "drop or rename it, or pass keep_columns")


def _frame_row(position: int, entry_id: str, text, text_column: str) -> Row | InputError:
    if not isinstance(text, str):
        return InputError(None, position, f'"{text_column}" is {"missing" if _is_null(text) else "not a string"}')
    if not text.strip():
        return InputError(None, position, f'"{text_column}" is empty')
    return Row(position, entry_id, text)


def _entry_id(value, label) -> str:
    """As local batch: the id as text (JSON for a structure); a missing or empty one, the index label."""
    if _is_null(value) or (isinstance(value, str) and not value):
        value = label
    if isinstance(value, (str, numbers.Number)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_null(value) -> bool:
    import pandas as pd
    from pandas.api.types import is_scalar

    return value is None or (is_scalar(value) and not isinstance(value, str) and bool(pd.isna(value)))


_TAGGERS: dict[str, tuple[str, Tagger]] = {}
_LOADING = threading.Lock()


def cached_tagger(path: str | os.PathLike, sha256: str | None = None) -> Tagger:
    """The model in directory `path`, loaded once per process and kept, keyed by the directory and the
    sha256 its manifest records (a retrained model at the same path is loaded afresh). With `sha256`,
    a model whose manifest records another one is refused with ModelError."""
    from unstuck.model.artifact import ModelError, read_manifest
    from unstuck.model.tagger import Tagger

    directory = Path(path).resolve()
    recorded = read_manifest(directory).sha256
    if sha256 and recorded != sha256:
        raise ModelError(f"{directory}: this worker sees another model (sha256 {recorded[:12]}, expected "
                         f"{sha256[:12]}); give every worker the same model, or use --ship-model")
    with _LOADING:
        cached = _TAGGERS.get(str(directory))
        if cached is None or cached[0] != recorded:
            cached = _TAGGERS[str(directory)] = (recorded, Tagger.load(directory))
        return cached[1]



def plan_partitions(sources: Sequence[str | os.PathLike], options: ReadOptions = ReadOptions(),
                    lines_per_partition: int = LINES_PER_PARTITION) -> list[FilePartition]:
    """Cut the inputs into partitions of about `lines_per_partition` lines, in input order, only where
    the local reader ends a record, so that every row falls in exactly one partition with its true line
    number. Raises InputError, as `read_rows` does, for an input that cannot be read at all."""
    partitions: list[FilePartition] = []
    for source in sources:
        path = Path(source)
        kind = check_input(path, options.encoding)
        read_rows(path, **asdict(options)).close()  # the same whole-input checks as local batch
        for lines, span in _cuts(path, kind, options, lines_per_partition):
            partitions.append(FilePartition(len(partitions), str(source), str(path.absolute()), kind.value,
                                            lines, span))
    return partitions


def read_partition(partition: FilePartition, options: ReadOptions = ReadOptions()) -> Iterator[Row | InputError]:
    """The rows of one partition, or their InputErrors, as local batch reads them: same line numbers,
    ids, checks and messages (which name the input as the user gave it)."""
    if partition.span is None:
        rows = read_rows(Path(partition.path), **asdict(options))
        return (_as_given(item, partition.path, partition.source) for item in rows)
    handle = _open_span(partition.path, partition.span, options.encoding)
    header = _csv_header(partition.path, options) if partition.kind == InputKind.csv else None
    return read_open(handle, InputKind(partition.kind), partition.source, first_line=partition.lines[0],
                     header=header, **asdict(options))


def write_partition(partition: FilePartition, out_dir: str | os.PathLike, tagger: Tagger,
                    options: ReadOptions = ReadOptions(), evidence: bool = False, strict: bool = False) -> dict:
    """Tag one partition through local batch's `run_batch` into `out_dir/<partition.output>` (JSON Lines,
    under a temporary name until complete) and return its manifest entry: where it came from, rows
    written, their sha256, counts, and the first ERRORS_KEPT bad rows. Raises InputError as run_batch."""
    from unstuck.model.batch import run_batch

    target = Path(out_dir) / partition.output
    errors: list[InputError] = []

    def keep_error(error: InputError) -> None:
        if len(errors) < ERRORS_KEPT:
            errors.append(error)

    with atomic_output(str(target)) as handle:
        writer = JsonlWriter(handle)
        summary = run_batch(read_partition(partition, options), tagger, lambda t: writer.write(t.as_dict(evidence)),
                            evidence=evidence, strict=strict, on_skip=keep_error)
    return {**partition_entry(partition), "rows": summary.tagged, "sha256": file_sha256(target),
            "crisis": summary.crisis, "labels": {k: n for k, n in summary.label_counts.items() if n},
            "skipped": summary.skipped,
            "errors": [{"path": e.path, "line": e.line, "reason": e.reason} for e in errors]}


def partition_entry(partition: FilePartition) -> dict:
    """A partition's manifest entry before it is tagged."""
    return {"index": partition.index, "source": partition.source, "lines": partition.lines,
            "bytes": partition.span, "output": partition.output, "rows": None, "sha256": None}


def _as_given(item: Row | InputError, absolute: str, given: str) -> Row | InputError:
    """The item with its path as the user named the input (workers read it by its absolute path)."""
    if not (item.path or "").startswith(absolute):
        return item
    path = given + item.path[len(absolute):]
    if isinstance(item, InputError):
        return InputError(path, item.line, item.reason)
    item.path = path
    return item


def _csv_header(path: str, options: ReadOptions) -> list[str]:
    with _open_span(path, None, options.encoding) as handle:
        return [name.strip() for name in next(csv.reader(handle, delimiter=options.delimiter), [])]


class _Span(io.RawIOBase):
    """Bytes [start, end) of a file, read as if they were the whole file."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self.file = open(path, "rb", buffering=0)
        self.file.seek(start)
        self.left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.file.readinto(memoryview(buffer)[:self.left]) if self.left > 0 else 0
        self.left -= count
        return count

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.file.close()
        super().close()


def _open_span(path: str, span: tuple[int, int] | None, encoding: str) -> io.TextIOWrapper:
    start, end = span or (0, os.path.getsize(path))
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # as formats._open_text: a byte-order mark at the start is dropped
    return io.TextIOWrapper(io.BufferedReader(_Span(path, start, end)), encoding=encoding,
                            errors="surrogateescape", newline="\n")  # a file with a lone CR is never cut


def _cuts(path: Path, kind: InputKind, options: ReadOptions,
          every: int) -> list[tuple[tuple[int, int] | None, tuple[int, int] | None]]:
    """(lines, span) of each partition of one input; one whole partition when it cannot or need not be cut."""
    if kind in (InputKind.folder, InputKind.dayone):  # files, or one JSON document: never cut
        return [(None, None)]
    if codecs.lookup(options.encoding).name.startswith(("utf-16", "utf-32")):
        return [(None, None)]  # a newline is not one byte there
    lines = _Lines(path)
    ends = _csv_record_ends(lines, options) if kind is InputKind.csv else ((n, end) for n, end, _ in lines)
    if kind is InputKind.csv:
        header = next(ends, None)
        start = (header[0] + 1, header[1]) if header else (1, 0)
    else:
        start = (1, 0)
    cuts = []
    for line, end in ends:
        if line - start[0] + 1 >= every:
            cuts.append(((start[0], line), (start[1], end)))
            start = (line + 1, end)
    for _ in lines:  # a CSV the reader cannot parse to its end: the rest is one partition
        pass
    if lines.lone_cr:
        return [((1, lines.count), None)]
    if start[1] < lines.offset:
        cuts.append(((start[0], lines.count), (start[1], lines.offset)))
    return cuts if len(cuts) > 1 else [((1, lines.count), None)]


class _Lines:
    """The physical lines of a file, as (number, byte offset after it, bytes), noting whether any line
    breaks at a lone carriage return (which text mode counts as a line, so line numbers would shift)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = self.offset = 0
        self.lone_cr = False
        self._lines = self._read()

    def _read(self) -> Iterator[tuple[int, int, bytes]]:
        with open(self.path, "rb") as handle:
            for raw in handle:
                self.count += 1
                self.offset += len(raw)
                if b"\r" in raw and raw.count(b"\r") != raw.endswith(b"\r\n"):
                    self.lone_cr = True
                yield self.count, self.offset, raw

    def __iter__(self):
        return self._lines


def _csv_record_ends(lines: _Lines, options: ReadOptions) -> Iterator[tuple[int, int]]:
    """(last line, byte offset) of each CSV record, found by the same csv reader the workers use."""
    def decoded() -> Iterator[str]:
        for _, _, raw in lines:
            yield raw.decode(options.encoding, errors="surrogateescape")

    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    reader = csv.reader(decoded(), delimiter=options.delimiter, strict=True)
    try:
        for _ in reader:
            yield lines.count, lines.offset
    except csv.Error:
        return

