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

from unstuck.data.errors import InputError, printable
from unstuck.data.formats import UNDECODED
from unstuck.data.taxonomy import Audience, default_taxonomy

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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
MODEL_OPTION = typer.Option(
    None, "--model", help="A model directory to use instead of the active model: the shipped one or one in your "
    "models directory (any other needs --trust-model).")
TRUST_OPTION = typer.Option(
    False, "--trust-model", help="Load a --model directory from anywhere. A model holds a pickle, which can run "
    "any code when loaded: only for a model you made or whose maker you trust.")
TOP_STEPS = 2  # next steps shown per tag without --all: a one-line entry should not get a page of advice


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"unstuck {version('unstuck')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    pass


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
    typer.echo(f"unstuck: {printable(message)}", err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    typer.echo(f"unstuck: {printable(message)}", err=True)


def read_entry(text: Optional[str]) -> str:
    """The argument if given, else stdin when piped, else a prompt to paste and press Ctrl-D."""
    if text is not None:
        if UNDECODED.search(text):  # how Python passes on argument bytes that are not UTF-8
            fail("the entry argument is not valid UTF-8 text")
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


def get_tagger(model: Optional[Path], trust: bool = False):
    """The tagger of `model` (default: the active model); a model directory outside the shipped
    package and the user's models directory only with `trust` (--trust-model): loading runs code."""
    from unstuck.model import store
    from unstuck.model.artifact import ModelError
    from unstuck.model.tagger import Tagger

    if model is not None and not trust and not store.is_trusted(model):
        fail(f"{model}: not the shipped model nor a folder in {store.models_dir()}; loading a model runs "
             "the code it holds, so unstuck loads other folders only with --trust-model")
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
    all_steps: bool = typer.Option(False, "--all", help=f"Show every next step, not the top {TOP_STEPS} per tag."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
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
    tagger = get_tagger(model, trust_model)
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
        view = tagging_view(tagging, default_taxonomy(), audience, tagger.version, chosen is not None,
                            max_steps=None if all_steps else TOP_STEPS)
        typer.echo(printable(view, keep="\n"))  # evidence quotes the entry: no control sequences from it


@app.command()
@reports_input_errors
def explain(
    text: Optional[str] = typer.Argument(None, help="The entry. Omit it to read standard input or paste."),
    label: Optional[str] = typer.Option(None, "--label", "-l", help="The tag to explain, id or name in any case "
                                        "(see `unstuck labels`); default: every tag the entry was given."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """Why a tag scored as it did for this entry: its score against the threshold and the words that
    pushed it up and down. Without --label, every tag the entry was given. For understanding a
    mistake before you add examples and retrain."""
    from unstuck.model.tagger import EntryTooLong

    wanted = _label_or_fail(label) if label is not None else None
    entry = read_entry(text)
    if not entry.strip():
        fail("no text given; pass the entry as an argument, pipe it in, or paste it at the prompt")
    tagger = get_tagger(model, trust_model)
    try:
        labels = [wanted] if wanted else tagger.tag(entry, evidence=False).labels
        results = [tagger.explain(entry, one) for one in labels]
    except EntryTooLong as err:
        fail(str(err))
    if not results:
        typer.echo(f"no tag was given to this entry (model {tagger.version}); "
                   "use --label ID to see why a tag was not given")
    for result in results:
        verdict = "assigned" if result.score >= result.threshold else "not assigned"
        typer.echo(f"{result.label}: score {result.score:.2f}, threshold {result.threshold:.2f} -> {verdict}")
        typer.echo(printable("words for:     " + (", ".join(f"{w} (+{v:.2f})" for w, v in result.for_words) or "none")))
        typer.echo(printable("words against: " + (", ".join(f"{w} ({v:.2f})" for w, v in result.against_words) or "none")))
    if results:
        typer.echo("(word weights only; character patterns add to the score but are not listed)")


@app.command()
def labels(
    label: Optional[str] = typer.Argument(None, help="Show only this tag (id or name, any case)."),
    audience: Optional[Audience] = typer.Option(None, "--for", help="Show only this audience's next steps."),
    as_json: bool = typer.Option(False, "--json", help="Print the taxonomy as JSON."),
) -> None:
    """The taxonomy: each tag's id, name, description and next steps."""
    from unstuck.cli.render import labels_view

    taxonomy = default_taxonomy()
    if label is not None:
        taxonomy = {(one := _label_or_fail(label)): taxonomy[one]}
    if as_json:
        rows = [{"id": l.id, "name": l.name, "description": l.description,
                 "next_steps": {"client": list(l.client_steps), "therapist": list(l.therapist_steps)}}
                for l in taxonomy.values()]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        typer.echo(labels_view(taxonomy, audience))


def _label_or_fail(given: str) -> str:
    """The tag id meant (any case, id or name), or a one-line error with a did-you-mean."""
    from unstuck.data.taxonomy import UnknownLabel, find_label

    try:
        return find_label(given)
    except UnknownLabel as err:
        fail(str(err))
    return ""


_SIGNALS: list[int] = []  # SIGTERM or SIGHUP received


def _stop(signum: int, frame) -> None:
    """SIGTERM or SIGHUP stop a command as Ctrl-C does, so that worker pools shut down, temporary
    files are removed and nothing is written under a real name."""
    _SIGNALS.append(signum)
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point: one line for every error (the details of an unexpected one only
    with UNSTUCK_DEBUG=1, since they could quote entries), and Ctrl-C, SIGTERM and SIGHUP alike."""
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    try:
        app()
        code = 0
    except KeyboardInterrupt:
        code = 130
    except SystemExit as done:
        code = done.code
    except Exception as err:
        if os.environ.get("UNSTUCK_DEBUG"):
            raise
        typer.echo(f"unstuck: unexpected error ({type(err).__name__}); nothing was written. Please report it "
                   "with the command you ran (UNSTUCK_DEBUG=1 shows the details, which may quote your entries)",
                   err=True)
        code = 1
    if code == 130:  # Typer turns KeyboardInterrupt into exit status 130
        typer.echo("unstuck: stopped" if _SIGNALS else "unstuck: interrupted", err=True)
        code = 128 + _SIGNALS[0] if _SIGNALS else 130
    _leave(code)


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
from unstuck.cli import examples  # noqa: E402,F401
from unstuck.cli import review  # noqa: E402,F401
from unstuck.cli import region  # noqa: E402,F401  registers region set/show/clear
