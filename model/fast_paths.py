"""Which fast paths are on. `UNSTUCK_PLAIN` turns them off, read here and nowhere else: `all`, or
names from `PATHS` separated by commas. Results are the same either way, only slower; tests and
benchmarks use it to compare the two (BENCHMARKS.md, "Fast paths, each off")."""

from __future__ import annotations

import os

# counts: FastTfidf's n-gram counting (model/fast_tfidf.py), else scikit-learn's CountVectorizer;
# windows: the tagger's one-pass window scoring (model/tagger.py), else each window scored as a text;
# features: word features from Doc.to_array (model/nlp.py), else token by token.
PATHS = ("counts", "windows", "features")


def on(path: str) -> bool:
    """Whether the fast path `path` (one of `PATHS`) is on; read at each call, so a test can set it."""
    plain = {p.strip() for p in os.environ.get("UNSTUCK_PLAIN", "").split(",")}
    return path not in plain and "all" not in plain
