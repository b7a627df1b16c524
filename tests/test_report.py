"""`unstuck report`: the summary (`summarise`), date parsing, the HTML page, and the command, on
journal files and on `unstuck batch` output."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from batch_inputs import tagged_entry
from unstuck.cli.app import app
from unstuck.cli.report_html import render_html
from unstuck.data.resources import help_lines
from unstuck.data.taxonomy import LABEL_IDS, Audience, default_taxonomy
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.data.dates import parse_date
from unstuck.data.records import Row, Span, Tagged
from unstuck.data.summary import Bucket, summarise
from unstuck.model.tagger import Tagger

runner = CliRunner()
CRISIS = "I keep thinking everyone would be better off without me."
SCRIPT = "Test entry <script>alert(1)</script> and my therapist cancelled last minute again."
BAD_DATE_LINE = 8
JOURNAL = [  # (date, text): three months, one unreadable date (line 8), mixed date formats
    ("2026-01-05", "I cancelled my session again because work was insane this week."),
    ("2026-01-09", "I'm scared to tell my therapist what really happened with my dad."),
    ("01/14/2026", "Had a few drinks before the session again, just to take the edge off."),
    ("January 20, 2026", "We never agreed on what we are actually working on, I don't know what therapy is for."),
    ("27 Jan 2026", CRISIS),
    ("2026-02-03T19:30:00Z", "Missed another appointment, I just didn't go. Third time this month."),
    ("2026-02-11", "My phone kept buzzing the whole session and I couldn't focus on anything she said."),
    ("sometime in Feb", "I froze when she asked about my childhood, I couldn't say it out loud."),
    ("2026-02-24", SCRIPT),
    ("2026-03-06", "Good session today, we made a plan for the week and I actually feel hopeful."),
    ("2026-03-17", "I don't trust her with the real stuff, she might tell someone."),
    ("2026-03-30", "Finished the worksheet and it actually helped, walked by the river after."),
]


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.load(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def taggings(tagger):
    return list(tagger.tag_many([text for _, text in JOURNAL], evidence=True))


def write_journal(path: Path) -> Path:
    path.write_text("".join(json.dumps({"id": f"e{i}", "date": d, "text": t}) + "\n"
                            for i, (d, t) in enumerate(JOURNAL, start=1)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def journal_report(tmp_path_factory):
    """The report of JOURNAL, made once through the command with the active (shipped) model."""
    folder = tmp_path_factory.mktemp("report")
    source = write_journal(folder / "journal.jsonl")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNSTUCK_HOME", str(folder / "home"))
        result = runner.invoke(app, ["report", str(source), "-o", str(folder / "report.html"), "--date-field", "date"])
    assert result.exit_code == 0, result.stderr
    return source, (folder / "report.html").read_text(encoding="utf-8"), result.stderr


def frequency_counts(page: str) -> dict[str, int]:
    """The bar chart's table, read back as {label id: entries}."""
    names = {label.name: label.id for label in default_taxonomy().values()}
    table = page[page.index('id="frequency"'):page.index('id="timeline"')]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', table)
    return {names[html.unescape(name)]: int(n) for name, n in rows}


def test_report_counts_match_the_tagger(journal_report, taggings):
    _, page, _ = journal_report
    expected = {k: sum(k in t.labels for t in taggings) for k in LABEL_IDS}
    assert frequency_counts(page) == expected
    assert "<dt>Entries</dt><dd>12</dd>" in page
    assert "5 Jan 2026 to 30 Mar 2026" in page


def test_report_has_each_section_with_crisis_entries_first(journal_report, taggings):
    _, page, _ = journal_report
    places = [page.index(marker) for marker in
              ("<h1>", 'id="crisis"', 'id="frequency"', "<svg", 'id="timeline"', 'id="barriers"')]
    assert places == sorted(places)  # crisis entries come before the first chart
    crisis = page[page.index('id="crisis"'):page.index('id="frequency"')]
    flagged = [t for t in taggings if t.crisis]
    assert flagged and f"({len(flagged)})" in crisis
    for match in (m for t in flagged for m in t.crisis_matches):
        assert f"<mark>{html.escape(match.text)}</mark>" in crisis
    assert "Not a diagnosis" in page
    for label_id in (k for k in LABEL_IDS if any(k in t.labels for t in taggings)):
        label = default_taxonomy()[label_id]
        assert f'id="b-{label_id}"' in page and html.escape(label.description) in page
        assert html.escape(label.therapist_steps[0]) in page  # the default audience is the therapist


