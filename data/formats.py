"""Batch input and output: entries read lazily from .jsonl, .csv, .txt or a folder, and tagged rows
written as JSON Lines or CSV through a temporary file that only takes the real name when complete.

Bad rows come back as `InputError`s in the stream; messages name the file and line, never the text.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Iterator

from unstuck.data.errors import InputError
from unstuck.data.taxonomy import LABEL_IDS

ENTRY_SUFFIXES = (".txt", ".md")
SNIFF_BYTES = 8192
# Generous enough to read an oversize entry and report it as too long, small enough that an
# unclosed quote fails instead of swallowing the whole file into one field.
CSV_FIELD_LIMIT = 10_000_000
# Lone surrogates are how `surrogateescape` marks bytes that did not decode.
UNDECODED = re.compile("[\udc80-\udcff]")
OUTPUT_KEYS = ("id", "labels", "scores", "crisis", "crisis_matches", "safety", "safety_matches", "resources",
               "evidence")


@dataclass(frozen=True)
class InputDefaults:
    text_field: str = "text"
    id_field: str = "id"
    delimiter: str = ","
    encoding: str = "utf-8"


DEFAULTS = InputDefaults()


class InputKind(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    txt = "txt"
    folder = "folder"


@dataclass
class Row:
    """One entry to tag: where it came from (file and 1-based line), its id, text and kept fields."""

    line: int | None
    id: str
    text: str
    kept: dict = field(default_factory=dict)
    path: str = ""
    offset: int = 0  # bytes of input read when this row was produced, for progress


def check_input(path: Path, encoding: str = DEFAULTS.encoding) -> InputKind:
    """What kind of input `path` is; raises InputError if it is missing, binary, empty or unsupported."""
    path = Path(path)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(path, None, f"unknown encoding {encoding!r}; try utf-8, cp1252 or latin-1") from None
    if path.is_dir():
        if not any(entry_files(path)):
            raise InputError(path, None, "no .txt or .md files in this folder")
        return InputKind.folder
    if not path.exists():
        raise InputError(path, None, "file not found")
    kinds = {".jsonl": InputKind.jsonl, ".csv": InputKind.csv, ".txt": InputKind.txt}
    kind = kinds.get(path.suffix.lower())
    if kind is None:
        raise InputError(path, None, f"unsupported file type {path.suffix or '(none)'!r}; "
                         "use .jsonl, .csv, .txt or a folder of .txt/.md files")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if b"\0" in head and not codec.startswith(("utf-16", "utf-32")):
        raise InputError(path, None, "looks like a binary file, not text")
    if not head.strip() or head.strip() == codecs.BOM_UTF8:
        raise InputError(path, None, "the file is empty")
    return kind


def entry_files(folder: Path) -> list[Path]:
    """The .txt/.md files under `folder`, sorted by relative path; hidden files and folders are skipped."""
    found = [p for p in Path(folder).rglob("*")
             if p.suffix.lower() in ENTRY_SUFFIXES and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def input_size(path: Path) -> int:
    """Total bytes to read, so progress can estimate the time left."""
    path = Path(path)
    return sum(p.stat().st_size for p in entry_files(path)) if path.is_dir() else path.stat().st_size


def read_rows(path: Path, text_field: str = DEFAULTS.text_field, id_field: str = DEFAULTS.id_field,
              keep_fields: tuple[str, ...] = (), delimiter: str = DEFAULTS.delimiter,
              encoding: str = DEFAULTS.encoding) -> Iterator[Row | InputError]:
    """Yield the entries of an input lazily, in order, with an InputError in place of each bad one.

    Raises InputError (before yielding anything) for a problem with the whole input, such as a CSV
    without the text column."""
    path = Path(path)
    kind = check_input(path, encoding)
    clash = [f for f in keep_fields if f in OUTPUT_KEYS]
    if clash:
        raise InputError(path, None, f"cannot keep {clash[0]!r}: the output already has a field of that name")
    if keep_fields and kind in (InputKind.txt, InputKind.folder):
        raise InputError(path, None, "--keep-fields needs a .jsonl or .csv input; this one has no other fields")
    if kind is InputKind.folder:
        return _folder_rows(path, encoding)
    if kind is InputKind.csv:
        return _csv_rows(path, text_field, id_field, keep_fields, delimiter, encoding)
    if kind is InputKind.jsonl:
        return _jsonl_rows(path, text_field, id_field, keep_fields, encoding)
    return _txt_rows(path, encoding)


def _open_text(path: Path, encoding: str) -> IO[str]:
    # utf-8-sig drops a leading byte-order mark; undecodable bytes are marked, then reported per line.
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"
    return open(path, encoding=encoding, errors="surrogateescape", newline="")


def _undecodable(path: Path, line: int, encoding: str) -> InputError:
    return InputError(path, line, f"bytes that are not valid {encoding} text; pick the file's encoding "
                      "with --encoding (e.g. --encoding cp1252)")


def read_open(handle: IO[str], kind: InputKind, source: str | Path, *, first_line: int = 1,
              header: list[str] | None = None, text_field: str = DEFAULTS.text_field,
              id_field: str = DEFAULTS.id_field, keep_fields: tuple[str, ...] = (),
              delimiter: str = DEFAULTS.delimiter, encoding: str = DEFAULTS.encoding) -> Iterator[Row | InputError]:
    """The rows of an open text handle holding lines `first_line`... of input `source` (part of a file
    cut where a record ends, as `unstuck.model.partition` does): what `read_rows` yields for those
    lines, with the same line numbers, ids and messages. A CSV part after the first needs the file's
    `header`. The handle is closed when the rows are done."""
    if kind is InputKind.csv:
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        reader = csv.reader(handle, delimiter=delimiter)
        if header is None:  # the handle starts at the header
            header = [name.strip() for name in next(reader, [])]
            first_line -= 1
        return _csv_records(source, handle, reader, header, text_field, id_field, keep_fields, encoding,
                            first_line - 1)
    if kind is InputKind.jsonl:
        return _jsonl_lines(source, handle, first_line, text_field, id_field, keep_fields, encoding)
    if kind is InputKind.txt:
        return _txt_lines(source, handle, first_line, encoding)
    raise ValueError(f"read_open reads one .txt, .jsonl or .csv file, not a {kind.value}")


def _txt_rows(path: Path, encoding: str) -> Iterator[Row | InputError]:
    yield from _txt_lines(path, _open_text(path, encoding), 1, encoding)  # opened on the first row asked for


def _txt_lines(path: Path | str, handle: IO[str], first: int, encoding: str) -> Iterator[Row | InputError]:
    with handle:
        for line, raw in enumerate(handle, start=first):
            text = raw.rstrip("\r\n")
            if not text.strip():
                continue
            if UNDECODED.search(text):
                yield _undecodable(path, line, encoding)
                continue
            yield Row(line, str(line), text, {}, str(path), handle.buffer.tell())


def _jsonl_rows(path: Path, text_field: str, id_field: str, keep_fields: tuple[str, ...],
                encoding: str) -> Iterator[Row | InputError]:
    yield from _jsonl_lines(path, _open_text(path, encoding), 1, text_field, id_field, keep_fields, encoding)


def _jsonl_lines(path: Path | str, handle: IO[str], first: int, text_field: str, id_field: str,
                 keep_fields: tuple[str, ...], encoding: str) -> Iterator[Row | InputError]:
    with handle:
        for line, raw in enumerate(handle, start=first):
            if not raw.strip():
                continue
            if UNDECODED.search(raw):
                yield _undecodable(path, line, encoding)
                continue
            try:
                record = json.loads(raw.rstrip("\r\n"))  # so an error's column is on this line
            except json.JSONDecodeError as err:
                yield InputError(path, line, f"invalid JSON ({err.msg}, column {err.colno})")
                continue
            if not isinstance(record, dict):
                yield InputError(path, line, "expected a JSON object, one per line")
                continue
            yield _to_row(path, line, record, text_field, id_field, keep_fields, handle.buffer.tell())


def _to_row(path: Path, line: int, record: dict, text_field: str, id_field: str,
            keep_fields: tuple[str, ...], offset: int) -> Row | InputError:
    text = record.get(text_field)
    if text_field not in record:
        return InputError(path, line, f'no "{text_field}" field; name the text field with --text-field NAME')
    if not isinstance(text, str):
        return InputError(path, line, f'"{text_field}" is not a string')
    if not text.strip():
        return InputError(path, line, f'"{text_field}" is empty')
    entry_id = record.get(id_field)
    if entry_id is None or entry_id == "":
        entry_id = line
    elif not isinstance(entry_id, (str, int, float)):
        entry_id = json.dumps(entry_id, ensure_ascii=False)
    return Row(line, str(entry_id), text, {name: record.get(name) for name in keep_fields}, str(path), offset)


def _csv_rows(path: Path, text_field: str, id_field: str, keep_fields: tuple[str, ...], delimiter: str,
              encoding: str) -> Iterator[Row | InputError]:
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    handle = _open_text(path, encoding)
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as err:
        handle.close()
        raise InputError(path, 1, f"cannot read the CSV header ({err})") from None
    missing = [name for name in (text_field, *keep_fields) if name not in header]
    if missing:
        handle.close()
        raise InputError(path, 1, _missing_column(missing[0], text_field, header, delimiter))
    return _csv_records(path, handle, reader, header, text_field, id_field, keep_fields, encoding)


def _missing_column(name: str, text_field: str, header: list[str], delimiter: str) -> str:
    found = ", ".join(f'"{h}"' for h in header) or "nothing"
    option = "--text-field" if name == text_field else "--keep-fields"
    reason = f'no "{name}" column; found {found}; name the column with {option} NAME'
    guess = next((d for d in ";\t,|" if d != delimiter and len(header) == 1 and d in header[0]), None)
    if guess:
        reason += f" (or set the separator: --delimiter {'tab' if guess == chr(9) else repr(guess)})"
    return reason


def _csv_records(path: Path | str, handle: IO[str], reader, header: list[str], text_field: str, id_field: str,
                 keep_fields: tuple[str, ...], encoding: str, before: int = 0) -> Iterator[Row | InputError]:
    """`before`: the lines of the file before the handle's first (when it holds only a part)."""
    column = {name: i for i, name in reversed(list(enumerate(header)))}
    last = reader.line_num + before
    with handle:
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as err:
                raise InputError(path, last + 1, f"malformed CSV ({err}); check the quoting or --delimiter") from None
            if cells is None:
                return
            line, last = last + 1, reader.line_num + before
            if not cells:
                continue
            if len(cells) > len(header):
                yield InputError(path, line, f"{len(cells)} fields but the header has {len(header)}; "
                                 "check the quoting or --delimiter")
                continue
            if any(UNDECODED.search(cell) for cell in cells):
                yield _undecodable(path, line, encoding)
                continue
            record = {name: cells[i] for name, i in column.items() if i < len(cells)}
            if not record.get(text_field, "").strip():
                yield InputError(path, line, f'no text in the "{text_field}" column')
                continue
            yield _to_row(path, line, record, text_field, id_field, keep_fields, handle.buffer.tell())


