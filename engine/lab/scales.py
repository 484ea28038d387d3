"""Sizes of the lab's experiments: ``tiny`` (tests, seconds), ``small`` (the default: each
experiment within ten minutes on a quiet 2-core CPU with the NumPy engine) and ``report`` (the
seed report's sizes, for a GPU).

A scale is the base config of every member (dotted overrides on the defaults) plus a few
numbers the experiments use: the loss threshold of the optimizer race and the budget of the
perplexity model. Members add their own overrides (optimizer, rate, init, seed) on top.
"""

from __future__ import annotations

from typing import Any

from engine.config import RunConfig, set_field

SCALES = ("tiny", "small", "report")

_QUIET = {"train.sample_every": 0, "train.keep_checkpoints": 1, "train.schedule": "constant",
          "train.warmup": 0, "optim.clip": 5.0, "model.layers": 1, "model.dropout": 0.0}

BASE: dict[str, dict[str, Any]] = {
    "tiny": {
        **_QUIET, "engine": "numpy", "corpus.forms": ["wujue"], "corpus.max_poems": 60,
        "corpus.test_frac": 0.1, "model.embed_dim": 8, "model.hidden_dim": 8,
        "train.mode": "stream", "train.batch_size": 4, "train.seq_len": 16, "train.steps": 6,
        "train.eval_every": 3, "train.log_every": 1, "train.checkpoint_every": 0,
        "train.precision": "fp64",
    },
    "small": {
        **_QUIET, "engine": "numpy", "corpus.forms": ["wujue"], "corpus.max_poems": 800,
        "corpus.test_frac": 0.1, "model.embed_dim": 32, "model.hidden_dim": 64,
        "train.mode": "stream", "train.batch_size": 16, "train.seq_len": 32, "train.steps": 150,
        "train.eval_every": 50, "train.log_every": 5, "train.checkpoint_every": 50,
    },
    "report": {
        **_QUIET, "engine": "torch", "model.embed_dim": 512, "model.hidden_dim": 512,
        "train.mode": "poem", "train.batch_size": 128, "train.seq_len": 125, "train.epochs": 2,
        "train.steps": 0, "train.eval_every": 200, "train.log_every": 10,
        "train.checkpoint_every": 500,
    },
}

# per scale: the optimizer race's loss threshold, and the perplexity model's own overrides
OPTIMIZER_EPOCHS = {"tiny": 1, "small": 3, "report": 2}  # the race's budget, passes over the data
LOSS_THRESHOLD = {"tiny": 6.3, "small": 6.5, "report": 5.0}
PERPLEXITY_MODEL: dict[str, dict[str, Any]] = {
    "tiny": {"train.mode": "poem", "train.seq_len": 40},
    "small": {"train.mode": "poem", "train.seq_len": 40, "train.batch_size": 32,
              "model.embed_dim": 64, "model.hidden_dim": 128, "train.steps": 300,
              "train.log_every": 1, "train.eval_every": 100, "optim.lr": 1e-2,
              "corpus.max_poems": 2000},
    "report": {"train.epochs": 20, "optim.lr": 1e-3, "model.init": "report"},
}
GRADIENT_STEPS = {"tiny": 4, "small": 60, "report": 200}  # training of the gradient-flow runs
PAD_TO = 125  # the report's padded poem length (its T): padding counted up to it


def base_config(scale: str, overrides: dict[str, Any] | None = None) -> RunConfig:
    """The member config: defaults <- scale base <- ``overrides`` (validated)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (choose {', '.join(SCALES)})")
    cfg = RunConfig()
    for key, value in {**BASE[scale], **(overrides or {})}.items():
        set_field(cfg, key, value)
    return cfg.validate()
