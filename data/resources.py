"""Crisis and domestic-abuse help lines by region, read from `crisis_resources.toml` (editable, dated
data), and the region a system locale names. Chooses no region itself and reads no user state."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from unstuck.data import DATA_DIR
from unstuck.data.errors import InputError, UnstuckError

RESOURCES_PATH = DATA_DIR / "crisis_resources.toml"
REQUIRED = ("name", "crisis_line", "emergency")
LINE_KINDS = ("crisis", "abuse")
FALLBACK = "international"
# Locale country codes (en_GB.UTF-8 -> GB) for the regions we have lines for; the EU's members share 112.
COUNTRY_REGIONS = {"US": "us", "CA": "ca", "GB": "uk", "UK": "uk", "IE": "ie", "AU": "au", "NZ": "nz"}
EU_COUNTRIES = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # the order POSIX reads them in


@dataclass(frozen=True)
class HelpLine:
    """One way to reach help: a crisis line, an abuse line, or the emergency number."""

    region: str
    region_name: str
    kind: str  # "crisis", "abuse" or "emergency"
    name: str
    reach: str

    def as_dict(self) -> dict:
        return {"region": self.region, "region_name": self.region_name, "kind": self.kind, "name": self.name,
                "reach": self.reach}


@dataclass(frozen=True)
class Resource:
    region: str
    name: str
    crisis_line: str
    emergency: str
    also: str
    checked: str
    lines: tuple[HelpLine, ...] = ()

    def for_crisis(self) -> list[HelpLine]:
        return [line for line in self.lines if line.kind == "crisis"] + [self.emergency_line()]

    def for_safety(self) -> list[HelpLine]:
        """The region's abuse lines; where it has none, its emergency number and crisis lines."""
        abuse = [line for line in self.lines if line.kind == "abuse"]
        return abuse + [self.emergency_line()] if abuse else [self.emergency_line(), *self.for_crisis()[:-1]]

    def emergency_line(self) -> HelpLine:
        return HelpLine(self.region, self.name, "emergency", "Emergency services", f"call {self.emergency}")


class UnknownRegion(UnstuckError, ValueError):
    """A region code we have no lines for; the message lists the known ones."""

    def __init__(self, code: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown region {code!r}; expected one of {', '.join(known)}")


def load_resources(path: Path = RESOURCES_PATH) -> dict[str, Resource]:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError) as err:
        raise InputError(path, None, f"crisis resources unreadable ({type(err).__name__})") from None
    regions = raw.get("region", {})
    default = regions.get(raw.get("default", FALLBACK), {})
    out = {}
    for key, entry in regions.items():
        missing = [f for f in REQUIRED if not str(entry.get(f, "")).strip()]
        if missing:
            raise InputError(path, None, f"region {key!r} is missing {', '.join(missing)}")
        lines = []
        for line in entry.get("line", []):
            if line.get("kind") not in LINE_KINDS or not line.get("name") or not line.get("reach"):
                raise InputError(path, None, f"region {key!r} has a line without kind ({'/'.join(LINE_KINDS)}), "
                                             "name and reach")
            lines.append(HelpLine(key, entry["name"], line["kind"], line["name"], line["reach"]))
        out[key] = Resource(region=key, name=entry["name"], crisis_line=entry["crisis_line"],
                            emergency=entry["emergency"], also=entry.get("also", default.get("also", "")),
                            checked=str(raw.get("checked", "")), lines=tuple(lines))
    if FALLBACK not in out:
        raise InputError(path, None, "the 'international' fallback region is missing")
    return out


@lru_cache(maxsize=1)
def shipped_resources() -> dict[str, Resource]:
    """The shipped file's resources, read once (the screen fires on many entries of a batch)."""
    return load_resources()


def known_regions() -> tuple[str, ...]:
    """The region codes with numbers of their own (not the international wording)."""
    return tuple(key for key in shipped_resources() if key != FALLBACK)


def check_region(code: str) -> str:
    """The code in lower case if we have lines for it; else UnknownRegion."""
    region = code.strip().lower()
    if region not in known_regions():
        raise UnknownRegion(code, known_regions())
    return region


def resource_for(region: str | None) -> Resource:
    """The resource for a region code (us, uk, ...); unknown or none gives the international wording."""
    resources = shipped_resources()
    return resources.get((region or "").lower(), resources[FALLBACK])


def region_from_locale(environ: Mapping[str, str]) -> str | None:
    """The region the first set locale variable names by its country ("en_GB.UTF-8" -> "uk"), or None
    (no country, "C", "POSIX", or a country we have no lines for)."""
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            country = value.split(".")[0].split("@")[0].partition("_")[2].upper()
            if country in EU_COUNTRIES:
                return "eu"
            return COUNTRY_REGIONS.get(country)
    return None


def help_lines(region: str | None, crisis: bool, safety: bool) -> list[HelpLine]:
    """The lines to show: for a safety concern the abuse lines first, then for a crisis the crisis
    lines and emergency number; for no region (or one we lack) those of every region we have."""
    resources = shipped_resources()
    chosen = [resources[region]] if region in resources and region != FALLBACK else \
        [r for key, r in resources.items() if key != FALLBACK]
    lines = [line for r in chosen for line in r.for_safety()] if safety else []
    lines += [line for r in chosen for line in r.for_crisis()] if crisis else []
    return list(dict.fromkeys(lines))
