import pytest

from unstuck.model.nlp import doc_features, get_nlp


@pytest.mark.parametrize(
    "text, present, absent",
    [
        ("I'm not scared anymore", ["NOT_scare"], ["scare"]),
        ("I'm scared", ["scare"], ["NOT_scare"]),
        ("I didnt go, it was fine", ["NOT_go"], ["go"]),
        ("I'm not scared, but I keep cancelling", ["NOT_scare", "cancel"], ["NOT_cancel"]),
        ("never told her about the drinking", ["NOT_tell"], ["tell"]),
    ],
)
def test_nlp_negation_marks_only_the_scope(text, present, absent):
    features = doc_features(get_nlp()(text)).split()
    for feature in present:
        assert feature in features
    for feature in absent:
        assert feature not in features


def test_nlp_features_use_lemmas_and_hide_numbers():
    features = doc_features(get_nlp()("Cancelled 3 sessions")).split()
    assert features == ["cancel", "<num>", "session"]
