"""The always-on crisis screen: spaCy rule matching over lower-case forms and lemmas.

Independent of the classifier and its thresholds; no option turns it off. The rules are data
(`data/crisis_patterns.toml`) so a clinician can review them. How a match is kept or dropped:

1. every `[[rule]]` phrase or token pattern that matches is a candidate;
2. a candidate overlapping a `[[figurative]]` span ("killing time", "dying to see") or an `[[other]]`
   span (someone else's past death, news, the topic in the abstract) is dropped, unless its rule is
   `strong`;
3. a candidate of a rule with `needs = "LIST"` is dropped unless its sentence holds a word of that
   list ("suicide" needs the writer: I, me, my), and one of a rule with `after_denial` unless one of
   those denials ends before it, in its sentence or the one before ("...want to die. I need to."); a
   `kind = "self"` candidate in a sentence that addresses someone else ("you", "your") and names no
   writer is dropped (advice to a friend), and so is one whose subject, the person named a few
   tokens before it, is "you" ("if you did commit suicide"; not "I wrote you a note", not "you said
   he'd kill himself"), unless its rule is a `questionnaire` item, whose "you" asks the writer
   ("Thoughts that you would be better off dead: several days"); a candidate of a rule with
   `unless_entry = "LIST"` is dropped when the entry holds a word of that list and none of the rule's
   `kept_by` list (a bare "relapsed" in a post about drinking and meetings, with no cutting in it);
4. a candidate in a sentence with an `[[asked]]` question ("the GP asked whether I'd...") answered no
   right after it, with no yes or present-risk word in the answer and no hedge after the no, is dropped;
5. a candidate overlapping a `[[denial]]` span ("I'm not suicidal") is dropped, unless the same
   sentence hedges after the denial ("probably", "but", "sometimes"...): when unsure, flag; a denial
   marked `rest_must_be_fields` in a form's shape ("Thoughts of death: no.") stands only when the rest
   of its sentence is more answered fields, not prose ("..: no, and I've got 40 paracetamol");
6. a candidate in a sentence with a `[[resolved]]` marker ("five years since my attempt") is
   dropped only when that sentence has no present-tense risk marker (`present` in the file); for a
   `questionnaire` item the marker is read in its answer, and nothing after it may say the risk is
   current (`_answer_resolved`).
The entry is flagged when any candidate survives.

7. A `kind = "safety"` match (someone hurting the writer now) raises `safety`, not `crisis`; a
   `dependent` match on the same words (or a rule marked `yields_to_safety`) gives way to it, and a
   safety match in a sentence with an `[[over]]` marker ("my ex", "as a kid") is dropped unless the
   sentence says it goes on (`over_present`). A match of a rule marked `keeps_dependent` (the writer's
   sexual abuse) leaves a `dependent` match on the same words standing; and from a writer who gives
   their age as under 18 (`_minor_writer`, unless an adult age is given too: `ADULT_WRITER`) a match
   of a rule marked `minor_is_crisis` raises `crisis` too: a child being abused.
8. When no rule flags an entry, the crisis model (`unstuck.model.crisis_model`) scores each window
   of it (every run of one to three sentences, and the whole entry) and flags the entry when a
   window crosses its threshold (a higher one for the shorter windows, and for a whole entry of a
   few words), unless that window holds a figurative or other span, a question answered no, a plain
   denial (not one marked `model_reads`), a resolved or over marker, or consists only of sentences
   holding a safety match (the writer's own abuse alone is not their risk; read beside their other
   sentences, it counts). The match names the window. The model only ever adds flags.
   Measured results: data/crisis/model/meta.json ("metrics") and data/crisis/README.md.
Which matchers run where is decided from the entry's words first (`unstuck.model.prefilter`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy
from spacy.attrs import LEMMA, ORTH, SENT_START, SPACY
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from unstuck.data import DATA_DIR
from unstuck.data.errors import InputError
from unstuck.data.records import Span as Match
from unstuck.model.crisis_model import KIND as MODEL_KIND, RULE_ID as MODEL_RULE
from unstuck.model.prefilter import Anchors

PATTERNS_PATH = DATA_DIR / "crisis_patterns.toml"
SECTIONS = ("rule", "figurative", "other", "denial", "resolved", "over", "asked")
SAFETY = "safety"  # the kind of rule that raises the safety concern (someone hurting the writer now)
ANSWER_WORDS = 4  # a "no" this early in the sentence after a question answers it ("Never have.", "I said no")
ANSWER_WORDS_ALONE = 6  # up to here, a "no" standing alone answers it too ("Hand on heart, no."), not "it never stops"
SUBJECT_WORDS = 4  # tokens: "you" this close before a match is its subject ("if you did commit suicide")
CONDITION_WORDS = 4  # tokens: a `conditions` word this close before a denial: not a denial ("if I wasn't in it")
# After "you", a word that makes it an object ("I wrote you a note", "told you about the overdose")
OBJECT_NEXT = frozenset(["a", "an", "the", "my", "his", "her", "our", "their", "this", "that", "these", "those", "some",
                         "about", "to", "for", "of", "in", "on", "with", "at", "from", "everything", "what", "how"])
MAX_HYPHEN_VARIANTS = 16  # a pattern listing more hyphenated words than this is a mistake in the file
# The writer gives their age as under 18 ("im 13", "I'm only 15", "I turned 14", "i'm in year 9"; not "I'm 15
# minutes late", "14 weeks pregnant" or "10 years sober"): their abuse is then a child's (rule 7 above).
_AGE = r"(?:1[0-7]|[5-9]|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)"
_UNIT = r"(?:stone|st|foot|feet|ft|kg|kilos?|lbs?|pounds|months?|weeks?|years?|days?|hours?|inches)"
_I_AM = r"(?<![\w'])i ?(?:'m|m|am) "
_I_AM_AGE = rf"{_I_AM}(?:only |just |now |nearly |almost |a )?{_AGE}"
MINOR_NOW = re.compile(
    rf"(?<!like )(?<!as if )(?<!as though ){_I_AM_AGE}"
    rf"(?:[ -]?(?:years?|yrs?)[ -]?old\b| ?y/?o\b| ?yo\b| ?[mf]\b"
    rf"|(?= ?(?:[.,;:!?)(]|$|and\b(?! a half {_UNIT})|&|but\b|so\b|now\b|btw\b|lol\b|in (?:january|february|march|april"
    rf"|may|june|july|august|september|october|november|december)\b)))"
    rf"|(?<![\w'])i(?:'ve| have)? (?:just )?turned {_AGE}\b(?! ?{_UNIT})"
    rf"|{_I_AM}in (?:year (?:[5-9]|1[0-2])|grade (?:[5-9]|1[0-2])|(?:[5-9]|1[0-2])th grade)\b"
    rf"|^\W*{_AGE} ?(?:y/?o|yo|[mf])\b"
    rf"|(?:\bi|\bme) \({_AGE} ?[mf]?\)"
    rf"|\bmy age is {_AGE}\b"
    # "I'm 15 - my mum...", "I'm 14 - nearly 15", "I'm 15 (16 in March)"; not "I'm a six-foot bloke",
    # "6-weeks postpartum", "5-foot-2"
    rf"|{_I_AM_AGE}"
    rf"(?: [-\u2013] | ?\(| ?[-\u2013] ?(?:nearly |almost |going on |turning |soon )?{_AGE}\b(?! ?(?:{_UNIT}|minutes?|mins?))"
    rf"| (?:going on|turning|nearly|almost) {_AGE}\b| ?(?:years?|yrs?) of age\b)"
    rf"|{_I_AM}in (?:yr|y) ?(?:[5-9]|1[0-2])\b"
    rf"|{_I_AM}in (?:sixth form|s[1-6]\b|middle school|high school|secondary school)")
# An entry opening "Fourteen years old." or "16 year old girl here": the writer's age, unless the entry
# says it is a memory ("that's how old I was", "when I was").
OPENING_AGE = re.compile(rf"(?:^|[.!?\n]\s*)\W*(?:hi,? |so,? |ok,? )?{_AGE} ?(?:y\.?/?o\.?|(?:[ -]?(?:years?|yrs?)[ -]?old))"
                         rf" ?(?:girl|boy|here|kid|teen|female|male|f\b|m\b|,|\.|and\b)")
PAST_AGE = re.compile(rf"\bhow old i was\b|\bwhen i was\b|\bi was (?:only |just )?{_AGE}\b")
# An adult age anywhere ("I'm 38 now", "I'm 44") outweighs a school or a teen age elsewhere in the entry
# (a teacher "in secondary school all day", a memory); not "I'm 20 stone" or "I'm 10 years sober".
ADULT_WRITER = re.compile(rf"{_I_AM}(?:now |nearly |almost |only )?(?:1[89]|[2-9]\d)\b"
                          r"(?! ?(?:%|stone|st|kg|kilos?|lbs?|pounds|months?|weeks?|days?|hours?|minutes?|mins?"
                          r"|years? (?:sober|clean|since|into)))")
# Resolved markers that do not end the writer's abuse: a count of sober years ("10 years sober") says
# nothing about whether someone is hurting them now, and nor does a school year ("I'm in year 9") for a
# writer who is in it (an adult's "In year 9, my stepdad punched me" is a memory).
_SOBER = r".*\b(?:sober|clean)"
NOT_ABUSE_OVER = re.compile(rf"in (?:year|yr) ?\d+|{_SOBER}")
SOBER_ONLY = re.compile(_SOBER)
QUOTED = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')  # quoted speech: someone else's words, not the writer's age
MAX_WINDOW = 3  # sentences: the model scores each run of one to three sentences, and the whole entry


@dataclass(frozen=True)
class CrisisResult:
    flagged: bool  # crisis: risk to the writer's life, or to someone else's
    matches: tuple[Match, ...]
    safety: bool = False  # someone is hurting the writer now
    safety_matches: tuple[Match, ...] = ()


class CrisisScreen:
    """Matchers built once from the pattern file, and optionally the crisis model (see
    `unstuck.model.crisis_model`), which can only add a flag where no rule matched. Call
    `screen(doc)` per entry or `screen_many(docs)` for a batch (the model scores a batch at once)."""

    def __init__(self, nlp: Language, path: Path = PATTERNS_PATH, model=None) -> None:
        self.model = model
        config = _load(path)
        self.kinds: dict[str, str] = {}
        self.hedges = frozenset(w.lower() for w in config.get("hedges", []))
        self.conditions = frozenset(w.lower() for w in config.get("conditions", []))
        self.present = frozenset(w.lower() for w in config.get("present", []))
        # after a screening item's answer, the rest of the entry is read for these as well as `present`
        # and `answered_yes` (another item answered yes) before a resolved marker in the answer drops the match
        self.questionnaire_present = frozenset(w.lower() for w in config.get("questionnaire_present", []))
        self.over_present = frozenset(w.lower() for w in config.get("over_present", []))
        self.first_person = frozenset(w.lower() for w in config.get("first_person", []))
        self.answered_no = frozenset(w.lower() for w in config.get("answered_no", []))
        self.second_person = frozenset(w.lower() for w in config.get("second_person", []))
        self.second_subject = frozenset(w.lower() for w in config.get("second_person_subject", []))
        self.third_person = frozenset(w.lower() for w in config.get("third_person", []))
        self.replies = frozenset(w.lower() for w in config.get("replies", []))
        self.answered_yes = frozenset(w.lower() for w in config.get("answered_yes", []))
        self.concealed = frozenset(w.lower() for w in config.get("concealed", []))
        rules = config.get("rule", [])
        for rule in rules:  # a rule's `needs`, `unless_entry` or `kept_by` names a word list of the file
            for key in ("needs", "unless_entry", "kept_by"):
                name = rule.get(key)
                if name is not None and not isinstance(config.get(str(name)), list):
                    raise InputError(path, None,
                                     f"rule {rule.get('id')!r}: {key} names no word list {str(name)[:40]!r}")
        self.strong = frozenset(str(r.get("id")) for r in rules if r.get("strong"))  # figurative spans can't drop
        self.yields = frozenset(str(r.get("id")) for r in rules if r.get("yields_to_safety"))
        # a safety rule whose matches a `dependent` crisis match on the same words does not give way to
        self.keeps_dependent = frozenset(str(r.get("id")) for r in rules if r.get("keeps_dependent"))
        self.minor_crisis = frozenset(str(r.get("id")) for r in rules if r.get("minor_is_crisis"))
        # a rule with `after_denial` (denial ids) is kept only after one of those denials, ending before
        # it in its sentence or the sentence before ("I don't want to kill myself. I need to.")
        self.after_denial = {str(r.get("id")): frozenset(r["after_denial"]) for r in rules if r.get("after_denial")}
        # a screening form's item asks "have you...?" of the writer: its "you" is no one else
        self.questionnaire = frozenset(str(r.get("id")) for r in rules if r.get("questionnaire"))
        # a form-shaped denial stands only when the rest of its sentence is more answered fields
        # ("Thoughts of suicide: no, and I've got 40 paracetamol in my bag" is not a denial)
        self.fields_only = frozenset(str(d.get("id")) for d in config.get("denial", []) if d.get("rest_must_be_fields"))
        # a denial that drops the rule matches it overlaps but leaves its sentence to the classifier
        self.model_reads = frozenset(str(d.get("id")) for d in config.get("denial", []) if d.get("model_reads"))
        # a rule with `needs = "LIST"` counts only in a sentence holding a word of that list ("I", a child...)
        self.needs = {str(r.get("id")): frozenset(w.lower() for w in config.get(str(r["needs"]), []))
                      for r in rules if r.get("needs")}
        # a rule with `unless_entry = "LIST"` is dropped in an entry holding a word of that list, unless the
        # entry holds one of its `kept_by` list too ("relapsed" in a post about drink and meetings, no cutting)
        self.unless_entry = {str(r.get("id")): (frozenset(w.lower() for w in config.get(str(r["unless_entry"]), [])),
                                                frozenset(w.lower() for w in config.get(str(r.get("kept_by")), [])))
                             for r in rules if r.get("unless_entry")}
        lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        self.matchers = {section: _build(nlp, lemmatizer, section, config.get(section, []), self.kinds)
                         for section in SECTIONS}
        self.folder = _Folder(nlp.vocab, lemmatizer)

    def screen(self, doc: Doc) -> CrisisResult:
        return self.screen_many([doc])[0]

    def screen_many(self, docs: list[Doc], texts: list[str] | None = None) -> list[CrisisResult]:
        """`texts`, the docs' texts if the caller has them (spaCy rebuilds `Doc.text` token by token)."""
        results = [self._rules(doc) for doc in docs]
        # the model adds crisis flags only, where no rule flagged; a window of nothing but the writer's own
        # abuse is not read (`_blocked_parts`), the rest of such an entry is
        unflagged = [i for i, result in enumerate(results) if not result.flagged]
        if self.model is None or not unflagged:
            return results
        texts = [docs[i].text if texts is None else texts[i] for i in unflagged]
        spans = [sentence_spans(docs[i]) for i in unflagged]
        windows = [windows_of(len(s)) for s in spans]
        scores = self.model.window_probabilities([[t[a:b] for a, b in s] for t, s in zip(texts, spans)], windows)
        for i, text, where, found, score in zip(unflagged, texts, spans, windows, scores):
            # highest score first; on a tie the shorter window, then the earlier
            limit = getattr(self.model, "limit", lambda window, count, words: self.model.threshold)
            words = len(text.split())
            over = sorted((-p, w[1] - w[0], w) for w, p in zip(found, score) if p >= limit(w, len(where), words))
            if not over:
                continue
            explained, abuse = self._blocked_parts(docs[i])
            for _, _, (a, b) in over:
                window = set(range(a, b + 1))
                # not a window holding a sentence the rules explained (figurative, denial, resolved, over),
                # nor one of nothing but the writer's own abuse; their abuse beside a sentence of their
                # own is read with it ("He held my wrists down. I can't do it much longer.")
                if explained.isdisjoint(window) and not window <= abuse:
                    start, end = where[a][0], where[b][1]
                    match = Match(start, end, text[start:end], MODEL_RULE, MODEL_KIND)
                    results[i] = replace(results[i], flagged=True, matches=(match,))
                    break
        return results

    def blocked_sentences(self, doc: Doc) -> set[int]:
        """Every sentence `_blocked_parts` names, explained or the writer's own abuse."""
        explained, abuse = self._blocked_parts(doc)
        return explained | abuse

    def _blocked_parts(self, doc: Doc) -> tuple[set[int], set[int]]:
        """(explained, abuse): the sentences holding a figurative phrase, a plain denial, a resolved or
        over marker without a present word ("my boss will kill me", "I'm not suicidal", "five years
        since my attempt") or a rule's match its entry excuses (`unless_entry`), whose risk words the
        rules have explained, so no window holding one is flagged by the model; and the other sentences
        holding the writer's own abuse, a window of nothing but which is not flagged either."""
        words = self.folder.fold(doc)
        # each section only where it could match (most entries lack a word each of its phrases needs)
        sections = [s for s in SECTIONS if self.matchers[s].could_match(words.everything)]
        if not sections:
            return set(), set()
        shadow = words.shadow()
        found = {s: self._section(doc, shadow, words, s) if s in sections else [] for s in SECTIONS}
        spans = found["figurative"] + found["other"]
        spans += [d for d in found["denial"] if self._denies(d) and d.label_ not in self.model_reads]
        spans += [a for a in found["asked"] if self._answered_no(a)]
        spans += [m for m in found["resolved"] if self._resolved(m, [m], self.present)]
        spans += [m for m in found["over"] if self._resolved(m, [m], self.over_present)]
        # a rule's match the entry excuses ("relapsed" in a post about drink and meetings) is explained too
        spans += [m for m in found["rule"]
                  if m.label_ in self.unless_entry and self._excused(doc, *self.unless_entry[m.label_])]
        bounds = words.bounds

        def holding(matches: list[Span]) -> set[int]:
            return {k for span in matches for k, (a, b) in enumerate(bounds) if span.start < b and a < span.end}

        explained = holding(spans)
        return explained, holding([m for m in found["rule"] if self.kinds.get(m.label_) == SAFETY]) - explained

    def _rules(self, doc: Doc) -> CrisisResult:
        words = self.folder.fold(doc)
        # Most entries lack some word that each phrase and pattern needs: they are done here, from
        # the entry's words alone, before the folded copy is built or any matcher runs.
        if not self.matchers["rule"].could_match(words.everything):
            return CrisisResult(flagged=False, matches=())
        # Match on a folded copy (same tokens, so spans map back 1:1): see `_Folder`.
        shadow = words.shadow()
        candidates = self._section(doc, shadow, words, "rule")
        if not candidates:  # the other sections only ever drop a rule's match
            return CrisisResult(flagged=False, matches=())
        found = {section: self._section(doc, shadow, words, section) for section in SECTIONS[1:]}
        writer_abuse = [c for c in candidates if self.kinds.get(c.label_) == SAFETY]
        minor_writer = bool(writer_abuse) and _minor_writer(doc.text)
        # a school year ends no abuse for a writer in school, a count of sober years for nobody
        not_over = NOT_ABUSE_OVER if minor_writer else SOBER_ONLY
        resolved_for_safety = [m for m in found["resolved"] if not not_over.fullmatch(m.text.lower())]
        kept = []
        for span in _dedupe(writer_abuse) + _dedupe([c for c in candidates if c not in writer_abuse]):
            kind = self.kinds.get(span.label_, "")
            if span.label_ not in self.strong and _overlaps(span, found["figurative"] + found["other"]):
                continue
            if span.label_ in self.after_denial and not self._after_denial(span, found["denial"],
                                                                            self.after_denial[span.label_]):
                continue
            if span.label_ in self.needs and not self._holds(span, self.needs[span.label_]):
                continue
            if span.label_ in self.unless_entry and self._excused(doc, *self.unless_entry[span.label_]):
                continue
            if kind == "self" and span.label_ not in self.questionnaire and self._about_someone_else(span):
                continue
            if any(self._same_sentence(span, a) and self._answered_no(a) for a in found["asked"]):
                continue
            if any(_overlaps(span, [d]) and self._denies(d) for d in found["denial"]):
                continue
            resolved = resolved_for_safety if kind == SAFETY else found["resolved"]
            if self._resolved(span, resolved, self.present):
                continue
            if kind == SAFETY and self._resolved(span, found["over"], self.over_present):
                continue
            kept.append(span)
        # The writer's own abuse (a safety match, kept or found to be over) is not a dependent's.
        yielded_to = [m for m in writer_abuse if m.label_ not in self.keeps_dependent]
        crisis = [m for m in kept if self.kinds.get(m.label_) != SAFETY and not (
            (self.kinds.get(m.label_) == "dependent" or m.label_ in self.yields) and _overlaps(m, yielded_to))]
        safety = [m for m in kept if self.kinds.get(m.label_) == SAFETY]
        minor = [m for m in safety if m.label_ in self.minor_crisis]
        if minor and not crisis and minor_writer:
            # a child writing of being abused now: a child's abuse, a crisis as well as a safety concern
            return CrisisResult(flagged=True, matches=tuple(replace(self._match(m), kind="dependent") for m in minor),
                                safety=True, safety_matches=tuple(self._match(m) for m in safety))
        return CrisisResult(flagged=bool(crisis), matches=tuple(self._match(m) for m in crisis),
                            safety=bool(safety), safety_matches=tuple(self._match(m) for m in safety))

    def _match(self, span: Span) -> Match:
        return Match(span.start_char, span.end_char, span.text, span.label_, self.kinds.get(span.label_, ""))

    def _section(self, doc: Doc, shadow: Doc, words: "_FoldedEntry", section: str) -> list[Span]:
        """One section's matches on the folded copy, as spans of the entry's own Doc."""
        return [Span(doc, s.start, s.end, label=s.label) for s in _spans(shadow, words, self.matchers[section])]

    @staticmethod
    def _after_denial(span: Span, denials: list[Span], ids: frozenset[str]) -> bool:
        """One of the denials `ids` ends before the span, in its sentence or the sentence before it."""
        start = _sentence(span).start
        if start > 0 and span.doc.has_annotation("SENT_START"):
            start = span.doc[start - 1].sent.start
        return any(d.label_ in ids and start <= d.start and d.end <= span.start for d in denials)

    def _denies(self, denial: Span) -> bool:
        """A denial stands unless it is hedged after it or is the inside of a condition, a wish or an
        effort ("if I wasn't in it", "I wish I wasn't here", "trying hard to not kill myself"): none
        of them says the risk is absent."""
        if denial.label_ in self.fields_only and _field_shaped(denial) and not _rest_is_fields(denial):
            return False
        return not self._hedged(denial) and not self._conditional(denial)

    def _conditional(self, denial: Span) -> bool:
        sentence = _sentence(denial)
        before = denial.doc[max(sentence.start, denial.start - CONDITION_WORDS) : denial.start]
        return any(t.lower_ in self.conditions for t in before)

    def _hedged(self, denial: Span) -> bool:
        after = denial.doc[denial.end : _sentence(denial).end]
        return any(t.lower_ in self.hedges for t in after)

    @staticmethod
    def _holds(span: Span, words: frozenset[str]) -> bool:
        """The span's sentence holds one of `words` ("suicide" alone may be news or advice to a friend)."""
        return any(t.lower_ in words for t in _sentence(span))

    @staticmethod
    def _excused(doc: Doc, excusing: frozenset[str], keeping: frozenset[str]) -> bool:
        """The entry holds a word of `excusing` and none of `keeping`."""
        words = {t.lower_ for t in doc}
        return bool(words & excusing) and not words & keeping

    def _addressed(self, span: Span) -> bool:
        """The span's sentence speaks to someone else ("if you're thinking of suicide, call..."), not of the writer."""
        return any(t.lower_ in self.second_person for t in _sentence(span))

    def _about_someone_else(self, span: Span) -> bool:
        """A match that names no writer is someone else's when its sentence addresses another person and
        names no writer anywhere ("if you're thinking of suicide, call..."), or when the person named
        last, a few tokens before it, is "you" as a subject ("I'd feel guilty if you did commit
        suicide"). Kept: "you" as an object ("I wrote you a suicide note"); "you" further back, as
        often the writer's generic you ("I hate when you never know when the suicidal thoughts come");
        and he or she named last, someone whose plan the writer is worried about ("you said he'd kill
        himself")."""
        if any(t.lower_ in self.first_person for t in span):  # "kill myself" names the writer itself
            return False
        if self._addressed(span) and not self._holds(span, self.first_person):
            return True
        doc = span.doc
        for k in range(span.start - 1, max(_sentence(span).start, span.start - SUBJECT_WORDS) - 1, -1):
            word = doc[k].lower_
            if word in self.first_person or word in self.third_person:
                return False
            if word in self.second_subject:
                following = doc[k + 1].lower_ if k + 1 < len(doc) else ""
                return following not in OBJECT_NEXT
        return False

    def _answered_no(self, asked: Span) -> bool:
        """A question someone asked the writer ("the GP asked whether I'd thought of...") answered no,
        after it in its sentence or in the next one, with no yes or present-risk word anywhere in the
        two ("asked if I might be tempted to stockpile" keeps the match) and no hedge after the no ("bit
        taken aback, but no" is a no; "yes, but no plan" and "no, but honestly yes" are not; nor is a no
        that keeps something back, "didn't tell her"). A hedge anywhere after the no counts, in the next
        sentence too ("I said no. I took 20 paracetamol though."). When unsure, flag."""
        sentence = _sentence(asked)
        question = [t.lower_ for t in asked.doc[asked.end : sentence.end]]
        following = []
        if sentence.end < len(asked.doc):
            following = [t.lower_ for t in _sentence(asked.doc[sentence.end : sentence.end + 1])]
        no_in_question = bool(self.answered_no.intersection(question))
        no_in_following = bool(following) and (self._early_no(following) or bool(
            self.replies.intersection(following) and self.answered_no.intersection(following)))
        if not (no_in_question or no_in_following):
            return False
        words = question + following
        if set(words) & (self.answered_yes | self.present):
            return False
        answer = words[next(i for i, word in enumerate(words) if word in self.answered_no) :]
        if any(word in self.answered_no and after in self.concealed for word, after in zip(answer, answer[1:])):
            return False  # "didn't tell her", "never mentioned": kept from the asker, not answered no
        return not set(answer[1:]) & self.hedges

    def _early_no(self, words: list[str]) -> bool:
        """The sentence after a question opens with a no ("Never have.", "I said no"), or has one
        standing alone a little later ("Hand on heart, no."), not one inside a clause ("it never stops")."""
        if self.answered_no.intersection(words[:ANSWER_WORDS]):
            return True
        return any(words[k] in self.answered_no and (k + 1 == len(words) or not words[k + 1].isalnum())
                   for k in range(ANSWER_WORDS, min(ANSWER_WORDS_ALONE, len(words))))

    @staticmethod
    def _same_sentence(span: Span, other: Span) -> bool:
        return _sentence(span).start == _sentence(other).start

    def _resolved(self, span: Span, markers: list[Span], present: frozenset[str]) -> bool:
        """True when the span's sentence holds one of `markers` and none of the `present` words (a
        screening item's answer is read by `_answer_resolved`)."""
        if span.label_ in self.questionnaire and span.doc.has_annotation("SENT_START"):
            return self._answer_resolved(span, markers)
        sentence = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
        in_sentence = [m for m in markers if m.start >= sentence.start and m.end <= sentence.end]
        if not in_sentence:
            return False
        return not any(t.lower_ in present for t in sentence)

    def _answer_resolved(self, span: Span, markers: list[Span]) -> bool:
        """A screening item's match runs from the question into its answer, and the answer may go on in
        the sentence after ("Have you ever tried to kill yourself? Yes. Back in 2009, nothing since."):
        the marker is looked for from the match's last word to the end of the sentence after it, and the
        rest of the entry after the match must hold no `present`, `questionnaire_present` or
        `answered_yes` word ("Yes, years ago. Do you have a plan now? Yes.", "Yes. Back in uni. Been
        thinking about doing it again though.")."""
        doc, last = span.doc, span.end - 1
        end = doc[last].sent.end
        end = doc[end].sent.end if end < len(doc) else end
        if not any(m.start >= last and m.end <= end for m in markers):
            return False
        after = self.present | self.questionnaire_present | self.answered_yes
        return not any(t.lower_ in after for t in doc[span.end :])


