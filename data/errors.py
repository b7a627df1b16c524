"""The one error type for bad input files; the CLI turns it into `unstuck: FILE:LINE: reason`.

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


class InputError(Exception):
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
