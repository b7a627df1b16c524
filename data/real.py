"""Real, public text: its labels (committed, ids only) and the ids held out for independent evaluation.

Texts are not in the repository; `unstuck.training.real_sources` rebuilds them from public copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from unstuck.data.errors import InputError
from unstuck.data.formats import read_records

REAL_DIR = Path(__file__).parent / "real"


def _ids(name: str) -> frozenset[str]:
    return frozenset((REAL_DIR / name).read_text(encoding="utf-8").split())


# shared/holdout/: never trained on, tuned to or read; `unstuck data check` refuses them.
HELD_OUT_COUNSELCHAT = _ids("holdout_counselchat.txt")
HELD_OUT_CSSRS_USERS = _ids("holdout_cssrs_users.txt")
HELD_OUT_REPOSITORIES = ("ayaanzhaque/SDCNL", "Fei-X/twitter_suicidal_tendency", "drmuskangarg/Irf",
                         "behavioral-data/Empathy-Mental-Health", "thu-coai/Emotional-Support-Conversation")


@dataclass(frozen=True)
class RealItem:
    id: str
    source: str
    group: str  # the writer, where the source says; whole groups stay on one side of a split
    text: str
    detail: str = ""

    def as_dict(self) -> dict:
        return {"id": self.id, "source": self.source, "group": self.group, "detail": self.detail, "text": self.text}


@dataclass(frozen=True)
class RealLabel:
    id: str
    labels: tuple[str, ...]
    crisis: bool
    safety: bool
    # false: labeled for the crisis screen, never trained on by the barrier model (a batch whose adding
    # that model's pre-registered rule rejected; data/real/README.md)
    barrier: bool = True


def read_labels(path: Path) -> list[RealLabel]:
    return [RealLabel(r["id"], tuple(r.get("labels", ())), bool(r.get("crisis")), bool(r.get("safety")),
                      bool(r.get("barrier", True)))
            for _, r in _records(path)]


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    """A file's records; the first bad one is raised (`unstuck data check` lists them all)."""
    for item in read_records(path, encoding_option=False):
        if isinstance(item, InputError):
            raise item
        yield item


def held_out_reason(item_id: str) -> str | None:
    """Why an item id is held out for independent evaluation, or None if it may be used."""
    kind, _, rest = item_id.partition(":")
    if kind == "cc" and rest in HELD_OUT_COUNSELCHAT:
        return "a held-out counsel-chat question"
    if kind == "cssrs" and rest.split(":", 1)[0] in HELD_OUT_CSSRS_USERS:
        return "a post by a held-out C-SSRS user"
    return None


def default_texts_dir() -> Path | None:
    """Where `real_sources` puts the rebuilt texts by default: `$UNSTUCK_REAL`, else none."""
    import os

    value = os.environ.get("UNSTUCK_REAL")
    return Path(value).expanduser() if value else None


def join_real(texts_dir: Path) -> list[tuple[RealItem, RealLabel]]:
    """Each labeled real item whose text is in `texts_dir` (`<source>.jsonl` with id, group, detail,
    text), with its labels, in the order of data/real/*.jsonl. Held-out ids are refused, never loaded."""
    texts: dict[str, dict] = {}
    for path in sorted(p for p in Path(texts_dir).glob("*.jsonl") if not p.name.startswith(WEAK_PREFIX)):
        for n, row in _records(path):
            if held_out_reason(row["id"]):
                raise InputError(path, n, f"{held_out_reason(row['id'])}; it may not be used")
            texts[row["id"]] = row
    joined = []
    for path in sorted(REAL_DIR.glob("*.jsonl")):
        for label in read_labels(path):
            row = texts.get(label.id)
            if row is not None:
                item = RealItem(label.id, path.stem, row["group"], row["text"], str(row.get("detail") or ""))
                joined.append((item, label))
    return joined


def load_real(texts_dir: Path) -> list["Example"]:
    """Every labeled real item whose text is in `texts_dir` and that may train the barrier model, as
    Examples with source `real:<source>` (see `join_real`), then the no-barrier posts of
    `weak_<source>.jsonl` there (see `load_weak`)."""
    from unstuck.data.examples import Example

    return [Example(item.id, item.text, label.labels, f"real:{item.source}", item.group)
            for item, label in join_real(texts_dir) if label.barrier] + load_weak(texts_dir)


WEAK_PREFIX = "weak_"


def load_weak(texts_dir: Path) -> list["Example"]:
    """Unlabeled real posts taken as no barrier, with source `weak:<source>`: `real_sources` picks posts
    that name no therapy, treatment or help (see `real_sources.weak_negatives`). They only ever train,
    and never beside a held-out run of their own source."""
    from unstuck.data.examples import Example

    labeled = {label.id for path in REAL_DIR.glob("*.jsonl") for label in read_labels(path)}
    out = []
    for path in sorted(Path(texts_dir).glob(f"{WEAK_PREFIX}*.jsonl")):
        source = path.stem[len(WEAK_PREFIX):]
        for n, row in _records(path):
            reason = held_out_reason(row["id"]) or (row["id"] in labeled and "a hand-labeled item")
            if reason:
                raise InputError(path, n, f"{reason}; it may not be used as an unlabeled no-barrier post")
            out.append(Example(row["id"], row["text"], (), f"weak:{source}", row["group"]))
    return out
