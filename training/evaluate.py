"""Score a model on labeled examples: per-label metrics, 2x2 confusion, and its worst mistakes.
Returns values; never prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from unstuck.data.errors import InputError
from unstuck.data.examples import Example, read_examples, too_long
from unstuck.data.output import JsonlWriter, atomic_output, check_output
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.training.metrics import label_matrix, scores


@dataclass
class Evaluation:
    metrics: dict
    errors: list[dict]


def labeled_examples(path: Path, errors_out: Path | None = None) -> list[Example]:
    """The examples of a labeled file to evaluate on; InputError at the first bad or over-long row, or
    for an `errors_out` that cannot be written, before any model is loaded."""
    from unstuck.model.nlp import MAX_CHARS

    if errors_out is not None:
        check_output(str(errors_out), path, (".jsonl",), option="--errors-out")
    data = read_examples(path)
    problems = data.errors + too_long(path, data.examples, MAX_CHARS)
    if problems:
        raise min(problems, key=lambda e: e.line or 0)
    if not data.examples:
        raise InputError(path, None, "no examples")
    return data.examples


def evaluate_into(tagger, examples: Sequence[Example], errors_out: Path | None = None) -> Evaluation:
    """`evaluate`, with every mistake also written to `errors_out` (JSON Lines, atomically)."""
    result = evaluate(tagger, examples)
    if errors_out is not None:
        with atomic_output(str(errors_out)) as handle:
            writer = JsonlWriter(handle)
            for row in result.errors:
                writer.write(row)
    return result


def evaluate(tagger, examples: Sequence[Example]) -> Evaluation:
    """Run the tagger on the examples; errors are sorted by how far the scores were from the truth."""
    taggings = list(tagger.tag_many([e.text for e in examples]))
    Y_true = label_matrix([e.labels for e in examples])
    Y_pred = label_matrix([t.labels for t in taggings])
    errors = []
    for example, tagging in zip(examples, taggings):
        missed = [k for k in example.labels if k not in tagging.labels]
        extra = [k for k in tagging.labels if k not in example.labels]
        if not (missed or extra):
            continue
        loss = sum(1 - tagging.scores[k] for k in missed) + sum(tagging.scores[k] for k in extra)
        errors.append({
            "id": example.id, "text": example.text, "labels": list(example.labels),
            "predicted": tagging.labels, "missed": missed, "extra": extra, "loss": round(loss, 4),
            "scores": {k: round(tagging.scores[k], 4) for k in LABEL_IDS},
        })
    errors.sort(key=lambda e: -e["loss"])
    metrics = scores(Y_true, Y_pred)
    for key, field in (("by_source", "source"), ("by_group", "group")):
        values = [getattr(e, field) for e in examples]
        if len(set(values)) > 1:
            metrics[key] = {v: scores(Y_true[mask], Y_pred[mask])
                            for v in sorted(set(values)) for mask in [np.array(values) == v]}
    return Evaluation(metrics, errors)
