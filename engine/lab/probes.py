"""Probes of a model's inner state on a fixed batch: symmetry, saturation, gradient flow.

With H hidden units, unit j's weight row r_j gathers everything that makes it itself: its rows
of every gate in W_ih and W_hh, its biases, and its outgoing weights (its column of W_hh and of
the head). Identical units have identical rows, so::

    max cosine   = max_{j < k} r_j . r_k / (|r_j| |r_k|)     (two equal rows count 1, even zero)
    effective rank of the hidden states S (N, H) on the probe batch, with singular values s:
                   erank = exp(-sum_i p_i ln p_i),   p = s / sum(s)     (0 when S = 0)

Saturation: a gate value a is saturated when its derivative is below ~6% of its maximum, i.e.
|tanh| > 0.97, or for a sigmoid |2 sigma - 1| > 0.97; histograms have 20 bins over the gate's
range. Gradient flow: with the loss on the window's last target only, ||dL/dh_t|| for each step,
listed by distance from the end (the vanishing or exploding gradient made visible).

Everything runs in float64 on a copy of the weights (any engine's ``state_dict``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.numpy_engine.model import LanguageModel, layer_params

SATURATED = 0.97
BINS = 20
GATES = ("i", "f", "g", "o", "tanh_c")  # sigmoid i, f, o; tanh g and tanh(c)


def unit_rows(params: dict[str, np.ndarray], k: int = 0) -> np.ndarray:
    """(H, D) each hidden unit's incoming and outgoing weights of layer ``k``, concatenated."""
    p = layer_params(params, k)
    H = p["W_hh"].shape[1]
    parts = []
    for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
        w = p[name].reshape(4, H, -1)  # gate blocks i, f, g, o
        parts.append(w.transpose(1, 0, 2).reshape(H, -1))
    parts.append(p["W_hh"].T)  # what unit j feeds into every gate at the next step
    top = f"lstm.weight_ih_l{k + 1}"
    parts.append((params[top] if top in params else params["head.weight"]).T)
    return np.concatenate([np.asarray(a, np.float64) for a in parts], axis=1)


def max_cosine(rows: np.ndarray) -> float:
    """Largest cosine similarity between two different rows (equal rows, even zero, give 1)."""
    n = np.linalg.norm(rows, axis=1)
    gram = rows @ rows.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = gram / np.outer(n, n)
    zero = n == 0
    both = np.outer(zero, zero)
    cos[both] = 1.0  # two zero rows are the same unit
    cos[np.logical_xor.outer(zero, zero)] = 0.0
    iu = np.triu_indices(len(rows), 1)
    return float(np.max(cos[iu])) if len(iu[0]) else 1.0


def effective_rank(states: np.ndarray) -> float:
    """exp of the entropy of the normalised singular values; 0 for an all-zero matrix."""
    s = np.linalg.svd(np.asarray(states, np.float64), compute_uv=False)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def _gates(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    A, tc = cache["A"], cache["tanh_c"]
    H = tc.shape[-1]
    return {"i": A[..., :H], "f": A[..., H:2 * H], "g": A[..., 2 * H:3 * H],
            "o": A[..., 3 * H:], "tanh_c": tc}


def saturation(gate: str, values: np.ndarray) -> tuple[float, list[int]]:
    """(share saturated, histogram counts over the gate's range)."""
    v = np.asarray(values, np.float64).reshape(-1)
    centred = v if gate in ("g", "tanh_c") else 2.0 * v - 1.0  # both now in [-1, 1]
    share = float(np.mean(np.abs(centred) > SATURATED)) if v.size else 0.0
    counts, _ = np.histogram(centred, bins=BINS, range=(-1.0, 1.0))
    return share, counts.tolist()


def probe(state_dict: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
          mask: np.ndarray | None, histograms: bool = False, flow: bool = False
          ) -> dict[str, Any]:
    """The probes of one set of weights on the batch (x, y, mask), as JSON-able values."""
    params = {k: np.asarray(v, np.float64).copy() for k, v in state_dict.items()}
    layers = sum(1 for k in params if k.startswith("lstm.weight_ih_l"))
    model = LanguageModel(layers, np.float64)
    out, cache = model.forward(params, x, y, mask)
    top = cache["layers"][-1]
    T, B = cache["T"], cache["B"]
    states = top["h"][1:].reshape(T * B, -1)
    found: dict[str, Any] = {
        "max_cos": max_cosine(unit_rows(params, layers - 1)),
        "erank": effective_rank(states),
        "probe_loss": out.loss,
    }
    gates = _gates(top)
    sat = {}
    for name in GATES:
        share, counts = saturation(name, gates[name])
        sat[name] = share
        if histograms:
            found[f"hist_{name}"] = counts
    found["saturation"] = sat
    if flow:
        found["flow"] = gradient_flow(params, layers, x, y)
    return found


def gradient_flow(params: dict[str, np.ndarray], layers: int, x: np.ndarray,
                  y: np.ndarray) -> list[float]:
    """||dL/dh_t|| of the top layer with the loss on the last target only, by distance from the
    end of the window (index 0 = the last step)."""
    model = LanguageModel(layers, np.float64)
    last = np.zeros(x.shape, np.float64)
    last[:, -1] = 1.0
    _, cache = model.forward(params, x, y, last)
    norms = np.zeros(x.shape[1])
    model.backward(1.0, cache, dh_norms=norms)
    return norms[::-1].tolist()
