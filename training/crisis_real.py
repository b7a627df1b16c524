"""The crisis screen on real posts: each real source held out in turn (trained on the rest, thresholds
cross-validated on the training rows alone), and whether the shipped model should learn from real
posts at all, decided by cross-validation inside the training data. Returns values; prints nothing.

Never reads tests/data/ or the held-out items of shared/holdout/ (`join_real` refuses them).
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import numpy as np

from unstuck.data.real import join_real
from unstuck.training.crisis import (MAX_LOOKALIKE_ALARMS, MAX_ORDINARY_ALARMS, Corpus, alarm_rates,
                                     choose_thresholds, cross_validate, entry_scores, fit_windows, folds, screened,
                                     train)

# Low et al.'s mental-health support subreddits; the others in the set (finance, politics, teaching,
# guns, divorce, mindfulness...) are its controls.
MENTAL_HEALTH = frozenset({"EDAnonymous", "ForeverAlone", "addiction", "adhd", "alcoholism", "anxiety", "autism",
                           "bipolarreddit", "bpd", "depression", "healthanxiety", "lonely", "mentalhealth", "ptsd",
                           "schizophrenia", "socialanxiety", "suicidewatch"})
# Words, not labels: which posts use a suicide word, and which posts at risk speak of a plan or an attempt.
SUICIDE_WORDS = re.compile(r"\b(suicid\w*|kill(ing|ed)? (my|him|her|them)sel(f|ves)|kms|end(ing)? (it all|my life)"
                           r"|(want|wanted|wanting) to die|self[- ]?harm\w*)\b", re.I)
PLAN_OR_ATTEMPT = re.compile(r"\b(plan(s|ned|ning)?|attempt\w*|overdos\w*|od'?d|pills|rope|noose|hang(ing|ed)?"
                             r"|jump(ing|ed)?|bridge|gun|razor|tried to (kill|end))\b", re.I)
SHARE = 0.02  # real posts are kept in training if they raise real recall and cost synthetic recall at most this
# Whatever the comparison decides, this source's posts never train the shipped model: it stays a real
# source the shipped model has not seen (issue 16 asks for one), measured in meta["real"]["shipped_model"].
HELD_OUT_SOURCE = "rmhd"


def post_sets(corpus: Corpus, details: list[str], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Masks over `rows` (real posts, in corpus order) for the issue's measures."""
    at_risk = corpus.at_risk[rows]
    text = [corpus.texts[i] for i in rows]
    source = corpus.source[rows]
    mental = np.array([s == "cssrs" or (s == "rmhd" and details[i] in MENTAL_HEALTH) for s, i in zip(source, rows)])
    words = np.array([bool(SUICIDE_WORDS.search(t)) for t in text])
    plan = np.array([bool(PLAN_OR_ATTEMPT.search(t)) for t in text])
    return {"at_risk": at_risk, "plan_or_attempt_words": at_risk & plan,
            "depressed_without_ideation": ~at_risk & mental, "suicide_words_not_at_risk": ~at_risk & words,
            "not_at_risk": ~at_risk}


def rates_on(flagged: np.ndarray, sets: dict[str, np.ndarray]) -> dict:
    """Recall on the sets at risk, false alarms on the others, with their sizes."""
    out = {}
    for name, mask in sets.items():
        key = "recall" if name in ("at_risk", "plan_or_attempt_words") else "false_alarms"
        out[name] = {key: float(flagged[mask].mean()) if mask.any() else None, "n": int(mask.sum())}
    return out


def held_out_source(corpus: Corpus, details: list[str], source: str, seed: int = 0) -> dict:
    """Train on everything but `source`'s posts (thresholds by cross-validation on those rows), and
    measure the rules, and the rules plus that model, on `source`'s posts (3-fold, to keep the build short)."""
    test = np.flatnonzero((corpus.kind == "real") & (corpus.source == source))
    rows = np.flatnonzero(~np.isin(np.arange(len(corpus.texts)), test))
    threshold, window_threshold, _ = cross_validate(corpus, rows, seed, n_splits=3)  # 3 folds: time
    pipeline = fit_windows(corpus, rows, seed)
    sets = post_sets(corpus, details, test)
    return {"threshold": threshold, "window_threshold": window_threshold,
            "rules": rates_on(corpus.by_rules[test], sets),
            "rules+model": rates_on(screened(pipeline, (threshold, window_threshold), corpus, test), sets)}


