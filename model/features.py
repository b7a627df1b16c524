"""scikit-learn building blocks that turn text into features through the spaCy pipeline.

`SpacyFeaturizer` turns raw strings (or already-made spaCy Docs, so the tagger parses once) into
negation-marked lemma strings; the vectorizers after it are stock scikit-learn.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from spacy.tokens import Doc

from unstuck.model.nlp import SENTENCE_BREAK, doc_features, get_nlp
from unstuck.model.vectors import load_table

BATCH_SIZE = 256


def word_ngrams(text: str) -> list[str]:
    """Analyzer for the word vectorizer: unigrams and bigrams, never across a sentence break."""
    grams: list[str] = []
    for sentence in text.split(f" {SENTENCE_BREAK} "):
        words = sentence.split()
        grams.extend(words)
        grams.extend(f"{a} {b}" for a, b in zip(words, words[1:]))
    return grams


SHORT_WORDS = 12


def shortness(X: Iterable[str]) -> np.ndarray:
    """One column per entry: how far under `SHORT_WORDS` words it is (1 for none, 0 from 12 up). TF-IDF
    rows all have length 1, so a three-word entry weighs each word far more than a long one does;
    this lets the classifier learn that a few words are weak evidence."""
    counts = [sum(1 for w in text.split() if w != SENTENCE_BREAK) for text in X]
    return np.array([[max(0.0, 1.0 - n / SHORT_WORDS)] for n in counts], dtype=float).reshape(-1, 1)


def windows(features: str, size: int) -> list[str]:
    """Runs of `size` consecutive sentences of an entry's feature string; none when the entry has no
    more sentences than that (the entry itself is then its only window)."""
    sentences = features.split(f" {SENTENCE_BREAK} ")
    if size <= 0 or len(sentences) <= size:
        return []
    return [f" {SENTENCE_BREAK} ".join(sentences[i : i + size]) for i in range(len(sentences) - size + 1)]


def windowed_proba(predict, features: Sequence[str], size: int, weight: float = 1.0) -> np.ndarray:
    """Per label, the larger of the entry's score and `weight` times its best window's score, so one
    sentence can carry a tag in a long entry. `predict` maps feature strings to probabilities."""
    P = np.asarray(predict(list(features)), dtype=float)
    rows: list[str] = []
    owners: list[int] = []
    for i, text in enumerate(features):
        found = windows(text, size)
        rows += found
        owners += [i] * len(found)
    if rows:
        best = np.zeros_like(P)
        np.maximum.at(best, np.array(owners), np.asarray(predict(rows), dtype=float) * weight)
        P = np.maximum(P, best)
    return P


class VectorFeatures(TransformerMixin, BaseEstimator):
    """Dense features from the shipped static word vectors: the entry's mean word vector and, per
    dimension, the maximum over its sentences' mean vectors, so one sentence can carry a tag in a
    long entry. Negated words and stop words are left out; words not in the table are skipped."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, X: Iterable[str], y=None) -> "VectorFeatures":
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        index, table = vector_index()
        rows = []
        for text in X:
            sentences = []
            for sentence in text.split(f" {SENTENCE_BREAK} "):
                ids = [index[w] for w in sentence.split() if w in index]
                if ids:
                    sentences.append(table[ids].mean(axis=0))
            if sentences:
                stacked = np.vstack(sentences)
                rows.append(np.concatenate([stacked.mean(axis=0), stacked.max(axis=0)]))
            else:
                rows.append(np.zeros(2 * table.shape[1], dtype=np.float32))
        return np.vstack(rows) * self.weight if rows else np.zeros((0, 2 * table.shape[1]))


@lru_cache(maxsize=1)
def vector_index() -> tuple[dict[str, int], np.ndarray]:
    """word -> row of the vector table, without stop words (they blur the mean)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words, table = load_table()
    return {w: i for i, w in enumerate(words) if w not in STOP_WORDS}, table


class SpacyFeaturizer(TransformerMixin, BaseEstimator):
    """Raw text or spaCy Doc in, space-joined lemma features (negated ones as NOT_x) out."""

    def fit(self, X: Iterable, y=None) -> "SpacyFeaturizer":
        return self

    def transform(self, X: Iterable) -> list[str]:
        items = list(X)
        texts = [x for x in items if not isinstance(x, Doc)]
        parsed = iter(get_nlp().pipe(texts, batch_size=BATCH_SIZE))
        return [doc_features(x if isinstance(x, Doc) else next(parsed)) for x in items]


def build_pipeline(
    words: bool = True, chars: bool = True, vectors: float = 0.0, C: float = 4.0, seed: int = 0,
    balanced: bool = True, length: bool = False,
) -> Pipeline:
    """The classifier: spaCy features; word and/or character TF-IDF and/or word vectors (weighted
    by `vectors`, 0 for none); one logistic regression per tag."""
    parts = []
    if words:
        parts.append(("words", TfidfVectorizer(analyzer=word_ngrams, lowercase=False, min_df=2, sublinear_tf=True)))
    if chars:
        parts.append(("chars", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True, max_features=60_000,
        )))
    if vectors:
        parts.append(("vectors", VectorFeatures(weight=vectors)))
    if length:
        parts.append(("length", FunctionTransformer(shortness)))
    # dual liblinear: far faster here, where features outnumber entries
    classifier = LogisticRegression(C=C, class_weight="balanced" if balanced else None, solver="liblinear", dual=True, max_iter=1000,
                                    random_state=seed)
    return Pipeline([
        ("spacy", SpacyFeaturizer()),
        ("features", FeatureUnion(parts)),
        ("classifier", OneVsRestClassifier(classifier)),
    ])
