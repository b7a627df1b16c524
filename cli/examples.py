"""`unstuck examples`: list and remove the examples the user added. Imports neither spaCy nor
scikit-learn, so it answers at once."""

from __future__ import annotations

import typer

from unstuck.cli.common import app
from unstuck.training.examples import added_examples, remove_added, text_start

examples_app = typer.Typer(rich_markup_mode=None, invoke_without_command=True,
                           help="The examples you added (`train --add`, `review`): list them, remove one.")
app.add_typer(examples_app, name="examples")


@examples_app.callback()
def examples(ctx: typer.Context) -> None:
    """List the examples you added: id, file, labels, and the start of the text. They live in your
    data directory and are used by every `unstuck train`, whichever model is active."""
    if ctx.invoked_subcommand:
        return
    found = added_examples()
    if not found:
        typer.echo("no examples added yet (add some with `unstuck train --add FILE` or `unstuck review`)", err=True)
        return
    for added in found:
        labels = ", ".join(added.example.labels) or "(no barrier)"
        typer.echo(f"{added.key}  {added.file.name}:{added.line}  {labels}  \"{text_start(added.example.text)}\"")
    typer.echo(f"{len(found)} example(s) in {found[0].file.parent}; remove one with `unstuck examples remove ID`",
               err=True)


@examples_app.command("remove")
def examples_remove(key: str = typer.Argument(..., metavar="ID", help="An id from `unstuck examples`.")) -> None:
    """Remove one added example. It leaves the next `unstuck train`; models already trained keep it."""
    removed = remove_added(key)
    typer.echo(f"removed {removed.key} ({removed.file.name}:{removed.line}); "
               "run `unstuck train` for a model without it")