def with_and_without(corpus: Corpus, seed: int = 0) -> dict:
    """The same 5 folds, a model trained with and one without the real posts of each training fold;
    each with its thresholds chosen as its build would (without: on the other rows alone). Rates are
    the screen's (rules plus model) on every out-of-fold row. `keep` applies the rule fixed in advance."""
    n, real = len(corpus.texts), corpus.kind == "real"
    scores = {name: (np.zeros(n), np.zeros(n)) for name in ("with", "without")}
    everything = np.arange(n)
    for train_rows, test_rows in folds(corpus, everything, seed):
        for name, rows in (("with", train_rows), ("without", train_rows[~real[train_rows]])):
            whole, part = scores[name]
            whole[test_rows], part[test_rows] = entry_scores(fit_windows(corpus, rows, seed), corpus, test_rows)
    out = {}
    for name, (whole, part) in scores.items():
        chosen = everything if name == "with" else everything[~real]
        threshold, window_threshold, _ = choose_thresholds(whole[chosen], part[chosen], corpus.at_risk[chosen],
                                                           corpus.kind[chosen])
        by_model = (whole >= threshold) | (part >= window_threshold)
        flagged = corpus.by_rules | (~corpus.rule_safety & by_model)
        out[name] = {"threshold": threshold, "window_threshold": window_threshold,
                     **alarm_rates(flagged, corpus.at_risk, corpus.kind)}
    with_, without = out["with"], out["without"]
    out["keep"] = bool(with_["real_recall"] > without["real_recall"] and with_["recall"] >= without["recall"] - SHARE
                       and with_["ordinary_alarms"] <= max(MAX_ORDINARY_ALARMS, without["ordinary_alarms"])
                       and with_["lookalike_alarms"] <= max(MAX_LOOKALIKE_ALARMS, without["lookalike_alarms"]))
    return out


def real_report(corpus: Corpus, texts_dir: Path, seed: int = 0) -> dict:
    """Each real source with enough posts at risk held out in turn, and the with/without comparison."""
    details = real_details(corpus, texts_dir)
    # sources with enough posts at risk to measure recall on (counsel-chat has 12)
    sources = [s for s in sorted(set(corpus.source[corpus.kind == "real"]))
               if (corpus.at_risk & (corpus.source == s)).sum() >= 30]
    return {"held_out": {s: held_out_source(corpus, details, s, seed) for s in sources},
            "with_and_without": with_and_without(without_source(corpus, HELD_OUT_SOURCE), seed)}


def without_source(corpus: Corpus, source: str | None = None) -> Corpus:
    """The corpus without one real source's posts (`None`: without any real post)."""
    real = corpus.kind == "real"
    rows = np.flatnonzero(~(real if source is None else real & (corpus.source == source)))
    picked = {}
    for field in fields(Corpus):
        value = getattr(corpus, field.name)
        picked[field.name] = value[rows] if isinstance(value, np.ndarray) else [value[i] for i in rows]
    return Corpus(**picked)


def shipped_on_real(corpus: Corpus, texts_dir: Path, pipeline, thresholds: tuple[float, float],
                    trained: frozenset[str] = frozenset()) -> dict:
    """The shipped model measured on each real source (rules alone, rules plus model); `trained` names
    the sources it learned from, whose figures are then not held out."""
    details = real_details(corpus, texts_dir)
    out = {}
    for source in sorted(set(corpus.source[corpus.kind == "real"])):
        rows = np.flatnonzero((corpus.kind == "real") & (corpus.source == source))
        sets = post_sets(corpus, details, rows)
        out[source] = {"trained_on": source in trained, "rules": rates_on(corpus.by_rules[rows], sets),
                       "rules+model": rates_on(screened(pipeline, thresholds, corpus, rows), sets)}
    return out


def real_details(corpus: Corpus, texts_dir: Path) -> list[str]:
    """Each corpus row's detail (a Reddit post's subreddit; "" elsewhere)."""
    details = [""] * len(corpus.texts)
    for i, (item, _) in zip(np.flatnonzero(corpus.kind == "real"), join_real(texts_dir)):
        details[i] = item.detail
    return details


def build_with_real(corpus: Corpus, texts_dir: Path, seed: int = 0) -> tuple:
    """(pipeline, meta) for the shipped model: with the real posts in `corpus` but those of
    HELD_OUT_SOURCE if cross-validation inside the training data says they help (`with_and_without`),
    else without any, then measured on every real source. meta["real"] holds all of it."""
    real = real_report(corpus, texts_dir, seed)
    chosen = real["with_and_without"]
    found = chosen["with" if chosen["keep"] else "without"]  # its cross-validation is the build's
    kept = without_source(corpus, HELD_OUT_SOURCE if chosen["keep"] else None)
    pipeline, meta = train(seed, corpus=kept, thresholds=(found["threshold"], found["window_threshold"]))
    meta["cross_validated_rules_and_model"] = {k: v for k, v in found.items() if "threshold" not in k}
    meta["trained_on_real"] = chosen["keep"]
    trained = frozenset(kept.source[kept.kind == "real"])
    real["shipped_model"] = shipped_on_real(corpus, texts_dir, pipeline, (meta["threshold"], meta["window_threshold"]),
                                            trained)
    meta["real"] = real
    return pipeline, meta
