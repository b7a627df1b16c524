"""Hostile input and hostile files (issue 19): nothing lost, nothing run, nothing leaked.

Each test asserts what a user would notice: the exit code, the one-line `unstuck: FILE:LINE: reason`
on standard error, the rows written, and files left as they were."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model import DEFAULT_MODEL_DIR
from unstuck.model.artifact import save_model

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")


def one_line_error(result, code: int = 2) -> str:
    """The single `unstuck: ...` line of a failed command."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unstuck: "), result.stderr
    return lines[0]


# --- train --out deletes nothing but a model ------------------------------------------------------

@pytest.mark.parametrize("setup, reason", [
    (lambda p: (p.mkdir(), (p / "taxes.txt").write_text("mine")), "is a folder with other things in it"),
    (lambda p: (p.mkdir(), (p / "meta.json").write_text("{}"), (p / "thesis.tex").write_text("mine")),
     "is a folder with other things in it"),
    (lambda p: p.write_text("mine"), "is a file, not a folder"),
    (lambda p: (Path("elsewhere").mkdir(), (Path("elsewhere") / "a.txt").write_text("mine"),
                p.symlink_to(Path("elsewhere").absolute())), "is a symbolic link"),
])
def test_hostile_train_out_refuses_what_is_not_a_model_folder_and_deletes_nothing(setup, reason):
    target = Path("Documents")
    setup(target)
    before = sorted(str(p) for p in Path(".").rglob("*"))
    line = one_line_error(runner.invoke(app, ["train", "--out", str(target)]))
    assert line.startswith(f"unstuck: {target}: {reason}") and "nothing was" in line
    assert sorted(str(p) for p in Path(".").rglob("*")) == before


def test_hostile_save_model_itself_refuses_a_folder_of_other_files():
    from unstuck.data.errors import InputError

    Path("Documents").mkdir()
    (Path("Documents") / "letter.txt").write_text("mine")
    with pytest.raises(InputError, match="not a model folder"):
        save_model(Path("Documents"), object(), None)
    assert (Path("Documents") / "letter.txt").read_text() == "mine"


def test_hostile_train_out_may_replace_a_model_folder():
    from unstuck.model.artifact import check_model_target

    copy = shutil.copytree(DEFAULT_MODEL_DIR, "model-copy")
    check_model_target(Path(copy))  # a model folder: replacing it is what --out is for
    Path("empty").mkdir()
    check_model_target(Path("empty"))
    check_model_target(Path("new-name"))


# --- models are data, not code, unless the user says otherwise -------------------------------------

def _model_commands(folder: Path) -> list[list[str]]:
    Path("in.jsonl").write_text('{"id": "1", "text": "I keep cancelling my sessions"}\n', encoding="utf-8")
    Path("labeled.jsonl").write_text('{"text": "I keep cancelling my sessions", "labels": ["inconsistency"]}\n',
                                     encoding="utf-8")
    model = ["--model", str(folder)]
    return [["tag", "I keep cancelling", *model], ["explain", "I keep cancelling", "-l", "fear", *model],
            ["batch", "in.jsonl", "-o", "out.jsonl", *model], ["report", "in.jsonl", "-o", "r.html", *model],
            ["evaluate", "labeled.jsonl", *model], ["suggest", "in.jsonl", *model]]


@pytest.mark.parametrize("command", range(6), ids=["tag", "explain", "batch", "report", "evaluate", "suggest"])
def test_hostile_model_from_elsewhere_is_refused_without_running_it(payload_model, command):
    folder, marker = payload_model("downloads/model")
    args = _model_commands(folder)[command]
    line = one_line_error(runner.invoke(app, args))
    assert line.startswith(f"unstuck: {folder}: not the shipped model") and "--trust-model" in line
    assert not marker.exists()
    assert not Path("out.jsonl").exists() and not Path("r.html").exists()


def test_hostile_model_symlinked_into_the_models_directory_is_still_from_elsewhere(payload_model, private_home):
    folder, marker = payload_model("downloads/model")
    (private_home / "models").mkdir(parents=True)
    (private_home / "models" / "looks-mine").symlink_to(folder.absolute())
    one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(private_home / "models" / "looks-mine")]))
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../../downloads/model", "/tmp", "..", "looks-mine", "no-such-model"])
def test_hostile_models_use_takes_only_names_of_the_users_models(payload_model, private_home, name):
    folder, marker = payload_model("downloads/model")
    (private_home / "models").mkdir(parents=True)
    (private_home / "models" / "looks-mine").symlink_to(folder.absolute())
    one_line_error(runner.invoke(app, ["models", "use", name]))
    assert not (private_home / "active").exists()
    assert not marker.exists()


@pytest.mark.parametrize("changes, reason", [
    ({"thresholds": {"fear": 0}}, "manifest needs one threshold per label"),
    ({"label_ids": ["fear", "hope"]}, "made for other labels (missing communication_gap"),
    ({"format": 7}, "made for model format 7"),
    ({"library_versions": {}}, "does not record the scikit-learn and numpy versions"),
    ({"sha256": "0" * 64}, "model file is missing, truncated or changed"),
    ({"version": "x\x1b]0;owned\x07"}, "manifest has no usable version name"),
])
def test_hostile_manifest_is_checked_before_anything_is_unpickled(payload_model, private_home, changes, reason):
    folder, marker = payload_model(private_home / "models" / "mine", **changes)
    line = one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(folder)]))
    assert reason in line and "\x1b" not in line
    assert not marker.exists()


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.2, "0.5", True, None])
def test_hostile_thresholds_outside_zero_and_one_are_refused(payload_model, private_home, value):
    from unstuck.data.taxonomy import LABEL_IDS

    folder, marker = payload_model(private_home / "models" / "mine",
                                   thresholds={**dict.fromkeys(LABEL_IDS, 0.5), "trust": value})
    line = one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(folder)]))
    assert "threshold for trust is" in line and "not between 0 and 1" in line
    assert not marker.exists()


def test_hostile_trusted_model_that_is_no_pipeline_is_one_line(tmp_path, private_home):
    import hashlib

    import joblib

    folder = private_home / "models" / "odd"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    joblib.dump({"not": "a pipeline"}, folder / "pipeline.joblib")
    meta = json.loads((folder / "meta.json").read_text())
    meta["sha256"] = hashlib.sha256((folder / "pipeline.joblib").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    line = one_line_error(runner.invoke(app, ["tag", "hello", "--model", str(folder)]))
    assert "holds no scikit-learn pipeline" in line
