"""Per-label precision, recall, F1 and support, with micro and macro averages, as plain dicts."""

from __future__ import annotations

import numpy as np

from unstuck.data.taxonomy import LABEL_IDS

THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.05), 2)


def label_matrix(label_lists) -> np.ndarray:
    """Binary indicator matrix, columns in taxonomy order."""
    index = {k: i for i, k in enumerate(LABEL_IDS)}
    Y = np.zeros((len(label_lists), len(LABEL_IDS)), dtype=int)
    for row, labels in enumerate(label_lists):
        for label in labels:
            Y[row, index[label]] = 1
    return Y


def scores(Y_true: np.ndarray, Y_pred: np.ndarray) -> dict:
    """{"labels": {id: {precision, recall, f1, support, tp, fp, fn, tn}}, "micro": {...}, "macro": {...}}."""
    per_label = {}
    for k, label in enumerate(LABEL_IDS):
        t, p = Y_true[:, k].astype(bool), Y_pred[:, k].astype(bool)
        counts = {"tp": int((t & p).sum()), "fp": int((~t & p).sum()), "fn": int((t & ~p).sum()), "tn": int((~t & ~p).sum())}
        per_label[label] = {**_prf(counts["tp"], counts["fp"], counts["fn"]), "support": int(t.sum()), **counts}
    totals = {c: sum(v[c] for v in per_label.values()) for c in ("tp", "fp", "fn")}
    micro = {**_prf(totals["tp"], totals["fp"], totals["fn"]), "support": int(Y_true.sum())}
    present = [v for v in per_label.values() if v["support"] > 0] or list(per_label.values())
    macro = {m: float(np.mean([v[m] for v in present])) for m in ("precision", "recall", "f1")}
    macro["support"] = int(Y_true.sum())
    untagged, tagged = Y_true.sum(axis=1) == 0, Y_true.sum(axis=1) > 0
    entries = {
        # what a user notices: an entry with no barrier shown one anyway, a barrier entry shown none
        "untagged": int(untagged.sum()),
        "untagged_given_a_tag": float(Y_pred[untagged].any(axis=1).mean()) if untagged.any() else 0.0,
        "tagged_given_none": float((~Y_pred[tagged].any(axis=1)).mean()) if tagged.any() else 0.0,
    }
    return {"labels": per_label, "micro": micro, "macro": macro, "entries": entries, "n": int(len(Y_true))}


def tune_thresholds(Y_true: np.ndarray, P: np.ndarray, beta: float = 1.0) -> dict[str, float]:
    """Per label, the grid threshold with the best F-beta on these (out-of-fold) probabilities;
    beta below 1 weighs precision above recall."""
    thresholds = {}
    for k, label in enumerate(LABEL_IDS):
        best, best_score = 0.5, -1.0
        for threshold in THRESHOLD_GRID:
            pred = P[:, k] >= threshold
            tp = int((pred & (Y_true[:, k] == 1)).sum())
            score = _f_beta(_prf(tp, int(pred.sum()) - tp, int(Y_true[:, k].sum()) - tp), beta)
            if score > best_score + 1e-9:
                best, best_score = float(threshold), score
        thresholds[label] = best
    return thresholds


def _f_beta(prf: dict, beta: float) -> float:
    precision, recall = prf["precision"], prf["recall"]
    weighted = beta * beta * precision + recall
    return (1 + beta * beta) * precision * recall / weighted if weighted else 0.0


def apply_thresholds(P: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    return (P >= np.array([thresholds[k] for k in LABEL_IDS])).astype(int)


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
