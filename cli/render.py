"""Human-readable views of a tagging and of metrics. Returns strings; the commands print them."""

from __future__ import annotations

import textwrap

from unstuck.data.resources import Resource
from unstuck.data.taxonomy import Audience, Label

NOT_A_DIAGNOSIS = (
    "unstuck suggests; it does not diagnose, and it is no substitute for care. "
    "Talk any of this over with your therapist or someone you trust."
)


def crisis_message(resource: Resource) -> str:
    lines = [
        "Some of what you wrote sounds like you, or someone you describe, may be at risk of harm.",
        "You deserve support right now, and you do not have to handle this alone.",
        "",
        f"  Crisis line ({resource.name}): {resource.crisis_line}",
        f"  Emergency: {resource.emergency} if anyone is in immediate danger.",
    ]
    if resource.also:
        lines.append(f"  {resource.also}")
    lines.append("  (Use --region us, ca, uk, ie, au, nz or eu for a local number.)")
    return "\n".join(lines)


def tagging_view(tagging, taxonomy: dict[str, Label], audience: Audience, resource: Resource, version: str,
                 max_steps: int | None = None) -> str:
    """The human view of one tagging; `max_steps` next steps per tag (None: all, and no hint)."""
    out: list[str] = []
    if tagging.crisis:
        out += [crisis_message(resource), ""]
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
    if not tagging.crisis:
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
