"""The NumPy engine's work split across threads gives the same numbers as one thread."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import OptimConfig, RunConfig
from engine.init import init_params
from engine.numpy_engine import optim, threads
from engine.numpy_engine.model import LanguageModel

V = 12


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split even small work in two, as on a 2-core machine (whatever this one has)."""
    monkeypatch.setattr(threads, "num_threads", lambda: 2)
    monkeypatch.setattr(threads, "MIN_PARALLEL", 0)


def run_model(B: int, T: int, dropout: float) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.layers = 6, 5, 2
    params = init_params(cfg.model, V, seed=3, dtype=np.float64)
    for k, p in params.items():  # non-zero biases, so every term of the backward counts
        if "bias" in k:
            p += np.random.default_rng(len(k)).normal(0, 0.3, p.shape)
    rng = np.random.default_rng(0)
    x, y = rng.integers(4, V, (B, T)), rng.integers(4, V, (B, T))
    mask = (rng.random((B, T)) > 0.2).astype(np.float64)
    state = [(rng.normal(0, 0.5, (B, 5)), rng.normal(0, 0.5, (B, 5))) for _ in range(2)]
    model = LanguageModel(2, np.float64)
    out, cache = model.forward(params, x, y, mask, state, dropout, np.random.default_rng(1))
    norms = np.zeros(T)
    grads = model.backward(1.0, cache, dh_norms=norms)
    return out.loss, grads, norms


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_batch_slices_on_threads_match_one_pass(
    monkeypatch: pytest.MonkeyPatch, two_threads: None, dropout: float
) -> None:
    B, T = 2 * threads.MIN_SLICE_ROWS + 3, 6  # two ragged slices
    loss, grads, norms = run_model(B, T, dropout)
    monkeypatch.setattr(threads, "MIN_SLICE_ROWS", 10**9)  # one pass over the whole batch
    loss1, grads1, norms1 = run_model(B, T, dropout)
    assert loss == pytest.approx(loss1, rel=1e-14)
    assert grads.keys() == grads1.keys()
    for k in grads:
        np.testing.assert_allclose(grads[k], grads1[k], rtol=1e-11, atol=1e-14, err_msg=k)
    np.testing.assert_allclose(norms, norms1, rtol=1e-12)
    assert np.all(norms > 0)


def test_over_rows_hands_out_aligned_blocks_once(two_threads: None) -> None:
    seen: list[tuple[int, int]] = []
    threads.over_rows(103, 10**7, lambda lo, hi: seen.append((lo, hi)), 8)
    seen.sort()
    assert seen[0][0] == 0 and seen[-1][1] == 103
    assert all(lo % 8 == 0 and hi - lo <= 8 for lo, hi in seen)
    assert all(a[1] == b[0] for a, b in zip(seen, seen[1:], strict=False))  # no gap, no overlap


@pytest.mark.parametrize("name", ["adam", "adadelta", "nag"])
def test_blockwise_threaded_update_equals_the_whole_array_update(
    monkeypatch: pytest.MonkeyPatch, two_threads: None, name: str
) -> None:
    rng = np.random.default_rng(5)
    shapes = {"w": (9, 7), "b": (7,), "e": (50,)}
    params0 = {k: rng.standard_normal(s) for k, s in shapes.items()}
    grads = [{k: rng.standard_normal(s) for k, s in shapes.items()} for _ in range(3)]
    cfg = OptimConfig(name=name, weight_decay=0.01)

    def run(block: int) -> dict[str, np.ndarray]:
        monkeypatch.setattr(optim, "BLOCK", block)
        params = {k: p.copy() for k, p in params0.items()}
        opt = optim.Optimizer(cfg, params)
        for g in grads:
            opt.step(params, {k: a.copy() for k, a in g.items()}, 0.01)
        return params

    blocked, whole = run(4), run(10**9)  # ragged blocks of 4 elements, on two threads
    for k in shapes:
        np.testing.assert_array_equal(blocked[k], whole[k])
        assert not np.array_equal(whole[k], params0[k])


def test_efficiency_counts_the_models_matmuls_and_reports(capsys: pytest.CaptureFixture) -> None:
    from engine.numpy_engine.efficiency import main, step_flops_per_token

    # the report's configuration: 6 H V + 24 H^2 = 23.04 M + 6.29 M
    assert step_flops_per_token(512, 512, 7500, 1) == 6 * 512 * 7500 + 24 * 512**2
    assert step_flops_per_token(8, 16, 40, 2) == 6 * 16 * 40 + 2 * 24 * 16**2 + 24 * 16**2
    assert main(["--steps", "2", "--embed", "8", "--hidden", "8", "--batch", "4",
                 "--seq-len", "5", "--vocab", "20", "--matmul-n", "64"]) == 0
    out = capsys.readouterr().out
    assert "MFLOP per token" in out and "best against best" in out
    assert len(out.splitlines()[1].split(":")[1].split()) == 2  # one rate per timed step
