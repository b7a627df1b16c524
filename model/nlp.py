"""The spaCy pipeline: blank English, lookup lemmas, sentences, and negation scope marking.

No parser and no downloaded model: everything comes from spaCy and spacy-lookups-data. The pipeline
is built once per process and never pickled into a model artifact.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.attrs import LEMMA, ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Token

from unstuck.model.fast_paths import on

NEGATION_CUES = frozenset(
    "not n't never no none nothing nobody nowhere neither nor without hardly barely cannot nt".split()
)
# Words that close a negation scope early: a contrast starts a new claim ("not scared, but tired").
SCOPE_BREAKERS = frozenset("but however though although yet except until because so and".split())
SCOPE_LENGTH = 5
MAX_CHARS = 200_000
CACHE_LIMIT = 500_000  # distinct word/lemma pairs the feature cache keeps before starting over

# `token._.negated` is kept per Doc, as the set of negated token indices (`doc._.negated_tokens`), so
# that `doc_features` reads a Doc's negation once instead of through one Token per token.
if not Doc.has_extension("negated_tokens"):
    Doc.set_extension("negated_tokens", default=None)


def _get_negated(token: Token) -> bool:
    negated = token.doc._.negated_tokens
    return negated is not None and token.i in negated


def _set_negated(token: Token, value: bool) -> None:
    negated = token.doc._.negated_tokens
    if negated is None:
        negated = token.doc._.negated_tokens = {}
    if value:
        negated[token.i] = True
    else:
        negated.pop(token.i, None)


if not Token.has_extension("negated"):
    Token.set_extension("negated", getter=_get_negated, setter=_set_negated)


@Language.component("unstuck_negation")
def mark_negation(doc: Doc) -> Doc:
    """Mark tokens inside a negation's scope: up to five words after a cue, stopping at punctuation
    or a contrast word. "I'm not scared anymore" marks "scared", so it cannot look like "I'm scared"."""
    remaining = 0
    for token in doc:
        lower = token.lower_
        if token.is_punct or lower in SCOPE_BREAKERS or "\n" in token.text:
            remaining = 0
        elif lower in NEGATION_CUES or lower.replace("\u2019", "'") == "n't":
            remaining = SCOPE_LENGTH
        elif remaining and not token.is_space:
            token._.negated = True
            remaining -= 1
    return doc


def build_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.max_length = MAX_CHARS + 1
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("unstuck_negation")
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    return build_nlp()


def is_negation_cue(token: Token) -> bool:
    return token.lower_.replace("\u2019", "'") in NEGATION_CUES or token.lower_ == "n't"


def token_feature(token: Token) -> str | None:
    """The word feature a token contributes, or None for space and punctuation."""
    if token.is_space or token.is_punct:
        return None
    word = _plain_feature(token)
    return f"NOT_{word}" if token._.negated else word


def lemma_of(token: Token) -> str:
    """Lower-case lemma; the lookup table is case-sensitive, so "Cancelled" is looked up lower-cased."""
    if token.lemma_ and token.lemma_ != token.text:
        return token.lemma_.lower()
    return _lemma_table().get(token.lower_, token.lower_)


@lru_cache(maxsize=1)
def _lemma_table():
    return get_nlp().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


SENTENCE_BREAK = "<s>"


def doc_features(doc: Doc) -> str:
    """The document as a space-separated string of word features, with `<s>` between sentences."""
    # kept: no Token object per token, and a word's feature is worked out once, not at every occurrence
    if on("features") and "sents" not in doc.user_hooks and doc.has_annotation("SENT_START"):
        return _doc_features_fast(doc)
    parts = []
    for sentence in doc.sents:
        words = [f for f in map(token_feature, sentence) if f]
        if words:
            parts.append(" ".join(words))
    return f" {SENTENCE_BREAK} ".join(parts)


# A token's feature before negation depends only on its word and its lemma: kept per (ORTH, LEMMA).
_MISSING = object()
_FEATURE: dict[tuple[int, int], str | None] = {}


def _doc_features_fast(doc: Doc) -> str:
    """`doc_features`, the same string, without a Token object per token: words and lemmas from
    `Doc.to_array`, sentences from SENT_START as `Doc.sents` reads them, negation from the Doc's set."""
    features = _FEATURE
    if len(features) > CACHE_LIMIT:
        features.clear()
    negated = doc._.negated_tokens or {}
    parts: list[str] = []
    words: list[str] = []
    for i, (orth, lemma, start) in enumerate(doc.to_array([ORTH, LEMMA, SENT_START]).tolist()):
        if start == 1 and i and words:
            parts.append(" ".join(words))
            words = []
        feature = features.get((orth, lemma), _MISSING)
        if feature is _MISSING:
            token = doc[i]
            feature = features[orth, lemma] = None if token.is_space or token.is_punct else _plain_feature(token)
        if feature is not None:
            words.append(f"NOT_{feature}" if i in negated else feature)
    if words:
        parts.append(" ".join(words))
    return f" {SENTENCE_BREAK} ".join(parts)


def _plain_feature(token: Token) -> str:
    """A token's feature before negation: it depends on the word and its lemma alone."""
    if token.like_num:
        return "<num>"
    if is_negation_cue(token):
        return "not"
    return lemma_of(token)
