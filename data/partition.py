"""A batch input cut into partitions for any engine (Dask, Spark, a job queue): line ranges cut only
where a record ends, each read back exactly as local batch reads it, and the manifest of a partitioned
run. Reads files; tags nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Sequence

from unstuck.data.errors import InputError
from unstuck.data.formats import (
    CSV_FIELD_LIMIT, DEFAULTS, LINE_RECORD_KINDS, InputKind, check_input, field_names, read_open, read_rows,
)
from unstuck.data.output import atomic_output
from unstuck.data.records import Row

LINES_PER_PARTITION = 100_000
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1


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


def partition_entry(partition: FilePartition) -> dict:
    """A partition's manifest entry before it is tagged."""
    return {"index": partition.index, "source": partition.source, "lines": partition.lines,
            "bytes": partition.span, "output": partition.output, "rows": None, "sha256": None}


def read_manifest(folder: Path) -> dict:
    """The manifest of a partitioned run in `folder`; OSError or ValueError if it cannot be read."""
    return json.loads((Path(folder) / MANIFEST_FILE).read_text(encoding="utf-8"))


def write_manifest(folder: Path, run: dict, entries: list[dict], complete: bool) -> None:
    manifest = {"format": MANIFEST_FORMAT, "complete": complete, "run": run, "partitions": entries}
    with atomic_output(str(Path(folder) / MANIFEST_FILE)) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=1)
        handle.write("\n")


def check_output_folder(out_dir: str | os.PathLike, partitions: list[FilePartition]) -> None:
    """Raise InputError unless `out_dir` is, or can be made, a folder for these partitions' outputs."""
    out = Path(out_dir)
    if out.is_symlink():
        raise InputError(out, None, "that is a symbolic link; name the folder itself")
    if (out.exists() and not out.is_dir()) or (not out.exists() and out.suffix.lower() in (".jsonl", ".csv")):
        raise InputError(out, None, "with --scheduler, -o names a folder for the partitions, e.g. -o tagged/")
    if not out.parent.is_dir():
        raise InputError(out, None, f"cannot write here: folder {out.parent} does not exist")
    for partition in partitions:
        source = Path(partition.path)
        if source.is_file() and source.resolve().parent == out.resolve() and source.name.startswith("part-"):
            raise InputError(partition.source, None, "is in the output folder and could be overwritten; "
                             "choose another -o")


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
    return field_names(Path(path), options.delimiter, options.encoding)


class _ByteRange(io.RawIOBase):
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
    return io.TextIOWrapper(io.BufferedReader(_ByteRange(path, start, end)), encoding=encoding,
                            errors="surrogateescape", newline="\n")  # a file with a lone CR is never cut


def _cuts(path: Path, kind: InputKind, options: ReadOptions,
          every: int) -> list[tuple[tuple[int, int] | None, tuple[int, int] | None]]:
    """(lines, span) of each partition of one input; one whole partition when it cannot or need not be cut."""
    if kind not in LINE_RECORD_KINDS:
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

