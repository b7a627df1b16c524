"""The `unstuck` command: the app with every command module registered, and `main()`, where the
process starts and ends (signals, unexpected errors, exit status).

Heavy libraries (spaCy, scikit-learn) are imported inside the commands that need them, so `--help`,
`labels` and `models` stay fast. stdout carries results; stderr carries progress, notes and one-line
errors (`unstuck: ...`, rendered by `unstuck.cli.common`).
"""

from __future__ import annotations

import os
import sys

import typer

from unstuck.cli.common import app

# Each module registers its commands with `app`; `--help` lists them in this order.
from unstuck.cli import tag  # noqa: E402,F401  tag, explain, labels
from unstuck.cli import commands  # noqa: E402,F401  train, evaluate, models, data check, suggest
from unstuck.cli import batch  # noqa: E402,F401
from unstuck.cli import report  # noqa: E402,F401
from unstuck.cli import examples  # noqa: E402,F401
from unstuck.cli import review  # noqa: E402,F401
from unstuck.cli import region  # noqa: E402,F401  region set/show/clear

__all__ = ["app", "main"]


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
    one takes longer than tagging an entry (see BENCHMARKS.md), and the prompt would wait for it. Every
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
