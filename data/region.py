"""Which region's help lines a person sees: --region, else UNSTUCK_REGION, else the region saved with
`unstuck region set`, else the system locale; None (every region's lines) when all are silent.

Reads and writes only the one-line preference file in the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from unstuck.data.output import write_text
from unstuck.data.resources import UnknownRegion, check_region, region_from_locale
from unstuck.data.home import home

ENV_VARIABLE = "UNSTUCK_REGION"


def preference_path() -> Path:
    return home() / "region"


def saved_region() -> str | None:
    try:
        return preference_path().read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def save_region(code: str) -> str:
    """Save a region as the preference (UnknownRegion if we have no lines for it); returns its code."""
    region = check_region(code)
    path = preference_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, region + "\n")
    return region


def clear_region() -> bool:
    """Forget the saved region; False if none was saved."""
    try:
        preference_path().unlink()
        return True
    except FileNotFoundError:
        return False


def chosen_region(explicit: str | None = None, environ: Mapping[str, str] | None = None,
                  strict: bool = True) -> str | None:
    """The region to show lines for, and None for every region's. An unknown code given explicitly,
    in UNSTUCK_REGION or in the saved file raises UnknownRegion when `strict`, else is passed over."""
    environ = os.environ if environ is None else environ
    for code in (explicit, environ.get(ENV_VARIABLE), saved_region()):
        if code and code.strip():
            try:
                return check_region(code)
            except UnknownRegion:
                if strict:
                    raise
    return region_from_locale(environ)


def region_source(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Where `chosen_region` found its answer, said for a person."""
    environ = os.environ if environ is None else environ
    if explicit:
        return "--region"
    if environ.get(ENV_VARIABLE, "").strip():
        return ENV_VARIABLE
    if saved_region():
        return f"saved in {preference_path()}"
    return "the system locale" if region_from_locale(environ) else "nothing (every region is listed)"
