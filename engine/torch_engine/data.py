"""Batches kept on the device: uploaded once by ``bind``, cut there for every step.

``stream``: x, y (B, L) on the device; batch i is the column window ``[i*T, min((i+1)*T, L))``.
``poem``: the padded rows (N, W) on the device and each group's row indices; batch i of an
epoch is ``rows[group, :width + 1]`` for the group at position i of :meth:`Batches.order`,
split into x = block[:, :-1] and y = block[:, 1:]; the mask is ``y != PAD``.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.corpus.batching import Batches


class DeviceBatches:
    def __init__(self, batches: Batches, device: torch.device) -> None:
        self.batches = batches
        self.mode = batches.mode
        self.seq_len = batches.seq_len
        self.n = batches.num_batches()
        if self.mode == "stream":
            self.x = torch.as_tensor(batches.x, dtype=torch.int64).to(device)  # (B, L)
            self.y = torch.as_tensor(batches.y, dtype=torch.int64).to(device)  # (B, L)
            self.length = int(batches.x.shape[1])
        else:
            self.rows = torch.as_tensor(batches.rows, dtype=torch.int64).to(device)  # (N, W)
            self.groups = [torch.as_tensor(g, dtype=torch.int64).to(device)
                           for g in batches.groups]
            self.widths = [int(batches.lengths[g].max()) - 1 for g in batches.groups]
        self._order: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        """The epoch's batch order (cached: it is asked for at every step)."""
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, self.batches.order(epoch))
        return self._order[1]

    def stream_window(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) of stream window i, each (B, T) (the last window may be shorter)."""
        start = i * self.seq_len
        stop = min(start + self.seq_len, self.length)
        return self.x[:, start:stop], self.y[:, start:stop]

    def poem_block(self, epoch: int, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) of poem batch i of ``epoch``, each (B, T) with PAD where a row has ended."""
        g = int(self.order(epoch)[i])
        block = self.rows[self.groups[g], : self.widths[g] + 1]  # (B, T + 1)
        return block[:, :-1], block[:, 1:]
