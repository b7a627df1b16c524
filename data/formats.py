"""Reading what people give unstuck: entries read lazily from .jsonl, .csv, .txt, a Day One .json or a
folder of notes (`read_rows`), and the one record reader every file of records goes through
(`read_records`). Writing lives in `unstuck.data.output`.

Bad rows come back as `InputError`s in the stream; messages name the file and line, never the text.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import IO, Iterator

from unstuck.data.errors import InputError
from unstuck.data.records import Row
from unstuck.data.journals import dated_entries, dayone_records, leading_title, looks_dated, note_record

ENTRY_SUFFIXES = (".txt", ".md")
SNIFF_BYTES = 8192
# Generous enough to read an oversize entry and report it as too long, small enough that an
# unclosed quote fails instead of swallowing the whole file into one field.
CSV_FIELD_LIMIT = 10_000_000
# Lone surrogates are how `surrogateescape` marks bytes that did not decode; any other lone surrogate
# came from a JSON escape (\ud800) and is no text either: neither can be written as UTF-8.
UNDECODED = re.compile("[\udc80-\udcff]")
SURROGATE = re.compile("[\ud800-\udfff]")
HEADER_NAME = re.compile(r"[A-Za-z_][\w.-]{0,31}")
# JSON deeper than this in a field we use is refused: Python's own limit depends on the stack in use.
MAX_DEPTH = 100
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
    dayone = "json"  # a Day One-style export: {"entries": [...]}


# What can be read, for help and messages: said here so that a new format changes only this module.
INPUTS_READ = ("a .jsonl, .csv or .txt file (one entry a line, or one under each date heading), a Day One .json "
               "export, or a folder of .txt/.md notes (one entry a file; front matter and a # title are fields)")
INPUTS_WITH_FIELDS = "a .jsonl, .csv or .json input, notes with front matter, or a journal under date headings"

# The kinds whose records start at a line start: `read_open` reads them from any line on, so that
# `unstuck.data.partition` may cut them between records. The others are read whole.
LINE_RECORD_KINDS = (InputKind.jsonl, InputKind.csv, InputKind.txt)


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
    kinds = {".jsonl": InputKind.jsonl, ".csv": InputKind.csv, ".txt": InputKind.txt, ".json": InputKind.dayone}
    kind = kinds.get(path.suffix.lower())
    if kind is None:
        raise InputError(path, None, f"unsupported file type {path.suffix or '(none)'!r}; "
                         "use .jsonl, .csv, .txt, a Day One .json export or a folder of .txt/.md files")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    problem = _not_text(head, codec) or _missing_bom(head, codec)
    if problem:
        raise InputError(path, None, problem)
    if not head.strip() or head.strip() == codecs.BOM_UTF8:
        raise InputError(path, None, "the file is empty")
    return kind


def _not_text(head: bytes, codec: str) -> str | None:
    """Why the first bytes of a file are not text in `codec` (with the --encoding to try), or None."""
    if codec.startswith(("utf-16", "utf-32")) or b"\0" not in head:
        return None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "looks like UTF-32 text; read it with --encoding utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "looks like UTF-16 text; read it with --encoding utf-16"
    zeros_first, zeros_second = head[0::2].count(0), head[1::2].count(0)  # ASCII in UTF-16: every other byte
    if max(zeros_first, zeros_second) >= len(head) // 4:
        return f"looks like UTF-16 text; read it with --encoding utf-16-{'be' if zeros_first > zeros_second else 'le'}"
    return "looks like a binary file, not text"


def _missing_bom(head: bytes, codec: str) -> str | None:
    """For --encoding utf-16 or utf-32 (which need a byte-order mark to know the byte order), what to say
    if the file has none; None if it has one or the encoding names its byte order."""
    marks = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}
    if codec not in marks or head.startswith(marks[codec]):
        return None
    return f"no byte-order mark at the start, so the byte order is unknown; use --encoding {codec}-le or {codec}-be"


def entry_files(folder: Path) -> list[Path]:
    """The .txt/.md files under `folder`, sorted by relative path; hidden files and folders are skipped.
    Links are listed even when broken or looping, so that reading them reports them."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root, name) for name in files
                  if not name.startswith(".") and Path(name).suffix.lower() in ENTRY_SUFFIXES]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _unreadable_folders(folder: Path) -> list[InputError]:
    """The folders under `folder` that cannot be listed (their entries would be missed)."""
    problems: list[InputError] = []
    for root, dirs, _ in os.walk(folder, onerror=lambda err: problems.append(
            InputError(err.filename, None, f"folder cannot be read ({err.strerror or type(err).__name__}); "
                       "its entries are skipped"))):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    return problems


