"""Build the crisis screen's second net: a small classifier over words and character n-grams that
scores each window of an entry (every run of one to three sentences, and the whole entry).

The rules in data/crisis_patterns.toml catch the phrasings someone thought of; this model learns
from the crisis cases in data/crisis/*.jsonl (entries at risk, and figurative, denied, resolved and
off-topic look-alikes), from the seed set (ordinary journal entries, none at risk) and, with
`--real DIR`, from labeled real posts kept outside the repository. It can only ADD a flag to what the
rules find. Window-shaped training, so that one sentence in a long entry counts in full:

1. the vectorizers are fitted on whole entries (so the vocabulary, and the file, do not grow);
2. a first model, on whole entries, picks the window of each entry at risk that reads most at risk;
3. the model is trained on the whole entries, those windows (at risk), and every window of each
   look-alike and every sentence of each ordinary entry (not at risk).

Its threshold is chosen by cross-validation on that data alone, scoring held-out entries window by
window as the screen does:

    python -m unstuck.training.crisis                  # rebuild data/crisis/model.pickle.gz and model.json
    python -m unstuck.training.crisis --real DIR       # also train on DIR/*.jsonl ({"text", "crisis"})

The sets in tests/data/ are never trained on; the build reports the screen's recall and false alarms
on them when they are present (a source checkout).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline, make_union

from unstuck.data import DATA_DIR
from unstuck.data.examples import load_seed
from unstuck.model.crisis_model import META_FILE, MODEL_FILE, CrisisModel

CASES_DIR = DATA_DIR / "crisis"  # the shipped cases; the shipped model is written beside them

_TEST_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# Never trained or tuned on: the blind set's even half, a second blind set, a set of long entries and
# entries about other people, and a third blind set written after the window model was final.
BLIND_TESTS = (_TEST_DATA / "crisis_blind_test.jsonl", _TEST_DATA / "crisis_blind2_test.jsonl",
               _TEST_DATA / "crisis_long_others_test.jsonl", _TEST_DATA / "crisis_blind3_test.jsonl")
C = 16.0
ORDINARY_SPAN = 1  # an ordinary entry's windows of up to two sentences are learned as not at risk
# The threshold: the most entries at risk caught (cross-validated) while flagging at most 1% of
# ordinary entries and at most 20% of the look-alikes written to fool the screen.
MAX_ORDINARY_ALARMS, MAX_LOOKALIKE_ALARMS = 0.01, 0.20
GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)
WINDOW_GRID = np.round(np.concatenate([GRID, np.arange(0.96, 0.995, 0.01)]), 2)  # windows need a high bar


@dataclass
class Corpus:
    """Entries to learn from: text, at risk, kind of row ("case", "real" or "ordinary"), and each
    entry's sentences (character spans), windows and the sentences the model may not flag."""

    texts: list[str]
    at_risk: np.ndarray
    kind: np.ndarray
    spans: list[list[tuple[int, int]]]
    windows: list[list[tuple[int, int]]]
    blocked: list[set[int]]

    def window_text(self, i: int, window: tuple[int, int]) -> str:
        (start, _), (_, end) = self.spans[i][window[0]], self.spans[i][window[1]]
        return self.texts[i][start:end]


def read_cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def read_real(directory: Path) -> list[dict]:
    """Labeled real posts: every *.jsonl in `directory`, rows with "text" and "crisis" (true/false).
    Kept outside the repository; nothing of them is written anywhere but the model."""
    from unstuck.data.errors import InputError

    rows = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for number, row in enumerate(read_cases(path), start=1):
            if not isinstance(row.get("text"), str) or row.get("crisis") not in (True, False, 0, 1):
                raise InputError(path, number, 'expected {"text": "...", "crisis": true/false}')
            rows.append({"text": row["text"], "crisis": bool(row["crisis"])})
    if not rows:
        raise InputError(directory, None, "no labeled posts (*.jsonl with text and crisis) found")
    return rows


def training_data(real: Path | None = None) -> Corpus:
    """The shipped cases, the seed set and, if given, the real posts in `real`, split into windows."""
    from unstuck.model.nlp import get_nlp
    from unstuck.model.safety import CrisisScreen, sentence_spans, windows_of

    cases = [case for path in sorted(CASES_DIR.glob("*.jsonl")) for case in read_cases(path)]
    posts = read_real(real) if real else []
    seed = load_seed()
    texts = [c["text"] for c in cases] + [p["text"] for p in posts] + [e.text for e in seed]
    at_risk = np.array([bool(c["crisis"]) for c in cases] + [p["crisis"] for p in posts] + [False] * len(seed))
    kind = np.array(["case"] * len(cases) + ["real"] * len(posts) + ["ordinary"] * len(seed))
    nlp = get_nlp()
    screen = CrisisScreen(nlp)
    spans, windows, blocked = [], [], []
    for doc in nlp.pipe(texts, batch_size=256):
        spans.append(sentence_spans(doc))
        windows.append(windows_of(len(spans[-1])))
        blocked.append(screen.blocked_sentences(doc))
    return Corpus(texts, at_risk, kind, spans, windows, blocked)


