import json
import random
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.examples import Example, load_seed
from unstuck.model import store
from unstuck.model.tagger import Tagger
from unstuck.training import workflow
from unstuck.training.train import split_examples, train

runner = CliRunner()


@pytest.fixture(scope="module")
def small_seed():
    return load_seed()[::7]


@pytest.fixture
def small_world(monkeypatch, small_seed):
    """Training through the CLI sees a seventh of the seed set, so a run takes seconds."""
    monkeypatch.setattr(workflow, "load_seed", lambda: list(small_seed))


def test_train_same_data_same_seed_same_model(tiny_examples, tiny_config):
    a = train(tiny_examples, tiny_config)
    b = train(tiny_examples, tiny_config)
    texts = ["I keep cancelling", "scared to tell her", "lovely walk today"]
    assert a.manifest.thresholds == b.manifest.thresholds
    assert np.array_equal(a.pipeline.predict_proba(texts), b.pipeline.predict_proba(texts))


def test_train_held_out_entries_are_never_trained_on(tiny_examples, tiny_config):
    result = train(tiny_examples, tiny_config)
    assert {e.id for e in result.split.test}.isdisjoint(e.id for e in result.split.train)
    assert result.manifest.n_train == len(result.split.train)
    assert result.report["heldout"]["n"] == len(result.split.test)


def test_train_user_examples_stay_on_their_side_of_the_split(tiny_examples, tiny_config):
    user = [Example(f"u{i}", f"note number {i} about sessions and my week", (), "user", "user") for i in range(40)]
    first = split_examples(tiny_examples + user[:20], tiny_config)
    later = split_examples(tiny_examples + user, tiny_config)
    held = {e.id for e in first.test if e.source == "user"}
    assert held and held <= {e.id for e in later.test}


def test_train_add_rejects_a_bad_file_and_adds_nothing(tmp_path, private_home):
    bad = tmp_path / "new.csv"
    bad.write_text("text,labels\nI skip every session lately,inconsistency\n,fear\nsecret words here,feelings\n")
    result = runner.invoke(app, ["train", "--add", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3: empty or missing \"text\"" in result.stderr
    assert f"{bad}:4: unknown label(s): feelings" in result.stderr
    assert "secret words" not in result.stderr
    assert not (private_home / "examples").exists()


@pytest.mark.slow
def test_train_add_stores_examples_in_the_user_home_and_activates(tmp_path, private_home, small_world):
    new = tmp_path / "new.jsonl"
    rows = [{"text": f"cancelled session number {i} because of my shifts", "labels": ["inconsistency", "distractions"]}
            for i in range(6)]
    new.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    seed_files = {p: p.read_bytes() for p in (store.DEFAULT_MODEL_DIR.parent.parent / "data" / "seed").glob("*")}
    result = runner.invoke(app, ["train", "--add", str(new)])
    assert result.exit_code == 0, result.output
    assert len(list((private_home / "examples").glob("*.jsonl"))) == 1
    assert all(p.read_bytes() == b for p, b in seed_files.items())
    assert "f1 was" in result.stdout and "macro avg" in result.stdout
    again = runner.invoke(app, ["train", "--add", str(new)])
    assert again.exit_code == 2 and "duplicate of an example already in the training data" in again.stderr


@pytest.mark.slow
def test_train_worse_candidate_is_kept_but_not_activated_and_rollback_works(private_home, small_seed):
    config = replace(workflow.DEFAULT_CONFIG, folds=2, inner_folds=2)
    seed_part = list(small_seed[::2])
    user_part = [replace(e, source="user") for e in small_seed[1::2]]
    good = train(seed_part + user_part, config, version="good")
    workflow.save_result(good, store.models_dir() / "good")
    workflow.use_model("good")
    labels = [e.labels for e in user_part]
    random.Random(0).shuffle(labels)
    mislabeled = [replace(e, labels=l) for e, l in zip(user_part, labels)]
    bad = train(seed_part + mislabeled, replace(config, user_weight=3), version="mislabeled")
    outcome = workflow.promote(bad)
    assert not outcome.promoted and "dropped" in outcome.reason
    assert store.active_version() == "good"
    assert {row["version"] for row in workflow.list_models()} >= {"shipped", "good", "mislabeled"}
    better = workflow.promote(good)
    assert better.promoted
    result = runner.invoke(app, ["models", "use", "shipped"])
    assert result.exit_code == 0
    assert Tagger.load().path == store.DEFAULT_MODEL_DIR


def test_scores_count_entries_shown_a_barrier_they_do_not_have_and_the_reverse():
    from unstuck.training.metrics import scores

    Y = np.zeros((4, 12), dtype=int)
    Y[2, 0] = Y[3, 1] = 1  # two entries with a barrier, two without
    pred = np.zeros_like(Y)
    pred[0, 5] = 1  # an untagged entry shown a tag
    pred[2, 0] = 1  # a tagged entry found; entry 3's barrier missed
    entries = scores(Y, pred)["entries"]
    assert entries == {"untagged": 2, "untagged_given_a_tag": 0.5, "tagged_given_none": 0.5}


def test_precision_leaning_thresholds_are_never_below_the_f1_ones():
    from unstuck.training.metrics import tune_thresholds

    rng = np.random.default_rng(0)
    Y = (rng.random((300, 12)) < 0.2).astype(int)
    P = np.clip(Y * 0.35 + rng.random((300, 12)) * 0.65, 0, 1)
    f1, leaning = tune_thresholds(Y, P), tune_thresholds(Y, P, beta=0.5)
    assert all(leaning[k] >= f1[k] for k in f1)
    assert any(leaning[k] > f1[k] for k in f1)
