"""The always-on crisis screen: spaCy rule matching over lower-case forms and lemmas.

Independent of the classifier and its thresholds; no option turns it off. The rules are data
(`data/crisis_patterns.toml`) so a clinician can review them. How a match is kept or dropped:

1. every `[[rule]]` phrase or token pattern that matches is a candidate;
2. a candidate overlapping a `[[figurative]]` span ("killing time", "dying to see") is dropped;
3. a candidate overlapping a `[[denial]]` span ("I'm not suicidal") is dropped, unless the same
   sentence hedges after the denial ("probably", "but", "sometimes"...): when unsure, flag;
4. a candidate in a sentence with a `[[resolved]]` marker ("five years since my attempt") is
   dropped only when that sentence has no present-tense risk marker (`present` in the file).
The entry is flagged when any candidate survives.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from unstuck.data import DATA_DIR
from unstuck.data.errors import InputError

PATTERNS_PATH = DATA_DIR / "crisis_patterns.toml"
SECTIONS = ("rule", "figurative", "denial", "resolved")


@dataclass(frozen=True)
class CrisisMatch:
    rule: str
    kind: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "kind": self.kind, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class CrisisResult:
    flagged: bool
    matches: tuple[CrisisMatch, ...]


class CrisisScreen:
    """Matchers built once from the pattern file; call `screen(doc)` per entry."""

    def __init__(self, nlp: Language, path: Path = PATTERNS_PATH) -> None:
        config = _load(path)
        self.kinds: dict[str, str] = {}
        self.hedges = frozenset(w.lower() for w in config.get("hedges", []))
        self.present = frozenset(w.lower() for w in config.get("present", []))
        self.matchers = {section: _build(nlp, section, config.get(section, []), self.kinds) for section in SECTIONS}
        self.lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None

    def screen(self, doc: Doc) -> CrisisResult:
        # Match on a normalised copy (same tokens, so spans map back 1:1): see `_normalised`.
        shadow = _normalised(doc, self.lemmatizer)
        words = _Words.of(shadow)
        found = {section: [Span(doc, s.start, s.end, label=s.label) for s in _spans(shadow, words, self.matchers[section])]
                 for section in SECTIONS}
        kept = []
        for span in _dedupe(found["rule"]):
            if _overlaps(span, found["figurative"]):
                continue
            if any(_overlaps(span, [d]) and not self._hedged(d) for d in found["denial"]):
                continue
            if self._resolved(span, found["resolved"]):
                continue
            kept.append(
                CrisisMatch(span.label_, self.kinds.get(span.label_, ""), span.start_char, span.end_char, span.text)
            )
        return CrisisResult(flagged=bool(kept), matches=tuple(kept))

    def _hedged(self, denial: Span) -> bool:
        sentence = denial.sent if denial.doc.has_annotation("SENT_START") else denial.doc[:]
        after = denial.doc[denial.end : sentence.end]
        return any(t.lower_ in self.hedges for t in after)

    def _resolved(self, span: Span, markers: list[Span]) -> bool:
        sentence = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
        in_sentence = [m for m in markers if m.start >= sentence.start and m.end <= sentence.end]
        if not in_sentence:
            return False
        return not any(t.lower_ in self.present for t in sentence)


@lru_cache(maxsize=1)
def default_screen() -> CrisisScreen:
    from unstuck.model.nlp import get_nlp

    return CrisisScreen(get_nlp())


def _load(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, None, "crisis pattern file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(path, getattr(err, "lineno", None), f"not valid TOML ({err})") from None


@dataclass
class _Section:
    """One section's matchers. Token patterns are slow (their IN lists are checked in Python), so
    each has its own Matcher and runs only where it could match: on the sentences (with their
    neighbours) holding a word of its least common required token, and only if the entry holds a
    word of every other required token. A pattern with no required word runs on the whole entry."""

    lower: PhraseMatcher
    lemma: PhraseMatcher
    patterns: list[tuple[list[frozenset[str]], Matcher]]
    index: dict[str, list[int]] = field(default_factory=dict)  # anchor word -> patterns it wakes

    def add(self, required: list[frozenset[str]], matcher: Matcher) -> None:
        """`required`: the value sets of the pattern's required tokens, least common first."""
        for word in required[0] if required else ():
            self.index.setdefault(word, []).append(len(self.patterns))
        self.patterns.append((required, matcher))


ANCHOR_KEYS = ("LOWER", "LEMMA", "ORTH", "TEXT", "NORM")


def _required(pattern: list[dict], commonness) -> list[frozenset[str]]:
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
            found.append(frozenset(_fold(v) for v in values))
            break
    return sorted(found, key=lambda values: sum(commonness(v) for v in values))


@lru_cache(maxsize=1)
def _word_ranks() -> dict[str, int]:
    """Word frequency ranks, from the frequency-ordered word list that ships with the vectors."""
    path = DATA_DIR / "vectors" / "words.txt"
    words = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return {w: rank for rank, w in enumerate(words, start=1)}


