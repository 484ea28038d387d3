"""The Torch engine on one rank of N: its share of every batch, DDP, all-reduced sums.

The global batch of G = ``train.batch_size`` rows is split into contiguous shares: rank r takes
rows ``[r*G//N, (r+1)*G//N)`` of the stream (stream mode) or of every length group (poem mode).
The epoch's batch order comes from ``(seed, epoch)`` on every rank alike (what
``DistributedSampler.set_epoch`` does for a sampler), so all ranks take the same number of steps
and an N-process run *is* the single-process run of batch G: it resumes with any N. (A
``DistributedSampler`` over poems would pad its last share by repeating poems, counting their
tokens twice, and would make the order depend on N.) A rank whose share of a short last group is
empty trains on one all-padding row: zero loss and zero gradient, but it joins the all-reduce.

With rank r's summed loss S_r over n_r counted tokens, DDP averages the gradients, so::

    g = (1/N) sum_r dS_r/dtheta,     divided by (sum_r n_r) / N     = d(sum_r S_r / sum_r n_r)

the gradient of the mean token loss of the whole batch, as in one process. Loss sums and token
counts are all-reduced before they are read, and so are the evaluation's; the stream state carried
between windows is gathered into the full (G, H) arrays a checkpoint holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from engine.checkpoint import Checkpoint, CheckpointError
from engine.config import ConfigError, RunConfig
from engine.corpus.batching import BOS, PAD, Batches
from engine.torch_engine.distributed import DistContext, all_reduce_sum, collective
from engine.torch_engine.engine import TorchEngine


class LossModule(torch.nn.Module):
    """The model and its loss in one ``forward``, so DDP sees every parameter the step uses."""

    def __init__(self, model: torch.nn.Module, forward: Callable[..., Any]) -> None:
        super().__init__()
        self.model = model
        object.__setattr__(self, "run", forward)  # the model itself, or its torch.compile

    def forward(self, x: torch.Tensor, state: Any, y: torch.Tensor,
                ignore: int) -> tuple[torch.Tensor, Any]:
        feats, state = self.run(x, state)  # (B, T, H)
        return self.model.loss_sum(feats, y, ignore), state


def share(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rows [start, stop) of rank ``rank`` among ``world`` contiguous shares of ``n`` rows."""
    return rank * n // world, (rank + 1) * n // world


def shard_batches(b: Batches, rank: int, world: int) -> Batches:
    """This rank's share of every batch of ``b`` (same number of batches, same order)."""
    if b.mode == "stream":
        start, stop = share(b.x.shape[0], rank, world)
        y = b.y[start:stop]
        return dataclasses.replace(b, batch_size=stop - start, x=b.x[start:stop], y=y,
                                   n_tokens=int((y != BOS).sum()))
    pad = len(b.rows)  # an all-padding row for an empty share: x = y = PAD, nothing counts
    rows = np.vstack([b.rows, np.full((1, b.rows.shape[1]), PAD, b.rows.dtype)])
    lengths = np.append(b.lengths, 2).astype(b.lengths.dtype)
    groups, tokens = [], 0
    for g in b.groups:
        start, stop = share(len(g), rank, world)
        part = g[start:stop]
        tokens += int((b.lengths[part] - 1).sum())
        groups.append(part if len(part) else np.array([pad], np.int64))
    return dataclasses.replace(b, rows=rows, lengths=lengths, groups=groups, n_tokens=tokens)


