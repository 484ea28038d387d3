"""Init schemes: shapes, bounds, seeds, and the symmetry of `zeros` (the report's Part 2 Q1)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import INITS, ModelConfig, RunConfig
from engine.corpus.batching import make_batches
from engine.init import init_params, param_shapes
from engine.numpy_engine import NumpyEngine

V, E, H = 9, 5, 4


def engine(init: str, layers: int = 2) -> NumpyEngine:
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.layers = E, H, layers
    cfg.model.init = init
    cfg.optim.lr = 0.05
    cfg.train.precision = "fp64"
    return NumpyEngine(cfg, V)


def train(eng: NumpyEngine, updates: int = 8) -> np.ndarray:
    """A few Adam updates on a small stream; returns the final hidden state of the top layer."""
    rng = np.random.default_rng(0)
    batches = make_batches([rng.integers(4, V, 40) for _ in range(6)], "stream", 3, 10)
    eng.bind("train", batches)
    for u in range(updates):
        eng.train_batch("train", 0, u % batches.num_batches())
        eng.apply_update(eng.config.optim.lr)
    return eng._carry["train"][-1][0]  # (B, H)


def units_identical(params: dict[str, np.ndarray], h: np.ndarray, layers: int) -> bool:
    """Whether every hidden unit has the same weights and activation as every other."""
    def same(a: np.ndarray, axis: int) -> bool:
        return bool(np.allclose(a, a.take([0], axis=axis), rtol=0, atol=1e-12))

    checks = [same(h, 1), same(params["head.weight"], 1)]
    for k in range(layers):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            blocks = params[f"lstm.{name}_l{k}"].reshape(4, H, -1)  # one block per gate
            checks.append(same(blocks, 1))  # rows of one gate alike
            if name == "weight_hh" or (name == "weight_ih" and k > 0):
                checks.append(same(blocks, 2))  # every unit feeds the next step alike
    return all(checks)


def test_zeros_keeps_every_hidden_unit_identical() -> None:
    eng = engine("zeros")
    h = train(eng)
    assert units_identical(eng.params, h, 2)


def test_symmetric_nonzero_start_stays_symmetric() -> None:
    """The same holds with non-zero activations: equal units get equal gradients forever."""
    eng = engine("standard")
    for name, p in eng.params.items():
        if name.startswith("lstm.") or name == "head.weight":
            p[...] = 0.3 if "weight" in name else 0.1  # identical units, non-zero signals
    h = train(eng)
    assert np.abs(h).min() > 1e-3  # the units are active, not stuck at zero
    assert units_identical(eng.params, h, 2)


@pytest.mark.parametrize("init", [s for s in INITS if s != "zeros"])
def test_random_schemes_break_the_symmetry(init: str) -> None:
    eng = engine(init)
    h = train(eng)
    assert not units_identical(eng.params, h, 2)
    assert np.ptp(h, axis=1).min() > 1e-6  # each sequence's units differ


@pytest.mark.parametrize("init", INITS)
def test_shapes_dtype_and_seed(init: str) -> None:
    cfg = ModelConfig(embed_dim=E, hidden_dim=H, layers=2, init=init)
    a = init_params(cfg, V, seed=3)
    b = init_params(cfg, V, seed=3, dtype=np.float64)
    assert {k: v.shape for k, v in a.items()} == param_shapes(cfg, V)
    assert all(v.dtype == np.float32 for v in a.values())
    for k in a:
        np.testing.assert_array_equal(a[k], b[k].astype(np.float32))
    if init != "zeros":
        c = init_params(cfg, V, seed=4)
        assert not np.array_equal(a["lstm.weight_hh_l0"], c["lstm.weight_hh_l0"])


def test_scheme_bounds_and_forget_bias() -> None:
    def params(init: str, **kw: float) -> dict[str, np.ndarray]:
        return init_params(ModelConfig(embed_dim=E, hidden_dim=H, init=init, **kw), V, 0,
                           np.float64)

    assert all(not v.any() for v in params("zeros").values())
    assert np.abs(params("uniform", init_scale=0.1)["lstm.weight_hh_l0"]).max() <= 0.1
    std = params("standard")
    assert np.abs(std["lstm.weight_ih_l0"]).max() <= 1 / np.sqrt(E)
    assert np.abs(std["lstm.bias_hh_l0"]).max() <= 1 / np.sqrt(H) and std["head.bias"].any()
    xav = params("xavier")
    assert np.abs(xav["lstm.weight_hh_l0"]).max() <= np.sqrt(6 / (H + H))
    assert not xav["lstm.bias_ih_l0"].any()
    assert np.abs(params("he")["head.weight"]).max() <= np.sqrt(6 / H)
    rep = params("report")["lstm.weight_ih_l0"]
    assert rep.min() >= 0 and rep.max() < 1 / np.sqrt(E)
    fb = params("zeros", forget_bias=1.0)["lstm.bias_ih_l0"]
    np.testing.assert_array_equal(fb, np.r_[np.zeros(H), np.ones(H), np.zeros(2 * H)])
