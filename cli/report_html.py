"""The review report as one self-contained HTML page: inline CSS and SVG, no script, nothing loaded
from anywhere, readable offline and on paper. Every piece of user or data text passes through `_e`.
"""

from __future__ import annotations

import calendar
import html
import math
from datetime import date

from unstuck.data.resources import HelpLine
from unstuck.data.taxonomy import Audience, Label
from unstuck.data.summary import Bucket, LabelSummary, Quote, ReportData, TimeBucket

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. No chart relies on
# colour alone: bars and lines carry direct labels, and every chart has a table with its numbers.
BLUE, VERMILLION, YELLOW, SKY, GREY = "#0072B2", "#D55E00", "#F0E442", "#56B4E9", "#6b6b6b"
PERIODS_PER_TABLE = 10  # columns of a timeline table: what fits across A4 or Letter
TREND_POINTS = 0.15  # a change in share this large between the halves is called out in words

STYLE = f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
html {{ font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1a1a1a; background: #fff; }}
body {{ max-width: 56rem; margin: 0 auto; padding: 1.5rem; }}
h1 {{ font-size: 1.75rem; line-height: 1.2; margin: 0 0 .75rem; }}
h2 {{ font-size: 1.35rem; margin: 2.25rem 0 .75rem; padding-bottom: .2rem; border-bottom: 2px solid #1a1a1a; }}
h3 {{ font-size: 1.15rem; margin: 1.75rem 0 .4rem; }}
h4 {{ font-size: 1rem; margin: 1rem 0 .3rem; }}
.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 1rem; }}
.facts dt {{ font-weight: 600; }}
.facts dd {{ margin: 0; }}
.note {{ border-left: 4px solid {SKY}; background: #f2f8fc; padding: .6rem 1rem; margin: 1rem 0; }}
nav ol {{ margin: .25rem 0; padding-left: 1.25rem; }}
.crisis {{ border: 3px solid {VERMILLION}; border-radius: 4px; padding: 0 1rem .75rem; margin-top: 1.5rem; }}
.crisis h2 {{ border-color: {VERMILLION}; margin-top: 1rem; }}
.resource {{ display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }}
.resource dt {{ font-weight: 600; }}
.resource dd {{ margin: 0; }}
.crisis-list {{ padding-left: 1.25rem; }}
.crisis-list > li {{ margin-bottom: .9rem; }}
mark {{ background: {YELLOW}; color: inherit; padding: 0 .15em; border-radius: 2px; }}
blockquote {{ margin: .4rem 0; padding: .3rem .9rem; border-left: 4px solid #c8c8c8; }}
.meta {{ color: #4d4d4d; font-size: .875rem; }}
.muted {{ color: #4d4d4d; }}
figure {{ margin: 1rem 0; }}
figcaption {{ font-weight: 600; margin-bottom: .25rem; }}
svg {{ display: block; width: 100%; height: auto; }}
svg text {{ font-family: inherit; fill: #1a1a1a; }}
.multiples {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .5rem 1.5rem; }}
.multiples figure {{ margin: .5rem 0; }}
.multiples figcaption {{ font-size: .95rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: .85rem; margin: .75rem 0 1.25rem; }}
.periods {{ font-size: .8rem; width: auto; min-width: 50%; }}
.periods thead th {{ vertical-align: bottom; }}
tbody th {{ font-weight: 600; white-space: nowrap; }}
caption {{ text-align: left; font-weight: 600; padding: .25rem 0; }}
th, td {{ border: 1px solid #c8c8c8; padding: .2rem .45rem; text-align: left; vertical-align: top; }}
thead th {{ background: #f2f2f2; }}
.right {{ text-align: right; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.wide {{ overflow-x: auto; }}
.barrier {{ border-top: 1px solid #c8c8c8; margin-top: 1.5rem; }}
.barrier h3 {{ margin-top: 1rem; }}
.id {{ font-weight: normal; color: #4d4d4d; font-size: .9rem; }}
footer {{ margin-top: 3rem; border-top: 1px solid #c8c8c8; padding-top: .5rem; }}
@page {{ margin: 15mm; }}
@media print {{
  html {{ font-size: 10.5pt; }}
  body {{ max-width: none; padding: 0; }}
  nav {{ display: none; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  h2, h3, h4, figcaption, caption {{ break-after: avoid; page-break-after: avoid; }}
  figure, blockquote, tr, .crisis-list > li, .resource {{ break-inside: avoid; page-break-inside: avoid; }}
  .wide {{ overflow: visible; }}
  table.periods {{ break-inside: avoid; page-break-inside: avoid; }}
  #frequency, #timeline, #barriers {{ break-before: page; page-break-before: always; }}
  #frequency h2, #timeline h2, #barriers h2 {{ margin-top: 0; }}
}}
"""


def render_html(data: ReportData, taxonomy: dict[str, Label], audience: Audience, lines: list[HelpLine],
                model_version: str | None, made_on: date | None = None) -> str:
    """The whole report page. `lines`: the help lines to show (see `resources.help_lines`).
    `model_version` None means the tags came from a file (unknown model)."""
    parts = [_header(data, audience, model_version, made_on), _crisis(data, lines),
             _frequency(data, taxonomy), _timeline(data, taxonomy), _barriers(data, taxonomy, audience)]
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Belt and braces: even if something slipped through escaping, nothing may run or be fetched.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        "<title>Journal review: barriers to therapy</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        *parts, _footer(), "</body>", "</html>", ""])


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _day(day: date) -> str:
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year}"


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _entries(n: int) -> str:
    return f"{n:,} entry" if n == 1 else f"{n:,} entries"


def _header(data: ReportData, audience: Audience, model_version: str | None, made_on: date | None) -> str:
    if data.first_date:
        span = f"{_day(data.first_date)} to {_day(data.last_date)}"
    else:
        span = "no dates given; the timeline follows the order of the entries"
    if data.undated and data.first_date:
        span += f" ({_entries(len(data.undated))} without a readable date, left out of the timeline)"
    facts = [("Entries", f"{data.entries:,}"), ("Dates", span),
             ("Model", model_version or "not recorded (tags read from unstuck batch output)"),
             ("Next steps for", f"the {audience.value}")]
    if made_on:
        facts.append(("Made on", _day(made_on)))
    sections = [("crisis", "Crisis screen"), ("frequency", "How often each barrier appears"),
                ("timeline", "Over time"), ("barriers", "The barriers, one by one")]
    return "\n".join([
        "<header>", "<h1>Journal review: barriers to therapy</h1>", '<dl class="facts">',
        *(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts), "</dl>",
        '<p class="note"><strong>Not a diagnosis.</strong> This page shows what unstuck, an automatic tagger, '
        "suggests about these entries. Tags can be wrong or missing, and the crisis screen looks for explicit "
        "phrases and can miss risk. Read it alongside the entries and your own judgement. It quotes the "
        "journal: keep it as private as the journal itself.</p>",
        '<nav aria-label="Contents"><ol>', *(f'<li><a href="#{k}">{_e(v)}</a></li>' for k, v in sections),
        "</ol></nav>", "</header>"])


def _where(entry_id: str, line: int | None, day: date | None) -> str:
    bits = [f"entry {entry_id}"]
    if day:
        bits.append(_day(day))
    if line is not None and str(line) != entry_id:
        bits.append(f"line {line}")
    return " · ".join(_e(b) for b in bits)


def _quote(quote: Quote) -> str:
    return f"{_e(quote.before)}<mark>{_e(quote.phrase)}</mark>{_e(quote.after)}"


def _crisis(data: ReportData, lines: list[HelpLine]) -> str:
    if not data.crisis:
        return ('<section id="crisis" aria-labelledby="crisis-h"><h2 id="crisis-h">Crisis screen</h2>'
                "<p>No entry matched the crisis screen. It looks for explicit phrases and can miss things.</p>"
                "</section>")
    items = []
    for entry in data.crisis:
        found = "".join(f"<blockquote>{_quote(q)}</blockquote>" for q in entry.matches)
        items.append(f'<li><p class="meta">{_where(entry.entry_id, entry.line, entry.date)}</p>{found}</li>')
    by_region: dict[str, list[HelpLine]] = {}
    for line in lines:  # one row a region, as the tag view lists them
        by_region.setdefault(line.region_name, []).append(line)
    facts = [(name, "; ".join(f"{line.name}: {line.reach}" for line in found)) for name, found in by_region.items()]
    return "\n".join([
        '<section id="crisis" class="crisis" aria-labelledby="crisis-h">',
        f'<h2 id="crisis-h">Entries that matched the crisis screen ({len(data.crisis)})</h2>',
        "<p>These entries contain language about harm to the writer or to someone else. They come first so "
        "that they are not missed; the matched phrases are highlighted.</p>",
        "<h3>If the writer may be at risk now</h3>",
        "<p>Call the emergency number if anyone is in immediate danger.</p>",
        '<dl class="resource">', *(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts), "</dl>",
        '<p class="meta">For another region\'s numbers: unstuck report --region us, ca, uk, ie, au, nz or eu.</p>',
        "<h3>The entries</h3>",
        '<ol class="crisis-list">', *items, "</ol>", "</section>"])


def _frequency(data: ReportData, taxonomy: dict[str, Label]) -> str:
    order = sorted(data.counts, key=lambda k: -data.counts[k])
    most = max(data.counts.values()) or 1
    left = 16 + 8 * max(len(taxonomy[k].name) for k in order)  # room for the longest name at 14px
    width, bar_max, row = left + 440, 340, 26
    height = row * len(order) + 8
    bars = []
    for i, label in enumerate(order):
        n, y = data.counts[label], 4 + i * row
        length = round(bar_max * n / most, 1)
        value = f"{n} ({_pct(n, data.entries)})" if n else "0"
        bars.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" font-size="14">{_e(taxonomy[label].name)}'
                    f'</text><rect x="{left}" y="{y + 4}" width="{length}" height="{row - 8}" fill="{BLUE}"/>'
                    f'<text x="{left + length + 6}" y="{y + 17}" font-size="14">{_e(value)}</text>')
    summary = "; ".join(f"{taxonomy[k].name}: {data.counts[k]}" for k in order if data.counts[k]) or "none"
    rows = "".join(f"<tr><th scope=\"row\">{_e(taxonomy[k].name)}</th><td class=\"num\">{data.counts[k]}</td>"
                   f"<td class=\"num\">{_pct(data.counts[k], data.entries)}</td></tr>" for k in order)
    return "\n".join([
        '<section id="frequency" aria-labelledby="frequency-h">',
        '<h2 id="frequency-h">How often each barrier appears</h2>',
        f"<p>Out of {_entries(data.entries)}. An entry can show several barriers, or none.</p>",
        '<figure><figcaption id="bars-cap">Entries showing each barrier</figcaption>',
        f'<svg role="img" aria-labelledby="bars-title bars-desc" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet"><title id="bars-title">Entries showing each barrier, out of '
        f'{_entries(data.entries)}</title><desc id="bars-desc">{_e(summary)}</desc>{"".join(bars)}</svg>',
        "</figure>",
        "<table><caption>Entries showing each barrier (the numbers in the chart)</caption>"
        '<thead><tr><th scope="col">Barrier</th><th scope="col" class="num">Entries</th>'
        f'<th scope="col" class="num">Share of entries</th></tr></thead><tbody>{rows}</tbody></table>',
        "</section>"])


def _bucket_name(bucket: TimeBucket, unit: Bucket | None) -> str:
    if unit is None:
        return f"entries {_steps(bucket)}"
    if unit is Bucket.month:
        return f"{calendar.month_name[bucket.start.month]} {bucket.start.year}"
    return f"week of {_day(bucket.start)}"


def _timeline(data: ReportData, taxonomy: dict[str, Label]) -> str:
    labels = [s.id for s in data.labels]
    unit_name = data.bucket.value if data.bucket else f"{data.bucket_size} entries in input order"
    shares = [b.share(k) for b in data.timeline for k in labels if b.entries]
    top = max(0.2, min(1.0, math.ceil(max(shares, default=0) * 5) / 5))  # one scale for all: the next 20% up
    figures = [_entries_figure(data)]
    figures += [_share_figure(data, taxonomy[k], top) for k in labels]
    if not labels:
        figures.append("<p>No barrier appears in these entries, so there are no lines to draw.</p>")
    return "\n".join([
        '<section id="timeline" aria-labelledby="timeline-h">', '<h2 id="timeline-h">Over time</h2>',
        f"<p>For each barrier, the share of entries per {_e(unit_name)} that show it. All charts use the same "
        f"scale, 0 to {top:.0%}. A gap means no entries in that {'period' if data.bucket else 'stretch'}; "
        "a share from only one or two entries says little.</p>",
        '<div class="multiples">', *figures, "</div>", _timeline_table(data, taxonomy, labels), "</section>"])


def _plot_x(i: int, n: int, left: float = 38, right: float = 252) -> float:
    return round(left + (i + 0.5) * (right - left) / n, 1)


def _axis(data: ReportData, height: float) -> str:
    buckets, n = data.timeline, len(data.timeline)
    first = f'<text x="{_plot_x(0, n)}" y="{height}" font-size="11" text-anchor="start">' \
            f"{_e(_period(buckets[0], data.bucket))}</text>"
    last = "" if n == 1 else (f'<text x="{_plot_x(n - 1, n)}" y="{height}" font-size="11" text-anchor="end">'
                              f"{_e(_period(buckets[-1], data.bucket))}</text>")
    return first + last


def _entries_figure(data: ReportData) -> str:
    n, most = len(data.timeline), max(b.entries for b in data.timeline) or 1
    step = (252 - 38) / n
    bars = "".join(f'<rect x="{_plot_x(i, n) - step * 0.35:.1f}" y="{96 - 80 * b.entries / most:.1f}" '
                   f'width="{step * 0.7:.1f}" height="{80 * b.entries / most:.1f}" fill="{GREY}"/>'
                   for i, b in enumerate(data.timeline))
    desc = ", ".join(f"{_bucket_name(b, data.bucket)}: {b.entries}" for b in data.timeline)
    return _chart("Entries per period (for scale)", "Entries per period", desc,
                  f'<line x1="38" y1="96" x2="252" y2="96" stroke="#8c8c8c"/>'
                  f'<text x="32" y="20" font-size="11" text-anchor="end">{most}</text>'
                  f'<text x="32" y="100" font-size="11" text-anchor="end">0</text>{bars}{_axis(data, 114)}')


def _share_figure(data: ReportData, label: Label, top: float) -> str:
    n = len(data.timeline)
    points = [(_plot_x(i, n), round(96 - 80 * b.share(label.id) / top, 1)) if b.entries else None
              for i, b in enumerate(data.timeline)]
    segments, current = [], []
    for point in points + [None]:  # a bucket without entries breaks the line
        if point is None:
            if len(current) > 1:
                segments.append(current)
            current = []
        else:
            current.append(point)
    lines = "".join(f'<polyline points="{" ".join(f"{x},{y}" for x, y in s)}" fill="none" stroke="{BLUE}" '
                    'stroke-width="2"/>' for s in segments)
    radius = 3 if n <= 20 else 2
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="{radius}" fill="{BLUE}"/>' for x, y in filter(None, points))
    grid = "".join(f'<line x1="38" y1="{96 - 80 * f}" x2="252" y2="{96 - 80 * f}" stroke="#d9d9d9"/>'
                   f'<text x="32" y="{100 - 80 * f}" font-size="11" text-anchor="end">{top * f:.0%}</text>'
                   for f in (0, 0.5, 1))
    desc = ", ".join(f"{_bucket_name(b, data.bucket)}: {_pct(b.counts[label.id], b.entries)}" for b in data.timeline)
    return _chart(label.name, f"{label.name}, share of entries", desc, f"{grid}{lines}{dots}{_axis(data, 114)}")


def _chart(caption: str, what: str, desc: str, drawing: str) -> str:
    """A small chart under its caption; screen readers get `what` it shows and each period's value."""
    return (f"<figure><figcaption>{_e(caption)}</figcaption>"
            f'<svg role="img" aria-label="{_e(what)}. {_e(desc)}" viewBox="0 0 260 120">'
            f"<title>{_e(what)}: {_e(desc)}</title>{drawing}</svg></figure>")


def _timeline_table(data: ReportData, taxonomy: dict[str, Label], labels: list[str]) -> str:
    """Barriers down, periods across, in slices of a few periods so that each fits a printed page."""
    count = math.ceil(len(data.timeline) / PERIODS_PER_TABLE)
    size = math.ceil(len(data.timeline) / count)  # 13 periods: 7 and 6, not 10 and 3
    tables = []
    for i in range(0, len(data.timeline), size):
        part = data.timeline[i:i + size]
        head = "".join(f'<th scope="col" class="right">{_e(_period(b, data.bucket))}</th>' for b in part)
        rows = [f'<tr><th scope="row">Entries</th>{"".join(f"<td class=num>{b.entries}</td>" for b in part)}</tr>']
        rows += [f'<tr><th scope="row">{_e(taxonomy[k].name)}</th>'
                 f'{"".join(f"<td class=num>{_pct(b.counts[k], b.entries)}</td>" for b in part)}</tr>' for k in labels]
        more = f" ({i // size + 1} of {count})" if count > 1 else ""
        tables.append(f'<table class="periods"><caption>Entries per period, and the share showing each barrier '
                      f'(the numbers in the charts){more}</caption><thead><tr><th scope="col">'
                      f'{_e(_period_kind(data))}</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return '<div class="wide">' + "".join(tables) + "</div>"


def _period_kind(data: ReportData) -> str:
    return {Bucket.week: "Week of", Bucket.month: "Month"}.get(data.bucket, "Entries, in order")


def _period(bucket: TimeBucket, unit: Bucket | None) -> str:
    if unit is Bucket.week:
        return _day(bucket.start)
    if unit is Bucket.month:
        return f"{calendar.month_abbr[bucket.start.month]} {bucket.start.year}"
    return _steps(bucket)


def _steps(bucket: TimeBucket) -> str:
    return str(bucket.first) if bucket.first == bucket.last else f"{bucket.first}–{bucket.last}"


def _trend(summary: LabelSummary) -> str:
    (a, n_a), (b, n_b) = summary.earlier, summary.later
    if not n_a or not n_b:
        return ""
    change = b / n_b - a / n_a
    word = ("less often in the later half" if change <= -TREND_POINTS else
            "more often in the later half" if change >= TREND_POINTS else "about as often in both halves")
    return (f" Earlier half of the entries: {a} of {n_a} ({_pct(a, n_a)}); later half: {b} of {n_b} "
            f"({_pct(b, n_b)}), so {word}.")


def _barriers(data: ReportData, taxonomy: dict[str, Label], audience: Audience) -> str:
    out = ['<section id="barriers" aria-labelledby="barriers-h">',
           '<h2 id="barriers-h">The barriers, one by one</h2>']
    if not data.labels:
        out.append("<p>No barrier was found in these entries.</p>")
    for summary in data.labels:
        label = taxonomy[summary.id]
        out += [f'<article class="barrier" aria-labelledby="b-{_e(label.id)}">',
                f'<h3 id="b-{_e(label.id)}">{_e(label.name)} <span class="id">({_e(label.id)})</span></h3>',
                f"<p>{_e(label.description)}</p>",
                f'<p><strong>In {summary.count} of {_entries(data.entries)} '
                f"({_pct(summary.count, data.entries)}).</strong>{_e(_trend(summary))}</p>",
                "<h4>From the entries</h4>", _quotes(summary, data),
                f"<h4>Next steps for the {_e(audience.value)}</h4>",
                "<ul>", *(f"<li>{_e(step)}</li>" for step in label.steps_for(audience)), "</ul>", "</article>"]
    out.append("</section>")
    return "\n".join(out)


def _quotes(summary: LabelSummary, data: ReportData) -> str:
    if not data.has_evidence:
        return ('<p class="muted">No quotes: this input carries no evidence. Run the report on the journal '
                "itself, or make the batch file with unstuck batch --evidence.</p>")
    if not summary.quotes:
        return '<p class="muted">No phrase stood out as evidence for this barrier.</p>'
    context = "" if data.has_text else ('<p class="meta">Phrases only: the entry text is not in this file '
                                        "(keep it with unstuck batch --keep-fields text).</p>")
    return context + "".join(f'<blockquote>{_quote(q)}<br><span class="meta">{_where(q.entry_id, q.line, q.date)}'
                             "</span></blockquote>" for q in summary.quotes)


def _footer() -> str:
    return ('<footer class="meta"><p>Made by unstuck on this computer; nothing was sent anywhere. '
            "unstuck suggests; it does not diagnose, and it is no substitute for care.</p></footer>")
