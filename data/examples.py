"""Labeled examples: reading and validating `.jsonl` / `.csv` files of `text` + `labels`.

Validation collects every problem with its line number; messages never quote entry text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from unstuck.data import SEED_DIR
from unstuck.data.errors import InputError
from unstuck.data.formats import MAX_DEPTH, SURROGATE, describe_columns, field_names, nesting_depth, read_records
from unstuck.data.output import atomic_output
from unstuck.data.taxonomy import LABEL_IDS


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    labels: tuple[str, ...]
    source: str = "seed"
    group: str = ""
    line: int | None = field(default=None, compare=False)


@dataclass
class ReadResult:
    examples: list[Example] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def normalise(text: str) -> str:
    """Text folded for duplicate detection: lower case, letters and digits only, single spaces."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def read_examples(path: Path, source: str = "user") -> ReadResult:
    """Read a labeled file, keeping every valid row and an InputError for every bad one."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "file not found")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise InputError(path, None, f"unsupported file type {suffix!r}; use .jsonl or .csv")
    if suffix == ".csv":
        _check_columns(path)
    result = ReadResult()
    seen: dict[str, int] = {}
    for item in read_records(path, encoding_option=False):
        if isinstance(item, InputError):
            result.errors.append(item)
            continue
        line, row = item
        try:
            example = _to_example(path, line, row, source)
        except InputError as err:
            result.errors.append(err)
            continue
        key = normalise(example.text)
        if key in seen:
            result.errors.append(InputError(path, line, f"duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        result.examples.append(example)
    return result


def too_long(path: Path, examples: Iterable[Example], limit: int) -> list[InputError]:
    """An InputError for each example longer than `limit` characters (which the tagger would refuse)."""
    return [InputError(path, ex.line, f"entry is {len(ex.text):,} characters; the limit is {limit:,} (split it "
                       "into several entries)") for ex in examples if len(ex.text) > limit]


def load_seed(seed_dir: Path = SEED_DIR) -> list[Example]:
    """The shipped seed set; any error in it is a bug in the package, so raise the first."""
    examples: list[Example] = []
    for path in sorted(Path(seed_dir).glob("*.jsonl")):
        result = read_examples(path, source="seed")
        if result.errors:
            raise result.errors[0]
        examples.extend(result.examples)
    return examples


def data_hash(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for ex in examples:
        digest.update(json.dumps([ex.id, ex.text, sorted(ex.labels), ex.source], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def write_examples(path: Path, examples: Iterable[Example]) -> None:
    """Labeled examples as JSON Lines, through `atomic_output`: a half-written file never stays behind."""
    with atomic_output(str(path)) as out:
        for ex in examples:
            row = {"id": ex.id, "text": ex.text, "labels": list(ex.labels), "source": ex.source, "group": ex.group}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _check_columns(path: Path) -> None:
    fields = field_names(path)
    for needed in ("text", "labels"):
        if needed not in fields:
            raise InputError(path, 1, f'no "{needed}" column; {describe_columns(fields)}')


def _to_example(path: Path, line: int, row: dict, source: str) -> Example:
    if nesting_depth(row) > MAX_DEPTH:
        raise InputError(path, line, f"JSON nested too deeply to read (over {MAX_DEPTH} levels)")
    if any(SURROGATE.search(v) for v in _strings(row)):
        raise InputError(path, line, "holds an escaped lone surrogate (such as \\ud800), which is not text")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(path, line, 'empty or missing "text"')
    labels = row.get("labels")
    if isinstance(labels, str):
        labels = [s.strip() for s in labels.split(";") if s.strip()]
    if not isinstance(labels, list):
        raise InputError(path, line, '"labels" must be a list of label ids')
    unknown = [str(x) for x in labels if x not in LABEL_IDS]
    if unknown:
        raise InputError(path, line, f"unknown label(s): {', '.join(unknown)}; see `unstuck labels`")
    if len(set(labels)) != len(labels):
        raise InputError(path, line, "a label is listed twice")
    ex_id = str(row.get("id") or f"{path.stem}:{line}")
    return Example(
        id=ex_id,
        text=text,
        labels=tuple(labels),
        source=str(row.get("source") or source),
        group=str(row.get("group") or source),
        line=line,
    )


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
