"""One LSTM layer over a whole window, forward and backward (BPTT) by hand.

Notation (PyTorch's layout; gates stacked i, f, g, o in the rows of the weights)::

    x_t      (B, D)    input at step t            W_ih  (4H, D)   input weights
    h_t      (B, H)    hidden state               W_hh  (4H, H)   recurrent weights
    c_t      (B, H)    cell state                 b = b_ih + b_hh (4H,)

Equations (the report's Part 1, with C-bar_t written g_t)::

    z_t = x_t W_ih^T + h_{t-1} W_hh^T + b           (B, 4H) pre-activations [z_i z_f z_g z_o]
    i_t = sigma(z_i)   f_t = sigma(z_f)   g_t = tanh(z_g)   o_t = sigma(z_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Backward through time, for t = T-1 .. 0, with dh_next = dL/dh_t and dc_next = dL/dc_t arriving
from step t+1 (zero after the last step: the carried state is detached)::

    dh   = dh_out_t + dh_next
    do   = dh * tanh(c_t)                    dz_o = do * o_t (1 - o_t)
    dc   = dc_next + dh * o_t (1 - tanh^2(c_t))
    di   = dc * g_t                          dz_i = di * i_t (1 - i_t)
    df   = dc * c_{t-1}                      dz_f = df * f_t (1 - f_t)
    dg   = dc * i_t                          dz_g = dg * (1 - g_t^2)
    dc_next = dc * f_t                       dh_next = dz_t W_hh

and, summed over every step at once (one matmul each): dW_ih = dz^T x, dW_hh = dz^T h_{t-1},
db_ih = db_hh = sum dz, dx = dz W_ih.

Arrays are time-major, (T, B, ...), so each step's slice is contiguous. The input projection of
all T steps is one matmul before the loop; inside the loop only h_{t-1} W_hh^T is computed, into
preallocated buffers. Both loops run as independent slices of the batch rows, one per core with
a one-thread BLAS (:func:`engine.numpy_engine.threads.over_batch`). A first layer fed by an
embedding gets its input as :class:`RowInput` (x_t = table[ids]): it projects only the U
distinct rows (U x D x 4H instead of T B x D x 4H multiply-adds) and returns the gradient of
those rows, never a dense dx.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.numpy_engine.row_input import RowInput
from engine.numpy_engine.threads import over_batch, over_rows
from engine.numpy_engine.workspace import Workspace

__all__ = ["RowInput", "lstm_backward", "lstm_forward", "lstm_step"]


def lstm_forward(
    x: np.ndarray | RowInput, h0: np.ndarray, c0: np.ndarray, p: dict[str, np.ndarray],
    ws: Workspace, T: int, B: int,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], dict[str, Any]]:
    """Run T steps from (h0, c0). ``p`` holds W_ih, W_hh, b_ih, b_hh.

    Returns ``((hs, h_T, c_T), cache)`` with hs (T, B, H) a view of workspace memory.
    """
    W_ih, W_hh = p["W_ih"], p["W_hh"]
    H = W_hh.shape[1]
    b = p["b_ih"] + p["b_hh"]  # (4H,)
    A = ws.get("A", (T, B, 4 * H))  # pre-activations, then activations [i f g o]
    ids = None
    if isinstance(x, RowInput):  # gathered step by step in the loop, from P (in cache)
        P = x.table[x.uniq] @ W_ih.T  # (U, 4H) projection of the distinct rows only
        P += b
        ids = x.inverse.reshape(T, B)
    else:
        A2 = A.reshape(T * B, 4 * H)
        np.matmul(x.reshape(T * B, -1), W_ih.T, out=A2)  # (T*B, 4H) all steps at once
        A2 += b
    h = ws.get("h", (T + 1, B, H))  # h[0] = h0, h[t+1] = h_t
    c = ws.get("c", (T + 1, B, H))
    tc = ws.get("tanh_c", (T, B, H))  # tanh(c_t)
    z_rec = ws.get("z_rec", (B, 4 * H))
    ig = ws.get("ig", (B, H))
    h[0], c[0] = h0, c0
    W_hhT = ws.get("W_hhT", (H, 4 * H))  # a contiguous copy: a third faster in the small matmuls
    np.copyto(W_hhT, W_hh.T)

    def steps(lo: int, hi: int) -> None:  # batch rows lo:hi through all T steps
        z, i_g = z_rec[lo:hi], ig[lo:hi]
        for t in range(T):
            a = A[t, lo:hi]  # (b, 4H)
            if ids is not None:
                np.take(P, ids[t, lo:hi], axis=0, out=a)  # x_t W_ih^T + b
            np.matmul(h[t, lo:hi], W_hhT, out=z)  # (b, 4H)
            a += z
            for s in (a[:, : 2 * H], a[:, 3 * H :]):  # sigma(z) = (1 + tanh(z / 2)) / 2
                s *= 0.5
                np.tanh(s, out=s)
                s *= 0.5
                s += 0.5
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            np.tanh(g, out=g)
            c_t = c[t + 1, lo:hi]
            np.multiply(f, c[t, lo:hi], out=c_t)  # c_t = f * c_{t-1} + i * g
            np.multiply(i, g, out=i_g)
            c_t += i_g
            np.tanh(c_t, out=tc[t, lo:hi])
            np.multiply(o, tc[t, lo:hi], out=h[t + 1, lo:hi])  # h_t = o * tanh(c_t)

    over_batch(B, steps)
    cache = {"x": x, "A": A, "h": h, "c": c, "tanh_c": tc, "p": p, "ws": ws, "T": T, "B": B}
    return (h[1:], h[T], c[T]), cache


def _backward_factors(A: np.ndarray, c: np.ndarray, tc: np.ndarray, H: int) -> None:
    """Overwrite the forward's activations with the per-step factors of the backward, in place.

    Slot by slot, (T, B, H) each: A_i <- g i (1 - i), A_f <- c_{t-1} f (1 - f),
    A_g <- i (1 - g^2), A_o <- tanh(c_t) o (1 - o), tanh_c <- o (1 - tanh^2(c_t)) and
    c[t] <- f_t (c_{t-1} is not needed again). Blocks of steps run on all cores.
    """
    T = A.shape[0]

    def work(a: int, b: int) -> None:
        i, f, g, o = (A[a:b, :, k * H : (k + 1) * H] for k in range(4))
        c_prev, tanh_c = c[a:b], tc[a:b]
        u = np.subtract(1.0, f)
        u *= f
        u *= c_prev  # c_{t-1} f (1 - f)
        np.copyto(c_prev, f)
        np.copyto(f, u)
        np.subtract(1.0, i, out=u)
        u *= i
        u *= g  # g i (1 - i)
        np.multiply(g, g, out=g)
        np.subtract(1.0, g, out=g)
        g *= i  # i (1 - g^2)
        np.copyto(i, u)
        np.subtract(1.0, o, out=u)
        u *= o
        u *= tanh_c  # tanh(c) o (1 - o)
        np.multiply(tanh_c, tanh_c, out=tanh_c)
        np.subtract(1.0, tanh_c, out=tanh_c)
        tanh_c *= o  # o (1 - tanh^2 c)
        np.copyto(o, u)

    over_rows(T, A.size + 2 * c.size, work, 2)


def lstm_backward(
    dhs: np.ndarray, cache: dict[str, Any], need_dx: bool = True,
    dh_norms: np.ndarray | None = None,
) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """BPTT from dhs = dL/dh_t (T, B, H), given by the layer above for every step.

    ``dh_norms`` (T,), when given, receives ||dL/dh_t|| (the whole gradient reaching h_t, from
    its own output and from later steps; Frobenius norm over the batch): the gradient flow.

    Everything that does not depend on the incoming gradient is computed for all steps first
    (:func:`_backward_factors`), so each step is seven element-wise calls and one matmul::

        dh = dh_out_t + dh_next     dz_o = dh K_o     dc = dc_next + dh K_c
        [dz_i dz_f dz_g] = dc [K_i K_f K_g]           dc_next = dc f     dh_next = dz W_hh

    The backward consumes the cache (its buffers are overwritten). Returns ``(dx, grads)``: dx
    (T, B, D) for a dense input (or None when not ``need_dx``); for a :class:`RowInput`,
    ``grads["rows"]`` is dL/d table[uniq] (U, D). grads has W_ih, W_hh, b_ih, b_hh and dh0, dc0
    (the gradient reaching the initial state).
    """
    A, h, c, tc, p, ws = (cache[k] for k in ("A", "h", "c", "tanh_c", "p", "ws"))
    T, B = cache["T"], cache["B"]
    W_ih, W_hh = p["W_ih"], p["W_hh"]
    H = W_hh.shape[1]
    _backward_factors(A, c, tc, H)
    K = A.reshape(T, B, 4, H)  # [K_i K_f K_g K_o] per step
    F, K_c = c, tc  # f_t in c[t]; o (1 - tanh^2 c_t)
    dZ = ws.get("dZ", (T, B, 4 * H))  # dL/dz_t
    dZ4 = dZ.reshape(T, B, 4, H)
    dh_next = ws.zeros("dh_next", (B, H))
    dc = ws.zeros("dc_next", (B, H))  # dc_next, then dc, then dc * f
    dh = ws.get("dh", (B, H))
    tmp = ws.get("tmp", (B, H))
    sq = ws.get("dh_sq", (T, B)) if dh_norms is not None else None  # per row: ||dh_t||^2

    def steps(lo: int, hi: int) -> None:  # batch rows lo:hi back through all T steps
        dh_n, dc_n, dh_b, tmp_b = dh_next[lo:hi], dc[lo:hi], dh[lo:hi], tmp[lo:hi]
        dc3 = dc_n[:, None, :]  # (b, 1, H) broadcast over the i, f, g slots
        for t in reversed(range(T)):
            np.add(dhs[t, lo:hi], dh_n, out=dh_b)
            if sq is not None:
                np.einsum("bh,bh->b", dh_b, dh_b, out=sq[t, lo:hi])
            np.multiply(dh_b, K[t, lo:hi, 3], out=dZ4[t, lo:hi, 3])  # dz_o = dh tanh(c) o(1-o)
            np.multiply(dh_b, K_c[t, lo:hi], out=tmp_b)
            dc_n += tmp_b  # dc = dc_next + dh o (1 - tanh^2 c)
            np.multiply(dc3, K[t, lo:hi, :3], out=dZ4[t, lo:hi, :3])  # dz_i, dz_f, dz_g
            dc_n *= F[t, lo:hi]  # dc_next = dc f
            np.matmul(dZ[t, lo:hi], W_hh, out=dh_n)  # dh_next = dz W_hh  (b, H)

    over_batch(B, steps)
    if sq is not None and dh_norms is not None:
        dh_norms[:] = np.sqrt(sq.sum(axis=1))
    dZ2 = dZ.reshape(T * B, 4 * H)
    grads = {"W_hh": dZ2.T @ h[:-1].reshape(T * B, H)}  # (4H, H)
    ones = ws.get("ones", (T * B,))
    ones.fill(1.0)
    db = ones @ dZ2  # (4H,) column sums, as a (threaded) BLAS gemv
    grads["b_ih"], grads["b_hh"] = db, db.copy()
    grads["dh0"], grads["dc0"] = dh_next.copy(), dc.copy()
    x = cache["x"]
    dx = None
    if isinstance(x, RowInput):
        S = ws.get("S", (len(x.uniq), 4 * H))  # per distinct id: sum of its rows of dZ
        x.segment_sums(dZ2, S)
        rows = x.table[x.uniq]  # (U, D)
        grads["W_ih"] = S.T @ rows  # (4H, D)
        grads["rows"] = S @ W_ih  # (U, D)
    else:
        x2 = x.reshape(T * B, -1)
        grads["W_ih"] = dZ2.T @ x2  # (4H, D)
        if need_dx:
            dx = (dZ2 @ W_ih).reshape(T, B, -1)  # (T, B, D)
    return dx, grads


def lstm_step(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, p: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """One step for inference: x (B, D), (h, c) (B, H) -> the next (h, c) (new arrays)."""
    H = h.shape[1]
    z = x @ p["W_ih"].T + h @ p["W_hh"].T + p["b_ih"] + p["b_hh"]  # (B, 4H)
    z[:, : 2 * H] = 0.5 + 0.5 * np.tanh(0.5 * z[:, : 2 * H])  # i, f
    z[:, 3 * H :] = 0.5 + 0.5 * np.tanh(0.5 * z[:, 3 * H :])  # o
    i, f, g, o = z[:, :H], z[:, H : 2 * H], np.tanh(z[:, 2 * H : 3 * H]), z[:, 3 * H :]
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next
