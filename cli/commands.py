"""Commands for retraining and checking: train, evaluate, models, data check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from unstuck.cli.app import (
    MODEL_OPTION, TRUST_OPTION, app, data_app, fail, get_tagger, models_app, note, reports_input_errors,
)
from unstuck.data.errors import InputError, printable


@app.command()
@reports_input_errors
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
    from dataclasses import replace

    from unstuck.cli.render import metrics_table
    from unstuck.model.artifact import check_model_target
    from unstuck.training import workflow
    from unstuck.training.examples import drop_replaced
    from unstuck.training.train import CANDIDATES, DEFAULT_CONFIG, train as run_training

    if out is not None:
        check_model_target(out)  # before hours of training, and before anything is added
    if add is not None:
        result = workflow.validate_new(add)
        for error in result.errors:
            note(str(error))
        if result.errors and not skip_invalid:
            fail(f"{add}: {len(result.errors)} bad row(s); nothing was added (fix them, or use --skip-invalid)")
        if not result.examples and not result.relabels:
            fail(f"{add}: no new examples to add")
        stored = workflow.store_examples(result.examples + [r.new for r in result.relabels], add.name)
        drop_replaced(result.relabels)
        for r in result.relabels:
            note(f"{add}:{r.new.line}: corrects added example {r.old.key}: labels were "
                 f"{', '.join(r.old.example.labels) or 'no barrier'}, now {', '.join(r.new.labels) or 'no barrier'}")
        note(f"added {len(result.examples)} example(s) and corrected {len(result.relabels)}: {stored}")
    config = replace(DEFAULT_CONFIG, user_weight=user_weight)
    examples = workflow.all_examples(real)
    if curve:
        from unstuck.training.train import learning_curve

        typer.echo(f"{'share':>6}{'entries':>9}{'macro F1':>10}{'micro F1':>10}")
        for point in learning_curve(examples, config, progress=note):
            typer.echo(f"{point['fraction']:>6.0%}{point['n_train']:>9}{point['macro_f1']:>10.3f}{point['micro_f1']:>10.3f}")
        return
    trained = run_training(examples, config, compare=CANDIDATES if compare else (), progress=note,
                           version="shipped" if out else None)
    if out is not None:
        workflow.save_result(trained, out)
        typer.echo(metrics_table(trained.report["heldout"], title=f"held-out split ({len(trained.split.test)} entries)"))
        typer.echo(f"wrote {out} (and its MODEL_CARD.md)")
        return
    promotion = workflow.promote(trained, force=force)
    typer.echo(metrics_table(promotion.candidate, promotion.current,
                             title=f"held-out split ({len(trained.split.test)} entries): new model vs current"))
    typer.echo(("activated: " if promotion.promoted else "not activated: ") + promotion.reason)
    typer.echo(f"model {promotion.version} saved in {promotion.path}")


@app.command()
@reports_input_errors
def evaluate(
    file: Path = typer.Argument(..., help="A labeled .jsonl or .csv (text, labels)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    errors: int = typer.Option(5, "--errors", help="Show the N entries the model got most wrong."),
    errors_out: Optional[Path] = typer.Option(None, "--errors-out", help="Write every mistake to this JSONL file."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """Score the current model on a labeled file: per-label precision, recall, F1, support."""
    from unstuck.cli.render import metrics_table
    from unstuck.data.examples import read_examples, too_long
    from unstuck.data.formats import JsonlWriter, atomic_output, check_output
    from unstuck.model.nlp import MAX_CHARS
    from unstuck.training.evaluate import evaluate as run_evaluation

    if errors_out is not None:
        check_output(str(errors_out), file, (".jsonl",), option="--errors-out")
    data = read_examples(file)
    errors_found = data.errors + too_long(file, data.examples, MAX_CHARS)
    if errors_found:
        fail(str(min(errors_found, key=lambda e: e.line or 0)))
    if not data.examples:
        fail(f"{file}: no examples")
    result = run_evaluation(get_tagger(model, trust_model), data.examples)
    if errors_out is not None:
        with atomic_output(str(errors_out)) as handle:
            writer = JsonlWriter(handle)
            for row in result.errors:
                writer.write(row)
    if as_json:
        typer.echo(json.dumps({"metrics": result.metrics, "errors": result.errors[:errors]}, ensure_ascii=False))
        return
    typer.echo(metrics_table(result.metrics, title=printable(f"{file} ({len(data.examples)} entries)")))
    for key, title in (("by_source", "source"), ("by_group", "group")):
        if key in result.metrics:
            typer.echo(f"\n{'per ' + title:<22}{'n':>6}{'micro':>7}{'macro':>7}  no-barrier entries given a tag")
            for name, m in result.metrics[key].items():
                typer.echo(f"  {name[:20]:<20}{m['n']:>6}{m['micro']['f1']:>7.2f}{m['macro']['f1']:>7.2f}  "
                           f"{m['entries']['untagged_given_a_tag']:.0%}")
    typer.echo("\nconfusion per label (tp fp fn tn):")
    for label, m in result.metrics["labels"].items():
        typer.echo(f"  {label:<22}{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}{m['tn']:>5}")
    for row in result.errors[:errors]:
        typer.echo(f"\n{printable(row['id'])}: missed {', '.join(row['missed']) or '-'}; extra {', '.join(row['extra']) or '-'}")


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
@reports_input_errors
def models_use(version: str = typer.Argument(..., help="A model name from `unstuck models`, or 'shipped' "
                                            "(names only: a model from elsewhere is used with --model and --trust-model).")) -> None:
    """Make VERSION the active model (`unstuck models use shipped` always returns to the shipped one)."""
    from unstuck.model.catalog import UnknownModel, use_model

    try:
        use_model(version)
    except UnknownModel as err:
        fail(str(err))
    typer.echo(f"active model: {version}")


@data_app.command("check")
@reports_input_errors
def data_check(
    file: Optional[Path] = typer.Argument(None, help="A labeled file; default: the seed set plus your examples."),
    suspects: int = typer.Option(0, "--suspects", help="Also list the N entries whose labels disagree most "
                                 "with cross-validated predictions, with file, line and text start "
                                 "(slow: trains several models)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check labeled data: schema, unknown labels, duplicates, split overlap, label balance."""
    from unstuck.training.datacheck import check_data, suspect_labels
    from unstuck.training.examples import example_origins

    report = check_data(file)
    if suspects:
        report.suspects = suspect_labels(report.examples, suspects, example_origins(file))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        typer.echo(report.render())
    if report.errors:
        raise typer.Exit(2)


@app.command()
@reports_input_errors
def suggest(
    file: Path = typer.Argument(..., help="Unlabeled entries: anything `unstuck batch` reads."),
    n: int = typer.Option(20, "-n", min=1, help="How many entries to suggest."),
    output: str = typer.Option("-", "-o", "--output", help="Where to write the JSONL (default: standard output)."),
    text_field: str = typer.Option("text", "--text-field", help="Field or column with the text."),
    id_field: str = typer.Option("id", "--id-field", help="Field or column with the id."),
    model: Optional[Path] = MODEL_OPTION,
    trust_model: bool = TRUST_OPTION,
) -> None:
    """The entries whose labels would teach the model most (those it is least sure about), as JSONL
    with "labels": null. Fill each in with tag ids, or [] for "no barrier", then `unstuck train --add`
    the file (a row still null is refused, never read as "no barrier"); or use `unstuck review`.

    Example:  unstuck suggest export.csv -n 30 -o to_label.jsonl
    """
    from unstuck.data.formats import JsonlWriter, atomic_output, check_output, read_rows
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
