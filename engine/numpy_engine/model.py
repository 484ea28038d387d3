"""The language model: embedding -> N LSTM layers -> dropout -> linear head -> softmax + CE.

With tokens x (B, T), targets y (B, T) and an optional mask m (B, T) (1 on real targets)::

    e_t   = E[x_t]                                  (B, E)    embedding.weight E (V, E)
    h^k_t = LSTM_k(d(h^{k-1}_t), h^k_{t-1})         (B, H)    h^0 = e; d = dropout (training)
    s_t   = d(h^N_t) W^T + b                        (B, V)    head.weight W (V, H), head.bias b
    p_t   = softmax(s_t)
    L     = sum_{b,t} m_bt * -log p_t[y_bt] / sum m  (mean over counted tokens)

and the fused softmax cross-entropy gradient dL/ds_t = (p_t - onehot(y_t)) * m / sum m, computed
in place over the logits buffer. With the adaptive softmax (weights ``tail.*`` present) the head
and softmax are those of :mod:`engine.numpy_engine.adaptive` instead, and inference returns the
exact log-probabilities of the full distribution in place of logits. Parameters and gradients
are dicts under PyTorch's names.

One forward may be in flight at a time: caches are views of per-model scratch memory, valid
until the next call to :meth:`LanguageModel.forward`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.numpy_engine.adaptive import (
    adaptive_backward,
    adaptive_forward,
    adaptive_log_prob,
    is_adaptive,
)
from engine.numpy_engine.lstm import RowInput, lstm_backward, lstm_forward, lstm_step
from engine.numpy_engine.workspace import Workspace
from engine.numpy_engine.xent import xent_backward, xent_forward, xent_forward_backward

State = list[tuple[np.ndarray, np.ndarray]]  # per layer (h, c), each (B, H)


@dataclass
class Output:
    loss: float  # mean cross-entropy over counted tokens
    loss_sum: float  # sum of per-token losses (padding excluded)
    count: float  # counted tokens
    state: State  # final (h, c) of every layer, detached copies


TORCH_NAMES = {"weight_ih": "W_ih", "weight_hh": "W_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}


def layer_params(params: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """Layer k's weights under the math's names."""
    return {math: params[f"lstm.{name}_l{k}"] for name, math in TORCH_NAMES.items()}


def num_layers(params: dict[str, np.ndarray]) -> int:
    return sum(1 for name in params if name.startswith("lstm.weight_ih_l"))


class LanguageModel:
    """Forward and backward of the whole network, reusing scratch buffers between batches."""

    def __init__(self, layers: int, dtype: np.dtype | type) -> None:
        self.dtype = np.dtype(dtype)
        self.layer_ws = [Workspace(dtype) for _ in range(layers)]
        self.ws = Workspace(dtype)

    def zero_state(self, params: dict[str, np.ndarray], batch: int) -> State:
        H = params["lstm.weight_hh_l0"].shape[1]
        return [(np.zeros((batch, H), self.dtype), np.zeros((batch, H), self.dtype))
                for _ in self.layer_ws]

    def _layers(
        self, params: dict[str, np.ndarray], x: np.ndarray, state: State | None, dropout: float,
        rng: np.random.Generator | None,
    ) -> tuple[np.ndarray, State, dict[str, Any]]:
        """Embedding and LSTM stack; returns the head's input (T*B, H), final state, cache."""
        B, T = x.shape
        state = state if state is not None else self.zero_state(params, B)
        inp: np.ndarray | RowInput = RowInput.of(params["embedding.weight"], x.T)  # ids (T, B)
        caches, masks, new_state = [], [], []
        for k, ws in enumerate(self.layer_ws):
            (hs, h_T, c_T), cache = lstm_forward(inp, *state[k], layer_params(params, k), ws, T, B)
            caches.append(cache)
            new_state.append((h_T.copy(), c_T.copy()))
            if dropout > 0.0 and rng is not None:
                keep = ws.get("keep", hs.shape)  # inverted dropout mask: 0 or 1/(1-p)
                rng.random(out=keep, dtype=self.dtype)
                np.greater_equal(keep, dropout, out=keep)
                keep *= 1.0 / (1.0 - dropout)
                hs_d = ws.get("hs_drop", hs.shape)
                np.multiply(hs, keep, out=hs_d)
                masks.append(keep)
                hs = hs_d
            else:
                masks.append(None)
            inp = hs  # (T, B, H)
        top = inp.reshape(T * B, -1)  # type: ignore[union-attr]
        return top, new_state, {"layers": caches, "masks": masks, "T": T, "B": B}

    def forward(
        self, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
        mask: np.ndarray | None = None, state: State | None = None, dropout: float = 0.0,
        rng: np.random.Generator | None = None, summed_grad: bool = False,
    ) -> tuple[Output, dict[str, Any]]:
        """Loss of predicting y (B, T) from x (B, T) starting at ``state`` (zeros if None).

        Dropout applies when ``dropout > 0`` and a generator ``rng`` is given (training).
        ``summed_grad``: the caller will ask :meth:`backward` for the gradient of the summed loss
        (dout = count), so the full softmax's gradient is made in the same pass as the loss.
        """
        top, new_state, cache = self._layers(params, x, state, dropout, rng)
        N = top.shape[0]
        y_flat = np.ascontiguousarray(y.T).reshape(-1)  # (T*B,) time-major like top
        w = None if mask is None else np.ascontiguousarray(mask.T, self.dtype).reshape(-1)
        if is_adaptive(params):
            nll, cache["adaptive"] = adaptive_forward(params, top, y_flat, w, self.ws)
        else:
            W, b = params["head.weight"], params["head.bias"]
            Z = self.ws.get("logits", (N, W.shape[0]))  # (T*B, V) logits, then exp, then dL/ds
            np.matmul(top, W.T, out=Z)
            if summed_grad:  # Z <- dL/ds of the summed loss (scale 1), db its column sums
                nll, db = xent_forward_backward(Z, y_flat, b, w, 1.0)
                cache.update(Z=Z, dZ_scale=1.0, db=db)
            else:
                nll, sums = xent_forward(Z, y_flat, b)  # Z <- exp(Z + b - max), in place
                cache.update(Z=Z, sums=sums)
        if w is None:
            loss_sum, count = float(nll.sum()), float(N)
        else:
            loss_sum, count = float(nll @ w), float(w.sum(dtype=np.float64))
        cache.update(params=params, top=top, y=y_flat, w=w, count=count)
        out = Output(loss_sum / max(count, 1.0), loss_sum, count, new_state)
        return out, cache

    def backward(self, dout: float, cache: dict[str, Any],
                 dh_norms: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Gradients of ``dout * loss`` for every parameter (a dict with the params' keys).

        ``dh_norms`` (T,), when given, receives ||dL/dh_t|| of the top layer (gradient flow)."""
        caches, w, top = cache["layers"], cache["w"], cache["top"]
        scale = dout / max(cache["count"], 1.0)
        T, B = cache["T"], cache["B"]
        if "adaptive" in cache:
            grads, dtop = adaptive_backward(cache["params"], cache["adaptive"], w, scale)
            dhs = dtop.reshape(T, B, -1)  # (T, B, H)
        else:
            Z = cache["Z"]
            if "dZ_scale" in cache:  # made by the forward, for scale dZ_scale
                db = cache["db"]
                if scale != cache["dZ_scale"]:
                    ratio = scale / cache["dZ_scale"]
                    Z *= ratio
                    db *= ratio
            else:  # Z <- dL/ds; its column sums are the bias's gradient
                db = xent_backward(Z, cache["sums"], cache["y"], w, scale, want_dbias=True)
            grads = {"head.weight": Z.T @ top, "head.bias": db}  # (V, H), (V,)
            W = cache["params"]["head.weight"]
            dhs = self.ws.get("dtop", (T, B, W.shape[1]))  # (T, B, H) dL/dh of the top layer
            np.matmul(Z, W, out=dhs.reshape(T * B, -1))
        for k in reversed(range(len(caches))):
            keep = cache["masks"][k]
            if keep is not None:
                dhs *= keep
            flow = {"dh_norms": dh_norms} if dh_norms is not None and k == len(caches) - 1 \
                else {}
            dx, g = lstm_backward(dhs, caches[k], need_dx=k > 0, **flow)
            for name, math_name in TORCH_NAMES.items():
                grads[f"lstm.{name}_l{k}"] = g[math_name]
            if k == 0:
                x: RowInput = caches[0]["x"]
                dE = np.zeros_like(x.table)  # (V, E)
                dE[x.uniq] = g["rows"]
                grads["embedding.weight"] = dE
            else:
                dhs = dx  # type: ignore[assignment]
        return grads

    def logits(
        self, params: dict[str, np.ndarray], x: np.ndarray, state: State | None = None
    ) -> tuple[np.ndarray, State]:
        """Logits (B, T, V) for tokens x (B, T) without dropout, and the final state."""
        top, new_state, cache = self._layers(params, x, state, 0.0, None)
        Z = output_logits(params, top)  # (T*B, V)
        return Z.reshape(cache["T"], cache["B"], -1).transpose(1, 0, 2).copy(), new_state


def step(
    params: dict[str, np.ndarray], tokens: np.ndarray, state: State
) -> tuple[np.ndarray, State]:
    """One inference step: tokens (B,) -> logits (B, V) and the next state."""
    inp = params["embedding.weight"][tokens]  # (B, E)
    new_state = []
    for k, (h, c) in enumerate(state):
        h, c = lstm_step(inp, h, c, layer_params(params, k))
        new_state.append((h, c))
        inp = h
    return output_logits(params, inp), new_state


def output_logits(params: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    """Logits (N, V) of the full softmax, or the adaptive softmax's exact log-probabilities."""
    if is_adaptive(params):
        return adaptive_log_prob(params, h)
    return h @ params["head.weight"].T + params["head.bias"]
