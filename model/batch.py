"""Tagging a stream of rows: in chunks, in order, optionally across worker processes.

Every entry goes through `tag_texts` (and so `Tagger.tag_many`, as with `unstuck tag`), here and on
any engine (`unstuck.model.partition`, `unstuck.model.distributed`). Nothing here prints or keeps text
beyond the chunks in flight; the caller writes each result as it comes.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Callable, Iterable, Iterator

from unstuck.data.errors import InputError
from unstuck.data.records import Row, Tagged, Tagging
from unstuck.data.taxonomy import LABEL_IDS
from unstuck.model.nlp import MAX_CHARS
from unstuck.model.tagger import EntryTooLong, Tagger

CHUNK_ROWS = 256
CHUNKS_PER_WORKER = 2  # in flight at once: enough to keep workers busy, few enough to keep memory flat
LISTED_SKIPS = 20


@dataclass
class BatchSummary:
    tagged: int = 0
    crisis: int = 0
    label_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABEL_IDS, 0))
    skipped: int = 0
    skipped_at: list[InputError] = field(default_factory=list)  # the first LISTED_SKIPS only

    def count(self, tagging: Tagging) -> None:
        self.tagged += 1
        self.crisis += tagging.crisis
        for label in tagging.labels:
            self.label_counts[label] += 1

    def skip(self, error: InputError) -> None:
        self.skipped += 1
        if len(self.skipped_at) < LISTED_SKIPS:
            self.skipped_at.append(error)


def run_batch(rows: Iterable[Row | InputError], tagger: Tagger, write: Callable[[Tagged], None], *,
              workers: int = 1, evidence: bool = False, strict: bool = False,
              on_skip: Callable[[InputError], None] = lambda error: None,
              on_progress: Callable[[int, int], None] = lambda done, offset: None) -> BatchSummary:
    """Tag every row, hand each result to `write` in input order, and count what happened.

    A bad row is passed to `on_skip` and skipped; with `strict` the first one is raised instead.
    `on_progress(entries_done, bytes_read)` is called after each row."""
    summary = BatchSummary()
    offset = 0
    # closing(): stopping early (--strict, an error) shuts a worker pool down now, not at garbage collection
    with closing(tag_rows(rows, tagger, workers, evidence)) as results:
        for result in results:
            if isinstance(result, InputError):
                if strict:
                    raise result
                summary.skip(result)
                on_skip(result)
            else:
                write(result)
                summary.count(result.tagging)
                offset = result.row.offset
            on_progress(summary.tagged, offset)
    return summary


def tag_rows(rows: Iterable[Row | InputError], tagger: Tagger, workers: int = 1, evidence: bool = False,
             chunk_rows: int = CHUNK_ROWS) -> Iterator[Tagged | InputError]:
    """Yield a `Tagged` for each row, or its InputError, in input order.

    With several workers, chunks are tagged in a process pool; a pool is only started when the input
    is larger than one chunk. Where processes start by forking (Linux), workers use the already
    loaded `tagger`; elsewhere each loads the model from `tagger.path` once."""
    chunks = _chunked(rows, chunk_rows)
    first, second = next(chunks, []), next(chunks, None)
    ahead = chain([first], [] if second is None else [second], chunks)
    if workers <= 1 or second is None or (tagger.path is None and not _FORKS):
        yield from _tag_locally(ahead, tagger, evidence)
    else:
        yield from _tag_in_pool(ahead, tagger, workers, evidence)


def tag_chunk(chunk: list[Row | InputError], tagger: Tagger, evidence: bool = False) -> list[Tagged | InputError]:
    """A `Tagged` for each row of the chunk, or its InputError (the row's own, or an entry too long), in order."""
    return list(_merge(chunk, tag_texts(_texts(chunk), tagger, evidence)))


def tag_texts(texts: list[str], tagger: Tagger, evidence: bool = False) -> list[Tagging | EntryTooLong]:
    """Tag entries in order: the one function through which every batch path tags (local chunks, the
    process pool, a Dask partition, `tag_partition`). An entry the tagger refuses comes back as its
    EntryTooLong in its place, so that one oversize entry does not stop the others."""
    fits = iter(tagger.tag_many([text for text in texts if len(text) <= MAX_CHARS], evidence=evidence))
    return [next(fits) if len(text) <= MAX_CHARS else
            EntryTooLong(f"entry is {len(text):,} characters; the limit is {MAX_CHARS:,}") for text in texts]


def _chunked(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _merge(chunk: list[Row | InputError], results: list[Tagging | EntryTooLong]) -> Iterator[Tagged | InputError]:
    found = iter(results)
    for item in chunk:
        if isinstance(item, InputError):
            yield item
        elif isinstance(result := next(found), EntryTooLong):
            yield InputError(item.path, item.line, f"{result} (split it into several entries)")
        else:
            yield Tagged(item, result)


def _texts(chunk: list[Row | InputError]) -> list[str]:
    return [item.text for item in chunk if isinstance(item, Row)]


def _tag_locally(chunks: Iterable[list], tagger: Tagger, evidence: bool) -> Iterator[Tagged | InputError]:
    for chunk in chunks:
        yield from tag_chunk(chunk, tagger, evidence)


_FORKS = multiprocessing.get_start_method() == "fork"
_worker_tagger: Tagger | None = None


def _tag_in_pool(chunks: Iterator[list], tagger: Tagger, workers: int,
                 evidence: bool) -> Iterator[Tagged | InputError]:
    global _worker_tagger
    in_flight: deque[tuple[list, Future]] = deque()
    if _FORKS:  # forked workers start with this process's memory: the tagger is loaded already
        _worker_tagger = tagger
        gc.freeze()  # keep the collector from touching (and so copying) the memory workers share with us
    path = None if tagger.path is None else str(tagger.path)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(path,))
    try:
        for chunk in chunks:
            in_flight.append((chunk, pool.submit(_tag_in_worker, _texts(chunk), evidence)))
            if len(in_flight) >= workers * CHUNKS_PER_WORKER:
                done, future = in_flight.popleft()
                yield from _merge(done, future.result())
        while in_flight:
            done, future = in_flight.popleft()
            yield from _merge(done, future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _worker_tagger = None
        gc.unfreeze()


def _start_worker(model_path: str | None) -> None:
    """Load the model once per worker, unless it came with the fork. Ctrl-C is left to the parent,
    which stops the pool cleanly; SIGTERM and SIGHUP end a worker at once, and so does its parent's
    death (even by SIGKILL, which leaves no one to stop the pool)."""
    global _worker_tagger
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):  # not the parent's handlers, inherited through fork
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    if _worker_tagger is None:
        _worker_tagger = Tagger.load(model_path)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _tag_in_worker(texts: list[str], evidence: bool) -> list[Tagging | EntryTooLong]:
    return tag_texts(texts, _worker_tagger, evidence)
