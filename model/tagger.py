"""`Tagger`: one loaded model that tags entries; every command (tag, batch, report) goes through it.

One code path: text -> spaCy Doc (parsed once) -> crisis screen + classifier scores -> `Tagging`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from unstuck.data.errors import UnstuckError
from unstuck.data.records import Span, Tagging
from unstuck.data.resources import help_lines
from unstuck.data.taxonomy import LABEL_IDS, Audience, default_taxonomy
from unstuck.model import store
from unstuck.model.artifact import REMEDY, SHIPPED_REMEDY, Manifest, ModelError, load_model
from unstuck.model.evidence import find_evidence, token_weights
from unstuck.model.fast_paths import on
from unstuck.model.fast_tfidf import FastTfidf, fast_blocks, membership, same, stack
from unstuck.model.features import windowed_proba
from unstuck.model.nlp import MAX_CHARS, SENTENCE_BREAK, doc_features, get_nlp
from unstuck.data.region import chosen_region
from unstuck.model.safety import default_screen

BATCH_SIZE = 128
# Entries of several sentences on which the one-pass window scoring must equal the plain one exactly.
WINDOW_CHECK_TEXTS = [
    "Cancelled again. Work ate Thursday! Drank too much after, not proud. She asked why; I didn't say.",
    "one.\n\ntwo two? three, three three. four", "Café naïve. 😬 İstanbul ﬁne. ok",
]
# Feature strings on which the fast scoring path must give exactly the pipeline's numbers at load time.
CHECK_TEXTS = [
    "i not NOT_go NOT_scare <s> cancel <num> session again", "café Zoë naïve ☕️ 😬🙈 <s> İstanbul ǅemal ﬁne",
    "\u05e9\u05dc\u05d5\u05dd a I x yy", "", "she 's be late <s> <s> NOT_<num> do nt", "drink wine hungover beer",
]


class EntryTooLong(UnstuckError, ValueError):
    """An entry over `MAX_CHARS`; refused rather than risk a hang or running out of memory."""


@dataclass
class Explanation:
    label: str
    score: float
    threshold: float
    for_words: list[tuple[str, float]]
    against_words: list[tuple[str, float]]


class Tagger:
    """A fitted pipeline, its manifest, and the shared spaCy pipeline and crisis screen."""

    def __init__(self, pipeline, manifest: Manifest, path: Path | None = None) -> None:
        self.pipeline = pipeline
        self.manifest = manifest
        self.path = path
        self.thresholds = {k: float(manifest.thresholds[k]) for k in LABEL_IDS}  # read_manifest refuses a gap
        self.nlp = get_nlp()
        self.screen = default_screen()
        # whose help lines a flagged entry carries: the saved preference or the locale, else every region's
        self.region = chosen_region(strict=False)
        self._fast = _FastScores.for_pipeline(pipeline, self.nlp)
        # Scores are the larger of the entry's and its best window's (see `features.windowed_proba`).
        self.window = int(manifest.config.get("window", 0))
        self.window_weight = float(manifest.config.get("window_weight", 1.0))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Tagger":
        """Load a model directory; by default the active one. The one way to get a tagger (batch
        workers keep theirs: `partition.cached_tagger`). ModelError if this install cannot use it or
        the crisis model: the shipped ones are rebuilt only by `unstuck models rebuild`, on request."""
        from unstuck.model.crisis_model import CrisisModelError

        path = Path(path) if path else store.model_path(store.active_version())
        shipped = path == store.DEFAULT_MODEL_DIR
        pipeline, manifest = load_model(path, SHIPPED_REMEDY if shipped else REMEDY)
        try:
            return cls(pipeline, manifest, path)
        except CrisisModelError as err:
            raise ModelError(f"{err}; {SHIPPED_REMEDY}") from None

    @property
    def version(self) -> str:
        return self.manifest.version

    def as_json(self, tagging: Tagging, audience: Audience) -> dict:
        """What `unstuck tag --json` prints: the tagging with its evidence, the model's version, and
        each tag's next steps for `audience`."""
        out = tagging.as_dict(evidence=True)
        out["model_version"] = self.version
        out["next_steps"] = {k: list(default_taxonomy()[k].steps_for(audience)) for k in tagging.labels}
        return out

    def tag(self, text: str, evidence: bool = True) -> Tagging:
        return next(self.tag_many([text], evidence=evidence))

    def tag_many(self, texts: Iterable[str], evidence: bool = False) -> Iterator[Tagging]:
        """Tag texts in order, in batches; raises EntryTooLong for an oversize entry."""
        batch: list[str] = []
        for text in texts:
            if len(text) > MAX_CHARS:
                raise EntryTooLong(f"entry is {len(text):,} characters; the limit is {MAX_CHARS:,}")
            batch.append(text)
            if len(batch) >= BATCH_SIZE:
                yield from self._tag_batch(batch, evidence)
                batch = []
        if batch:
            yield from self._tag_batch(batch, evidence)

    def _tag_batch(self, texts: list[str], evidence: bool) -> list[Tagging]:
        docs = list(self.nlp.pipe(texts, batch_size=BATCH_SIZE))
        probabilities = self.predict_proba(docs) if docs else []
        crises = self.screen.screen_many(docs, texts)
        return [self._tagging(doc, row, crisis, evidence) for doc, row, crisis in zip(docs, probabilities, crises)]

    def predict_proba(self, docs: list):
        """Per-label scores for parsed Docs: the pipeline's, over the entry and its windows."""
        features = [doc_features(doc) for doc in docs]
        # kept: one pass counts each sentence once for the entry and all its windows, not once per window
        if self._fast is not None and self._fast.windows_exact and on("windows"):
            return self._fast.windowed_proba(features, self.window, self.window_weight)
        return windowed_proba(self._score_features, features, self.window, self.window_weight)

    def _score_features(self, features: list[str]):
        """`self.pipeline[1:].predict_proba(features)`: the same numbers, faster when the pipeline allows it."""
        return self._fast.predict_proba(features) if self._fast else self.pipeline[1:].predict_proba(features)

    def _tagging(self, doc, row, crisis, evidence: bool) -> Tagging:
        scores = {label: float(p) for label, p in zip(LABEL_IDS, row)}
        labels = sorted((k for k in LABEL_IDS if scores[k] >= self.thresholds[k]), key=lambda k: -scores[k])
        tagging = Tagging(labels, scores, crisis.flagged, list(crisis.matches), safety=crisis.safety,
                          safety_matches=list(crisis.safety_matches))
        if crisis.flagged or crisis.safety:
            tagging.resources = help_lines(self.region, crisis=crisis.flagged, safety=crisis.safety)
        if evidence and labels:
            tagging.evidence = self._evidence(doc, labels)
        return tagging

    def explain(self, text: str, label: str, top: int = 8) -> Explanation:
        """One label's score against its threshold, and the words that pushed it up and down."""
        if len(text) > MAX_CHARS:
            raise EntryTooLong(f"entry is {len(text):,} characters; the limit is {MAX_CHARS:,}")
        doc = self.nlp(text)
        k = LABEL_IDS.index(label)
        score = float(self.predict_proba([doc])[0][k])
        weights = token_weights(self.pipeline, doc, k)
        words = [(doc[i].text + (" (negated)" if doc[i]._.negated else ""), float(w))
                 for i, w in enumerate(weights) if w]
        words.sort(key=lambda pair: -pair[1])
        return Explanation(label, score, self.thresholds[label],
                           [w for w in words if w[1] > 0][:top], [w for w in words[::-1] if w[1] < 0][:top])

    def _evidence(self, doc, labels: list[str]) -> dict[str, list[Span]]:
        sentences = list(doc.sents)
        per_sentence = self.predict_proba(list(self.nlp.pipe([s.text for s in sentences])))
        found = {}
        for label in labels:
            k = LABEL_IDS.index(label)
            found[label] = find_evidence(self.pipeline, doc, k, [float(p[k]) for p in per_sentence],
                                         self.thresholds[label])
        return found


