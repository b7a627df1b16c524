"""`unstuck review`: go through entries in the terminal, one key per choice, and teach the model your
answers. Keys come one at a time from the terminal (termios cbreak mode: no Enter needed, Ctrl-C
still works) or, when standard input is not a terminal, from its lines. The screen goes to stderr.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator, Optional

import typer

from unstuck.cli.common import ID_FIELD_OPTION, MODEL_OPTION, TEXT_FIELD_OPTION, app, get_tagger, note
from unstuck.data.errors import InputError
from unstuck.data.taxonomy import LABEL_IDS

TAG_KEYS = dict(zip("123456789abc", LABEL_IDS))
ACCEPT, NO_BARRIER, SKIP, UNDO, QUIT, HELP = "\n", "n", "s", "u", ("q", "\x04"), "?"
SHOWN_CHARS = 1200
HELP_LINE = "Enter accept  1-9 a b c toggle a tag  n no barrier  s skip  u undo  q quit  ? help"


@app.command()
def review(
    file: Path = typer.Argument(..., metavar="FILE", help="Entries: anything `unstuck batch` reads, or `unstuck suggest` output."),
    pick: Optional[int] = typer.Option(None, "--pick", min=1, metavar="N",
                                       help="Review only the N entries the model is least sure about (most "
                                            "informative first, near-duplicates collapsed), not every entry in order."),
    text_field: str = TEXT_FIELD_OPTION,
    id_field: str = ID_FIELD_OPTION,
    model: Optional[Path] = MODEL_OPTION,
) -> None:
    """Check the model's tags entry by entry and correct them with single keys; then retrain on your
    answers and see whether the model got better.

    Each entry shows the tags the model gives it and the sentence behind each. Keys: Enter accepts the
    tags shown, 1-9 a b c toggle the twelve tags, n means no barrier, s skips, u undoes the last
    answer, q quits. Each answer is saved as you give it, in your data directory (the one place
    review writes; `UNSTUCK_HOME` or the platform's user data folder); a second run skips what you
    answered. At the end, review offers to add your answers to your examples and retrain, and shows
    the same comparison as `unstuck train --add`. Without a terminal (keys piped in), each line
    answers one entry: "" accepts, "n" is no barrier, "1b" toggles two tags; "s", "u", "q" as above.
    """
    from unstuck.data.formats import read_rows
    from unstuck.training.review import AnswerLog, not_yet_added

    log = AnswerLog()
    answered = log.load()
    tagger = get_tagger(model)
    rows = (r for r in read_rows(file, text_field=text_field, id_field=id_field)
            if not isinstance(r, InputError) or note(str(r)))
    entries = _entries(rows, tagger, pick, set(answered))
    if not entries:
        say(f"nothing left to review in {file}: {len(answered)} answer(s) saved in {log.path}")
    with key_source() as keys:
        Session(entries, tagger, log, keys).run()
        pending = not_yet_added(log.load().values())
        if pending:
            _offer_retraining(pending, keys, file)


class Session:
    """Which entry is showing, what the user has chosen for it, and what they answered this run."""

    def __init__(self, entries: list, tagger, log, keys: Iterator[str]) -> None:
        self.entries, self.tagger, self.log, self.keys = entries, tagger, log, keys
        self.done: list[int] = []  # entries answered this run, in order, for undo

    def run(self) -> None:
        at = 0
        while at < len(self.entries):
            at = self._one(at)
            if at is None:
                say(f"stopped; {len(self.done)} answer(s) from this run saved in {self.log.path}")
                return
        if self.entries:
            say(f"done: {len(self.done)} answer(s) from this run saved in {self.log.path}")

    def _one(self, at: int) -> int | None:
        """Show entry `at` and read keys until it is answered, skipped or undone: the next position
        (None to quit)."""
        from unstuck.model.tagger import EntryTooLong

        row = self.entries[at]
        try:
            tagging = self.tagger.tag(row.text)
        except EntryTooLong as err:
            say(f"entry {row.id} skipped: {err}")
            return at + 1
        chosen = set(tagging.labels)
        say(entry_view(row, tagging, at, len(self.entries)))
        say(choice_line(chosen))
        for key in self.keys:
            if key == ACCEPT:
                self.log.answer(row.id, row.text, [k for k in LABEL_IDS if k in chosen])
                self.done.append(at)
                return at + 1
            if key in TAG_KEYS:
                chosen ^= {TAG_KEYS[key]}
            elif key == NO_BARRIER:
                chosen = set()
            elif key == SKIP:
                return at + 1
            elif key == UNDO:
                if self.done:
                    back = self.done.pop()
                    self.log.undo(_key(self.entries[back].text))
                    say(f"undone: the answer for {self.entries[back].id}")
                    return back
                say("nothing to undo in this run")
                continue
            elif key in QUIT:
                return None
            elif key == HELP:
                say(tag_keys_view(chosen))
                continue
            else:
                continue
            say(choice_line(chosen))
        return None


def entry_view(row, tagging, at: int, total: int) -> str:
    from unstuck.cli.render import help_message
    from unstuck.training.examples import text_start

    text = text_start(row.text, SHOWN_CHARS)
    lines = ["", f"[{at + 1}/{total}] entry {row.id}", textwrap.fill(text, 96, initial_indent="  ",
                                                                     subsequent_indent="  ")]
    if tagging.crisis or tagging.safety:
        lines += ["", help_message(tagging, region_chosen=False)]
    if tagging.labels:
        lines.append("the model says:")
        for label in tagging.labels:
            why = tagging.evidence.get(label) or []
            quote = f'  "{text_start(why[0].text, 80)}"' if why else ""
            lines.append(f"  {_key_of(label)} {label:<22}{tagging.scores[label]:.2f}{quote}")
    else:
        lines.append("the model says: no barrier")
    lines.append(tag_keys_view(set(tagging.labels)))
    return "\n".join(lines)


def tag_keys_view(chosen: set[str]) -> str:
    cells = [f"{key} {label}{'*' if label in chosen else ''}" for key, label in TAG_KEYS.items()]
    return "\n".join(["  " + "  ".join(cells[:6]), "  " + "  ".join(cells[6:]), f"  {HELP_LINE}"])


def choice_line(chosen: set[str]) -> str:
    return "your answer: " + (", ".join(k for k in LABEL_IDS if k in chosen) or "no barrier")


def say(text: str) -> None:
    typer.echo(text, err=True)


class key_source:
    """Single keys from the terminal in cbreak mode (restored on exit), else lines of standard input
    (see `_lines`). Ends at end of input or Ctrl-C."""

    def __enter__(self) -> Iterator[str]:
        self.saved = None
        try:
            self.fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):  # a stream without a descriptor (tests, embedding)
            return self._lines()
        if os.isatty(self.fd):
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
            return self._keys()
        return self._lines()

    def __exit__(self, *exc) -> bool:
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        if exc[0] is KeyboardInterrupt:  # every answer is already saved
            say("\ninterrupted; every answer given is saved")
            return True
        return False

    def _keys(self) -> Iterator[str]:
        while True:
            data = os.read(self.fd, 64)
            if not data:
                return
            for key in data.decode("utf-8", "replace").replace("\r", "\n"):
                if key == "\x1b":  # the start of an arrow or function key: not ours
                    continue
                yield key

    def _lines(self) -> Iterator[str]:
        """Each line is the keys for one entry, its end Enter: "n", "1b" or "" answer it; a line with
        s, u, q or ? does only that."""
        for line in sys.stdin:
            line = line.strip()
            yield from line
            if not any(key in line for key in (SKIP, UNDO, HELP, *QUIT)):
                yield "\n"


def _offer_retraining(pending: list, keys: Iterator[str], file: Path) -> None:
    say(f"\n{len(pending)} answer(s) are not in your examples yet. Add them and retrain now "
        "(a minute or two)? [y/N]")
    if next(keys, "n") not in ("y", "Y"):
        say(f"not now; they stay saved: run `unstuck review {file}` again to add them")
        return
    from unstuck.cli.render import retraining_view
    from unstuck.training.review import retrain_on

    typer.echo(retraining_view(retrain_on(pending, progress=note, on_bad_row=note)))


def _entries(rows, tagger, pick: int | None, answered: set[str]) -> list:
    fresh = (row for row in rows if _key(row.text) not in answered)
    if pick is None:
        return list(fresh)
    from unstuck.model.batch import tag_rows
    from unstuck.training.review import pick_entries

    tagged = (item for item in tag_rows(fresh, tagger) if not isinstance(item, InputError) or note(str(item)))
    return [item.row for item in pick_entries(tagged, tagger.thresholds, pick)]


def _key(text: str) -> str:
    from unstuck.training.examples import example_key

    return example_key(text)


def _key_of(label: str) -> str:
    return next(key for key, one in TAG_KEYS.items() if one == label)
