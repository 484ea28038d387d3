"""The two engines agree: checkpoints cross, and one training step gives the same result.

Both engines start from the same weights (one checkpoint), see the same batch and, in float64,
must produce the same loss, the same updated weights and the same optimizer state for every
optimizer and both batching modes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.base import create_engine
from engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from engine.config import OPTIMIZERS, RunConfig
from engine.corpus.batching import make_batches

V = 19
ENGINES = ("numpy", "torch")


def _config(engine: str, mode: str, precision: str = "fp64", softmax: str = "full",
            **optim) -> RunConfig:
    cfg = RunConfig(engine=engine)
    cfg.model.softmax, cfg.model.cutoffs = softmax, [6, 12] if softmax == "adaptive" else []
    cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.layers = 5, 4, 2
    cfg.model.forget_bias = 0.5  # non-zero, distinct bias vectors
    cfg.train.mode, cfg.train.batch_size = mode, 3
    cfg.train.seq_len = 6 if mode == "stream" else 30
    cfg.train.device, cfg.train.precision, cfg.train.seed = "cpu", precision, 11
    cfg.optim.weight_decay, cfg.optim.clip = 0.01, 0.5
    for k, v in optim.items():
        setattr(cfg.optim, k, v)
    return cfg


def _batches(cfg: RunConfig):
    rng = np.random.default_rng(5)
    poems = [rng.integers(4, V, rng.integers(3, 12)) for _ in range(10)]
    t = cfg.train
    return make_batches(poems, t.mode, t.batch_size, t.seq_len, seed=2)


def _save(engine, cfg: RunConfig, path: Path) -> Path:
    tensors, meta = engine.optimizer_state()
    ckpt = Checkpoint(engine.state_dict(), {
        "engine": engine.name, "config": cfg.to_dict(), "vocab": [str(i) for i in range(V)],
        "script": "simplified", "step": int(meta["step"]), "epoch": 0, "batch": 1,
        "rng": engine.rng_state()}, tensors, meta)
    return save_checkpoint(path, ckpt)


def _load_as(path: Path, engine: str):
    ckpt = load_checkpoint(path)
    cfg = RunConfig.from_dict(ckpt.meta["config"])
    cfg.engine = engine
    eng = create_engine(cfg, len(ckpt.meta["vocab"]))
    eng.load_state_dict(ckpt.tensors)
    eng.load_optimizer_state(ckpt.optim_tensors, ckpt.optim_meta)
    eng.set_rng_state(ckpt.meta["rng"])  # the other engine's generators are left alone
    return eng, cfg


@pytest.mark.parametrize("softmax", ["full", "adaptive"])
@pytest.mark.parametrize("src", ENGINES)
def test_checkpoint_from_either_engine_gives_the_same_logits_in_the_other(src, softmax, tmp_path):
    dst = "torch" if src == "numpy" else "numpy"
    cfg = _config(src, "stream", precision="fp32", softmax=softmax, name="adam")
    a = create_engine(cfg, V)
    b = _batches(cfg)
    a.bind("train", b)
    for i in range(2):  # move away from the initial weights
        a.train_batch("train", 0, i)
        a.apply_update(0.05)
    path = _save(a, cfg, tmp_path / "ckpt")
    other, _ = _load_as(path, dst)
    assert other.name == dst
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k], v)
    tokens = np.array([[1, 5, 9, 2], [1, 17, 4, 4], [1, 3, 8, 12]])  # (B, T)
    sa, sb = a.initial_state(3), other.initial_state(3)
    for t in range(tokens.shape[1]):
        la, sa = a.step_logits(tokens[:, t], sa)
        lb, sb = other.step_logits(tokens[:, t], sb)
        assert la.shape == lb.shape == (3, V)
        np.testing.assert_allclose(lb, la, atol=1e-5, rtol=1e-5)
    other.bind("train", b)
    np.testing.assert_allclose(other.evaluate("train")[0], a.evaluate("train")[0], rtol=1e-5)
    _, meta = other.optimizer_state()
    assert meta["step"] == 2


def _pair(mode: str, name: str, **optim):  # full softmax
    """A numpy and a torch engine with identical float64 weights and the same batches."""
    engines = [create_engine(_config(e, mode, name=name, **optim), V) for e in ENGINES]
    weights = engines[0].state_dict()
    for k, v in engines[1].state_dict().items():  # one seed, one init: already identical
        np.testing.assert_array_equal(v, weights[k])
    engines[1].load_state_dict(weights)  # "from the same checkpoint", all the same
    batches = _batches(engines[0].config)
    for eng in engines:
        eng.bind("train", batches)
    return engines, batches


def _assert_same_weights(a, b, rtol: float = 1e-9) -> None:
    wa, wb = a.state_dict(), b.state_dict()
    assert wa.keys() == wb.keys()
    for k in wa:
        assert wa[k].dtype == wb[k].dtype == np.float64
        np.testing.assert_allclose(wb[k], wa[k], rtol=rtol, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("mode", ["stream", "poem"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_one_training_step_is_the_same_in_both_engines(name, mode):
    (np_eng, th_eng), batches = _pair(mode, name)
    for step in range(2):  # the second step uses the optimizer state (and the carried state)
        losses = []
        for eng in (np_eng, th_eng):
            eng.train_batch("train", 0, step)
            eng.apply_update(0.1)
            losses.append(eng.pop_train_loss())
        assert losses[0][1] == losses[1][1] > 0
        np.testing.assert_allclose(losses[1][0], losses[0][0], rtol=1e-10)
        _assert_same_weights(np_eng, th_eng)
    (ta, ma), (tb, mb) = np_eng.optimizer_state(), th_eng.optimizer_state()
    assert ma == mb == {"name": name, "step": 2}
    assert ta.keys() == tb.keys()
    for k in ta:
        np.testing.assert_allclose(tb[k], ta[k], rtol=1e-9, atol=1e-14, err_msg=k)


def test_accumulated_update_is_the_same_in_both_engines():
    (np_eng, th_eng), batches = _pair("poem", "adam", clip=0.0)
    assert batches.num_batches() >= 3
    for eng in (np_eng, th_eng):
        for i in range(3):
            eng.train_batch("train", 1, i)
        eng.apply_update(0.01)
    np.testing.assert_allclose(th_eng.pop_train_loss(), np_eng.pop_train_loss(), rtol=1e-10)
    _assert_same_weights(np_eng, th_eng)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_state_crosses_engines_mid_run(name, tmp_path):
    """Train 2 steps in one engine, resume in the other: step 3 matches an uninterrupted run."""
    for src, dst in (("numpy", "torch"), ("torch", "numpy")):
        cfg = _config(src, "poem", name=name)
        a = create_engine(cfg, V)
        batches = _batches(cfg)
        a.bind("train", batches)
        for i in range(2):
            a.train_batch("train", 0, i)
            a.apply_update(0.1)
        b, _ = _load_as(_save(a, cfg, tmp_path / f"{src}-{name}"), dst)
        b.bind("train", batches)
        for eng in (a, b):
            eng.train_batch("train", 0, 2)
            eng.apply_update(0.1)
        _assert_same_weights(a, b)
        assert b.optimizer_state()[1]["step"] == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_accumulating_two_batches_is_one_step_on_their_union(engine):
    """The update follows the mean over all counted tokens, not the mean of per-batch means."""
    rng = np.random.default_rng(8)
    poems = [rng.integers(4, V, n) for n in (3, 3, 9, 9)]  # two short rows, two long rows
    cfg = _config(engine, "poem", name="sgd", clip=0.0, weight_decay=0.0)
    pair, union = make_batches(poems, "poem", 2, 30), make_batches(poems, "poem", 4, 30)
    assert pair.num_batches() == 2 and union.num_batches() == 1
    engines = []
    for batches in (pair, union):
        eng = create_engine(cfg, V)
        eng.bind("train", batches)
        for i in range(batches.num_batches()):
            eng.train_batch("train", 0, i)
        eng.apply_update(0.5)
        engines.append(eng)
    _assert_same_weights(*engines, rtol=1e-12)
    (loss_a, n_a), (loss_b, n_b) = (e.pop_train_loss() for e in engines)
    assert n_a == n_b == 2 * 4 + 2 * 10  # the batches count 8 and 20 tokens
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-12)


@pytest.mark.parametrize("src", ENGINES)
def test_carried_stream_state_crosses_engines(src):
    """The carry of one engine continues the stream in the other (as after a resume)."""
    dst = "torch" if src == "numpy" else "numpy"
    (np_eng, th_eng), batches = _pair("stream", "adam")
    a, b = (np_eng, th_eng) if src == "numpy" else (th_eng, np_eng)
    for i in range(2):
        a.train_batch("train", 0, i)
        a.apply_update(0.1)
    b.load_state_dict(a.state_dict())
    b.load_optimizer_state(*a.optimizer_state())
    b.set_carry_state(a.carry_state())
    assert b.name == dst
    for eng in (a, b):
        eng.pop_train_loss()
        eng.train_batch("train", 0, 2)
        eng.apply_update(0.1)
    np.testing.assert_allclose(b.pop_train_loss()[0], a.pop_train_loss()[0], rtol=1e-10)
    _assert_same_weights(a, b)
    for k, v in a.carry_state().items():
        np.testing.assert_allclose(b.carry_state()[k], v, rtol=1e-9, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("mode", ["stream", "poem"])
def test_adaptive_softmax_training_steps_are_the_same_in_both_engines(mode):
    engines = [create_engine(_config(e, mode, softmax="adaptive", name="adam"), V)
               for e in ENGINES]
    engines[1].load_state_dict(engines[0].state_dict())
    batches = _batches(engines[0].config)
    for eng in engines:
        eng.bind("train", batches)
    for step in range(2):
        losses = []
        for eng in engines:
            eng.train_batch("train", 0, step)
            eng.apply_update(0.1)
            losses.append(eng.pop_train_loss())
        assert losses[0][1] == losses[1][1] > 0
        np.testing.assert_allclose(losses[1][0], losses[0][0], rtol=1e-10)
        _assert_same_weights(*engines)
