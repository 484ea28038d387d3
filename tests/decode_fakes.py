"""A tiny deterministic stand-in for an engine, for decoding tests (no training, no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.checkpoint import Checkpoint, save_checkpoint
from engine.config import RunConfig
from engine.corpus.vocab import SPECIALS

# 40 characters over several rhyme classes (ang, en, ou, i, an, ...) plus punctuation
CHARS = list("春夏秋冬月光霜乡长江山风花雪人心云君酒舟楼秋水天明白日青鸟飞归远客行歌声落")
PUNCT = list("，。？！；")
ITOS = [*SPECIALS, *dict.fromkeys(CHARS), *PUNCT]


class FakeEngine:
    """A small Elman RNN with fixed random weights: h' = tanh(W h + E[tok]), z = U h' + b.

    ``bias`` pushes the logits toward some tokens (e.g. <eos> or punctuation) to test masks.
    """

    name: ClassVar[str] = "fake"

    def __init__(self, itos: list[str] = ITOS, hidden: int = 16, seed: int = 0,
                 bias: dict[str, float] | None = None) -> None:
        rng = np.random.default_rng(seed)
        self.vocab_size = len(itos)
        self.E = rng.normal(0, 1.0, (self.vocab_size, hidden))
        self.W = rng.normal(0, 0.5, (hidden, hidden))
        self.U = rng.normal(0, 1.5, (self.vocab_size, hidden))
        self.b = np.zeros(self.vocab_size)
        for ch, v in (bias or {}).items():
            self.b[itos.index(ch)] += v
        self.calls = 0

    def initial_state(self, batch: int) -> Any:
        return np.zeros((batch, self.W.shape[0]))

    def step_logits(self, tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        self.calls += 1
        h = np.tanh(state @ self.W.T + self.E[tokens])  # (B, H)
        return h @ self.U.T + self.b, h  # (B, V) float64


def tiny_checkpoint(path: Path, dtype: type = np.float32, engine: str = "numpy") -> Path:
    """A real 2-layer LSTM checkpoint with random weights wide enough for peaked distributions."""
    from engine.numpy_engine import NumpyEngine

    cfg = RunConfig.from_dict({"engine": engine, "model": {
        "embed_dim": 8, "hidden_dim": 16, "layers": 2, "init": "uniform", "init_scale": 0.6},
        "train": {"seed": 7, "device": "cpu"}})
    eng = NumpyEngine(cfg, len(ITOS))
    tensors = {k: v.astype(dtype) for k, v in eng.state_dict().items()}
    meta = {"engine": engine, "config": cfg.to_dict(), "vocab": ITOS, "script": "simplified",
            "step": 0, "epoch": 0, "batch": 0}
    return save_checkpoint(path, Checkpoint(tensors, meta))
