"""The NumPy engine memorises a tiny corpus (loss near zero) in both batching modes."""

from __future__ import annotations

import math

import numpy as np

from engine.config import RunConfig
from engine.corpus.batching import make_batches
from engine.numpy_engine import NumpyEngine

POEMS = [np.array(p) for p in ([4, 5, 6, 7, 8, 9, 10], [11, 12, 6, 13, 14], [5, 15, 16, 4, 17, 9])]
V = 18


def engine(**train: object) -> NumpyEngine:
    cfg = RunConfig()
    cfg.model.embed_dim = cfg.model.hidden_dim = 32
    cfg.optim.lr = 0.02
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return NumpyEngine(cfg, V)


def test_stream_mode_overfits_with_carried_state() -> None:
    batches = make_batches(POEMS * 2, "stream", 2, 8)
    eng = engine()
    eng.bind("train", batches)
    first = None
    for epoch in range(120):
        for i in range(batches.num_batches()):
            eng.train_batch("train", epoch, i)
            eng.apply_update(eng.config.optim.lr)
        loss, n = eng.pop_train_loss()
        first = first if first is not None else loss / n
    assert n == batches.n_tokens  # every target counted once per epoch
    assert abs(first - math.log(V)) < 0.3  # starts near ln V
    eng.bind("test", batches)
    total, count = eng.evaluate("test")
    assert count == batches.n_tokens
    assert total / count < 0.05


def test_poem_mode_overfits_with_mask_and_full_batch_steps() -> None:
    batches = make_batches(POEMS, "poem", 2, 16)
    eng = engine(mode="poem")
    eng.bind("train", batches)
    for epoch in range(150):
        for i in range(batches.num_batches()):
            eng.train_batch("train", epoch, i)
        eng.apply_update(eng.config.optim.lr)  # accum = 0: one update per epoch
    loss, n = eng.pop_train_loss()
    assert n == 150 * batches.n_tokens  # padding never counts
    eng.bind("test", batches)
    total, count = eng.evaluate("test")
    assert count == sum(len(p) + 1 for p in POEMS)
    floor = len(POEMS) * math.log(len(POEMS))  # after <bos> each first character is a 1-in-3 guess
    assert (total - floor) / count < 0.05
