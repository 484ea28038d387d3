"""Each optimizer's standard hyperparameters: torch.optim's defaults, used unless set otherwise.

=========  ======  ========================================  =====
name       lr      other                                     eps
=========  ======  ========================================  =====
sgd        1e-3    -                                         -
momentum   1e-3    momentum 0.9                              -
nag        1e-3    momentum 0.9 (Nesterov)                   -
adagrad    1e-2    -                                         1e-10
adadelta   1.0     rho 0.9 (lr only scales the step)         1e-6
rmsprop    1e-2    alpha 0.99                                1e-8
adam       1e-3    beta1 0.9, beta2 0.999                    1e-8
=========  ======  ========================================  =====

``optim.eps = 0`` (the default) means the optimizer's own eps from this table. Choosing
``optim.name`` also moves ``optim.lr`` to the new optimizer's standard rate while the rate still
holds the previous optimizer's standard one (so ``optim.name=adadelta`` alone trains with lr 1.0,
and an lr given explicitly is kept).
"""

from __future__ import annotations

from typing import Any

STANDARD: dict[str, dict[str, float]] = {
    "sgd": {"lr": 1e-3},
    "momentum": {"lr": 1e-3, "momentum": 0.9},
    "nag": {"lr": 1e-3, "momentum": 0.9},
    "adagrad": {"lr": 1e-2, "eps": 1e-10},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


def standard_lr(name: str) -> float:
    """The optimizer's standard learning rate (torch's default)."""
    return STANDARD.get(name, {}).get("lr", 1e-3)


def optim_eps(cfg: Any) -> float:
    """The eps an optimizer uses: ``cfg.eps``, or its standard one when ``cfg.eps`` is 0."""
    return float(cfg.eps) if cfg.eps else STANDARD.get(cfg.name, {}).get("eps", 1e-8)


def standard_settings(name: str) -> dict[str, float]:
    """Every hyperparameter the optimizer uses, at its standard value (for tables)."""
    return dict(STANDARD[name])
