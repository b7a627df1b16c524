"""The crisis screen's second net: a small text classifier that can only add a flag to the rules'.

Built by `python -m unstuck.training.crisis` into data/crisis/ (model.pickle.gz, model.json). Loading
checks the file's sha256 and the scikit-learn version it was pickled with; when either does not
match, the model is rebuilt in memory from the shipped data (deterministic, a few seconds) rather
than leaving the screen without it. Nothing is written and nothing is printed.
"""

from __future__ import annotations

import gzip
import json
import pickle
from functools import lru_cache
from pathlib import Path

from unstuck.data import DATA_DIR

CRISIS_DIR = DATA_DIR / "crisis"
RULE_ID, KIND = "crisis_model", "model"


# Texts on which the fast scoring path must give exactly the pipeline's numbers when loaded.
CHECK_TEXTS = ["I can't do this anymore.  Wrote letters to everyone", "café Zoë — naïve ☕️ 😬 İstanbul ǅ ﬁne",
               "", "a", "THE BRIDGE on my walk home\n\nkeeps calling", "kms lol jk. or not"]


class CrisisModel:
    def __init__(self, pipeline, threshold: float) -> None:
        self.pipeline, self.threshold = pipeline, float(threshold)
        self._fast = _fast_blocks(pipeline)

    @classmethod
    def load(cls, directory: Path = CRISIS_DIR) -> "CrisisModel":
        from unstuck.model.artifact import _prefix, _sha256, library_versions

        directory = Path(directory)
        try:
            meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
            model_path = directory / "model.pickle.gz"
            ours, theirs = library_versions(), meta.get("library_versions", {})
            usable = (_sha256(model_path) == meta.get("sha256")
                      and _prefix(ours["scikit-learn"], 2) == _prefix(theirs.get("scikit-learn", ""), 2)
                      and _prefix(ours["numpy"], 1) == _prefix(theirs.get("numpy", ""), 1))
            if usable:
                with gzip.open(model_path, "rb") as handle:
                    return cls(pickle.load(handle), meta["threshold"])
        except Exception:  # missing, damaged or unreadable: rebuild below
            pass
        from unstuck.training.crisis import train

        pipeline, meta = train()
        return cls(pipeline, meta["threshold"])

    def probabilities(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        if self._fast is None:
            return [float(p) for p in self.pipeline.predict_proba(texts)[:, 1]]
        blocks, classifier = self._fast
        return [float(p) for p in classifier.predict_proba(_stack([b.transform(texts) for b in blocks]))[:, 1]]


def _fast_blocks(pipeline):
    """(FastTfidf blocks, classifier) for a TF-IDF union -> classifier pipeline, if it scores
    CHECK_TEXTS exactly as the pipeline does; else None (the pipeline is used as it is)."""
    try:
        from sklearn.pipeline import FeatureUnion

        from unstuck.model.fast_tfidf import FastTfidf, same

        (_, union), (_, classifier) = pipeline.steps
        if type(union) is not FeatureUnion or union.transformer_weights:
            return None
        vectorizers = [t for _, t in union.transformer_list]
        if not all(FastTfidf.fits(v) for v in vectorizers):
            return None
        blocks = [FastTfidf(v) for v in vectorizers]
        if not all(same(b.transform(CHECK_TEXTS), v.transform(CHECK_TEXTS)) for b, v in zip(blocks, vectorizers)):
            return None
        if not same(classifier.predict_proba(_stack([b.transform(CHECK_TEXTS) for b in blocks])),
                    pipeline.predict_proba(CHECK_TEXTS)):
            return None
        return blocks, classifier
    except Exception:  # another scikit-learn, another pipeline: score with the pipeline as it is
        return None


def _stack(blocks):
    from scipy import sparse

    return sparse.hstack(blocks).tocsr()


@lru_cache(maxsize=1)
def default_model() -> CrisisModel:
    return CrisisModel.load()
