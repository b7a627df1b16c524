"""Inference: the spaCy preprocessing, the scikit-learn pipeline, the safety screen and `Tagger`.

Nothing here trains or prints, and the only files it reads or writes are model directories (and
the shipped model data: word vectors, crisis patterns); every other file is `unstuck.data`'s,
training `unstuck.training`'s, printing `unstuck.cli`'s.
"""

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_DIR = MODEL_DIR / "default"
