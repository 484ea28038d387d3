"""The adaptive softmax's parameterisation, shared by both engines (Grave et al. 2017).

The vocabulary is sorted by frequency (:class:`engine.corpus.vocab.Vocab`), so clusters are rank
ranges. With cutoffs ``c_1 < ... < c_n`` and ``c_{n+1} = V``, the head predicts the ``c_1`` most
frequent tokens plus one entry per tail cluster, and cluster i (ranks ``[c_i, c_{i+1})``, V_i of
them) has its own low-rank projection::

    s   = h W_h^T + b_h                    (N, c_1 + n)   head.weight (c_1 + n, H), head.bias
    u_i = (h P_i^T) O_i^T                  (N, V_i)       tail.{i}.proj.weight P_i (d_i, H),
                                                          tail.{i}.out.weight  O_i (V_i, d_i)
    log p(y) = log softmax(s)[y]                                    if y < c_1
             = log softmax(s)[c_1 + i] + log softmax(u_i)[y - c_i]  if c_i <= y < c_{i+1}

with ``d_i = H // tail_div**(i + 1)``. This is exactly ``torch.nn.AdaptiveLogSoftmaxWithLoss``
(``head_bias=True``, ``div_value=tail_div``); it defines a full distribution over all V tokens,
which perplexity, sampling, masks and candidate probabilities use. Training touches a tail only
for the targets that fall in it, so most tokens cost a (c_1 + n)-way softmax instead of a V-way.

Unless ``model.cutoffs`` is given, :func:`auto_cutoffs` puts the first cutoff where the most
frequent characters cover 90 % of the training text and the second at 99 % (about 1,400 and
3,800 ranks on the whole corpus), rounded up to a multiple of 100.
"""

from __future__ import annotations

import numpy as np

from engine.config import ModelConfig

COVERAGE = (0.90, 0.99)  # share of training characters inside the head, then the first tail


def auto_cutoffs(counts: np.ndarray, coverage: tuple[float, ...] = COVERAGE) -> list[int]:
    """Cutoffs from per-rank token counts (V,): where the cumulative share reaches each level."""
    V = len(counts)
    total = float(counts.sum())
    if total <= 0 or V < 12:
        return [max(5, V // 2)] if V >= 10 else []
    cum = np.cumsum(counts) / total
    cuts: list[int] = []
    for q in coverage:
        k = int(np.searchsorted(cum, q)) + 1  # ranks needed to reach share q
        k = max(5, -(-k // 100) * 100 if k > 100 else k)
        if k < V - 1 and (not cuts or k > cuts[-1]):
            cuts.append(k)
    return cuts


def resolve_cutoffs(model: ModelConfig, counts: np.ndarray) -> None:
    """Fill ``model.cutoffs`` from the training counts when the adaptive softmax leaves it empty."""
    if model.softmax == "adaptive" and not model.cutoffs:
        model.cutoffs = auto_cutoffs(counts)


def check_cutoffs(cutoffs: list[int], vocab_size: int) -> None:
    if not cutoffs or cutoffs[-1] >= vocab_size:
        raise ValueError(f"model.cutoffs {cutoffs} must be non-empty and below the vocabulary "
                         f"size {vocab_size}")


def tail_dims(hidden: int, cutoffs: list[int], tail_div: float) -> list[int]:
    """d_i of every tail cluster (at least 1)."""
    return [max(1, int(hidden // (tail_div ** (i + 1)))) for i in range(len(cutoffs))]


def head_shapes(model: ModelConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the output layer: the full head, or the adaptive head and tails."""
    V, H = vocab_size, model.hidden_dim
    if model.softmax != "adaptive":
        return {"head.weight": (V, H), "head.bias": (V,)}
    cuts = list(model.cutoffs)
    check_cutoffs(cuts, V)
    shapes: dict[str, tuple[int, ...]] = {"head.weight": (cuts[0] + len(cuts), H),
                                          "head.bias": (cuts[0] + len(cuts),)}
    bounds = [*cuts, V]
    for i, d in enumerate(tail_dims(H, cuts, model.tail_div)):
        shapes[f"tail.{i}.proj.weight"] = (d, H)
        shapes[f"tail.{i}.out.weight"] = (bounds[i + 1] - bounds[i], d)
    return shapes


def cutoffs_of(params: dict[str, np.ndarray]) -> list[int]:
    """The cutoffs a set of adaptive weights implies ([] for a full softmax)."""
    n = sum(1 for k in params if k.endswith(".proj.weight") and k.startswith("tail."))
    if n == 0:
        return []
    cuts = [params["head.weight"].shape[0] - n]
    for i in range(n - 1):
        cuts.append(cuts[-1] + params[f"tail.{i}.out.weight"].shape[0])
    return cuts
