"""The interface every training engine implements (NumPy and Torch).

Weights are exchanged as ``dict[str, np.ndarray]`` under PyTorch's names and layouts::

    embedding.weight          (V, E)
    lstm.weight_ih_l{k}       (4H, E or H)   gates stacked i, f, g, o
    lstm.weight_hh_l{k}       (4H, H)
    lstm.bias_ih_l{k}         (4H,)
    lstm.bias_hh_l{k}         (4H,)
    head.weight               (V, H)
    head.bias                 (V,)

Optimizer state uses torch.optim's slot names (``exp_avg``, ``exp_avg_sq``, ``momentum_buffer``,
``sum``, ``square_avg``, ``acc_delta``) saved as ``"{slot}/{param}"`` tensors plus a JSON dict
(``{"step": int, ...}``), so a run can resume in either engine.

Stream mode carries the recurrent state of the training split from one window to the next; it
is part of a resumable position and travels as ``carry/h_l{k}``, ``carry/c_l{k}`` arrays (B, H)
(:meth:`Engine.carry_state`), which the trainer stores beside the optimizer slots.

Data is bound once per split (:meth:`Engine.bind`); the engine then cuts batches itself, so the
Torch engine can keep the token arrays on the device and read the loss back only when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from engine.carry import carry_from_arrays, carry_to_arrays
from engine.config import RunConfig
from engine.corpus.batching import Batches

__all__ = ["Engine", "State", "carry_from_arrays", "carry_to_arrays", "create_engine"]

State = Any  # engine-specific recurrent state: per layer (h, c), each (B, H)


class Engine(Protocol):
    name: ClassVar[str]  # "numpy" | "torch"
    config: RunConfig
    vocab_size: int

    def bind(self, key: str, batches: Batches) -> None:
        """Keep ``batches`` under ``key`` ("train", "test"); it may copy them to a device."""

    def train_batch(self, key: str, epoch: int, i: int) -> None:
        """Forward and backward on batch ``i`` of ``epoch``; add to the gradients and the loss sum.

        In stream mode the recurrent state is reset at ``i == 0`` and carried (detached) otherwise.
        """

    def apply_update(self, lr: float) -> None:
        """Step on the mean token loss of the batches since the last update, then zero grads.

        The gradient is that of ``sum of token losses / sum of counted tokens`` over all those
        batches (not a mean of per-batch means), clipped by global norm.
        """

    def pop_train_loss(self) -> tuple[float, int]:
        """(sum of per-token losses, counted tokens) since the last call; padding never counts,
        nor a stream's ``<bos>`` targets (see :mod:`engine.corpus.batching`)."""

    def evaluate(self, key: str, max_batches: int = 0,
                 stop: Callable[[], bool] | None = None) -> tuple[float, int]:
        """Loss sum and token count over the bound split without dropout (0 = every batch).

        ``stop`` is asked before each batch; when it returns True the sums so far come back.
        """

    def carry_state(self, key: str = "train") -> dict[str, np.ndarray]:
        """Stream mode: the state carried into the next window of ``key`` as
        ``carry/h_l{k}``, ``carry/c_l{k}`` arrays (B, H); {} when nothing is carried."""

    def set_carry_state(self, tensors: dict[str, np.ndarray], key: str = "train") -> None:
        """Restore what :meth:`carry_state` returned, from either engine ({} = nothing)."""

    def initial_state(self, batch: int) -> State:
        """Zero state for ``batch`` parallel sequences."""

    def step_logits(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """One step of inference: tokens (B,) int -> logits (B, V) float64 and the next state."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """Weights as NumPy arrays under PyTorch's names (see the module docstring)."""

    def load_state_dict(self, tensors: dict[str, np.ndarray]) -> None:
        """Replace the weights; shapes must match, dtypes are converted."""

    def optimizer_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Optimizer slots as ``"{slot}/{param}"`` arrays plus JSON-able scalars."""

    def load_optimizer_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Restore what :meth:`optimizer_state` returned (from either engine)."""

    def rng_state(self) -> dict[str, Any]:
        """JSON-able state of every random generator the engine uses (dropout)."""

    def set_rng_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`rng_state` returned."""


def create_engine(config: RunConfig, vocab_size: int,
                  weights: dict[str, np.ndarray] | None = None) -> Engine:
    """Build the engine named by ``config.engine`` with fresh weights, or with ``weights`` (no
    random draws: loading for inference is fast); torch is imported only for ``"torch"``."""
    if config.engine == "numpy":
        from engine.numpy_engine import NumpyEngine

        return NumpyEngine(config, vocab_size, weights)
    if config.engine == "torch":
        from engine.torch_engine import TorchEngine

        return TorchEngine(config, vocab_size, weights)
    raise ValueError(f"unknown engine {config.engine!r} (choose numpy or torch)")
