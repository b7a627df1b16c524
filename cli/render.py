"""Human-readable views of a tagging and of metrics. Returns strings; the commands print them."""

from __future__ import annotations

import textwrap

from unstuck.data.taxonomy import Audience, Label

NOT_A_DIAGNOSIS = (
    "unstuck suggests; it does not diagnose, and it is no substitute for care. "
    "Talk any of this over with your therapist or someone you trust."
)


def help_message(tagging, region_chosen: bool) -> str:
    """The help that leads a flagged entry's view: for a safety concern the abuse lines first, for a
    crisis the crisis lines; always with numbers (every region's when none was chosen)."""
    lines: list[str] = []
    if tagging.safety:
        lines += ["Some of what you wrote sounds like someone may be hurting you now. That is not your fault,",
                  "and there are people whose job is to help you be safe."]
    if tagging.crisis:
        lines += ["Some of what you wrote sounds like you, or someone you describe, may be at risk of harm.",
                  "You deserve support right now, and you do not have to handle this alone."]
    lines.append("")
    by_region: dict[str, list] = {}
    for line in tagging.resources:
        by_region.setdefault(line.region_name, []).append(line)
    for region_name, found in by_region.items():
        if len(by_region) == 1 and region_chosen:
            lines += [f"  {_reach(line)}." for line in found]
        else:  # every region's numbers: one line each
            lines.append(f"  {region_name}: " + "; ".join(_reach(line, short=True) for line in found) + ".")
    if len(by_region) > 1 or not region_chosen:
        lines.append("  Call the emergency number if anyone is in immediate danger.")
    lines.append(f"  {ALSO}")
    if not region_chosen:
        lines.append("  Elsewhere: your local emergency number or a local crisis line. For one region's numbers, "
                     "use --region or `unstuck region set uk` (us, ca, uk, ie, au, nz, eu).")
    return "\n".join(lines)


def _reach(line, short: bool = False) -> str:
    if line.kind == "emergency" and short:
        return f"emergency {line.reach.removeprefix('call ')}"
    if line.kind == "emergency":
        return f"Emergency: {line.reach.removeprefix('call ')} if anyone is in immediate danger"
    return f"{line.name}: {line.reach}"


ALSO = "If you can, reach out now to someone you trust and tell them how things are."


def tagging_view(tagging, taxonomy: dict[str, Label], audience: Audience, version: str,
                 region_chosen: bool = True, max_steps: int | None = None) -> str:
    """The human view of one tagging; `max_steps` next steps per tag (None: all, and no hint)."""
    out: list[str] = []
    if tagging.crisis or tagging.safety:
        out += [help_message(tagging, region_chosen), ""]
    if tagging.labels:
        out.append(f"Possible barriers in this entry (model {version}):")
        for label_id in tagging.labels:
            label = taxonomy[label_id]
            out += ["", f"* {label.name} ({label_id}, score {tagging.scores[label_id]:.2f})"]
            for item in tagging.evidence.get(label_id, [])[:3]:
                out.append(f'    why: "{_one_line(item.text)}"')
            out.append(f"    next steps for the {audience.value}:")
            steps = label.steps_for(audience)
            out += [_wrapped(step, "      - ") for step in steps[:max_steps]]
            if max_steps is not None and len(steps) > max_steps:
                more = len(steps) - max_steps
                out.append(f"      ({more} more next step{'s' if more > 1 else ''}: --all)")
    else:
        out.append(f"No barrier to therapy found in this entry (model {version}).")
    if not (tagging.crisis or tagging.safety):
        out += ["", "No crisis language was found. The screen can miss things: if you or someone else is in "
                "danger, contact local emergency services."]
    out += ["", NOT_A_DIAGNOSIS]
    return "\n".join(out)


def labels_view(taxonomy: dict[str, Label], audience: Audience | None) -> str:
    out = []
    for label in taxonomy.values():
        out += [f"{label.id}: {label.name}", _wrapped(label.description, "  ")]
        for who in [audience] if audience else list(Audience):
            out.append(f"  next steps for the {who.value}:")
            out += [_wrapped(step, "    - ") for step in label.steps_for(who)]
        out.append("")
    return "\n".join(out).rstrip()


