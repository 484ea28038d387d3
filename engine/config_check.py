"""Validation of a :class:`~engine.config.RunConfig`: every field, its allowed range, one message.

:func:`problems` returns ``{"section.field": "message"}`` for every bad value (the app shows
them inline next to the form fields); :meth:`RunConfig.validate` joins them into one
:class:`~engine.config.ConfigError`.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from engine.config_choices import (
    ENGINES,
    FORMS,
    INITS,
    MODES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    SCRIPTS,
    SOFTMAXES,
    STREAM_EVALS,
)

if TYPE_CHECKING:  # annotations only: engine.config imports this module
    from engine.config import RunConfig

_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

# (min, max, min inclusive, max inclusive) for every numeric field
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "corpus.min_len": (0, 10_000, True, True),
    "corpus.max_len": (0, 10_000, True, True),
    "corpus.min_freq": (1, 1_000_000, True, True),
    "corpus.max_vocab": (0, 1_000_000, True, True),
    "corpus.test_frac": (0.0, 0.5, False, True),
    "corpus.max_poems": (0, 10_000_000, True, True),
    "model.embed_dim": (1, 8192, True, True),
    "model.hidden_dim": (1, 8192, True, True),
    "model.layers": (1, 16, True, True),
    "model.dropout": (0.0, 1.0, True, False),
    "model.init_scale": (0.0, 10.0, False, True),
    "model.forget_bias": (-10.0, 10.0, True, True),
    "model.tail_div": (1.0, 64.0, True, True),
    "optim.lr": (0.0, 1e6, False, True),
    "optim.momentum": (0.0, 1.0, True, False),
    "optim.beta1": (0.0, 1.0, True, False),
    "optim.beta2": (0.0, 1.0, True, False),
    "optim.alpha": (0.0, 1.0, True, False),
    "optim.rho": (0.0, 1.0, True, False),
    "optim.eps": (0.0, 1.0, True, True),
    "optim.weight_decay": (0.0, 1.0, True, True),
    "optim.clip": (0.0, 1e6, True, True),
    "optim.accum": (0, 1_000_000, True, True),
    "train.batch_size": (1, 65_536, True, True),
    "train.seq_len": (2, 100_000, True, True),
    "train.epochs": (1, 1_000_000, True, True),
    "train.steps": (0, 1_000_000_000, True, True),
    "train.warmup": (0, 1_000_000_000, True, True),
    "train.min_lr": (0.0, 1e6, True, True),
    "train.step_every": (1, 1_000_000_000, True, True),
    "train.gamma": (0.0, 1.0, False, True),
    "train.seed": (0, 2**32 - 1, True, True),
    "train.eval_every": (0, 1_000_000_000, True, True),
    "train.eval_batches": (0, 1_000_000_000, True, True),
    "train.sample_every": (0, 1_000_000_000, True, True),
    "train.checkpoint_every": (0, 1_000_000_000, True, True),
    "train.log_every": (1, 1_000_000_000, True, True),
    "train.keep_checkpoints": (1, 1000, True, True),
    "train.nproc": (1, 65_536, True, True),
    "train.poem_steps": (0, 1_000_000_000, True, True),
    "train.poem_batch": (1, 65_536, True, True),
}

HINTS = {
    "optim.accum": " (0 or full = one update per epoch)",
    "train.steps": " (0 = run train.epochs)",
    "train.eval_every": " (0 = only at the end)",
    "train.sample_every": " (0 = never)",
    "train.checkpoint_every": " (0 = only at evaluations, stop and end)",
    "optim.eps": " (0 = the optimizer's own)",
    "corpus.max_len": " (0 = no bound)",
    "corpus.max_vocab": " (0 = no cap)",
    "corpus.max_poems": " (0 = all)",
    "train.nproc": " (training processes)",
    "train.poem_steps": " (0 = no poem-mode finishing stage)",
}


def people_number(v: Any) -> str:
    """A number as people write it: ``8,192``, ``1,000,000``, ``0.001`` (never ``8_192``)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return repr(v)
    if math.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:g}"


def _range_text(lo: float, hi: float, lo_in: bool, hi_in: bool) -> str:
    """``from 1 to 8,192``, ``above 0 and at most 1,000,000``, ``at least 0 and below 1``."""
    a, b = people_number(lo), people_number(hi)
    if lo_in and hi_in:
        return f"from {a} to {b}"
    return f"{'at least' if lo_in else 'above'} {a} and {'at most' if hi_in else 'below'} {b}"


def _check_number(key: str, value: Any) -> str | None:
    lo, hi, lo_in, hi_in = RANGES[key]
    integer = isinstance(lo, int) and isinstance(hi, int)
    allowed = f"must be {'an integer' if integer else 'a number'} " \
              f"{_range_text(lo, hi, lo_in, hi_in)}{HINTS.get(key, '')}"
    got = f"{allowed}, got {people_number(value)}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return got
    if integer and not float(value).is_integer():
        return got
    if not math.isfinite(value):
        return got
    ok = (value >= lo if lo_in else value > lo) and (value <= hi if hi_in else value < hi)
    return None if ok else got


