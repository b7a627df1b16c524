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
from dataclasses import dataclass
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
        found = {section: [Span(doc, s.start, s.end, label=s.label) for s in _spans(shadow, *self.matchers[section])]
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


def _build(nlp: Language, section: str, rules: list[dict], kinds: dict[str, str]):
    """A PhraseMatcher on LOWER, one on LEMMA, and a token Matcher for one section of the file."""
    lower, lemma, tokens = PhraseMatcher(nlp.vocab, attr="LOWER"), PhraseMatcher(nlp.vocab, attr="LEMMA"), Matcher(nlp.vocab)
    for number, rule in enumerate(rules, start=1):
        rule_id = str(rule.get("id") or f"{section}-{number}")
        kinds[rule_id] = str(rule.get("kind", section))
        phrases = [_fold(str(p)) for p in rule.get("phrases", [])]
        if phrases:
            lower.add(rule_id, [nlp.make_doc(p) for p in phrases])
            lemma.add(rule_id, list(nlp.pipe(phrases)))
        patterns = rule.get("patterns", [])
        if patterns:
            try:
                tokens.add(rule_id, patterns)
            except (ValueError, KeyError) as err:
                detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip().startswith("-"))
                raise InputError(PATTERNS_PATH, None, f"{section} {rule_id!r} has a bad pattern {detail}".strip()) from None
    return lower, lemma, tokens


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
    folded = Doc(doc.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])
    return lemmatizer(folded) if lemmatizer is not None else folded


def _spans(doc: Doc, lower: PhraseMatcher, lemma: PhraseMatcher, tokens: Matcher) -> list[Span]:
    spans = []
    for matcher in (lower, lemma, tokens):
        if len(matcher) == 0:
            continue
        spans.extend(Span(doc, start, end, label=match_id) for match_id, start, end in matcher(doc))
    return spans


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