@lru_cache(maxsize=1)
def default_screen() -> CrisisScreen:
    from unstuck.model.crisis_model import default_model
    from unstuck.model.nlp import get_nlp

    return CrisisScreen(get_nlp(), model=default_model())


def sentence_spans(doc: Doc) -> list[tuple[int, int]]:
    """Each sentence's (start, end) character offsets; the whole entry when it has no sentences."""
    if not len(doc):
        return [(0, len(doc.text))]
    if not doc.has_annotation("SENT_START"):
        return [(0, doc[-1].idx + len(doc[-1]))]
    return [(s.start_char, s.end_char) for s in doc.sents]


def windows_of(count: int) -> list[tuple[int, int]]:
    """The windows a model scores in an entry of `count` sentences: every run of one to MAX_WINDOW
    consecutive sentences, and the whole entry (first and last sentence, inclusive)."""
    found = [(a, min(a + size, count) - 1) for size in range(1, MAX_WINDOW + 1) for a in range(count - size + 1)]
    return list(dict.fromkeys(found + [(0, max(count, 1) - 1)]))


def _minor_writer(text: str) -> bool:
    folded = QUOTED.sub(" ", _fold(text))
    if ADULT_WRITER.search(folded):
        return False
    if MINOR_NOW.search(folded):
        return True
    return bool(OPENING_AGE.search(folded)) and not PAST_AGE.search(folded)


