"""Build the crisis screen's second net: a small classifier over words and character n-grams that
scores each window of an entry (every run of one to three sentences, and the whole entry).

The rules in data/crisis_patterns.toml catch the phrasings someone thought of; this model learns
from the crisis cases in data/crisis/*.jsonl (entries at risk, and figurative, denied, resolved and
off-topic look-alikes), from the seed set (ordinary journal entries, none at risk) and, with
`--real DIR`, from labeled real posts: their texts in DIR (rebuilt outside the repository by
`unstuck.training.real_sources`), joined by id with the labels in data/real/ (held-out ids refused). It can only ADD a flag to what the
rules find. Window-shaped training, so that one sentence in a long entry counts in full:

1. the vectorizers are fitted on whole entries (so the vocabulary, and the file, do not grow);
2. a first model, on whole entries, picks the window of each entry at risk that reads most at risk;
3. the model is trained on the whole entries, those windows (at risk), and every window of each
   look-alike, every one- and two-sentence window of each ordinary entry and a few of its opening
   words without their full stop (not at risk: a few everyday words are not evidence).

Its threshold is chosen by cross-validation on that data alone, scoring held-out entries window by
window as the screen does:

    python -m unstuck.training.build_crisis            # rebuild data/crisis/model/ (meta.json, pipeline.pkl.gz, card)
    python -m unstuck.training.build_crisis --real DIR # also train on the real posts whose texts are in DIR

The sets in tests/data/ are never trained on; the build reports the screen's recall and false alarms
on them when they are present (a source checkout). With --real it also reports each real source held
out in turn, and the cross-validated comparison with and without real posts (`crisis_real`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline, make_union

from unstuck.data import DATA_DIR
from unstuck.data.examples import load_seed
from unstuck.data.real import join_real
from unstuck.model.artifact import Manifest, ModelError, library_versions, read_manifest, save_model
from unstuck.model.crisis_model import CRISIS_DIR, LABELS, REMEDY, THRESHOLDS, CrisisModel, CrisisModelError

CASES_DIR = DATA_DIR / "crisis"  # the shipped cases; the shipped model is in its model/ folder
CARD_FILE = "MODEL_CARD.md"
CONFIG_KEYS = ("short_words", "C", "seed", "windows", "n_at_risk", "n_lookalike", "n_ordinary", "n_real", "trained_on_real")

# The test sets (never trained or tuned on) are in the repository's tests/data/, which the package
# does not ship: the build measures on them when given that folder (`--tests tests/data`).
TEST_SETS = "crisis_*_test.jsonl"


def test_sets(folder: Path | None) -> list[Path]:
    return sorted(Path(folder).glob(TEST_SETS)) if folder else []
C = 16.0
ORDINARY_SPAN = 1  # an ordinary entry's windows of up to two sentences are learned as not at risk
# The threshold: the most entries at risk caught (cross-validated) while flagging at most 1% of
# ordinary entries and at most 20% of the look-alikes written to fool the screen.
MAX_ORDINARY_ALARMS, MAX_LOOKALIKE_ALARMS = 0.01, 0.20
MAX_REAL_ALARMS = 0.10  # and, with real posts, at most 10% of the real posts not at risk
# An entry of fewer words than this is held to the window threshold, as a short window is: a few words
# give a few features, each weighing a lot once normalised ("I cancelled again" is not evidence).
SHORT_WORDS = 6
OPENINGS = (3, 5)  # the opening words of each ordinary entry learned as not at risk
GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)
WINDOW_GRID = np.round(np.concatenate([GRID, np.arange(0.96, 0.995, 0.01)]), 2)  # windows need a high bar


@dataclass
class Corpus:
    """Entries to learn from: text, at risk, kind of row ("case", "real" or "ordinary"), source
    ("cases", "seed" or the real source), group (the writer, kept on one side of a split), whether the
    rules flag it, and each entry's sentences (character spans), windows and the sentences the model
    may not flag."""

    texts: list[str]
    at_risk: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    group: np.ndarray
    by_rules: np.ndarray  # the rules flag it
    rule_safety: np.ndarray  # the rules raise the safety concern (the model cannot add a flag then)
    spans: list[list[tuple[int, int]]]
    windows: list[list[tuple[int, int]]]
    blocked: list[set[int]]

    def window_text(self, i: int, window: tuple[int, int]) -> str:
        (start, _), (_, end) = self.spans[i][window[0]], self.spans[i][window[1]]
        return self.texts[i][start:end]

    def short(self, i: int) -> bool:
        return len(self.texts[i].split()) < SHORT_WORDS


def read_cases(path: Path) -> list[dict]:
    """A file of crisis cases (`unstuck data check` says what is wrong with one, by file and line)."""
    from unstuck.data.errors import InputError
    from unstuck.data.formats import read_records

    cases = []
    for item in read_records(path, encoding_option=False):
        if isinstance(item, InputError):
            raise item
        cases.append(item[1])
    return cases


def training_data(real: Path | None = None) -> Corpus:
    """The shipped cases, the seed set and, if given, the real posts whose texts are in `real` (joined
    with data/real/ by id), split into windows."""
    from unstuck.model.nlp import get_nlp
    from unstuck.model.safety import CrisisScreen, sentence_spans, windows_of

    cases = [case for path in sorted(CASES_DIR.glob("*.jsonl")) for case in read_cases(path)]
    posts = join_real(real) if real else []
    seed = load_seed()
    texts = [c["text"] for c in cases] + [item.text for item, _ in posts] + [e.text for e in seed]
    at_risk = np.array([bool(c["crisis"]) for c in cases] + [label.crisis for _, label in posts] + [False] * len(seed))
    kind = np.array(["case"] * len(cases) + ["real"] * len(posts) + ["ordinary"] * len(seed))
    source = np.array(["cases"] * len(cases) + [item.source for item, _ in posts] + ["seed"] * len(seed))
    group = np.array([f"case:{k}" for k in range(len(cases))] + [f"{item.source}:{item.group}" for item, _ in posts]
                     + [f"seed:{k}" for k in range(len(seed))])
    nlp = get_nlp()
    screen = CrisisScreen(nlp)
    spans, windows, blocked, by_rules, rule_safety = [], [], [], [], []
    for doc in nlp.pipe(texts, batch_size=256):
        spans.append(sentence_spans(doc))
        windows.append(windows_of(len(spans[-1])))
        blocked.append(screen.blocked_sentences(doc))
        found = screen.screen(doc)
        by_rules.append(found.flagged)
        rule_safety.append(found.safety)
    return Corpus(texts, at_risk, kind, source, group, np.array(by_rules), np.array(rule_safety), spans, windows, blocked)


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
    for i in rows[corpus.kind[rows] == "ordinary"]:
        words = corpus.texts[i].split()
        openings = {" ".join(words[:n]).rstrip(".!?,;:") for n in OPENINGS if len(words) > n}
        extra_texts += sorted(openings)
        extra_labels += [False] * len(openings)
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
                if (a, b) == (0, last) and not corpus.short(i):
                    whole[k] = p
                else:
                    part[k] = max(part[k], p)
    return whole, part


def alarm_rates(flagged: np.ndarray, at_risk: np.ndarray, kind: np.ndarray) -> dict:
    """Recall and false alarms by kind of row (ordinary entries, look-alike cases, real posts)."""
    lookalike, real = (kind == "case") & ~at_risk, kind == "real"
    rates = {"recall": float(flagged[at_risk & ~real].mean()), "ordinary_alarms": float(flagged[kind == "ordinary"].mean()),
             "lookalike_alarms": float(flagged[lookalike].mean())}
    if real.any():
        rates |= {"real_recall": float(flagged[real & at_risk].mean()), "real_alarms": float(flagged[real & ~at_risk].mean())}
    return rates


def choose_thresholds(whole: np.ndarray, part: np.ndarray, at_risk: np.ndarray,
                      kind: np.ndarray) -> tuple[float, float, dict]:
    """(threshold, window_threshold): of the grid pairs whose (out-of-fold) false alarms stay within
    the limits, the one catching the most entries at risk (on a tie, the higher thresholds)."""
    best = None
    for threshold in GRID:
        for window_threshold in WINDOW_GRID:
            rates = alarm_rates((whole >= threshold) | (part >= window_threshold), at_risk, kind)
            if rates["ordinary_alarms"] > MAX_ORDINARY_ALARMS or rates["lookalike_alarms"] > MAX_LOOKALIKE_ALARMS \
                    or rates.get("real_alarms", 0.0) > MAX_REAL_ALARMS:
                continue
            flagged = (whole >= threshold) | (part >= window_threshold)
            key = (float(flagged[at_risk].mean()), threshold + window_threshold)  # real posts at risk count too
            if best is None or key > best[0]:
                best = (key, float(threshold), float(window_threshold), rates)
    if best is None:
        return float(GRID[-1]), float(GRID[-1]), {}
    return best[1], best[2], best[3]


def screened(pipeline, thresholds: tuple[float, float], corpus: Corpus, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` the screen flags (rules, then this model where no rule flagged or raised safety)."""
    whole, part = entry_scores(pipeline, corpus, rows)
    by_model = (whole >= thresholds[0]) | (part >= thresholds[1])
    return corpus.by_rules[rows] | (~corpus.rule_safety[rows] & by_model)


