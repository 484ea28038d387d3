"""Initial weights shared by both engines, so one seed gives identical models in NumPy and Torch.

Names and shapes are PyTorch's (see :mod:`engine.base`). ``n_in`` is a matrix's fan-in (its
column count: E or H for ``weight_ih_l{k}``, H for ``weight_hh_l{k}`` and ``head.weight``).
Each LSTM matrix stacks four gate matrices (i, f, g, o) of H rows; Xavier uses the fan-out of
one gate (H), not of the stack (4H), since each gate is its own linear map.

=========  ==========================================  ==================  ===============
scheme     weights                                     biases              embedding
=========  ==========================================  ==================  ===============
zeros      0                                           0                   0
uniform    U(-a, a), a = ``init_scale``                U(-a, a)            U(-a, a)
standard   U(-1/sqrt(n_in), 1/sqrt(n_in))  (torch's)   U(+-1/sqrt(n_in))   N(0, 1)
xavier     U(-sqrt(6/(n_in+n_out)), +...)  (Glorot)    0                   N(0, 1)
he         U(-sqrt(6/n_in), sqrt(6/n_in))  (Kaiming)   0                   N(0, 1)
report     rand * 1/sqrt(n_in), rand ~ U(0, 1)         0                   N(0, 1)
=========  ==========================================  ==================  ===============

``standard`` is exactly the distribution PyTorch's ``nn.LSTM`` and ``nn.Linear`` start from
(torch uses 1/sqrt(H) for every LSTM tensor; with E = H both agree), and N(0, 1) is
``nn.Embedding``'s. ``zeros`` sets everything to zero (the report's Part 2 Q1: every hidden unit
then computes and learns the same thing). Finally ``forget_bias`` is added to the forget-gate
slice ``bias_ih_l{k}[H:2H]`` of every layer, whatever the scheme.

Draws come from ``np.random.default_rng(seed)`` in the fixed order of :func:`param_shapes`.
"""

from __future__ import annotations

import numpy as np

from engine.adaptive import head_shapes
from engine.config import INITS, ModelConfig


def param_shapes(model_cfg: ModelConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
    """Every parameter's name and shape, in the order weights are drawn."""
    V, E, H = vocab_size, model_cfg.embed_dim, model_cfg.hidden_dim
    shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (V, E)}
    for k in range(model_cfg.layers):
        n_in = E if k == 0 else H
        shapes[f"lstm.weight_ih_l{k}"] = (4 * H, n_in)
        shapes[f"lstm.weight_hh_l{k}"] = (4 * H, H)
        shapes[f"lstm.bias_ih_l{k}"] = (4 * H,)
        shapes[f"lstm.bias_hh_l{k}"] = (4 * H,)
    shapes.update(head_shapes(model_cfg, vocab_size))  # full head, or adaptive head and tails
    return shapes


def _fans(name: str, shapes: dict[str, tuple[int, ...]]) -> tuple[int, int]:
    """(n_in, n_out) of the matrix a parameter belongs to; a bias takes its weight's."""
    if name.startswith("lstm."):
        layer = name.rsplit("_l", 1)[1]
        kind = "ih" if "_ih_" in name else "hh"
        four_h, n_in = shapes[f"lstm.weight_{kind}_l{layer}"]
        return n_in, four_h // 4
    if name.startswith("tail."):
        n_out, n_in = shapes[name]
        return n_in, n_out
    n_out, n_in = shapes["head.weight"]
    return n_in, n_out


def _draw(
    scheme: str, name: str, shape: tuple[int, ...], n_in: int, n_out: int, a: float,
    rng: np.random.Generator,
) -> np.ndarray:
    if scheme == "zeros":
        return np.zeros(shape)
    if name == "embedding.weight":
        return rng.uniform(-a, a, shape) if scheme == "uniform" else rng.standard_normal(shape)
    is_bias = len(shape) == 1
    if scheme == "uniform":
        return rng.uniform(-a, a, shape)
    if scheme == "standard":
        bound = 1.0 / np.sqrt(n_in)
        return rng.uniform(-bound, bound, shape)
    if is_bias:
        return np.zeros(shape)
    if scheme == "xavier":
        bound = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-bound, bound, shape)
    if scheme == "he":
        bound = np.sqrt(6.0 / n_in)
        return rng.uniform(-bound, bound, shape)
    return rng.random(shape) / np.sqrt(n_in)  # report: torch.rand(...) * 1/sqrt(n)


def init_params(
    model_cfg: ModelConfig, vocab_size: int, seed: int, dtype: type = np.float32
) -> dict[str, np.ndarray]:
    """Fresh weights under PyTorch's names for ``model_cfg.init`` (see the module docstring)."""
    scheme = model_cfg.init
    if scheme not in INITS:
        raise ValueError(f"unknown init scheme {scheme!r} (choose {', '.join(INITS)})")
    rng = np.random.default_rng(seed)
    shapes = param_shapes(model_cfg, vocab_size)
    params: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        n_in, n_out = _fans(name, shapes) if name != "embedding.weight" else (0, 0)
        params[name] = _draw(scheme, name, shape, n_in, n_out, model_cfg.init_scale, rng)
    H = model_cfg.hidden_dim
    for k in range(model_cfg.layers):
        params[f"lstm.bias_ih_l{k}"][H : 2 * H] += model_cfg.forget_bias
    return {name: np.ascontiguousarray(p, dtype=dtype) for name, p in params.items()}
