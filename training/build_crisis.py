"""Rebuild the crisis screen's classifier into data/crisis/model/ (see `unstuck.training.crisis` for
how it is trained, and `unstuck.training.crisis_real` for what the real posts add):

    python -m unstuck.training.build_crisis --real DIR --tests tests/data

After a change to the rules alone (data/crisis_patterns.toml, model/safety.py), measure the shipped
classifier again with them, without retraining it (meta.json's `metrics.blind_test`, and with --real
`metrics.real.shipped_model`; the pipeline and its checksum are not touched):

    python -m unstuck.training.build_crisis --measure-only --real DIR --tests tests/data
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unstuck.training.crisis import CRISIS_DIR, blind_test, save, test_sets, train, training_data
from unstuck.training.crisis_real import build_with_real


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CRISIS_DIR, help="the model directory to write (meta.json, pipeline.pkl.gz, MODEL_CARD.md)")
    parser.add_argument("--tests", type=Path, default=None,
                        help="a folder of test sets (crisis_*_test.jsonl, never trained on) to measure on: tests/data")
    parser.add_argument("--real", type=Path, default=None,
                        help="the folder of rebuilt real texts (<source>.jsonl, see unstuck.training.real_sources)")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the model in --out again with the current rules; do not retrain it")
    args = parser.parse_args(argv)
    if args.measure_only:
        return measure_again(args.out, args.tests, args.real)
    if args.real:
        pipeline, meta = build_with_real(training_data(args.real), args.real)
    else:
        pipeline, meta = train()
        meta["real"] = None
    meta["blind_test"] = blind_test((meta["threshold"], meta["window_threshold"]), pipeline, test_sets(args.tests))
    save(pipeline, meta, args.out)
    print(json.dumps({k: meta[k] for k in ("threshold", "window_threshold", "real", "blind_test")},
                     indent=2))
    return 0


def measure_again(directory: Path, tests: Path | None, real: Path | None) -> int:
    """Write the model's metrics measured with the current rules into its meta.json (see the docstring)."""
    from unstuck.model.artifact import META_FILE
    from unstuck.model.crisis_model import CrisisModel
    from unstuck.training.crisis_real import shipped_on_real

    model = CrisisModel.load(directory)
    thresholds = (model.threshold, model.window_threshold)
    path = directory / META_FILE
    meta = json.loads(path.read_text(encoding="utf-8"))
    metrics = meta.setdefault("metrics", {})
    metrics["blind_test"] = blind_test(thresholds, model.pipeline, test_sets(tests))
    if real:
        if not metrics.get("real"):  # a model built without --real records `"real": null`
            metrics["real"] = {}
        metrics["real"]["shipped_model"] = shipped_on_real(training_data(real), real, model.pipeline, thresholds)
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"blind_test": metrics["blind_test"]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
