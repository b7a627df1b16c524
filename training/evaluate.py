"""Score a model on labeled examples: per-label metrics, 2x2 confusion, and its worst mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from unstuck.data.examples import Example
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.training.metrics import label_matrix, scores


@dataclass
class Evaluation:
    metrics: dict
    errors: list[dict]


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