def _choice(value: Any, allowed: tuple[str, ...]) -> str | None:
    return None if value in allowed else f"must be one of {', '.join(allowed)}; got {value!r}"


def problems(cfg: RunConfig) -> dict[str, str]:
    """Every invalid field of ``cfg``: ``{"section.field": "what is allowed; what was given"}``."""

    out: dict[str, str] = {}

    def put(key: str, msg: str | None) -> None:
        if msg and key not in out:
            out[key] = msg

    put("engine", _choice(cfg.engine, ENGINES))
    put("corpus.script", _choice(cfg.corpus.script, SCRIPTS))
    bad_forms = [f for f in cfg.corpus.forms if f not in FORMS]
    if bad_forms:
        put("corpus.forms", f"must be a list of {', '.join(FORMS)}; got {bad_forms[0]!r}")
    if any(not isinstance(a, str) or not a.strip() for a in cfg.corpus.authors):
        put("corpus.authors", "must be a list of non-empty author names")
    put("model.init", _choice(cfg.model.init, INITS))
    put("model.softmax", _choice(cfg.model.softmax, SOFTMAXES))
    cuts = cfg.model.cutoffs
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 5 for v in cuts) or \
            list(cuts) != sorted(set(cuts)):
        put("model.cutoffs", "must be increasing vocabulary ranks of at least 5 (empty = "
                             f"chosen from character frequencies); got {list(cuts)!r}")
    put("optim.name", _choice(cfg.optim.name, OPTIMIZERS))
    put("train.mode", _choice(cfg.train.mode, MODES))
    put("train.schedule", _choice(cfg.train.schedule, SCHEDULES))
    put("train.precision", _choice(cfg.train.precision, PRECISIONS))
    put("train.stream_eval", _choice(cfg.train.stream_eval, STREAM_EVALS))
    if not isinstance(cfg.train.device, str) or not _DEVICE_RE.match(cfg.train.device):
        put("train.device", f"must be auto, cpu, cuda, cuda:N or mps; got {cfg.train.device!r}")
    for key in RANGES:
        section, name = key.split(".")
        put(key, _check_number(key, getattr(getattr(cfg, section), name)))

    c, t, o = cfg.corpus, cfg.train, cfg.optim
    if "corpus.max_len" not in out and c.max_len and c.max_len < c.min_len:
        put("corpus.max_len", f"must be 0 or at least corpus.min_len ({c.min_len:,}); "
                              f"got {c.max_len:,}")
    if "train.min_lr" not in out and t.min_lr > o.lr:
        put("train.min_lr", f"must not exceed optim.lr ({o.lr:g}); got {t.min_lr:g}")
    if isinstance(t.poem_steps, int) and t.poem_steps > 0 and "train.poem_steps" not in out:
        if t.mode != "stream":
            put("train.poem_steps", "a poem-mode finishing stage needs train.mode=stream "
                                    "(a poem-mode run trains on whole poems throughout)")
        elif o.accum == 0:
            put("train.poem_steps", "full-batch updates (optim.accum=full) have no finishing "
                                    "stage; use 0")
        elif t.steps and t.poem_steps >= t.steps:
            put("train.poem_steps", f"must be below train.steps ({t.steps:,}); got "
                                    f"{t.poem_steps:,}")
    if cfg.engine == "numpy":
        if t.precision in ("tf32", "bf16"):
            put("train.precision", f"{t.precision} needs the torch engine; the numpy engine "
                                   "supports fp32 and fp64")
        if t.device not in ("auto", "cpu"):
            put("train.device", f"the numpy engine runs on the CPU; got {t.device!r}")
        if t.compile:
            put("train.compile", "torch.compile needs the torch engine")
    _check_processes(cfg, put)
    return out


def _check_processes(cfg: RunConfig, put: Any) -> None:
    """``train.nproc`` and ``train.backend``: torch only, at most one process per batch row."""
    from engine.config_choices import BACKENDS

    t = cfg.train
    put("train.backend", _choice(t.backend, BACKENDS))
    if not isinstance(t.nproc, int) or isinstance(t.nproc, bool) or t.nproc < 2:
        return
    if cfg.engine == "numpy":
        put("train.nproc", f"the numpy engine trains in one process; use the torch engine for "
                           f"{t.nproc:,} processes")
    elif isinstance(t.batch_size, int) and t.nproc > t.batch_size:
        put("train.nproc", f"{t.nproc:,} processes but the batch has {t.batch_size:,} rows "
                           "(train.batch_size is the global batch, shared out among them)")
    if t.backend == "nccl" and t.device in ("cpu", "mps"):
        put("train.backend", f"nccl needs CUDA devices, not train.device={t.device}; use gloo")
