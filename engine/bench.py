"""Training-throughput benchmark: an engine's own loop against a second loop, in one process.

Both loops train on the same random tokens in stream mode (ids drawn with the character
frequencies of the 全唐诗 by rank, :data:`COVERAGE`, so an adaptive softmax meets its tails as
often as on the corpus), windows of T carried from one to the next, and are timed in interleaved
rounds (A, B, A, B, ...) after a warm-up, so a slow spell of a shared machine hits both alike::

    tokens/s = steps * B * T / seconds          ratio = tokens/s(first) / tokens/s(second)

The engine loop goes through the :class:`engine.base.Engine` protocol exactly as the trainer
does: ``bind`` once, then ``train_batch`` + ``apply_update`` per step and ``pop_train_loss``
every ``log_every`` steps (a device sync). The devices are synchronized around every round.
torch is imported only when a torch loop runs.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from engine.config import ConfigError, RunConfig
from engine.corpus.batching import Batches

COMPETITORS = ("numpy", "torch", "bare", "full")  # full: the same engine, full softmax
# share of the corpus's characters covered by its most frequent ranks (measured on the training
# split: 100 ranks cover 40.9 %, ...); ranks in between are interpolated in log-rank
COVERAGE = ((1, 0.012), (10, 0.09), (100, 0.409), (500, 0.713), (1000, 0.846), (1500, 0.911),
            (2000, 0.946), (3000, 0.979), (4000, 0.992), (6000, 0.999), (8000, 1.0))


@dataclass
class BenchConfig:
    engine: str = "numpy"  # numpy | torch: the loop under test
    vs: str = "auto"  # torch | bare | numpy | none; auto: bare for torch, torch for numpy
    device: str = "auto"  # torch device (cpu when numpy is in the race and this is auto)
    precision: str = "fp32"  # fp32 | fp64 | tf32 | bf16 (the last two CUDA only)
    embed: int = 512  # E
    hidden: int = 512  # H
    layers: int = 1
    batch: int = 128  # B
    seq_len: int = 125  # T
    vocab: int = 7500  # V
    softmax: str = "full"  # full | adaptive (cutoffs from COVERAGE: 90 % and 99 %)
    optim: str = "adam"
    clip: float = 5.0  # the engine's default global-norm clipping (the bare loop has none)
    compile: bool = False  # torch.compile the torch engine's model
    steps: int = 0  # timed steps per loop; 0 = 10 on the CPU, 100 on a GPU
    warmup: int = 0  # untimed steps per loop first; 0 = 2 on the CPU, 10 on a GPU
    rounds: int = 5  # interleaved timing rounds
    log_every: int = 10  # pop_train_loss every this many steps, as the trainer does
    seed: int = 0

    def opponent(self) -> str:
        if self.vs != "auto":
            return self.vs
        return "bare" if self.engine == "torch" else "torch"


@dataclass
class _Runner:
    name: str
    step: Callable[[int], None]  # run step number s
    sync: Callable[[], None]  # wait for queued device work
    finish: Callable[[], float]  # read the loss back (a sync); returns the last mean loss


def rank_shares(n: int) -> np.ndarray:
    """Probability of each of n ranks, following the corpus's coverage curve (sums to 1)."""
    ranks, cover = np.array([0] + [r for r, _ in COVERAGE], float), [0.0] + [c for _, c in COVERAGE]
    scaled = np.log1p(np.arange(1, n + 1) * (COVERAGE[-1][0] / n))  # the curve stretched to n
    cum = np.interp(scaled, np.log1p(ranks), cover)
    p = np.diff(np.concatenate([[0.0], cum]))
    return p / p.sum()


