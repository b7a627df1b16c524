"""Crisis resources by region, read from `crisis_resources.toml` (editable, dated data)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from unstuck.data import DATA_DIR
from unstuck.data.errors import InputError

RESOURCES_PATH = DATA_DIR / "crisis_resources.toml"
REQUIRED = ("name", "crisis_line", "emergency")


@dataclass(frozen=True)
class Resource:
    region: str
    name: str
    crisis_line: str
    emergency: str
    also: str
    checked: str


def load_resources(path: Path = RESOURCES_PATH) -> dict[str, Resource]:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError) as err:
        raise InputError(path, None, f"crisis resources unreadable ({type(err).__name__})") from None
    regions = raw.get("region", {})
    default = regions.get(raw.get("default", "international"), {})
    out = {}
    for key, entry in regions.items():
        missing = [f for f in REQUIRED if not str(entry.get(f, "")).strip()]
        if missing:
            raise InputError(path, None, f"region {key!r} is missing {', '.join(missing)}")
        out[key] = Resource(
            region=key,
            name=entry["name"],
            crisis_line=entry["crisis_line"],
            emergency=entry["emergency"],
            also=entry.get("also", default.get("also", "")),
            checked=str(raw.get("checked", "")),
        )
    if "international" not in out:
        raise InputError(path, None, "the 'international' fallback region is missing")
    return out


def resource_for(region: str | None) -> Resource:
    """The resource for a region code (us, uk, ...); unknown or none gives the international wording."""
    resources = load_resources()
    return resources.get((region or "").lower(), resources["international"])
