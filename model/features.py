"""scikit-learn building blocks that turn text into features through the spaCy pipeline.

`SpacyFeaturizer` turns raw strings (or already-made spaCy Docs, so the tagger parses once) into
negation-marked lemma strings; the vectorizers after it are stock scikit-learn.
"""

from __future__ import annotations

from typing import Iterable

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from spacy.tokens import Doc

from unstuck.model.nlp import doc_features, get_nlp

BATCH_SIZE = 256


def split_features(text: str) -> list[str]:
    """Tokenizer for the word vectorizer: the featurizer already joined features with spaces."""
    return text.split()


class SpacyFeaturizer(TransformerMixin, BaseEstimator):
    """Raw text or spaCy Doc in, space-joined lemma features (negated ones as NOT_x) out."""

    def fit(self, X: Iterable, y=None) -> "SpacyFeaturizer":
        return self

    def transform(self, X: Iterable) -> list[str]:
        items = list(X)
        texts = [x for x in items if not isinstance(x, Doc)]
        parsed = iter(get_nlp().pipe(texts, batch_size=BATCH_SIZE))
        return [doc_features(x if isinstance(x, Doc) else next(parsed)) for x in items]


def build_pipeline(words: bool = True, chars: bool = True, C: float = 4.0, seed: int = 0) -> Pipeline:
    """The classifier: spaCy features, word and/or character TF-IDF, one logistic regression per tag."""
    parts = []
    if words:
        parts.append(("words", TfidfVectorizer(
            tokenizer=split_features, token_pattern=None, lowercase=False,
            ngram_range=(1, 2), min_df=2, sublinear_tf=True,
        )))
    if chars:
        parts.append(("chars", TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True, max_features=60_000,
        )))
    # dual liblinear: far faster here, where features outnumber entries
    classifier = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000,
                                    random_state=seed)
    return Pipeline([
        ("spacy", SpacyFeaturizer()),
        ("features", FeatureUnion(parts)),
        ("classifier", OneVsRestClassifier(classifier)),
    ])