def _tokens(cfg: BenchConfig, windows: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Random stream data: x, y (B, windows * T), ids in [4, V) (no specials), by frequency."""
    rng = np.random.default_rng(cfg.seed)
    n = max(cfg.vocab, 5) - 4
    shape = (cfg.batch, windows * cfg.seq_len + 1)
    stream = 4 + rng.choice(n, size=shape, p=rank_shares(n))
    return np.ascontiguousarray(stream[:, :-1]), np.ascontiguousarray(stream[:, 1:])


def bench_cutoffs(vocab: int) -> list[int]:
    """The adaptive softmax's cutoffs for the bench's token distribution (engine.adaptive)."""
    from engine.adaptive import auto_cutoffs

    return auto_cutoffs(np.concatenate([[0.0] * 4, rank_shares(max(vocab, 5) - 4)]))


def _run_config(cfg: BenchConfig, engine: str, device: str, softmax: str) -> RunConfig:
    run = RunConfig(engine=engine)
    run.model.embed_dim, run.model.hidden_dim, run.model.layers = cfg.embed, cfg.hidden, cfg.layers
    run.model.softmax = softmax
    run.model.cutoffs = bench_cutoffs(cfg.vocab) if softmax == "adaptive" else []
    run.optim.name, run.optim.clip = cfg.optim, cfg.clip
    run.train.mode, run.train.batch_size, run.train.seq_len = "stream", cfg.batch, cfg.seq_len
    run.train.device, run.train.precision, run.train.compile = device, cfg.precision, cfg.compile
    run.train.seed = cfg.seed
    return run


def _engine_runner(cfg: BenchConfig, name: str, device: str, x: np.ndarray,
                   y: np.ndarray) -> _Runner:
    from engine.base import create_engine

    softmax = cfg.softmax
    if name == "full":  # the engine under test, with the full softmax
        name, softmax = cfg.engine, "full"
    run = _run_config(cfg, name, device, softmax)
    engine = create_engine(run, cfg.vocab)
    batches = Batches("stream", x.shape[0], cfg.seq_len, x=x, y=y, n_tokens=int(x.size))
    engine.bind("train", batches)
    windows, lr = batches.num_batches(), run.optim.lr
    sync = getattr(getattr(engine, "placement", None), "synchronize", lambda: None)
    last = [float("nan")]

    def step(s: int) -> None:
        engine.train_batch("train", 0, s % windows)
        engine.apply_update(lr)
        if (s + 1) % cfg.log_every == 0:
            loss, n = engine.pop_train_loss()
            last[0] = loss / max(n, 1)

    def finish() -> float:
        loss, n = engine.pop_train_loss()
        return loss / n if n else last[0]

    label = f"{name}-{softmax}" if cfg.softmax == "adaptive" or cfg.opponent() == "full" else name
    return _Runner(label, step, sync, finish)


def _bare_runner(cfg: BenchConfig, device: str, x: np.ndarray, y: np.ndarray) -> _Runner:
    from engine.torch_engine.bare import BareLoop
    from engine.torch_engine.device import resolve_placement

    placement = resolve_placement(device, cfg.precision)  # also sets the TF32 flags
    loop = BareLoop(x, y, cfg.seq_len, cfg.vocab, cfg.embed, cfg.hidden, cfg.layers,
                    placement.device, placement.dtype, cfg.precision == "bf16", cfg.seed)
    return _Runner("bare", loop.step, placement.synchronize, lambda: float(loop.last_loss))


def _machine(device: str, torch_used: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                            "numpy": np.__version__, "platform": platform.platform()}
    if torch_used:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def _resolved_device(cfg: BenchConfig, names: list[str]) -> str:
    if not any(n in ("torch", "bare") for n in names):
        return "cpu"
    if "numpy" in names and cfg.device == "auto":
        cfg = replace(cfg, device="cpu")  # compare the engines on the same hardware
    from engine.torch_engine.device import resolve_placement

    return str(resolve_placement(cfg.device, cfg.precision).device)  # checks the precision too


def run_bench(cfg: BenchConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Time the configured loops and return the report (see the module docstring)."""
    say = progress or (lambda _msg: None)
    names = [cfg.engine] + ([] if cfg.opponent() == "none" else [cfg.opponent()])
    for n in names:
        if n not in COMPETITORS:
            raise ConfigError(f"bench: unknown loop {n!r} (choose {', '.join(COMPETITORS)})")
    if len(set(names)) < len(names):
        raise ConfigError(f"bench: --vs {names[1]} is the engine itself; choose another loop")
    if cfg.opponent() == "full" and cfg.softmax != "adaptive":
        raise ConfigError("bench: --vs full compares against the full softmax; "
                          "add --softmax adaptive")
    if cfg.softmax not in ("full", "adaptive"):
        raise ConfigError(f"bench: unknown softmax {cfg.softmax!r} (choose full or adaptive)")
    if "numpy" in names and cfg.precision not in ("fp32", "fp64"):
        raise ConfigError(f"bench: the numpy engine runs fp32 or fp64, not {cfg.precision}")
    device = _resolved_device(cfg, names)
    on_gpu = not device.startswith("cpu")
    steps = cfg.steps or (100 if on_gpu else 10)
    warmup = cfg.warmup or (10 if on_gpu else 2)
    x, y = _tokens(cfg)
    runners = []
    for n in names:
        say(f"building {n} ({device})")
        runners.append(_bare_runner(cfg, device, x, y) if n == "bare"
                       else _engine_runner(cfg, n, device, x, y))
    for r in runners:
        say(f"warming up {r.name} ({warmup} steps)")
        for s in range(warmup):
            r.step(s)
        r.sync()
    rounds = max(1, min(cfg.rounds, steps))
    chunks = [steps // rounds + (k < steps % rounds) for k in range(rounds)]
    seconds: dict[str, list[float]] = {r.name: [] for r in runners}
    done = {r.name: warmup for r in runners}
    for k, chunk in enumerate(chunks):
        for r in runners:
            say(f"round {k + 1}/{rounds}: {r.name}, {chunk} steps")
            r.sync()
            t0 = time.perf_counter()
            for s in range(done[r.name], done[r.name] + chunk):
                r.step(s)
            r.sync()
            seconds[r.name].append(time.perf_counter() - t0)
            done[r.name] += chunk
    tokens_per_step = cfg.batch * cfg.seq_len
    results = []
    for r in runners:
        total = sum(seconds[r.name])
        results.append({
            "engine": r.name,
            "tokens_per_s": steps * tokens_per_step / total,
            "ms_per_step": 1000 * total / steps,
            "seconds": total,
            "steps": steps,
            "rounds_tokens_per_s": [c * tokens_per_step / t
                                    for c, t in zip(chunks, seconds[r.name], strict=True)],
            "final_loss": r.finish(),
        })
    ratio = results[0]["tokens_per_s"] / results[1]["tokens_per_s"] if len(results) > 1 else None
    return {
        "results": results,
        "ratio": ratio,
        "ratio_of": "/".join(r["engine"] for r in results) if ratio is not None else None,
        "device": device,
        "precision": cfg.precision,
        "config": {**asdict(cfg), "vs": cfg.opponent(), "steps": steps, "warmup": warmup,
                   "tokens_per_step": tokens_per_step},
        "machine": _machine(device, any(n in ("torch", "bare") for n in names)),
    }