def input_size(path: Path) -> int:
    """Total bytes to read, so progress can estimate the time left."""
    path = Path(path)
    return sum(_size(p) for p in entry_files(path)) if path.is_dir() else _size(path)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # a broken link: reported when read
        return 0


def read_rows(path: Path, text_field: str = DEFAULTS.text_field, id_field: str = DEFAULTS.id_field,
              keep_fields: tuple[str, ...] = (), delimiter: str = DEFAULTS.delimiter,
              encoding: str = DEFAULTS.encoding, split_on_dates: bool = False) -> Iterator[Row | InputError]:
    """Yield the entries of an input lazily, in order, with an InputError in place of each bad one.
    A folder's notes give their front matter and title as fields; a .txt file is one entry a line,
    or with `split_on_dates` one entry under each date heading (its field "date", the heading).

    Raises InputError (before yielding anything) for a problem with the whole input, such as a CSV
    without the text column."""
    path = Path(path)
    kind = check_input(path, encoding)
    clash = [f for f in keep_fields if f in OUTPUT_KEYS]
    if clash:
        raise InputError(path, None, f"cannot keep {clash[0]!r}: the output already has a field of that name")
    if kind is InputKind.txt and keep_fields and not split_on_dates:
        raise InputError(path, None, f"--keep-fields needs fields: {INPUTS_WITH_FIELDS} (--split-on-dates); "
                         "this one has none")
    if kind is InputKind.folder:
        return _folder_rows(path, id_field, keep_fields, encoding)
    if kind is InputKind.csv:
        return _csv_rows(path, text_field, id_field, keep_fields, delimiter, encoding)
    if kind is InputKind.jsonl:
        return _jsonl_rows(path, text_field, id_field, keep_fields, encoding)
    if kind is InputKind.dayone:
        return _dayone_rows(path, text_field, id_field, keep_fields, encoding)
    if split_on_dates:
        return _dated_rows(path, keep_fields, encoding)
    return _txt_rows(path, encoding)


def field_names(path: Path, delimiter: str = DEFAULTS.delimiter, encoding: str = DEFAULTS.encoding,
                split_on_dates: bool = False, sample: int = 200) -> list[str]:
    """The fields an input's entries have, for messages: a CSV's header, the first JSON object's keys, the
    front matter keys (and "title") of the first `sample` notes, or "date" for a journal under date headings."""
    path = Path(path)
    kind = check_input(path, encoding)
    if kind is InputKind.csv:
        handle, _, header = _csv_open(path, delimiter, encoding)
        handle.close()
        return header
    if kind is InputKind.txt:
        return ["date", "text"] if split_on_dates else []
    names: dict[str, None] = {}
    if kind is InputKind.jsonl:
        rows = (_jsonl_fields(path, 1 + n, encoding) for n in range(sample))
    elif kind is InputKind.dayone:
        rows = ([*record, "title"] for _, record in islice(_dayone_items(path, encoding), sample)
                if isinstance(record, dict))
    else:
        rows = (list(record) for file in entry_files(path)[:sample]
                if isinstance(record := _note_fields(file, encoding), dict))
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def _note_fields(file: Path, encoding: str) -> dict | None:
    try:
        record = note_record(file.read_text(encoding=encoding, errors="replace"), file)
    except OSError:
        return None
    return record if isinstance(record, dict) else None


def _dayone_items(path: Path, encoding: str):
    with _open_text(path, encoding) as handle:
        text = handle.read()
    return dayone_records(path, text)


def is_dated_journal(path: Path, encoding: str = DEFAULTS.encoding) -> bool:
    """Whether a .txt input reads as entries under date headings (see `unstuck.data.journals.looks_dated`)."""
    if check_input(path, encoding) is not InputKind.txt:
        return False
    with _open_text(path, encoding) as handle:
        return looks_dated(handle)


