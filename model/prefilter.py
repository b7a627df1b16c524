"""Which crisis rules could match an entry, judged from its words alone, and where: a speed shortcut.
Most entries lack some word every rule needs, and a token pattern (its IN lists checked in Python) is
slow. This decides only what runs, never what matches: tests/test_fast_paths.py checks it loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterator

from spacy.strings import get_string_id

from unstuck.data import DATA_DIR

ANCHOR_KEYS = ("LOWER", "LEMMA", "ORTH", "TEXT", "NORM")
Words = frozenset[int]  # string hashes of words (lower forms and lemmas)


@dataclass
class Anchors:
    """For one section of the pattern file: the words each phrase and token pattern needs. A pattern
    is woken on the sentences (with their neighbours) holding a word of its least common required
    token, and runs there only if they hold a word of each other required token."""

    required: list[list[Words]] = field(default_factory=list)  # per token pattern, least common first
    index: dict[int, list[int]] = field(default_factory=dict)  # anchor word -> token patterns it wakes
    # anchor word -> the word sets of the phrases and patterns it anchors: each can only match an
    # entry holding a word of every one of its sets
    needs: dict[int, list[list[Words]]] = field(default_factory=dict)
    always: bool = False  # a pattern with no required word could match anything

    def add_pattern(self, pattern: list[dict], fold: Callable[[str], str]) -> None:
        """A token pattern, in the order its Matcher was added; `fold`: how entries' words are folded."""
        hashed = [frozenset(get_string_id(w) for w in values) for values in required_words(pattern, fold)]
        for word in hashed[0] if hashed else ():
            self.index.setdefault(word, []).append(len(self.required))
            self.needs.setdefault(word, []).append(hashed[1:])
        self.always |= not hashed
        self.required.append(hashed)

    def add_phrase(self, words: list[str]) -> None:
        """A phrase's words (lower forms, or lemmas): it needs every one of them."""
        anchor, *others = sorted(set(words), key=commonness)
        self.needs.setdefault(get_string_id(anchor), []).append([frozenset([get_string_id(w)]) for w in others])

    def could_match(self, everything: set[int]) -> bool:
        """False when no phrase or pattern can match: each needs a word the entry lacks."""
        if self.always:
            return True
        needs = self.needs
        return any(all(not everything.isdisjoint(v) for v in rest)
                   for anchor in everything & needs.keys() for rest in needs[anchor])

    def where(self, per_sentence: list[set[int]]) -> Iterator[tuple[int, int, int]]:
        """(pattern, first sentence, last sentence): where each token pattern should run, given each
        sentence's words. A pattern may cross one sentence boundary ("make him pay. physically.")."""
        woken: dict[int, list[int]] = {}
        for k, found in enumerate(per_sentence):
            for idx in {i for w in found & self.index.keys() for i in self.index[w]}:
                woken.setdefault(idx, []).append(k)
        for idx, required in enumerate(self.required):
            if not required:
                yield idx, 0, len(per_sentence) - 1
                continue
            for first, last in _neighbourhoods(len(per_sentence), woken.get(idx, [])):
                here = set().union(*per_sentence[first : last + 1]) if len(required) > 1 else set()
                if all(not here.isdisjoint(v) for v in required[1:]):
                    yield idx, first, last


def required_words(pattern: list[dict], fold: Callable[[str], str]) -> list[frozenset[str]]:
    """The value sets of the pattern's required tokens that name words, least common first: a text
    can only match if it holds a word of every one of them."""
    found = []
    for spec in pattern:
        if spec.get("OP") not in (None, "1", "+"):
            continue
        for key in ANCHOR_KEYS:
            value = spec.get(key)
            if isinstance(value, str):
                values = {value}
            elif isinstance(value, dict) and set(value) == {"IN"}:
                values = set(value["IN"])
            else:
                continue
            found.append(frozenset(fold(v) for v in values))
            break
    return sorted(found, key=lambda values: sum(commonness(v) for v in values))


@lru_cache(maxsize=1)
def _word_ranks() -> dict[str, int]:
    """Word frequency ranks, from the frequency-ordered word list that ships with the vectors."""
    path = DATA_DIR / "vectors" / "words.txt"
    words = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return {w: rank for rank, w in enumerate(words, start=1)}


def commonness(word: str) -> float:
    if not any(c.isalpha() for c in word):
        return 1.0  # punctuation and digits are everywhere
    return 1.0 / _word_ranks().get(word, 50_000)


def _neighbourhoods(count: int, sentences: list[int]) -> list[tuple[int, int]]:
    """The given sentences (of `count`) with the sentence either side, overlapping ranges merged."""
    ranges: list[list[int]] = []
    for k in sentences:
        first, last = max(k - 1, 0), min(k + 1, count - 1)
        if ranges and first <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], last)
        else:
            ranges.append([first, last])
    return [(a, b) for a, b in ranges]
