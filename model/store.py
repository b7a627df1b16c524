"""Where a user's models live (under `unstuck.data.home.home()`), which one is active, and which
model directories are trusted (a model is a pickle: loading one runs its code).

The installed package is never written to; the shipped model is always there to return to.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from unstuck.data.home import home
from unstuck.data.output import write_text
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.model.artifact import ModelError

SHIPPED = "shipped"
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def models_dir() -> Path:
    return home() / "models"


def active_version() -> str:
    """The version `unstuck tag` uses: what `unstuck models use` chose, else the shipped model."""
    marker = home() / "active"
    try:
        version = marker.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return SHIPPED
    return version or SHIPPED


def set_active(version: str) -> None:
    marker = home() / "active"
    marker.parent.mkdir(parents=True, exist_ok=True)
    write_text(marker, version + "\n")


def model_path(version: str) -> Path:
    """The directory of model `version`: the shipped one, or a folder directly in `models_dir()`.
    ModelError for anything that is not a plain name (a path could point anywhere)."""
    if version == SHIPPED:
        return DEFAULT_MODEL_DIR
    if not MODEL_NAME.fullmatch(version):
        raise ModelError(f"{version!r} is not a model name; see `unstuck models` for the names, or "
                         "`unstuck models use shipped`")
    return models_dir() / version


def is_trusted(directory: str | os.PathLike) -> bool:
    """True for the shipped model and the folders directly in the user's models directory: the
    places unstuck itself writes models. Anything else could hold a pickle from anyone."""
    try:
        resolved = Path(directory).resolve(strict=True)
        shipped = DEFAULT_MODEL_DIR.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    if resolved == shipped:
        return True
    try:
        return resolved.parent == models_dir().resolve(strict=True) and resolved.is_dir()
    except (OSError, RuntimeError):
        return False
