"""Commands for retraining and checking: train, evaluate, models, data check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from unstuck.cli.common import (
    ID_FIELD_OPTION, MODEL_OPTION, TEXT_FIELD_OPTION, TRUST_OPTION, app, data_app, get_tagger, models_app, note,
)
from unstuck.data.errors import InputError


@app.command()
def train(
    add: Optional[Path] = typer.Option(None, "--add", help="A .jsonl or .csv of new labeled examples (text, labels)."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Add the valid rows even if some are bad."),
    user_weight: int = typer.Option(1, "--user-weight", min=1, max=10, help="Count each added example N times."),
    force: bool = typer.Option(False, "--force", help="Activate the new model even if it scores worse."),
    compare: bool = typer.Option(False, "--compare", help="Also cross-validate the alternative configurations."),
    curve: bool = typer.Option(False, "--curve", help="Only print a learning curve (held-out macro F1 at "
                               "25/50/75/100% of the training data); trains nothing to keep."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the model to this directory instead "
                                       "(e.g. model/default to rebuild the shipped model); nothing is activated."),
    real: Optional[Path] = typer.Option(None, "--real", envvar="UNSTUCK_REAL", help="A folder of real posts' "
                                        "texts rebuilt by `python -m unstuck.training.real_sources`: they join "
                                        "the training data and each source is held out in turn to measure."),
) -> None:
    """Retrain from the shipped seed set plus every example you added, and say honestly if it got better.

    The new model is evaluated on held-out entries it never saw; it becomes the active model only
    if its macro F1 there did not drop (or with --force). Older models stay: see `unstuck models`.
    """
    from unstuck.cli.render import learning_curve_view, retraining_view
    from unstuck.training import workflow

    if curve:  # stores what --add gives, then measures; trains nothing to keep
        if add is not None:
            for line in workflow.add_examples(add, skip_invalid, on_bad_row=note).notes():
                note(line)
        typer.echo(learning_curve_view(workflow.learning_curve(real, user_weight, progress=note)))
        return
    typer.echo(retraining_view(workflow.retrain(add, skip_invalid=skip_invalid, user_weight=user_weight, force=force,
                                                compare=compare, out=out, real=real, progress=note, on_bad_row=note)))


@app.command()
def evaluate(
    file: Path = typer.Argument(..., help="A labeled .jsonl or .csv (text, labels)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    errors: int = typer.Option(5, "--errors", help="Show the N entries the model got most wrong."),
    errors_out: Optional[Path] = typer.Option(None, "--errors-out", help="Write every mistake to this JSONL file."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """Score the current model on a labeled file: per-label precision, recall, F1, support."""
    from unstuck.cli.render import evaluation_view
    from unstuck.training.evaluate import evaluate_into, labeled_examples

    examples = labeled_examples(file, errors_out)
    result = evaluate_into(get_tagger(model, trust_model), examples, errors_out)
    if as_json:
        typer.echo(json.dumps({"metrics": result.metrics, "errors": result.errors[:errors]}, ensure_ascii=False))
    else:
        typer.echo(evaluation_view(result, f"{file} ({len(examples)} entries)", errors))


@models_app.callback()
def models(ctx: typer.Context) -> None:
    """List the models: which is active, when trained, training size, held-out macro F1."""
    if ctx.invoked_subcommand:
        return
    from unstuck.model.catalog import list_models

    for row in list_models():
        f1 = f"{row['macro_f1']:.3f}" if row["macro_f1"] is not None else "  -  "
        typer.echo(f"{'*' if row['active'] else ' '} {row['version']:<24}{row['trained_at']:<28}"
                   f"{row['n_train']:>6} entries  macro F1 {f1}")


@models_app.command("use")
def models_use(version: str = typer.Argument(..., help="A model name from `unstuck models`, or 'shipped' "
                                            "(names only: a model from elsewhere is used with --model and --trust-model).")) -> None:
    """Make VERSION the active model (`unstuck models use shipped` always returns to the shipped one)."""
    from unstuck.model.catalog import use_model

    use_model(version)
    typer.echo(f"active model: {version}")


@models_app.command("rebuild")
def models_rebuild() -> None:
    """Rebuild the shipped models from the shipped data, for an install whose libraries cannot read
    them (`unstuck tag` says when): a minute or so, into your models directory."""
    from unstuck.cli.render import rebuilt_view
    from unstuck.training.workflow import rebuild_shipped

    note("checking the shipped models; any this install cannot use is rebuilt from the shipped data")
    typer.echo(rebuilt_view(rebuild_shipped()))


@data_app.command("check")
def data_check(
    file: Optional[Path] = typer.Argument(None, help="A labeled file; default: the seed set plus your examples."),
    suspects: int = typer.Option(0, "--suspects", help="Also list the N entries whose labels disagree most "
                                 "with cross-validated predictions, with file, line and text start "
                                 "(slow: trains several models)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    tests: Optional[Path] = typer.Option(None, "--tests", help="A folder of crisis test sets "
                                         "(crisis_*_test.jsonl; tests/data in the repository) that no crisis "
                                         "case may share a text with."),
) -> None:
    """Check labeled data: schema, unknown labels, duplicates, split overlap, label balance."""
    from unstuck.training.datacheck import check_data, suspect_labels
    from unstuck.training.examples import example_origins

    report = check_data(file, tests)
    if suspects:
        report.suspects = suspect_labels(report.examples, suspects, example_origins(file))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        typer.echo(report.render())
    if report.errors:
        raise typer.Exit(2)


@app.command()
def suggest(
    file: Path = typer.Argument(..., help="Unlabeled entries: anything `unstuck batch` reads."),
    n: int = typer.Option(20, "-n", min=1, help="How many entries to suggest."),
    output: str = typer.Option("-", "-o", "--output", help="Where to write the JSONL (default: standard output)."),
    text_field: str = TEXT_FIELD_OPTION,
    id_field: str = ID_FIELD_OPTION,
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """The entries whose labels would teach the model most (those it is least sure about), as JSONL
    with "labels": null. Fill each in with tag ids, or [] for "no barrier", then `unstuck train --add`
    the file (a row still null is refused, never read as "no barrier"); or use `unstuck review`.

    Example:  unstuck suggest export.csv -n 30 -o to_label.jsonl
    """
    from unstuck.data.formats import read_rows
    from unstuck.data.output import JsonlWriter, atomic_output, check_output
    from unstuck.model.batch import tag_rows
    from unstuck.training.active import most_informative

    check_output(output, file, (".jsonl",))
    tagger = get_tagger(model, trust_model)
    rows = read_rows(file, text_field=text_field, id_field=id_field)
    tagged = (item for item in tag_rows(rows, tagger) if not isinstance(item, InputError) or note(str(item)))
    picked = most_informative(tagged, tagger.thresholds, n)
    with atomic_output(output) as handle:
        writer = JsonlWriter(handle)
        for record in picked:
            writer.write(record)
    note(f"suggested {len(picked)} entries to label")
