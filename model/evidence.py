"""Why a tag was given: the sentences that score highest for it and, inside them, the words whose
weights pushed the score up. Negated words ("not scared") never count as evidence.

Works on the fitted linear pipeline from `features.build_pipeline`; offsets index the original text.
"""

from __future__ import annotations

import numpy as np
from spacy.tokens import Doc, Span

from unstuck.data.records import Span as TextSpan
from unstuck.model.nlp import is_negation_cue, token_feature

MAX_SENTENCES = 2
MAX_PHRASES = 3


def token_weights(pipeline, doc: Doc, label_index: int) -> np.ndarray:
    """Each token's share of the word features' contribution to one label's decision score."""
    union = pipeline.named_steps["features"]
    words = dict(union.transformer_list).get("words")
    weights = np.zeros(len(doc))
    estimator = pipeline.named_steps["classifier"].estimators_[label_index]
    if words is None or not hasattr(estimator, "coef_"):  # a tag its training data never (or always) had
        return weights
    coef = estimator.coef_.ravel()
    offset = 0  # the words block is first in the union (see build_pipeline)
    vocab = words.vocabulary_
    feats = [(t.i, token_feature(t)) for t in doc]
    feats = [(i, f) for i, f in feats if f]
    row = words.transform([" ".join(f for _, f in feats)])
    values = dict(zip(row.indices, row.data))
    for pos, (i, feature) in enumerate(feats):
        idx = vocab.get(feature)
        if idx is not None:
            weights[i] += values.get(idx, 0.0) * coef[offset + idx]
        if pos + 1 < len(feats):
            j, following = feats[pos + 1]
            idx = vocab.get(f"{feature} {following}")
            if idx is not None:
                share = values.get(idx, 0.0) * coef[offset + idx] / 2
                weights[i] += share
                weights[j] += share
    return weights


def find_evidence(
    pipeline, doc: Doc, label_index: int, sentence_scores: list[float], threshold: float
) -> list[TextSpan]:
    """Phrases from the best sentence, plus a second one only if it would clearly earn the tag on its
    own (at or over the threshold and within a third of the best sentence's score)."""
    weights = token_weights(pipeline, doc, label_index)
    sentences = list(doc.sents)
    order = sorted(range(len(sentences)), key=lambda k: -sentence_scores[k])
    found: list[TextSpan] = []
    for rank, k in enumerate(order[:MAX_SENTENCES]):
        if rank and sentence_scores[k] < max(threshold, sentence_scores[order[0]] * 2 / 3):
            break
        found.extend(_phrases(sentences[k], weights))
    if not found:  # no telling words: the highest-scoring sentence with nothing negated in it
        found.extend([_whole_sentence(sentences[k], weights) for k in order if _plain(sentences[k])][:1])
    found.sort(key=lambda e: -e.weight)
    return found[: MAX_PHRASES * MAX_SENTENCES]


def _phrases(sentence: Span, weights: np.ndarray) -> list[TextSpan]:
    doc = sentence.doc
    usable = [t for t in sentence if not (_negated(t) or t.is_space)]
    if not usable:
        return []
    top = max(weights[t.i] for t in usable)
    if top <= 0:
        return []
    keep = {t.i for t in usable if weights[t.i] >= top * 0.25 and not t.is_punct}
    runs: list[list[int]] = []
    for i in sorted(keep):
        if runs and i - runs[-1][-1] <= 2 and not any(doc[j]._.negated for j in range(runs[-1][-1], i + 1)):
            runs[-1].append(i)
        else:
            runs.append([i])
    phrases = []
    for run in runs:
        span = doc[run[0] : run[-1] + 1]
        if all(t.is_stop or t.is_punct for t in span):  # "I", "what if I", "ca" (of "can't") tell a reader nothing
            continue
        phrases.append(TextSpan(span.start_char, span.end_char, span.text,
                                weight=float(weights[run[0] : run[-1] + 1].sum())))
    phrases.sort(key=lambda e: -e.weight)
    return phrases[:MAX_PHRASES]


def _plain(sentence: Span) -> bool:
    return any(not t.is_space for t in sentence) and not any(map(_negated, sentence))


def _negated(token) -> bool:
    """A negation cue or a word in its scope: never evidence."""
    return token._.negated or is_negation_cue(token)


def _whole_sentence(sentence: Span, weights: np.ndarray) -> TextSpan:
    words = [t for t in sentence if not t.is_space]
    span = sentence.doc[words[0].i : words[-1].i + 1]
    return TextSpan(span.start_char, span.end_char, span.text, weight=float(weights[span.start : span.end].sum()))
