"""Train the tagger honestly: a fixed held-out split, thresholds tuned inside training folds only,
k-fold and held-out-group cross-validation, and a side-by-side comparison of configurations.

Returns values (`TrainResult`); the CLI prints and decides where the model goes.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Sequence

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold, MultilabelStratifiedShuffleSplit
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from unstuck.data.examples import Example, data_hash, normalise
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model.artifact import Manifest, library_versions
from unstuck.model.features import build_pipeline, windowed_proba
from unstuck.model.nlp import doc_features, get_nlp
from unstuck.training.metrics import apply_thresholds, label_matrix, scores, tune_thresholds

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    name: str = "words+chars+length, windows of 2"
    words: bool = True
    chars: bool = True
    vectors: float = 0.0
    C: float = 8.0
    seed: int = 0
    folds: int = 5
    inner_folds: int = 3
    test_size: float = 0.2
    user_weight: int = 1
    # Thresholds maximise F-beta in the inner folds; below 1 weighs precision above recall, so
    # fewer entries with no barrier get a tag.
    threshold_beta: float = 0.8
    # Score the best run of `window` consecutive sentences as well as the whole entry (0: entry
    # only), a window's score counting `window_weight` times: one sentence can carry a tag in a
    # long post without every long post getting tags.
    window: int = 2
    window_weight: float = 0.8
    # Weight each tag's few positives up to its many negatives ("balanced"), or not.
    balanced: bool = True
    # A feature for entries under a dozen words (see `features.shortness`).
    length: bool = True


# Chosen by `unstuck train --compare`: the best micro F1 on held-out real sources among the
# configurations whose held-out-groups macro F1 is within 0.03 of the best (see the model card).
DEFAULT_CONFIG = TrainConfig()
CANDIDATES = (
    TrainConfig("words+chars", window=0, length=False),
    TrainConfig("words+chars+length", window=0),
    TrainConfig("words+chars, windows of 2", length=False),
    TrainConfig("words+chars+length, windows of 2"),
    TrainConfig("words+chars+length, windows of 2, C=2", C=2.0),
    TrainConfig("words+length, windows of 2", chars=False),
)


@dataclass
class Split:
    train: list[Example]
    test: list[Example]


@dataclass
class TrainResult:
    pipeline: object
    manifest: Manifest
    split: Split
    report: dict = field(default_factory=dict)


def split_examples(examples: Sequence[Example], config: TrainConfig = DEFAULT_CONFIG) -> Split:
    """The fixed held-out split. Seed entries: multi-label stratified, seeded. User entries: by a
    stable hash of their text, so an entry held out once stays held out after later additions."""
    seed = sorted((e for e in examples if e.source == "seed"), key=lambda e: e.id)
    real = [e for e in examples if is_real(e)]
    user = [e for e in examples if e.source != "seed" and not is_real(e)]
    test_ids: set[int] = set()
    if len(seed) >= 10:
        splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=config.test_size, random_state=config.seed)
        _, test_idx = next(splitter.split(np.zeros(len(seed)), label_matrix([e.labels for e in seed])))
        test_ids = set(int(i) for i in test_idx)
    train = [e for i, e in enumerate(seed) if i not in test_ids]
    test = [e for i, e in enumerate(seed) if i in test_ids]
    for example in user:
        bucket = int(hashlib.sha256(normalise(example.text).encode()).hexdigest(), 16) % 100
        (test if bucket < config.test_size * 100 else train).append(example)
    # Real text is measured by whole held-out sources (`real_cv`), so all of it trains.
    return Split(train + real, test)


def is_real(example: Example) -> bool:
    """Real text: hand-labeled (`real:<source>`) or unlabeled, taken as no barrier (`weak:<source>`)."""
    return example.source.startswith(("real:", "weak:"))


def featurize(texts: Sequence[str]) -> list[str]:
    return [doc_features(doc) for doc in get_nlp().pipe(texts, batch_size=256)]


def fit(config: TrainConfig, feats: Sequence[str], Y: np.ndarray, weights: np.ndarray | None = None):
    """Fit on pre-made features; the returned pipeline takes raw text again."""
    return fit_with_thresholds(config, feats, Y, weights, folds=0)[0]


def fit_with_thresholds(config, feats, Y, weights=None, folds: int | None = None):
    """A fitted pipeline plus thresholds tuned on out-of-fold predictions of the same data.

    The vectorizers are fitted once on all of `feats` (no labels involved); only the classifier is
    refitted per inner fold, which is where the labels are."""
    pipeline = build_pipeline(words=config.words, chars=config.chars, vectors=config.vectors, C=config.C,
                              balanced=config.balanced, length=config.length,
                              seed=config.seed)
    X = pipeline.named_steps["features"].fit_transform(list(feats))
    Y, repeat = np.asarray(Y), _repeats(weights, len(Y))
    folds = config.inner_folds if folds is None else folds
    thresholds = {}
    if folds:
        P = np.zeros(Y.shape, dtype=float)
        splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
        features = pipeline.named_steps["features"]
        for tr, te in splitter.split(np.zeros(len(Y)), Y):
            classifier = clone(pipeline.named_steps["classifier"])
            with warnings.catch_warnings():
                # A small fold may lack a tag; one-vs-rest then predicts it constantly, as it should.
                warnings.filterwarnings("ignore", "Label .* is present in all training examples", UserWarning)
                classifier.fit(X[np.repeat(tr, repeat[tr])], np.repeat(Y[tr], repeat[tr], axis=0))
            if config.window:
                P[te] = windowed_proba(lambda f: classifier.predict_proba(features.transform(f)),
                                       [feats[i] for i in te], config.window, config.window_weight)
            else:
                P[te] = classifier.predict_proba(X[te])
        thresholds = tune_thresholds(Y, P, config.threshold_beta)
    rows = np.repeat(np.arange(len(Y)), repeat)
    pipeline.named_steps["classifier"].fit(X[rows], Y[rows])
    return pipeline, thresholds


def _repeats(weights: np.ndarray | None, n: int) -> np.ndarray:
    """User examples weighted up count N times; duplication works with every scikit-learn version."""
    return np.ones(n, dtype=int) if weights is None else np.maximum(1, np.asarray(weights, dtype=int))


def out_of_fold(config, feats, Y, folds: int = 5) -> np.ndarray:
    """Out-of-fold probabilities for every entry (for the label audit)."""
    feats, P = np.asarray(feats, dtype=object), np.zeros(Y.shape, dtype=float)
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    for tr, te in splitter.split(np.zeros(len(feats)), Y):
        P[te] = _predict(fit(config, feats[tr], Y[tr]), feats[te], config)
    return P


def cross_validate(config, feats, Y, weights=None, groups: Sequence[str] | None = None,
                   scored: np.ndarray | None = None) -> dict:
    """k-fold (or, given groups, leave-groups-out) scores; thresholds tuned inside each training fold.

    `scored` (a boolean mask) limits the test folds to those entries; the others always train."""
    feats, pred = np.asarray(feats, dtype=object), np.zeros(Y.shape, dtype=int)
    scored = np.ones(len(feats), dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    inside = np.flatnonzero(scored)
    if groups is not None:
        inner = [groups[i] for i in inside]
        splits = GroupKFold(n_splits=min(config.folds, len(set(inner)))).split(inside, Y[inside], inner)
    else:
        splits = MultilabelStratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed).split(
            np.zeros(len(inside)), Y[inside]
        )
    outside = np.flatnonzero(~scored)
    for tr, te in splits:
        tr, te = np.concatenate([inside[tr], outside]), inside[te]
        pred[te] = _fit_predict(config, feats, Y, weights, tr, te)
    return scores(Y[inside], pred[inside])


def held_out_sources(config, feats, Y, sources: Sequence[str], weights=None) -> dict:
    """Each real source held out whole in turn (trained on everything else): pooled scores, and per source."""
    feats, pred = np.asarray(feats, dtype=object), np.zeros(Y.shape, dtype=int)
    sources = np.asarray(sources, dtype=object)
    real = sorted({s for s in sources if s.startswith("real:")})
    per_source = {}
    for source in real:
        # The source's unlabeled no-barrier posts leave with it: the same writers may be in both.
        te = np.flatnonzero(sources == source)
        tr = np.flatnonzero((sources != source) & (sources != "weak:" + source.removeprefix("real:")))
        pred[te] = _fit_predict(config, feats, Y, weights, tr, te)
        per_source[source] = scores(Y[te], pred[te])
    mask = np.isin(sources, real)
    return {**scores(Y[mask], pred[mask]), "sources": per_source} if real else {}


def held_out_writers(config, feats, Y, sources: Sequence[str], groups: Sequence[str], weights=None,
                      n_splits: int = 5) -> dict:
    """The labeled real items split by writer (GroupKFold over writers), everything else always training:
    how the model does on new writers of the kinds of real text it has read, as the shipped model (trained
    on all of them) meets them. A held-out writer's unlabeled posts (`weak:`) leave with them."""
    feats, pred = np.asarray(feats, dtype=object), np.zeros(Y.shape, dtype=int)
    sources, groups = np.asarray(sources, dtype=object), np.asarray(groups, dtype=object)
    inside = np.flatnonzero([s.startswith("real:") for s in sources])
    if len(set(groups[inside])) < 2:
        return {}
    for _, te in GroupKFold(n_splits=min(n_splits, len(set(groups[inside])))).split(inside, groups=groups[inside]):
        te = inside[te]
        tr = np.flatnonzero(~np.isin(groups, groups[te]))
        pred[te] = _fit_predict(config, feats, Y, weights, tr, te)
    per_source = {s: scores(Y[inside][sources[inside] == s], pred[inside][sources[inside] == s])
                  for s in sorted(set(sources[inside]))}
    return {**scores(Y[inside], pred[inside]), "sources": per_source}


