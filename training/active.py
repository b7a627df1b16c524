"""Which unlabeled entries would teach the model most: uncertainty sampling near the thresholds."""

from __future__ import annotations

import heapq
from typing import Iterable


def uncertainty(scores: dict[str, float], thresholds: dict[str, float]) -> tuple[float, str]:
    """How close the entry sits to some label's threshold (0 = on it), and that label."""
    margin, label = min((abs(scores[k] - thresholds[k]), k) for k in scores)
    return margin, label


def most_informative(tagged: Iterable, thresholds: dict[str, float], n: int) -> list[dict]:
    """The n entries closest to a decision threshold, most uncertain first, ready to label (`labels`
    is None until someone answers)."""
    heap: list[tuple[float, int, dict]] = []
    for position, item in enumerate(tagged):
        margin, label = uncertainty(item.tagging.scores, thresholds)
        # "labels": null, not []: an unfilled row must never be read as "no barrier" (see training/examples.py)
        record = {"id": item.row.id, "text": item.row.text, "labels": None,
                  "unsure_about": label, "score": round(item.tagging.scores[label], 4)}
        entry = (-margin, -position, record)
        if len(heap) < n:
            heapq.heappush(heap, entry)
        elif entry > heap[0]:
            heapq.heapreplace(heap, entry)
    return [record for _, _, record in sorted(heap, key=lambda e: (e[0], e[1]), reverse=True)]
