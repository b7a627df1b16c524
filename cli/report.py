"""`unstuck report`: one offline HTML page reviewing many entries (crisis entries first, how often
each barrier appears, its share over time, quotes, next steps). Parses options, reads or tags the
entries, calls `summarise`, renders with `report_html`; notes and errors go to standard error.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Iterator, Optional

import typer

from unstuck.cli.common import (
    DELIMITER_OPTION, ENCODING_OPTION, ID_FIELD_OPTION, MODEL_OPTION, TEXT_FIELD_OPTION, TRUST_OPTION, app, fail,
    get_tagger, note, reports_input_errors,
)
from unstuck.cli.batch import SPLIT_OPTION, Progress, delimiter_char, txt_layout
from unstuck.data.errors import InputError
from unstuck.data.formats import INPUTS_READ, INPUTS_WITH_FIELDS, InputKind, check_input, describe_columns, field_names, input_size, read_rows
from unstuck.data.output import atomic_output, check_output
from unstuck.data.taxonomy import Audience, default_taxonomy
from unstuck.data.records import Tagged
from unstuck.data.summary import Bucket

LISTED_NOTES = 20


@app.command()
@reports_input_errors
def report(
    source: Path = typer.Argument(
        ..., metavar="INPUT",
        help=f"What `unstuck batch` reads: {INPUTS_READ}. Or `unstuck batch` output (.jsonl, or the folder of "
        "a --scheduler run), used as it is, without tagging again."),
    output: str = typer.Option(
        ..., "-o", "--output", metavar="FILE", help="The page to write: FILE.html, or - for standard output."),
    date_field: Optional[str] = typer.Option(
        None, "--date-field", metavar="NAME",
        help="The field or column with each entry's date; turns on the dated timeline. Reads 2026-03-04, "
        "ISO date-times, 03/04/2026, March 4, 2026 and 4 Mar 2026 [default: the heading of a journal under "
        "date headings; a date field kept by unstuck batch]."),
    dayfirst: bool = typer.Option(
        False, "--dayfirst", help="Read 04/03/2026 as 4 March. Dates that could be read either way stop the "
        "report unless --dayfirst or --monthfirst says which."),
    monthfirst: bool = typer.Option(False, "--monthfirst", help="Read 04/03/2026 as April 3."),
    split_on_dates: Optional[bool] = SPLIT_OPTION,
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
    text_field: str = TEXT_FIELD_OPTION,
    id_field: str = ID_FIELD_OPTION,
    delimiter: str = DELIMITER_OPTION,
    encoding: str = ENCODING_OPTION,
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
    from unstuck.data.region import chosen_region
    from unstuck.data.batch_output import assign_dates
    from unstuck.data.summary import summarise

    if dayfirst and monthfirst:
        fail("--dayfirst and --monthfirst contradict each other; give one")
    try:  # whose numbers the page shows: chosen as `tag` chooses them (every region's when nothing says)
        lines = help_lines(chosen_region(region), crisis=True, safety=False)
    except UnknownRegion as err:
        fail(str(err))
    if bucket is not None and not date_field:
        fail(f"--bucket {bucket.value} needs dates; name the date field with --date-field NAME")
    check_output(output, source, (".html", ".htm"))
    split = not source.is_dir() and txt_layout(source, encoding, split_on_dates)
    found, version, date_field = _entries_of(source, date_field, text_field, id_field, delimiter_char(delimiter),
                                             encoding, split, model, trust_model)
    entries = _collect(found)
    if not entries:
        fail(f"{source}: no entries to report on")
    if date_field:
        _check_date_field(source, entries, date_field, delimiter_char(delimiter), encoding, split)
        assign_dates(entries, date_field, True if dayfirst else False if monthfirst else None)
    data = summarise(entries, dated=bool(date_field), bucket=bucket, bucket_size=bucket_size)
    _report_undated(data.undated)
    page = render_html(data, default_taxonomy(), audience, lines, version, made_on=date.today())
    with atomic_output(output) as handle:
        handle.write(page)
    crisis = f"{len(data.crisis)} matched the crisis screen (listed first)" if data.crisis \
        else "none matched the crisis screen"
    note(f"wrote {'standard output' if output == '-' else output}: {data.entries:,} "
         f"{'entry' if data.entries == 1 else 'entries'}; {crisis}")


def _entries_of(source: Path, date_field: Optional[str], text_field: str, id_field: str, delimiter: str,
                encoding: str, split: bool, model: Optional[Path],
                trust_model: bool) -> tuple[Iterator[Tagged | InputError], Optional[str], Optional[str]]:
    """The entries to report on (tagged now, or read back from batch output), the model version if
    known, and the date field to use."""
    from unstuck.data.batch_output import (
        batch_fields, found_date_field, is_batch_output, is_dask_output, read_batch_output, read_dask_output,
    )

    dask = is_dask_output(source)
    if dask or is_batch_output(source, encoding):
        if model is not None:
            note(f"{source} is already tagged (unstuck batch output); --model is not used")
        note(f"{source} is unstuck batch output: using its tags as they are, without tagging again")
        if not date_field and (date_field := found_date_field(source, batch_fields(source, encoding), encoding)):
            note(f'dates from its "{date_field}" field (--date-field NAME to use another)')
        if dask:
            found, version = read_dask_output(source, text_field, id_field, date_field)
            return found, version, date_field
        return read_batch_output(source, text_field, id_field, date_field, encoding), None, date_field
    kind = check_input(source, encoding)
    if split and not date_field:
        date_field = "date"
        note(f"{source}: one entry under each date heading, dated by it")
    if date_field and kind is InputKind.txt and not split:
        fail(f"{source}: --date-field needs fields ({INPUTS_WITH_FIELDS}); this one has none")
    if date_field and kind is InputKind.csv and date_field not in (columns := field_names(source, delimiter, encoding)):
        raise InputError(source, 1, f'no "{date_field}" column; {describe_columns(columns)}; '
                         "name the date field with --date-field NAME")
    tagger = get_tagger(model, trust_model)
    rows = read_rows(source, text_field, id_field, (date_field,) if date_field else (), delimiter, encoding, split)
    return _tag(rows, tagger, input_size(source)), tagger.version, date_field


def _tag(rows, tagger, total_bytes: int) -> Iterator[Tagged | InputError]:
    """Tag the rows, showing progress on a terminal's standard error as batch does."""
    from unstuck.model.batch import tag_rows

    progress, done, offset = Progress(total_bytes, show=sys.stderr.isatty()), 0, 0
    try:
        for result in tag_rows(rows, tagger, workers=os.cpu_count() or 1, evidence=True):
            if isinstance(result, InputError):
                progress.clear()
                yield result
                continue
            done, offset = done + 1, result.row.offset or offset
            progress.update(done, offset)
            yield result
    finally:
        progress.clear()


def _check_date_field(source: Path, entries: list[Tagged], date_field: str, delimiter: str, encoding: str,
                      split: bool) -> None:
    """Stop, naming the fields there are, when no entry has the date field at all."""
    if any(entry.row.kept.get(date_field) is not None for entry in entries):
        return
    from unstuck.data.batch_output import batch_fields, is_batch_output, is_dask_output

    tagged = is_dask_output(source) or is_batch_output(source, encoding)
    fields = batch_fields(source, encoding) if tagged else field_names(source, delimiter, encoding, split)
    kept = " (unstuck batch writes only the fields named with --keep-fields)" if tagged else ""
    fail(f'{source}: no entry has a "{date_field}" field; {describe_columns(fields)}{kept}; '
         "name the date field with --date-field NAME")


def _collect(found: Iterator[Tagged | InputError]) -> list[Tagged]:
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


def _report_undated(undated: list[InputError]) -> None:
    for problem in undated[:LISTED_NOTES]:
        note(str(problem))
    if len(undated) > LISTED_NOTES:
        note(f"… and {len(undated) - LISTED_NOTES:,} more entries without a readable date")
