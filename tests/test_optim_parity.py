"""Each hand-written optimizer against torch.optim on identical gradients (float64, 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import OPTIMIZERS, OptimConfig, RunConfig
from engine.numpy_engine import NumpyEngine
from engine.numpy_engine.optim import SLOTS, Optimizer

torch = pytest.importorskip("torch")


def torch_optimizer(cfg: OptimConfig, params: list) -> torch.optim.Optimizer:
    """torch.optim with its own default eps: ours must use the same when optim.eps is 0."""
    o, lr, wd = torch.optim, cfg.lr, cfg.weight_decay
    return {
        "sgd": lambda: o.SGD(params, lr=lr, weight_decay=wd),
        "momentum": lambda: o.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=wd),
        "nag": lambda: o.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=True,
                             weight_decay=wd),
        "adagrad": lambda: o.Adagrad(params, lr=lr, weight_decay=wd),
        "rmsprop": lambda: o.RMSprop(params, lr=lr, alpha=cfg.alpha, weight_decay=wd),
        "adadelta": lambda: o.Adadelta(params, lr=lr, rho=cfg.rho, weight_decay=wd),
        "adam": lambda: o.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2), weight_decay=wd),
    }[cfg.name]()


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_update_matches_torch_optim(name: str, weight_decay: float) -> None:
    rng = np.random.default_rng(7)
    cfg = OptimConfig(name=name, lr=0.05, weight_decay=weight_decay)
    params = {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(5)}
    t_params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    ours, theirs = Optimizer(cfg, params), torch_optimizer(cfg, list(t_params.values()))
    for step in range(6):
        lr = cfg.lr * (1.0 - 0.1 * step)  # a schedule changes lr between steps
        for group in theirs.param_groups:
            group["lr"] = lr
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        for k, p in t_params.items():
            p.grad = torch.tensor(grads[k].copy())
        theirs.step()
        ours.step(params, grads, lr)
        for k, p in t_params.items():
            assert rel_err(params[k], p.detach().numpy()) <= 1e-6, (name, step, k)
    tensors, meta = ours.state()
    assert meta == {"name": name, "step": 6}
    for slot in SLOTS[name]:  # torch's slot names, torch's values
        for k, p in t_params.items():
            assert rel_err(tensors[f"{slot}/{k}"], theirs.state[p][slot].numpy()) <= 1e-6


def test_state_round_trip_continues_identically() -> None:
    rng = np.random.default_rng(0)
    cfg = OptimConfig(name="adam", lr=0.01)
    a = {"w": rng.standard_normal(6)}
    b = {"w": a["w"].copy()}
    opt_a = Optimizer(cfg, a)
    for _ in range(3):
        opt_a.step(a, {"w": rng.standard_normal(6)}, 0.01)
    b["w"][:] = a["w"]
    opt_b = Optimizer(cfg, b)
    opt_b.load_state(*opt_a.state())
    g = rng.standard_normal(6)
    opt_a.step(a, {"w": g.copy()}, 0.01)
    opt_b.step(b, {"w": g.copy()}, 0.01)
    np.testing.assert_array_equal(a["w"], b["w"])


def tiny_engine(**optim: object) -> NumpyEngine:
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.init = 4, 3, "uniform"
    cfg.train.precision = "fp64"
    for k, v in optim.items():
        setattr(cfg.optim, k, v)
    return NumpyEngine(cfg, 6)


def test_apply_update_averages_then_clips_like_torch() -> None:
    eng = tiny_engine(name="sgd", clip=0.5, accum=2)
    start = {k: v.copy() for k, v in eng.params.items()}
    rng = np.random.default_rng(1)
    batches = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(2)]
    eng.grads = {k: batches[0][k] + batches[1][k] for k in start}  # as train_batch leaves them
    eng.accumulated, eng.accumulated_tokens = 2, 7.0  # gradients of summed losses over 7 tokens
    eng.apply_update(0.1)

    t_params = {k: torch.tensor(start[k], requires_grad=True) for k in start}
    for k, p in t_params.items():
        p.grad = torch.tensor((batches[0][k] + batches[1][k]) / 7)
    norm = torch.nn.utils.clip_grad_norm_(list(t_params.values()), 0.5)
    assert norm.item() > 0.5  # the clip is active
    torch.optim.SGD(list(t_params.values()), lr=0.1).step()
    assert abs(eng.last_grad_norm - norm.item()) <= 1e-9 * norm.item()
    for k, p in t_params.items():
        assert rel_err(eng.params[k], p.detach().numpy()) <= 1e-9
    assert eng.accumulated == 0


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_standard_hyperparameters_are_torchs_defaults(name: str) -> None:
    """Choosing an optimizer alone gives torch's default lr and eps (AdaDelta: lr 1.0)."""
    import inspect

    from engine.config import set_field
    from engine.optim_defaults import optim_eps

    cfg = RunConfig()
    set_field(cfg, "optim.name", name)
    cls = {"momentum": "SGD", "nag": "SGD", "sgd": "SGD", "adagrad": "Adagrad",
           "adadelta": "Adadelta", "rmsprop": "RMSprop", "adam": "Adam"}[name]
    defaults = inspect.signature(getattr(torch.optim, cls)).parameters
    assert cfg.optim.lr == defaults["lr"].default
    if "eps" in defaults:
        assert optim_eps(cfg.optim) == defaults["eps"].default
    set_field(cfg, "optim.lr", 0.3)
    set_field(cfg, "optim.name", "adadelta")
    assert cfg.optim.lr == 0.3  # a rate the user chose is kept
