"""The examples a user added (their data): listing, removing, relabelling, and refusing unanswered rows.

Light on purpose (no spaCy, no scikit-learn) so that `unstuck examples` answers at once. Returns
values and raises InputError; never prints. Text is only returned to the caller, never logged.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from unstuck.data import SEED_DIR
from unstuck.data.errors import InputError, UnstuckError
from unstuck.data.examples import Example, load_seed, normalise, read_examples, too_long, write_examples
from unstuck.data.formats import read_records
from unstuck.data.home import examples_dir

KEY_CHARS = 8
UNANSWERED = ('no answer yet ("labels" is null or missing); fill in the tag ids, or [] for "no barrier", '
              "or delete the line")


class UnknownExample(UnstuckError, LookupError):
    """No added example (or more than one) goes by the id given; the message says what to do."""


@dataclass(frozen=True)
class AddedExample:
    """One example in the user's data directory, with a short key that names it in `unstuck examples`."""
    key: str
    example: Example
    file: Path

    @property
    def line(self) -> int | None:
        return self.example.line


@dataclass(frozen=True)
class Relabel:
    old: AddedExample
    new: Example


@dataclass
class Additions:
    """A file of new examples sorted out: what is new, what corrects an added one, and what is wrong."""
    examples: list[Example] = field(default_factory=list)
    relabels: list[Relabel] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def example_key(text: str) -> str:
    """A short id that stays the same for the same text, whatever file or line it is on."""
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:KEY_CHARS]


def added_examples() -> list[AddedExample]:
    """Every example the user added, oldest file first, in file order."""
    found = []
    for path in sorted(examples_dir().glob("*.jsonl")):
        result = read_examples(path, source="user")
        if result.errors:
            raise result.errors[0]
        found += [AddedExample(example_key(e.text), e, path) for e in result.examples]
    return found


def find_added(key: str) -> AddedExample:
    matches = [a for a in added_examples() if a.key == key.strip().lower() or a.example.id == key]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UnknownExample(f"no added example {key!r}; see `unstuck examples` for the ids")
    raise UnknownExample(f"{key!r} names {len(matches)} examples; use the id `unstuck examples` shows")


def remove_added(key: str) -> AddedExample:
    """Take one added example out of its file (the file goes when it is empty)."""
    target = find_added(key)
    _rewrite_without(target.file, {normalise(target.example.text)})
    return target


def sort_new(path: Path) -> Additions:
    """Read a file of new examples: rows with no answer and duplicates of the seed set are errors, a
    text already added with the same labels is an error, and with other labels it is a correction."""
    path = Path(path)
    result = read_examples(path, source="user")
    unanswered = _unanswered_lines(path)
    additions = Additions(errors=[e for e in result.errors if e.line not in unanswered])
    additions.errors += [InputError(path, line, UNANSWERED) for line in sorted(unanswered)]
    from unstuck.model.nlp import MAX_CHARS  # here: `unstuck examples` must not load spaCy

    oversize = too_long(path, result.examples, MAX_CHARS)  # stored, it would break every later training run
    additions.errors += oversize
    result.examples = [e for e in result.examples if e.line not in {error.line for error in oversize}]
    seed = {normalise(e.text) for e in load_seed()}
    added = {normalise(a.example.text): a for a in added_examples()}
    for example in result.examples:
        key = normalise(example.text)
        old = added.get(key)
        if key in seed or (old and set(old.example.labels) == set(example.labels)):
            additions.errors.append(InputError(path, example.line, "duplicate of an example already in the training data"))
        elif old:
            additions.relabels.append(Relabel(old, example))
        else:
            additions.examples.append(example)
    additions.errors.sort(key=lambda e: e.line or 0)
    return additions


def drop_replaced(relabels: list[Relabel]) -> None:
    """Remove the old rows of corrected examples (after their new labels are stored)."""
    by_file: dict[Path, set[str]] = {}
    for relabel in relabels:
        by_file.setdefault(relabel.old.file, set()).add(normalise(relabel.old.example.text))
    for path, keys in by_file.items():
        _rewrite_without(path, keys)


def example_origins(path: Path | None = None) -> dict[str, str]:
    """Normalised text -> "file:line" for the seed set and the added examples, or for one file."""
    files = [Path(path)] if path else sorted(SEED_DIR.glob("*.jsonl")) + sorted(examples_dir().glob("*.jsonl"))
    origins: dict[str, str] = {}
    for file in files:
        shown = file.name if path is None and file.parent == examples_dir() else (
            f"seed/{file.name}" if path is None else str(file))
        for example in read_examples(file).examples:
            origins.setdefault(normalise(example.text), f"{shown}:{example.line}")
    return origins


def text_start(text: str, width: int = 40) -> str:
    """The start of an entry, on one line and safe to print to a terminal (no control or bidi
    characters that could move the cursor or reverse what follows)."""
    shown = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    shown = " ".join(shown.split())
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _unanswered_lines(path: Path) -> set[int]:
    """JSONL lines whose "labels" is null or missing: `unstuck suggest` output not yet filled in."""
    if path.suffix.lower() != ".jsonl":
        return set()
    return {item[0] for item in read_records(path, encoding_option=False)
            if not isinstance(item, InputError) and item[1].get("labels") is None}


def _rewrite_without(path: Path, keys: set[str]) -> None:
    kept = [replace(e, line=None) for e in read_examples(path, source="user").examples if normalise(e.text) not in keys]
    if not kept:
        path.unlink()
        return
    write_examples(path, kept)