def _open_text(path: Path, encoding: str) -> IO[str]:
    # utf-8-sig drops a leading byte-order mark; undecodable bytes are marked, then reported per line.
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"
    return open(path, encoding=encoding, errors="surrogateescape", newline=line_end(path))


def line_end(path: Path) -> str:
    """How lines end in this file: "\n" (and "\r\n"), or "\r" alone (old Mac files) when the start of
    the file has carriage returns and no line feed. Any other line break inside a line is reported."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return "\r" if b"\r" in head and b"\n" not in head else "\n"


def _stray_break(path: Path | str, line: int) -> InputError:
    return InputError(path, line, "a carriage return or line feed inside the line that does not end it (mixed "
                      "line endings); make it a space or a real line break")


def _line_text(raw: str) -> str:
    """A line without its line end: "\n", "\r\n" or (in a file whose lines end so) "\r"."""
    if raw.endswith("\n"):
        raw = raw[:-1]
    return raw[:-1] if raw.endswith("\r") else raw


def _undecodable(path: Path, line: int, encoding: str, encoding_option: bool = True) -> InputError:
    remedy = "pick the file's encoding with --encoding (e.g. --encoding cp1252)" if encoding_option \
        else "save the file as UTF-8"
    return InputError(path, line, f"bytes that are not valid {encoding} text; {remedy}")


def read_open(handle: IO[str], kind: InputKind, source: str | Path, *, first_line: int = 1,
              header: list[str] | None = None, text_field: str = DEFAULTS.text_field,
              id_field: str = DEFAULTS.id_field, keep_fields: tuple[str, ...] = (),
              delimiter: str = DEFAULTS.delimiter, encoding: str = DEFAULTS.encoding) -> Iterator[Row | InputError]:
    """The rows of an open text handle holding lines `first_line`... of input `source` (part of a file
    cut where a record ends, as `unstuck.data.partition` does): what `read_rows` yields for those
    lines, with the same line numbers, ids and messages. A CSV part after the first needs the file's
    `header`. The handle is closed when the rows are done."""
    if kind is InputKind.csv:
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
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
            text = _line_text(raw)
            if not text.strip():
                continue
            if UNDECODED.search(text):
                yield _undecodable(path, line, encoding)
                continue
            if "\r" in text or "\n" in text:
                yield _stray_break(path, line)
                continue
            yield Row(line, str(line), text, {}, str(path), handle.buffer.tell())


def _dated_rows(path: Path, keep_fields: tuple[str, ...], encoding: str) -> Iterator[Row | InputError]:
    problems: dict[int, InputError] = {}
    with _open_text(path, encoding) as handle:
        for line, written, text, numbers in dated_entries(_readable_lines(path, handle, encoding, problems)):
            bad = next((problems[n] for n in numbers if n in problems), None)
            if bad is not None:
                yield bad
            elif not text.strip():
                yield InputError(path, line, "a date heading with no entry under it")
            else:
                record = {"date": written, "text": text}
                yield Row(line, str(line), text, {name: record.get(name) for name in keep_fields}, str(path),
                          handle.buffer.tell())


def _readable_lines(path: Path, handle: IO[str], encoding: str,
                    problems: dict[int, InputError]) -> Iterator[tuple[int, str]]:
    """(line number, line) of a dated journal; a line that cannot be read is blank here and its error
    goes to `problems`, so that its entry is reported and skipped."""
    for line, raw in enumerate(handle, start=1):
        text = _line_text(raw)
        if UNDECODED.search(text):
            problems[line], text = _undecodable(path, line, encoding), ""
        elif "\r" in text or "\n" in text:
            problems[line], text = _stray_break(path, line), ""
        yield line, text


def _dayone_rows(path: Path, text_field: str, id_field: str, keep_fields: tuple[str, ...],
                 encoding: str) -> Iterator[Row | InputError]:
    first = True
    for item in _dayone_items(path, encoding):
        line, record = item
        if not isinstance(record, dict):
            yield InputError(path, line, "expected each of \"entries\" to be a JSON object")
            continue
        if isinstance(record.get(text_field), str) and UNDECODED.search(record[text_field]):
            yield _undecodable(path, line, encoding)
            continue
        record = dict(record)
        if id_field == DEFAULTS.id_field and id_field not in record:
            record[id_field] = record.get("uuid")
        if isinstance(record.get(text_field), str):
            title, record[text_field] = leading_title(record[text_field])
            record.setdefault("title", title)
        if id_field != DEFAULTS.id_field and id_field not in record and first:
            raise InputError(path, line, f'no "{id_field}" field; {describe_columns(list(record))}; '
                             "name the id field with --id-field NAME")
        first = False
        yield _to_row(path, line, record, text_field, id_field, keep_fields, 0)


def _jsonl_rows(path: Path, text_field: str, id_field: str, keep_fields: tuple[str, ...],
                encoding: str) -> Iterator[Row | InputError]:
    rows = _jsonl_lines(path, _open_text(path, encoding), 1, text_field, id_field, keep_fields, encoding)
    yield from _named_id_present(rows, path, id_field, lambda line: _jsonl_fields(path, line, encoding))


def _named_id_present(rows: Iterator[Row | InputError], path: Path, id_field: str,
                      fields_at) -> Iterator[Row | InputError]:
    """The rows, unless an --id-field the user named is missing from the first good row: then an
    InputError for the whole input, naming the fields that row has (ids are never line numbers silently)."""
    first = True
    for row in rows:
        if first and isinstance(row, Row) and id_field != DEFAULTS.id_field:
            first = False
            if row.id == str(row.line) and id_field not in (fields := fields_at(row.line)):
                rows.close()
                raise InputError(path, row.line, f'no "{id_field}" field; {describe_columns(fields)}; '
                                 "name the id field with --id-field NAME")
        yield row


def _jsonl_fields(path: Path, line: int, encoding: str) -> list[str]:
    """The keys of the JSON object on `line`; none if there is none there."""
    with _open_text(path, encoding) as handle:
        raw = next(islice(handle, line - 1, None), "")
    try:
        record = json.loads(_line_text(raw))
    except (ValueError, RecursionError):
        return []
    return list(record) if isinstance(record, dict) else []


def _jsonl_lines(path: Path | str, handle: IO[str], first: int, text_field: str, id_field: str,
                 keep_fields: tuple[str, ...], encoding: str) -> Iterator[Row | InputError]:
    for item in json_records(path, handle, first, encoding):
        if isinstance(item, InputError):
            yield item
        else:
            yield _to_row(path, item[0], item[1], text_field, id_field, keep_fields, handle.buffer.tell())


def read_records(path: Path, encoding: str = DEFAULTS.encoding, delimiter: str = DEFAULTS.delimiter, *,
                 encoding_option: bool = True) -> Iterator[tuple[int, dict] | InputError]:
    """The one reader of records, for every file of records unstuck reads (inputs, labeled examples,
    batch output, labels of real text, saved answers): (line, record) for each record of a .jsonl (one
    JSON object a line) or a .csv with a header (its cells by column name), or an InputError naming
    the file and line (never the text) in place of a bad one. Damage to a CSV's structure that runs
    across lines raises InputError. `encoding_option`: whether messages may point to --encoding.
    FileNotFoundError (or another OSError) if the file cannot be opened."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _csv_file_records(path, delimiter, encoding, encoding_option)
    return json_records(path, _open_text(path, encoding), 1, encoding, encoding_option)