def _folder_rows(folder: Path, encoding: str) -> Iterator[Row | InputError]:
    offset = 0
    codec = codecs.lookup(encoding).name
    for file in entry_files(folder):
        data = file.read_bytes()
        offset += len(data)
        entry_id = file.relative_to(folder).as_posix()
        if b"\0" in data[:SNIFF_BYTES] and not codec.startswith(("utf-16", "utf-32")):
            yield InputError(file, None, "looks like a binary file, not text")
            continue
        try:
            text = data.decode("utf-8-sig" if codec == "utf-8" else encoding)
        except UnicodeDecodeError as err:
            line = data[:err.start].count(b"\n") + 1
            yield _undecodable(file, line, encoding)
            continue
        if not text.strip():
            yield InputError(file, None, "the file is empty")
            continue
        yield Row(None, entry_id, text, {}, str(file), offset)


class JsonlWriter:
    """One JSON object per line, keys in the order given."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    def write(self, record: dict) -> None:
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")


class CsvWriter:
    """id, kept fields, labels joined by ';', crisis, a score_<tag> column per tag, and evidence if asked."""

    def __init__(self, handle: IO[str], keep_fields: tuple[str, ...] = (), evidence: bool = False) -> None:
        self.keep_fields = keep_fields
        self.evidence = evidence
        self.writer = csv.writer(handle, lineterminator="\n")
        columns = ["id", *keep_fields, "labels", "crisis", *(f"score_{k}" for k in LABEL_IDS)]
        self.writer.writerow(columns + (["evidence"] if evidence else []))

    def write(self, record: dict) -> None:
        cells = [record["id"], *(_cell(record.get(name)) for name in self.keep_fields),
                 ";".join(record["labels"]), "true" if record["crisis"] else "false",
                 *(record["scores"][k] for k in LABEL_IDS)]
        if self.evidence:
            cells.append(json.dumps(record.get("evidence", {}), ensure_ascii=False))
        self.writer.writerow(cells)


def _cell(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def output_writer(target: str, handle: IO[str], keep_fields: tuple[str, ...] = (),
                  evidence: bool = False) -> JsonlWriter | CsvWriter:
    """CSV when the target ends in .csv, JSON Lines otherwise (including `-`, standard output)."""
    if target.lower().endswith(".csv"):
        return CsvWriter(handle, keep_fields, evidence)
    return JsonlWriter(handle)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_output(target: str, source: Path) -> None:
    """Raise InputError if writing `target` would overwrite the input or cannot work at all."""
    if target == "-":
        return
    out = Path(target)
    inputs = entry_files(source) if Path(source).is_dir() else [Path(source)]
    if out.exists() and any(out.samefile(p) for p in inputs):
        raise InputError(out, None, "that is the input; refusing to write over it (choose another -o)")
    if out.is_dir():
        raise InputError(out, None, "that is a folder; give -o a file name such as tags.jsonl")
    if not out.parent.is_dir():
        raise InputError(out, None, f"cannot write here: folder {out.parent} does not exist")


@contextmanager
def atomic_output(target: str) -> Iterator[IO[str]]:
    """A handle to write `target` through: standard output for `-`, else a temporary file beside the
    target, renamed onto it only if the block completes; on any failure the temporary file is removed."""
    if target == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    out = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
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
