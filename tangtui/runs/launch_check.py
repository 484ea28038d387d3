"""The one check of a training launch: the Train form, ``tangtui train --dry-run`` and the launch.

:func:`launch_problems` returns ``{"field": "message"}`` for everything that would make a run
fail at once: the config's own fields (``engine.config_check``), the run name (its rules, and no
other run may hold it), the device (the torch engine without PyTorch; CUDA or MPS where this
machine has none) and memory. Nothing here creates a run, and nothing imports torch: whether
CUDA is there is asked of the driver files and, only where a driver exists, of a child Python.

Memory, in bytes of b per value (8 for fp64, else 4; activations 2 under bf16), for P
parameters, batch B, sequence T, embedding E, hidden H, L layers and vocabulary V::

    weights + gradients   2 P b
    optimizer state       k P b        k = 2 (adam, adadelta), 1 (momentum, nag, rmsprop,
                                            adagrad, sgd with momentum), 0 (plain sgd)
    activations           B T (E + 7 H L + 2 V) b    per position: the embedding, per layer the
                                                      four gates, c, tanh c and h; the logits
                                                      and their gradient

On N processes each holds the weights and optimizer state and 1/N of the batch; on the CPU they
share one RAM. The total must fit in 90 % of the memory free now (RAM, or the device's VRAM).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tangtui.errors import TangtuiError
from tangtui.runs.rows import StoreError, check_run_name

if TYPE_CHECKING:
    from engine.config import RunConfig

VOCAB = 7000  # characters of the simplified corpus's vocabulary (before any max_vocab cap)
HEADROOM = 0.9  # share of the free memory a run may plan to use
STATE = {"adam": 2, "adadelta": 2, "momentum": 1, "nag": 1, "rmsprop": 1, "adagrad": 1}


@dataclass(frozen=True)
class Machine:
    """What this machine offers a trainer (``None``: unknown, not checked)."""

    torch: bool  # PyTorch can be imported here
    cuda: int  # CUDA devices torch sees
    mps: bool  # Apple's Metal device
    ram_free: int | None  # bytes of RAM available now
    vram_free: tuple[int, ...] = ()  # bytes free on each CUDA device


@functools.cache
def probe() -> Machine:
    """This machine, asked once per process (a child Python only where a CUDA driver exists)."""
    try:
        has_torch = importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        has_torch = False
    cuda = 0
    if has_torch and _cuda_driver():
        from tangtui.runs.dist_launch import cuda_devices

        cuda = cuda_devices()
    mps = has_torch and sys.platform == "darwin" and os.uname().machine == "arm64"
    return Machine(has_torch, cuda, mps, _ram_free(), _vram_free() if cuda else ())


def _cuda_driver() -> bool:
    if sys.platform == "darwin":
        return False
    return os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi") is not None


def _ram_free() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _vram_free() -> tuple[int, ...]:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.free",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
        return tuple(int(v) * 2**20 for v in out.split())
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return ()


def param_count(cfg: RunConfig, vocab: int = VOCAB) -> int:
    """Weights of the model for a vocabulary of ``vocab``: V·E + Σ 4H(in+H) + 8H + V·H + V."""
    e, h, n = cfg.model.embed_dim, cfg.model.hidden_dim, cfg.model.layers
    lstm = sum(4 * h * ((e if k == 0 else h) + h) + 8 * h for k in range(n))
    return vocab * e + lstm + vocab * h + vocab


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one process (``per_device``) and the whole run on one machine's RAM need."""

    weights: int  # weights and gradients
    optimizer: int
    activations: int  # of one batch (the process's share of it)
    nproc: int

    @property
    def per_device(self) -> int:
        return self.weights + self.optimizer + self.activations

    @property
    def shared_ram(self) -> int:
        return self.nproc * self.per_device


