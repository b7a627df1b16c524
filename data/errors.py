"""The one error type for bad input files; the CLI turns it into `unstuck: FILE:LINE: reason`.

Messages never quote entry text: journal text must not leak into error output.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A problem with a file the user gave us, located by path and (1-based) line."""

    def __init__(self, path: str | Path | None, line: int | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.reason}"
