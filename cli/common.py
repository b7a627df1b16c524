"""What every command module shares: the Typer apps, the options, reading an entry, loading the
tagger, and the one place where our errors become `unstuck: message` and an exit code.

Imports no other cli module (command modules import this one), nor spaCy or scikit-learn.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer
from typer.core import TyperGroup

from unstuck.data.errors import UnstuckError, UsageError, printable
from unstuck.data.formats import DEFAULTS, UNDECODED
from unstuck.data.taxonomy import Audience


class _RendersErrors(TyperGroup):
    """Every command runs inside this group's `invoke`, so our errors are rendered here once, for
    `main()` and `CliRunner` alike: one line, the exit code from the error's class."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UnstuckError as err:
            note(str(err))
            raise typer.Exit(err.exit_code) from None
        except BrokenPipeError:
            raise
        except OSError as err:  # disk full, a data directory that is a file: nothing half-written stays
            where = f"{err.filename}: " if err.filename else ""
            note(f"{where}{err.strerror or type(err).__name__}; nothing was changed")
            raise typer.Exit(1) from None


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"unstuck {version('unstuck')}")
        raise typer.Exit()


app = typer.Typer(
    cls=_RendersErrors,
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


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    pass


FOR_OPTION = typer.Option(Audience.client, "--for", help="Whose next steps to show: client or therapist.")
MODEL_OPTION = typer.Option(
    None, "--model", help="A model directory to use instead of the active model: the shipped one or one in your "
    "models directory (any other needs --trust-model).")
TRUST_OPTION = typer.Option(
    False, "--trust-model", help="Load a --model directory from anywhere. A model holds a pickle, which can run "
    "any code when loaded: only for a model you made or whose maker you trust.")
# How to read an input, for every command that reads what `unstuck batch` reads.
TEXT_FIELD_OPTION = typer.Option(
    DEFAULTS.text_field, "--text-field", metavar="NAME", help="The field or column holding the entry.")
ID_FIELD_OPTION = typer.Option(
    DEFAULTS.id_field, "--id-field", metavar="NAME",
    help="The field or column holding its id; rows without one get their line number.")
DELIMITER_OPTION = typer.Option(
    DEFAULTS.delimiter, "--delimiter", metavar="CHAR", help="CSV separator: ',' ';' or tab.")
ENCODING_OPTION = typer.Option(
    DEFAULTS.encoding, "--encoding", metavar="NAME", help="The input's text encoding, e.g. cp1252.")
TEXT_ARGUMENT = typer.Argument(None, help="The entry. Omit it to read standard input or paste.")


def reports_input_errors(command):
    """Kept for the command modules that still decorate with it: errors are rendered by the app now."""
    return command


def fail(message: str, code: int = 2) -> NoReturn:
    raise UsageError(message, code)


def note(message: object) -> None:
    """One line on stderr: progress, a skipped row (an InputError), a warning."""
    typer.echo(f"unstuck: {printable(str(message))}", err=True)


def read_entry(text: Optional[str]) -> str:
    """The argument if given, else stdin when piped, else a prompt to paste and press Ctrl-D; a
    UsageError when that comes to nothing but white space."""
    if text is None:
        text = _read_stdin()
    elif UNDECODED.search(text):  # how Python passes on argument bytes that are not UTF-8
        fail("the entry argument is not valid UTF-8 text")
    if not text.strip():
        fail("no text given; pass the entry as an argument, pipe it in, or paste it at the prompt")
    return text


def _read_stdin() -> str:
    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():
        typer.echo("Paste your entry, then press Ctrl-D (Ctrl-Z then Enter on Windows):", err=True)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fail("<stdin>: input is not valid UTF-8 text")


def get_tagger(model: Optional[Path], trust: bool = False):
    """The tagger of `model` (default: the active model); a model directory outside the shipped
    package and the user's models directory only with `trust` (--trust-model): loading runs code."""
    from unstuck.model import store
    from unstuck.model.tagger import Tagger

    if model is not None and not trust and not store.is_trusted(model):
        fail(f"{model}: not the shipped model nor a folder in {store.models_dir()}; loading a model runs "
             "the code it holds, so unstuck loads other folders only with --trust-model")
    return Tagger.load(model)