FIELD_SEPARATORS = frozenset([",", ";", "|", "/", "and", ".", "!", "?"])
FIELD_ANSWER = re.compile(r"^(?:\d+(?:/\d+)?%?|no|none|nil|zero|yes|y|n|nope|never|low|high|ok|n/a|na)$")


def _field_shaped(denial: Span) -> bool:
    """A denial in a form's shape: a colon or a zero rating ("Thoughts of death: no.", "urge to die 0,")."""
    return any(t.lower_ == ":" or re.fullmatch(r"0(?:/\d+)?|zero|none|nil", t.lower_) for t in denial)


def _rest_is_fields(denial: Span) -> bool:
    """The rest of a form denial's sentence is more fields, each ending in an answer or a rating
    ("urge to self-harm 0, urge to drink 3."), not prose ("and I've got 40 paracetamol in my bag")."""
    chunk: list[str] = []
    for token in denial.doc[denial.end : _sentence(denial).end]:
        word = token.lower_
        if word in FIELD_SEPARATORS:
            if chunk and not FIELD_ANSWER.match(chunk[-1]):
                return False
            chunk = []
        else:
            chunk.append(word)
    return not chunk or bool(FIELD_ANSWER.match(chunk[-1]))


def _load(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, None, "crisis pattern file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(path, getattr(err, "lineno", None), f"not valid TOML ({err})") from None


@dataclass
class _Section:
    """One section's matchers: PhraseMatchers on lower forms and on lemmas, and one Matcher per token
    pattern, each run only where `anchors` (`unstuck.model.prefilter`) says it could match."""

    lower: PhraseMatcher
    lemma: PhraseMatcher
    patterns: list[Matcher]
    anchors: Anchors

    def could_match(self, everything: set[int]) -> bool:
        return self.anchors.could_match(everything)


def _build(nlp: Language, lemmatizer, section: str, rules: list[dict], kinds: dict[str, str]) -> _Section:
    """A PhraseMatcher on LOWER, one on LEMMA, and anchored token Matchers for one section of the file."""
    built = _Section(PhraseMatcher(nlp.vocab, attr="LOWER"), PhraseMatcher(nlp.vocab, attr="LEMMA"), [], Anchors())
    lemmatize = lemmatizer if lemmatizer is not None else (lambda doc: doc)
    for number, rule in enumerate(rules, start=1):
        rule_id = str(rule.get("id") or f"{section}-{number}")
        kinds[rule_id] = str(rule.get("kind", section))
        phrases = [_fold(str(p)) for p in rule.get("phrases", [])]
        if phrases:
            lower = [nlp.make_doc(p) for p in phrases]
            lemma = [lemmatize(d.copy()) for d in lower]
            built.lower.add(rule_id, lower)
            built.lemma.add(rule_id, lemma)
            for d in lower:
                built.anchors.add_phrase([t.lower_ for t in d])
            for d in lemma:
                built.anchors.add_phrase([t.lemma_ for t in d])
        for pattern in (v for p in rule.get("patterns", []) for v in _hyphen_variants(p)):
            matcher = Matcher(nlp.vocab)
            try:
                matcher.add(rule_id, [pattern])
            except (ValueError, KeyError) as err:
                detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip().startswith("-"))
                raise InputError(PATTERNS_PATH, None, f"{section} {rule_id!r} has a bad pattern {detail}".strip()) from None
            built.patterns.append(matcher)
            built.anchors.add_pattern(pattern, _fold)
    return built


