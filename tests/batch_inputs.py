"""Entries and JSON Lines helpers shared by the batch tests (tests/test_batch.py, tests/test_distributed.py)."""

from __future__ import annotations

import json

ENTRIES = [
    "I keep cancelling sessions because work is insane.",
    "I'm scared to tell my therapist what really happened.",
    "We never agreed on what we are working on.",
    "Had a few drinks before the session again.",
]


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def tagged_entry(entry_id, line, labels, scores, crisis, crisis_matches=(), evidence=None, text=None, date=None):
    """A tagged entry built by hand, with the arguments the report's old `Entry` record took."""
    from unstuck.data.records import Row, Tagged, Tagging

    tagging = Tagging(list(labels), dict(scores), crisis, list(crisis_matches), dict(evidence or {}))
    return Tagged(Row(line, entry_id, text), tagging, date=date)
