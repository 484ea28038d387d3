"""The NumPy engine behind :class:`engine.base.Engine`: numpy and the standard library only."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from engine.carry import carry_from_arrays, carry_to_arrays
from engine.checkpoint import CheckpointError
from engine.config import RunConfig
from engine.corpus.batching import Batches
from engine.init import init_params, param_shapes
from engine.numpy_engine.model import LanguageModel, State, step
from engine.numpy_engine.optim import Optimizer
from engine.numpy_engine.threads import over_items


def numpy_dtype(precision: str) -> type:
    """float64 for ``fp64``; float32 otherwise (tf32 and bf16 mean nothing on the CPU)."""
    return np.float64 if precision == "fp64" else np.float32


class NumpyEngine:
    """Trains the LSTM language model with hand-written BPTT and optimizers.

    Gradient accumulation: with batches b = 1..k of n_b counted target tokens since the last
    update, :meth:`train_batch` adds the gradient of each batch's *summed* token loss, and
    :meth:`apply_update` divides by the total count, so the step follows the mean over every
    counted token of the k batches (batches of different sizes weigh by their tokens)::

        g = (1 / sum_b n_b) * sum_b grad sum_{t in b} -log p(y_t)

    It then clips g to a global L2 norm of ``optim.clip`` (as ``torch.nn.utils.clip_grad_norm_``)
    and steps the optimizer. The trainer calls it every ``optim.accum`` batches, or once at the
    end of each epoch when ``accum`` is 0 (full-batch gradient descent).

    Stream mode carries the training split's (h, c) from one window to the next;
    :meth:`carry_state` / :meth:`set_carry_state` expose it for checkpoints.

    Dropout masks come from this engine's own ``np.random.Generator`` (seeded from
    ``train.seed``), whose state :meth:`rng_state` exposes for checkpoints.
    """

    name: ClassVar[str] = "numpy"

    def __init__(self, config: RunConfig, vocab_size: int,
                 weights: dict[str, np.ndarray] | None = None) -> None:
        """Fresh weights from ``model.init``, or ``weights`` (a checkpoint's) without drawing
        any; the optimizer's state is built on first use, so inference never pays for it."""
        self.config = config
        self.vocab_size = vocab_size
        self.dtype = numpy_dtype(config.train.precision)
        if weights is None:
            self.params = init_params(config.model, vocab_size, config.train.seed, self.dtype)
        else:
            self.params = {k: np.empty(s, self.dtype)
                           for k, s in param_shapes(config.model, vocab_size).items()}
            self.load_state_dict(weights)
        self.model = LanguageModel(config.model.layers, self.dtype)
        self._optimizer: Optimizer | None = None
        self.rng = np.random.default_rng([config.train.seed, 1])  # dropout only
        self.grads: dict[str, np.ndarray] = {}  # gradient of the summed loss; while accumulated
        self.accumulated = 0  # batches added to ``grads`` since the last update
        self.accumulated_tokens = 0.0  # their counted target tokens (the divisor of the update)
        self.last_grad_norm = 0.0  # global norm before clipping, of the last update
        self._batches: dict[str, Batches] = {}
        self._carry: dict[str, State | None] = {}  # stream mode: state between windows
        self._loss_sum = 0.0
        self._loss_count = 0

    @property
    def optimizer(self) -> Optimizer:
        if self._optimizer is None:
            self._optimizer = Optimizer(self.config.optim, self.params)
        return self._optimizer

    # -- training -------------------------------------------------------------------------
    def bind(self, key: str, batches: Batches) -> None:
        self._batches[key] = batches
        self._carry[key] = None

    def _state_for(self, key: str, batches: Batches, i: int, B: int) -> State | None:
        if batches.mode != "stream" or i == 0:
            return None
        state = self._carry.get(key)
        return state if state is not None and state[0][0].shape[0] == B else None

    def train_batch(self, key: str, epoch: int, i: int) -> None:
        batches = self._batches[key]
        x, y, mask = batches.batch(epoch, i)
        state = self._state_for(key, batches, i, x.shape[0])
        out, cache = self.model.forward(self.params, x, y, mask, state,
                                        self.config.model.dropout, self.rng, summed_grad=True)
        # the model's backward is of dout * mean loss: dout = count makes it the summed loss
        # (count / count is exactly 1.0, so no rounding is added)
        grads = self.model.backward(max(out.count, 1.0), cache)  # fresh arrays: safe to keep
        if self.accumulated == 0:
            self.grads = grads
        else:
            for k, g in grads.items():
                self.grads[k] += g
        self.accumulated += 1
        self.accumulated_tokens += out.count
        if batches.mode == "stream":
            self._carry[key] = out.state  # into the next window (poems start from zeros)
        self._loss_sum += out.loss_sum
        self._loss_count += int(round(out.count))

    def apply_update(self, lr: float) -> None:
        if self.accumulated == 0:
            return
        n = max(self.accumulated_tokens, 1.0)  # mean over every counted token
        grads = self.grads
        names = sorted(grads, key=lambda k: -grads[k].size)
        size = sum(g.size for g in grads.values())
        squares: dict[str, float] = {}

        def square(k: str) -> None:
            squares[k] = float(np.vdot(grads[k], grads[k]))

        over_items(names, square, size)
        norm = math.sqrt(sum(squares.values())) / n  # of the mean gradient g / n
        self.last_grad_norm = norm
        coef = 1.0 / n
        clip = self.config.optim.clip
        if clip > 0 and clip / (norm + 1e-6) < 1.0:  # torch.nn.utils.clip_grad_norm_
            coef *= clip / (norm + 1e-6)

        def scale(k: str) -> None:
            grads[k] *= coef  # one pass: the mean and the clipping together

        over_items(names, scale, size)
        self.optimizer.step(self.params, grads, lr)
        self.accumulated, self.accumulated_tokens = 0, 0.0

    def pop_train_loss(self) -> tuple[float, int]:
        out = (self._loss_sum, self._loss_count)
        self._loss_sum, self._loss_count = 0.0, 0
        return out

    def evaluate(self, key: str, max_batches: int = 0,
                 stop: Callable[[], bool] | None = None) -> tuple[float, int]:
        batches = self._batches[key]
        n = batches.num_batches()
        if max_batches:
            n = min(n, max_batches)
        total, count = 0.0, 0
        state: State | None = None
        for i in range(n):
            if stop is not None and stop():
                break
            x, y, mask = batches.batch(0, i)
            if batches.mode != "stream" or (state is not None and state[0][0].shape[0] != len(x)):
                state = None
            out, _ = self.model.forward(self.params, x, y, mask, state)
            state = out.state
            total += out.loss_sum
            count += int(round(out.count))
        return total, count

    def carry_state(self, key: str = "train") -> dict[str, np.ndarray]:
        """Stream mode: the (h, c) carried into the next window of ``key``; {} when none."""
        state = self._carry.get(key)
        return {} if state is None else carry_to_arrays(state)

    def set_carry_state(self, tensors: dict[str, np.ndarray], key: str = "train") -> None:
        """Restore what :meth:`carry_state` returned (from either engine); {} means none."""
        self._carry[key] = carry_from_arrays(tensors, self.config.model.layers,
                                             self.config.model.hidden_dim, self.dtype)

    # -- inference ------------------------------------------------------------------------
    def initial_state(self, batch: int) -> State:
        return self.model.zero_state(self.params, batch)

    def step_logits(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        logits, new_state = step(self.params, np.asarray(tokens, np.int64), state)
        return logits.astype(np.float64), new_state

    # -- persistence ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: p.copy() for k, p in self.params.items()}

    def load_state_dict(self, tensors: dict[str, np.ndarray]) -> None:
        expected = param_shapes(self.config.model, self.vocab_size)
        missing = sorted(expected.keys() - tensors.keys())
        extra = sorted(tensors.keys() - expected.keys())
        if missing or extra:
            raise CheckpointError(f"weights do not fit this model: missing {missing or '-'}, "
                                  f"unexpected {extra or '-'}")
        for k, shape in expected.items():
            if tuple(np.shape(tensors[k])) != shape:
                raise CheckpointError(f"weight {k} has shape {tuple(np.shape(tensors[k]))}, "
                                      f"the model needs {shape}")
        for k, p in self.params.items():
            np.copyto(p, np.asarray(tensors[k]), casting="unsafe")

    def optimizer_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return self.optimizer.state()

    def load_optimizer_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.optimizer.load_state(tensors, meta)

    def rng_state(self) -> dict[str, Any]:
        return {"dropout": self.rng.bit_generator.state}

    def set_rng_state(self, state: dict[str, Any]) -> None:
        if "dropout" in state:
            self.rng.bit_generator.state = state["dropout"]