def _fit_predict(config, feats, Y, weights, tr, te) -> np.ndarray:
    model, thresholds = fit_with_thresholds(config, feats[tr], Y[tr], None if weights is None else weights[tr])
    return apply_thresholds(_predict(model, feats[te], config), thresholds)


def train(
    examples: Sequence[Example],
    config: TrainConfig = DEFAULT_CONFIG,
    compare: Sequence[TrainConfig] = (),
    progress: Progress | None = None,
    version: str | None = None,
) -> TrainResult:
    """Split, evaluate (held-out, k-fold, held-out groups), fit the final model on the training split."""
    say = progress or (lambda message: None)
    split = split_examples(examples, config)
    say(f"featurizing {len(split.train)} training and {len(split.test)} held-out entries")
    feats, test_feats = featurize([e.text for e in split.train]), featurize([e.text for e in split.test])
    Y, Y_test = label_matrix([e.labels for e in split.train]), label_matrix([e.labels for e in split.test])
    weights = np.array([config.user_weight if e.source == "user" else 1 for e in split.train])
    groups = [e.group or e.source for e in split.train]
    sources = [e.source for e in split.train]
    written = np.array([not is_real(e) for e in split.train])  # the seed set and the user's examples
    report: dict = {"config": asdict(config), "data": _data_summary(split)}
    say(f"cross-validating ({config.folds} folds)")
    report["cv"] = cross_validate(config, feats, Y, weights, scored=written)
    if len({g for g, w in zip(groups, written) if w}) >= 2:
        say("cross-validating by held-out group")
        report["group_cv"] = cross_validate(config, feats, Y, weights, groups=groups, scored=written)
    if not written.all():
        say("holding out each real source in turn")
        report["real_cv"] = held_out_sources(config, feats, Y, sources, weights)
        say("holding out real writers, five folds")
        report["real_writer_cv"] = held_out_writers(config, feats, Y, sources, groups, weights)
    for candidate in compare:
        say(f"comparing configuration {candidate.name!r}")
        candidate = replace(candidate, seed=config.seed, user_weight=config.user_weight)
        row = {"cv_macro_f1": cross_validate(candidate, feats, Y, weights, scored=written)["macro"]["f1"],
               "group_cv_macro_f1": cross_validate(candidate, feats, Y, weights, groups=groups,
                                                   scored=written)["macro"]["f1"]}
        if not written.all():
            real = held_out_sources(candidate, feats, Y, sources, weights)
            row.update(real_micro_f1=real["micro"]["f1"], real_macro_f1=real["macro"]["f1"],
                       real_untagged_kept=1 - real["entries"]["untagged_given_a_tag"])
        report.setdefault("configs", {})[candidate.name] = row
    say("fitting the final model and tuning thresholds")
    pipeline, thresholds = fit_with_thresholds(config, feats, Y, weights, folds=config.folds)
    if split.test:
        report["heldout"] = scores(Y_test, apply_thresholds(_predict(pipeline, test_feats, config), thresholds))
    trained_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    manifest = Manifest(
        version=version or datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S"),
        label_ids=list(LABEL_IDS),
        thresholds=thresholds,
        library_versions=library_versions(),
        data_hash=data_hash(examples),
        trained_at=trained_at,
        n_train=len(split.train),
        config=asdict(config),
        metrics={k: report[k] for k in ("heldout", "cv", "group_cv", "real_cv", "real_writer_cv") if k in report},
    )
    return TrainResult(pipeline, manifest, split, report)


