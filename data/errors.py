"""Our errors: `UnstuckError` and its kinds, each with the exit code the CLI gives it; the CLI prints
any of them as one line, `unstuck: message`. They pickle (a Dask worker's error reaches the client).

Messages never quote entry text: journal text must not leak into error output. Whatever a message
carries from a file (its name, a header) is made `printable`: nothing from a file reaches a terminal
as a control sequence.
"""

from __future__ import annotations

import re
from pathlib import Path

# C0 and C1 controls, DEL, zero-width and bidirectional marks, and lone surrogates (undecodable bytes).
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str, keep: str = "") -> str:
    """`text` with every control character, bidirectional mark and undecodable byte shown as an escape
    (`\\x1b`, `\\u202e`, `\\udcff`) except those in `keep` (e.g. "\\n\\t" for a multi-line view), so that
    it cannot clear the screen, retitle the window, write the clipboard or reorder what is shown."""
    return _HIDDEN.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class UnstuckError(Exception):
    """Something the user can fix: the message is one line that says what to do."""

    exit_code = 2

    def __reduce__(self):
        # Not through __init__: subclasses take other arguments than the message they pass on.
        return _restore, (type(self), str(self)), self.__dict__


def _restore(kind: type, message: str) -> UnstuckError:
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    return error


class UsageError(UnstuckError):
    """Options or arguments that do not fit together; exit 2 unless the caller says otherwise."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class InputError(UnstuckError):
    """A problem with a file the user gave us, located by path and (1-based) line."""

    def __init__(self, path: str | Path | None, line: int | None, reason: str) -> None:
        self.path = printable(str(path)) if path is not None else None
        self.line = line
        self.reason = printable(reason)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.reason}"