def test_report_is_accessible_and_self_contained(journal_report):
    _, page, _ = journal_report
    assert page.count("<table") >= 2 and page.count("<svg") >= 2
    assert page.count('<svg role="img"') == page.count("<svg") and page.count("<title") >= page.count("<svg")
    assert re.search(r"<h2[^>]*>", page) and "@media print" in page
    assert not re.search(r"\bsrc\s*=", page, re.I)
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))
    for loader in ("<script", "<link", "@import", "url(", "<img", "<iframe", "http://", "https://"):
        assert loader not in page.lower()


def test_report_shows_entry_text_escaped(journal_report):
    _, page, _ = journal_report
    assert "<script>" not in page and "alert(1)</script>" not in page
    data = summarise([tagged_entry("<b>id</b>", 1, ["fear"], {"fear": 0.9}, True, [Span(0, 8, "<script>")],
                            {"fear": [Span(0, 8, "<script>")]}, "<script>alert(1)</script> scared")])
    built = render_html(data, default_taxonomy(), Audience.therapist, help_lines(None, crisis=True, safety=False), "v<1>")
    assert "<script>" not in built and "<b>id</b>" not in built and "v<1>" not in built
    assert "<mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt; scared" in built


@pytest.mark.parametrize("saved", [None, "uk"])
def test_report_shows_the_numbers_tag_shows_without_region(tmp_path, monkeypatch, saved):
    from unstuck.data.region import save_region

    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "UNSTUCK_REGION"):
        monkeypatch.delenv(name, raising=False)
    if saved:
        save_region(saved)
    source = tmp_path / "journal.jsonl"
    source.write_text(json.dumps({"text": "I want to kill myself tonight."}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["report", str(source), "-o", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    crisis = page[page.index('id="crisis"'):page.index('id="frequency"')]
    lines = help_lines(saved, crisis=True, safety=False)  # what `tag` shows for this entry
    assert lines and all(html.escape(line.reach) in crisis for line in lines)
    assert re.search(r"\d{3}", crisis)
    regions = {line.region for line in lines}
    assert len(regions) == 1 if saved else len(regions) > 1  # no region chosen: every region's numbers


def test_report_lists_an_unreadable_date_with_its_line(journal_report):
    source, page, stderr = journal_report
    assert f'unstuck: {source}:{BAD_DATE_LINE}: "date": not a date unstuck can read' in stderr
    assert "1 entry without a readable date, left out of the timeline" in page
    timeline = page[page.index('id="timeline"'):page.index('id="barriers"')]
    entries_per_week = re.findall(r'<th scope="row">Entries</th>((?:<td class=num>\d+</td>)+)', timeline)
    assert sum(int(n) for row in entries_per_week for n in re.findall(r"\d+", row)) == len(JOURNAL) - 1


def batch_output(taggings, keep_text: bool) -> str:
    rows = [Row(i, f"e{i}", text, {"date": day, **({"text": text} if keep_text else {})})
            for i, (day, text) in enumerate(JOURNAL, start=1)]
    return "".join(json.dumps(Tagged(row, t).as_dict(evidence=True)) + "\n" for row, t in zip(rows, taggings))


@pytest.mark.parametrize("keep_text", [False, True])
def test_report_reads_batch_output_without_tagging_again(tmp_path, monkeypatch, taggings, keep_text):
    def no_tagging(*args, **kwargs):
        raise AssertionError("the report tagged entries that were already tagged")

    monkeypatch.setattr(Tagger, "load", no_tagging)
    monkeypatch.setattr(Tagger, "tag_many", no_tagging)
    monkeypatch.setattr("unstuck.cli.report.get_tagger", no_tagging)
    source = tmp_path / "tags.jsonl"
    source.write_text(batch_output(taggings, keep_text), encoding="utf-8")
    result = runner.invoke(app, ["report", str(source), "-o", str(tmp_path / "r.html"), "--date-field", "date"])
    assert result.exit_code == 0, result.stderr
    assert "without tagging again" in result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert frequency_counts(page) == {k: sum(k in t.labels for t in taggings) for k in LABEL_IDS}
    assert "not recorded (tags read from unstuck batch output)" in page
    assert ("Phrases only: the entry text is not in this file" in page) is not keep_text
    assert "better off without me</mark>" in page


def test_report_refuses_to_write_over_its_input(tmp_path):
    source = write_journal(tmp_path / "journal.jsonl")
    result = runner.invoke(app, ["report", str(source), "-o", str(source)])
    assert result.exit_code == 2
    assert "refusing to write over it" in result.stderr
    assert len(source.read_text(encoding="utf-8").splitlines()) == len(JOURNAL)


def test_report_bucket_needs_a_date_field(tmp_path):
    source = write_journal(tmp_path / "journal.jsonl")
    result = runner.invoke(app, ["report", str(source), "-o", str(tmp_path / "r.html"), "--bucket", "week"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "unstuck: --bucket week needs dates; name the date field with --date-field NAME"


@pytest.mark.parametrize("value, dayfirst, expected", [
    ("2026-03-04", False, date(2026, 3, 4)),
    ("2026-03-04T23:30:00-05:00", False, date(2026, 3, 4)),
    ("2026-03-04T10:00:00Z", False, date(2026, 3, 4)),
    ("2026-03-04 21:15", False, date(2026, 3, 4)),
    ("04/03/2026", False, date(2026, 4, 3)),
    ("04/03/2026", True, date(2026, 3, 4)),
    ("4.3.2026 9:15 pm", True, date(2026, 3, 4)),
    ("March 4, 2026", False, date(2026, 3, 4)),
    ("Wed, Mar 4th, 2026", True, date(2026, 3, 4)),
    ("4 Mar 2026", False, date(2026, 3, 4)),
    ("4 September 2026", False, date(2026, 9, 4)),
])
def test_report_parse_date_reads_common_formats(value, dayfirst, expected):
    assert parse_date(value, dayfirst) == expected


@pytest.mark.parametrize("value, dayfirst, reason", [
    ("13/03/2026", False, "there is no month 13; if these dates are day first, use --dayfirst"),
    ("03/13/2026", True, "there is no month 13; if these dates are month first, use --monthfirst"),
    ("04/03/2026", None, "04/03/2026 could be day first or month first; say which with --dayfirst or --monthfirst"),
    ("31/02/2026", None, "not a real date"),
    ("last Tuesday", None, "not a date unstuck can read"),
    ("", None, "no date"),
    (None, None, "no date"),
    (20260304, None, "not text"),
])
def test_report_parse_date_explains_what_it_cannot_read(value, dayfirst, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_date(value, dayfirst)


@pytest.mark.parametrize("value, expected", [("13/03/2026", date(2026, 3, 13)), ("03/13/2026", date(2026, 3, 13)),
                                             ("04/04/2026", date(2026, 4, 4))])
def test_report_parse_date_without_an_order_reads_dates_only_one_order_allows(value, expected):
    assert parse_date(value) == expected


def dated(days: list[date], labels: list[list[str]]) -> list[Tagged]:
    return [tagged_entry(f"e{i}", i, ls, dict.fromkeys(ls, 0.9), False, date=day)
            for i, (day, ls) in enumerate(zip(days, labels), start=1)]


@pytest.mark.parametrize("span_days, bucket", [(20, Bucket.week), (91, Bucket.week), (92, Bucket.month)])
def test_report_summarise_picks_weeks_or_months_by_span(span_days, bucket):
    start = date(2026, 1, 5)
    data = summarise(dated([start, date.fromordinal(start.toordinal() + span_days)], [[], []]), dated=True)
    assert data.bucket is bucket


def test_report_summarise_keeps_empty_weeks_and_counts_shares():
    entries = dated([date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 18)], [["fear"], [], ["fear", "trust"]])
    data = summarise(entries, dated=True)
    assert [b.start for b in data.timeline] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert [b.entries for b in data.timeline] == [2, 0, 1]
    assert [b.share("fear") for b in data.timeline] == [0.5, None, 1.0]
    assert [s.id for s in data.labels] == ["fear", "trust"] and data.counts["fear"] == 2


@pytest.mark.parametrize("size, steps, fear", [
    (4, [(1, 4), (5, 8), (9, 12)], [2, 2, 2]),
    (5, [(1, 5), (6, 12)], [3, 3]),  # a last step of under half a step joins the one before
])
def test_report_summarise_without_dates_follows_input_order(size, steps, fear):
    entries = [tagged_entry(str(i), i, ["fear"] if i % 2 else [], {}, False) for i in range(1, 13)]
    data = summarise(entries, bucket_size=size)
    assert data.bucket is None and [(b.first, b.last) for b in data.timeline] == steps
    assert [b.counts["fear"] for b in data.timeline] == fear


def test_report_summarise_quotes_the_highest_scoring_entries_once_each():
    text = "I was scared to say it."
    entries = [tagged_entry(str(i), i, ["fear"], {"fear": score}, False, evidence={"fear": [Span(6, 12, "scared")]},
                     text=text if i < 3 else f"{text} Entry {i}.")
               for i, score in enumerate([0.5, 0.9, 0.8, 0.7, 0.6], start=1)]
    [fear] = summarise(entries).labels
    assert [q.entry_id for q in fear.quotes] == ["2", "3", "4"]  # entry 1 repeats 2's words; shown in order
    assert (fear.quotes[0].before, fear.quotes[0].phrase, fear.quotes[0].after) == ("I was ", "scared", " to say it.")
