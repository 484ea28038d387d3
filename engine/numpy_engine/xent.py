"""Fused softmax cross-entropy over a logits buffer, in place, with rows split across threads.

For a row of logits z (V,) (the bias b added here), target y and weight w (the loss mask, 1
without one)::

    m    = max_j z_j                      (the shift keeps exp from overflowing)
    s    = sum_j exp(z_j - m)
    nll  = log s - (z_y - m)              = -log softmax(z)_y
    dz_j = scale * w * (exp(z_j - m) / s - [j == y])       for a loss  scale * sum w * nll
    db   = sum_rows dz                    (the bias's gradient, when asked for)

The forward leaves exp(z - m) in the buffer and the backward turns it into dz in one pass, so
the (N, V) logits are never copied; every pass over a block of rows runs while the block is in
cache, and the blocks run on all cores (these are the largest element-wise work of a step).
"""

from __future__ import annotations

import numpy as np

from engine.numpy_engine.threads import MIN_PARALLEL, over_rows

__all__ = ["MIN_PARALLEL", "xent_backward", "xent_forward"]

CHUNK_ROWS = 64  # rows per block: about 2 MB at V = 7,500, so its passes stay in cache


def xent_forward(
    Z: np.ndarray, y: np.ndarray, bias: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row -log softmax(Z + bias)[y] (float64) and the sums s; Z becomes exp(Z + b - max)."""
    N = Z.shape[0]
    nll = np.empty(N, np.float64)
    sums = np.empty(N, Z.dtype)

    def work(a: int, b: int) -> None:
        z = Z[a:b]  # (rows, V)
        if bias is not None:
            z += bias
        m = z.max(axis=1)
        z -= m[:, None]
        z_y = z[np.arange(b - a), y[a:b]].astype(np.float64)
        np.exp(z, out=z)
        z.sum(axis=1, out=sums[a:b])  # (not a gemv: BLAS called from these threads crawls)
        nll[a:b] = np.log(sums[a:b].astype(np.float64)) - z_y

    over_rows(N, Z.size, work, CHUNK_ROWS)
    return nll, sums


def xent_backward(
    Z: np.ndarray, sums: np.ndarray, y: np.ndarray, w: np.ndarray | None, scale: float,
    want_dbias: bool = False,
) -> np.ndarray | None:
    """Turn Z = exp(z - m) into dL/dz for ``L = scale * sum_rows w * nll`` (w None means 1);
    with ``want_dbias``, return the column sums of dL/dz (V,), the bias's gradient."""
    N, V = Z.shape
    partial = np.empty(((N + CHUNK_ROWS - 1) // CHUNK_ROWS, V), Z.dtype) if want_dbias else None

    def work(a: int, b: int) -> None:
        r = scale / sums[a:b]  # (rows,) softmax normaliser and loss scale in one factor
        if w is not None:
            r *= w[a:b]
        z = Z[a:b]
        z *= r[:, None].astype(Z.dtype)
        z[np.arange(b - a), y[a:b]] -= scale if w is None else scale * w[a:b]
        if partial is not None:
            z.sum(axis=0, out=partial[a // CHUNK_ROWS])

    over_rows(N, Z.size, work, CHUNK_ROWS)
    if partial is None:
        return None
    return partial.sum(axis=0, dtype=np.float64).astype(Z.dtype)
