"""`unstuck report`: one offline HTML page reviewing many entries (crisis entries first, how often
each barrier appears, its share over time, quotes, next steps). Parses options, reads or tags the
entries, calls `summarise`, renders with `report_html`; notes and errors go to standard error.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import typer

from unstuck.cli.app import MODEL_OPTION, TRUST_OPTION, app, fail, get_tagger, note, reports_input_errors
from unstuck.cli.batch import DELIMITERS
from unstuck.data.errors import InputError
from unstuck.data.formats import DEFAULTS, InputKind, atomic_output, check_input, check_output, read_rows
from unstuck.data.taxonomy import Audience, default_taxonomy
from unstuck.model.report import Bucket

if TYPE_CHECKING:
    from unstuck.model.report import Entry

LISTED_NOTES = 20


@app.command()
@reports_input_errors
def report(
    source: Path = typer.Argument(
        ..., metavar="INPUT",
        help="What `unstuck batch` reads (.jsonl, .csv, .txt, a folder), or `unstuck batch` output (.jsonl), "
        "which is used as it is, without tagging again."),
    output: str = typer.Option(..., "-o", "--output", metavar="FILE", help="The page to write, e.g. report.html."),
    date_field: Optional[str] = typer.Option(
        None, "--date-field", metavar="NAME",
        help="The field or column with each entry's date; turns on the dated timeline. Reads 2026-03-04, "
        "ISO date-times, 03/04/2026, March 4, 2026 and 4 Mar 2026."),
    dayfirst: bool = typer.Option(
        False, "--dayfirst", help="Read 04/03/2026 as 4 March [default: month first, 4/3 is April 3]."),
    bucket: Optional[Bucket] = typer.Option(
        None, "--bucket", case_sensitive=False,
        help="Timeline periods [default: week for dates spanning up to 13 weeks, month beyond]."),
    bucket_size: Optional[int] = typer.Option(
        None, "--bucket-size", min=1, metavar="N",
        help="Without dates: entries per timeline step, in input order; a short last step joins the one "
        "before [default: about ten steps, at least 5]."),
    audience: Audience = typer.Option(
        Audience.therapist, "--for",
        help="Whose next steps to list. Defaults to therapist: this is a review tool."),
    region: Optional[str] = typer.Option(None, "--region", help="Crisis numbers for: us, ca, uk, ie, au, nz, eu."),
    text_field: str = typer.Option(
        DEFAULTS.text_field, "--text-field", metavar="NAME", help="The field or column holding the entry."),
    id_field: str = typer.Option(
        DEFAULTS.id_field, "--id-field", metavar="NAME", help="The field or column holding its id."),
    delimiter: str = typer.Option(DEFAULTS.delimiter, "--delimiter", metavar="CHAR", help="CSV separator."),
    encoding: str = typer.Option(DEFAULTS.encoding, "--encoding", metavar="NAME", help="The input's text encoding."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """Write one HTML page to review many entries: which barriers come up, when, and whether they fade.

    The page is self-contained (no script, nothing fetched; it opens offline and prints on A4 or
    Letter). It lists entries that matched the crisis screen first, then a chart of how often each
    barrier appears, a timeline of each one's share of entries, and for each barrier its description,
    next steps and a few quotes. The page quotes the journal: keep it as private as the journal.

    \b
    Examples:
      unstuck report journal.jsonl -o report.html --date-field date
      unstuck report export.csv -o report.html --date-field created --dayfirst --bucket month
      unstuck report tags.jsonl -o report.html --region uk      (output of unstuck batch)
    """
    from unstuck.cli.report_html import render_html
    from unstuck.data.resources import UnknownRegion, help_lines
    from unstuck.model.region import chosen_region
    from unstuck.model.report import is_batch_output, summarise

    try:  # whose numbers the page shows: chosen as `tag` chooses them (every region's when nothing says)
        lines = help_lines(chosen_region(region), crisis=True, safety=False)
    except UnknownRegion as err:
        fail(str(err))
    if bucket is not None and not date_field:
        fail(f"--bucket {bucket.value} needs dates; name the date field with --date-field NAME")
    kind = check_input(source, encoding)
    if date_field and kind in (InputKind.txt, InputKind.folder):
        fail(f"{source}: --date-field needs a .jsonl or .csv input; this one has no fields")
    check_output(output, source)
    if is_batch_output(source, encoding):
        if model is not None:
            note(f"{source} is already tagged (unstuck batch output); --model is not used")
        found, version = _read_tagged(source, text_field, id_field, date_field, dayfirst, encoding), None
    else:
        tagger = get_tagger(model, trust_model)
        rows = read_rows(source, text_field, id_field, (date_field,) if date_field else (),
                         _delimiter(delimiter), encoding)
        found, version = _tag(rows, tagger, date_field, dayfirst), tagger.version
    entries = _collect(found)
    if not entries:
        fail(f"{source}: no entries to report on")
    data = summarise(entries, dated=bool(date_field), bucket=bucket, bucket_size=bucket_size)
    _report_undated(data.undated, date_field, data.first_date is not None)
    page = render_html(data, default_taxonomy(), audience, lines, version, made_on=date.today())
    with atomic_output(output) as handle:
        handle.write(page)
    crisis = f"{len(data.crisis)} matched the crisis screen (listed first)" if data.crisis \
        else "none matched the crisis screen"
    note(f"wrote {'standard output' if output == '-' else output}: {data.entries:,} "
         f"{'entry' if data.entries == 1 else 'entries'}; {crisis}")


def _delimiter(value: str) -> str:
    value = DELIMITERS.get(value.lower(), value)
    if len(value) != 1:
        fail(f"--delimiter must be one character (or 'tab'), not {value!r}")
    return value


def _read_tagged(source: Path, text_field: str, id_field: str, date_field: Optional[str], dayfirst: bool,
                 encoding: str) -> Iterator[Entry | InputError]:
    from unstuck.model.report import read_batch_output

    note(f"{source} is unstuck batch output: using its tags as they are, without tagging again")
    return read_batch_output(source, text_field, id_field, date_field, dayfirst, encoding)


def _tag(rows, tagger, date_field: Optional[str], dayfirst: bool) -> Iterator[Entry | InputError]:
    from unstuck.model.batch import tag_rows
    from unstuck.model.report import entry_from_tagged

    for result in tag_rows(rows, tagger, workers=os.cpu_count() or 1, evidence=True):
        yield result if isinstance(result, InputError) else entry_from_tagged(result, date_field, dayfirst)


def _collect(found: Iterator[Entry | InputError]) -> list[Entry]:
    """The good entries; each bad row is reported (the first few by line) and left out."""
    entries, skipped = [], 0
    for item in found:
        if isinstance(item, InputError):
            skipped += 1
            if skipped <= LISTED_NOTES:
                note(str(item))
        else:
            entries.append(item)
    if skipped:
        note(f"skipped {skipped:,} bad {'row' if skipped == 1 else 'rows'}; the report covers the rest")
    return entries


def _report_undated(undated: list[InputError], date_field: Optional[str], any_dated: bool) -> None:
    for problem in undated[:LISTED_NOTES]:
        note(str(problem))
    if len(undated) > LISTED_NOTES:
        note(f"… and {len(undated) - LISTED_NOTES:,} more entries without a readable date")
    if date_field and not any_dated:
        note(f'no entry has a readable "{date_field}", so the timeline follows input order instead (for '
             f"unstuck batch output, the batch needs --keep-fields {date_field})")
