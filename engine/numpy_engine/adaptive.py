"""The adaptive softmax's forward and backward by hand (the maths is in :mod:`engine.adaptive`).

With h the head's input (N, H), targets y (N,) and loss weights w (N,) (the mask)::

    head:   s = h W_h^T + b_h                        (N, c_1 + n)
            y_h = y if y < c_1 else c_1 + i          (the head's target: a token or cluster i)
    tail i: rows R_i = {r : c_i <= y_r < c_{i+1}, w_r != 0}
            P_i = h[R_i] P_i^T                       (|R_i|, d_i)
            u_i = P_i O_i^T                          (|R_i|, V_i)
    nll_r = -log softmax(s_r)[y_h] - [r in R_i] log softmax(u_i,r)[y_r - c_i]

Backward of ``L = scale * sum_r w_r nll_r`` with ds = scale w (softmax(s) - onehot(y_h)) and
du_i = scale w (softmax(u_i) - onehot(y - c_i)) (both in place, by :mod:`.xent`)::

    dW_h = ds^T h     db_h = sum_r ds     dO_i = du_i^T P_i     dP_i = du_i O_i
    dP_i^weight = dP_i^T h[R_i]           dh = ds W_h + scatter_{R_i}(dP_i P_i^weight)

A tail costs only for the targets that fall into it, which is where the speed comes from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.adaptive import cutoffs_of
from engine.numpy_engine.workspace import Workspace
from engine.numpy_engine.xent import xent_backward, xent_forward


def is_adaptive(params: dict[str, np.ndarray]) -> bool:
    return "tail.0.proj.weight" in params


def head_targets(y: np.ndarray, cuts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each target, -1 in the head; the head's target y_h)."""
    cluster = np.searchsorted(np.asarray(cuts), y, side="right") - 1  # (N,)
    y_h = np.where(cluster < 0, y, cuts[0] + cluster)
    return cluster, y_h


def adaptive_forward(
    params: dict[str, np.ndarray], top: np.ndarray, y: np.ndarray, w: np.ndarray | None,
    ws: Workspace,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-row nll (N,) float64 of targets y under the adaptive softmax, and the cache."""
    cuts = cutoffs_of(params)
    W_h, b_h = params["head.weight"], params["head.bias"]
    N = top.shape[0]
    S = ws.get("head_logits", (N, W_h.shape[0]))  # (N, c_1 + n), then exp, then ds
    np.matmul(top, W_h.T, out=S)
    cluster, y_h = head_targets(y, cuts)
    nll, sums = xent_forward(S, y_h, b_h)
    tails = []
    for i, c in enumerate(cuts):
        hit = cluster == i
        if w is not None:
            hit &= w != 0
        rows = np.flatnonzero(hit)
        if rows.size == 0:
            tails.append(None)
            continue
        h_i = top[rows]  # (n_i, H)
        P = h_i @ params[f"tail.{i}.proj.weight"].T  # (n_i, d_i)
        U = P @ params[f"tail.{i}.out.weight"].T  # (n_i, V_i)
        y_t = y[rows] - c
        nll_t, sums_t = xent_forward(U, y_t)
        nll[rows] += nll_t
        tails.append({"rows": rows, "h": h_i, "P": P, "U": U, "sums": sums_t, "y": y_t})
    return nll, {"S": S, "sums": sums, "y_h": y_h, "tails": tails, "top": top}


def adaptive_backward(
    params: dict[str, np.ndarray], cache: dict[str, Any], w: np.ndarray | None, scale: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of ``scale * sum w * nll`` for the head and tails, and dL/dh (N, H)."""
    S, top = cache["S"], cache["top"]
    db = xent_backward(S, cache["sums"], cache["y_h"], w, scale, want_dbias=True)  # S <- ds
    grads = {"head.weight": S.T @ top, "head.bias": db}
    dtop = S @ params["head.weight"]  # (N, H)
    for i, t in enumerate(cache["tails"]):
        proj, out = params[f"tail.{i}.proj.weight"], params[f"tail.{i}.out.weight"]
        if t is None:
            grads[f"tail.{i}.proj.weight"] = np.zeros_like(proj)
            grads[f"tail.{i}.out.weight"] = np.zeros_like(out)
            continue
        U = t["U"]
        xent_backward(U, t["sums"], t["y"], None if w is None else w[t["rows"]], scale)
        grads[f"tail.{i}.out.weight"] = U.T @ t["P"]  # (V_i, d_i)
        dP = U @ out  # (n_i, d_i)
        grads[f"tail.{i}.proj.weight"] = dP.T @ t["h"]  # (d_i, H)
        dtop[t["rows"]] += dP @ proj
    return grads, dtop


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def adaptive_log_prob(params: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    """log p over the whole vocabulary (N, V) for inputs h (N, H): the full distribution."""
    cuts = cutoffs_of(params)
    n = len(cuts)
    lsm_h = _log_softmax(h @ params["head.weight"].T + params["head.bias"])  # (N, c_1 + n)
    V = cuts[-1] + params[f"tail.{n - 1}.out.weight"].shape[0]
    out = np.empty((h.shape[0], V), lsm_h.dtype)
    out[:, : cuts[0]] = lsm_h[:, : cuts[0]]
    bounds = [*cuts, V]
    for i in range(n):
        u = (h @ params[f"tail.{i}.proj.weight"].T) @ params[f"tail.{i}.out.weight"].T
        out[:, bounds[i] : bounds[i + 1]] = lsm_h[:, cuts[0] + i, None] + _log_softmax(u)
    return out
