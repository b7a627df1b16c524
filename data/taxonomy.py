"""The barrier taxonomy: the twelve label ids (a contract) and their editable descriptions and steps.

Loading validates the file so that an edit by hand fails loudly, with the file and the label named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from unstuck.data import DATA_DIR
from unstuck.data.errors import InputError, UnstuckError

LABEL_IDS: tuple[str, ...] = (
    "fear",
    "communication_gap",
    "severe_symptoms",
    "substance_use",
    "distractions",
    "therapist_fit",
    "unclear_expectations",
    "low_engagement",
    "trust",
    "ethics_violation",
    "inconsistency",
    "cultural_mismatch",
)

TAXONOMY_PATH = DATA_DIR / "taxonomy.toml"
MAX_STEPS = 5
MIN_STEPS = 2


class Audience(str, Enum):
    client = "client"
    therapist = "therapist"


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    description: str
    client_steps: tuple[str, ...]
    therapist_steps: tuple[str, ...]

    def steps_for(self, audience: Audience) -> tuple[str, ...]:
        return self.client_steps if audience == Audience.client else self.therapist_steps


def load_taxonomy(path: Path = TAXONOMY_PATH) -> dict[str, Label]:
    """Read and validate a taxonomy file; the result is keyed by id, in the contract's order."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, None, "taxonomy file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(path, getattr(err, "lineno", None), f"not valid TOML ({err})") from None
    labels: dict[str, Label] = {}
    for entry in raw.get("label", []):
        label = _parse_label(path, entry)
        if label.id in labels:
            raise InputError(path, None, f"label {label.id!r} is defined twice")
        labels[label.id] = label
    missing = [i for i in LABEL_IDS if i not in labels]
    if missing:
        raise InputError(path, None, f"missing label(s): {', '.join(missing)}")
    return {i: labels[i] for i in LABEL_IDS}


@lru_cache(maxsize=1)
def default_taxonomy() -> dict[str, Label]:
    return load_taxonomy(TAXONOMY_PATH)


def _parse_label(path: Path, entry: dict) -> Label:
    label_id = entry.get("id")
    if label_id not in LABEL_IDS:
        raise InputError(path, None, f"unknown label id {label_id!r}; expected one of {', '.join(LABEL_IDS)}")
    for key in ("name", "description"):
        if not str(entry.get(key, "")).strip():
            raise InputError(path, None, f"label {label_id!r} has no {key}")
    steps = entry.get("next_steps") or {}
    parsed = {}
    for audience in Audience:
        items = steps.get(audience.value)
        if items is None:
            raise InputError(path, None, f"label {label_id!r} has no next steps for {audience.value!r}")
        items = [str(s).strip() for s in items if str(s).strip()]
        if not MIN_STEPS <= len(items) <= MAX_STEPS:
            raise InputError(
                path, None,
                f"label {label_id!r} needs {MIN_STEPS}-{MAX_STEPS} {audience.value} steps, found {len(items)}",
            )
        parsed[audience] = tuple(items)
    return Label(
        id=label_id,
        name=str(entry["name"]).strip(),
        description=" ".join(str(entry["description"]).split()),
        client_steps=parsed[Audience.client],
        therapist_steps=parsed[Audience.therapist],
    )


class UnknownLabel(UnstuckError, ValueError):
    """A label name that matches no tag; the message suggests the closest ids."""


def find_label(given: str) -> str:
    """The tag id meant by `given`: an id or a name, in any case, with spaces or hyphens for
    underscores ("Fear", "communication-gap", "Inconsistent attendance"); else UnknownLabel with a
    did-you-mean."""
    import difflib

    wanted = "_".join(given.strip().lower().replace("-", " ").split())
    names = {"_".join(label.name.lower().split()): label.id for label in default_taxonomy().values()}
    if wanted in LABEL_IDS:
        return wanted
    if wanted in names:
        return names[wanted]
    close = difflib.get_close_matches(wanted, [*LABEL_IDS, *names], n=3, cutoff=0.6)
    ids = list(dict.fromkeys(names.get(c, c) for c in close))
    hint = f" (did you mean {' or '.join(ids)}?)" if ids else ""
    raise UnknownLabel(f"unknown label {given!r}{hint}; see `unstuck labels` for the {len(LABEL_IDS)} tag ids")