def build_vectorizers():
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
    return make_union(words, chars)


def build_classifier(seed: int = 0) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed)


def fit_windows(corpus: Corpus, rows: np.ndarray, seed: int = 0):
    """A fitted (union -> classifier) pipeline, trained window-shaped on the entries `rows`."""
    union = build_vectorizers().fit([corpus.texts[i] for i in rows])
    whole = union.transform([corpus.texts[i] for i in rows])
    first = build_classifier(seed).fit(whole, corpus.at_risk[rows])
    extra_texts, extra_labels = [], []
    for i in rows:
        parts = [w for w in corpus.windows[i] if w != (0, len(corpus.spans[i]) - 1)]
        if not parts:
            continue
        if corpus.at_risk[i]:  # the window that reads most at risk stands for the entry
            texts = [corpus.window_text(i, w) for w in parts]
            extra_texts.append(texts[int(np.argmax(first.predict_proba(union.transform(texts))[:, 1]))])
            extra_labels.append(True)
        else:  # every window of a look-alike, every sentence of an ordinary entry
            chosen = parts if corpus.kind[i] != "ordinary" else [w for w in parts if w[1] - w[0] <= ORDINARY_SPAN]
            extra_texts += [corpus.window_text(i, w) for w in chosen]
            extra_labels += [False] * len(chosen)
    features = sparse.vstack([whole, union.transform(extra_texts)]).tocsr() if extra_texts else whole
    labels = np.concatenate([corpus.at_risk[rows], np.array(extra_labels, dtype=bool)])
    pipeline = make_pipeline(union, build_classifier(seed).fit(features, labels))
    for _, vectorizer in union.transformer_list:
        vectorizer.stop_words_ = None  # introspection only (scikit-learn says so); large, and a set
    return pipeline


