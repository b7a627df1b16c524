"""`unstuck batch` output read back without re-tagging (a JSON Lines file, or the folder of a
`--scheduler` run), and the dates of tagged entries read from a kept field.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Iterator

from unstuck.data.dates import AmbiguousDate, implied_order, parse_date
from unstuck.data.errors import InputError
from unstuck.data.formats import DEFAULTS, OUTPUT_KEYS, InputKind, check_input, read_records
from unstuck.data.partition import MANIFEST_FILE, read_manifest
from unstuck.data.records import Row, Span, Tagged, Tagging
from unstuck.data.taxonomy import LABEL_IDS


def is_batch_output(path: Path, encoding: str = DEFAULTS.encoding) -> bool:
    """Whether `path` is `unstuck batch` JSON Lines output: its first row has labels and all twelve scores."""
    if check_input(path, encoding) is not InputKind.jsonl:
        return False
    return _looks_tagged(_first_record(path, encoding))


def read_batch_output(path: Path, text_field: str = DEFAULTS.text_field, id_field: str = DEFAULTS.id_field,
                      date_field: str | None = None,
                      encoding: str = DEFAULTS.encoding) -> Iterator[Tagged | InputError]:
    """The entries of an `unstuck batch` output file, with an InputError in place of each bad row.
    The entry text is there only if the batch kept a field named `text_field`."""
    for item in read_records(path, encoding):
        if isinstance(item, InputError):
            yield item
        elif not _looks_tagged(item[1]):
            yield InputError(path, item[0], "not a tagged row (needs labels and a score for each of the "
                             "twelve tags, as `unstuck batch` writes)")
        else:
            yield _tagged(item[1], item[0], str(path), text_field, id_field, date_field)


def is_dask_output(path: Path) -> bool:
    """Whether `path` is the folder `unstuck batch --scheduler` writes: partition files and manifest.json."""
    return Path(path).is_dir() and (Path(path) / MANIFEST_FILE).is_file()


def read_dask_output(folder: Path, text_field: str = DEFAULTS.text_field, id_field: str = DEFAULTS.id_field,
                     date_field: str | None = None) -> tuple[Iterator[Tagged | InputError], str | None]:
    """The entries of a Dask batch's output folder, partition by partition in input order, and the
    model version its manifest records. Raises InputError for a run that is not complete."""
    manifest_path = Path(folder) / MANIFEST_FILE
    try:
        manifest = read_manifest(Path(folder))
        parts = [Path(folder) / Path(p["output"]).name for p in manifest["partitions"]]
        complete, version = manifest.get("complete") is True, manifest.get("run", {}).get("model_version")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(manifest_path, None, "not a manifest unstuck batch --scheduler wrote") from None
    missing = next((p for p in parts if not p.is_file()), None)
    if not complete or missing:
        raise InputError(manifest_path, None, "the batch run did not finish (a partition is missing); run the same "
                         "unstuck batch --scheduler command again to complete it")
    entries = (entry for part in parts for entry in read_batch_output(part, text_field, id_field, date_field))
    return entries, version if isinstance(version, str) else None


def batch_fields(path: Path, encoding: str = DEFAULTS.encoding) -> list[str]:
    """The fields a batch kept (beyond what it writes itself), from the first row of its output."""
    return [k for k in _first_record(path, encoding) or {} if k not in OUTPUT_KEYS]


def found_date_field(path: Path, fields: list[str], encoding: str = DEFAULTS.encoding) -> str | None:
    """The kept field of batch output whose value in the first row reads as a date ("date" first)."""
    record = _first_record(path, encoding) or {}
    for name in sorted(fields, key=lambda f: f != "date"):
        for dayfirst in (False, True):
            try:
                parse_date(record.get(name), dayfirst)
                return name
            except ValueError:
                continue
    return None


def _first_record(path: Path, encoding: str) -> dict | None:
    """The first row of batch output (of its first partition, for a --scheduler folder); None if it is no object."""
    if is_dask_output(path):
        path = next((p for p in sorted(Path(path).glob("part-*.jsonl"))), None)
        if path is None:
            return None
    with closing(read_records(path, encoding)) as items:
        first = next(items, None)
    return None if first is None or isinstance(first, InputError) else first[1]


def _looks_tagged(record) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("labels"), list)
            and all(isinstance(label, str) and label in LABEL_IDS for label in record["labels"])
            and isinstance(record.get("scores"), dict) and set(LABEL_IDS) <= set(record["scores"])
            and all(isinstance(record["scores"][k], (int, float)) for k in LABEL_IDS))


def _tagged(record: dict, line: int, path: str, text_field: str, id_field: str, date_field: str | None) -> Tagged:
    text = record.get(text_field)
    evidence = record.get("evidence") if isinstance(record.get("evidence"), dict) else {}
    entry_id = str(record.get(id_field) if record.get(id_field) not in (None, "") else line)
    row = Row(line, entry_id, text if isinstance(text, str) else None,
              {date_field: record.get(date_field)} if date_field else {}, path)
    tagging = Tagging(labels=list(record["labels"]), scores={k: float(record["scores"][k]) for k in LABEL_IDS},
                      crisis=record.get("crisis") is True, crisis_matches=_spans(record.get("crisis_matches")),
                      evidence={k: _spans(v) for k, v in evidence.items() if k in LABEL_IDS and _spans(v)})
    return Tagged(row, tagging)


def _spans(items) -> list[Span]:
    if not isinstance(items, list):
        return []
    return [Span(i["start"], i["end"], i["text"]) if isinstance(i.get("start"), int) and isinstance(i.get("end"), int)
            else Span(-1, -1, i["text"])  # offsets unknown: the phrase is shown without context
            for i in items if isinstance(i, dict) and isinstance(i.get("text"), str)]


def assign_dates(entries: list[Tagged], date_field: str, dayfirst: bool | None = None) -> None:
    """Read each entry's date; one that cannot be read gets a `date_error` and stays off the timeline.
    `dayfirst` None (neither --dayfirst nor --monthfirst): numeric dates that could be read either way,
    or that show both orders, raise InputError, since any guess would move entries to wrong dates."""
    def where(entry: Tagged) -> str:
        return f"{entry.path}:{entry.line}" if entry.line is not None else entry.path

    shown: dict[bool | None, Tagged] = {}
    if dayfirst is None:  # the first entry whose date can only be day first (True) or only month first (False)
        for entry in entries:
            shown.setdefault(implied_order(entry.row.kept.get(date_field)), entry)
        if True in shown and False in shown:
            raise InputError(shown[True].path, shown[True].line, f'"{date_field}": day first here but month first '
                             f"at {where(shown[False])}; fix the dates, or say which with --dayfirst or --monthfirst")
    for entry in entries:
        try:
            entry.date = parse_date(entry.row.kept.get(date_field), dayfirst)
        except AmbiguousDate as err:
            order = next((order for order in shown if order is not None), None)
            hint = "" if order is None else \
                f" (the date at {where(shown[order])} can only be {'day' if order else 'month'} first)"
            raise InputError(entry.path, entry.line, f'"{date_field}": {err}{hint}') from None
        except ValueError as err:
            entry.date_error = f'"{date_field}": {err}; this entry is left out of the timeline'
