"""The language model as an ``nn.Module``: the NumPy engine's model, with autograd.

Shapes (B batch, T time, V vocabulary, E embedding, H hidden, L layers)::

    x (B, T) -> embedding (B, T, E) -> lstm (B, T, H) -> dropout -> output layer

The output layer is a full softmax (``head``: (B, T, H) -> logits (B, T, V)) or, with
``model.softmax = "adaptive"``, ``torch.nn.AdaptiveLogSoftmaxWithLoss`` (see
:mod:`engine.adaptive`). :func:`canonical_name` maps parameter names to those of
:mod:`engine.base` and :mod:`engine.adaptive` (``adaptive.tail.0.1.weight`` is
``tail.0.out.weight``), so checkpoints cross engines. The recurrent state is the ``(h, c)`` pair
of ``nn.LSTM``, each (L, B, H).
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from engine.adaptive import check_cutoffs
from engine.config import ModelConfig

HiddenState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H)

_TAIL = re.compile(r"^adaptive\.tail\.(\d+)\.([01])\.weight$")


def canonical_name(name: str) -> str:
    """A parameter's checkpoint name: ``adaptive.head.*`` -> ``head.*``, tails -> proj/out."""
    m = _TAIL.match(name)
    if m:
        return f"tail.{m.group(1)}.{'proj' if m.group(2) == '0' else 'out'}.weight"
    return name.removeprefix("adaptive.")


class LSTMLanguageModel(nn.Module):
    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, cfg.embed_dim)
        self.lstm = nn.LSTM(cfg.embed_dim, cfg.hidden_dim, num_layers=cfg.layers,
                            batch_first=True, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.adaptive: nn.AdaptiveLogSoftmaxWithLoss | None = None
        self.head: nn.Linear | None = None
        if cfg.softmax == "adaptive":
            check_cutoffs(list(cfg.cutoffs), vocab_size)
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                cfg.hidden_dim, vocab_size, list(cfg.cutoffs), div_value=cfg.tail_div,
                head_bias=True)
        else:
            self.head = nn.Linear(cfg.hidden_dim, vocab_size)

    def forward(self, x: torch.Tensor, state: HiddenState) -> tuple[torch.Tensor, HiddenState]:
        """x (B, T) int64, state (h, c) each (L, B, H) -> features (B, T, H), next state."""
        emb = self.embedding(x)  # (B, T, E)
        out, state = self.lstm(emb, state)  # (B, T, H)
        return self.drop(out), state

    def loss_sum(self, feats: torch.Tensor, y: torch.Tensor, ignore: int) -> torch.Tensor:
        """Summed -log p(y) over the targets that are not ``ignore``; feats (B, T, H)."""
        flat, y = feats.reshape(-1, feats.shape[-1]), y.reshape(-1)  # (N, H), (N,)
        if self.adaptive is None:
            return F.cross_entropy(self.head(flat), y, ignore_index=ignore,  # type: ignore[misc]
                                   reduction="sum")
        keep = y != ignore
        dtype = self.adaptive.head.weight.dtype  # autocast may hand over bf16 features
        out = self.adaptive(flat[keep].to(dtype), y[keep]).output  # (n,) target log-probs
        return -out.sum()

    def log_probs(self, feats: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (..., V) of the full distribution (logits for the full softmax)."""
        if self.adaptive is None:
            return self.head(feats)  # type: ignore[misc]
        shape = feats.shape[:-1]
        flat = feats.reshape(-1, feats.shape[-1]).to(self.adaptive.head.weight.dtype)
        out = self.adaptive.log_prob(flat)
        return out.reshape(*shape, self.vocab_size)

    def zero_state(self, batch: int) -> HiddenState:
        """(h, c) of zeros for ``batch`` sequences, on the model's device and dtype."""
        w = self.embedding.weight
        shape = (self.lstm.num_layers, batch, self.lstm.hidden_size)
        return (w.new_zeros(shape), w.new_zeros(shape))
