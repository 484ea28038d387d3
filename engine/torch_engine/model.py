"""The language model as an ``nn.Module``: the NumPy engine's model, with autograd.

Shapes (B batch, T time, V vocabulary, E embedding, H hidden, L layers)::

    x (B, T) -> embedding (B, T, E) -> lstm (B, T, H) -> dropout -> head (B, T, V) logits

``state_dict()`` keys are exactly those of :mod:`engine.base`: ``embedding.weight``,
``lstm.{weight_ih,weight_hh,bias_ih,bias_hh}_l{k}``, ``head.weight``, ``head.bias``.
The recurrent state is the ``(h, c)`` pair of ``nn.LSTM``, each (L, B, H).
"""

from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig

HiddenState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H)


class LSTMLanguageModel(nn.Module):
    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, cfg.embed_dim)
        self.lstm = nn.LSTM(cfg.embed_dim, cfg.hidden_dim, num_layers=cfg.layers,
                            batch_first=True, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden_dim, vocab_size)

    def forward(self, x: torch.Tensor, state: HiddenState) -> tuple[torch.Tensor, HiddenState]:
        """x (B, T) int64, state (h, c) each (L, B, H) -> logits (B, T, V), next state."""
        emb = self.embedding(x)  # (B, T, E)
        out, state = self.lstm(emb, state)  # (B, T, H)
        return self.head(self.drop(out)), state  # (B, T, V)

    def zero_state(self, batch: int) -> HiddenState:
        """(h, c) of zeros for ``batch`` sequences, on the model's device and dtype."""
        w = self.head.weight
        shape = (self.lstm.num_layers, batch, self.lstm.hidden_size)
        return (w.new_zeros(shape), w.new_zeros(shape))
