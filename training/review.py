"""The answers given in `unstuck review`: kept in the user's data directory as they are given (one JSON
line per answer or undo, so a crash or Ctrl-C loses nothing), replayed to resume, and turned into
examples to train on. Also which entries to review first. Returns values; never prints.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from unstuck.data.errors import InputError
from unstuck.data.examples import Example, normalise
from unstuck.data.formats import read_records
from unstuck.data.home import home
from unstuck.training.active import uncertainty
from unstuck.training.examples import added_examples, example_key

if TYPE_CHECKING:
    from unstuck.training.workflow import Retraining

NEAR_DUPLICATE = 0.8  # word-set overlap (Jaccard) above which two picks count as the same entry


@dataclass(frozen=True)
class Answer:
    key: str
    id: str
    text: str
    labels: tuple[str, ...]

    def as_example(self) -> Example:
        return Example(f"review-{self.key}", self.text, self.labels, "user", "review")


def answers_path() -> Path:
    return home() / "review" / "answers.jsonl"


class AnswerLog:
    """The answers file: appended to (and flushed to disk) as each answer or undo is given."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or answers_path()

    def load(self) -> dict[str, Answer]:
        """The answers standing now, by key, in the order they were given."""
        answers: dict[str, Answer] = {}
        try:
            records = read_records(self.path, encoding_option=False)
        except FileNotFoundError:
            return answers
        for item in records:
            if isinstance(item, InputError):
                continue  # a line cut short by a crash: the answer before it still stands
            row = item[1]
            if row.get("undo"):
                answers.pop(row.get("key"), None)
            elif isinstance(row.get("labels"), list):
                answers.pop(row["key"], None)
                answers[row["key"]] = Answer(row["key"], str(row.get("id", "")), row["text"], tuple(row["labels"]))
        return answers

    def answer(self, entry_id: str, text: str, labels: Iterable[str]) -> Answer:
        answer = Answer(example_key(text), entry_id, text, tuple(labels))
        self._append({"key": answer.key, "id": entry_id, "text": text, "labels": list(answer.labels)})
        return answer

    def undo(self, key: str) -> None:
        self._append({"key": key, "undo": True})

    def _append(self, row: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def retrain_on(answers: list[Example], **options) -> "Retraining":
    """Add the answers to the user's examples as `train --add` would (skipping any that are invalid)
    and retrain; `options` as `unstuck.training.workflow.retrain` takes them."""
    from unstuck.data.examples import write_examples
    from unstuck.training.workflow import retrain

    staged = answers_path().with_name("review.jsonl")
    write_examples(staged, answers)
    try:
        return retrain(staged, skip_invalid=True, **options)
    finally:
        staged.unlink(missing_ok=True)


def not_yet_added(answers: Iterable[Answer]) -> list[Example]:
    """Answers that would change the training data: new texts, or new labels for an added text."""
    added = {normalise(a.example.text): set(a.example.labels) for a in added_examples()}
    return [a.as_example() for a in answers if added.get(normalise(a.text)) != set(a.labels)]


def pick_entries(tagged: Iterable, thresholds: dict[str, float], n: int) -> list:
    """The n tagged entries the model is least sure about, most uncertain first, skipping any entry
    that is nearly the same as one already picked."""
    ranked = sorted(tagged, key=lambda item: uncertainty(item.tagging.scores, thresholds)[0])
    picked, words = [], []
    for item in ranked:
        these = set(normalise(item.row.text).split())
        if any(_overlap(these, other) >= NEAR_DUPLICATE for other in words):
            continue
        picked.append(item)
        words.append(these)
        if len(picked) == n:
            break
    return picked


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0
