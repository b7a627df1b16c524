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
