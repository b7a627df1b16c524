"""Static word vectors: reading the shipped table and putting it into a spaCy pipeline.

Owns the run-time side of `data/vectors/` (words.txt + vectors.npy, built by
`training/build_vectors.py`; provenance in `data/vectors/SOURCE.md`): loading the table, filling
`nlp.vocab.vectors`, and looking a token's vector up by its lower-case form. Imports only numpy and
spaCy: no torch, no model2vec.
"""

from __future__ import annotations

from pathlib import Path

import numpy
from spacy.language import Language
from spacy.tokens import Token
from spacy.vectors import Vectors

from unstuck.data import DATA_DIR

VECTORS_DIR = DATA_DIR / "vectors"
WORDS_FILE = "words.txt"
VECTORS_FILE = "vectors.npy"
VECTORS_NAME = "unstuck_minilm_static"


def load_table(directory: Path | str = VECTORS_DIR) -> tuple[list[str], numpy.ndarray]:
    """The words and their vectors (float32, one row per word, in the order of words.txt)."""
    directory = Path(directory)
    words_path, vectors_path = directory / WORDS_FILE, directory / VECTORS_FILE
    missing = [p.name for p in (words_path, vectors_path) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"word-vector table incomplete in {directory}: missing {', '.join(missing)}. "
            "Build it with `python training/build_vectors.py --out data/vectors`."
        )
    words = words_path.read_text(encoding="utf-8").splitlines()
    table = numpy.load(vectors_path, allow_pickle=False).astype(numpy.float32)
    if table.ndim != 2 or table.shape[0] != len(words):
        raise ValueError(
            f"{vectors_path} has shape {table.shape} but {words_path} has {len(words)} words"
        )
    return words, table


def add_vectors(nlp: Language, directory: Path | str = VECTORS_DIR) -> None:
    """Give `nlp` the word-vector table, replacing any vectors it had.

    Keys are the words' string hashes. The table is keyed on the LOWER attribute, so `token.vector`
    and `token.has_vector` work for "Scared" as for "scared".
    """
    words, table = load_table(directory)
    strings = nlp.vocab.strings
    keys = [strings.add(word) for word in words]
    nlp.vocab.vectors = Vectors(
        strings=strings, data=table, keys=keys, name=VECTORS_NAME, attr="LOWER"
    )


def word_vector(nlp: Language, token: Token | str) -> numpy.ndarray | None:
    """The vector of a token's (or a word's) lower-case form, or None when the table lacks it."""
    key = nlp.vocab.strings[token.lower()] if isinstance(token, str) else token.lower
    vectors = nlp.vocab.vectors
    if key not in vectors:
        return None
    return numpy.array(vectors[key], dtype=numpy.float32)