def entry_scores(pipeline, corpus: Corpus, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's scores as the screen sees them: the whole entry's, and its highest shorter window's
    (0 where every window holds a blocked sentence)."""
    model = CrisisModel(pipeline, 0.5)
    sentences = [[corpus.texts[i][a:b] for a, b in corpus.spans[i]] for i in rows]
    scores = model.window_probabilities(sentences, [corpus.windows[i] for i in rows])
    whole, part = np.zeros(len(rows)), np.zeros(len(rows))
    for k, (i, found) in enumerate(zip(rows, scores)):
        last = len(corpus.spans[i]) - 1
        for (a, b), p in zip(corpus.windows[i], found):
            if corpus.blocked[i].isdisjoint(range(a, b + 1)):
                if (a, b) == (0, last):
                    whole[k] = p
                else:
                    part[k] = max(part[k], p)
    return whole, part


def choose_thresholds(whole: np.ndarray, part: np.ndarray, at_risk: np.ndarray,
                      kind: np.ndarray) -> tuple[float, float, dict]:
    """(threshold, window_threshold): of the grid pairs whose (out-of-fold) false alarms stay within
    both limits, the one catching the most entries at risk (on a tie, the higher thresholds)."""
    ordinary, lookalike = kind == "ordinary", (kind != "ordinary") & ~at_risk
    best = None
    for threshold in GRID:
        for window_threshold in WINDOW_GRID:
            flagged = (whole >= threshold) | (part >= window_threshold)
            rates = {"recall": float(flagged[at_risk].mean()), "ordinary_alarms": float(flagged[ordinary].mean()),
                     "lookalike_alarms": float(flagged[lookalike].mean())}
            if rates["ordinary_alarms"] > MAX_ORDINARY_ALARMS or rates["lookalike_alarms"] > MAX_LOOKALIKE_ALARMS:
                continue
            key = (rates["recall"], threshold + window_threshold)
            if best is None or key > best[0]:
                best = (key, float(threshold), float(window_threshold), rates)
    if best is None:
        return float(GRID[-1]), float(GRID[-1]), {}
    return best[1], best[2], best[3]


def train(seed: int = 0, real: Path | None = None, thresholds: tuple[float, float] | None = None):
    """(pipeline, meta): fitted on all the training data; the thresholds (whole entry, shorter window)
    from 5-fold out-of-fold window scores, unless given (a rebuild keeps the shipped model's)."""
    corpus = training_data(real)
    everything = np.arange(len(corpus.texts))
    rates = None
    if thresholds is None:
        whole, part = np.zeros(len(corpus.texts)), np.zeros(len(corpus.texts))
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
        strata = np.char.add(corpus.kind.astype(str), corpus.at_risk.astype(str))
        for train_rows, test_rows in folds.split(corpus.texts, strata):
            whole[test_rows], part[test_rows] = entry_scores(fit_windows(corpus, train_rows, seed), corpus, test_rows)
        *thresholds, rates = choose_thresholds(whole, part, corpus.at_risk, corpus.kind)
    pipeline = fit_windows(corpus, everything, seed)
    meta = {"threshold": thresholds[0], "window_threshold": thresholds[1], "C": C, "seed": seed, "windows": "1-3 sentences and the whole entry",
            "n_at_risk": int(corpus.at_risk.sum()), "n_lookalike": int(((corpus.kind != "ordinary") & ~corpus.at_risk).sum()),
            "n_ordinary": int((corpus.kind == "ordinary").sum()), "n_real": int((corpus.kind == "real").sum()),
            "cross_validated": rates}
    return pipeline, meta


def save(pipeline, meta: dict, directory: Path = CASES_DIR) -> None:
    """Write model.pickle.gz and model.json (with the model file's sha256), each atomically."""
    from unstuck.data.formats import file_sha256
    from unstuck.model.artifact import library_versions

    directory = Path(directory)
    fd, staging = tempfile.mkstemp(prefix=".model-", dir=directory)
    try:
        # gzip over a plain pickle, not joblib: it loads in a tenth of the time (joblib unpickles in
        # Python). mtime=0 keeps the build time out of the file.
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out:
            pickle.dump(pipeline, out, protocol=5)
        os.chmod(staging, 0o644)
        meta = {**meta, "sha256": file_sha256(staging), "library_versions": library_versions(),
                "trained_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}
        os.replace(staging, directory / MODEL_FILE)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    text = json.dumps(meta, indent=2) + "\n"
    fd, staging = tempfile.mkstemp(prefix=".meta-", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(staging, 0o644)
    os.replace(staging, directory / META_FILE)


def shipped_thresholds() -> tuple[float, float] | None:
    try:
        meta = json.loads((CASES_DIR / META_FILE).read_text(encoding="utf-8"))
        return float(meta["threshold"]), float(meta.get("window_threshold", meta["threshold"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def rebuild(directory: Path) -> Path:
    """Train on the shipped cases and save into `directory` (for an install that cannot load the
    shipped file), with the shipped model's threshold (no cross-validation: it takes a while)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    save(*train(thresholds=shipped_thresholds()), directory)
    return Path(directory)


def blind_test(thresholds: tuple[float, float], pipeline) -> dict | None:
    """Recall and false alarms on each test set present: rules alone, and rules plus this model; and
    for sets labeled with `safety`, how many of those entries raised it."""
    present = [path for path in BLIND_TESTS if path.exists()]
    if not present:
        return None
    from unstuck.model.nlp import get_nlp
    from unstuck.model.safety import CrisisScreen

    out: dict = {}
    for path in present:
        cases = read_cases(path)
        at_risk = np.array([bool(c["crisis"]) for c in cases])
        unsafe = np.array([bool(c.get("safety")) for c in cases])
        texts = [c["text"] for c in cases]
        docs = list(get_nlp().pipe(texts))
        found = out[path.name] = {}
        for name, model in (("rules", None), ("rules+model", CrisisModel(pipeline, *thresholds))):
            results = CrisisScreen(get_nlp(), model=model).screen_many(docs, texts)
            flagged = np.array([r.flagged for r in results])
            found[name] = {"recall": float(flagged[at_risk].mean()), "false_alarms": float(flagged[~at_risk & ~unsafe].mean()),
                           "n_at_risk": int(at_risk.sum()), "n_not": int((~at_risk & ~unsafe).sum())}
            if unsafe.any():
                safety = np.array([r.safety for r in results])
                found[name]["safety"] = {
                    "recall": float(safety[unsafe].mean()), "raised_on_others": float(safety[~unsafe].mean()),
                    "either_flag_on_safety_entries": float((safety | flagged)[unsafe].mean()), "n_safety": int(unsafe.sum())}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CASES_DIR, help="directory for model.pickle.gz and model.json")
    parser.add_argument("--real", type=Path, default=None,
                        help="a folder of labeled real posts (*.jsonl with text and crisis) to train on too")
    args = parser.parse_args(argv)
    pipeline, meta = train(real=args.real)
    meta["blind_test"] = blind_test((meta["threshold"], meta["window_threshold"]), pipeline)
    save(pipeline, meta, args.out)
    print(json.dumps({k: meta[k] for k in ("threshold", "window_threshold", "cross_validated", "blind_test")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