def memory_estimate(cfg: RunConfig) -> MemoryEstimate:
    vocab = min(cfg.corpus.max_vocab or VOCAB, VOCAB)
    b = 8 if cfg.train.precision == "fp64" else 4
    b_act = 2 if cfg.train.precision == "bf16" else b
    p = param_count(cfg, vocab)
    k = STATE.get(cfg.optim.name, 1 if cfg.optim.momentum else 0)
    nproc = max(1, cfg.train.nproc)
    rows = -(-cfg.train.batch_size // nproc)
    m = cfg.model
    per_position = m.embed_dim + 7 * m.hidden_dim * m.layers + 2 * vocab
    return MemoryEstimate(2 * p * b, k * p * b, rows * cfg.train.seq_len * per_position * b_act,
                          nproc)


def size_text(n: float) -> str:
    """``812 MB``, ``3.4 GB`` (decimal units, as free(1) -h and nvidia-smi's GB)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n >= scale or unit == "MB":
            value = max(n / scale, 0.1)
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"
    raise AssertionError  # pragma: no cover


def device_of(cfg: RunConfig, machine: Machine) -> str:
    """Where the run trains: cpu, cuda:N or mps (``auto`` resolved as the trainer does)."""
    device = cfg.train.device
    if cfg.engine == "numpy":
        return "cpu"
    if device == "auto":
        return "cuda:0" if machine.cuda else "mps" if machine.mps else "cpu"
    return "cuda:0" if device == "cuda" else device


def device_problems(cfg: RunConfig, machine: Machine) -> dict[str, str]:
    """The torch engine without PyTorch; CUDA or MPS asked of a machine without them."""
    if cfg.engine != "torch":
        return {}
    if not machine.torch:
        return {"engine": "the torch engine needs PyTorch, which is not installed here "
                          "(pip install torch); or choose the numpy engine"}
    out: dict[str, str] = {}
    device = cfg.train.device
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if machine.cuda == 0:
            out["train.device"] = (f"{device} needs a CUDA GPU, and torch sees none on this "
                                   "machine; use cpu or auto")
        elif index >= machine.cuda:
            out["train.device"] = (f"{device}, but this machine has {machine.cuda:,} CUDA "
                                   f"device(s): cuda:0 to cuda:{machine.cuda - 1}")
    elif device == "mps" and not machine.mps:
        out["train.device"] = "mps needs Apple silicon and torch's Metal backend; use cpu or auto"
    if cfg.train.nproc > 1 and cfg.train.backend == "nccl" and machine.cuda == 0:
        out["train.backend"] = "nccl needs CUDA devices, which this machine lacks; use gloo"
    return out


def memory_problem(cfg: RunConfig, machine: Machine) -> str | None:
    """Why the run would not fit in this machine's free memory (None if it fits or unknown)."""
    est = memory_estimate(cfg)
    device = device_of(cfg, machine)
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if index >= len(machine.vram_free):
            return None
        need, free, where = est.per_device, machine.vram_free[index], f"free on {device}"
    else:
        if machine.ram_free is None:
            return None
        need, free, where = est.shared_ram, machine.ram_free, "of RAM free"
    if need <= HEADROOM * free:
        return None
    procs = f" per process × {est.nproc:,}" if est.nproc > 1 and not device.startswith("cuda") \
        else ""
    rows = -(-cfg.train.batch_size // est.nproc)
    return (f"needs about {size_text(need)} (weights and gradients {size_text(est.weights)}, "
            f"optimizer {size_text(est.optimizer)}, one batch of {rows:,}×"
            f"{cfg.train.seq_len:,} {size_text(est.activations)}{procs}) but "
            f"{size_text(free)} {where}; lower the batch, sequence length or model size")


def name_problem(name: str | None, taken: Iterable[str] = ()) -> str | None:
    """Why ``name`` cannot name a new run (None when it can; no name: the id names the run)."""
    if not name:
        return None
    try:
        check_run_name(name)
    except StoreError as exc:
        return str(exc).removeprefix(f"invalid run name {name!r}: ")
    if name in set(taken):
        return name_taken(name)
    return None


def name_taken(name: str) -> str:
    return f"a run named {name} exists; choose another name"


def launch_problems(cfg: RunConfig, name: str | None = None, taken: Iterable[str] = (),
                    machine: Machine | None = None) -> dict[str, str]:
    """Every reason this launch would fail, by field (``name`` for the run name)."""
    from engine.config_check import problems

    bad_name = name_problem(name, taken)
    out = {"name": bad_name} if bad_name else {}
    config = problems(cfg)
    out.update(config)
    if machine is None or config:
        return out  # a broken config has no memory size or device worth checking yet
    device = device_problems(cfg, machine)
    out.update(device)
    problem = None if device else memory_problem(cfg, machine)
    if problem:
        out["train.batch_size"] = problem
    return out


def check_launch(cfg: RunConfig, name: str | None = None, taken: Iterable[str] = (),
                 machine: Machine | None = None) -> None:
    """Raise :class:`TangtuiError` naming the first problem of :func:`launch_problems`."""
    found = launch_problems(cfg, name, taken, machine)
    if found:
        key, message = next(iter(found.items()))
        more = f" (and {len(found) - 1:,} more)" if len(found) > 1 else ""
        if key != "name":
            message = f"{key}: {message}"
        elif not message.startswith("a run named"):
            message = f"invalid run name {name!r}: {message}"
        raise TangtuiError(message + more)


def holds_name(run: object) -> bool:
    """False for a run that failed before its first step and has no checkpoint: a new launch
    may take its name (the launch removes it then; until then its reason stays readable)."""
    return not (getattr(run, "status", "") == "failed" and not getattr(run, "step", 0)
                and getattr(run, "checkpoint_step", None) is None)


def taken_names(runs: Iterable[object]) -> set[str]:
    """Ids and names a new run may not take."""
    return {str(n) for r in runs if holds_name(r)
            for n in (getattr(r, "id", ""), getattr(r, "name", ""))}


def discard_unstarted(store: object, run_id: str) -> bool:
    """Delete a run whose launch failed before it trained a step or wrote a checkpoint (queued,
    or failed), so that its name is free again; True if it was deleted."""
    try:
        run = store.get_run(run_id)  # type: ignore[attr-defined]
        if run.step or run.checkpoint_step is not None or run.status not in ("queued", "failed"):
            return False
        store.delete_run(run.id)  # type: ignore[attr-defined]  (refused while one trains it)
        return True
    except Exception:  # noqa: BLE001 - the launch's own error is the one to report
        return False