def metrics_table(metrics: dict, baseline: dict | None = None, title: str = "") -> str:
    """Per-label precision/recall/F1/support, with deltas against a baseline when given."""
    head = f"{'label':<22}{'prec':>7}{'rec':>7}{'f1':>7}{'supp':>6}"
    if baseline:
        head += f"{'f1 was':>9}{'delta':>8}"
    rows = [title, head] if title else [head]
    items = list(metrics["labels"].items()) + [("micro avg", metrics["micro"]), ("macro avg", metrics["macro"])]
    for name, m in items:
        row = f"{name:<22}{m['precision']:>7.2f}{m['recall']:>7.2f}{m['f1']:>7.2f}{m.get('support', 0):>6}"
        if baseline:
            old = baseline["labels"].get(name) or baseline.get(name.split()[0], {})
            row += f"{old.get('f1', 0):>9.2f}{m['f1'] - old.get('f1', 0):>+8.2f}"
        rows.append(row)
    entries = metrics.get("entries")
    if entries and entries.get("untagged"):
        line = (f"entries with no barrier given a tag: {entries['untagged_given_a_tag']:.0%}; "
                f"barrier entries given none: {entries['tagged_given_none']:.0%}")
        was = (baseline or {}).get("entries")
        if was:
            line += f" (was {was['untagged_given_a_tag']:.0%}; {was['tagged_given_none']:.0%})"
        rows.append(line)
    return "\n".join(rows)


def _one_line(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrapped(text: str, prefix: str) -> str:
    return textwrap.fill(text, width=96, initial_indent=prefix, subsequent_indent=" " * len(prefix))


def explanations_view(explanations: list, version: str) -> str:
    """`unstuck explain`: each tag's score against its threshold and the words for and against."""
    if not explanations:
        return (f"no tag was given to this entry (model {version}); "
                "use --label ID to see why a tag was not given")
    lines = []
    for one in explanations:
        verdict = "assigned" if one.score >= one.threshold else "not assigned"
        lines += [f"{one.label}: score {one.score:.2f}, threshold {one.threshold:.2f} -> {verdict}",
                  "words for:     " + (", ".join(f"{w} (+{v:.2f})" for w, v in one.for_words) or "none"),
                  "words against: " + (", ".join(f"{w} ({v:.2f})" for w, v in one.against_words) or "none")]
    lines.append("(word weights only; character patterns add to the score but are not listed)")
    return "\n".join(lines)


def retraining_view(result) -> str:
    """`unstuck train`: the held-out table, then where the model went and whether it became active."""
    held_out = f"held-out split ({len(result.trained.split.test)} entries)"
    if result.out is not None:
        return (metrics_table(result.trained.report["heldout"], title=held_out)
                + f"\nwrote {result.out} (and its MODEL_CARD.md)")
    promotion = result.promotion
    return "\n".join([metrics_table(promotion.candidate, promotion.current, title=f"{held_out}: new model vs current"),
                      ("activated: " if promotion.promoted else "not activated: ") + promotion.reason,
                      f"model {promotion.version} saved in {promotion.path}"])


def learning_curve_view(points: list[dict]) -> str:
    lines = [f"{'share':>6}{'entries':>9}{'macro F1':>10}{'micro F1':>10}"]
    lines += [f"{p['fraction']:>6.0%}{p['n_train']:>9}{p['macro_f1']:>10.3f}{p['micro_f1']:>10.3f}" for p in points]
    return "\n".join(lines)


def evaluation_view(result, title: str, worst: int) -> str:
    """`unstuck evaluate`: the metrics table, per source and group, confusion per label, and the
    `worst` mistakes."""
    from unstuck.data.errors import printable

    metrics = result.metrics
    lines = [metrics_table(metrics, title=printable(title))]
    for key, name in (("by_source", "source"), ("by_group", "group")):
        if key in metrics:
            lines.append(f"\n{'per ' + name:<22}{'n':>6}{'micro':>7}{'macro':>7}  no-barrier entries given a tag")
            lines += [f"  {one[:20]:<20}{m['n']:>6}{m['micro']['f1']:>7.2f}{m['macro']['f1']:>7.2f}  "
                      f"{m['entries']['untagged_given_a_tag']:.0%}" for one, m in metrics[key].items()]
    lines.append("\nconfusion per label (tp fp fn tn):")
    lines += [f"  {label:<22}{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}{m['tn']:>5}" for label, m in metrics["labels"].items()]
    lines += [f"\n{printable(row['id'])}: missed {', '.join(row['missed']) or '-'}; extra {', '.join(row['extra']) or '-'}"
              for row in result.errors[:worst]]
    return "\n".join(lines)


def rebuilt_view(rebuilt) -> str:
    """`unstuck models rebuild`: what was rebuilt, why, where, and what is active now."""
    lines = []
    for what, path, problem in (("model", rebuilt.model, rebuilt.model_problem),
                                ("crisis model", rebuilt.crisis_model, rebuilt.crisis_problem)):
        lines.append(f"rebuilt the shipped {what} into {path} ({problem.split('; ')[0]})" if path
                     else f"the shipped {what} works with this install; nothing to rebuild")
    if rebuilt.activated:
        lines.append(f"active model: {rebuilt.model.name}")
    return "\n".join(lines)
