"""The crisis screen reads windows, not whole entries: one sentence at risk in 150 words of ordinary
news counts in full; figurative and denial cases stay unflagged; a flag always shows a number."""

import json
import re

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.data import DATA_DIR
from unstuck.model.nlp import get_nlp
from unstuck.model.safety import default_screen, sentence_spans, windows_of

runner = CliRunner()

NEWS_BEFORE = (
    "The council finally resurfaced the road outside the school, so the morning traffic is back to normal. "
    "Work was busy: two meetings about the new rota and a long call with the supplier about late deliveries. "
    "Priya brought in lemon drizzle for her birthday and we sang badly in the kitchen. "
    "I picked up the dry cleaning on the way home and the bus was only ten minutes late. ")
NEWS_AFTER = (
    " Mum rang about the allotment and the courgettes that have taken over her shed. "
    "The football was on later and United lost again, which nobody at work will let me forget. "
    "Tomorrow I need to renew the car tax, book the boiler service and sort out the recycling bins, "
    "and maybe try the new bakery on the corner if the rain holds off.")

# The signs quoted (or described) in issue 16, in the words of the issue where it quotes them.
ISSUE_SIGNS = [
    "I don't think I'm safe tonight. The pills are out on the table and I keep counting them.",
    "I started again. the cutting.",
    "I gave the guitar to Dan and the cat to the neighbours, and the letters are written, for Mum, for Dan.",
    "I was kind of hoping for the tree at the bend.",
    "I shook the baby's crib hard when he wouldn't stop crying.",
    "Nan had new bruises on her arms and her purse was emptied again.",
    "I'd be fine if I got hit by a bus tomorrow.",
]


def screen_many(texts):
    return default_screen().screen_many(list(get_nlp().pipe(texts)), list(texts))


def in_the_news(sign: str) -> str:
    return NEWS_BEFORE + sign + NEWS_AFTER


def test_crisis_windows_the_filler_is_about_150_words_and_unflagged():
    assert 120 <= len((NEWS_BEFORE + NEWS_AFTER).split()) <= 150
    result = screen_many([NEWS_BEFORE + NEWS_AFTER])[0]
    assert not result.flagged and not result.safety


@pytest.mark.parametrize("sign", ISSUE_SIGNS)
def test_crisis_windows_each_issue_sign_is_flagged_inside_ordinary_news(sign):
    text = in_the_news(sign)
    result = screen_many([text])[0]
    assert result.flagged, sign
    for match in result.matches:
        assert text[match.start:match.end] == match.text
    assert any(match.start < len(NEWS_BEFORE) + len(sign) and match.end > len(NEWS_BEFORE) for match in result.matches), \
        "the match names the window that holds the sign"


def suite(kinds: set[str]) -> list[str]:
    rows = [json.loads(line) for line in (DATA_DIR / "crisis" / "suite.jsonl").read_text(encoding="utf-8").splitlines()]
    return [row["text"] for row in rows if row["kind"] in kinds]


def test_crisis_windows_figurative_and_denial_cases_of_the_suite_stay_unflagged():
    texts = suite({"figurative", "denial"})
    assert len(texts) >= 30
    flagged = [text for text, result in zip(texts, screen_many(texts)) if result.flagged]
    assert not flagged


def test_crisis_windows_windows_are_runs_of_one_to_three_sentences_and_the_whole():
    assert windows_of(1) == [(0, 0)]
    assert set(windows_of(4)) == {(0, 0), (1, 1), (2, 2), (3, 3), (0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (0, 3)}
    text = "One. Two here. Three"
    assert [text[a:b] for a, b in sentence_spans(get_nlp()(text))] == ["One.", "Two here.", "Three"]


def test_crisis_windows_a_sentence_window_scores_as_the_sentence_alone():
    model = default_screen().model
    sentences = ["Made soup and watched the rain.", "I keep counting the pills on the table.", "Bus was late."]
    by_window = model.window_probabilities([sentences], [[(0, 0), (1, 1), (2, 2)]])[0]
    assert by_window == pytest.approx(model.probabilities(sentences), abs=1e-12)


PHONE = re.compile(r"\d{3}|\d{2,4} \d{2,4}")


@pytest.fixture
def no_region(monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "UNSTUCK_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_crisis_windows_a_flagged_entry_shows_a_number_in_view_and_json(no_region):
    text = in_the_news(ISSUE_SIGNS[1])
    view = runner.invoke(app, ["tag", text]).stdout
    assert "at risk" in view.splitlines()[0] and PHONE.search(view)
    out = json.loads(runner.invoke(app, ["tag", "--json", text]).stdout)
    assert out["crisis"] is True
    assert any(PHONE.search(r["reach"]) for r in out["resources"])


# Short everyday entries with no risk word, written for this test: none may flag (issue 16's
# "I cancelled again" was flagged by the classifier alone).
SHORT_EVERYDAY = [
    "I cancelled again", "cancelled on her again", "Skipped the gym again", "Missed my bus",
    "Late again today", "Forgot my keys", "Called in sick", "Did the laundry", "Long day again",
    "rain again", "Therapist ran late", "couldn't face the dishes", "Quiet weekend", "Moved my session",
]


def test_crisis_windows_short_everyday_entries_stay_unflagged():
    flagged = [t for t, r in zip(SHORT_EVERYDAY, screen_many(SHORT_EVERYDAY)) if r.flagged]
    assert flagged == []


class _Constant:
    """A stand-in crisis model that gives every window the same probability."""

    def __init__(self, p: float) -> None:
        self.p = p

    def window_probabilities(self, sentences, windows):
        return [[self.p] * len(w) for w in windows]


@pytest.mark.parametrize("text, flagged", [
    ("I cancelled again", False),  # fewer than short_words words: held to the window threshold
    ("went out for a long walk by the river", True),  # one sentence, long enough: the whole-entry threshold
])
def test_crisis_windows_short_entries_need_the_window_threshold(text, flagged):
    from unstuck.model.crisis_model import CrisisModel
    from unstuck.model.safety import CrisisScreen

    model = CrisisModel.__new__(CrisisModel)  # the thresholds alone; no pipeline needed
    model.threshold, model.window_threshold, model.short_words = 0.3, 0.98, 6
    model.window_probabilities = _Constant(0.5).window_probabilities
    screen = CrisisScreen(get_nlp(), model=model)
    assert screen.screen(get_nlp()(text)).flagged is flagged
