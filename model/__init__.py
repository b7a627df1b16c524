"""Inference: the spaCy preprocessing, the scikit-learn pipeline, the safety screen and `Tagger`.

Nothing here trains or prints; training lives in `unstuck.training`, printing in `unstuck.cli`.
"""

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_DIR = MODEL_DIR / "default"
