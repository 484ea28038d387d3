"""A small real implementation of the Engine protocol for trainer tests: a bigram model in NumPy.

logits(x_t) = W[x_t] + b, trained by SGD with momentum on the mean cross-entropy over the counted
tokens of the accumulated batches (as the real engines); its loss truly decreases, its optimizer
and RNG state round-trip, and it counts the batches it saw. A bigram carries no state.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from engine.config import RunConfig
from engine.corpus import Dataset, Vocab, make_batches
from engine.corpus.batching import poem_eval_batches

TEXT = ("春眠不觉晓处处闻啼鸟夜来风雨声花落知多少", "床前明月光疑是地上霜举头望明月低头思故乡",
        "白日依山尽黄河入海流欲穷千里目更上一层楼", "千山鸟飞绝万径人踪灭孤舟蓑笠翁独钓寒江雪",
        "红豆生南国春来发几枝愿君多采撷此物最相思", "空山不见人但闻人语响返景入深林复照青苔上")


def tiny_dataset(cfg: RunConfig, repeat: int = 6) -> Dataset:
    vocab = Vocab.build(TEXT)
    train = [vocab.encode(t) for t in TEXT * repeat]
    test = [vocab.encode(t) for t in TEXT[::2]]
    tc = cfg.train
    stage = make_batches(train, "poem", tc.poem_batch, 64, tc.seed) \
        if tc.mode == "stream" and tc.poem_steps else None
    return Dataset(vocab, make_batches(train, tc.mode, tc.batch_size, tc.seq_len, tc.seed),
                   make_batches(test, "stream", tc.batch_size, tc.seq_len, tc.seed), {},
                   poem_eval_batches(test), stage)


class BigramEngine:
    name: ClassVar[str] = "numpy"

    def __init__(self, config: RunConfig, vocab_size: int) -> None:
        self.config, self.vocab_size = config, vocab_size
        rng = np.random.default_rng(config.train.seed)
        self.W = rng.normal(0, 0.01, (vocab_size, vocab_size))  # (V, V)
        self.b = np.zeros(vocab_size)  # (V,)
        self.gW, self.gb = np.zeros_like(self.W), np.zeros_like(self.b)
        self.vW, self.vb = np.zeros_like(self.W), np.zeros_like(self.b)
        self.data: dict[str, Any] = {}
        self.loss_sum, self.loss_n, self.n_acc, self.updates = 0.0, 0, 0, 0  # n_acc: tokens
        self.rng = np.random.default_rng(7)
        self.seen: list[tuple[int, int]] = []  # (epoch, i) of every train_batch call
        self.eval_batches = 0  # batches evaluated, over all calls

    def bind(self, key: str, batches: Any) -> None:
        self.data[key] = batches

    def _forward(self, key: str, epoch: int, i: int):
        x, y, mask = self.data[key].batch(epoch, i)
        z = self.W[x] + self.b  # (B, T, V)
        z = z - z.max(-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(-1, keepdims=True)
        m = np.ones(y.shape) if mask is None else mask  # (B, T)
        nll = -np.log(np.take_along_axis(p, y[..., None], -1)[..., 0] + 1e-300) * m
        return x, y, m, p, float(nll.sum()), int(m.sum())

    def train_batch(self, key: str, epoch: int, i: int) -> None:
        self.seen.append((epoch, i))
        x, y, m, p, loss, n = self._forward(key, epoch, i)
        dz = p.copy()
        np.put_along_axis(dz, y[..., None], np.take_along_axis(dz, y[..., None], -1) - 1, -1)
        dz *= m[..., None]  # the summed loss; apply_update divides by all counted tokens
        np.add.at(self.gW, x.reshape(-1), dz.reshape(-1, self.vocab_size))
        self.gb += dz.sum((0, 1))
        self.loss_sum, self.loss_n, self.n_acc = self.loss_sum + loss, self.loss_n + n, \
            self.n_acc + n
        self.rng.random()  # stands for dropout draws

    def apply_update(self, lr: float) -> None:
        mu = self.config.optim.momentum
        for g, v, w in ((self.gW, self.vW, self.W), (self.gb, self.vb, self.b)):
            g /= max(1, self.n_acc)
            v *= mu
            v += g
            w -= lr * v
            g[...] = 0
        self.n_acc, self.updates = 0, self.updates + 1

    def pop_train_loss(self) -> tuple[float, int]:
        out = (self.loss_sum, self.loss_n)
        self.loss_sum, self.loss_n = 0.0, 0
        return out

    def evaluate(self, key: str, max_batches: int = 0, stop=None) -> tuple[float, int]:
        b = self.data[key]
        n_b = b.num_batches() if not max_batches else min(max_batches, b.num_batches())
        total, count = 0.0, 0
        for i in range(n_b):
            if stop is not None and stop():
                break
            self.eval_batches += 1
            *_, loss, n = self._forward(key, 0, i)
            total, count = total + loss, count + n
        return total, count

    def carry_state(self, key: str = "train") -> dict[str, np.ndarray]:
        return {}

    def set_carry_state(self, tensors: dict[str, np.ndarray], key: str = "train") -> None:
        assert not tensors

    def initial_state(self, batch: int) -> None:
        return None

    def step_logits(self, tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        return self.W[tokens] + self.b, state

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"W": self.W.astype(np.float32), "b": self.b.astype(np.float32)}

    def load_state_dict(self, tensors: dict[str, np.ndarray]) -> None:
        self.W, self.b = tensors["W"].astype(np.float64), tensors["b"].astype(np.float64)

    def optimizer_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return ({"momentum_buffer/W": self.vW.astype(np.float32),
                 "momentum_buffer/b": self.vb.astype(np.float32)}, {"step": self.updates})

    def load_optimizer_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.vW = tensors["momentum_buffer/W"].astype(np.float64)
        self.vb = tensors["momentum_buffer/b"].astype(np.float64)
        self.updates = int(meta["step"])

    def rng_state(self) -> dict[str, Any]:
        return {"fake": self.rng.bit_generator.state}

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["fake"]


def fake_config(**overrides: Any) -> RunConfig:
    from engine.config import set_field

    cfg = RunConfig()
    base = {"model.embed_dim": 8, "model.hidden_dim": 8, "optim.name": "momentum",
            "optim.lr": 0.5, "train.batch_size": 4, "train.seq_len": 8, "train.epochs": 3,
            "train.eval_every": 5, "train.sample_every": 5, "train.checkpoint_every": 5,
            "train.log_every": 1, "train.early_eval": False}
    for key, value in {**base, **overrides}.items():
        set_field(cfg, key, value)
    return cfg.validate()
