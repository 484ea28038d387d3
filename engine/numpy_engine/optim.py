"""Optimizers written out, each matching ``torch.optim``'s update (defaults: no dampening, no
AMSGrad, not centred) step for step, under torch's state slot names.

With gradient g, parameter p, learning rate lr, step count t (from 1) and weight decay wd, every
optimizer first adds the L2 term as torch does: g <- g + wd * p. Then::

    sgd       p <- p - lr g
    momentum  b <- mu b + g;                         p <- p - lr b            (momentum_buffer)
    nag       b <- mu b + g;                         p <- p - lr (g + mu b)   (momentum_buffer)
    adagrad   s <- s + g^2;                          p <- p - lr g / (sqrt(s) + eps)      (sum)
    rmsprop   v <- a v + (1 - a) g^2;                p <- p - lr g / (sqrt(v) + eps) (square_avg)
    adadelta  v <- rho v + (1 - rho) g^2                                         (square_avg)
              d  = sqrt(u + eps) / sqrt(v + eps) * g
              u <- rho u + (1 - rho) d^2;            p <- p - lr d                (acc_delta)
    adam      m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2           (exp_avg, exp_avg_sq)
              p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

Buffers start at zero, which equals torch's first-step ``buf = g`` for momentum (no dampening).
:meth:`Optimizer.step` updates ``params`` in place and uses ``grads`` as scratch (their values
are consumed). Parameters are updated on all cores at once (their updates are independent).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.checkpoint import CheckpointError
from engine.config import OPTIMIZERS, OptimConfig
from engine.numpy_engine.threads import over_items
from engine.optim_defaults import optim_eps

BLOCK = 1 << 16  # elements of a parameter updated together: its arrays' blocks stay in cache

SLOTS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum_buffer",),
    "nag": ("momentum_buffer",),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg",),
    "adadelta": ("square_avg", "acc_delta"),
    "adam": ("exp_avg", "exp_avg_sq"),
}


def adadelta_eps(cfg: OptimConfig) -> float:
    """Adadelta's eps: ``optim.eps``, or torch's 1e-6 when it is 0 (see engine.optim_defaults)."""
    return optim_eps(cfg)


class Optimizer:
    """One of :data:`engine.config.OPTIMIZERS` over a dict of parameters."""

    def __init__(self, cfg: OptimConfig, params: dict[str, np.ndarray]) -> None:
        if cfg.name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {cfg.name!r} (choose {', '.join(OPTIMIZERS)})")
        self.cfg = cfg
        self.name = cfg.name
        self.eps = optim_eps(cfg)  # optim.eps, or this optimizer's standard one
        self.t = 0  # updates taken
        self.slots: dict[str, dict[str, np.ndarray]] = {
            slot: {k: np.zeros_like(p) for k, p in params.items()} for slot in SLOTS[cfg.name]
        }
        self._tmp = {k: np.empty_like(p) for k, p in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
        """One update of every parameter with learning rate ``lr``.

        The update runs block by block (:data:`BLOCK` elements of a parameter at a time, its
        dozen passes while the block is in cache), the blocks shared among the cores."""
        self.t += 1
        update = getattr(self, f"_{self.name}")
        wd = self.cfg.weight_decay
        items = [(k, lo, min(lo + BLOCK, p.size))
                 for k, p in sorted(params.items(), key=lambda kp: -kp[1].size)
                 for lo in range(0, p.size, BLOCK)]

        def one(item: tuple[str, int, int]) -> None:
            k, lo, hi = item
            p, g = _flat(params[k])[lo:hi], _flat(grads[k])[lo:hi]
            if wd:
                g += wd * p
            slots = {slot: _flat(d[k])[lo:hi] for slot, d in self.slots.items()}
            update(slots, p, g, lr, _flat(self._tmp[k])[lo:hi])

        over_items(items, one, sum(p.size for p in params.values()))

    def _sgd(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        g *= lr
        p -= g

    def _momentum(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        b = slot["momentum_buffer"]
        b *= self.cfg.momentum
        b += g
        np.multiply(b, lr, out=tmp)
        p -= tmp

    def _nag(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        b = slot["momentum_buffer"]
        b *= self.cfg.momentum
        b += g
        np.multiply(b, self.cfg.momentum, out=tmp)
        tmp += g  # look-ahead direction g + mu b
        tmp *= lr
        p -= tmp

    def _adagrad(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        acc = slot["sum"]
        np.multiply(g, g, out=tmp)
        acc += tmp
        _scaled_step(p, g, acc, 1.0, self.eps, lr, tmp)

    def _rmsprop(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        v = slot["square_avg"]
        _ema_square(v, g, self.cfg.alpha, tmp)
        _scaled_step(p, g, v, 1.0, self.eps, lr, tmp)

    def _adadelta(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        v, u = slot["square_avg"], slot["acc_delta"]
        rho, eps = self.cfg.rho, self.eps
        _ema_square(v, g, rho, tmp)
        np.add(v, eps, out=tmp)
        np.sqrt(tmp, out=tmp)  # sqrt(v + eps)
        np.divide(g, tmp, out=g)
        np.add(u, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        g *= tmp  # d = sqrt(u + eps) / sqrt(v + eps) * g
        _ema_square(u, g, rho, tmp)
        g *= lr
        p -= g

    def _adam(self, slot: dict[str, np.ndarray], p: np.ndarray, g: np.ndarray, lr: float,
            tmp: np.ndarray) -> None:
        m, v = slot["exp_avg"], slot["exp_avg_sq"]
        b1, b2 = self.cfg.beta1, self.cfg.beta2
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        _ema_square(v, g, b2, tmp)
        step_size = lr / (1.0 - b1**self.t)
        _scaled_step(p, m, v, 1.0 / math.sqrt(1.0 - b2**self.t), self.eps, step_size, tmp)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Slots as ``"{slot}/{param}"`` arrays, and ``{"name", "step"}``."""
        tensors = {f"{slot}/{k}": a.copy() for slot, d in self.slots.items() for k, a in d.items()}
        return tensors, {"name": self.name, "step": self.t}

    def load_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Restore :meth:`state`'s output (or the Torch engine's); missing slots restart at zero."""
        saved = meta.get("name", self.name)
        if saved != self.name:
            raise CheckpointError(f"optimizer state is for {saved!r} but the run uses "
                                  f"{self.name!r}; resume with optim.name={saved}")
        for slot, d in self.slots.items():
            for k, a in d.items():
                src = tensors.get(f"{slot}/{k}")
                if src is None:
                    a.fill(0)
                    continue
                if src.shape != a.shape:
                    raise CheckpointError(f"optimizer slot {slot}/{k} has shape {src.shape}, "
                                          f"expected {a.shape}")
                a[...] = src
        self.t = int(meta.get("step", 0))


def _flat(a: np.ndarray) -> np.ndarray:
    """A flat view of a C-contiguous array (updates through it must reach the array)."""
    if not a.flags.c_contiguous:
        raise ValueError("optimizer arrays must be C-contiguous")
    return a.reshape(-1)


def _ema_square(v: np.ndarray, g: np.ndarray, decay: float, tmp: np.ndarray) -> None:
    """v = decay * v + (1 - decay) * g^2, in place (``tmp`` is scratch)."""
    v *= decay
    np.multiply(g, g, out=tmp)
    tmp *= 1.0 - decay
    v += tmp


def _scaled_step(p: np.ndarray, num: np.ndarray, v: np.ndarray, scale: float, eps: float,
                 lr: float, tmp: np.ndarray) -> None:
    """p -= lr * num / (sqrt(v) * scale + eps), in place (``tmp`` is scratch)."""
    np.sqrt(v, out=tmp)
    if scale != 1.0:
        tmp *= scale
    tmp += eps
    np.divide(num, tmp, out=tmp)
    tmp *= lr
    p -= tmp
