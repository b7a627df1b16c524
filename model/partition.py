"""One partition of a batch tagged, for any engine (Dask, Spark, a job queue): a pandas DataFrame, or a
line range of an input file (cut and read by `unstuck.data.partition`), through the same `tag_texts` as
local batch; and the tagger each worker process keeps. Imports neither pandas nor dask at module level;
never prints, and keeps no entry text beyond the partition in hand.
"""

from __future__ import annotations

import json
import numbers
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from unstuck.data.errors import InputError
from unstuck.data.formats import OUTPUT_KEYS, file_sha256, text_problem
from unstuck.data.output import JsonlWriter, atomic_output
from unstuck.data.partition import FilePartition, ReadOptions, partition_entry, read_partition
from unstuck.data.records import Row, Tagged
from unstuck.model import store

if TYPE_CHECKING:  # spaCy and pandas load when a partition is tagged, not on import (the CLI reads defaults)
    import pandas

    from unstuck.model.tagger import Tagger

ERRORS_KEPT = 1000  # bad rows listed per partition in the manifest; all of them are counted
ERROR_COLUMN = "error"


def tag_partition(frame: "pandas.DataFrame", tagger: Tagger | str | os.PathLike | None = None, *,
                  text_column: str = "text", id_column: str = "id", keep_columns: Sequence[str] | None = None,
                  evidence: bool = False) -> "pandas.DataFrame":
    """Tag every row of a DataFrame; one output row per input row, same index, in order.

    Columns: id, labels, scores (a dict of every tag id), crisis, crisis_matches, [evidence,] error,
    then the kept columns (by default every input column but the text and id). A tagged row equals
    local batch's JSON record; a bad row (text missing, not a string, empty, too long) has its reason
    in `error` and nulls for the rest. `tagger` is a Tagger, or a model directory (on a cluster, pass
    this: it is loaded once per worker process and kept), or None for the active model. An empty frame
    gives the empty result without loading a model: `meta=tag_partition(ddf._meta)`."""
    import pandas as pd

    from unstuck.model.batch import tag_chunk
    from unstuck.model.tagger import Tagger

    keep = [c for c in frame.columns if c not in (text_column, id_column)] if keep_columns is None \
        else list(keep_columns)
    _check_columns(frame, text_column, keep)
    columns = [*(k for k in OUTPUT_KEYS if evidence or k != "evidence"), ERROR_COLUMN]
    given = frame[id_column] if id_column in frame.columns else frame.index
    ids = [_entry_id(value, label) for value, label in zip(given, frame.index)]
    rows = [_frame_row(position, entry_id, text, text_column)
            for position, (entry_id, text) in enumerate(zip(ids, frame[text_column]), start=1)]
    if rows:
        if not isinstance(tagger, Tagger):
            tagger = cached_tagger(tagger or store.model_path(store.active_version()))
        rows = tag_chunk(rows, tagger, evidence)
    records = [item.as_dict(evidence) if isinstance(item, Tagged) else {"id": entry_id, ERROR_COLUMN: item.reason}
               for item, entry_id in zip(rows, ids)]
    out = pd.DataFrame({name: pd.Series([r.get(name) for r in records], index=frame.index,
                                        dtype="boolean" if name in ("crisis", "safety") else object) for name in columns})
    for name in keep:
        out[name] = frame[name].array
    return out


def _check_columns(frame, text_column: str, keep: list[str]) -> None:
    if text_column not in frame.columns:
        found = ", ".join(f'"{c}"' for c in frame.columns) or "nothing"
        raise ValueError(f'no "{text_column}" column; found {found}; name it with text_column=NAME')
    clash = [c for c in keep if c in (*OUTPUT_KEYS, ERROR_COLUMN)]
    if clash:
        raise ValueError(f"cannot keep column {clash[0]!r}: the output has a column of that name; "
                         "drop or rename it, or pass keep_columns")


def _frame_row(position: int, entry_id: str, text, text_column: str) -> Row | InputError:
    problem = text_problem(text, text_column)
    if problem is None:
        return Row(position, entry_id, text)
    return InputError(None, position, f'"{text_column}" is missing' if _is_null(text) else problem)


def _entry_id(value, label) -> str:
    """As local batch: the id as text (JSON for a structure); a missing or empty one, the index label."""
    if _is_null(value) or (isinstance(value, str) and not value):
        value = label
    if isinstance(value, (str, numbers.Number)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_null(value) -> bool:
    import pandas as pd
    from pandas.api.types import is_scalar

    return value is None or (is_scalar(value) and not isinstance(value, str) and bool(pd.isna(value)))


_TAGGERS: dict[str, tuple[str, Tagger]] = {}
_LOADING = threading.Lock()


def cached_tagger(path: str | os.PathLike, sha256: str | None = None) -> Tagger:
    """The model in directory `path`, loaded once per process and kept, keyed by the directory and the
    sha256 its manifest records (a retrained model at the same path is loaded afresh). With `sha256`,
    a model whose manifest records another one is refused with ModelError."""
    from unstuck.model.artifact import ModelError, read_manifest
    from unstuck.model.tagger import Tagger

    directory = Path(path).resolve()
    recorded = read_manifest(directory).sha256
    if sha256 and recorded != sha256:
        raise ModelError(f"{directory}: this worker sees another model (sha256 {recorded[:12]}, expected "
                         f"{sha256[:12]}); give every worker the same model, or use --ship-model")
    with _LOADING:
        cached = _TAGGERS.get(str(directory))
        if cached is None or cached[0] != recorded:
            cached = _TAGGERS[str(directory)] = (recorded, Tagger.load(directory))
        return cached[1]



def write_partition(partition: FilePartition, out_dir: str | os.PathLike, tagger: Tagger,
                    options: ReadOptions = ReadOptions(), evidence: bool = False, strict: bool = False) -> dict:
    """Tag one partition through local batch's `run_batch` into `out_dir/<partition.output>` (JSON Lines,
    under a temporary name until complete) and return its manifest entry: where it came from, rows
    written, their sha256, counts, and the first ERRORS_KEPT bad rows. Raises InputError as run_batch."""
    from unstuck.model.batch import run_batch

    target = Path(out_dir) / partition.output
    errors: list[InputError] = []

    def keep_error(error: InputError) -> None:
        if len(errors) < ERRORS_KEPT:
            errors.append(error)

    with atomic_output(str(target)) as handle:
        writer = JsonlWriter(handle)
        summary = run_batch(read_partition(partition, options), tagger, lambda t: writer.write(t.as_dict(evidence)),
                            evidence=evidence, strict=strict, on_skip=keep_error)
    return {**partition_entry(partition), "rows": summary.tagged, "sha256": file_sha256(target),
            "crisis": summary.crisis, "labels": {k: n for k, n in summary.label_counts.items() if n},
            "skipped": summary.skipped,
            "errors": [{"path": e.path, "line": e.line, "reason": e.reason} for e in errors]}


