"""What a review report says about many tagged entries: counts, crisis entries, a timeline of each
barrier's share, and quotes. Also reads `unstuck batch` output back and parses entry dates.

Returns values only; never prints and never renders (HTML lives in `unstuck.cli.report_html`).
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from unstuck.data.dates import AmbiguousDate, implied_order, parse_date
from unstuck.data.errors import InputError
from unstuck.data.formats import DEFAULTS, OUTPUT_KEYS, InputKind, check_input
from unstuck.data.taxonomy import LABEL_IDS

if TYPE_CHECKING:  # importing it would load spaCy, which `unstuck report --help` must not wait for
    from unstuck.model.batch import Tagged


MANIFEST_FILE = "manifest.json"  # as unstuck.model.distributed writes it (which needs dask to import)


class Bucket(str, Enum):
    week = "week"
    month = "month"


@dataclass(frozen=True)
class ReportDefaults:
    quotes: int = 3
    context_chars: int = 70
    week_span_days: int = 91  # up to about a quarter of dates: weekly buckets; beyond: monthly
    target_buckets: int = 10  # without dates: entries per bucket chosen for about this many buckets
    min_bucket_size: int = 5


REPORT_DEFAULTS = ReportDefaults()


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass
class Entry:
    """One tagged entry as the report needs it; `text` is None when the input only held tags."""

    id: str
    line: int | None
    labels: list[str]
    scores: dict[str, float]
    crisis: bool
    crisis_matches: list[Span] = field(default_factory=list)
    evidence: dict[str, list[Span]] = field(default_factory=dict)
    text: str | None = None
    date: date | None = None
    date_error: str | None = None
    path: str = ""
    date_value: object = None  # as written in the date field; `assign_dates` reads it


@dataclass
class Quote:
    """A phrase with a little of the entry around it (`before`/`after` empty without the entry text)."""

    entry_id: str
    line: int | None
    date: date | None
    before: str
    phrase: str
    after: str


@dataclass
class CrisisEntry:
    entry_id: str
    line: int | None
    date: date | None
    matches: list[Quote]


@dataclass
class TimeBucket:
    start: date | None  # None when buckets follow input order
    first: int  # 1-based positions of its first and last entry, in input order when undated
    last: int
    entries: int
    counts: dict[str, int]

    def share(self, label: str) -> float | None:
        return self.counts[label] / self.entries if self.entries else None


@dataclass
class LabelSummary:
    id: str
    count: int
    quotes: list[Quote]
    earlier: tuple[int, int]  # (entries with the label, entries) in the earlier and later half
    later: tuple[int, int]


@dataclass
class ReportData:
    entries: int
    counts: dict[str, int]  # every label id, in the taxonomy's order
    labels: list[LabelSummary]  # the labels that appear, most frequent first
    crisis: list[CrisisEntry]
    timeline: list[TimeBucket]
    bucket: Bucket | None  # None: buckets of `bucket_size` entries in input order
    bucket_size: int
    first_date: date | None
    last_date: date | None
    undated: list[InputError]  # entries kept out of the timeline, with why
    has_text: bool
    has_evidence: bool


def summarise(entries: Iterable[Entry], dated: bool = False, bucket: Bucket | None = None,
              bucket_size: int | None = None, defaults: ReportDefaults = REPORT_DEFAULTS) -> ReportData:
    """Everything the report shows. With `dated`, the timeline uses entry dates (entries without one
    are listed in `undated` and left out of the timeline only); otherwise it follows input order."""
    entries = list(entries)
    counts = {k: sum(k in e.labels for e in entries) for k in LABEL_IDS}
    with_dates = sorted((e for e in entries if e.date), key=lambda e: e.date) if dated else []
    ordered = with_dates or entries
    half = len(ordered) // 2
    labels = [LabelSummary(k, counts[k], _quotes(entries, k, defaults),
                           _tally(ordered[:half], k), _tally(ordered[half:], k))
              for k in sorted(LABEL_IDS, key=lambda k: -counts[k]) if counts[k]]
    if with_dates:
        first, last = with_dates[0].date, with_dates[-1].date
        bucket = bucket or (Bucket.week if (last - first).days <= defaults.week_span_days else Bucket.month)
        timeline, size = _by_date(with_dates, bucket), 0
    else:
        bucket, first, last = None, None, None
        size = bucket_size or max(defaults.min_bucket_size, math.ceil(len(entries) / defaults.target_buckets))
        timeline = _by_position(entries, size)
    return ReportData(
        entries=len(entries), counts=counts, labels=labels,
        crisis=[CrisisEntry(e.id, e.line, e.date, [_quote(e, m, defaults) for m in e.crisis_matches])
                for e in entries if e.crisis],
        timeline=timeline, bucket=bucket, bucket_size=size, first_date=first, last_date=last,
        undated=[InputError(e.path, e.line, e.date_error or "no date") for e in entries if dated and not e.date],
        has_text=any(e.text is not None for e in entries),
        has_evidence=any(e.evidence for e in entries),
    )


def _tally(entries: list[Entry], label: str) -> tuple[int, int]:
    return sum(label in e.labels for e in entries), len(entries)


def _quotes(entries: list[Entry], label: str, defaults: ReportDefaults) -> list[Quote]:
    """The best evidence phrase of the entries scoring highest for `label` (repeated quotes once),
    shown in entry order."""
    found = sorted(((i, e) for i, e in enumerate(entries) if label in e.labels and e.evidence.get(label)),
                   key=lambda pair: -pair[1].scores.get(label, 0.0))
    best: dict[tuple[str, str, str], tuple[int, Quote]] = {}
    for position, entry in found:
        quote = _quote(entry, entry.evidence[label][0], defaults)
        best.setdefault((quote.before, quote.phrase, quote.after), (position, quote))
        if len(best) == defaults.quotes:
            break
    return [quote for _, quote in sorted(best.values(), key=lambda pair: pair[0])]


def _quote(entry: Entry, span: Span, defaults: ReportDefaults) -> Quote:
    text = entry.text
    if text is None or span.start < 0 or text[span.start:span.end] != span.text:
        return Quote(entry.id, entry.line, entry.date, "", _squeeze(span.text), "")
    width = defaults.context_chars
    before, after = text[max(0, span.start - width):span.start], text[span.end:span.end + width]
    if span.start > width:
        before = "…" + before.split(None, 1)[-1] if " " in before.strip() else "…" + before
    if span.end + width < len(text):
        after = after.rsplit(None, 1)[0] + "…" if " " in after.strip() else after + "…"
    return Quote(entry.id, entry.line, entry.date, _squeeze(before, keep_edges=True), _squeeze(span.text),
                 _squeeze(after, keep_edges=True))


def _squeeze(text: str, keep_edges: bool = False) -> str:
    """Runs of whitespace (line breaks included) as one space; edges kept so words stay apart."""
    squeezed = re.sub(r"\s+", " ", text)
    return squeezed if keep_edges else squeezed.strip()


def _by_date(entries: list[Entry], bucket: Bucket) -> list[TimeBucket]:
    def start_of(day: date) -> date:
        return day - timedelta(days=day.weekday()) if bucket is Bucket.week else day.replace(day=1)

    groups: dict[date, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(start_of(entry.date), []).append(entry)
    starts, day = [], start_of(entries[0].date)
    while day <= entries[-1].date:  # every bucket in the span, the empty ones too
        starts.append(day)
        day = day + timedelta(days=7) if bucket is Bucket.week else (day + timedelta(days=32)).replace(day=1)
    position, out = 0, []
    for start in starts:
        group = groups.get(start, [])
        out.append(TimeBucket(start, position + 1, position + len(group), len(group), _counts(group)))
        position += len(group)
    return out


def _by_position(entries: list[Entry], size: int) -> list[TimeBucket]:
    """Steps of `size` entries; a last step of under half that joins the one before."""
    starts = list(range(0, len(entries), size))
    if len(starts) > 1 and len(entries) - starts[-1] < size / 2:
        starts.pop()
    ends = starts[1:] + [len(entries)]
    return [TimeBucket(None, i + 1, j, j - i, _counts(entries[i:j])) for i, j in zip(starts, ends)]


def _counts(entries: list[Entry]) -> dict[str, int]:
    return {k: sum(k in e.labels for e in entries) for k in LABEL_IDS}


# Reading entries: freshly tagged rows, or `unstuck batch` output read back without re-tagging.

def entry_from_tagged(tagged: Tagged, date_field: str | None = None) -> Entry:
    row, tagging = tagged.row, tagged.tagging
    entry = Entry(
        id=row.id, line=row.line, labels=list(tagging.labels), scores=dict(tagging.scores),
        crisis=tagging.crisis, crisis_matches=[Span(m.start, m.end, m.text) for m in tagging.crisis_matches],
        evidence={k: [Span(e.start, e.end, e.text) for e in v] for k, v in tagging.evidence.items()},
        text=row.text, path=row.path, date_value=row.kept.get(date_field) if date_field else None)
    return entry


def is_batch_output(path: Path, encoding: str = DEFAULTS.encoding) -> bool:
    """Whether `path` is `unstuck batch` JSON Lines output: its first row has labels and all twelve scores."""
    if check_input(path, encoding) is not InputKind.jsonl:
        return False
    with _open(path, encoding) as handle:
        first = next((line for line in handle if line.strip()), "")
    try:
        return _looks_tagged(json.loads(first))
    except json.JSONDecodeError:
        return False


def read_batch_output(path: Path, text_field: str = DEFAULTS.text_field, id_field: str = DEFAULTS.id_field,
                      date_field: str | None = None,
                      encoding: str = DEFAULTS.encoding) -> Iterator[Entry | InputError]:
    """The entries of an `unstuck batch` output file, with an InputError in place of each bad row.
    The entry text is there only if the batch kept a field named `text_field`."""
    with _open(path, encoding) as handle:
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as err:
                yield InputError(path, line, f"invalid JSON ({err.msg}, column {err.colno})")
                continue
            if not _looks_tagged(record):
                yield InputError(path, line, "not a tagged row (needs labels and a score for each of the "
                                 "twelve tags, as `unstuck batch` writes)")
                continue
            yield _entry_from_record(record, line, str(path), text_field, id_field, date_field)


def is_dask_output(path: Path) -> bool:
    """Whether `path` is the folder `unstuck batch --scheduler` writes: partition files and manifest.json."""
    return Path(path).is_dir() and (Path(path) / MANIFEST_FILE).is_file()


def read_dask_output(folder: Path, text_field: str = DEFAULTS.text_field, id_field: str = DEFAULTS.id_field,
                     date_field: str | None = None) -> tuple[Iterator[Entry | InputError], str | None]:
    """The entries of a Dask batch's output folder, partition by partition in input order, and the
    model version its manifest records. Raises InputError for a run that is not complete."""
    manifest_path = Path(folder) / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
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
    if is_dask_output(path):
        first = next((p for p in sorted(Path(path).glob("part-*.jsonl"))), None)
        return batch_fields(first, encoding) if first else []
    with _open(path, encoding) as handle:
        line = next((line for line in handle if line.strip()), "{}")
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return []
    return [k for k in record if k not in OUTPUT_KEYS] if isinstance(record, dict) else []


def found_date_field(path: Path, fields: list[str], encoding: str = DEFAULTS.encoding) -> str | None:
    """The kept field of batch output whose value in the first row reads as a date ("date" first)."""
    if is_dask_output(path):
        first = next((p for p in sorted(Path(path).glob("part-*.jsonl"))), None)
        return found_date_field(first, fields, encoding) if first else None
    with _open(path, encoding) as handle:
        line = next((line for line in handle if line.strip()), "{}")
    record = json.loads(line)
    for name in sorted(fields, key=lambda f: f != "date"):
        for dayfirst in (False, True):
            try:
                parse_date(record.get(name), dayfirst)
                return name
            except ValueError:
                continue
    return None


def _open(path: Path, encoding: str):
    codec = codecs.lookup(encoding).name
    return open(path, encoding="utf-8-sig" if codec == "utf-8" else encoding, errors="replace", newline="")


def _looks_tagged(record) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("labels"), list)
            and all(isinstance(label, str) and label in LABEL_IDS for label in record["labels"])
            and isinstance(record.get("scores"), dict) and set(LABEL_IDS) <= set(record["scores"])
            and all(isinstance(record["scores"][k], (int, float)) for k in LABEL_IDS))


def _entry_from_record(record: dict, line: int, path: str, text_field: str, id_field: str,
                       date_field: str | None) -> Entry:
    text = record.get(text_field)
    evidence = record.get("evidence") if isinstance(record.get("evidence"), dict) else {}
    entry = Entry(
        id=str(record.get(id_field) if record.get(id_field) not in (None, "") else line), line=line,
        labels=list(record["labels"]), scores={k: float(record["scores"][k]) for k in LABEL_IDS},
        crisis=record.get("crisis") is True, crisis_matches=_spans(record.get("crisis_matches")),
        evidence={k: _spans(v) for k, v in evidence.items() if k in LABEL_IDS and _spans(v)},
        text=text if isinstance(text, str) else None, path=path,
        date_value=record.get(date_field) if date_field else None)
    return entry


def _spans(items) -> list[Span]:
    if not isinstance(items, list):
        return []
    return [Span(i["start"], i["end"], i["text"]) if isinstance(i.get("start"), int) and isinstance(i.get("end"), int)
            else Span(-1, -1, i["text"])  # offsets unknown: the phrase is shown without context
            for i in items if isinstance(i, dict) and isinstance(i.get("text"), str)]


def assign_dates(entries: list[Entry], date_field: str, dayfirst: bool | None = None) -> None:
    """Read each entry's date; one that cannot be read gets a `date_error` and stays off the timeline.
    `dayfirst` None (neither --dayfirst nor --monthfirst): numeric dates that could be read either way,
    or that show both orders, raise InputError, since any guess would move entries to wrong dates."""
    def where(entry: Entry) -> str:
        return f"{entry.path}:{entry.line}" if entry.line is not None else entry.path

    shown: dict[bool | None, Entry] = {}
    if dayfirst is None:  # the first entry whose date can only be day first (True) or only month first (False)
        for entry in entries:  # whose date can only be day first (True) or only month first (False)
            shown.setdefault(implied_order(entry.date_value), entry)
        if True in shown and False in shown:
            raise InputError(shown[True].path, shown[True].line, f'"{date_field}": day first here but month first '
                             f"at {where(shown[False])}; fix the dates, or say which with --dayfirst or --monthfirst")
    for entry in entries:
        try:
            entry.date = parse_date(entry.date_value, dayfirst)
        except AmbiguousDate as err:
            order = next((order for order in shown if order is not None), None)
            hint = "" if order is None else \
                f" (the date at {where(shown[order])} can only be {'day' if order else 'month'} first)"
            raise InputError(entry.path, entry.line, f'"{date_field}": {err}{hint}') from None
        except ValueError as err:
            entry.date_error = f'"{date_field}": {err}; this entry is left out of the timeline'
