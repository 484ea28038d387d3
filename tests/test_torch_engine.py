"""The Torch engine on its own: init, batching modes, accumulation, state i/o, devices."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.checkpoint import CheckpointError
from engine.config import OPTIMIZERS, ConfigError, RunConfig
from engine.corpus.batching import BOS, PAD, make_batches
from engine.init import init_params, param_shapes
from engine.torch_engine import TorchEngine
from engine.torch_engine.device import resolve_placement

V = 23


def _config(mode: str = "stream", **optim) -> RunConfig:
    cfg = RunConfig(engine="torch")
    cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.layers = 6, 5, 2
    cfg.train.mode, cfg.train.batch_size, cfg.train.seq_len = mode, 3, 7 if mode == "stream" else 30
    cfg.train.device, cfg.train.precision, cfg.train.seed = "cpu", "fp64", 7
    cfg.optim.clip = 0.0
    for k, v in optim.items():
        setattr(cfg.optim, k, v)
    return cfg


def _poems(n: int = 12, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(4, V, rng.integers(3, 12)) for _ in range(n)]


def _engine(cfg: RunConfig):
    eng = TorchEngine(cfg, V)
    b = make_batches(_poems(), cfg.train.mode, cfg.train.batch_size, cfg.train.seq_len, seed=3)
    eng.bind("train", b)
    return eng, b


def test_initial_weights_are_init_params_under_torch_names():
    cfg = _config()
    cfg.model.init, cfg.model.forget_bias = "xavier", 1.0
    eng = TorchEngine(cfg, V)
    expected = init_params(cfg.model, V, cfg.train.seed, np.float64)
    got = eng.state_dict()
    assert list(got) == list(param_shapes(cfg.model, V))
    for name, arr in expected.items():
        assert got[name].dtype == np.float64
        np.testing.assert_array_equal(got[name], arr)


def test_placement_errors_are_config_errors():
    with pytest.raises(ConfigError, match="needs a CUDA device"):
        resolve_placement("cpu", "tf32")
    with pytest.raises(ConfigError, match="needs a CUDA device"):
        resolve_placement("cpu", "bf16")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_placement("tpu9", "fp32")
    with pytest.raises(ConfigError, match="precision"):
        resolve_placement("cpu", "fp8")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_placement("cuda", "fp32")
    assert resolve_placement("cpu", "fp32").dtype == torch.float32


def test_stream_carried_state_equals_one_long_sequence():
    """evaluate() over the windows (state carried) = the model run over the whole stream."""
    eng, b = _engine(_config("stream"))
    loss, n = eng.evaluate("train")
    x, y = torch.from_numpy(b.x), torch.from_numpy(b.y)
    with torch.no_grad():
        feats, _ = eng.model(x, eng.model.zero_state(x.shape[0]))
        logits = eng.model.log_probs(feats)  # (B, T, V)
        ref = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), ignore_index=BOS,
                              reduction="sum")  # the certain <bos> after <eos> never counts
    assert n == b.n_tokens == int((y != BOS).sum()) < x.numel()
    assert b.num_batches() > 2
    np.testing.assert_allclose(loss, float(ref), rtol=1e-12)


def test_step_logits_walk_the_same_path_as_evaluate():
    eng, b = _engine(_config("stream"))
    loss, _ = eng.evaluate("train")
    state = eng.initial_state(b.x.shape[0])
    total = 0.0
    for t in range(b.x.shape[1]):
        logits, state = eng.step_logits(b.x[:, t], state)  # (B, V) float64
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        total -= (logp[np.arange(len(logp)), b.y[:, t]] * (b.y[:, t] != BOS)).sum()
    np.testing.assert_allclose(total, loss, rtol=1e-10)


def test_poem_mode_counts_only_real_tokens_and_ignores_padding():
    eng, b = _engine(_config("poem"))
    assert (b.rows == PAD).any()
    for i in range(b.num_batches()):
        eng.train_batch("train", 0, i)
    loss, n = eng.pop_train_loss()
    assert n == b.n_tokens
    assert eng.pop_train_loss() == (0.0, 0)
    ev_loss, ev_n = eng.evaluate("train")
    assert ev_n == n
    np.testing.assert_allclose(loss, ev_loss, rtol=1e-10)  # no dropout: the same sum
    ev_loss_1, ev_n_1 = eng.evaluate("train", max_batches=1)
    assert 0 < ev_n_1 < ev_n


def test_accumulation_weighs_the_batches_by_their_tokens():
    """SGD on 2 accumulated batches of n0, n1 tokens = (n0 * step0 + n1 * step1) / (n0 + n1)."""
    weights, counts = [], []
    for batches in ([0, 1], [0], [1]):
        eng, _ = _engine(_config("poem", name="sgd"))
        for i in batches:
            eng.train_batch("train", 0, i)
        eng.apply_update(0.5)
        weights.append(eng.state_dict())
        counts.append(eng.pop_train_loss()[1])
    both, first, second = weights
    _, n0, n1 = counts
    assert n0 != n1 and counts[0] == n0 + n1
    for name in both:
        np.testing.assert_allclose(both[name], (n0 * first[name] + n1 * second[name]) / (n0 + n1),
                                   atol=1e-12)


def test_carried_state_round_trips_and_continues_the_stream():
    cfg = _config("stream")
    a, b = _engine(cfg)
    assert a.carry_state() == {} and b.num_batches() >= 3
    for i in range(2):
        a.train_batch("train", 0, i)
        a.apply_update(0.05)
    a.pop_train_loss()
    carry = a.carry_state()
    assert sorted(carry) == ["carry/c_l0", "carry/c_l1", "carry/h_l0", "carry/h_l1"]
    assert carry["carry/c_l0"].shape == (b.batch_size, cfg.model.hidden_dim)
    losses = []
    for restore in (True, False):
        c, _ = _engine(cfg)
        c.load_state_dict(a.state_dict())
        if restore:
            c.set_carry_state(carry)
        c.train_batch("train", 0, 2)
        losses.append(c.pop_train_loss()[0])
    a.train_batch("train", 0, 2)
    assert losses[0] == a.pop_train_loss()[0]
    assert losses[1] != losses[0]
    c.set_carry_state({})
    assert c.carry_state() == {}


def test_evaluate_stops_between_batches_when_asked():
    eng, _ = _engine(_config("poem"))
    calls = iter([False, True])
    assert eng.evaluate("train", stop=lambda: next(calls)) == eng.evaluate("train", 1)


def test_clipping_bounds_the_step():
    base, _ = _engine(_config("stream", name="sgd"))
    before = base.state_dict()
    clipped, _ = _engine(_config("stream", name="sgd", clip=1e-3))
    for eng in (base, clipped):
        eng.train_batch("train", 0, 0)
        eng.apply_update(1.0)
    step = np.sqrt(sum(((clipped.state_dict()[k] - before[k]) ** 2).sum() for k in before))
    free = np.sqrt(sum(((base.state_dict()[k] - before[k]) ** 2).sum() for k in before))
    np.testing.assert_allclose(step, 1e-3, rtol=1e-4)  # torch: max / (norm + 1e-6)
    assert free > 10 * step


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_state_round_trip_resumes_exactly(name):
    cfg = _config("stream", name=name, weight_decay=0.01, clip=1.0)
    a, b = _engine(cfg)
    for i in range(2):
        a.train_batch("train", 0, i)
        a.apply_update(0.05)
    tensors, meta = a.optimizer_state()
    assert meta == {"name": name, "step": 2}
    assert all(k.split("/", 1)[1] in a.state_dict() for k in tensors)
    resumed, _ = _engine(cfg)
    resumed.load_state_dict(a.state_dict())
    resumed.load_optimizer_state(tensors, meta)
    for eng in (a, resumed):
        eng.train_batch("train", 0, 0)
        eng.apply_update(0.05)
    assert resumed.updates == 3
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v)


def test_optimizer_state_of_another_optimizer_is_refused():
    eng, _ = _engine(_config(name="adam"))
    with pytest.raises(CheckpointError, match="optim.name=sgd"):
        eng.load_optimizer_state({}, {"name": "sgd", "step": 3})


def test_rng_state_replays_dropout():
    cfg = _config("stream")
    cfg.model.dropout = 0.5
    eng, _ = _engine(cfg)
    start, rng = eng.state_dict(), eng.rng_state()
    losses = []
    for _ in range(2):
        eng.load_state_dict(start)
        eng.set_rng_state(rng)
        eng.train_batch("train", 0, 0)
        losses.append(eng.pop_train_loss()[0])
        eng.optimizer.zero_grad()
    assert losses[0] == losses[1]
    eng.train_batch("train", 0, 0)  # a fresh draw differs
    assert eng.pop_train_loss()[0] != losses[0]


def test_load_state_dict_checks_names_and_shapes():
    eng = TorchEngine(_config(), V)
    weights = eng.state_dict()
    with pytest.raises(CheckpointError, match="head.bias"):
        eng.load_state_dict({k: v for k, v in weights.items() if k != "head.bias"})
    weights["head.weight"] = weights["head.weight"][:, :2]
    with pytest.raises(CheckpointError, match="head.weight"):
        eng.load_state_dict(weights)
    weights = {k: v.astype(np.float16) for k, v in TorchEngine(_config(), V).state_dict().items()}
    eng.load_state_dict(weights)  # the float16 starter model is upcast
    assert eng.state_dict()["head.bias"].dtype == np.float64


def test_training_overfits_a_tiny_corpus():
    cfg = _config("poem", name="adam", lr=0.05, clip=1.0)
    cfg.model.hidden_dim, cfg.model.embed_dim, cfg.model.layers = 32, 32, 1
    cfg.train.precision = "fp32"
    eng = TorchEngine(cfg, V)
    b = make_batches(_poems(6), "poem", 3, 30, seed=3)
    eng.bind("train", b)
    losses = []
    for epoch in range(30):
        for i in range(b.num_batches()):
            eng.train_batch("train", epoch, i)
            eng.apply_update(0.05)
        loss, n = eng.pop_train_loss()
        losses.append(loss / n)
    assert losses[0] > 2.5 and losses[-1] < 0.5  # from about ln V to memorised


def test_engine_path_imports_no_textual_and_bench_imports_no_torch():
    code = ("import sys, engine.bench, tangtui.cli.cmd_bench; "
            "assert 'torch' not in sys.modules, 'torch'; "
            "import engine.torch_engine; assert 'textual' not in sys.modules, 'textual'")
    subprocess.run([sys.executable, "-c", code], check=True)
