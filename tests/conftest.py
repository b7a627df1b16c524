"""Shared fixtures: a private UNSTUCK_HOME for every test, tiny hand-written data, a tiny model."""

from __future__ import annotations

import pytest

from unstuck.data.examples import Example

TINY = [
    ("I keep cancelling my sessions, third time this month", ["inconsistency"]),
    ("she rescheduled on me again, that's four weeks with no session", ["inconsistency"]),
    ("missed another appointment, I just didn't go", ["inconsistency"]),
    ("we have not met in two months because of cancellations", ["inconsistency"]),
    ("another session moved, I'm losing track of when we meet", ["inconsistency"]),
    ("my therapist cancelled again last minute", ["inconsistency"]),
    ("I'm scared to tell her what really happened with my dad", ["fear"]),
    ("every time we get close to the accident I change the subject", ["fear"]),
    ("terrified that if I open up she'll think I'm disgusting", ["fear"]),
    ("I froze when she asked about my childhood, I couldn't say it", ["fear"]),
    ("afraid of what happens if I actually get better", ["fear"]),
    ("I was nervous, I didn't want to say it out loud", ["fear"]),
    ("had three glasses of wine before my session to take the edge off", ["substance_use"]),
    ("hungover again for therapy, couldn't focus on anything", ["substance_use"]),
    ("I smoke before sessions so I can talk, probably not great", ["substance_use"]),
    ("drinking instead of doing the breathing stuff", ["substance_use"]),
    ("took extra pills again before group, felt foggy", ["substance_use"]),
    ("vodka is doing more for me than the worksheets", ["substance_use"]),
    ("cancelled because work was insane and then drank all weekend", ["inconsistency", "substance_use"]),
    ("skipped therapy to avoid talking about it, scared of it all", ["inconsistency", "fear"]),
    ("made lasagna with my daughter, she loved it", []),
    ("the bus was late and it rained all day", []),
    ("my sister and I argued about mum's birthday party", []),
    ("good session today, we made a plan for the week", []),
    ("finished the worksheet and it actually helped", []),
    ("work was busy but I still made it to my appointment", []),
    ("I'm not scared anymore when we talk about my dad", []),
    ("we sorted out the scheduling and it's every tuesday now", []),
    ("wine at my cousin's wedding, lovely evening", []),
    ("the dog learned to sit, small wins", []),
    ("long walk by the river, felt calm", []),
    ("paid the electric bill finally", []),
]


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """No test ever touches a real user's data directory."""
    home = tmp_path / "unstuck-home"
    monkeypatch.setenv("UNSTUCK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def tiny_examples() -> list[Example]:
    return [Example(f"tiny-{i}", text, tuple(labels), "seed", f"g{i % 3}") for i, (text, labels) in enumerate(TINY)]


@pytest.fixture(scope="session")
def tiny_config():
    from unstuck.training.train import TrainConfig

    return TrainConfig(name="tiny", folds=2, inner_folds=2, test_size=0.25)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in the test's own directory, so that relative paths land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


class _Payload:
    """Unpickling this creates the file `marker`: a stand-in for any code a hostile pickle runs."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import pathlib

        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def pickled_pipeline(obj, format=2) -> bytes:
    """`obj` as a model directory of `format` stores its pipeline (2: `artifact.pipeline_bytes`, 1: joblib)."""
    import io

    import joblib

    from unstuck.model.artifact import pipeline_bytes

    if format == 1:
        buffer = io.BytesIO()
        joblib.dump(obj, buffer)
        return buffer.getvalue()
    return pipeline_bytes(obj)


@pytest.fixture
def payload_model(tmp_path):
    """make(where, **meta_changes): a model folder at `where` whose meta.json is the shipped one's (with
    `meta_changes` and the payload's sha256), and whose pipeline file, if ever unpickled, creates
    tmp_path/PWNED. Returns (folder, marker)."""
    import hashlib
    import json
    from pathlib import Path

    from unstuck.model import DEFAULT_MODEL_DIR
    from unstuck.model.artifact import PIPELINE_FILES

    marker = tmp_path / "PWNED"

    def make(where, **meta_changes):
        folder = Path(where)
        folder.mkdir(parents=True)
        meta = json.loads((DEFAULT_MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
        meta.update(meta_changes)
        # the payload goes where a model of that format keeps its pipeline
        pipeline = folder / PIPELINE_FILES.get(meta.get("format"), PIPELINE_FILES[2])
        pipeline.write_bytes(pickled_pipeline(_Payload(str(marker)), meta.get("format")))
        if "sha256" not in meta_changes:
            meta["sha256"] = hashlib.sha256(pipeline.read_bytes()).hexdigest()
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return folder, marker

    return make
