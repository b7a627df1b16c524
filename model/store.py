"""Where a user's models and added examples live: `UNSTUCK_HOME`, else the platform data directory.

The installed package is never written to; the shipped model is always there to return to.
"""

from __future__ import annotations

import os
from pathlib import Path

from unstuck.model import DEFAULT_MODEL_DIR

SHIPPED = "shipped"


def home() -> Path:
    override = os.environ.get("UNSTUCK_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("unstuck", appauthor=False))


def models_dir() -> Path:
    return home() / "models"


def examples_dir() -> Path:
    return home() / "examples"


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
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def model_path(version: str) -> Path:
    return DEFAULT_MODEL_DIR if version == SHIPPED else models_dir() / version
