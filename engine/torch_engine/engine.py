"""The Torch engine: the NumPy engine's model and training step, with autograd on any device.

One training step on batch b of n_b counted target tokens::

    loss_b = sum_t CE(logits_t, y_t) * mask_t          (sum over the batch's counted tokens)
    grad  += d loss_b / d theta,     n += n_b          (the summed loss; n stays on the device)

and :meth:`apply_update` divides by n (so k accumulated batches give the gradient of the mean
over all their tokens, batches weighing by their token counts), clips to a global norm, and
steps the optimizer; exactly what the NumPy engine does. ``mask`` is ``y != PAD`` in poem mode
and ``y != BOS`` in stream mode (a ``<bos>`` after ``<eos>`` is certain; it never counts), both
as ``ignore_index``. The loss sum and the token count stay on the device until
:meth:`pop_train_loss` reads them (one sync).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from engine.carry import carry_from_arrays, carry_to_arrays
from engine.checkpoint import CheckpointError
from engine.config import RunConfig
from engine.corpus.batching import BOS, PAD, Batches
from engine.init import init_params
from engine.torch_engine.data import DeviceBatches
from engine.torch_engine.device import resolve_placement
from engine.torch_engine.model import HiddenState, LSTMLanguageModel, canonical_name
from engine.torch_engine.optim import build_optimizer, export_state, import_state

State = list[tuple[np.ndarray, np.ndarray]]  # per layer (h, c), each (B, H), as for NumPy


class TorchEngine:
    name: ClassVar[str] = "torch"

    def __init__(self, config: RunConfig, vocab_size: int,
                 weights: dict[str, np.ndarray] | None = None) -> None:
        self.config = config
        self.vocab_size = vocab_size
        self.placement = resolve_placement(config.train.device, config.train.precision)
        self.device = self.placement.device
        torch.manual_seed(config.train.seed)  # dropout draws (CPU and every CUDA device)
        self.model = LSTMLanguageModel(config.model, vocab_size).to(
            device=self.device, dtype=self.placement.dtype)
        np_dtype = np.float64 if self.placement.dtype == torch.float64 else np.float32
        self.load_state_dict(weights if weights is not None else
                             init_params(config.model, vocab_size, config.train.seed, np_dtype))
        named = list(self.model.named_parameters())
        self._names = [canonical_name(n) for n, _ in named]
        self._params = [p for _, p in named]
        self.optimizer = build_optimizer(config.optim, self._params)
        self._forward = torch.compile(self.model) if config.train.compile else self.model
        self._data: dict[str, DeviceBatches] = {}
        self._carry: dict[str, HiddenState] = {}  # stream mode: detached (h, c) per split
        acc_dtype = torch.float32 if self.device.type == "mps" else torch.float64
        self._loss_sum = torch.zeros((), device=self.device, dtype=acc_dtype)
        self._tokens_dev = torch.zeros((), device=self.device, dtype=torch.int64)  # to report
        self._accum_tokens = torch.zeros((), device=self.device, dtype=torch.int64)  # to divide
        self._accumulated = 0  # batches since the last update
        self.updates = 0  # optimizer steps taken (saved as the optimizer's "step")
        self._grad_norm: torch.Tensor | None = None  # before clipping, of the last update

    # ----------------------------------------------------------------- training
    def bind(self, key: str, batches: Batches) -> None:
        self._data[key] = DeviceBatches(batches, self.device)
        self._carry.pop(key, None)

    def _loss(
        self, data: DeviceBatches, epoch: int, i: int, state: HiddenState | None
    ) -> tuple[torch.Tensor, torch.Tensor, HiddenState]:
        """(loss sum, counted tokens, next state) of batch i; autocast as the precision says."""
        if data.mode == "stream":
            x, y = data.stream_window(i)  # (B, T)
            ignore = BOS  # the certain <bos> after each <eos>; a stream has no padding
        else:
            x, y = data.poem_block(epoch, i)  # (B, T)
            ignore = PAD
        count = (y != ignore).sum()  # on the device: no sync
        if state is None:
            state = self.model.zero_state(x.shape[0])
        with self.placement.autocast():
            feats, state = self._forward(x, state)  # (B, T, H)
            loss = self.model.loss_sum(feats, y, ignore)
        return loss, count, state

    def train_batch(self, key: str, epoch: int, i: int) -> None:
        data = self._data[key]
        if not self.model.training:
            self.model.train()
        state = self._carry.get(key) if data.mode == "stream" and i != 0 else None
        loss, count, state = self._loss(data, epoch, i, state)
        if data.mode == "stream":
            self._carry[key] = (state[0].detach(), state[1].detach())
        loss.backward()  # the summed loss: apply_update divides by all the batches' tokens
        self._tokens_dev += count
        self._accum_tokens += count
        self._loss_sum += loss.detach()
        self._accumulated += 1

    def apply_update(self, lr: float) -> None:
        if self._accumulated == 0:
            return
        grads = [p.grad for p in self._params if p.grad is not None]
        if grads:  # mean over every counted token of the k batches, without a sync
            torch._foreach_div_(grads, self._accum_tokens.clamp(min=1).to(grads[0].dtype))
        if self.config.optim.clip > 0:  # g <- g * min(1, clip / (||g|| + 1e-6))
            self._grad_norm = torch.nn.utils.clip_grad_norm_(self._params, self.config.optim.clip)
        else:
            self._grad_norm = torch.nn.utils.get_total_norm(grads)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self._accumulated = 0
        self._accum_tokens.zero_()
        self.updates += 1

    @property
    def last_grad_norm(self) -> float:
        """Global gradient norm (before clipping) of the last update; reading it syncs."""
        return 0.0 if self._grad_norm is None else float(self._grad_norm.item())

    def pop_train_loss(self) -> tuple[float, int]:
        loss = float(self._loss_sum.item())  # the one device sync
        tokens = int(self._tokens_dev.item())
        self._loss_sum.zero_()
        self._tokens_dev.zero_()
        return loss, tokens

    # --------------------------------------------------------------- inference
    @torch.no_grad()
    def evaluate(self, key: str, max_batches: int = 0,
                 stop: Callable[[], bool] | None = None) -> tuple[float, int]:
        data = self._data[key]
        n = data.n if max_batches <= 0 else min(max_batches, data.n)
        was_training = self.model.training
        self.model.eval()
        total = torch.zeros((), device=self.device, dtype=self._loss_sum.dtype)
        tokens = torch.zeros((), device=self.device, dtype=torch.int64)
        state: HiddenState | None = None
        for i in range(n):
            if stop is not None and stop():
                break
            loss, count, next_state = self._loss(data, 0, i, state)
            total += loss
            tokens += count
            if data.mode == "stream":
                state = next_state  # carried through the split
        self.model.train(was_training)
        return float(total.item()), int(tokens.item())

    def carry_state(self, key: str = "train") -> dict[str, np.ndarray]:
        """Stream mode: the (h, c) carried into the next window of ``key``; {} when none."""
        carry = self._carry.get(key)
        if carry is None:
            return {}
        h, c = (t.float().cpu().numpy() if t.dtype == torch.bfloat16 else t.cpu().numpy()
                for t in carry)  # (L, B, H); safetensors' NumPy side has no bfloat16
        return carry_to_arrays([(h[k], c[k]) for k in range(h.shape[0])])

    def set_carry_state(self, tensors: dict[str, np.ndarray], key: str = "train") -> None:
        """Restore what :meth:`carry_state` returned (from either engine); {} means none."""
        mc = self.config.model
        state = carry_from_arrays(tensors, mc.layers, mc.hidden_dim, np.float64)
        if state is None:
            self._carry.pop(key, None)
            return
        dtype, dev = self.placement.dtype, self.device
        h = torch.from_numpy(np.stack([s[0] for s in state])).to(dev, dtype)  # (L, B, H)
        c = torch.from_numpy(np.stack([s[1] for s in state])).to(dev, dtype)
        self._carry[key] = (h, c)

    def initial_state(self, batch: int) -> State:
        dtype = np.float64 if self.placement.dtype == torch.float64 else np.float32
        H = self.config.model.hidden_dim
        return [(np.zeros((batch, H), dtype), np.zeros((batch, H), dtype))
                for _ in range(self.config.model.layers)]

    @torch.no_grad()
    def step_logits(self, tokens: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        was_training = self.model.training
        self.model.eval()
        dtype, dev = self.placement.dtype, self.device
        h = torch.from_numpy(np.stack([s[0] for s in state])).to(dev, dtype)  # (L, B, H)
        c = torch.from_numpy(np.stack([s[1] for s in state])).to(dev, dtype)  # (L, B, H)
        x = torch.as_tensor(np.asarray(tokens, np.int64)).to(dev)[:, None]  # (B, 1)
        with self.placement.autocast():
            feats, (h, c) = self.model(x, (h, c))  # (B, 1, H)
            logits = self.model.log_probs(feats)  # (B, 1, V)
        self.model.train(was_training)
        out = logits[:, 0].double().cpu().numpy()  # (B, V)
        h_np, c_np = h.to(dtype).cpu().numpy(), c.to(dtype).cpu().numpy()  # bf16 -> fp32
        return out, [(h_np[k], c_np[k]) for k in range(h_np.shape[0])]

    # -------------------------------------------------------------- state i/o
    def state_dict(self) -> dict[str, np.ndarray]:
        return {canonical_name(n): p.detach().cpu().numpy().copy()
                for n, p in self.model.named_parameters()}

    def load_state_dict(self, tensors: dict[str, np.ndarray]) -> None:
        own = {canonical_name(n): p for n, p in self.model.named_parameters()}
        missing, extra = sorted(own.keys() - tensors.keys()), sorted(tensors.keys() - own.keys())
        if missing or extra:
            raise CheckpointError(f"weights do not fit this model: missing {missing or '-'}, "
                                  f"unexpected {extra or '-'}")
        with torch.no_grad():
            for name, p in own.items():
                arr = np.asarray(tensors[name])
                if tuple(arr.shape) != tuple(p.shape):
                    raise CheckpointError(f"weight {name} has shape {tuple(arr.shape)}, "
                                          f"the model needs {tuple(p.shape)}")
                p.copy_(torch.from_numpy(np.ascontiguousarray(arr)).to(p.dtype))

    def optimizer_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return export_state(self.optimizer, self._names, self.config.optim.name, self.updates)

    def load_optimizer_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.updates = import_state(self.optimizer, self._names, self.config.optim.name,
                                    tensors, meta)

    def rng_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"torch_cpu": _b64(torch.get_rng_state())}
        if self.device.type == "cuda":
            state["torch_cuda"] = [_b64(s) for s in torch.cuda.get_rng_state_all()]
        return state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        """Restore the dropout generators; state from another engine (no torch keys) is ignored."""
        if "torch_cpu" in state:
            torch.set_rng_state(_unb64(state["torch_cpu"]))
        if "torch_cuda" in state and self.device.type == "cuda":
            saved = [_unb64(s) for s in state["torch_cuda"]]
            if len(saved) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(saved)


def _b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.cpu().numpy().tobytes()).decode("ascii")


def _unb64(s: str) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(base64.b64decode(s), dtype=np.uint8).copy())
