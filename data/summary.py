"""What a review report says about many tagged entries: counts, crisis entries, a timeline of each
barrier's share, and quotes around the evidence.

Returns values only; reads no file and renders nothing (HTML lives in `unstuck.cli.report_html`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Iterable

from unstuck.data.errors import InputError
from unstuck.data.records import Span, Tagged
from unstuck.data.taxonomy import LABEL_IDS


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


@dataclass
class Quote:
    """A span of an entry, shown with a little of the entry around it (`before`/`after` empty without
    the entry text); whitespace runs shown as one space."""

    entry_id: str
    line: int | None
    date: date | None
    span: Span
    before: str = ""
    after: str = ""

    @property
    def phrase(self) -> str:
        return _squeeze(self.span.text)


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
    crisis: list[CrisisTagged]
    timeline: list[TimeBucket]
    bucket: Bucket | None  # None: buckets of `bucket_size` entries in input order
    bucket_size: int
    first_date: date | None
    last_date: date | None
    undated: list[InputError]  # entries kept out of the timeline, with why
    has_text: bool
    has_evidence: bool


def summarise(entries: Iterable[Tagged], dated: bool = False, bucket: Bucket | None = None,
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


def _tally(entries: list[Tagged], label: str) -> tuple[int, int]:
    return sum(label in e.labels for e in entries), len(entries)


def _quotes(entries: list[Tagged], label: str, defaults: ReportDefaults) -> list[Quote]:
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


def _quote(entry: Tagged, span: Span, defaults: ReportDefaults) -> Quote:
    text = entry.text
    if text is None or span.start < 0 or text[span.start:span.end] != span.text:
        return Quote(entry.id, entry.line, entry.date, span)
    width = defaults.context_chars
    before, after = text[max(0, span.start - width):span.start], text[span.end:span.end + width]
    if span.start > width:
        before = "…" + before.split(None, 1)[-1] if " " in before.strip() else "…" + before
    if span.end + width < len(text):
        after = after.rsplit(None, 1)[0] + "…" if " " in after.strip() else after + "…"
    return Quote(entry.id, entry.line, entry.date, span, _squeeze(before, keep_edges=True),
                 _squeeze(after, keep_edges=True))


def _squeeze(text: str, keep_edges: bool = False) -> str:
    """Runs of whitespace (line breaks included) as one space; edges kept so words stay apart."""
    squeezed = re.sub(r"\s+", " ", text)
    return squeezed if keep_edges else squeezed.strip()


def _by_date(entries: list[Tagged], bucket: Bucket) -> list[TimeBucket]:
    def start_of(day: date) -> date:
        return day - timedelta(days=day.weekday()) if bucket is Bucket.week else day.replace(day=1)

    groups: dict[date, list[Tagged]] = {}
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


def _by_position(entries: list[Tagged], size: int) -> list[TimeBucket]:
    """Steps of `size` entries; a last step of under half that joins the one before."""
    starts = list(range(0, len(entries), size))
    if len(starts) > 1 and len(entries) - starts[-1] < size / 2:
        starts.pop()
    ends = starts[1:] + [len(entries)]
    return [TimeBucket(None, i + 1, j, j - i, _counts(entries[i:j])) for i, j in zip(starts, ends)]


def _counts(entries: list[Tagged]) -> dict[str, int]:
    return {k: sum(k in e.labels for e in entries) for k in LABEL_IDS}
