"""The seven optimizers through ``torch.optim``, and their state as engine-neutral arrays.

=========  ====================================  ==============================
name       torch.optim                           slots (per parameter)
=========  ====================================  ==============================
sgd        SGD                                   -
momentum   SGD(momentum=m)                       momentum_buffer
nag        SGD(momentum=m, nesterov=True)        momentum_buffer
adagrad    Adagrad                               sum
adadelta   Adadelta(rho)                         square_avg, acc_delta
rmsprop    RMSprop(alpha)                        square_avg
adam       Adam(betas=(beta1, beta2))            exp_avg, exp_avg_sq
=========  ====================================  ==============================

Weight decay is torch's: ``g <- g + wd * theta`` inside the step, after clipping. The state is
exported as ``{"{slot}/{param}": array}`` plus ``{"name": str, "step": int}`` (the update count),
which the NumPy engine reads and writes too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.checkpoint import CheckpointError
from engine.config import OPTIMIZERS, ConfigError, OptimConfig
from engine.optim_defaults import optim_eps

SLOTS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum_buffer",),
    "nag": ("momentum_buffer",),
    "adagrad": ("sum",),
    "adadelta": ("square_avg", "acc_delta"),
    "rmsprop": ("square_avg",),
    "adam": ("exp_avg", "exp_avg_sq"),
}
_HAS_STEP = ("adagrad", "adadelta", "rmsprop", "adam")  # torch keeps a per-parameter step


def adadelta_eps(cfg: OptimConfig) -> float:
    """Adadelta's eps: ``optim.eps``, or torch's 1e-6 when it is 0 (see engine.optim_defaults)."""
    return optim_eps(cfg)


def build_optimizer(cfg: OptimConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """The torch.optim optimizer named by ``cfg.name`` (the lr is set again at every update)."""
    wd, lr = cfg.weight_decay, cfg.lr
    name = cfg.name
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nag"):
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=wd,
                               nesterov=name == "nag")
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=optim_eps(cfg), weight_decay=wd)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=cfg.rho, eps=adadelta_eps(cfg),
                                    weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=cfg.alpha, eps=optim_eps(cfg),
                                   weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2), eps=optim_eps(cfg),
                                weight_decay=wd)
    raise ConfigError(f"optim.name: unknown optimizer {name!r} (choose {', '.join(OPTIMIZERS)})")


def export_state(
    opt: torch.optim.Optimizer, names: list[str], optim_name: str, step: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """torch.optim state -> (``{"{slot}/{param}": array}``, ``{"name", "step"}``)."""
    tensors: dict[str, np.ndarray] = {}
    params = opt.param_groups[0]["params"]
    for name, p in zip(names, params, strict=True):
        state = opt.state.get(p, {})
        for slot in SLOTS[optim_name]:
            value = state.get(slot)
            if isinstance(value, torch.Tensor):
                tensors[f"{slot}/{name}"] = value.detach().to("cpu").numpy().copy()
    return tensors, {"name": optim_name, "step": int(step)}


def import_state(
    opt: torch.optim.Optimizer, names: list[str], optim_name: str,
    tensors: dict[str, np.ndarray], meta: dict[str, Any],
) -> int:
    """Load what :func:`export_state` (or the NumPy engine) wrote; returns the update count."""
    saved = meta.get("name", optim_name)
    if saved != optim_name:
        raise CheckpointError(f"optimizer state is for {saved!r} but the run uses "
                              f"{optim_name!r}; resume with optim.name={saved}")
    step = int(meta.get("step", 0))
    params = opt.param_groups[0]["params"]
    state: dict[int, dict[str, Any]] = {}
    for i, (name, p) in enumerate(zip(names, params, strict=True)):
        entry: dict[str, Any] = {}
        for slot in SLOTS[optim_name]:
            key = f"{slot}/{name}"
            if key not in tensors:
                if optim_name == "adagrad":  # torch's Adagrad expects its sum from the start
                    entry[slot] = torch.zeros(tuple(p.shape), dtype=p.dtype)
                continue
            arr = np.asarray(tensors[key])
            if tuple(arr.shape) != tuple(p.shape):
                raise CheckpointError(f"optimizer slot {key} has shape {arr.shape}, "
                                      f"expected {tuple(p.shape)}")
            entry[slot] = torch.from_numpy(np.ascontiguousarray(arr))
        if optim_name in _HAS_STEP and (entry or step):  # a fresh Adam has no state yet
            entry["step"] = torch.tensor(float(step), dtype=torch.float32)
        if entry:
            state[i] = entry
    groups = opt.state_dict()["param_groups"]
    opt.load_state_dict({"state": state, "param_groups": groups})  # casts to each param's dtype
    return step
