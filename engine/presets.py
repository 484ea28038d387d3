"""Named training recipes: a preset is a set of dotted overrides applied on top of the defaults.

``tangtui train --preset NAME`` applies a preset first, then ``--config FILE``, then ``--engine``
and ``--set key=value`` (later wins).

========  ===================================================================================
tiny      smoke tests and demos: E = H = 16, a few hundred 五绝, 30 updates; seconds on a CPU,
          the perplexity means nothing.
cpu       a quiet 2-core CPU in about ten minutes, with the NumPy engine (1.29x torch's tokens/s
          at this size on such a machine: 7,900 vs 6,150): 1 layer, E = 128, H = 256, forget
          bias 1, stream mode B = 16 x T = 64, Adam 4e-3 with 100 warm-up updates and cosine
          decay to 2e-4, 4,000 updates (about 4.1 M characters, 1.3 passes over the training
          split), a full held-out evaluation every 1,000. Measured: 170.9 per poem, 146.1
          stream (the honest per-poem figure is the headline; the issue's target is <= 140 per
          poem). Smaller batches learn more per character here than B = 32. Next lever to try:
          a short poem-mode stage at the end, which took the starter model from 135.6 to 103.5
          per poem (data/finetune_poems.py).
gpu       one H100 in under three minutes: 2 layers of 768 (E = 384), dropout 0.35, forget
          bias 1, stream mode B = 128 x T = 128, bf16 autocast, Adam 2e-3 with warm-up and
          cosine decay to 1e-4, 20 epochs (~3,000 updates). Target: test perplexity <= 80.
          Not measured: the machine it was written on has no GPU (the issue's reference: a
          bare 1-layer 512 reaches ~92 after 14 epochs in 33 s; 2 x 512 with dropout 0.3 ~89).
report    the seed report's setup: torch, poem mode (one poem a row, padding masked),
          E = H = 512, 1 layer, batch 128, Adam 1e-3, the report's initialisation, 20 epochs.
          Its perplexity counts real characters only (padding never counts), so expect it far
          above the report's 18.75, which most likely averaged over padded positions too.
========  ===================================================================================

Measured perplexities live in README.md; the targets above are what each preset is tuned for.
"""

from __future__ import annotations

from typing import Any

from engine.config import ConfigError, RunConfig, set_field

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "corpus.forms": ["wujue"], "corpus.max_poems": 300, "corpus.test_frac": 0.1,
        "model.embed_dim": 16, "model.hidden_dim": 16, "model.layers": 1,
        "optim.name": "adam", "optim.lr": 1e-2,
        "train.mode": "stream", "train.batch_size": 8, "train.seq_len": 32, "train.steps": 30,
        "train.eval_every": 10, "train.sample_every": 10, "train.checkpoint_every": 10,
        "train.log_every": 1,
    },
    "cpu": {
        "engine": "numpy",
        "model.embed_dim": 128, "model.hidden_dim": 256, "model.layers": 1,
        "model.forget_bias": 1.0,
        "optim.name": "adam", "optim.lr": 4e-3, "optim.clip": 1.0,
        "train.mode": "stream", "train.batch_size": 16, "train.seq_len": 64,
        "train.steps": 4000, "train.schedule": "cosine", "train.warmup": 100,
        "train.min_lr": 2e-4, "train.eval_every": 1000, "train.eval_batches": 0,
        "train.sample_every": 1000, "train.checkpoint_every": 1000, "train.log_every": 10,
    },
    "gpu": {
        "engine": "torch",
        "model.embed_dim": 384, "model.hidden_dim": 768, "model.layers": 2, "model.dropout": 0.35,
        "model.forget_bias": 1.0,
        "optim.name": "adam", "optim.lr": 2e-3, "optim.clip": 1.0,
        "train.mode": "stream", "train.batch_size": 128, "train.seq_len": 128,
        "train.epochs": 20, "train.steps": 0, "train.schedule": "cosine", "train.warmup": 200,
        "train.min_lr": 1e-4, "train.device": "auto", "train.precision": "bf16",
        "train.eval_every": 500, "train.sample_every": 500, "train.checkpoint_every": 1000,
        "train.log_every": 20,
    },
    "report": {
        "engine": "torch",
        "model.embed_dim": 512, "model.hidden_dim": 512, "model.layers": 1,
        "model.init": "report",
        "optim.name": "adam", "optim.lr": 1e-3,
        "train.mode": "poem", "train.batch_size": 128, "train.seq_len": 125, "train.epochs": 20,
        "train.steps": 0, "train.schedule": "constant",
        "train.eval_every": 200, "train.sample_every": 200, "train.checkpoint_every": 500,
    },
}


def preset_names() -> list[str]:
    return list(PRESETS)


def apply_preset(cfg: RunConfig, name: str) -> RunConfig:
    """Apply the overrides of preset ``name`` to ``cfg`` in place and return it."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r} (choose {', '.join(PRESETS)})")
    for key, value in PRESETS[name].items():
        set_field(cfg, key, value)
    return cfg


def build_config(preset: str | None = None, file_data: dict[str, Any] | None = None,
                 engine: str | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Defaults <- preset <- config file <- engine <- ``key=value`` overrides; validated."""
    cfg = RunConfig()
    if preset:
        apply_preset(cfg, preset)
    if file_data:
        merged = RunConfig.from_dict(file_data).to_dict()
        given = _flatten(file_data)
        for key in given:
            section, _, name = key.partition(".")
            set_field(cfg, key, merged[section][name] if name else merged[section])
    if engine:
        set_field(cfg, "engine", engine)
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        set_field(cfg, key.strip(), value.strip())
    return cfg.validate()


def _flatten(data: dict[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for k, v in data.items():
        if isinstance(v, dict):
            keys += _flatten(v, f"{prefix}{k}.")
        else:
            keys.append(f"{prefix}{k}")
    return keys
