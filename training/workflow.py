"""The user's side of training: added examples, versioned models, promotion, and rebuilding the
shipped models for an install whose libraries cannot read them. Returns values; never prints.

Everything is written under `unstuck.data.home.home()` (or a folder the caller names with `out`);
the installed package is never written.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from unstuck.data.examples import Example, data_hash, load_seed, write_examples
from unstuck.data.home import examples_dir
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model import catalog, store
from unstuck.model.artifact import Manifest, ModelError, library_versions, load_model, read_manifest, save_model
from unstuck.model.crisis_model import CrisisModelError, default_model, rebuilt_dir
from unstuck.model.tagger import Tagger
from unstuck.training.card import model_card
from unstuck.training.crisis import rebuild as rebuild_crisis
from unstuck.training.evaluate import evaluate
from unstuck.data.errors import InputError
from unstuck.model.artifact import check_model_target
from unstuck.training.examples import Relabel, added_examples, drop_replaced, sort_new
from unstuck.training.train import (
    CANDIDATES, DEFAULT_CONFIG, TrainConfig, TrainResult, featurize, fit_with_thresholds, split_examples,
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


@dataclass
class Addition:
    """What `add_examples` stored: the file, how many new examples, which corrections, which bad rows
    were passed over."""
    path: Path
    source: Path
    added: int
    relabels: list[Relabel]
    skipped: list[InputError]

    def notes(self) -> list[str]:
        """Each correction, then a count: what the user is told before training starts."""
        lines = [f"{self.source}:{r.new.line}: corrects added example {r.old.key}: labels were "
                 f"{', '.join(r.old.example.labels) or 'no barrier'}, now {', '.join(r.new.labels) or 'no barrier'}"
                 for r in self.relabels]
        return lines + [f"added {self.added} example(s) and corrected {len(self.relabels)}: {self.path}"]


@dataclass
class Retraining:
    """One run of `retrain`: what was added (if anything), the trained model, and either where it was
    written (`out`) or what promotion decided."""
    added: Addition | None
    trained: TrainResult
    out: Path | None
    promotion: Promotion | None


def retrain(add: Path | None = None, *, skip_invalid: bool = False, user_weight: int = 1, force: bool = False,
            compare: bool = False, out: Path | None = None, real: Path | None = None,
            progress: Callable[[str], None] = lambda message: None,
            on_bad_row: Callable[[InputError], None] = lambda error: None) -> Retraining:
    """`unstuck train`: add the examples in `add`, train on the seed set plus every added example
    (plus the real posts in `real`), then write the model to `out` or save it as a new version that
    becomes active only if it did not score worse (or with `force`)."""
    if out is not None:
        check_model_target(out)  # before hours of training, and before anything is added
    added = add_examples(add, skip_invalid, on_bad_row) if add is not None else None
    for line in added.notes() if added else ():
        progress(line)
    from unstuck.training.train import train  # looked up at call time: tests stand a tiny trainer in for it

    config = replace(DEFAULT_CONFIG, user_weight=user_weight)
    trained = train(all_examples(real), config, compare=CANDIDATES if compare else (), progress=progress,
                    version="shipped" if out else None)
    if out is not None:
        return Retraining(added, trained, save_result(trained, out), None)
    return Retraining(added, trained, None, promote(trained, force=force))


def learning_curve(real: Path | None = None, user_weight: int = 1,
                   progress: Callable[[str], None] = lambda message: None) -> list[dict]:
    """`unstuck train --curve`: held-out scores at growing shares of the training data."""
    from unstuck.training.train import learning_curve as curve

    return curve(all_examples(real), replace(DEFAULT_CONFIG, user_weight=user_weight), progress=progress)


def add_examples(path: Path, skip_invalid: bool = False,
                 on_bad_row: Callable[[InputError], None] = lambda error: None) -> Addition:
    """Store the new examples of `path` and apply its corrections. Each bad row goes to `on_bad_row`;
    then, unless `skip_invalid`, InputError and nothing is stored. InputError too if nothing is new."""
    found = sort_new(path)
    for error in found.errors:
        on_bad_row(error)
    if found.errors and not skip_invalid:
        raise InputError(path, None, f"{len(found.errors)} bad row(s); nothing was added "
                                     "(fix them, or use --skip-invalid)")
    if not found.examples and not found.relabels:
        raise InputError(path, None, "no new examples to add")
    stored = store_examples(found.examples + [r.new for r in found.relabels], path.name)
    drop_replaced(found.relabels)
    return Addition(stored, path, len(found.examples), found.relabels, found.errors)


def user_examples() -> list[Example]:
    """The examples the user added. One too long to tag (stored before such were refused at
    `train --add`) stops training and `data check` with the way to remove it, not a crash later."""
    from unstuck.model.nlp import MAX_CHARS

    added = added_examples()
    for one in added:
        if len(one.example.text) > MAX_CHARS:
            raise InputError(one.file, one.example.line, f"an added example of {len(one.example.text):,} characters "
                             f"is over the limit of {MAX_CHARS:,}; remove it with `unstuck examples remove {one.key}`")
    return [one.example for one in added]


def all_examples(real_texts: Path | None = None) -> list[Example]:
    """The seed set, the user's examples and, where their texts were rebuilt (`real_texts`, else
    `$UNSTUCK_REAL`; see `unstuck.training.real_sources`), the labeled real posts."""
    from unstuck.data.real import default_texts_dir, load_real

    real_texts = real_texts or default_texts_dir()
    return load_seed() + user_examples() + (load_real(real_texts) if real_texts else [])


def store_examples(examples: list[Example], name: str) -> Path:
    directory = examples_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = directory / f"{stamp}-{Path(name).stem}.jsonl"
    write_examples(target, [Example(e.id, e.text, e.labels, "user", e.group or "user") for e in examples])
    return target


def save_result(result: TrainResult, directory: Path) -> Path:
    return save_model(directory, result.pipeline, result.manifest,
                      {CARD_FILE: model_card(result.manifest, result.report),
                       "report.json": json.dumps(result.report, indent=1) + "\n"})


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


@dataclass
class Rebuilt:
    """What `rebuild_shipped` did: each shipped model this install could not use, rebuilt into the
    user's models directory (None: the shipped one works here), and whether the rebuilt barrier model
    became the active one."""
    model: Path | None
    crisis_model: Path | None
    model_problem: str
    crisis_problem: str
    activated: bool


REBUILT_SHIPPED = "rebuilt-shipped"


def rebuild_shipped() -> Rebuilt:
    """Rebuild, from the shipped data, each shipped model (the barrier model, the crisis model) that
    this install's libraries cannot use, into the user's models directory. The rebuilt barrier model
    becomes active if the shipped one was."""
    crisis_path, crisis_problem = None, ""
    try:
        default_model()
    except CrisisModelError as err:
        crisis_problem, crisis_path = str(err), rebuild_crisis(rebuilt_dir())
        default_model.cache_clear()
        default_model()  # raises if even the rebuilt copy cannot be loaded
    model_path, model_problem = None, ""
    try:
        load_model(store.DEFAULT_MODEL_DIR)
    except ModelError as err:
        model_problem, model_path = str(err), quick_rebuild(store.models_dir() / REBUILT_SHIPPED)
    activated = model_path is not None and store.active_version() == store.SHIPPED
    if activated:
        store.set_active(REBUILT_SHIPPED)
    return Rebuilt(model_path, crisis_path, model_problem, crisis_problem, activated)


def quick_rebuild(directory: Path, config: TrainConfig | None = None) -> Path:
    """Fit the shipped model's configuration on the seed set's training split as `train` fits its
    final model (thresholds from the same folds), without the evaluation runs."""
    config = config or _shipped_config()
    seed = load_seed()
    split = split_examples(seed, config)
    pipeline, thresholds = fit_with_thresholds(config, featurize([e.text for e in split.train]),
                                               label_matrix([e.labels for e in split.train]), folds=config.folds)
    manifest = Manifest(version=directory.name, label_ids=list(LABEL_IDS), thresholds=thresholds,
                        library_versions=library_versions(), data_hash=data_hash(seed),
                        trained_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                        n_train=len(split.train), config=asdict(config))
    save_model(directory, pipeline, manifest)
    return directory


def _shipped_config() -> TrainConfig:
    """The configuration the shipped model records (so a rebuild follows a retrained shipped model),
    else the default; keys this version does not know are left out."""
    try:
        recorded = read_manifest(store.DEFAULT_MODEL_DIR).config
    except ModelError:
        return DEFAULT_CONFIG
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in recorded.items() if k in known})
