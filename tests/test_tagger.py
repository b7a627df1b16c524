"""The shipped tagger on short entries a new user tries first (issue 15): a few neutral words are not
a barrier, and a plain one is found."""

import pytest

from unstuck.model.tagger import Tagger


@pytest.fixture(scope="module")
def tagger():
    return Tagger.load()


@pytest.mark.parametrize("entry", ["Weekend with the kids.", "My therapist is great.", "Had a good session today.",
                                   "Lunch with mum, then the gym.", "Slept badly."])
def test_tagger_short_neutral_entries_get_no_tag(tagger, entry):
    assert tagger.tag(entry).labels == []


def test_tagger_a_plain_barrier_in_one_line_is_found(tagger):
    assert "inconsistency" in tagger.tag("I cancelled again, work has eaten every Thursday this month").labels
