"""A model is a directory: the pickled pipeline (`pipeline.pkl.gz`; `pipeline.joblib` in format 1)
plus `meta.json` (the manifest) plus a model card.

Loading checks the manifest field by field before unpickling: a truncated or edited file, a manifest
for other labels or with thresholds outside (0, 1), or a pickle from an incompatible scikit-learn, is
refused with one line that names the remedy. Unpickling runs code: which directories may be loaded at
all is `unstuck.model.store.is_trusted`'s decision, made by the caller.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import pickle
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import joblib

from unstuck.data.errors import InputError, UnstuckError
from unstuck.data.formats import file_sha256
from unstuck.data.taxonomy import LABEL_IDS

# The pipeline's file in each model format this unstuck reads. Format 2 is a gzip-compressed pickle
# because joblib's unpickler is pure Python, and loading both shipped models is most of a cold start
# (BENCHMARKS.md); format 1 (joblib) models, made by earlier versions, still load.
PIPELINE_FILES = {1: "pipeline.joblib", 2: "pipeline.pkl.gz"}
FORMAT = 2
PIPELINE_FILE = PIPELINE_FILES[FORMAT]
META_FILE = "meta.json"
# Everything a model directory may hold; replacing a directory deletes nothing else.
MODEL_FILES = frozenset({*PIPELINE_FILES.values(), META_FILE, "MODEL_CARD.md", "report.json"})
REMEDY = "run `unstuck train` to rebuild it"
# The shipped models are rebuilt from the shipped data, never behind the user's back.
SHIPPED_REMEDY = "run `unstuck models rebuild` to rebuild the shipped models for this install"


class ModelError(UnstuckError):
    """A model directory that cannot be used; the message is one line with the remedy."""


@dataclass
class Manifest:
    version: str
    label_ids: list[str]
    thresholds: dict[str, float]
    library_versions: dict[str, str]
    data_hash: str
    trained_at: str
    n_train: int
    config: dict
    metrics: dict = field(default_factory=dict)
    sha256: str = ""
    format: int = FORMAT


def library_versions() -> dict[str, str]:
    """What a model records about the install that built it (meta.json "library_versions")."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import sklearn
    import spacy

    try:
        ours = version("unstuck")
    except PackageNotFoundError:  # run from a source tree that was never installed
        ours = "unknown"
    return {"scikit-learn": sklearn.__version__, "spacy": spacy.__version__, "numpy": numpy.__version__,
            "python": platform.python_version(), "unstuck": ours}


# Which part of each version must match for a model to be used here (2 = major.minor), and whether a
# manifest must record it: a pickle is only safe within one scikit-learn minor and numpy major
# version; spaCy's tokenizer and lemmas make the features, so another spaCy minor version would score
# the same text differently (older manifests may not record it). Python and unstuck are recorded, not
# checked: pickles cross them, and the model format has its own number.
MUST_MATCH = (("scikit-learn", 2, True), ("numpy", 1, True), ("spacy", 2, False))


def check_model_target(directory: Path) -> None:
    """Raise InputError unless `directory` is a new path, an empty folder, or a model folder (holding
    nothing but model files): the only things `save_model` may replace."""
    directory = Path(directory)
    if directory.is_symlink():
        raise InputError(directory, None, "is a symbolic link; give a new folder name, an empty folder or a model "
                         "folder; nothing was changed")
    if not directory.exists():
        return
    if not directory.is_dir():
        raise InputError(directory, None, "is a file, not a folder; give a new folder name, an empty folder or a "
                         "model folder; nothing was changed")
    entries = list(directory.iterdir())
    if entries and not (META_FILE in {p.name for p in entries}
                        and all(p.name in MODEL_FILES and p.is_file() and not p.is_symlink() for p in entries)):
        raise InputError(directory, None, "is a folder with other things in it, not a model folder; give a new "
                         "folder name, an empty folder or a model folder; nothing was deleted")


def model_format(raw: dict):
    """A parsed meta.json's model format; one without the field was made before formats were numbered."""
    return raw.get("format", 1)


def pipeline_bytes(pipeline) -> bytes:
    """The pipeline file of the current format: a gzip-compressed pickle (no timestamp, so the same
    pipeline gives the same bytes)."""
    return gzip.compress(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=6, mtime=0)


