"""`unstuck batch`: tag every entry of a file or folder. Parses options, calls `run_batch` (or, with
--scheduler, `run_on_dask`), prints progress and the summary on standard error; results go to the
output file or standard output (or, on Dask, to one file per partition in the output folder).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from unstuck.cli.common import (
    DELIMITER_OPTION, ENCODING_OPTION, ID_FIELD_OPTION, MODEL_OPTION, TEXT_FIELD_OPTION, TRUST_OPTION, app, fail,
    get_tagger, note, reports_input_errors,
)
from unstuck.data.errors import InputError, printable
from unstuck.data.formats import INPUTS_READ, InputKind, check_input, input_size, is_dated_journal, read_rows
from unstuck.data.output import OUTPUT_SUFFIXES, atomic_output, check_output, output_writer
from unstuck.data.partition import LINES_PER_PARTITION, ReadOptions, check_output_folder, plan_partitions

if TYPE_CHECKING:
    from unstuck.model.batch import BatchSummary

REDRAW_SECONDS = 0.2
SPLIT_OPTION = typer.Option(
    None, "--split-on-dates/--no-split-on-dates",
    help="A .txt journal: one entry under each date heading (its \"date\" field is the heading), or one "
         "entry a line [default: date headings when the file starts with one and has more].")
DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}


@app.command()
@reports_input_errors
def batch(
    sources: list[Path] = typer.Argument(
        ..., metavar="INPUT",
        help=f"{INPUTS_READ[0].upper()}{INPUTS_READ[1:]}; several only with --scheduler."),
    output: str = typer.Option(
        ..., "-o", "--output", metavar="FILE",
        help="Where to write: FILE.jsonl, FILE.csv, or - for standard output (JSON Lines); "
             "with --scheduler, a folder."),
    text_field: str = TEXT_FIELD_OPTION,
    id_field: str = ID_FIELD_OPTION,
    keep_fields: Optional[list[str]] = typer.Option(
        None, "--keep-fields", metavar="NAMES",
        help="Copy these fields or columns to the output, e.g. --keep-fields date,mood."),
    delimiter: str = DELIMITER_OPTION,
    encoding: str = ENCODING_OPTION,
    split_on_dates: Optional[bool] = SPLIT_OPTION,
    evidence: bool = typer.Option(False, "--evidence", help="Also write the words behind each tag."),
    strict: bool = typer.Option(
        False, "--strict", help="Stop at the first bad row (exit 2, no output file) instead of skipping it."),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=1, metavar="N", help="Processes to tag with [default: one per CPU]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress and no summary; errors only."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", metavar="ADDRESS",
        help="Tag on a Dask cluster: a scheduler address (tcp://host:8786), or local:N for N worker processes "
             "here. Writes one JSON Lines file per partition and manifest.json into the -o folder; "
             "run it again after an interruption to finish only what is missing."),
    ship_model: bool = typer.Option(
        False, "--ship-model", help="With --scheduler: send the model to each worker instead of reading it "
                                    "from the same path there."),
    partition_lines: int = typer.Option(
        LINES_PER_PARTITION, "--partition-lines", min=1, metavar="N",
        help="With --scheduler: cut files into partitions of about N lines."),
) -> None:
    """Tag every entry of a file or folder, writing one result per entry in input order.

    Bad rows (no text, invalid JSON, undecodable bytes, an entry over the length limit) are
    reported with their line number and skipped; the rest are tagged. A file output appears
    only once complete, and never over the input.

    \b
    Examples:
      unstuck batch journal.jsonl -o tags.jsonl
      unstuck batch export.csv -o tags.csv --text-field body --keep-fields date
      unstuck batch notes.csv -o - --delimiter ';' --encoding cp1252 | jq .labels
      unstuck batch entries/ -o tags.jsonl --evidence
      unstuck batch big.jsonl -o tags.jsonl --workers 4 --strict
      unstuck batch 2024-*.jsonl -o tagged/ --scheduler tcp://10.0.0.5:8786
    """
    keep = _field_names(keep_fields)
    if scheduler is not None:
        if split_on_dates or any(is_dated_journal(s, encoding) for s in sources if split_on_dates is None):
            fail("--scheduler reads a .txt file one entry a line; tag a journal under date headings without "
                 "--scheduler (or pass --no-split-on-dates)")
        if workers is not None:
            fail("--workers is for tagging on this machine; with --scheduler the cluster's workers tag")
        options = ReadOptions(text_field, id_field, keep, delimiter_char(delimiter), encoding)
        return _batch_on_dask(sources, output, scheduler, options, evidence=evidence, strict=strict, quiet=quiet,
                              model=model, trust_model=trust_model, ship_model=ship_model,
                              partition_lines=partition_lines)
    if len(sources) > 1:
        fail(f"{len(sources)} inputs given; tag one at a time, or several at once with --scheduler local:N")
    from unstuck.model.batch import run_batch  # imports spaCy: only when tagging

    source = sources[0]
    split = txt_layout(source, encoding, split_on_dates)
    rows = read_rows(source, text_field, id_field, keep, delimiter_char(delimiter), encoding, split)
    check_output(output, source, OUTPUT_SUFFIXES)
    tagger = get_tagger(model, trust_model)
    progress = Progress(input_size(source), show=not quiet and sys.stderr.isatty())
    try:
        with atomic_output(output) as handle:
            writer = output_writer(output, handle, keep, evidence)
            summary = run_batch(rows, tagger, lambda tagged: writer.write(tagged.as_dict(evidence)),
                                workers=workers or os.cpu_count() or 1, evidence=evidence, strict=strict,
                                on_skip=progress.around(note), on_progress=progress.update)
    except BrokenPipeError:  # `unstuck batch ... -o - | head`: the reader left, nothing more to do
        sys.stdout = open(os.devnull, "w")
        raise typer.Exit(0)
    finally:
        progress.clear()
    if not quiet:
        typer.echo(printable(summary_text(summary, output, layout_note(split, split_on_dates)), keep="\n"), err=True)


def _batch_on_dask(sources: list[Path], output: str, scheduler: str, options: ReadOptions, *, evidence: bool,
                   strict: bool, quiet: bool, model: Optional[Path], trust_model: bool, ship_model: bool,
                   partition_lines: int) -> None:
    from unstuck.model.artifact import ModelError
    from unstuck.model.distributed import SchedulerUnreachable, local_workers, tag_on_cluster  # imports dask

    if output == "-":
        fail("with --scheduler, -o names a folder for the partitions (standard output cannot take them)")
    try:
        local_workers(scheduler)
    except ValueError as err:
        fail(str(err))
    partitions = plan_partitions(sources, options, partition_lines)  # bad input fails before a cluster starts
    check_output_folder(output, partitions)
    tagger = get_tagger(model, trust_model)
    progress = Progress(sum(input_size(s) for s in sources), show=not quiet and sys.stderr.isatty())
    try:
        run = tag_on_cluster(scheduler, partitions, output, tagger, options=options, evidence=evidence, strict=strict,
                             ship_model=ship_model, on_skip=progress.around(note), on_progress=progress.update)
    except (SchedulerUnreachable, ModelError) as err:
        fail(str(err), code=1 if isinstance(err, SchedulerUnreachable) else 2)
    finally:
        progress.clear()
    if not quiet:
        typer.echo(printable(summary_text(run.summary, output), keep="\n"), err=True)
        again = f" ({run.reused:,} already done)" if run.reused else ""
        note(f"{run.partitions:,} partitions{again}, listed in {run.manifest}")


def txt_layout(source: Path, encoding: str, split_on_dates: Optional[bool]) -> bool:
    """Whether to read `source` as entries under date headings: as asked, or detected for a .txt file."""
    if check_input(source, encoding) is not InputKind.txt:
        if split_on_dates:
            fail(f"{source}: --split-on-dates is for a .txt journal")
        return False
    if split_on_dates is not None:
        return split_on_dates
    return is_dated_journal(source, encoding)


def layout_note(split: bool, asked: Optional[bool]) -> str:
    """How a .txt journal was read, for the summary, when that was detected rather than asked for."""
    if not split or asked:
        return ""
    return ", one under each date heading (detected: --no-split-on-dates reads one a line),"


def _field_names(values: Optional[list[str]]) -> tuple[str, ...]:
    names = [name.strip() for value in values or [] for name in value.split(",")]
    return tuple(dict.fromkeys(name for name in names if name))


def delimiter_char(value: str) -> str:
    """The one character a --delimiter value names ('tab', 'comma', ';'...), or a one-line error."""
    value = DELIMITERS.get(value.lower(), value)
    if len(value) != 1:
        fail(f"--delimiter must be one character (or 'tab'), not {value!r}")
    return value


def summary_text(summary: BatchSummary, output: str, read_as: str = "") -> str:
    where = "standard output" if output == "-" else output
    crisis = f"{summary.crisis:,} matched the crisis screen (see their crisis field)" if summary.crisis \
        else "none matched the crisis screen"
    lines = [f"unstuck: tagged {_entries(summary.tagged)}{read_as} into {where}; {crisis}"]
    counts = sorted(((n, label) for label, n in summary.label_counts.items() if n), key=lambda c: -c[0])
    lines += [f"  {label:<22}{n:>8,}" for n, label in counts]
    if summary.skipped:
        by_line = all(e.line is not None for e in summary.skipped_at)
        places = ", ".join(str(e.line) if by_line else _place(e) for e in summary.skipped_at)
        more = ", …" if summary.skipped > len(summary.skipped_at) else ""
        lines.append(f"unstuck: skipped {summary.skipped:,} bad {'row' if summary.skipped == 1 else 'rows'} "
                     f"({_lines_word(summary.skipped) if by_line else ''}{places}{more}); the rest were tagged")
    return "\n".join(lines)


def _lines_word(n: int) -> str:
    return "line " if n == 1 else "lines "


def _place(error: InputError) -> str:
    return error.path if error.line is None else f"{error.path}:{error.line}"


def _entries(n: int) -> str:
    return f"{n:,} entry" if n == 1 else f"{n:,} entries"


class Progress:
    """One line on a terminal's standard error, redrawn in place: entries, rate, and time left."""

    def __init__(self, total_bytes: int, show: bool) -> None:
        self.total = total_bytes
        self.show = show
        self.start = time.monotonic()
        self.drawn_at = 0.0
        self.width = 0

    def update(self, done: int, offset: int) -> None:
        now = time.monotonic()
        if not self.show or now - self.drawn_at < REDRAW_SECONDS:
            return
        self.drawn_at = now
        rate = done / max(now - self.start, 1e-9)
        line = f"unstuck: {_entries(done)}, {rate:,.0f}/s"
        if self.total and 0 < offset <= self.total:
            left = (now - self.start) * (self.total - offset) / offset
            line += f", {offset / self.total:.0%}, about {_duration(left)} left"
        self._draw(line)

    def around(self, emit):
        """`emit`, but clearing the progress line first so messages do not run into it."""
        def wrapped(message) -> None:
            self.clear()
            emit(str(message))
        return wrapped

    def clear(self) -> None:
        if self.width:
            self._draw("")
            self.width = 0

    def _draw(self, line: str) -> None:
        sys.stderr.write("\r" + line.ljust(self.width) + ("\r" if not line else ""))
        sys.stderr.flush()
        self.width = len(line)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"
