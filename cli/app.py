"""The Typer app. Each command parses, calls one library function, renders. Heavy libraries (spaCy,
scikit-learn) are imported inside the commands that need them, so `--help` and `labels` stay fast.

stdout carries results; stderr carries progress, notes and one-line errors (`unstuck: ...`).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from unstuck.data.errors import InputError
from unstuck.data.taxonomy import Audience, default_taxonomy

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Tag therapy-journal entries with likely barriers to progress, and suggest next steps.\n\n"
    "Everything runs on this machine; nothing you write is sent anywhere or stored unless you ask. "
    "unstuck suggests; it does not diagnose, and it is no substitute for care.",
)
models_app = typer.Typer(rich_markup_mode=None, help="List the trained models and switch between them.",
                         invoke_without_command=True)
data_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="Check labeled data.")
app.add_typer(models_app, name="models")
app.add_typer(data_app, name="data")

FOR_OPTION = typer.Option(Audience.client, "--for", help="Whose next steps to show: client or therapist.")
MODEL_OPTION = typer.Option(None, "--model", help="A model directory to use instead of the active model.")


def reports_input_errors(command):
    """Turn our InputError into the one-line `unstuck: FILE:LINE: reason` and exit 2, and a failed
    read or write (disk full, a data directory that is a file) into one line and exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as err:
            fail(str(err))
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            fail(f"{where}{err.strerror or type(err).__name__}; nothing was changed", code=1)

    return wrapper


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"unstuck: {message}", err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    typer.echo(f"unstuck: {message}", err=True)


def read_entry(text: Optional[str]) -> str:
    """The argument if given, else stdin when piped, else a prompt to paste and press Ctrl-D."""
    if text is not None:
        return text
    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():
        typer.echo("Paste your entry, then press Ctrl-D (Ctrl-Z then Enter on Windows):", err=True)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fail("<stdin>: input is not valid UTF-8 text")
    return ""


def get_tagger(model: Optional[Path]):
    from unstuck.model.artifact import ModelError
    from unstuck.model.tagger import Tagger

    try:
        try:
            # The usual case, without importing the training code (iterstrat, model selection...),
            # which only the fallback needs: that import was most of what `unstuck tag` paid beyond
            # loading spaCy, scikit-learn and the model.
            return Tagger.load(model)
        except ModelError:
            from unstuck.training.workflow import load_tagger

            return load_tagger(model, notify=note)
    except ModelError as err:
        fail(str(err))


@app.command()
@reports_input_errors
def tag(
    text: Optional[str] = typer.Argument(None, help="The entry. Omit it to read standard input or paste."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (with evidence) instead."),
    audience: Audience = FOR_OPTION,
    region: Optional[str] = typer.Option(
        None, "--region", help="Help lines for: us, ca, uk, ie, au, nz, eu [default: `unstuck region`, "
                               "else the system locale, else every region's]."),
    model: Optional[Path] = MODEL_OPTION,
) -> None:
    """Tag one journal entry: its likely barriers, why, and what to try next.

    Examples:  unstuck tag "I keep cancelling, work is insane"   |   pbpaste | unstuck tag --json
    """
    from unstuck.data.resources import UnknownRegion
    from unstuck.model.region import chosen_region
    from unstuck.model.tagger import EntryTooLong

    from unstuck.cli.render import tagging_view

    try:
        chosen = chosen_region(region)
    except UnknownRegion as err:
        fail(str(err))
    entry = read_entry(text)
    if not entry.strip():
        fail("no text given; pass the entry as an argument, pipe it in, or paste it at the prompt")
    tagger = get_tagger(model)
    tagger.region = chosen
    try:
        tagging = tagger.tag(entry)
    except EntryTooLong as err:
        fail(str(err))
    if as_json:
        out = tagging.as_dict(evidence=True)
        out["model_version"] = tagger.version
        out["next_steps"] = {k: list(default_taxonomy()[k].steps_for(audience)) for k in tagging.labels}
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        typer.echo(tagging_view(tagging, default_taxonomy(), audience, tagger.version, chosen is not None))


@app.command()
@reports_input_errors
def explain(
    text: Optional[str] = typer.Argument(None, help="The entry. Omit it to read standard input or paste."),
    label: str = typer.Option(..., "--label", "-l", help="The tag id to explain (see `unstuck labels`)."),
    model: Optional[Path] = MODEL_OPTION,
) -> None:
    """Why one tag scored as it did for this entry: its score against the threshold and the words
    that pushed it up and down. For understanding a mistake before you add examples and retrain."""
    from unstuck.data.taxonomy import LABEL_IDS
    from unstuck.model.tagger import EntryTooLong

    if label not in LABEL_IDS:
        fail(f"unknown label {label!r}; expected one of {', '.join(LABEL_IDS)}")
    entry = read_entry(text)
    if not entry.strip():
        fail("no text given; pass the entry as an argument, pipe it in, or paste it at the prompt")
    try:
        result = get_tagger(model).explain(entry, label)
    except EntryTooLong as err:
        fail(str(err))
    verdict = "assigned" if result.score >= result.threshold else "not assigned"
    typer.echo(f"{label}: score {result.score:.2f}, threshold {result.threshold:.2f} -> {verdict}")
    typer.echo("words for:     " + (", ".join(f"{w} (+{v:.2f})" for w, v in result.for_words) or "none"))
    typer.echo("words against: " + (", ".join(f"{w} ({v:.2f})" for w, v in result.against_words) or "none"))
    typer.echo("(word weights only; character patterns add to the score but are not listed)")


@app.command()
def labels(
    audience: Optional[Audience] = typer.Option(None, "--for", help="Show only this audience's next steps."),
    as_json: bool = typer.Option(False, "--json", help="Print the taxonomy as JSON."),
) -> None:
    """The taxonomy: each tag's id, name, description and next steps."""
    from unstuck.cli.render import labels_view

    taxonomy = default_taxonomy()
    if as_json:
        rows = [{"id": l.id, "name": l.name, "description": l.description,
                 "next_steps": {"client": list(l.client_steps), "therapist": list(l.therapist_steps)}}
                for l in taxonomy.values()]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        typer.echo(labels_view(taxonomy, audience))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("unstuck: interrupted", err=True)
        _leave(130)
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code) -> None:
    """Exit without tearing the interpreter down: freeing spaCy's and scikit-learn's objects one by
    one takes longer (about 0.35 s) than tagging an entry, and the prompt would wait for it. Every
    command has closed its files and worker pools by the time it returns; the standard streams are
    flushed here. Exit status as `sys.exit` gives it (a message is printed and the status is 1)."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
    status = 0 if code is None else code if isinstance(code, int) else 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`unstuck labels | head -1`) or stream
            pass
    os._exit(status)


from unstuck.cli import commands  # noqa: E402,F401  registers train, evaluate, batch, models, data
from unstuck.cli import batch  # noqa: E402,F401
from unstuck.cli import report  # noqa: E402,F401
from unstuck.cli import region  # noqa: E402,F401  registers region set/show/clear