def _predict(pipeline, feats, config: TrainConfig) -> np.ndarray:
    """Probabilities for pre-made feature strings (skips the spaCy step), as the Tagger scores them."""
    return windowed_proba(pipeline[1:].predict_proba, list(feats), config.window, config.window_weight)


def _data_summary(split: Split) -> dict:
    everything = split.train + split.test
    return {
        "n_train": len(split.train),
        "n_test": len(split.test),
        "n_user": sum(e.source == "user" for e in everything),
        "n_real": {s: sum(e.source == s for e in everything) for s in sorted({e.source for e in everything
                                                                              if is_real(e)})},
        "groups": sorted({e.group for e in everything}),
        "label_counts": {k: sum(k in e.labels for e in everything) for k in LABEL_IDS},
        "no_label": sum(not e.labels for e in everything),
    }


def learning_curve(
    examples: Sequence[Example],
    config: TrainConfig = DEFAULT_CONFIG,
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    progress: Progress | None = None,
) -> list[dict]:
    """Held-out macro/micro F1 when training on growing shares of the training split (same held-out
    entries each time): if the curve still climbs at 100%, labeling more examples should help."""
    say = progress or (lambda message: None)
    split = split_examples(examples, config)
    feats, test_feats = featurize([e.text for e in split.train]), featurize([e.text for e in split.test])
    Y, Y_test = label_matrix([e.labels for e in split.train]), label_matrix([e.labels for e in split.test])
    order = np.random.default_rng(config.seed).permutation(len(feats))
    points = []
    for fraction in fractions:
        take = np.sort(order[: max(10, int(round(fraction * len(feats))))])
        say(f"training on {fraction:.0%} of the training split ({len(take)} entries)")
        pipeline, thresholds = fit_with_thresholds(config, [feats[i] for i in take], Y[take])
        result = scores(Y_test, apply_thresholds(_predict(pipeline, test_feats, config), thresholds))
        points.append({"fraction": fraction, "n_train": int(len(take)),
                       "macro_f1": result["macro"]["f1"], "micro_f1": result["micro"]["f1"]})
    return points
