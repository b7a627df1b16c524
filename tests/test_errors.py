import pickle

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data.errors import InputError, UnstuckError, UsageError
from unstuck.data.resources import UnknownRegion
from unstuck.data.taxonomy import UnknownLabel
from unstuck.model.artifact import ModelError
from unstuck.model.catalog import UnknownModel
from unstuck.model.crisis_model import CrisisModelError
from unstuck.model.distributed import SchedulerUnreachable
from unstuck.model.tagger import EntryTooLong
from unstuck.training.examples import UnknownExample

ERRORS = [
    InputError("notes.csv", 17, 'no "text" column; use --text-field NAME'),
    InputError(None, None, "no text"),
    UsageError("--workers is for tagging on this machine", 1),
    UnknownRegion("zz", ("us", "uk")),
    UnknownLabel("unknown label 'x'"),
    ModelError("model/: damaged; run `unstuck train`"),
    CrisisModelError("crisis model built with scikit-learn 0.1"),
    UnknownModel("no model 'x'"),
    UnknownExample("no added example 'x'"),
    EntryTooLong("entry is 1 characters"),
    SchedulerUnreachable("no Dask scheduler answered"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_keeping_message_kind_and_exit_code(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and isinstance(again, UnstuckError)
    assert str(again) == str(error) and again.exit_code == error.exit_code


def test_errors_input_error_keeps_its_place_through_pickle():
    again = pickle.loads(pickle.dumps(InputError("a.csv", 3, "bad row")))
    assert (again.path, again.line, again.reason) == ("a.csv", 3, "bad row")


def test_errors_are_rendered_as_one_line_with_the_class_exit_code():
    result = CliRunner().invoke(app, ["labels", "nosuchtag"])
    assert result.exit_code == UnknownLabel.exit_code == 2
    assert result.stderr.startswith("unstuck: unknown label 'nosuchtag'") and len(result.stderr.splitlines()) == 1
