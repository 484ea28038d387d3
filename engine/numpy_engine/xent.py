"""Fused softmax cross-entropy over a logits buffer, in place, with rows split across threads.

For a row of logits z (V,), target y and weight w (the loss mask, 1 without one)::

    m    = max_j z_j                      (the shift keeps exp from overflowing)
    s    = sum_j exp(z_j - m)
    nll  = log s - (z_y - m)              = -log softmax(z)_y
    dz_j = scale * w * (exp(z_j - m) / s - [j == y])       for a loss  scale * sum w * nll

The forward leaves exp(z - m) in the buffer and the backward turns it into dz in one pass, so
the (N, V) logits are never copied. NumPy ufuncs release the GIL, so blocks of rows run on all
cores (these passes are the largest element-wise work of a training step).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

CHUNK_ROWS = 128  # rows per inner block: a few MB, so the passes over a block stay in cache
MIN_PARALLEL = 1 << 20  # elements below which threads cost more than they save

_pool: ThreadPoolExecutor | None = None


def _threads() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # not on Linux
        return max(1, min(os.cpu_count() or 1, 8))


def _over_rows(Z: np.ndarray, work: Callable[[int, int], None]) -> None:
    """Call ``work(lo, hi)`` on blocks of rows of Z, one contiguous share per thread."""
    global _pool
    N = Z.shape[0]
    n = _threads() if Z.size >= MIN_PARALLEL else 1

    def share(k: int) -> None:
        lo, hi = N * k // n, N * (k + 1) // n
        for a in range(lo, hi, CHUNK_ROWS):
            work(a, min(a + CHUNK_ROWS, hi))

    if n == 1:
        share(0)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="xent")
    list(_pool.map(share, range(n)))  # re-raises a worker's exception


def xent_forward(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row -log softmax(Z)[y] (float64) and the sums s; Z becomes exp(Z - max)."""
    N = Z.shape[0]
    nll = np.empty(N, np.float64)
    sums = np.empty(N, Z.dtype)

    def work(a: int, b: int) -> None:
        z = Z[a:b]  # (rows, V)
        m = z.max(axis=1)
        z -= m[:, None]
        z_y = z[np.arange(b - a), y[a:b]].astype(np.float64)
        np.exp(z, out=z)
        sums[a:b] = z.sum(axis=1)
        nll[a:b] = np.log(sums[a:b].astype(np.float64)) - z_y

    _over_rows(Z, work)
    return nll, sums


def xent_backward(
    Z: np.ndarray, sums: np.ndarray, y: np.ndarray, w: np.ndarray | None, scale: float
) -> None:
    """Turn Z = exp(z - m) into dL/dz for ``L = scale * sum_rows w * nll`` (w None means 1)."""

    def work(a: int, b: int) -> None:
        r = scale / sums[a:b]  # (rows,) softmax normaliser and loss scale in one factor
        if w is not None:
            r *= w[a:b]
        z = Z[a:b]
        z *= r[:, None].astype(Z.dtype)
        z[np.arange(b - a), y[a:b]] -= scale if w is None else scale * w[a:b]

    _over_rows(Z, work)
