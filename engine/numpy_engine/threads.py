"""Work split across cores on a small thread pool (NumPy ufuncs and BLAS release the GIL).

- :func:`over_rows`: element-wise passes over blocks of rows of a large array (BLAS already
  threads the big matmuls; the passes between them would otherwise run on one core).
- :func:`over_batch`: a recurrence split by batch rows, each slice stepping through time on its
  own thread with a one-thread BLAS. A step's matmul, (B, H) x (H, 4H), is too small for BLAS to
  share well (its threads meet at a barrier on every call, and lose most when the machine is
  busy), and the gate arithmetic between the matmuls is single-threaded; independent slices
  need no meeting at all until the window's end.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")

MIN_PARALLEL = 1 << 20  # elements below which threads cost more than they save

MIN_SLICE_ROWS = 16  # batch rows per thread below which :func:`over_batch` keeps one thread

_pool: ThreadPoolExecutor | None = None
_blas: ThreadpoolController | None = None


def num_threads() -> int:
    """Cores this process may run on (at most 8)."""
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # not on Linux
        return max(1, min(os.cpu_count() or 1, 8))


def over_rows(n_rows: int, size: int, work: Callable[[int, int], None], chunk: int) -> None:
    """Call ``work(lo, hi)`` on the blocks ``[j * chunk, (j + 1) * chunk)`` of ``n_rows`` rows
    (the last one ragged), a contiguous run of blocks per thread; ``size`` (elements touched)
    below :data:`MIN_PARALLEL` keeps one thread."""
    blocks = (n_rows + chunk - 1) // chunk
    n = min(num_threads() if size >= MIN_PARALLEL else 1, max(blocks, 1))

    def share(k: int) -> None:
        for j in range(blocks * k // n, blocks * (k + 1) // n):
            work(j * chunk, min((j + 1) * chunk, n_rows))

    if n == 1:
        share(0)
        return
    list(_get_pool().map(share, range(n)))  # re-raises a worker's exception


def over_batch(B: int, work: Callable[[int, int], None]) -> None:
    """Call ``work(lo, hi)`` once per thread on contiguous slices of B batch rows, BLAS limited
    to one thread meanwhile; one call ``work(0, B)`` when the slices would be too thin."""
    global _blas
    n = min(num_threads(), B // MIN_SLICE_ROWS)
    if n < 2:
        work(0, B)
        return
    if _blas is None:
        _blas = ThreadpoolController()
    with _blas.limit(limits=1, user_api="blas"):
        list(_get_pool().map(lambda k: work(B * k // n, B * (k + 1) // n), range(n)))


def over_items(items: Sequence[T], work: Callable[[T], None], size: int) -> None:
    """Call ``work(item)`` for every item, on the pool's threads when ``size`` (elements
    touched in all) reaches :data:`MIN_PARALLEL`; the threads take items as they free up."""
    if size < MIN_PARALLEL or num_threads() == 1 or len(items) < 2:
        for item in items:
            work(item)
        return
    list(_get_pool().map(work, items))


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=num_threads(), thread_name_prefix="numpy-engine")
    return _pool