def json_records(path: Path | str, handle: IO[str], first: int, encoding: str,
                 encoding_option: bool = True) -> Iterator[tuple[int, dict] | InputError]:
    """JSON Lines records from an open handle whose first line is line `first`; closed when done."""
    with handle:
        for line, raw in enumerate(handle, start=first):
            if not raw.strip():
                continue
            if UNDECODED.search(raw):
                yield _undecodable(path, line, encoding, encoding_option)
                continue
            try:  # without the line end, so that an error's column is on this line
                record = json.loads(_line_text(raw), parse_constant=str, parse_float=_finite_float)
            except json.JSONDecodeError as err:
                yield InputError(path, line, f"invalid JSON ({err.msg}, column {err.colno})")
                continue
            except RecursionError:
                yield InputError(path, line, "JSON nested too deeply to read")
                continue
            except ValueError:  # an integer of thousands of digits
                yield InputError(path, line, "a number too long to read")
                continue
            if not isinstance(record, dict):
                yield InputError(path, line, "expected a JSON object, one per line")
                continue
            yield line, record


def _finite_float(literal: str) -> float | str:
    """JSON numbers too large for a float (1e999) stay as written, so that output stays valid JSON."""
    value = float(literal)
    return value if math.isfinite(value) else literal


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return bool(SURROGATE.search(value))
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def nesting_depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def text_problem(text, name: str) -> str | None:
    """Why the value of field `name` is no entry to tag (not a string, or empty), or None."""
    if not isinstance(text, str):
        return f'"{name}" is not a string'
    return None if text.strip() else f'"{name}" is empty'


