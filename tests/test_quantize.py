"""int8 starter weights: per-row scales, round-off within half a step, and a checkpoint that
loads as ordinary float32 weights in both engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from engine.quantize import SCALE, dequantize, quantize


def test_round_trip_is_within_half_a_step_per_row() -> None:
    rng = np.random.default_rng(0)
    w = {"head.weight": rng.normal(0, 0.1, (50, 8)).astype(np.float32),
         "head.bias": rng.normal(0, 1, 50).astype(np.float32),
         "zero.weight": np.zeros((3, 4), np.float32)}
    q = quantize(w)
    assert q["head.weight"].dtype == np.int8 and q["head.bias"].dtype == np.float16
    assert q["head.weight" + SCALE].shape == (50,)
    back = dequantize(q)
    assert set(back) == set(w)
    step = np.abs(w["head.weight"]).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(back["head.weight"] - w["head.weight"]) <= step / 2 + 1e-7)
    np.testing.assert_array_equal(back["zero.weight"], 0.0)
    np.testing.assert_allclose(back["head.bias"], w["head.bias"], rtol=1e-3)


def test_a_quantised_checkpoint_loads_as_float_weights(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    w = {"embedding.weight": rng.normal(0, 1, (20, 4)).astype(np.float32)}
    meta = {"engine": "numpy", "config": {}, "vocab": []}
    save_checkpoint(tmp_path / "c", Checkpoint(quantize(w), meta))
    loaded = load_checkpoint(tmp_path / "c").tensors
    assert set(loaded) == {"embedding.weight"} and loaded["embedding.weight"].dtype == np.float32
    np.testing.assert_allclose(loaded["embedding.weight"], w["embedding.weight"], atol=0.02)
