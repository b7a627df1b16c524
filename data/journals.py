"""Journal exports as people have them: notes with YAML front matter and a `# title`, Day One-style
JSON exports, and plain-text journals with one entry under each date heading. Turns each into plain
records ({field: value, ..., "text": the entry}); `unstuck.data.formats` makes rows of them.

Front matter and titles are fields, never entry text. Messages name the file and line, never the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Iterator

from unstuck.data.dates import heading_date
from unstuck.data.errors import InputError

FENCE = re.compile(r"---[ \t]*")
FENCE_END = re.compile(r"(?:---|\.\.\.)[ \t]*")
FIELD = re.compile(r"([A-Za-z_][\w .-]*?)[ \t]*:(?:[ \t]+(.*?))?[ \t]*")
LIST_ITEM = re.compile(r"[ \t]+-[ \t]+(.*?)[ \t]*|-[ \t]+(.*?)[ \t]*")
TITLE = re.compile(r"#[ \t]+(\S.*?)[ \t#]*")
DATED_SNIFF_LINES = 2000
_WS = re.compile(r"\s*")


def note_record(text: str, path: str | Path) -> dict | InputError:
    """A note's fields: its front matter (the simple `key: value` subset of YAML: strings, quoted
    strings, [inline] and block lists), "title" from a leading `# title` line, and "text", the rest."""
    fields, body, line = front_matter(text, path)
    if isinstance(fields, InputError):
        return fields
    title, body = leading_title(body)
    if title is not None:
        fields["title"] = title
    if not body.strip():
        return InputError(path, None, "no entry text after the front matter and title")
    return {**fields, "text": body}


def front_matter(text: str, path: str | Path) -> tuple[dict | InputError, str, int]:
    """(fields, the text after the front matter, the 1-based line that text starts on). A note
    without front matter has no fields. A fence that never closes is an InputError."""
    lines = text.splitlines(keepends=True)
    if not lines or not FENCE.fullmatch(lines[0].rstrip("\r\n")):
        return {}, text, 1
    fields: dict = {}
    key = None
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r\n")
        if FENCE_END.fullmatch(line):
            return fields, "".join(lines[number:]), number + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = LIST_ITEM.fullmatch(line)
        if item and key is not None:
            if not isinstance(fields.get(key), list):
                fields[key] = []
            fields[key].append(_scalar(item[1] if item[1] is not None else item[2]))
            continue
        found = FIELD.fullmatch(line) if not line[0].isspace() else None
        if found:  # anything else (nested maps, folded text) is front matter too, just not a field we read
            key = found[1].strip()
            fields[key] = _value(found[2] or "")
    return InputError(path, 1, "front matter opened here is never closed (no '---' line after it)"), "", 0


def _value(raw: str):
    if raw.startswith("[") and raw.endswith("]"):
        return [_scalar(part) for part in raw[1:-1].split(",") if part.strip()]
    return _scalar(raw) if raw else None


def _scalar(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return re.sub(r"\s+#.*$", "", raw)  # a trailing YAML comment


def leading_title(text: str) -> tuple[str | None, str]:
    """A leading `# title` line (after blank lines) and the text after it; (None, text) if none."""
    start = _WS.match(text).end()
    start = text.rfind("\n", 0, start) + 1  # the start of the first line with something on it
    end = text.find("\n", start)
    first = text[start:] if end < 0 else text[start:end]
    match = TITLE.fullmatch(first.rstrip("\r"))
    if not match:
        return None, text
    return match[1], "" if end < 0 else text[end + 1:]


# Day One-style exports: {"metadata": {...}, "entries": [{"uuid", "creationDate", "text", "tags", ...}]}

def dayone_records(path: str | Path, text: str) -> Iterator[tuple[int, object] | InputError]:
    """(line, entry) for each item of the top-level "entries" list, in order, with the line it starts
    on; an item that is not an object comes back as it is, for the caller to report. Raises InputError
    for a file that is not such an export or not valid JSON."""
    decoder = json.JSONDecoder(parse_constant=str)
    at = _skip(text, 0)
    if not text.startswith("{", at):
        raise InputError(path, _line(text, at), 'expected a Day One-style export, {"entries": [...]}; '
                         "for one JSON object a line, name the file .jsonl")
    at, found = _skip(text, at + 1), False
    while not text.startswith("}", at):
        key, at = _decode(decoder, text, at, path)
        at = _skip(text, at)
        if not isinstance(key, str) or not text.startswith(":", at):
            raise InputError(path, _line(text, at), "invalid JSON (expected a key and ':')")
        at = _skip(text, at + 1)
        if key == "entries" and text.startswith("[", at):
            found = True
            at = yield from _entries(decoder, text, _skip(text, at + 1), path)
        else:
            _, at = _decode(decoder, text, at, path)
        at = _past_comma(text, at, "}", path)
    if not found:
        raise InputError(path, None, 'no "entries" list; expected a Day One-style export, {"entries": [...]}')


def _entries(decoder: json.JSONDecoder, text: str, at: int, path) -> Iterator[tuple[int, object]]:
    while not text.startswith("]", at):
        line = _line(text, at)
        entry, at = _decode(decoder, text, at, path)
        yield line, entry
        at = _past_comma(text, at, "]", path)
    return at + 1


def _past_comma(text: str, at: int, closer: str, path) -> int:
    """Where the next item of an object or list starts (or its `closer`), after the one ending at `at`."""
    at = _skip(text, at)
    if text.startswith(",", at):
        return _skip(text, at + 1)
    if not text.startswith(closer, at):
        raise InputError(path, _line(text, at), f"invalid JSON (expected ',' or '{closer}')")
    return at


def _decode(decoder: json.JSONDecoder, text: str, at: int, path) -> tuple[object, int]:
    try:
        return decoder.raw_decode(text, at)
    except json.JSONDecodeError as err:
        raise InputError(path, err.lineno, f"invalid JSON ({err.msg}, column {err.colno})") from None
    except RecursionError:
        raise InputError(path, _line(text, at), "JSON nested too deeply to read") from None
    except ValueError:  # an integer of thousands of digits
        raise InputError(path, _line(text, at), "a number too long to read") from None


def _skip(text: str, at: int) -> int:
    return _WS.match(text, at).end()


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


# Plain-text journals: a date heading line, then the entry's lines, until the next heading.

def looks_dated(handle: IO[str]) -> bool:
    """Whether a plain-text journal holds entries under date headings: its first line with anything on
    it is a date heading, and another follows (read from the first lines only)."""
    headings, first = 0, True
    for number, line in enumerate(handle):
        if number >= DATED_SNIFF_LINES or headings >= 2:
            break
        if not line.strip():
            continue
        is_heading = heading_date(line.strip()) is not None
        if first and not is_heading:
            return False
        first, headings = False, headings + is_heading
    return headings >= 2


def dated_entries(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str | None, str, list[int]]]:
    """(line of the heading, the date as written, the entry's text, its lines) for each entry, from
    (line number, line without its end) pairs. Text before the first heading is an entry without a date."""
    heading_line, written, body, numbers = 1, None, [], []
    for number, line in lines:
        day = heading_date(line.strip()) if line.strip() else None
        if day is None:
            body.append(line)
            numbers.append(number)
            continue
        if "\n".join(body).strip() or written is not None:
            yield heading_line, written, "\n".join(body).strip("\n"), numbers
        heading_line, written, body, numbers = number, day, [], []
    if "\n".join(body).strip() or written is not None:
        yield heading_line, written, "\n".join(body).strip("\n"), numbers