class _FastScores:
    """The pipeline's `predict_proba` on feature strings, with its TF-IDF blocks through `FastTfidf`.

    Only for the shape `features.build_pipeline` makes (SpacyFeaturizer -> unweighted FeatureUnion ->
    classifier), and only if it gives exactly the pipeline's own numbers on `CHECK_TEXTS` when the
    model is loaded; otherwise (another scikit-learn, another pipeline) the tagger calls the pipeline."""

    def __init__(self, blocks: list, classifier) -> None:
        self.blocks = blocks
        self.classifier = classifier
        self.windows_exact = False

    @classmethod
    def for_pipeline(cls, pipeline, nlp) -> "_FastScores | None":
        try:
            from sklearn.pipeline import FeatureUnion, Pipeline

            from unstuck.model.features import SpacyFeaturizer

            if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 3:
                return None
            if not (on("counts") or on("windows")):
                return None
            (_, featurizer), (_, union), (_, classifier) = pipeline.steps
            if (type(featurizer) is not SpacyFeaturizer or type(union) is not FeatureUnion
                    or union.transformer_weights or not hasattr(classifier, "predict_proba")):
                return None
            if any(isinstance(t, str) or not hasattr(t, "transform") for _, t in union.transformer_list):
                return None
            blocks = fast_blocks([t for _, t in union.transformer_list], CHECK_TEXTS)
            if blocks is None:
                return None
            fast = cls(blocks, classifier)
            docs = list(nlp.pipe(CHECK_TEXTS[:3]))
            if not same(fast.predict_proba([doc_features(doc) for doc in docs]), pipeline.predict_proba(docs)):
                return None
            checks = [doc_features(doc) for doc in nlp.pipe(CHECK_TEXTS + WINDOW_CHECK_TEXTS)]
            fast.windows_exact = all(same(fast.windowed_proba(checks, size, 0.8),
                                          windowed_proba(pipeline[1:].predict_proba, checks, size, 0.8))
                                     for size in (1, 2, 3))
            return fast
        except Exception:  # a surprise from another scikit-learn: score with the pipeline as it is
            return None

    def predict_proba(self, features: list[str]):
        """Probabilities for feature strings (what the pipeline's SpacyFeaturizer makes of Docs)."""
        return self.classifier.predict_proba(stack([block.transform(features) for block in self.blocks]))

    def windowed_proba(self, features: list[str], size: int, weight: float):
        """`features.windowed_proba` over this pipeline, with each sentence counted once: an entry's or
        a window's n-gram counts are its sentences' counts plus one separator's per sentence break
        (word n-grams never cross a break; character n-grams are counted word by word), so the
        entry and all its windows cost one pass over its words instead of three."""
        import numpy as np
        from scipy import sparse

        sentences = [text.split(f" {SENTENCE_BREAK} ") for text in features]
        spans = [(0, len(parts) - 1) for parts in sentences]  # each entry, then every window
        owners = list(range(len(features)))
        for i, parts in enumerate(sentences):
            if 0 < size < len(parts):
                spans += [(a, a + size - 1) for a in range(len(parts) - size + 1)]
                owners += [i] * (len(parts) - size + 1)
        flat = [part for parts in sentences for part in parts]
        member = membership([len(parts) for parts in sentences], [(o, a, b) for (a, b), o in zip(spans, owners)])
        breaks = np.array([[b - a] for a, b in spans], dtype=np.float64)
        texts = None
        matrices = []
        for block in self.blocks:
            if isinstance(block, FastTfidf):
                counts = member @ block.counts(flat)
                separator = block.counts([f"x {SENTENCE_BREAK} x"]) - 2 * block.counts(["x"])
                if separator.nnz:
                    counts = counts + sparse.csr_matrix(breaks) @ separator
                counts = sparse.csr_matrix(counts)
                counts.eliminate_zeros()
                counts.sort_indices()
                matrices.append(block.weigh(counts))
            else:
                if texts is None:
                    texts = [f" {SENTENCE_BREAK} ".join(sentences[o][a:b + 1]) for (a, b), o in zip(spans, owners)]
                matrices.append(block.transform(texts))
        P = self.classifier.predict_proba(stack(matrices))
        entry, best = P[: len(features)], np.zeros_like(P[: len(features)])
        if len(spans) > len(features):
            np.maximum.at(best, np.array(owners[len(features):]), P[len(features):] * weight)
        return np.maximum(entry, best)
