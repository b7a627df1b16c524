"""`TfidfVectorizer.transform`, the same matrix, several times faster; used for the tagger's scores
and the crisis model's. Callers check it against scikit-learn's own output (`same`) when a model is
loaded and fall back to the vectorizer when it differs."""

from __future__ import annotations

from collections import Counter

from unstuck.model.fast_paths import on


class FastTfidf:
    """`vectorizer.transform(texts)` for a fitted `TfidfVectorizer`, the same matrix, several times faster.

    Counting is the slow part of scikit-learn's transform: one dict update, or a KeyError for an n-gram
    outside the vocabulary, per n-gram (about 1,250 character n-grams per entry). Here the n-grams come
    from the vectorizer's own analyzer (`build_analyzer()`), unknown ones are skipped without an
    exception, and counts are assembled with numpy. With `analyzer="char_wb"` each word's n-grams do
    not depend on its neighbours, so a word's n-gram ids are worked out once and kept. The weighting
    is TfidfTransformer's, from the fitted vectorizer's public parameters and `idf_`. Only public
    scikit-learn API is used; callers check the result against the vectorizer's at load time."""

    LIMIT = 300_000  # distinct words kept before the cache starts over

    def __init__(self, vectorizer) -> None:
        import numpy as np

        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_ if vectorizer.use_idf else None
        self.sublinear_tf = vectorizer.sublinear_tf
        self.norm = vectorizer.norm
        self.per_word = (vectorizer.analyzer == "char_wb" and vectorizer.preprocessor is None
                         and vectorizer.strip_accents is None)
        self.empty = np.zeros(0, dtype=np.int64)
        self.ids: dict[str, object] = {}
        self.counter = None  # scikit-learn's own counting, for UNSTUCK_PLAIN=counts

    @staticmethod
    def fits(vectorizer) -> bool:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        return (type(vectorizer) is TfidfVectorizer and vectorizer.input == "content" and not vectorizer.binary
                and np.dtype(vectorizer.dtype) == np.float64 and hasattr(vectorizer, "vocabulary_"))

    def transform(self, texts: list[str]):
        return self.weigh(self.counts(texts))

    def counts(self, texts: list[str]):
        """The raw n-gram counts, one row per text (rows of texts can be summed, e.g. sentences into
        windows, before `weigh`)."""
        import numpy as np
        from scipy import sparse

        # kept: a word's n-gram ids are found once, where scikit-learn looks up every n-gram of every text
        if not on("counts"):
            return self._library_counts(texts)
        rows, columns, counts = self._count_per_word(texts) if self.per_word else self._count(texts)
        matrix = sparse.csr_matrix((counts, (rows, columns)), shape=(len(texts), len(self.vocabulary)),
                                   dtype=np.float64)
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix

    def _library_counts(self, texts: list[str]):
        import numpy as np
        from sklearn.feature_extraction.text import CountVectorizer

        if self.counter is None:
            self.counter = CountVectorizer(analyzer=self.analyze, vocabulary=self.vocabulary, dtype=np.float64)
        return self.counter.transform(texts)

    def weigh(self, matrix):
        """Counts to TF-IDF, as TfidfTransformer does (changes `matrix`)."""
        import numpy as np
        from sklearn.preprocessing import normalize

        if self.sublinear_tf:  # as TfidfTransformer.transform does
            np.log(matrix.data, matrix.data)
            matrix.data += 1.0
        if self.idf is not None:
            matrix.data *= self.idf[matrix.indices]
        return normalize(matrix, norm=self.norm, copy=False) if self.norm is not None else matrix

    def _count(self, texts: list[str]):
        import numpy as np

        vocabulary, analyze = self.vocabulary, self.analyze
        rows, columns, counts = [], [], []
        for row, text in enumerate(texts):
            found = Counter([vocabulary[g] for g in analyze(text) if g in vocabulary])
            rows += [row] * len(found)
            columns += found.keys()
            counts += found.values()
        return (np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64),
                np.array(counts, dtype=np.float64))

    def _word_ids(self, word: str):
        import numpy as np

        vocabulary = self.vocabulary
        ids = [vocabulary[g] for g in self.analyze(word) if g in vocabulary]
        return np.array(ids, dtype=np.int64) if ids else self.empty

    def _count_per_word(self, texts: list[str]):
        """char_wb splits on whitespace and pads each word on its own, so a text's n-grams are its
        words' n-grams put together (lower-casing neither makes nor removes whitespace)."""
        import numpy as np

        known = self.ids
        if len(known) > self.LIMIT:
            known.clear()
        columns, rows, times = [], [], []  # per distinct word of each text: its n-gram ids, text, count
        for row, text in enumerate(texts):
            for word, count in Counter(text.split()).items():
                ids = known.get(word)
                if ids is None:
                    ids = known[word] = self._word_ids(word)
                columns.append(ids)
                rows.append(row)
                times.append(count)
        if not columns:
            return self.empty, self.empty, np.zeros(0, dtype=np.float64)
        lengths = np.fromiter(map(len, columns), dtype=np.int64, count=len(columns))
        return (np.repeat(np.array(rows, dtype=np.int64), lengths), np.concatenate(columns),
                np.repeat(np.array(times, dtype=np.float64), lengths))


def same(a, b) -> bool:
    """Exactly equal (not merely close) matrices or arrays."""
    import numpy as np
    from scipy import sparse

    if sparse.issparse(a) or sparse.issparse(b):
        if not (sparse.issparse(a) and sparse.issparse(b)) or a.shape != b.shape:
            return False
        return (a != b).nnz == 0
    return np.array_equal(np.asarray(a), np.asarray(b))


def fast_blocks(vectorizers: list, check_texts: list[str]) -> list | None:
    """Each vectorizer as a `FastTfidf` where one fits (else the vectorizer itself); None when none
    fits, or when a `FastTfidf` gives `check_texts` a matrix that differs from its vectorizer's."""
    blocks = [FastTfidf(v) if FastTfidf.fits(v) else v for v in vectorizers]
    if not any(isinstance(b, FastTfidf) for b in blocks):
        return None
    for block, vectorizer in zip(blocks, vectorizers):
        if isinstance(block, FastTfidf) and not same(block.transform(check_texts), vectorizer.transform(check_texts)):
            return None
    return blocks


def membership(sentence_counts: list[int], spans: list[tuple[int, int, int]]):
    """A 0/1 matrix that sums sentences into entries or windows: one row per (entry, first, last)
    span, marking that entry's sentences first..last (inclusive) among all entries' sentences laid
    end to end. `membership(...) @ block.counts(sentences)` counts every span in one pass."""
    import numpy as np
    from scipy import sparse

    starts = np.cumsum([0] + list(sentence_counts))
    columns = [column for entry, a, b in spans for column in range(starts[entry] + a, starts[entry] + b + 1)]
    rows = np.repeat(np.arange(len(spans)), [b - a + 1 for _, a, b in spans])
    return sparse.csr_matrix((np.ones(len(columns)), (rows, np.array(columns, dtype=np.int64))),
                             shape=(len(spans), int(starts[-1])))


def stack(matrices: list):
    """The blocks' features side by side, as FeatureUnion puts them."""
    import numpy as np
    from scipy import sparse

    return sparse.hstack(matrices).tocsr() if any(sparse.issparse(m) for m in matrices) else np.hstack(matrices)