def _to_row(path: Path, line: int, record: dict, text_field: str, id_field: str,
            keep_fields: tuple[str, ...], offset: int) -> Row | InputError:
    used = [text_field, id_field, *keep_fields]
    if nesting_depth([record.get(name) for name in used]) > MAX_DEPTH:
        return InputError(path, line, f"JSON nested too deeply to read (over {MAX_DEPTH} levels)")
    bad = next((name for name in used if _has_surrogate(record.get(name))), None)
    if bad is not None:
        return InputError(path, line, f'"{bad}" holds an escaped lone surrogate (such as \\ud800), which is not '
                          "text; fix or remove it")
    text = record.get(text_field)
    if text_field not in record:
        return InputError(path, line, f'no "{text_field}" field; name the text field with --text-field NAME')
    if problem := text_problem(text, text_field):
        return InputError(path, line, problem)
    entry_id = record.get(id_field)
    if entry_id is None or entry_id == "":
        entry_id = line
    elif not isinstance(entry_id, (str, int, float)):
        try:
            entry_id = json.dumps(entry_id, ensure_ascii=False)
        except (ValueError, RecursionError):
            return InputError(path, line, f'"{id_field}" is nested too deeply to use as an id')
    return Row(line, str(entry_id), text, {name: record.get(name) for name in keep_fields}, str(path), offset)


def _csv_rows(path: Path, text_field: str, id_field: str, keep_fields: tuple[str, ...], delimiter: str,
              encoding: str) -> Iterator[Row | InputError]:
    handle, reader, header = _csv_open(path, delimiter, encoding)
    # An --id-field the user named must exist; the default "id" may be absent (rows get line numbers).
    named_id = (id_field,) if id_field != DEFAULTS.id_field else ()
    missing = [name for name in (text_field, *keep_fields, *named_id) if name not in header]
    if missing:
        handle.close()
        raise InputError(path, 1, _missing_column(missing[0], text_field, id_field, header, delimiter))
    return _csv_records(path, handle, reader, header, text_field, id_field, keep_fields, encoding)


def _missing_column(name: str, text_field: str, id_field: str, header: list[str], delimiter: str) -> str:
    option = "--text-field" if name == text_field else "--id-field" if name == id_field else "--keep-fields"
    reason = f'no "{name}" column; {describe_columns(header)}; name the column with {option} NAME'
    guess = next((d for d in ";\t,|" if d != delimiter and len(header) == 1 and d in header[0]), None)
    if guess:
        reason += f" (or set the separator: --delimiter {'tab' if guess == chr(9) else repr(guess)})"
    return reason


def describe_columns(header: list[str]) -> str:
    """What a CSV's first line holds, for a message, naming only cells that look like column names: in
    a file without a header the first line is an entry, and its text must not appear in any message."""
    if not any(h.strip() for h in header):
        return "found nothing"
    names = [h for h in header if HEADER_NAME.fullmatch(h)]
    others = len(header) - len(names)
    found = "found " + (", ".join(f'"{h}"' for h in names) if names else "no column names")
    if others:
        found += f"{' and' if names else ','} {others} {'cell' if others == 1 else 'cells'} that look like text " \
                 "(does the file start with a header line?)"
    return found


def csv_problem(err: csv.Error) -> str:
    """The csv module's complaint in the user's terms (it never quotes the data)."""
    text = str(err)
    if text.startswith("field larger than field limit"):
        return f"a field over {csv.field_size_limit():,} characters"
    if text.startswith("new-line character seen in unquoted field"):
        return "a line break inside a field that is not in quotes (mixed line endings)"
    if text == "unexpected end of data":
        return "a quote opened here is never closed"
    return text


