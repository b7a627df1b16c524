"""The records every room passes along: an entry as read (`Row`), a stretch of its text (`Span`), what
the model says about it (`Tagging`), and the tagged entry (`Tagged`). Plain data: nothing here reads,
writes or tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from unstuck.data.resources import HelpLine


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of an entry, with `text == entry[start:end]` (start -1: offsets unknown,
    as in batch output of an older version). A crisis or safety match also names its `rule` and `kind`;
    evidence carries the `weight` that ranked it."""

    start: int
    end: int
    text: str
    rule: str | None = None
    kind: str = ""
    weight: float = field(default=0.0, compare=False)

    def as_dict(self) -> dict:
        where = {"start": self.start, "end": self.end, "text": self.text}
        return where if self.rule is None else {"rule": self.rule, "kind": self.kind, **where}


@dataclass
class Row:
    """One entry to tag: where it came from (file and 1-based line), its id, text and kept fields.
    `text` is None for an entry read back from batch output that did not keep it."""

    line: int | None
    id: str
    text: str | None
    kept: dict = field(default_factory=dict)
    path: str = ""
    offset: int = 0  # bytes of input read when this row was produced, for progress


@dataclass
class Tagging:
    """What the model says about one text."""

    labels: list[str]
    scores: dict[str, float]
    crisis: bool
    crisis_matches: list[Span] = field(default_factory=list)
    evidence: dict[str, list[Span]] = field(default_factory=dict)
    safety: bool = False  # someone is hurting the writer now (see model/safety.py)
    safety_matches: list[Span] = field(default_factory=list)
    resources: list[HelpLine] = field(default_factory=list)  # the help lines to show; empty unless flagged

    def as_dict(self, evidence: bool = False) -> dict:
        out = {
            "labels": list(self.labels),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "crisis": self.crisis,
            "crisis_matches": [m.as_dict() for m in self.crisis_matches],
            "safety": self.safety,
            "safety_matches": [m.as_dict() for m in self.safety_matches],
            "resources": [line.as_dict() for line in self.resources],
        }
        if evidence:
            out["evidence"] = {k: [e.as_dict() for e in v] for k, v in self.evidence.items()}
        return out


@dataclass
class Tagged:
    """A tagged entry: the row, its tagging, and (for the report) the date read from a kept field."""

    row: Row
    tagging: Tagging
    date: date | None = None
    date_error: str | None = None  # why the date could not be read; the entry stays off the timeline

    def as_dict(self, evidence: bool = False) -> dict:
        """The output record: id, labels, scores, crisis, crisis_matches, [evidence,] kept fields."""
        return {"id": self.row.id, **self.tagging.as_dict(evidence=evidence), **self.row.kept}

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def line(self) -> int | None:
        return self.row.line

    @property
    def path(self) -> str:
        return self.row.path

    @property
    def text(self) -> str | None:
        return self.row.text

    @property
    def labels(self) -> list[str]:
        return self.tagging.labels

    @property
    def scores(self) -> dict[str, float]:
        return self.tagging.scores

    @property
    def crisis(self) -> bool:
        return self.tagging.crisis

    @property
    def crisis_matches(self) -> list[Span]:
        return self.tagging.crisis_matches

    @property
    def evidence(self) -> dict[str, list[Span]]:
        return self.tagging.evidence
