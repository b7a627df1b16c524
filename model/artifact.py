"""A model is a directory: `pipeline.joblib` plus `meta.json` (the manifest) plus a model card.

Loading checks the manifest before unpickling: a truncated or edited file, or one pickled by an
incompatible scikit-learn, is refused with one line that names the remedy.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import joblib

from unstuck.data.errors import InputError
from unstuck.data.formats import file_sha256
from unstuck.data.taxonomy import LABEL_IDS

PIPELINE_FILE = "pipeline.joblib"
META_FILE = "meta.json"
# Everything a model directory may hold; replacing a directory deletes nothing else.
MODEL_FILES = frozenset({PIPELINE_FILE, META_FILE, "MODEL_CARD.md", "report.json"})
FORMAT = 1
REMEDY = "run `unstuck train` to rebuild it"


class ModelError(Exception):
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
    import numpy
    import sklearn
    import spacy

    return {"scikit-learn": sklearn.__version__, "spacy": spacy.__version__, "numpy": numpy.__version__}


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


def save_model(directory: Path, pipeline, manifest: Manifest) -> Path:
    """Write the model to a temporary sibling directory, then move it into place. Only a new path, an
    empty folder or a model folder is replaced (InputError otherwise, before anything is written)."""
    directory = Path(directory)
    check_model_target(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    os.chmod(staging, 0o755)
    try:
        joblib.dump(pipeline, staging / PIPELINE_FILE, compress=3)
        manifest.sha256 = file_sha256(staging / PIPELINE_FILE)
        (staging / META_FILE).write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def read_manifest(directory: Path) -> Manifest:
    path = Path(directory) / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**raw)
    except FileNotFoundError:
        raise ModelError(f"{directory}: no model here ({META_FILE} missing); {REMEDY}") from None
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError):
        raise ModelError(f"{path}: manifest is damaged; {REMEDY}") from None
    if manifest.format != FORMAT or list(manifest.label_ids) != list(LABEL_IDS):
        raise ModelError(f"{path}: made for a different unstuck model format or label set; {REMEDY}")
    return manifest


def check_compatible(manifest: Manifest, directory: Path) -> None:
    """Refuse a pickle made by another scikit-learn minor version or numpy major version."""
    mismatch = version_mismatch(manifest.library_versions)
    if mismatch:
        raise ModelError(f"{directory}: built with {mismatch}; {REMEDY}")


def version_mismatch(theirs: dict[str, str]) -> str | None:
    """"scikit-learn 1.8.0, this install has 1.9.1" when a pickle made with the libraries `theirs`
    (another scikit-learn minor version or numpy major version) cannot be trusted here, else None."""
    ours = library_versions()
    for name, parts in (("scikit-learn", 2), ("numpy", 1)):
        if _prefix(theirs.get(name, ""), parts) != _prefix(ours[name], parts):
            return f"{name} {theirs.get(name)}, this install has {ours[name]}"
    return None


def load_model(directory: Path):
    """Return (pipeline, manifest) or raise ModelError."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    check_compatible(manifest, directory)
    pipeline_path = directory / PIPELINE_FILE
    if not pipeline_path.exists() or file_sha256(pipeline_path) != manifest.sha256:
        raise ModelError(f"{pipeline_path}: model file is missing, truncated or changed; {REMEDY}")
    try:
        pipeline = joblib.load(pipeline_path)
    except Exception as err:  # unpickling can fail in many ways; all mean the same to a user
        raise ModelError(f"{pipeline_path}: model file cannot be read ({type(err).__name__}); {REMEDY}") from None
    return pipeline, manifest


def _prefix(version: str, parts: int) -> str:
    return ".".join(version.split(".")[:parts])
