"""Check the NumPy engine's hand-written gradients against central finite differences (float64).

For every element theta_j of every parameter::

    numeric_j = (L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps)

and per parameter the relative error ``||analytic - numeric|| / (||analytic|| + ||numeric||)``
(Euclidean norms over the whole tensor; robust where single entries are near zero).

The model is small but exercises every path: 2 layers, non-zero biases (both b_ih and b_hh,
distinct), several time steps, a loss mask with holes, a non-zero carried state, and dropout
with a fixed mask (the generator is re-seeded for every evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.config import ModelConfig
from engine.init import init_params
from engine.numpy_engine.model import LanguageModel

TOLERANCE = 1e-6


@dataclass
class GradcheckSetup:
    vocab: int = 7  # V
    embed: int = 5  # E
    hidden: int = 4  # H
    layers: int = 2
    batch: int = 3  # B
    steps: int = 6  # T
    dropout: float = 0.25
    eps: float = 1e-5  # finite-difference step (balances truncation and round-off)
    seed: int = 0
    softmax: str = "full"  # full | adaptive (cutoffs below)
    cutoffs: tuple[int, ...] = (3, 5)  # adaptive: a head of 3 + 2 clusters [3, 5), [5, V)


def make_problem(setup: GradcheckSetup) -> dict[str, Any]:
    """Weights, a batch with a holed mask, and a carried state, all float64."""
    cfg = ModelConfig(embed_dim=setup.embed, hidden_dim=setup.hidden, layers=setup.layers,
                      init="uniform", init_scale=0.5, forget_bias=0.5, softmax=setup.softmax,
                      cutoffs=list(setup.cutoffs), tail_div=2.0)
    params = init_params(cfg, setup.vocab, setup.seed, np.float64)
    rng = np.random.default_rng(setup.seed + 1)
    B, T, H = setup.batch, setup.steps, setup.hidden
    x = rng.integers(0, setup.vocab, (B, T))
    y = rng.integers(0, setup.vocab, (B, T))
    mask = (rng.random((B, T)) > 0.3).astype(np.float64)
    mask[0, -2:] = 0.0  # trailing padding, as in poem mode
    mask[1, 1] = 0.0  # and a hole in the middle
    state = [(0.5 * rng.standard_normal((B, H)), 0.5 * rng.standard_normal((B, H)))
             for _ in range(setup.layers)]
    return {"params": params, "x": x, "y": y, "mask": mask, "state": state}


def gradcheck(setup: GradcheckSetup | None = None) -> dict[str, Any]:
    """Relative error of every parameter's gradient: ``{"max_rel_error", "params", ...}``."""
    setup = setup or GradcheckSetup()
    prob = make_problem(setup)
    params: dict[str, np.ndarray] = prob["params"]
    model = LanguageModel(setup.layers, np.float64)

    def loss() -> float:
        rng = np.random.default_rng(setup.seed + 2)  # the same dropout mask every time
        out, _ = model.forward(params, prob["x"], prob["y"], prob["mask"], prob["state"],
                               setup.dropout, rng)
        return out.loss

    rng = np.random.default_rng(setup.seed + 2)
    _, cache = model.forward(params, prob["x"], prob["y"], prob["mask"], prob["state"],
                             setup.dropout, rng)
    analytic = {k: v.copy() for k, v in model.backward(1.0, cache).items()}
    errors: dict[str, float] = {}
    for name, theta in params.items():
        numeric = np.zeros_like(theta)
        flat, nflat = theta.reshape(-1), numeric.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + setup.eps
            up = loss()
            flat[j] = old - setup.eps
            down = loss()
            flat[j] = old
            nflat[j] = (up - down) / (2 * setup.eps)
        a = analytic[name]
        denom = np.linalg.norm(a) + np.linalg.norm(numeric)
        errors[name] = float(np.linalg.norm(a - numeric) / denom) if denom > 0 else 0.0
    worst = max(errors.values())
    return {"max_rel_error": worst, "params": errors, "tolerance": TOLERANCE,
            "ok": worst <= TOLERANCE, "setup": setup.__dict__.copy()}
