"""A bare PyTorch training loop, the yardstick of ``tangtui bench --engine torch``.

Nothing of the project around it: ``nn.Embedding`` -> ``nn.LSTM`` -> ``nn.Linear``, mean
cross-entropy, ``torch.optim.Adam``, the hidden state carried (detached) from one window of the
token array to the next, as in PyTorch's word-language-model example. The engine's own loop is
held to >= 0.95x of this loop's tokens/s, measured in the same process.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class BareLoop:
    def __init__(
        self, x: np.ndarray, y: np.ndarray, seq_len: int, vocab: int, embed: int, hidden: int,
        layers: int, device: torch.device, dtype: torch.dtype, bf16: bool, seed: int = 0,
    ) -> None:
        torch.manual_seed(seed)
        self.emb = nn.Embedding(vocab, embed).to(device, dtype)
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True).to(device, dtype)
        self.head = nn.Linear(hidden, vocab).to(device, dtype)
        params = [*self.emb.parameters(), *self.lstm.parameters(), *self.head.parameters()]
        self.opt = torch.optim.Adam(params, lr=1e-3)
        self.x = torch.as_tensor(x).to(device)  # (B, L)
        self.y = torch.as_tensor(y).to(device)  # (B, L)
        self.T, self.V, self.bf16, self.device = seq_len, vocab, bf16, device
        self.windows = x.shape[1] // seq_len
        self.hidden: tuple[torch.Tensor, torch.Tensor] | None = None
        self.last_loss = torch.zeros((), device=device)

    def step(self, i: int) -> None:
        """One update on window ``i % windows``; the state restarts at window 0."""
        w = i % self.windows
        x = self.x[:, w * self.T : (w + 1) * self.T]  # (B, T)
        y = self.y[:, w * self.T : (w + 1) * self.T]  # (B, T)
        if w == 0:
            self.hidden = None
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            out, (h, c) = self.lstm(self.emb(x), self.hidden)  # (B, T, H)
            logits = self.head(out)  # (B, T, V)
            loss = F.cross_entropy(logits.reshape(-1, self.V), y.reshape(-1))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.hidden = (h.detach(), c.detach())
        self.last_loss = loss.detach()
