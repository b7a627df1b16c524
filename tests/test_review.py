"""`unstuck review`: driven through a real pseudo-terminal (single keys, termios), and through piped lines."""

import json
import os
import select
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model.tagger import Tagger
from unstuck.training.review import AnswerLog, pick_entries

ENTRIES = [
    "work ate every thursday this month so I moved my session twice",
    "my sister called and we talked about the holidays",
    "I could not make myself say the thing about the accident",
    "had a long nap and then cleaned the kitchen",
    "two beers before the session so I could actually talk",
    "she keeps looking at her phone while I am talking",
    "I don't really know what we are supposed to be working on",
    "bought new running shoes, went for a jog",
    "I don't trust her to keep what I say to herself",
    "the worksheets feel pointless and I never do them",
]

# Runs the console script in-process in the child, with the training function replaced by a tiny
# one: training is mocked at its boundary (unstuck.training.train.train), which records the user
# examples it was given and trains on them plus the 32 hand-written TINY entries in seconds.
CHILD = """
import json, sys
from unstuck.data.examples import Example
from unstuck.training import train as t
RECORD = sys.argv.pop()
real = t.train
def tiny_training(examples, config, **kw):
    user = [[e.text, list(e.labels)] for e in examples if e.source != "seed"]
    open(RECORD, "w").write(json.dumps(user))
    tiny = [Example(f"tiny-{i}", text, tuple(labels), "seed", f"g{i % 3}") for i, (text, labels) in enumerate(TINY)]
    return real(tiny + [e for e in examples if e.source != "seed"],
                t.TrainConfig(name="tiny", folds=2, inner_folds=2, test_size=0.25), version=kw.get("version"))
t.train = tiny_training
sys.argv = ["unstuck", "review", sys.argv[1]] + sys.argv[2:]
from unstuck.cli.app import main
main()
"""


class Terminal:
    """A child process on a pseudo-terminal: send keys, wait for text on its screen."""

    def __init__(self, args, env):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.screen = ""

    def expect(self, text, timeout=90):
        end = time.monotonic() + timeout
        while text not in self.screen:
            ready, _, _ = select.select([self.master], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                raise AssertionError(f"never saw {text!r}; screen ends:\n{self.screen[-1500:]}")
            try:
                self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
            except OSError:  # the child closed the terminal
                raise AssertionError(f"exited before {text!r}; screen ends:\n{self.screen[-1500:]}") from None
        found = self.screen.index(text) + len(text)
        seen, self.screen = self.screen[:found], self.screen[found:]
        return seen

    def keys(self, keys, then):
        for key in keys:
            os.write(self.master, key.encode())
            time.sleep(0.05)
        return self.expect(then)

    def close(self):
        code = self.proc.wait(timeout=120)
        os.close(self.master)
        return code


@pytest.fixture
def journal(tmp_path):
    path = tmp_path / "journal.txt"
    path.write_text("\n".join(ENTRIES) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def predicted():
    tagger = Tagger.load()
    return [tuple(tagger.tag(text).labels) for text in ENTRIES]


def ordered(labels):
    from unstuck.data.taxonomy import LABEL_IDS

    return [k for k in LABEL_IDS if k in set(labels)]


@pytest.mark.slow
def test_review_in_a_pseudo_terminal_saves_exactly_what_was_chosen_resumes_and_retrains(
        journal, predicted, tmp_path, private_home):
    from conftest import TINY

    record = tmp_path / "trained_on.json"
    args = [sys.executable, "-c", f"TINY = {TINY!r}\n" + CHILD, str(journal), str(record)]
    env = {**os.environ, "UNSTUCK_HOME": str(private_home), "COLUMNS": "120"}

    first = Terminal(args, env)
    first.expect("[1/10] entry 1")
    first.keys("\r", "[2/10] entry 2")                   # accept the model's tags
    first.keys("n\r", "[3/10] entry 3")                  # no barrier
    first.keys("n", "your answer: no barrier")
    first.keys("1", "your answer: fear")
    first.keys("b", "your answer: fear, inconsistency")
    first.keys("\r", "[4/10] entry 4")
    first.keys("s", "[5/10] entry 5")                    # skip
    first.keys("n4\r", "[6/10] entry 6")
    first.keys("u", "[5/10] entry 5")                    # undo: back to entry 5
    first.keys("n5\r", "[6/10] entry 6")
    first.keys("q", "[y/N]")                             # quit; offered to retrain
    first.keys("n", "not now")
    assert first.close() == 0
    answers = {a.id: list(a.labels) for a in AnswerLog().load().values()}
    assert answers == {"1": ordered(predicted[0]), "2": [], "3": ["fear", "inconsistency"], "5": ["distractions"]}

    second = Terminal(args, env)
    second.expect("[1/6] entry 4")                       # resumed: only what was not answered
    second.keys("n\r", "[2/6] entry 6")
    second.keys("2\r", "[3/6] entry 7")                  # toggle communication_gap on the model's tags
    second.keys("\r", "[4/6] entry 8")
    second.keys("s", "[5/6] entry 9")
    second.keys("nc\r", "[6/6] entry 10")
    second.keys("u", "[5/6] entry 9")
    second.keys("n9\r", "[6/6] entry 10")
    second.keys("\r", "[y/N]")
    compared = second.keys("y", "macro avg")
    assert "f1 was" in compared                          # the comparison `train --add` shows
    second.expect(" saved in ")
    assert second.close() == 0

    expected = {"1": ordered(predicted[0]), "2": [], "3": ["fear", "inconsistency"], "5": ["distractions"],
                "4": [], "6": ordered(set(predicted[5]) ^ {"communication_gap"}), "7": ordered(predicted[6]),
                "9": ["trust"], "10": ordered(predicted[9])}
    assert {a.id: list(a.labels) for a in AnswerLog().load().values()} == expected
    trained_on = {text: labels for text, labels in json.loads(record.read_text())}
    assert trained_on == {ENTRIES[int(i) - 1]: labels for i, labels in expected.items()}
    from unstuck.training.examples import added_examples

    assert {a.example.text: list(a.example.labels) for a in added_examples()} == trained_on


def test_review_with_piped_lines_uses_the_same_keys(journal, predicted):
    result = CliRunner().invoke(app, ["review", str(journal)], input="\nn\nn1b\ns\nq\nn\n")
    assert result.exit_code == 0, result.output
    answers = [(a.id, list(a.labels)) for a in AnswerLog().load().values()]
    assert answers == [("1", ordered(predicted[0])), ("2", []), ("3", ["fear", "inconsistency"])]
    assert "not now; they stay saved" in result.stderr


def test_review_nothing_left_says_so_and_offers_to_add_the_answers(journal):
    log = AnswerLog()
    for text in ENTRIES:
        log.answer("x", text, [])
    result = CliRunner().invoke(app, ["review", str(journal)], input="n\n")
    assert "nothing left to review" in result.stderr and "10 answer(s) are not in your examples yet" in result.stderr


def test_review_pick_collapses_near_duplicates_and_puts_the_least_sure_first():
    from types import SimpleNamespace as NS

    def item(text, score):
        return NS(row=NS(text=text), tagging=NS(scores={"fear": score}))

    items = [item("I am scared of her", 0.9), item("scared to tell her about dad", 0.52),
             item("scared to tell her about my dad", 0.51), item("made soup", 0.05)]
    picked = pick_entries(items, {"fear": 0.5}, 3)
    assert [p.row.text for p in picked] == ["scared to tell her about my dad", "I am scared of her", "made soup"]
