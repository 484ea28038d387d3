"""Fused softmax cross-entropy over a logits buffer, in place, with rows split across threads.

For a row of logits z (V,) (the bias b added here), target y and weight w (the loss mask, 1
without one)::

    m    = max_j z_j                      (the shift keeps exp from overflowing)
    s    = sum_j exp(z_j - m)
    nll  = log s - (z_y - m)              = -log softmax(z)_y
    dz_j = scale * w * (exp(z_j - m) / s - [j == y])       for a loss  scale * sum w * nll
    db   = sum_rows dz                    (the bias's gradient, when asked for)

The forward leaves exp(z - m) in the buffer and the backward turns it into dz in one pass, so
the (N, V) logits are never copied (in training, where the scale is known up front, both run in
the same pass: :func:`xent_forward_backward`); every pass over a block of rows runs while the
block is in cache, and the blocks run on all cores (the largest element-wise work of a step).
"""

from __future__ import annotations

import numpy as np

from engine.numpy_engine.threads import MIN_PARALLEL, over_rows

__all__ = ["MIN_PARALLEL", "xent_backward", "xent_forward", "xent_forward_backward"]

CHUNK_ROWS = 64  # rows per block: about 2 MB at V = 7,500, so its passes stay in cache


def _forward_block(z: np.ndarray, y: np.ndarray, bias: np.ndarray | None, sums: np.ndarray,
                   nll: np.ndarray) -> None:
    """z (rows, V) <- exp(z + b - max); sums and nll of the rows into ``sums`` and ``nll``."""
    if bias is not None:
        z += bias
    m = z.max(axis=1)
    z -= m[:, None]
    z_y = z[np.arange(len(z)), y].astype(np.float64)
    np.exp(z, out=z)
    z.sum(axis=1, out=sums)
    nll[:] = np.log(sums.astype(np.float64)) - z_y


def _backward_block(z: np.ndarray, sums: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                    scale: float, colsum: np.ndarray | None) -> None:
    """z = exp(z - m) (rows, V) <- dL/dz; its column sums into ``colsum`` when given."""
    r = scale / sums  # (rows,) softmax normaliser and loss scale in one factor
    if w is not None:
        r *= w
    z *= r[:, None].astype(z.dtype)
    z[np.arange(len(z)), y] -= scale if w is None else scale * w
    if colsum is not None:
        z.sum(axis=0, out=colsum)


def xent_forward(
    Z: np.ndarray, y: np.ndarray, bias: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row -log softmax(Z + bias)[y] (float64) and the sums s; Z becomes exp(Z + b - max)."""
    N = Z.shape[0]
    nll = np.empty(N, np.float64)
    sums = np.empty(N, Z.dtype)

    def work(a: int, b: int) -> None:
        _forward_block(Z[a:b], y[a:b], bias, sums[a:b], nll[a:b])

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
        _backward_block(Z[a:b], sums[a:b], y[a:b], None if w is None else w[a:b], scale,
                        None if partial is None else partial[a // CHUNK_ROWS])

    over_rows(N, Z.size, work, CHUNK_ROWS)
    return None if partial is None else _total(partial)


def xent_forward_backward(
    Z: np.ndarray, y: np.ndarray, bias: np.ndarray | None, w: np.ndarray | None, scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`xent_forward` then :func:`xent_backward` (with the bias's gradient) in one pass
    over each block of rows: returns (nll, db) and leaves dL/dz in Z. For training, where the
    loss scale is known before the forward; it saves a full pass over the (N, V) logits."""
    N, V = Z.shape
    nll = np.empty(N, np.float64)
    sums = np.empty(N, Z.dtype)
    partial = np.empty(((N + CHUNK_ROWS - 1) // CHUNK_ROWS, V), Z.dtype)

    def work(a: int, b: int) -> None:
        _forward_block(Z[a:b], y[a:b], bias, sums[a:b], nll[a:b])
        _backward_block(Z[a:b], sums[a:b], y[a:b], None if w is None else w[a:b], scale,
                        partial[a // CHUNK_ROWS])

    over_rows(N, Z.size, work, CHUNK_ROWS)
    return nll, _total(partial)


def _total(partial: np.ndarray) -> np.ndarray:
    """Sum of the blocks' column sums, accumulated in float64."""
    return partial.sum(axis=0, dtype=np.float64).astype(partial.dtype)
