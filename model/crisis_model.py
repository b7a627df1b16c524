"""The crisis screen's second net: a small text classifier that can only add a flag to the rules'.

A model directory like the barrier model's (`unstuck.model.artifact`: meta.json, pipeline.pkl.gz,
MODEL_CARD.md), built by `python -m unstuck.training.build_crisis` into data/crisis/model/. Its manifest is
checked field by field (one label, `crisis`; thresholds `entry` and `window`; versions; sha256)
before anything is unpickled. When this install cannot use it, `CrisisModelError` says why, and
`unstuck models rebuild` rebuilds it from the shipped cases into the user's models directory, where
`default_model` finds it from then on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from unstuck.data import DATA_DIR
from unstuck.model import store
from unstuck.model.artifact import META_FILE, ModelError, load_model, read_manifest
from unstuck.model.fast_tfidf import FastTfidf, fast_blocks, membership, same, stack

CRISIS_DIR = DATA_DIR / "crisis" / "model"
LABELS = ("crisis",)
THRESHOLDS = ("entry", "window")  # a whole entry's; a shorter window's (and a short entry's)
REMEDY = "the crisis screen needs it"  # the CLI adds how to rebuild it
REBUILT = "rebuilt-crisis"  # under the user's models directory
RULE_ID, KIND = "crisis_model", "model"
# Texts on which the fast scoring path must give exactly the pipeline's numbers when loaded.
CHECK_TEXTS = ["I can't do this anymore.  Wrote letters to everyone", "café Zoë — naïve ☕️ 😬 İstanbul ǅ ﬁne",
               "", "a", "THE BRIDGE on my walk home\n\nkeeps calling", "kms lol jk. or not"]


class CrisisModelError(ModelError):
    """The crisis model cannot be used by this install; the message says why."""


class CrisisModel:
    """`threshold` applies to a whole entry; `window_threshold` to a shorter window of it (one to three
    sentences), where more chances to cross it call for a higher bar, and to a whole entry of fewer
    than `short_words` words: a few words make a few features, each weighing a lot."""

    def __init__(self, pipeline, threshold: float, window_threshold: float | None = None,
                 short_words: int = 0) -> None:
        self.pipeline, self.threshold = pipeline, float(threshold)
        self.window_threshold = self.threshold if window_threshold is None else float(window_threshold)
        self.short_words = int(short_words)
        self._fast = _fast_blocks(pipeline)

    def limit(self, window: tuple[int, int], sentences: int, words: int | None = None) -> float:
        """The threshold for a window (first, last sentence) of an entry of `sentences` sentences and
        `words` words (None: not short)."""
        whole = window == (0, sentences - 1) and (words is None or words >= self.short_words)
        return self.threshold if whole else self.window_threshold

    @classmethod
    def load(cls, directory: Path = CRISIS_DIR) -> "CrisisModel":
        """Load a crisis model directory (checked as `artifact.load_model` checks any) or raise
        CrisisModelError."""
        try:
            short = read_manifest(directory, REMEDY, LABELS, THRESHOLDS).config.get("short_words", 0)
            if isinstance(short, bool) or not isinstance(short, int) or not 0 <= short < 1000:
                raise CrisisModelError(f"{Path(directory) / META_FILE}: short_words is {str(short)[:20]}, not a "
                                       f"word count; {REMEDY}")
            pipeline, manifest = load_model(directory, REMEDY, LABELS, THRESHOLDS)  # checks it all again
        except CrisisModelError:
            raise
        except ModelError as err:
            raise CrisisModelError(str(err)) from None
        return cls(pipeline, manifest.thresholds["entry"], manifest.thresholds["window"], short)

    def probabilities(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        if self._fast is None:
            return [float(p) for p in self.pipeline.predict_proba(texts)[:, 1]]
        blocks, classifier = self._fast
        return [float(p) for p in classifier.predict_proba(stack([b.transform(texts) for b in blocks]))[:, 1]]


    def window_probabilities(self, sentences: list[list[str]], windows: list[list[tuple[int, int]]]) -> list[list[float]]:
        """For each entry (its sentences' texts), the probability of each of its windows (first and
        last sentence, inclusive). Through the fast path a window's n-gram counts are the sum of its
        sentences' (counted once each), so scoring every window costs little more than the entry; a
        word pair across two sentences is not counted. Otherwise each window's text is scored."""
        counts = [len(w) for w in windows]
        if not sum(counts):
            return [[] for _ in windows]
        if self._fast is None or not all(isinstance(b, FastTfidf) for b in self._fast[0]):
            texts = [" ".join(entry[a:b + 1]) for entry, ws in zip(sentences, windows) for a, b in ws]
            return _split(self.probabilities(texts), counts)
        blocks, classifier = self._fast
        flat = [s for entry in sentences for s in entry]
        member = membership([len(entry) for entry in sentences],
                            [(i, a, b) for i, ws in enumerate(windows) for a, b in ws])
        linear = self._linear
        if linear is None:
            features = [block.weigh(member @ block.counts(flat)) for block in blocks]
            return _split([float(p) for p in classifier.predict_proba(stack(features))[:, 1]], counts)
        # logistic regression on L2-normalised TF-IDF blocks, worked out row by row without building
        # the feature matrix: per block, (weighted counts . coefficients) / norm of the weighted counts
        logit = np.full(sum(counts), linear[1])
        for block, coef in zip(blocks, linear[0]):
            summed = member @ block.counts(flat)
            if not summed.nnz:
                continue
            weights = np.log(summed.data) + 1.0 if block.sublinear_tf else summed.data
            if block.idf is not None:
                weights = weights * block.idf[summed.indices]
            starts = summed.indptr[:-1]
            filled = np.diff(summed.indptr) > 0
            dot = np.add.reduceat(weights * coef[summed.indices], starts[filled])
            norm = np.sqrt(np.add.reduceat(weights * weights, starts[filled]))
            logit[filled] += dot / norm
        return _split([float(p) for p in 1.0 / (1.0 + np.exp(-logit))], counts)

    @property
    def _linear(self):
        """(per-block coefficients, intercept) when the classifier is a binary logistic regression over
        L2-normalised blocks (what training/crisis.py builds); else None."""
        if self._fast is None:
            return None
        blocks, classifier = self._fast
        if type(classifier).__name__ != "LogisticRegression" or getattr(classifier, "coef_", None) is None \
                or classifier.coef_.shape[0] != 1 or any(b.norm != "l2" for b in blocks):
            return None
        coef, edges = classifier.coef_[0], np.cumsum([0] + [len(b.vocabulary) for b in blocks])
        return [coef[a:b] for a, b in zip(edges[:-1], edges[1:])], float(classifier.intercept_[0])


