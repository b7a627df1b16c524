"""Which models the user can switch to, read from each model's meta.json alone: no joblib, numpy,
spaCy or scikit-learn, so `unstuck models` and `unstuck models use` answer at once.

Loading and checking a model for use is `artifact.load_model`'s job, not this module's.
"""

from __future__ import annotations

import json

from unstuck.data.errors import UnstuckError
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model import store

# The same as artifact.META_FILE and the formats of artifact.PIPELINE_FILES (importing artifact would
# import joblib and numpy); tests/test_catalog.py checks they agree.
META_FILE = "meta.json"
FORMATS = (1, 2)
REQUIRED = ("version", "label_ids", "thresholds", "library_versions", "data_hash", "trained_at", "n_train", "config")


class UnknownModel(UnstuckError, LookupError):
    """No usable model by that version; the message lists the ones there are."""


def list_models() -> list[dict]:
    """Every model the user can switch to, the shipped one first: version, active, trained_at,
    n_train and held-out macro_f1 (None when not measured)."""
    active = store.active_version()
    rows = []
    for version in [store.SHIPPED] + _user_versions():
        meta = _meta(version)
        if meta is None:
            continue
        heldout = (meta.get("metrics") or {}).get("heldout") or {}
        rows.append({"version": version, "active": version == active, "trained_at": meta.get("trained_at", ""),
                     "n_train": meta.get("n_train", 0), "macro_f1": (heldout.get("macro") or {}).get("f1")})
    return rows


def use_model(version: str) -> None:
    """Make `version` the active model, or raise UnknownModel naming the known versions."""
    if _meta(version) is None or (version != store.SHIPPED and store.model_path(version).is_symlink()):
        known = ", ".join(row["version"] for row in list_models())
        there = _is_name(version) and store.model_path(version).exists() and version != store.SHIPPED
        why = f"{store.model_path(version)} is not a usable model" if there else f"no model {version!r}"
        raise UnknownModel(f"{why}; known: {known} (see `unstuck models`)")
    store.set_active(version)


def _is_name(version: str) -> bool:
    return version == store.SHIPPED or bool(store.MODEL_NAME.fullmatch(version))


def _user_versions() -> list[str]:
    try:
        return sorted(p.name for p in store.models_dir().iterdir() if p.is_dir() and not p.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _meta(version: str) -> dict | None:
    """The manifest as a dict if it is one we can use (right format and label set), else None."""
    if not version or not _is_name(version):
        return None
    try:
        meta = json.loads((store.model_path(version) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or any(key not in meta for key in REQUIRED):
        return None
    if meta.get("format", 1) not in FORMATS or meta.get("label_ids") != list(LABEL_IDS):
        return None
    return meta
