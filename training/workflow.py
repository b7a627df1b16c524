"""The user's side of training: added examples, versioned models, promotion and first-run rebuild.

Everything is written under `unstuck.model.store.home()`; the installed package is never written.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from unstuck.data.examples import Example, data_hash, load_seed, read_examples, write_examples
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model import catalog, store
from unstuck.model.artifact import Manifest, ModelError, library_versions, save_model
from unstuck.model.crisis_model import CrisisModelError, default_model, rebuilt_dir
from unstuck.model.nlp import MAX_CHARS
from unstuck.model.tagger import Tagger
from unstuck.training.card import model_card
from unstuck.training.crisis import rebuild as rebuild_crisis
from unstuck.training.evaluate import evaluate
from unstuck.training.examples import Additions, sort_new
from unstuck.training.train import (
    DEFAULT_CONFIG, TrainConfig, TrainResult, featurize, fit_with_thresholds, split_examples,
)
from unstuck.training.metrics import label_matrix

CARD_FILE = "MODEL_CARD.md"


@dataclass
class Promotion:
    version: str
    path: Path
    promoted: bool
    reason: str
    candidate: dict
    current: dict | None


def user_examples() -> list[Example]:
    examples: list[Example] = []
    for path in sorted(store.examples_dir().glob("*.jsonl")):
        result = read_examples(path, source="user")
        if result.errors:
            raise result.errors[0]
        examples.extend(result.examples)
    return examples


def all_examples(real_texts: Path | None = None) -> list[Example]:
    """The seed set, the user's examples and, where their texts were rebuilt (`real_texts`, else
    `$UNSTUCK_REAL`; see `unstuck.training.real_sources`), the labeled real posts."""
    from unstuck.data.real import default_texts_dir, load_real

    real_texts = real_texts or default_texts_dir()
    return load_seed() + user_examples() + (load_real(real_texts) if real_texts else [])


def validate_new(path: Path) -> Additions:
    """Read a file of new examples: new ones, corrections of added ones (same text, other labels),
    and errors (bad rows, rows with no answer, duplicates of examples we already have)."""
    return sort_new(path)


def store_examples(examples: list[Example], name: str) -> Path:
    directory = store.examples_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = directory / f"{stamp}-{Path(name).stem}.jsonl"
    tmp = target.with_suffix(".tmp")
    try:
        write_examples(tmp, [Example(e.id, e.text, e.labels, "user", e.group or "user") for e in examples])
        os.replace(tmp, target)
    except BaseException:  # a half-written file of entries must not stay behind
        tmp.unlink(missing_ok=True)
        raise
    return target


def save_result(result: TrainResult, directory: Path) -> Path:
    save_model(directory, result.pipeline, result.manifest)
    (directory / CARD_FILE).write_text(model_card(result.manifest, result.report), encoding="utf-8")
    (directory / "report.json").write_text(json.dumps(result.report, indent=1) + "\n", encoding="utf-8")
    return directory


def promote(result: TrainResult, force: bool = False) -> Promotion:
    """Save the candidate as a new version; make it active only if held-out macro F1 did not drop."""
    candidate = result.report.get("heldout")
    current = None
    try:
        current_tagger = Tagger.load()
        if result.split.test:
            current = evaluate(current_tagger, result.split.test).metrics
    except ModelError:
        current_tagger = None
    path = save_result(result, store.models_dir() / result.manifest.version)
    if current is None or candidate is None:
        promoted, reason = True, "no usable current model to compare with"
    elif candidate["macro"]["f1"] + 1e-9 >= current["macro"]["f1"]:
        promoted, reason = True, (f"held-out macro F1 {candidate['macro']['f1']:.3f} >= current "
                                  f"{current['macro']['f1']:.3f}")
    elif force:
        promoted, reason = True, (f"forced: held-out macro F1 {candidate['macro']['f1']:.3f} < current "
                                  f"{current['macro']['f1']:.3f}")
    else:
        promoted, reason = False, (f"held-out macro F1 dropped from {current['macro']['f1']:.3f} to "
                                   f"{candidate['macro']['f1']:.3f}; kept as {result.manifest.version} but not "
                                   f"activated (use --force, or `unstuck models use {result.manifest.version}`)")
    if promoted:
        store.set_active(result.manifest.version)
    return Promotion(result.manifest.version, path, promoted, reason, candidate or {}, current)


def list_models() -> list[dict]:
    """Every model the user can switch to, the shipped one first (see `unstuck.model.catalog`)."""
    return catalog.list_models()


def use_model(version: str) -> None:
    """Make `version` active; raises `catalog.UnknownModel` listing the known versions."""
    catalog.use_model(version)


def load_tagger(path: Path | None = None, notify: Callable[[str], None] | None = None) -> Tagger:
    """The tagger to use. If the shipped model (or the shipped crisis model) cannot be loaded by this
    install's libraries, rebuild it from the shipped data into the user's data directory, once, and
    say so."""
    try:
        default_model()
    except CrisisModelError as err:
        if notify:
            notify(f"the shipped crisis model cannot be used here ({str(err).split(': ', 1)[-1]}); rebuilding "
                   f"it from the shipped cases into {rebuilt_dir()} (once, a few seconds)")
        rebuild_crisis(rebuilt_dir())
        default_model.cache_clear()
        default_model()  # raises if even the rebuilt copy cannot be loaded
    try:
        return Tagger.load(path)
    except ModelError as err:
        if path is not None or store.active_version() != store.SHIPPED:
            raise
        reason = str(err)
    rebuilt = store.models_dir() / "rebuilt-shipped"
    try:
        tagger = Tagger.load(rebuilt)
        if tagger.manifest.data_hash == _seed_hash():
            return tagger
    except ModelError:
        pass
    if notify:
        notify(f"the shipped model cannot be used here ({reason.split(': ', 1)[-1]}); rebuilding it from the "
               f"shipped data into {rebuilt} (once, a few seconds)")
    quick_rebuild(rebuilt)
    return Tagger.load(rebuilt)


def quick_rebuild(directory: Path, config: TrainConfig = DEFAULT_CONFIG) -> Path:
    """Fit the default configuration on the seed set's training split, without the evaluation runs."""
    seed = load_seed()
    split = split_examples(seed, config)
    pipeline, thresholds = fit_with_thresholds(config, featurize([e.text for e in split.train]),
                                               label_matrix([e.labels for e in split.train]))
    manifest = Manifest(version=directory.name, label_ids=list(LABEL_IDS), thresholds=thresholds,
                        library_versions=library_versions(), data_hash=data_hash(seed),
                        trained_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                        n_train=len(split.train), config=asdict(config))
    save_model(directory, pipeline, manifest)
    return directory


def _seed_hash() -> str:
    return data_hash(load_seed())