def _split(values: list[float], counts: list[int]) -> list[list[float]]:
    out, start = [], 0
    for n in counts:
        out.append(values[start:start + n])
        start += n
    return out


def rebuilt_dir() -> Path:
    return store.models_dir() / REBUILT


@lru_cache(maxsize=1)
def default_model() -> CrisisModel:
    """The shipped crisis model, or the copy rebuilt for this install; CrisisModelError if neither."""
    try:
        return CrisisModel.load(CRISIS_DIR)
    except CrisisModelError as shipped_error:
        if (rebuilt_dir() / META_FILE).exists():
            return CrisisModel.load(rebuilt_dir())
        raise shipped_error


def _fast_blocks(pipeline):
    """(blocks, classifier) for a TF-IDF union -> classifier pipeline, the blocks through `FastTfidf`,
    if they score CHECK_TEXTS exactly as the pipeline does; else None (the pipeline is used as it is)."""
    try:
        from sklearn.pipeline import FeatureUnion

        (_, union), (_, classifier) = pipeline.steps
        if type(union) is not FeatureUnion or union.transformer_weights:
            return None
        blocks = fast_blocks([t for _, t in union.transformer_list], CHECK_TEXTS)
        if blocks is None or not same(classifier.predict_proba(stack([b.transform(CHECK_TEXTS) for b in blocks])),
                                      pipeline.predict_proba(CHECK_TEXTS)):
            return None
        return blocks, classifier
    except Exception:  # another scikit-learn, another pipeline: score with the pipeline as it is
        return None