def save_model(directory: Path, pipeline, manifest: Manifest, documents: dict[str, str] | None = None) -> Path:
    """Write the model (and `documents`, text files by name: the card, the training report) to a
    temporary sibling directory, then move it into place. Only a new path, an empty folder or a model
    folder is replaced (InputError otherwise, before anything is written)."""
    directory = Path(directory)
    check_model_target(directory)
    with staged_directory(directory) as staging:
        (staging / PIPELINE_FILE).write_bytes(pipeline_bytes(pipeline))
        manifest.sha256, manifest.format = file_sha256(staging / PIPELINE_FILE), FORMAT
        (staging / META_FILE).write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
        for name, text in (documents or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
    return directory


@contextmanager
def staged_directory(directory: Path) -> Iterator[Path]:
    """A hidden sibling folder to fill, put in place of `directory` (replacing it) only if the block
    completes, so that a model directory is never seen half written; removed on any failure."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    os.chmod(staging, 0o755)
    try:
        yield staging
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_manifest(directory: Path, remedy: str = REMEDY, labels: tuple[str, ...] = LABEL_IDS,
                  threshold_names: tuple[str, ...] | None = None) -> Manifest:
    """The manifest of a model directory, checked field by field; ModelError naming the problem.
    `labels` and `threshold_names` (default: one threshold per label): what this kind of model holds."""
    path = Path(directory) / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
        problem = manifest_problem(raw, labels, threshold_names)
        manifest = None if problem else Manifest(**{**raw, "format": model_format(raw)})
    except (FileNotFoundError, NotADirectoryError):
        raise ModelError(f"{directory}: no model here ({META_FILE} missing); {remedy}") from None
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError, OSError):
        raise ModelError(f"{path}: manifest is damaged; {remedy}") from None
    if problem:
        raise ModelError(f"{path}: {problem}; {remedy}")
    return manifest


def manifest_problem(raw, labels: tuple[str, ...] = LABEL_IDS, threshold_names: tuple[str, ...] | None = None) -> str | None:
    """What is wrong with a parsed meta.json (wrong format, labels, thresholds, versions), or None."""
    expected, names = list(labels), list(labels if threshold_names is None else threshold_names)
    if not isinstance(raw, dict):
        return "manifest is damaged (not a JSON object)"
    if isinstance(model_format(raw), bool) or model_format(raw) not in PIPELINE_FILES:
        return (f"made for model format {str(raw.get('format'))[:20]}; this unstuck reads formats "
                f"{', '.join(map(str, PIPELINE_FILES))}")
    theirs = raw.get("label_ids")
    if not isinstance(theirs, list) or not all(isinstance(x, str) for x in theirs):
        return "manifest has no list of label ids"
    if theirs != expected:
        return f"made for other labels ({_label_difference(theirs, expected)})"
    thresholds = raw.get("thresholds")
    if not isinstance(thresholds, dict) or set(thresholds) != set(names):
        return f"manifest needs one threshold for each of {', '.join(names)}" if threshold_names else \
            "manifest needs one threshold per label"
    for label in names:
        value = thresholds[label]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            return f"threshold for {label} is {str(value)[:20]}, not between 0 and 1"
    versions = raw.get("library_versions")
    if not isinstance(versions, dict) or not all(isinstance(versions.get(k), str) for k in ("scikit-learn", "numpy")):
        return "manifest does not record the scikit-learn and numpy versions the model was built with"
    sha = raw.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
        return "manifest records no sha256 of the pipeline file"
    for name, kind in (("version", str), ("trained_at", str), ("data_hash", str), ("n_train", int),
                       ("config", dict), ("metrics", dict)):
        if name in raw and not isinstance(raw[name], kind):
            return f'manifest field "{name}" is not a {kind.__name__}'
    if not raw.get("version") or not raw["version"].isprintable():
        return "manifest has no usable version name"
    return None


def _label_difference(theirs: list[str], ours: list[str]) -> str:
    missing = [x for x in ours if x not in theirs]
    extra = [x for x in theirs if x not in ours]
    parts = ([f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"] if missing else []) + \
            ([f"unknown {', '.join(x[:40] for x in extra[:5])}{' ...' if len(extra) > 5 else ''}"] if extra else [])
    return "; ".join(parts) or "the same labels in another order"


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def check_compatible(manifest: Manifest, directory: Path, remedy: str = REMEDY) -> None:
    """Refuse a pickle made by another scikit-learn minor version or numpy major version."""
    mismatch = version_mismatch(manifest.library_versions)
    if mismatch:
        raise ModelError(f"{directory}: built with {mismatch}; {remedy}")


def version_mismatch(theirs: dict[str, str]) -> str | None:
    """"scikit-learn 1.8.0, this install has 1.9.1" when a model built with the libraries `theirs`
    cannot be used here (see MUST_MATCH), else None. A library an older manifest does not record is
    not checked."""
    ours = library_versions()
    for name, parts, required in MUST_MATCH:
        if (required or name in theirs) and _prefix(theirs.get(name, ""), parts) != _prefix(ours[name], parts):
            return f"{name} {theirs.get(name)}, this install has {ours[name]}"
    return None


def load_model(directory: Path, remedy: str = REMEDY, labels: tuple[str, ...] = LABEL_IDS,
               threshold_names: tuple[str, ...] | None = None):
    """Return (pipeline, manifest) or raise ModelError ending in `remedy`. Unpickling runs code:
    callers decide whether a directory is trusted (`unstuck.model.store.is_trusted`) first."""
    directory = Path(directory)
    manifest = read_manifest(directory, remedy, labels, threshold_names)
    check_compatible(manifest, directory, remedy)
    pipeline_path = directory / PIPELINE_FILES[manifest.format]
    try:
        data = pipeline_path.read_bytes()  # unpickle the very bytes that were checked
    except OSError:
        data = b""
    if hashlib.sha256(data).hexdigest() != manifest.sha256:
        raise ModelError(f"{pipeline_path}: model file is missing, truncated or changed; {remedy}")
    try:
        pipeline = joblib.load(io.BytesIO(data)) if manifest.format == 1 else pickle.loads(gzip.decompress(data))
    except Exception as err:  # unpickling can fail in many ways; all mean the same to a user
        raise ModelError(f"{pipeline_path}: model file cannot be read ({type(err).__name__}); {remedy}") from None
    if not callable(getattr(pipeline, "predict_proba", None)):
        raise ModelError(f"{pipeline_path}: holds no scikit-learn pipeline; {remedy}")
    return pipeline, manifest


def _prefix(version: str, parts: int) -> str:
    return ".".join(version.split(".")[:parts])