class DistributedTorchEngine(TorchEngine):
    """:class:`TorchEngine` for one rank: DDP around the model, its share of each split."""

    def __init__(self, config: RunConfig, vocab_size: int, ctx: DistContext,
                 weights: dict[str, np.ndarray] | None = None) -> None:
        super().__init__(config, vocab_size, weights)  # the same initial weights on every rank
        self.dist = ctx
        torch.manual_seed(config.train.seed + 1_000_003 * ctx.rank)  # own dropout draws
        ids = [self.device.index] if self.device.type == "cuda" else None
        # the adaptive softmax leaves a tail cluster unused when no target of a batch falls in it
        unused = config.model.softmax == "adaptive"
        self._ddp = collective(ctx, lambda: DDP(
            LossModule(self.model, self._forward), device_ids=ids,
            process_group=ctx.device_group, find_unused_parameters=unused))
        self._rows: dict[str, tuple[int, int, int]] = {}  # key -> (start, stop, global rows)

    def bind(self, key: str, batches: Batches) -> None:
        ctx = self.dist
        rows = batches.x.shape[0] if batches.mode == "stream" else batches.batch_size
        start, stop = share(rows, ctx.rank, ctx.world_size)
        if key.startswith("train") and stop == start:
            raise ConfigError(f"the training batch has {rows} row(s) for {ctx.world_size} "
                              f"processes (train.batch_size, or fewer streams on a small "
                              f"corpus); use at most {rows} processes")
        self._rows[key] = (start, stop, rows)
        super().bind(key, shard_batches(batches, ctx.rank, ctx.world_size))

    def _loss_and_state(self, x: torch.Tensor, y: torch.Tensor, ignore: int,
                        state: Any) -> tuple[torch.Tensor, Any]:
        if not torch.is_grad_enabled():  # evaluation: nothing to all-reduce
            return super()._loss_and_state(x, y, ignore, state)
        return self._ddp(x, state, y, ignore)

    def _grad_divisor(self, dtype: torch.dtype) -> torch.Tensor:
        tokens = all_reduce_sum(self.dist, self._accum_tokens.clone())  # sum_r n_r
        return tokens.clamp(min=1).to(dtype) / self.dist.world_size  # DDP already averaged

    def train_batch(self, key: str, epoch: int, i: int) -> None:
        collective(self.dist, lambda: super(DistributedTorchEngine, self).train_batch(key, epoch,
                                                                                        i))

    def apply_update(self, lr: float) -> None:
        collective(self.dist, lambda: super(DistributedTorchEngine, self).apply_update(lr))

    def pop_train_loss(self) -> tuple[float, int]:
        packed = torch.stack([self._loss_sum, self._tokens_dev.to(self._loss_sum.dtype)])
        all_reduce_sum(self.dist, packed)
        self._loss_sum.zero_()
        self._tokens_dev.zero_()
        return float(packed[0].item()), int(round(float(packed[1].item())))

    def evaluate(self, key: str, max_batches: int = 0,
                 stop: Callable[[], bool] | None = None) -> tuple[float, int]:
        start, stop_row, _ = self._rows[key]
        if stop_row > start:
            loss, n = super().evaluate(key, max_batches, stop)
        else:  # no rows of this split here: ask `stop` as often as the others do
            loss, n = 0.0, 0
            batches = self._data[key].n
            for _ in range(batches if max_batches <= 0 else min(max_batches, batches)):
                if stop is not None and stop():
                    break
        packed = torch.tensor([loss, float(n)], dtype=torch.float64)
        all_reduce_sum(self.dist, packed)
        return float(packed[0]), int(round(float(packed[1])))

    def carry_state(self, key: str = "train") -> dict[str, np.ndarray]:
        """The full (G, H) carried state: every rank's rows, summed into place (all ranks)."""
        local = super().carry_state(key)
        if not local:
            return {}
        start, stop, rows = self._rows[key]
        out: dict[str, np.ndarray] = {}
        for name in sorted(local):
            arr = local[name]  # (B_r, H)
            full = torch.zeros((rows, arr.shape[1]), dtype=torch.float64)  # (G, H)
            full[start:stop] = torch.from_numpy(arr.astype(np.float64))
            out[name] = all_reduce_sum(self.dist, full).numpy().astype(arr.dtype)
        return out

    def set_carry_state(self, tensors: dict[str, np.ndarray], key: str = "train") -> None:
        """Take this rank's rows of a full (G, H) carried state (saved with any N)."""
        carry = {k: v for k, v in tensors.items() if k.startswith("carry/")}
        start, stop, rows = self._rows.get(key, (0, 0, 0))
        for name, arr in carry.items():
            if arr.ndim != 2 or arr.shape[0] != rows:
                raise CheckpointError(f"carried state {name} has {arr.shape[0]} rows; this run "
                                      f"has {rows} streams (train.batch_size changed?)")
        super().set_carry_state({k: v[start:stop] for k, v in carry.items()}, key)

    def set_rng_state(self, state: dict[str, Any]) -> None:
        """Rank 0 restores its saved generators; the others draw from their own seed again."""
        if self.dist.is_main:
            super().set_rng_state(state)
        else:
            torch.manual_seed(self.config.train.seed + 1_000_003 * self.dist.rank + self.updates)


class FollowerKeeper:
    """The checkpoint keeper of a rank other than 0: the same decisions, nothing written."""

    def __init__(self) -> None:
        self.root = Path("checkpoints")  # never created

    def save(self, ckpt: Checkpoint, step: int, best: bool = False) -> Path:
        return self.root / f"step-{step:08d}"

    def steps(self) -> list[Path]:
        return []

    def discard_after(self, step: int) -> bool:
        return False

    def latest(self) -> Path | None:
        return None

    def best(self) -> Path | None:
        return None