def _hyphen_variants(pattern: list[dict]) -> list[list[dict]]:
    """The pattern, and a variant for each combination of the hyphenated words its tokens list: spaCy
    splits "self-harm" into "self", "-", "harm", so a token listing "self-harm" matches only through
    its pieces. Only plain LOWER tokens, once or optional, are expanded; tokens that repeat ("{0,3}")
    list the pieces themselves."""
    variants: list[list[dict]] = [[]]
    for spec in pattern:
        choices = [[spec]]
        if set(spec) <= {"LOWER", "OP"} and spec.get("OP") in (None, "?"):
            choices += [[{"LOWER": piece} for piece in re.split(r"(-)", word)]
                        for word in _listed_words(spec) if re.fullmatch(r"\w+(-\w+)+", word)]
        variants = [v + c for v in variants for c in choices]
    if len(variants) > MAX_HYPHEN_VARIANTS:
        raise InputError(PATTERNS_PATH, None, f"a pattern lists too many hyphenated words ({len(variants)} variants)")
    return variants


def _listed_words(spec: dict) -> list[str]:
    """The words a token's LOWER names: one, or an IN list."""
    value = spec.get("LOWER")
    if isinstance(value, str):
        return [value]
    return [str(w) for w in value.get("IN", [])] if isinstance(value, dict) else []