def _commonness(word: str) -> float:
    if not any(c.isalpha() for c in word):
        return 1.0  # punctuation and digits are everywhere
    return 1.0 / _word_ranks().get(word, 50_000)


def _build(nlp: Language, section: str, rules: list[dict], kinds: dict[str, str]) -> _Section:
    """A PhraseMatcher on LOWER, one on LEMMA, and anchored token Matchers for one section of the file."""
    built = _Section(PhraseMatcher(nlp.vocab, attr="LOWER"), PhraseMatcher(nlp.vocab, attr="LEMMA"), [])
    for number, rule in enumerate(rules, start=1):
        rule_id = str(rule.get("id") or f"{section}-{number}")
        kinds[rule_id] = str(rule.get("kind", section))
        phrases = [_fold(str(p)) for p in rule.get("phrases", [])]
        if phrases:
            built.lower.add(rule_id, [nlp.make_doc(p) for p in phrases])
            built.lemma.add(rule_id, list(nlp.pipe(phrases)))
        for pattern in rule.get("patterns", []):
            matcher = Matcher(nlp.vocab)
            try:
                matcher.add(rule_id, [pattern])
            except (ValueError, KeyError) as err:
                detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip().startswith("-"))
                raise InputError(PATTERNS_PATH, None, f"{section} {rule_id!r} has a bad pattern {detail}".strip()) from None
            built.add(_required(pattern, _commonness), matcher)
    return built


def _fold(text: str) -> str:
    """Lower case with straight apostrophes: the form both the patterns and the entries are matched in."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


def _normalised(doc: Doc, lemmatizer) -> Doc:
    """A copy of `doc` with the same tokens, lower-cased, straight apostrophes, and re-lemmatised.

    CHANGE (crisis-pattern work): the lookup lemmatizer is case-sensitive and keeps curly
    apostrophes, so "Killed myself" (sentence start, lemma "Killed"), "I" vs "i" and "don\u2019t"
    (lemma "n\u2019t") slipped past the LEMMA phrases and patterns. No pattern can fix a wrong
    lemma, so the screen matches on this folded copy; the entry's own Doc is left untouched.
    """
    words = [_fold(t.text) for t in doc]
    folded = Doc(doc.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc],
                 sent_starts=[bool(t.is_sent_start) for t in doc] if doc.has_annotation("SENT_START") else None)
    return lemmatizer(folded) if lemmatizer is not None else folded


@dataclass
class _Words:
    """The words (lower forms and lemmas) of a folded entry, per sentence and in all, computed once."""

    bounds: list[tuple[int, int]]
    per_sentence: list[set[str]]
    everything: set[str]

    @classmethod
    def of(cls, doc: Doc) -> "_Words":
        forms = [(t.lower_, t.lemma_) for t in doc]
        bounds = [(s.start, s.end) for s in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(doc))]
        per_sentence = [{w for pair in forms[a:b] for w in pair} for a, b in bounds]
        return cls(bounds, per_sentence, set().union(*per_sentence) if per_sentence else set())


def _spans(doc: Doc, words: _Words, section: _Section) -> list[Span]:
    spans = []
    for matcher in (section.lower, section.lemma):
        if len(matcher):
            spans.extend(Span(doc, start, end, label=match_id) for match_id, start, end in matcher(doc))
    woken: dict[int, list[int]] = {}
    for k, found in enumerate(words.per_sentence):
        for idx in {i for w in found for i in section.index.get(w, ())}:
            woken.setdefault(idx, []).append(k)
    for idx, (required, matcher) in enumerate(section.patterns):
        if required and (idx not in woken or any(words.everything.isdisjoint(v) for v in required[1:])):
            continue
        for a, b in _windows(words.bounds, woken[idx]) if required else [(0, len(doc))]:
            spans.extend(Span(doc, a + start, a + end, label=match_id) for match_id, start, end in matcher(doc[a:b]))
    return spans


def _windows(bounds: list[tuple[int, int]], sentences: list[int]) -> list[tuple[int, int]]:
    """Token ranges of the given sentences with the sentence either side (a pattern may cross one
    boundary: "make him pay. physically."), overlapping ranges merged."""
    ranges: list[list[int]] = []
    for k in sentences:
        start, end = bounds[max(k - 1, 0)][0], bounds[min(k + 1, len(bounds) - 1)][1]
        if ranges and start <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], end)
        else:
            ranges.append([start, end])
    return [(a, b) for a, b in ranges]


def _dedupe(spans: list[Span]) -> list[Span]:
    seen, unique = set(), []
    for span in sorted(spans, key=lambda s: (s.start, -len(s))):
        if any(span.start >= a and span.end <= b for a, b in seen):
            continue
        seen.add((span.start, span.end))
        unique.append(span)
    return unique


def _overlaps(span: Span, others: list[Span]) -> bool:
    return any(span.start < o.end and o.start < span.end for o in others)
