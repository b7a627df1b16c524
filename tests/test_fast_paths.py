"""The fast paths give exactly what the plain code gives: the same features, scores and crisis matches,
so speed never changes a tag or a crisis flag."""

from __future__ import annotations

import json

from unstuck.data import DATA_DIR

CASES = DATA_DIR / "crisis" / "suite.jsonl"


def _sample_texts(n: int = 400) -> list[str]:
    from unstuck.data.examples import load_seed

    texts = [e.text for e in load_seed()][:n]
    return texts + ["", " ", "Zoë — naïve café ☕️ — didn’t go", "ǅ İ ﬁ Cancelled CANCELLED 3", "\n\nnot\n x",
                    "I'm not scared, but I keep cancelling. Never again! no", "nothing nobody n't nt cannot"]


def test_fast_features_equal_the_plain_token_by_token_ones():
    from unstuck.model.nlp import SENTENCE_BREAK, doc_features, get_nlp, token_feature

    for doc in get_nlp().pipe(_sample_texts()):
        parts = [" ".join(f for f in map(token_feature, sentence) if f) for sentence in doc.sents]
        assert doc_features(doc) == f" {SENTENCE_BREAK} ".join(p for p in parts if p)


def test_fast_scores_equal_the_pipelines_exactly():
    import numpy as np

    from unstuck.model.features import windows
    from unstuck.model.nlp import doc_features
    from unstuck.model.tagger import Tagger

    tagger = Tagger.load()
    assert tagger._fast is not None, "the shipped model should take the fast scoring path"
    docs = list(tagger.nlp.pipe(_sample_texts()))
    features = [doc_features(doc) for doc in docs]  # the entries, and the windows scored beside them
    features += [window for text in features for window in windows(text, 2)]
    assert np.array_equal(tagger._score_features(features), tagger.pipeline[1:].predict_proba(features))


def test_crisis_screen_shortcuts_find_what_running_every_matcher_everywhere_finds():
    """The screen skips entries lacking a word some rule needs and runs each token pattern only near
    its rarest word; neither may lose a match that running every matcher on the whole entry finds."""
    from unstuck.model.nlp import get_nlp
    from unstuck.model.safety import _spans, default_screen

    nlp, screen = get_nlp(), default_screen()
    cases = [json.loads(line)["text"] for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = cases + [t.upper() for t in cases[:20]] + _sample_texts(60)  # every matcher everywhere is slow
    section = screen.matchers["rule"]
    checked = 0
    for doc in nlp.pipe(texts):
        words = screen.folder.fold(doc)
        shadow = words.shadow()
        phrases = {(start, end, label) for m in (section.lower, section.lemma) for label, start, end in m(shadow)}
        matchers = section.patterns  # on a Span, these give offsets within the span
        everywhere = phrases | {(start, end, label) for m in matchers for label, start, end in m(shadow)}
        # what a pattern may span: one sentence boundary ("make him pay. physically.")
        bounds = words.bounds
        pairs = [(bounds[k][0], bounds[min(k + 1, len(bounds) - 1)][1]) for k in range(len(bounds))]
        near = phrases | {(a + start, a + end, label) for a, b in pairs for m in matchers for label, start, end in m(shadow[a:b])}
        shortcut = {(s.start, s.end, s.label) for s in _spans(shadow, words, section)}
        assert near <= shortcut <= everywhere, doc.text[:120]
        assert section.could_match(words.everything) or not everywhere, doc.text[:120]
        checked += bool(near)
    assert checked >= 150, "the texts should include many that some rule matches"


def test_crisis_model_fast_scores_equal_the_pipelines_exactly():
    from unstuck.model.crisis_model import CrisisModel

    model = CrisisModel.load()
    assert model._fast is not None, "the shipped crisis model should take the fast scoring path"
    texts = _sample_texts()
    assert model.probabilities(texts) == [float(p) for p in model.pipeline.predict_proba(texts)[:, 1]]


def test_fast_paths_one_pass_windows_equal_scoring_each_window_exactly():
    import json

    import numpy as np

    from unstuck.data import SEED_DIR
    from unstuck.model.features import windowed_proba
    from unstuck.model.nlp import doc_features
    from unstuck.model.tagger import Tagger

    tagger = Tagger.load()
    assert tagger._fast is not None and tagger._fast.windows_exact
    texts = [json.loads(line)["text"] for line in (SEED_DIR / "ramble.jsonl").read_text().splitlines()[:60]]
    features = [doc_features(doc) for doc in tagger.nlp.pipe(texts + _sample_texts())]
    for size in (1, 2, 3):
        assert np.array_equal(tagger._fast.windowed_proba(features, size, 0.8),
                              windowed_proba(tagger._score_features, features, size, 0.8))


def test_fast_paths_off_tag_a_batch_exactly_as_on(tmp_path):
    """UNSTUCK_PLAIN=all runs the library code each fast path stands in for: the same output, byte for
    byte, evidence included, on short entries and long ones of many sentences."""
    import os
    import subprocess
    import sys

    from unstuck.data import SEED_DIR

    rambles = [json.loads(line)["text"] for line in (SEED_DIR / "ramble.jsonl").read_text().splitlines()[:20]]
    source = tmp_path / "entries.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in _sample_texts(100) + rambles if t.strip()))
    outputs = []
    for plain in ("", "all"):
        out = tmp_path / f"tagged-{plain or 'fast'}.jsonl"
        env = {**os.environ, "UNSTUCK_HOME": str(tmp_path / "home"), "UNSTUCK_PLAIN": plain}
        done = subprocess.run([sys.executable, "-c", "from unstuck.cli.app import main; main()", "batch",
                               str(source), "-o", str(out), "--evidence"],
                              capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-500:]
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
