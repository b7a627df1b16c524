import json
from pathlib import Path

import pytest

from unstuck.model.nlp import get_nlp
from unstuck.model.safety import CrisisScreen, default_screen

CASES = Path(__file__).parent / "data" / "crisis_cases.jsonl"


def load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def screen(text: str):
    return default_screen().screen(get_nlp()(text))


def test_safety_suite_has_enough_phrasings_of_each_side():
    cases = load_cases()
    assert sum(c["crisis"] for c in cases) >= 80
    assert sum(not c["crisis"] for c in cases) >= 80


def test_safety_recall_is_total_and_false_alarms_are_reported(capsys):
    cases = load_cases()
    missed = [c for c in cases if c["crisis"] and not screen(c["text"]).flagged]
    alarms = [c for c in cases if not c["crisis"] and screen(c["text"]).flagged]
    positives = sum(c["crisis"] for c in cases)
    negatives = len(cases) - positives
    with capsys.disabled():
        print(f"\ncrisis screen: recall {1 - len(missed) / positives:.1%} on {positives} positives; "
              f"false alarms {len(alarms) / negatives:.1%} on {negatives} negatives "
              f"({', '.join(sorted({c['kind'] for c in alarms})) or 'none'})")
    assert not missed, [c["kind"] for c in missed]
    assert len(alarms) / negatives <= 0.10


@pytest.mark.parametrize("text", [
    "this homework is killing me",
    "I could murder a burger right now",
    "dying to see her on friday",
    "my boss will kill me if I'm late again",
])
def test_safety_figurative_language_does_not_fire(text):
    assert not screen(text).flagged


@pytest.mark.parametrize("text", [
    "I looked up how many pills it would take",
    "everyone would be better off without me",
    "I'm not suicidal but I keep thinking about the pills",
    "my little brother gets hit by dad when he's drunk, there were bruises again",
])
def test_safety_fires_on_indirect_and_third_party_risk(text):
    result = screen(text)
    assert result.flagged
    assert all(text[m.start:m.end] == m.text for m in result.matches)


def test_safety_plain_denial_does_not_fire_but_a_hedged_one_does():
    assert not screen("I'm not suicidal, just exhausted from the week").flagged
    assert screen("I'm not suicidal, probably, but I don't want to wake up tomorrow").flagged


def test_safety_pattern_file_errors_name_the_file(tmp_path):
    from unstuck.data.errors import InputError

    bad = tmp_path / "patterns.toml"
    bad.write_text("[[rule]\nid = 'x'\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        CrisisScreen(get_nlp(), bad)