def _csv_records(path: Path | str, handle: IO[str], reader, header: list[str], text_field: str, id_field: str,
                 keep_fields: tuple[str, ...], encoding: str, before: int = 0) -> Iterator[Row | InputError]:
    """`before`: the lines of the file before the handle's first (when it holds only a part)."""
    for item in _csv_dicts(path, handle, reader, header, encoding, before):
        if isinstance(item, InputError):
            yield item
        elif not item[1].get(text_field, "").strip():
            yield InputError(path, item[0], f'no text in the "{text_field}" column')
        else:
            yield _to_row(path, item[0], item[1], text_field, id_field, keep_fields, handle.buffer.tell())


def _csv_file_records(path: Path, delimiter: str, encoding: str,
                      encoding_option: bool) -> Iterator[tuple[int, dict] | InputError]:
    handle, reader, header = _csv_open(path, delimiter, encoding)
    return _csv_dicts(path, handle, reader, header, encoding, 0, encoding_option)


def _csv_open(path: Path, delimiter: str, encoding: str) -> tuple[IO[str], object, list[str]]:
    """An open CSV file, its reader, and its header (InputError if the header cannot be read)."""
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    handle = _open_text(path, encoding)
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    try:
        return handle, reader, [name.strip() for name in next(reader, [])]
    except csv.Error as err:
        handle.close()
        raise InputError(path, 1, f"cannot read the CSV header ({csv_problem(err)})") from None


def _csv_dicts(path: Path | str, handle: IO[str], reader, header: list[str], encoding: str, before: int = 0,
               encoding_option: bool = True) -> Iterator[tuple[int, dict] | InputError]:
    """(line, cells by column name) for each record, an InputError for a bad one; the handle is closed
    when done."""
    column = {name: i for i, name in reversed(list(enumerate(header)))}
    last = reader.line_num + before
    with handle:
        while True:
            line = last + 1  # where this record starts
            try:
                cells = next(reader, None)
            except csv.Error as err:
                # Within one line the damage is that row's; across lines (an unclosed quote) nothing after
                # it can be trusted to start where it seems to, so the whole input is refused.
                last, spanned = reader.line_num + before, reader.line_num + before > line
                if spanned or str(err) == "unexpected end of data":
                    raise InputError(path, line, f"malformed CSV: {csv_problem(err)}"
                                     f"{f' (the record runs to line {last})' if spanned else ''}; "
                                     "check the quoting or --delimiter") from None
                yield InputError(path, line, f"malformed CSV row: {csv_problem(err)}")
                continue
            if cells is None:
                return
            last = reader.line_num + before
            if not cells:
                continue
            if len(cells) > len(header):
                yield InputError(path, line, f"{len(cells)} fields but the header has {len(header)}; "
                                 "check the quoting or --delimiter")
                continue
            if any(UNDECODED.search(cell) for cell in cells):
                yield _undecodable(path, line, encoding, encoding_option)
                continue
            yield line, {name: cells[i] for name, i in column.items() if i < len(cells)}


def _folder_rows(folder: Path, id_field: str, keep_fields: tuple[str, ...],
                 encoding: str) -> Iterator[Row | InputError]:
    """One entry a file: its text after any front matter and leading `# title`, which are its fields.
    The id is the file's path within the folder, or the front matter's `id_field` where it has one."""
    offset = 0
    codec = codecs.lookup(encoding).name
    yield from _unreadable_folders(folder)
    for file in entry_files(folder):
        entry_id = file.relative_to(folder).as_posix()
        if SURROGATE.search(entry_id):
            yield InputError(file, None, "the file name is not valid UTF-8 text; rename the file")
            continue
        try:
            if not stat.S_ISREG(file.stat().st_mode):  # a FIFO or device would block or never end
                yield InputError(file, None, "not a regular file; skipped")
                continue
            data = file.read_bytes()
        except OSError as err:
            reason = "a broken link" if isinstance(err, FileNotFoundError) else err.strerror or type(err).__name__
            yield InputError(file, None, f"cannot be read ({reason}); skipped")
            continue
        offset += len(data)
        problem = _not_text(data[:SNIFF_BYTES], codec) or _missing_bom(data, codec)
        if problem:
            yield InputError(file, None, problem)
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
        record = note_record(text, file)
        if isinstance(record, InputError):
            yield record
            continue
        record[id_field] = record.get(id_field) or entry_id
        yield _to_row(file, None, record, "text", id_field, keep_fields, offset)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
