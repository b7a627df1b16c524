"""`unstuck tag`, `explain` and `labels`: one entry and the tags it can be given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from unstuck.cli.common import FOR_OPTION, MODEL_OPTION, TEXT_ARGUMENT, TRUST_OPTION, app, get_tagger, read_entry
from unstuck.data.errors import printable
from unstuck.data.taxonomy import Audience, default_taxonomy, find_label

TOP_STEPS = 2  # next steps shown per tag without --all: a one-line entry should not get a page of advice


@app.command()
def tag(
    text: Optional[str] = TEXT_ARGUMENT,
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
    from unstuck.cli.render import tagging_view
    from unstuck.data.region import chosen_region

    chosen = chosen_region(region)
    entry = read_entry(text)
    tagger = get_tagger(model, trust_model)
    tagger.region = chosen
    tagging = tagger.tag(entry)
    if as_json:
        typer.echo(json.dumps(tagger.as_json(tagging, audience), ensure_ascii=False))
    else:
        view = tagging_view(tagging, default_taxonomy(), audience, tagger.version, chosen is not None,
                            max_steps=None if all_steps else TOP_STEPS)
        typer.echo(printable(view, keep="\n"))  # evidence quotes the entry: no control sequences from it


@app.command()
def explain(
    text: Optional[str] = TEXT_ARGUMENT,
    label: Optional[str] = typer.Option(None, "--label", "-l", help="The tag to explain, id or name in any case "
                                        "(see `unstuck labels`); default: every tag the entry was given."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """Why a tag scored as it did for this entry: its score against the threshold and the words that
    pushed it up and down. Without --label, every tag the entry was given. For understanding a
    mistake before you add examples and retrain."""
    from unstuck.cli.render import explanations_view

    wanted = find_label(label) if label is not None else None
    entry = read_entry(text)
    tagger = get_tagger(model, trust_model)
    labels = [wanted] if wanted else tagger.tag(entry, evidence=False).labels
    explanations = [tagger.explain(entry, one) for one in labels]
    typer.echo(printable(explanations_view(explanations, tagger.version), keep="\n"))


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
        taxonomy = {(one := find_label(label)): taxonomy[one]}
    if as_json:
        rows = [{"id": l.id, "name": l.name, "description": l.description,
                 "next_steps": {"client": list(l.client_steps), "therapist": list(l.therapist_steps)}}
                for l in taxonomy.values()]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        typer.echo(labels_view(taxonomy, audience))
