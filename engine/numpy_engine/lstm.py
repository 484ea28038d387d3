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
preallocated buffers. A first layer fed by an embedding gets its input as :class:`RowInput`
(x_t = table[ids]): it projects only the U distinct rows (U x D x 4H instead of T B x D x 4H
multiply-adds) and returns the gradient of those rows, never a dense dx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.numpy_engine.workspace import Workspace


@dataclass
class RowInput:
    """Input x[t, b] = table[ids[t, b]]: an embedding lookup kept unexpanded."""

    table: np.ndarray  # (V, D)
    uniq: np.ndarray  # (U,) distinct ids, sorted
    inverse: np.ndarray  # (T*B,) position of each id in uniq
    order: np.ndarray  # (T*B,) stable argsort of the ids (groups equal ids)
    starts: np.ndarray  # (U,) where each id's group starts in ``order``

    @classmethod
    def of(cls, table: np.ndarray, ids: np.ndarray) -> RowInput:
        flat = ids.reshape(-1)
        order = np.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        first = np.empty(len(flat), bool)
        first[0] = True
        np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        uniq = sorted_ids[starts]
        inverse = np.empty(len(flat), np.intp)
        inverse[order] = np.cumsum(first) - 1
        return cls(table, uniq, inverse, order, starts)


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
    A2 = A.reshape(T * B, 4 * H)
    if isinstance(x, RowInput):
        P = x.table[x.uniq] @ W_ih.T  # (U, 4H) projection of the distinct rows only
        P += b
        np.take(P, x.inverse, axis=0, out=A2)  # (T*B, 4H)
    else:
        np.matmul(x.reshape(T * B, -1), W_ih.T, out=A2)  # (T*B, 4H) all steps at once
        A2 += b
    h = ws.get("h", (T + 1, B, H))  # h[0] = h0, h[t+1] = h_t
    c = ws.get("c", (T + 1, B, H))
    tc = ws.get("tanh_c", (T, B, H))  # tanh(c_t)
    z_rec = ws.get("z_rec", (B, 4 * H))
    ig = ws.get("ig", (B, H))
    h[0], c[0] = h0, c0
    W_hhT = W_hh.T
    for t in range(T):
        a = A[t]  # (B, 4H)
        np.matmul(h[t], W_hhT, out=z_rec)  # (B, 4H)
        a += z_rec
        for s in (a[:, : 2 * H], a[:, 3 * H :]):  # sigma(z) = (1 + tanh(z / 2)) / 2
            s *= 0.5
            np.tanh(s, out=s)
            s *= 0.5
            s += 0.5
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        np.tanh(g, out=g)
        np.multiply(f, c[t], out=c[t + 1])  # c_t = f * c_{t-1} + i * g
        np.multiply(i, g, out=ig)
        c[t + 1] += ig
        np.tanh(c[t + 1], out=tc[t])
        np.multiply(o, tc[t], out=h[t + 1])  # h_t = o * tanh(c_t)
    cache = {"x": x, "A": A, "h": h, "c": c, "tanh_c": tc, "p": p, "ws": ws, "T": T, "B": B}
    return (h[1:], h[T], c[T]), cache


def lstm_backward(
    dhs: np.ndarray, cache: dict[str, Any], need_dx: bool = True,
    dh_norms: np.ndarray | None = None,
) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """BPTT from dhs = dL/dh_t (T, B, H), given by the layer above for every step.

    ``dh_norms`` (T,), when given, receives ||dL/dh_t|| (the whole gradient reaching h_t, from
    its own output and from later steps; Frobenius norm over the batch): the gradient flow.

    Returns ``(dx, grads)``: dx (T, B, D) for a dense input (or None when not ``need_dx``); for a
    :class:`RowInput`, ``grads["rows"]`` is dL/d table[uniq] (U, D). grads has W_ih, W_hh, b_ih,
    b_hh and dh0, dc0 (the gradient reaching the initial state).
    """
    A, h, c, tc, p, ws = (cache[k] for k in ("A", "h", "c", "tanh_c", "p", "ws"))
    T, B = cache["T"], cache["B"]
    W_ih, W_hh = p["W_ih"], p["W_hh"]
    H = W_hh.shape[1]
    dZ = ws.get("dZ", (T, B, 4 * H))  # dL/dz_t
    dh_next = ws.zeros("dh_next", (B, H))
    dc_next = ws.zeros("dc_next", (B, H))  # holds dc, then dc * f
    dh = ws.get("dh", (B, H))
    tmp = ws.get("tmp", (B, H))
    for t in reversed(range(T)):
        a, dz = A[t], dZ[t]
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        dz_i, dz_f, dz_g, dz_o = dz[:, :H], dz[:, H : 2 * H], dz[:, 2 * H : 3 * H], dz[:, 3 * H :]
        np.add(dhs[t], dh_next, out=dh)
        if dh_norms is not None:
            dh_norms[t] = np.linalg.norm(dh)
        np.multiply(dh, tc[t], out=dz_o)  # do = dh * tanh(c_t)
        np.subtract(1.0, o, out=tmp)
        tmp *= o
        dz_o *= tmp  # dz_o = do * o (1 - o)
        np.multiply(tc[t], tc[t], out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc_next += tmp  # dc = dc_next + dh * o (1 - tanh^2 c_t)
        dc = dc_next
        np.multiply(dc, g, out=dz_i)  # di = dc * g
        np.subtract(1.0, i, out=tmp)
        tmp *= i
        dz_i *= tmp
        np.multiply(dc, c[t], out=dz_f)  # df = dc * c_{t-1}
        np.subtract(1.0, f, out=tmp)
        tmp *= f
        dz_f *= tmp
        np.multiply(g, g, out=tmp)  # dz_g = dc * i * (1 - g^2)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= i
        np.multiply(dc, tmp, out=dz_g)
        dc *= f  # dc_next = dc * f
        np.matmul(dz, W_hh, out=dh_next)  # dh_next = dz W_hh  (B, H)
    dZ2 = dZ.reshape(T * B, 4 * H)
    grads = {"W_hh": dZ2.T @ h[:-1].reshape(T * B, H)}  # (4H, H)
    db = dZ2.sum(axis=0)
    grads["b_ih"], grads["b_hh"] = db, db.copy()
    grads["dh0"], grads["dc0"] = dh_next.copy(), dc_next.copy()
    x = cache["x"]
    dx = None
    if isinstance(x, RowInput):
        S = ws.get("S", (len(x.uniq), 4 * H))  # per distinct id: sum of its rows of dZ
        dZ_sorted = A.reshape(T * B, 4 * H)  # the activations are no longer needed
        np.take(dZ2, x.order, axis=0, out=dZ_sorted)  # rows grouped by id
        np.add.reduceat(dZ_sorted, x.starts, axis=0, out=S)
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