def _fold(text: str) -> str:
    """Lower case with straight apostrophes: the form both the patterns and the entries are matched in."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


class _Folder:
    """Folds entries for matching: lower case, straight apostrophes, and lemmas of the folded words.

    Why a copy: the lookup lemmatizer is case-sensitive and keeps curly
    apostrophes, so "Killed myself" (sentence start, lemma "Killed"), "I" vs "i" and "don\u2019t"
    (lemma "n\u2019t") slipped past the LEMMA phrases and patterns. No pattern can fix a wrong
    lemma, so the screen matches on a folded copy; the entry's own Doc is left untouched.

    A lookup lemma depends on the word alone, so each distinct word's folded form and lemma are
    worked out once (with the pipeline's own lemmatizer) and kept; an entry is then read with one
    `Doc.to_array` instead of token by token. This runs on every entry.
    """

    LIMIT = 500_000  # distinct words kept before the cache starts over

    def __init__(self, vocab, lemmatizer) -> None:
        self.vocab, self.lemmatizer = vocab, lemmatizer
        self.known: dict[int, tuple[str, int, int]] = {}  # word -> (folded text, its LOWER, its LEMMA)

    def _fold(self, orth: int) -> tuple[str, int, int]:
        folded = _fold(self.vocab.strings[orth])
        lemma = folded
        if self.lemmatizer is not None:
            lemma = self.lemmatizer(Doc(self.vocab, words=[folded]))[0].lemma_ or folded
        return folded, self.vocab.strings.add(folded.lower()), self.vocab.strings.add(lemma)

    def fold(self, doc: Doc) -> "_FoldedEntry":
        known = self.known
        if len(known) > self.LIMIT:
            known.clear()
        orths = doc.to_array(ORTH).tolist() if len(doc) else []
        folded = []
        for orth in orths:
            found = known.get(orth)
            if found is None:
                found = known[orth] = self._fold(orth)
            folded.append(found)
        return _FoldedEntry(self.vocab, doc, folded)


class _FoldedEntry:
    """An entry's folded words (as string hashes, lower forms and lemmas), in all and per sentence,
    and the folded copy of its Doc to match on; the per-sentence view and the copy are made only
    when asked for."""

    def __init__(self, vocab, doc: Doc, folded: list[tuple[str, int, int]]) -> None:
        self.vocab, self.doc, self.folded = vocab, doc, folded
        self.everything = {w for _, lower, lemma in folded for w in (lower, lemma)}

    @cached_property
    def bounds(self) -> list[tuple[int, int]]:
        doc = self.doc
        if not doc.has_annotation("SENT_START") or not len(doc):
            return [(0, len(doc))]
        cuts = [i for i, start in enumerate(doc.to_array(SENT_START).tolist()) if start == 1 and i] + [len(doc)]
        return list(zip([0] + cuts[:-1], cuts))

    @cached_property
    def per_sentence(self) -> list[set[int]]:
        folded = self.folded
        return [{w for _, lower, lemma in folded[a:b] for w in (lower, lemma)} for a, b in self.bounds]

    def shadow(self) -> Doc:
        """A copy of the entry's Doc with the same tokens, folded, with the folded words' lemmas."""
        doc, folded = self.doc, self.folded
        if not folded:
            return Doc(self.vocab, words=[])
        spaces, starts = doc.to_array([SPACY, SENT_START]).T.tolist()
        sentences = [1 if s == 1 else -1 for s in starts] if doc.has_annotation("SENT_START") else None
        copy = Doc(self.vocab, words=[f[0] for f in folded], spaces=[bool(s) for s in spaces], sent_starts=sentences)
        copy.from_array([LEMMA], numpy.array([[f[2]] for f in folded], dtype="uint64"))
        return copy


def _spans(doc: Doc, words: _FoldedEntry, section: _Section) -> list[Span]:
    spans = []
    for matcher in (section.lower, section.lemma):
        if len(matcher):
            spans.extend(Span(doc, start, end, label=match_id) for match_id, start, end in matcher(doc))
    for idx, first, last in section.anchors.where(words.per_sentence):
        a, b = words.bounds[first][0], words.bounds[last][1]
        spans.extend(Span(doc, a + start, a + end, label=match_id) for match_id, start, end in section.patterns[idx](doc[a:b]))
    return spans


def _dedupe(spans: list[Span]) -> list[Span]:
    seen, unique = set(), []
    for span in sorted(spans, key=lambda s: (s.start, -len(s))):
        if any(span.start >= a and span.end <= b for a, b in seen):
            continue
        seen.add((span.start, span.end))
        unique.append(span)
    return unique


def _sentence(span: Span) -> Span:
    return span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]


def _overlaps(span: Span, others: list[Span]) -> bool:
    return any(span.start < o.end and o.start < span.end for o in others)
