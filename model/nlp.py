"""The spaCy pipeline: blank English, lookup lemmas, sentences, and negation scope marking.

No parser and no downloaded model: everything comes from spaCy and spacy-lookups-data. The pipeline
is built once per process and never pickled into a model artifact.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Token

NEGATION_CUES = frozenset(
    "not n't never no none nothing nobody nowhere neither nor without hardly barely cannot nt".split()
)
# Words that close a negation scope early: a contrast starts a new claim ("not scared, but tired").
SCOPE_BREAKERS = frozenset("but however though although yet except until because so and".split())
SCOPE_LENGTH = 5
MAX_CHARS = 200_000

if not Token.has_extension("negated"):
    Token.set_extension("negated", default=False)


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
    if token.like_num:
        word = "<num>"
    elif is_negation_cue(token):
        word = "not"
    else:
        word = lemma_of(token)
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
    parts = []
    for sentence in doc.sents:
        words = [f for f in map(token_feature, sentence) if f]
        if words:
            parts.append(" ".join(words))
    return f" {SENTENCE_BREAK} ".join(parts)
