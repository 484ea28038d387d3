"""The NumPy engine through the Engine protocol: carry, inference, persistence, precision."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.checkpoint import CheckpointError
from engine.config import RunConfig
from engine.corpus.batching import BOS, make_batches
from engine.numpy_engine import NumpyEngine

V = 12


def config(**model: object) -> RunConfig:
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.layers = 6, 5, 2
    for k, v in model.items():
        setattr(cfg.model, k, v)
    cfg.train.precision = "fp64"
    return cfg


def stream(seed: int = 0, B: int = 2, T: int = 5):
    rng = np.random.default_rng(seed)
    return make_batches([rng.integers(4, V, 9) for _ in range(4)], "stream", B, T)


def test_precision_selects_the_dtype() -> None:
    cfg = config()
    assert NumpyEngine(cfg, V).params["head.weight"].dtype == np.float64
    cfg.train.precision = "fp32"
    assert all(p.dtype == np.float32 for p in NumpyEngine(cfg, V).params.values())


def test_stream_state_is_carried_between_windows() -> None:
    """Evaluating window by window equals one pass over the whole stream."""
    eng = NumpyEngine(config(), V)
    batches = stream()
    eng.bind("test", batches)
    total, count = eng.evaluate("test")
    counted = (batches.y != BOS).astype(np.float64)  # the certain <bos> targets never count
    whole, _ = eng.model.forward(eng.params, batches.x, batches.y, counted)
    assert count == batches.n_tokens == batches.x.size - (batches.y == BOS).sum()
    assert total == pytest.approx(whole.loss_sum, rel=1e-12)
    first = batches.y[:, : batches.seq_len]
    assert eng.evaluate("test", max_batches=1)[1] == (first != BOS).sum()


def test_evaluate_stops_between_batches_when_asked() -> None:
    eng = NumpyEngine(config(), V)
    batches = stream()
    eng.bind("test", batches)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    assert eng.evaluate("test", stop=stop) == eng.evaluate("test", max_batches=2)
    assert len(asked) == 3


def test_carried_state_round_trips_and_continues_the_stream() -> None:
    """A fresh engine given the weights and the carry trains the next window identically."""
    cfg = config()
    a = NumpyEngine(cfg, V)
    batches = stream(4)
    assert batches.num_batches() >= 3
    a.bind("train", batches)
    assert a.carry_state() == {}
    for i in range(2):
        a.train_batch("train", 0, i)
        a.apply_update(0.05)
    a.pop_train_loss()
    carry = a.carry_state()
    assert sorted(carry) == ["carry/c_l0", "carry/c_l1", "carry/h_l0", "carry/h_l1"]
    assert carry["carry/h_l1"].shape == (batches.batch_size, cfg.model.hidden_dim)
    losses = []
    for restore in (True, False):
        b = NumpyEngine(cfg, V)
        b.load_state_dict(a.state_dict())
        b.bind("train", batches)
        if restore:
            b.set_carry_state(carry)
        b.train_batch("train", 0, 2)
        losses.append(b.pop_train_loss()[0])
    a.train_batch("train", 0, 2)
    assert losses[0] == a.pop_train_loss()[0]
    assert losses[1] != losses[0]  # from zeros: the carry matters
    with pytest.raises(CheckpointError, match="carry/c_l1"):
        b.set_carry_state({k: v for k, v in carry.items() if k != "carry/c_l1"})


def test_step_logits_match_the_window_forward() -> None:
    eng = NumpyEngine(config(), V)
    x = np.random.default_rng(1).integers(0, V, (3, 6))
    logits, _ = eng.model.logits(eng.params, x)
    state = eng.initial_state(3)
    for t in range(x.shape[1]):
        step, state = eng.step_logits(x[:, t], state)
        assert step.dtype == np.float64
        np.testing.assert_allclose(step, logits[:, t], rtol=1e-10, atol=1e-12)


def test_resume_continues_exactly_with_dropout() -> None:
    """Weights, optimizer slots and the dropout generator restored: the same next updates."""
    cfg = config(dropout=0.3)
    a = NumpyEngine(cfg, V)
    batches = stream(2)
    a.bind("train", batches)
    for i in range(2):
        a.train_batch("train", 0, i)
        a.apply_update(0.01)
    tensors, meta = a.optimizer_state()
    rng_state = json.loads(json.dumps(a.rng_state()))  # JSON-able, as saved in meta.json
    b = NumpyEngine(config(dropout=0.3, init="zeros"), V)
    b.load_state_dict(a.state_dict())
    b.load_optimizer_state(tensors, json.loads(json.dumps(meta)))
    b.set_rng_state(rng_state)
    b.bind("train", batches)
    for eng in (a, b):
        eng.train_batch("train", 0, 0)
        eng.apply_update(0.01)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert a.pop_train_loss()[0] != b.pop_train_loss()[0]  # a also counted its first batches


def test_accumulation_divides_the_summed_gradient_by_all_tokens() -> None:
    batches = stream(3)
    cfg = config()
    cfg.optim.name, cfg.optim.clip = "sgd", 0.0
    one, two = NumpyEngine(cfg, V), NumpyEngine(cfg, V)
    for eng in (one, two):
        eng.bind("train", batches)
    one.train_batch("train", 0, 0)
    g0 = {k: v.copy() for k, v in one.grads.items()}
    n0 = one.pop_train_loss()[1]
    one.train_batch("train", 0, 1)
    g_sum = {k: v.copy() for k, v in one.grads.items()}
    n1 = one.pop_train_loss()[1]
    assert one.accumulated == 2 and one.accumulated_tokens == n0 + n1
    assert n0 != n1  # a <bos> target in one window only: the counts differ
    start = {k: v.copy() for k, v in one.params.items()}
    one.apply_update(0.1)
    for k in start:
        np.testing.assert_allclose(one.params[k], start[k] - 0.1 * g_sum[k] / (n0 + n1),
                                   atol=1e-14)
    assert any(not np.allclose(g0[k], g_sum[k] - g0[k]) for k in g0)  # two different batches
    assert one.accumulated == 0 and one.accumulated_tokens == 0
    two.apply_update(0.1)  # nothing accumulated: no change
    for k in start:
        np.testing.assert_array_equal(two.params[k], start[k])


def test_load_state_dict_checks_shapes() -> None:
    eng = NumpyEngine(config(), V)
    weights = eng.state_dict()
    weights["head.bias"] = np.zeros(V + 1)
    with pytest.raises(CheckpointError, match="head.bias has shape"):
        eng.load_state_dict(weights)
    del weights["head.bias"]
    with pytest.raises(CheckpointError, match="missing"):
        eng.load_state_dict(weights)
    tensors, meta = eng.optimizer_state()
    with pytest.raises(CheckpointError, match="optim.name=sgd"):
        eng.load_optimizer_state({}, {**meta, "name": "sgd"})


@pytest.mark.parametrize("masked", [False, True])
def test_threaded_softmax_xent_matches_the_formula(masked: bool) -> None:
    from engine.numpy_engine.xent import MIN_PARALLEL, xent_backward, xent_forward

    rng = np.random.default_rng(4)
    N, V = 301, 4001  # large enough to be split across threads, ragged blocks
    assert N * V >= MIN_PARALLEL
    z = rng.standard_normal((N, V)) * 3
    y = rng.integers(0, V, N)
    w = (rng.random(N) > 0.2).astype(np.float64) if masked else None
    Z = z.copy()
    nll, sums = xent_forward(Z, y)
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    np.testing.assert_allclose(nll, -logp[np.arange(N), y], rtol=1e-12)
    xent_backward(Z, sums, y, w, 0.5)
    expect = np.exp(logp)
    expect[np.arange(N), y] -= 1
    expect *= 0.5 * (1.0 if w is None else w[:, None])
    np.testing.assert_allclose(Z, expect, atol=1e-14)


@pytest.mark.parametrize("masked", [False, True])
def test_softmax_gradient_made_in_the_forward_equals_the_backwards(masked: bool) -> None:
    from engine.numpy_engine.xent import xent_backward, xent_forward, xent_forward_backward

    rng = np.random.default_rng(5)
    N, V_ = 301, 4001
    z = rng.standard_normal((N, V_)) * 3
    b = rng.standard_normal(V_)
    y = rng.integers(0, V_, N)
    w = (rng.random(N) > 0.2).astype(np.float64) if masked else None
    Z1, Z2 = z.copy(), z.copy()
    nll1, db1 = xent_forward_backward(Z1, y, b, w, 0.5)
    nll2, sums = xent_forward(Z2, y, b)
    db2 = xent_backward(Z2, sums, y, w, 0.5, want_dbias=True)
    np.testing.assert_array_equal(nll1, nll2)
    np.testing.assert_allclose(Z1, Z2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(db1, db2, rtol=1e-12)
    logp = (z + b) - (z + b).max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    np.testing.assert_allclose(nll1, -logp[np.arange(N), y], rtol=1e-12)


def test_training_forward_gives_the_gradients_of_any_loss_scale() -> None:
    """forward(summed_grad=True) prepares dout = count; another dout rescales, exactly."""
    from engine.init import init_params
    from engine.numpy_engine.model import LanguageModel

    cfg = config()
    params = init_params(cfg.model, V, 0, np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.integers(4, V, (3, 6)), rng.integers(4, V, (3, 6))
    mask = (rng.random((3, 6)) > 0.3).astype(np.float64)
    for dout in (None, 1.0):
        model = LanguageModel(2, np.float64)
        out, cache = model.forward(params, x, y, mask, summed_grad=True)
        fused = model.backward(out.count if dout is None else dout, cache)
        out2, cache2 = model.forward(params, x, y, mask)
        plain = model.backward(out2.count if dout is None else dout, cache2)
        assert out.loss == out2.loss
        for k in plain:
            np.testing.assert_allclose(fused[k], plain[k], rtol=1e-12, atol=1e-15, err_msg=k)
