import pytest
from typer.testing import CliRunner

from unstuck.cli.app import app
from unstuck.model.nlp import get_nlp, is_negation_cue
from unstuck.model.tagger import Tagger

runner = CliRunner()

TWO_BARRIERS = ("I've cancelled my last four sessions in a row, rescheduled again today. "
                "Then I had six beers before therapy and was hungover the whole time.")


@pytest.fixture(scope="module")
def tagger():
    return Tagger.load()


def test_evidence_comes_from_the_sentence_that_earned_each_tag(tagger):
    tagging = tagger.tag(TWO_BARRIERS)
    boundary = TWO_BARRIERS.index("Then")
    assert {"inconsistency", "substance_use"} <= set(tagging.labels)
    assert tagging.evidence["inconsistency"] and all(e.end <= boundary for e in tagging.evidence["inconsistency"])
    assert tagging.evidence["substance_use"] and all(e.start >= boundary for e in tagging.evidence["substance_use"])


@pytest.mark.parametrize("prefix", ["", "😬🙈 ", "Zoë — naïve café ☕️ — ", "\u05e9\u05dc\u05d5\u05dd "])
def test_evidence_offsets_slice_the_original_text(tagger, prefix):
    text = prefix + TWO_BARRIERS
    tagging = tagger.tag(text)
    spans = [e for found in tagging.evidence.values() for e in found]
    assert spans
    for e in spans:
        assert text[e.start:e.end] == e.text


@pytest.mark.parametrize("text", [
    "I'm not scared of opening up anymore. I've cancelled three sessions in a row though.",
    "I never drink before sessions. But I keep missing them because of work.",
    "She doesn't judge me and I don't feel afraid with her. We just can't find a time that works.",
])
def test_evidence_never_points_at_a_negated_phrase(tagger, text):
    doc = get_nlp()(text)
    for found in tagger.tag(text).evidence.values():
        for e in found:
            span = doc.char_span(e.start, e.end)
            assert not any(t._.negated or is_negation_cue(t) for t in span), e.text


def test_evidence_negated_fear_is_not_fear(tagger):
    tagging = tagger.tag("I'm not scared to open up to her anymore, honestly sessions feel good.")
    assert "fear" not in tagging.labels


def test_evidence_explain_shows_score_threshold_and_words():
    result = runner.invoke(app, ["explain", "--label", "inconsistency", TWO_BARRIERS])
    assert result.exit_code == 0
    assert result.stdout.startswith("inconsistency: score ")
    assert "threshold" in result.stdout and "words for:" in result.stdout


def test_evidence_explain_rejects_an_unknown_label():
    result = runner.invoke(app, ["explain", "--label", "sadness", "text"])
    assert result.exit_code == 2
    assert "unknown label 'sadness'" in result.stderr


@pytest.mark.parametrize("text", [
    "What if I tell her everything and she thinks I'm making it up? I do want to go back, I think.",
    "I've been meaning to call the clinic since February. I do, I just never get round to it.",
    "I keep skipping the homework she gives me. I don't know why I do that, I just do.",
    "I'm scared to open up to her. What if I say it and it all falls apart, what if I do?",
])
def test_evidence_quotes_telling_words_for_every_tag(tagger, text):
    """Each tag given has evidence, and none of it is only little words ("I", "what if I")."""
    tagging = tagger.tag(text)
    assert tagging.labels
    for label in tagging.labels:
        assert tagging.evidence.get(label), label
        for e in tagging.evidence[label]:
            assert not all(t.is_stop or t.is_punct for t in get_nlp()(e.text)), (label, e.text)
