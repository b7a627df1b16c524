"""The `safety` concern: someone hurting the writer now leads with abuse lines; past abuse raises
neither flag; abuse of a child, an elder or a dependent stays `crisis`."""

import json

import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model.nlp import get_nlp
from unstuck.model.safety import default_screen

runner = CliRunner()


def screen(text: str):
    return default_screen().screen(get_nlp()(text))


@pytest.mark.parametrize("text", [
    "My husband hits me when he drinks and I'm scared to go home.",
    "he choked me last night and said he'd kill me if I ever left",
    "My son takes my pension every month and won't let me see my friends.",
    "My carer slaps me when I'm slow getting dressed.",
    "I'm in an abusive relationship and I don't know how to get out.",
    "He checks my phone every night and gets angry if I've texted anyone.",
    "my boyfriend threatened to kill me",
    "My ex keeps turning up at my work and threatened to kill me.",
    "My mother-in-law slapped me across the face again last night.",  # a hyphenated word in a token pattern
    # told by what was done rather than by a verb with "me"
    "He threw the remote at me when I changed the channel, and the corner caught my eyebrow.",
    "She pulled my hair and dragged me down the hall because the dishes weren't done.",
    "My husband forces himself on me after the pub and says it's his right.",
    "My nephew has my bank card and there's never anything left by the tenth.",
    "He reads my messages every night and I'm not allowed to see Priya anymore.",
])
def test_safety_concern_someone_hurting_the_writer_now(text):
    result = screen(text)
    assert result.safety and not result.flagged, (result.matches, result.safety_matches)
    assert all(text[m.start:m.end] == m.text for m in result.safety_matches)


@pytest.mark.parametrize("text", [
    "My dad used to hit me when I was a kid. Therapy is helping me work through it.",
    "My ex was abusive, but I left him three years ago and I'm safe now.",
    "I was abused as a child and I want to talk about it in therapy.",
    "she beat me at chess again lol",
    "It hit me when I saw the photos how much I'd changed.",
    "my boss will kill me if I'm late",
])
def test_safety_concern_past_abuse_and_figurative_raise_neither(text):
    result = screen(text)
    assert not result.safety and not result.flagged, (result.matches, result.safety_matches)


@pytest.mark.parametrize("text", [
    "my stepdad beats my little brother with a belt",
    "The carer shoves my gran around and her purse is always empty now.",
    "my partner slaps the kids when i'm at work",
])
def test_safety_concern_abuse_of_a_dependent_stays_crisis(text):
    assert screen(text).flagged


@pytest.mark.parametrize("text", [
    "My partner keeps my car keys when I've had a drink, which is what we agreed.",
    "He used to go through my phone and read my texts. We split up in 2019 and I've rebuilt my life since.",
    "Mum's dementia is worse; she hid the car keys in the freezer again.",
    "threw the ball at me so hard in dodgeball that my glasses flew off lol",
])
def test_safety_concern_keeping_safe_the_past_and_play_raise_no_safety(text):
    assert not screen(text).safety


def test_safety_concern_a_child_writing_about_sexual_abuse_raises_crisis_too():
    result = screen("my uncle comes into my room at night when he stays. im 13 and i dont know who to tell")
    assert result.safety and result.flagged
    assert screen("my husband comes into my room at night when I've said no. I'm 43 and I don't know who to tell").safety
    # someone else's child is not the writer: a crisis about the child, not the writer's safety
    other = screen("He comes into the bedroom at night where my nine year old daughter sleeps and I've seen him touching her.")
    assert other.flagged


def test_safety_concern_abuse_beside_distress_raises_both_flags():
    # found by a reviewer: closing every abuse sentence to the classifier lost this
    result = screen("He held my wrists down until I stopped crying. I'm so tired of carrying on like this. "
                    "I can't do it much longer.")
    assert result.safety and result.flagged


def test_safety_concern_a_sentence_at_risk_beside_the_writers_abuse_still_raises_crisis():
    # the classifier reads the sentences that are not about the abuse (before, a safety match switched it off)
    from unstuck.model.safety import CrisisScreen

    class FixedModel:  # scores every window 0.995: above both thresholds
        threshold, window_threshold = 0.65, 0.99

        def limit(self, window, sentences, words=None):
            return self.threshold if window == (0, sentences - 1) else self.window_threshold

        def window_probabilities(self, sentences, windows):
            return [[0.995] * len(w) for w in windows]

    text = "He shoved me against the fridge again tonight. Work was long and the bus was late."
    result = CrisisScreen(get_nlp(), model=FixedModel()).screen(get_nlp()(text))
    assert result.safety and result.flagged
    assert result.matches[0].text == "Work was long and the bus was late."


def test_safety_concern_leads_with_abuse_lines_in_view_and_json():
    text = "My husband hits me when he drinks and I'm scared to go home."
    view = runner.invoke(app, ["tag", "--region", "uk", text]).stdout
    assert "hurting you" in view.splitlines()[0]
    assert view.index("0808 2000 247") < view.index("999")
    assert "116 123" not in view, "the suicide line is not what this entry needs first"
    out = json.loads(runner.invoke(app, ["tag", "--json", "--region", "uk", text]).stdout)
    assert out["safety"] is True and out["crisis"] is False
    assert out["safety_matches"] and out["resources"][0]["kind"] == "abuse"
    ca = json.loads(runner.invoke(app, ["tag", "--json", "--region", "ca", text]).stdout)
    assert [r["kind"] for r in ca["resources"]] == ["emergency", "crisis"], "no abuse line listed: 911 and 988"