def folds(corpus: Corpus, rows: np.ndarray, seed: int = 0, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) rows of `rows`: stratified by kind and risk, a writer's posts on one side."""
    strata = np.char.add(corpus.kind[rows].astype(str), corpus.at_risk[rows].astype(str))
    split = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(rows[a], rows[b]) for a, b in split.split(rows, strata, corpus.group[rows])]


def cross_validate(corpus: Corpus, rows: np.ndarray, seed: int = 0, n_splits: int = 5) -> tuple[float, float, dict]:
    """(threshold, window_threshold, rates) chosen on out-of-fold window scores of `rows` alone."""
    whole, part = np.zeros(len(corpus.texts)), np.zeros(len(corpus.texts))
    for train_rows, test_rows in folds(corpus, rows, seed, n_splits):
        whole[test_rows], part[test_rows] = entry_scores(fit_windows(corpus, train_rows, seed), corpus, test_rows)
    return choose_thresholds(whole[rows], part[rows], corpus.at_risk[rows], corpus.kind[rows])


def train(seed: int = 0, real: Path | None = None, thresholds: tuple[float, float] | None = None,
          corpus: Corpus | None = None):
    """(pipeline, meta): fitted on all the training data; the thresholds (whole entry, shorter window)
    from 5-fold out-of-fold window scores, unless given (a rebuild keeps the shipped model's)."""
    corpus = corpus or training_data(real)
    everything = np.arange(len(corpus.texts))
    rates = None
    if thresholds is None:
        *thresholds, rates = cross_validate(corpus, everything, seed)
    pipeline = fit_windows(corpus, everything, seed)
    meta = {"threshold": thresholds[0], "window_threshold": thresholds[1], "short_words": SHORT_WORDS, "C": C,
            "seed": seed, "windows": "1-3 sentences and the whole entry",
            "n_at_risk": int(corpus.at_risk.sum()), "n_lookalike": int(((corpus.kind == "case") & ~corpus.at_risk).sum()),
            "n_ordinary": int((corpus.kind == "ordinary").sum()), "n_real": int((corpus.kind == "real").sum()),
            "n_train": len(corpus.texts), "data_hash": data_hash(corpus), "cross_validated": rates}
    return pipeline, meta


