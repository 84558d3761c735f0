"""DOCX → PDF for many letters at once: one LibreOffice per worker, two chunks in flight per
office, results as chunks finish.  What happens to one chunk (merged conversion, split, the
checks, the fallback, never a silent drop) is ``chunk``'s contract.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from pathlib import Path

from ..heap import keep_one_arena
from .chunk import ChunkRun
from .jobs import ConversionError, ConversionJob, ConversionResult
from .office import Office, OfficePool, find_soffice, open_office, owned_prefix
from .splice import StandIns

__all__ = ["PdfConverter", "convert_one"]


def convert_one(docx: Path, pdf: Path, timeout_s: float = 120) -> int:
    """Convert one file; returns its page count or raises ConversionError."""
    job = ConversionJob(key=str(docx), docx=Path(docx), pdf=Path(pdf))
    (result,) = PdfConverter(workers=1, timeout_s=timeout_s).convert([job])
    if result.error is not None:
        raise ConversionError(result.error)
    return result.pages


class PdfConverter:
    """Converts many DOCX files with one LibreOffice worker per core (``workers``), each on a
    LibreOffice profile of its own.  Jobs are cut into chunks of at most ``chunk_size``
    letters; ``timeout_s`` bounds every LibreOffice call (a merged chunk, a batch of files or
    one file), after which the process group is killed and the work retried as ``chunk``'s
    docstring describes.  ``splice``: letters that differ only on page 1 are converted only
    there (``splice``'s docstring).

    Used as a context manager (or with ``keep_warm``, then ``close``), the converter keeps its
    LibreOffice processes running between calls: starting one takes about 4 s, and a build
    converts three times (appendices, letters, address labels)."""

    # With LibreOffice kept running a call costs little: chunks of 25 reference letters convert
    # as fast as 50 or 100 (measured against the machine's speed at the time) and keep the
    # whole process tree under 500 MB (459 MB PSS, against 521 MB for 50 and 573 MB for 100).
    DEFAULT_CHUNK_SIZE = 25

    def __init__(
        self,
        workers: int | None = None,
        timeout_s: float = 120,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        soffice: str | None = None,
        splice: bool = True,
        keep_warm: bool = False,
    ) -> None:
        if chunk_size < 1 or timeout_s <= 0 or (workers is not None and workers < 1):
            raise ValueError("workers, chunk_size and timeout_s must be positive")
        self.workers = workers or os.cpu_count() or 1
        self.timeout_s = timeout_s
        self.chunk_size = chunk_size
        self.soffice = soffice or find_soffice()
        # Kept for the converter's life: a long-lived one (``serve``, ``run``) splices the letters
        # of a later build on the stand-ins of an earlier one.
        self._stand_ins = StandIns() if splice else None
        # The chunk threads' parsed letters and PDFs, freed in arenas of their own, left this process
        # larger as N grew: over 3,000 letters 171 MB PSS at the end, 135 with one arena.
        keep_one_arena()
        self.keep_warm = keep_warm
        self._idle: list[Office] = []  # warm offices no call is using
        self._idle_lock = threading.Lock()

    def __enter__(self) -> PdfConverter:
        self.keep_warm = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the warm offices; a later call starts new ones."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for office in idle:
            office.__exit__(None, None, None)

    def _lend_offices(self, count: int, stack: ExitStack) -> OfficePool:
        """``count`` offices for one call: warm ones first, new ones for the rest; given back (or
        stopped, unless warm) when ``stack`` closes."""
        pool = OfficePool()
        with self._idle_lock:
            lent, self._idle = self._idle[:count], self._idle[count:]
        while len(lent) < count:
            lent.append(open_office(self.soffice, self.timeout_s))
        stack.callback(self._take_back, lent)
        for office in lent:
            pool.put(office)
        return pool

    def _take_back(self, offices: list[Office]) -> None:
        if not self.keep_warm:
            for office in offices:
                office.__exit__(None, None, None)
            return
        with self._idle_lock:
            self._idle.extend(offices)

    def convert(
        self,
        jobs: Sequence[ConversionJob],
        progress: Callable[[int], None] | None = None,
        *,
        copies: bool = True,
    ) -> list[ConversionResult]:
        """One result per job, in order; a job that fails has ``error`` set, never a gap.
        ``progress`` gets the number of jobs finished so far, on the caller's thread; ``copies``
        as for ``convert_iter``."""
        results: list[ConversionResult | None] = [None] * len(jobs)
        for done, (index, result) in enumerate(self.convert_iter(jobs, copies=copies), start=1):
            results[index] = result
            if progress is not None:
                progress(done)
        assert all(r is not None for r in results), "a job has no result"
        return results  # type: ignore[return-value]

    def convert_iter(self, jobs: Sequence[ConversionJob], *, copies: bool = True) -> Iterator[tuple[int, ConversionResult]]:
        """(index of the job, its result) for every job, chunk by chunk as chunks finish, so
        the caller can use the first letters while LibreOffice converts the next ones.
        ``copies=False``: documents that are not copies of one letter (appendices, labels) are
        not spliced, and none becomes a stand-in (made one at a time per template, they would
        wait for each other)."""
        stand_ins = self._stand_ins if copies else None
        chunks = self._chunks(len(jobs))
        write_lock = threading.Lock()
        with ExitStack() as stack:
            offices = self._lend_offices(min(self.workers, len(chunks)), stack)
            # Two chunks per office: while one is in LibreOffice, the other is written, merged
            # or split, so that LibreOffice never waits for Python.
            pool = ThreadPoolExecutor(max_workers=max(1, min(2 * self.workers, len(chunks))))
            # On an error, Ctrl-C or a caller that stops early, finish only the chunks running.
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            running = {
                pool.submit(self._convert_chunk, offices, write_lock, stand_ins, [(i, jobs[i]) for i in chunk])
                for chunk in chunks
            }
            for future in as_completed(running):
                # A finished future keeps its results (page texts included): let each go once
                # yielded, or memory grows with the number of letters.
                running.discard(future)
                yield from future.result()

    def _chunks(self, count: int) -> list[range]:
        # Spread small runs over all workers instead of filling one chunk.
        size = max(1, min(self.chunk_size, math.ceil(count / self.workers)))
        return [range(start, min(start + size, count)) for start in range(0, count, size)]

    def _convert_chunk(
        self,
        offices: OfficePool,
        write_lock: threading.Lock,
        stand_ins: StandIns | None,
        items: list[tuple[int, ConversionJob]],
    ) -> list[tuple[int, ConversionResult]]:
        with tempfile.TemporaryDirectory(prefix=owned_prefix("outreach-chunk-")) as tmp:
            return ChunkRun(offices, Path(tmp), self.timeout_s, write_lock, stand_ins).run(items)
