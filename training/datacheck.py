"""`unstuck data check`: what `spacy debug data` does for spaCy, for our labeled files.

Errors (exit 2): schema problems, unknown labels, exact duplicates, entries in both splits; for the
shipped crisis cases, bad rows, duplicates, and any case that is also in the blind test half.
Warnings: near duplicates, very short texts, rare labels, labels with no negatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unstuck.data.errors import InputError
from unstuck.data.examples import Example, normalise, read_examples
from unstuck.data.taxonomy import LABEL_IDS

MIN_PER_LABEL = 80
SHORT_WORDS = 3
NEAR_DUPLICATE_WORDS = 8


@dataclass
class DataReport:
    examples: list[Example]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    suspects: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"n": len(self.examples), "errors": self.errors, "warnings": self.warnings,
                "counts": self.counts, "suspects": self.suspects}

    def render(self) -> str:
        c = self.counts
        lines = [f"{len(self.examples)} entries; {c['no_label']} with no tag; {c['multi_label']} with 2+ tags; "
                 f"groups: {', '.join(f'{k} {v}' for k, v in c['groups'].items())}", "", "entries per tag:"]
        lines += [f"  {k:<22}{v:>6}" for k, v in c["labels"].items()]
        if c.get("real_labels"):
            lines += ["", "real text labeled (ids and labels; texts rebuilt by unstuck.training.real_sources): "
                          + ", ".join(f"{k} {v}" for k, v in c["real_labels"].items())]
        if "crisis_cases" in c:
            lines += ["", f"crisis cases (for the crisis screen's classifier): {c['crisis_cases']['at_risk']} at risk, "
                          f"{c['crisis_cases']['not_at_risk']} look-alikes"]
        lines += [""] + [f"error: {e}" for e in self.errors] + [f"warning: {w}" for w in self.warnings]
        if self.suspects:
            lines += ["", "labels to double-check (given vs cross-validated prediction):"]
            lines += [f"  {s.get('file') or s['id']} \"{s.get('text', '')}\": given {', '.join(s['labels']) or '-'}; "
                      f"model says {', '.join(s['predicted']) or '-'} (disagreement {s['disagreement']:.2f})"
                      for s in self.suspects]
        lines.append(f"\n{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


def check_data(path: Path | None = None, tests: Path | None = None) -> DataReport:
    """`tests`: a folder of crisis test sets (tests/data in the repository) that no crisis case may share."""
    if path is None:
        from unstuck.training.workflow import all_examples

        examples, errors = all_examples(), []
    else:
        result = read_examples(Path(path), source="seed")
        examples, errors = result.examples, [str(e) for e in result.errors]
    report = DataReport(examples, errors=errors)
    _duplicates(report)
    _split_overlap(report)
    _balance(report)
    _held_out(report)
    if path is None:
        _crisis_cases(report, tests)
        _real_labels(report)
    return report


def _held_out(report: DataReport) -> None:
    """No training entry may come from an item held out for independent evaluation (shared/holdout)."""
    from unstuck.data.real import held_out_reason

    for example in report.examples:
        reason = held_out_reason(example.id)
        if reason:
            report.errors.append(f"{example.id}: {reason}; it may not be used for training or tuning")


def _real_labels(report: DataReport) -> None:
    """The labels of real text (data/real/*.jsonl, ids only): well-formed, known tags, no held-out id."""
    from unstuck.data.formats import read_records
    from unstuck.data.real import REAL_DIR, held_out_reason

    seen: dict[str, str] = {}
    counts: dict[str, int] = {}
    for path in sorted(REAL_DIR.glob("*.jsonl")):
        for item in read_records(path, encoding_option=False):
            line, row = (item.line, None) if isinstance(item, InputError) else item
            where = f"real/{path.name}:{line}"
            ok = (isinstance(row, dict) and isinstance(row.get("id"), str) and isinstance(row.get("labels"), list)
                  and isinstance(row.get("crisis"), bool) and isinstance(row.get("safety"), bool)
                  and isinstance(row.get("barrier", True), bool))
            if not ok:
                report.errors.append(f'{where}: expected {{"id": "...", "labels": [...], "crisis": bool, "safety": bool}} '
                                     '(and optionally "barrier": false)')
                continue
            unknown = [x for x in row["labels"] if x not in LABEL_IDS]
            if unknown:
                report.errors.append(f"{where}: unknown label(s) {', '.join(map(str, unknown))}")
            if held_out_reason(row["id"]):
                report.errors.append(f"{where}: {row['id']} is {held_out_reason(row['id'])}; it may not be used")
            if row["id"] in seen:
                report.errors.append(f"{where}: {row['id']} is also {seen[row['id']]}")
            seen[row["id"]] = where
            counts[path.stem] = counts.get(path.stem, 0) + 1
    report.counts["real_labels"] = counts


def _crisis_cases(report: DataReport, tests: Path | None) -> None:
    """The crisis model's cases: well-formed, no text twice, none shared with a test set."""
    from unstuck.data.errors import InputError
    from unstuck.data.formats import read_records
    from unstuck.training.crisis import CASES_DIR, test_sets

    seen: dict[str, str] = {}
    at_risk = not_at_risk = 0
    blind_tests = test_sets(tests)
    for path in [*sorted(CASES_DIR.glob("*.jsonl")), *blind_tests]:
        blind = path in blind_tests
        for item in read_records(path, encoding_option=False):
            if isinstance(item, InputError):
                report.errors.append(f"{path.parent.name}/{path.name}:{item.line}: {item.reason}")
                continue
            line, case = item
            where = f"{path.parent.name}/{path.name}:{line}"
            if not (isinstance(case, dict) and isinstance(case.get("text"), str) and case["text"].strip()
                    and isinstance(case.get("crisis"), bool) and isinstance(case.get("kind"), str)):
                report.errors.append(f'{where}: expected {{"text": "...", "crisis": true/false, "kind": "..."}}')
                continue
            key = normalise(case["text"])
            if key in seen:
                what = "a blind test case is also a training case" if blind else "same text as"
                report.errors.append(f"{where}: {what} {seen[key]}")
                continue
            seen[key] = where
            if not blind:
                at_risk += case["crisis"]
                not_at_risk += not case["crisis"]
    report.counts["crisis_cases"] = {"at_risk": at_risk, "not_at_risk": not_at_risk}


def _duplicates(report: DataReport) -> None:
    exact: dict[str, str] = {}
    near: dict[str, str] = {}
    for example in report.examples:
        key = normalise(example.text)
        if key in exact:
            report.errors.append(f"{example.id}: same text as {exact[key]}")
            continue
        exact[key] = example.id
        words = key.split()
        if len(words) >= NEAR_DUPLICATE_WORDS:
            prefix = " ".join(words[:NEAR_DUPLICATE_WORDS])
            if prefix in near:
                report.warnings.append(f"{example.id}: starts like {near[prefix]} (near duplicate?)")
            near.setdefault(prefix, example.id)
        if len(words) < SHORT_WORDS:
            report.warnings.append(f"{example.id}: very short text ({len(words)} word(s))")
    ids = [e.id for e in report.examples]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        report.errors.append(f"id {dup!r} is used more than once")


def _split_overlap(report: DataReport) -> None:
    from unstuck.training.train import split_examples

    split = split_examples(report.examples)
    test_keys = {normalise(e.text): e.id for e in split.test}
    for example in split.train:
        if normalise(example.text) in test_keys:
            report.errors.append(f"{example.id}: also in the held-out split as {test_keys[normalise(example.text)]}")


def _balance(report: DataReport) -> None:
    examples = report.examples
    counts = {k: sum(k in e.labels for e in examples) for k in LABEL_IDS}
    groups: dict[str, int] = {}
    for e in examples:
        groups[e.group] = groups.get(e.group, 0) + 1
    report.counts = {"labels": counts, "no_label": sum(not e.labels for e in examples),
                     "multi_label": sum(len(e.labels) >= 2 for e in examples), "groups": groups}
    for label, n in counts.items():
        if n < MIN_PER_LABEL:
            report.warnings.append(f"{label}: only {n} entries (aim for {MIN_PER_LABEL}+)")
        if examples and n == len(examples):
            report.warnings.append(f"{label}: on every entry, so it has no negatives")
    if counts and max(counts.values()) > 5 * max(1, min(counts.values())):
        report.warnings.append("imbalance: the most common tag has over 5x the entries of the rarest")


def suspect_labels(examples: list[Example], n: int, origins: dict[str, str] | None = None,
                   thresholds: dict[str, float] | None = None) -> list[dict]:
    """Entries whose labels disagree most with cross-validated predictions (the simple cleanlab idea),
    each with its "file:line" (from `origins`, keyed by normalised text) and the start of its text.
    A prediction is a tag whose score reaches its threshold: `thresholds`, else thresholds tuned on
    these same out-of-fold scores as training tunes them (another model's would not fit these scores)."""
    from unstuck.training.examples import text_start
    from unstuck.training.metrics import label_matrix, tune_thresholds
    from unstuck.training.train import DEFAULT_CONFIG, featurize, out_of_fold

    Y = label_matrix([e.labels for e in examples])
    P = out_of_fold(DEFAULT_CONFIG, featurize([e.text for e in examples]), Y, folds=5)
    if thresholds is None:
        thresholds = tune_thresholds(Y, P, DEFAULT_CONFIG.threshold_beta)
    disagreement = np.abs(Y - P).max(axis=1)
    ranked = []
    for i in np.argsort(-disagreement)[:n]:
        predicted = [k for k, p in zip(LABEL_IDS, P[i]) if p >= thresholds[k]]
        ranked.append({"id": examples[i].id, "file": (origins or {}).get(normalise(examples[i].text), ""),
                       "text": text_start(examples[i].text), "labels": list(examples[i].labels),
                       "predicted": predicted, "disagreement": float(disagreement[i])})
    return ranked