def data_hash(corpus: Corpus) -> str:
    """sha256 over the training texts and their labels, in order."""
    digest = hashlib.sha256()
    for text, risk in zip(corpus.texts, corpus.at_risk):
        digest.update(f"{int(risk)}\t{text}\n".encode("utf-8"))
    return digest.hexdigest()


def save(pipeline, meta: dict, directory: Path = CRISIS_DIR) -> Path:
    """Write the model directory (`artifact.save_model`: meta.json checked on load, pipeline.pkl.gz, and
    a short MODEL_CARD.md). `meta`: what `train` returns, with any measurements added."""
    config = {key: meta[key] for key in CONFIG_KEYS if key in meta}
    metrics = {key: value for key, value in meta.items() if key not in CONFIG_KEYS and key not in
               ("threshold", "window_threshold", "data_hash", "n_train")}
    manifest = Manifest(version="crisis-" + datetime.now(timezone.utc).strftime("%Y%m%d"), label_ids=list(LABELS),
                        thresholds=dict(zip(THRESHOLDS, (meta["threshold"], meta["window_threshold"]))),
                        library_versions=library_versions(), data_hash=meta.get("data_hash", ""),
                        trained_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                        n_train=int(meta.get("n_train", 0)), config=config, metrics=metrics)
    return save_model(directory, pipeline, manifest, documents={CARD_FILE: model_card(manifest)})


def model_card(manifest: Manifest) -> str:
    """A short card: what the model is for, what it learned from, and where its measurements are."""
    c, t = manifest.config, manifest.thresholds
    return f"""# Crisis model {manifest.version}

The crisis screen's second net (`unstuck.model.crisis_model`): word and character n-gram TF-IDF and a
logistic regression, scoring every window of an entry (one to three sentences, and the whole entry).
It only ever adds a crisis flag where the rules of `data/crisis_patterns.toml` raised none. It is not
a diagnosis and must never be the only safeguard.

- Learned from: {c.get('n_at_risk')} written cases at risk, {c.get('n_lookalike')} written look-alikes,
  {c.get('n_ordinary')} ordinary journal entries (the seed set); real posts: {c.get('n_real')}.
  Every case is synthetic, written for this project (`data/crisis/README.md`).
- Thresholds: {t['entry']} for a whole entry, {t['window']} for a shorter window and for an entry of
  fewer than {c.get('short_words')} words; chosen by cross-validation on the training data alone.
- Measured (never trained or tuned on): `metrics` in meta.json (`blind_test`, `real`), summarised in
  `data/crisis/README.md`.
- Built with scikit-learn {manifest.library_versions.get('scikit-learn')}, spaCy
  {manifest.library_versions.get('spacy')}, Python {manifest.library_versions.get('python')}; loading
  checks them.
"""


def shipped_thresholds() -> tuple[float, float] | None:
    try:
        thresholds = read_manifest(CRISIS_DIR, REMEDY, LABELS, THRESHOLDS).thresholds
    except (CrisisModelError, ModelError):
        return None
    return float(thresholds["entry"]), float(thresholds["window"])


def rebuild(directory: Path) -> Path:
    """Train on the shipped cases and save into `directory` (for an install that cannot load the
    shipped model), with the shipped model's thresholds (no cross-validation: it takes a while)."""
    return save(*train(thresholds=shipped_thresholds()), directory)


def blind_test(thresholds: tuple[float, float], pipeline, present: list[Path]) -> dict | None:
    """Recall and false alarms on each test set: rules alone, and rules plus this model; and for sets
    labeled with `safety`, how many of those entries raised it."""
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
        for name, model in (("rules", None), ("rules+model", CrisisModel(pipeline, *thresholds, SHORT_WORDS))):
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
