"""Training across processes with ``torch.distributed``: the process group and its messages.

torchrun (``python -m torch.distributed.run``) starts the processes and sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``.
:func:`init_from_env` joins the default group over **gloo** (CPU tensors: the run's plan, the
checkpoint a resume starts from, the stop flag, the evaluation sums); :func:`use_device` adds an
**NCCL** group on CUDA that carries DDP's gradient all-reduce and the training loss sums.

Every collective has a timeout (``TANGTUI_DIST_TIMEOUT`` seconds, default
:data:`DEFAULT_TIMEOUT_S`), so a rank that dies or hangs ends the others with
:class:`RankLostError` instead of leaving them waiting forever. Rank 0 is the only one that reads
or writes the store and the checkpoints; the others get what they need from it here.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from engine.checkpoint import Checkpoint
from engine.config import ConfigError

DEFAULT_TIMEOUT_S = 300.0  # a checkpoint write on rank 0 must fit in it
TIMEOUT_ENV = "TANGTUI_DIST_TIMEOUT"
BACKENDS = ("auto", "gloo", "nccl")

T = TypeVar("T")


class RankLostError(RuntimeError):
    """Another training process died or stopped answering (a collective failed or timed out)."""


@dataclass
class DistContext:
    rank: int  # 0 .. world_size - 1; rank 0 writes the store and the checkpoints
    world_size: int  # N, processes over all machines
    local_rank: int  # rank on this machine (its CUDA device index)
    local_world_size: int  # processes on this machine
    timeout_s: float
    backend: str = "gloo"  # of the training tensors: gloo (CPU) or nccl (CUDA)
    device_group: Any = None  # the NCCL group on CUDA; None = the default (gloo) group

    @property
    def is_main(self) -> bool:
        return self.rank == 0


_CURRENT: DistContext | None = None


def current() -> DistContext | None:
    """The context of this process once :func:`init_from_env` ran (None in a single process)."""
    return _CURRENT


def threads_per_process(local_world_size: int) -> int:
    """``OMP_NUM_THREADS`` when set, else the usable cores shared out evenly (at least 1)."""
    given = os.environ.get("OMP_NUM_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    return max(1, cores // max(1, local_world_size))


def init_from_env() -> DistContext:
    """Join the default (gloo) process group from torchrun's environment variables."""
    global _CURRENT
    env = os.environ
    try:
        rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
    except (KeyError, ValueError):
        raise ConfigError("not started by torchrun: RANK and WORLD_SIZE are not set") from None
    local_rank = int(env.get("LOCAL_RANK", rank))
    local_world = int(env.get("LOCAL_WORLD_SIZE", world))
    timeout = float(env.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)
    torch.set_num_threads(threads_per_process(local_world))
    dist.init_process_group("gloo", rank=rank, world_size=world,
                            timeout=timedelta(seconds=timeout))
    _CURRENT = DistContext(rank, world, local_rank, local_world, timeout)
    return _CURRENT


def use_device(ctx: DistContext, device: str, backend: str = "auto") -> str:
    """Pick this rank's device and the training backend; every rank calls it at the same point.

    ``device`` is the run's ``train.device``; on CUDA each rank takes ``cuda:LOCAL_RANK`` and the
    tensors go over NCCL (unless ``backend`` is gloo). Returns the device this rank trains on.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"train.backend: unknown {backend!r} (choose {', '.join(BACKENDS)})")
    name = (device or "auto").strip().lower()
    cuda = torch.cuda.is_available() and (name == "auto" or name.startswith("cuda"))
    if backend == "nccl" and not cuda:
        raise ConfigError("train.backend=nccl needs CUDA devices; this machine has none "
                          f"(or train.device={name}); use gloo")
    if not cuda:
        ctx.backend = "gloo"
        return "cpu" if name == "auto" else name
    if ctx.local_rank >= torch.cuda.device_count():
        raise ConfigError(f"{ctx.local_world_size} processes on this machine but only "
                          f"{torch.cuda.device_count()} CUDA device(s)")
    torch.cuda.set_device(ctx.local_rank)
    if backend != "gloo":
        ctx.backend = "nccl"
        ctx.device_group = collective(
            ctx, lambda: dist.new_group(backend="nccl", timeout=timedelta(seconds=ctx.timeout_s)))
    return f"cuda:{ctx.local_rank}"


def shutdown() -> None:
    """Leave the process group (safe to call when it never formed or already broke)."""
    global _CURRENT
    _CURRENT = None
    if dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # a broken group: the process is ending anyway
            pass


def collective(ctx: DistContext, fn: Callable[[], T]) -> T:
    """Run ``fn`` (a collective); a lost peer or a timeout becomes :class:`RankLostError`."""
    try:
        return fn()
    except RankLostError:
        raise
    except RuntimeError as exc:  # DistBackendError and gloo's transport errors
        if not is_comm_error(exc):
            raise
        raise lost(ctx, exc) from None


def is_comm_error(exc: BaseException) -> bool:
    """True for the errors a dead, hung or unreachable peer produces."""
    backend_error = getattr(dist, "DistBackendError", ())
    text = str(exc).lower()
    return isinstance(exc, backend_error) or any(
        w in text for w in ("gloo", "nccl", "connection", "socket", "timed out", "timeout",
                            "broken pipe", "peer"))


def lost(ctx: DistContext, exc: BaseException) -> RankLostError:
    text = re.sub(r"\[[^\]]*\.(cc|cpp|h):\d+\]\s*", "", " ".join(str(exc).split()))
    first = text.split(". ")[0][:120]
    return RankLostError(f"rank {ctx.rank} of {ctx.world_size}: another training process died "
                         f"or did not answer within {ctx.timeout_s:g} s ({first}); resume the "
                         "run to continue from its latest checkpoint")


def all_reduce_sum(ctx: DistContext, values: torch.Tensor) -> torch.Tensor:
    """Sum ``values`` over the ranks in place (its device picks the group) and return it."""
    group = ctx.device_group if values.device.type == "cuda" else None
    collective(ctx, lambda: dist.all_reduce(values, op=dist.ReduceOp.SUM, group=group))
    return values


def any_rank(ctx: DistContext, flag: bool) -> bool:
    """True on every rank when ``flag`` is True on any of them."""
    t = torch.tensor([1 if flag else 0], dtype=torch.int64)
    collective(ctx, lambda: dist.all_reduce(t, op=dist.ReduceOp.MAX))
    return bool(t.item())


class CollectiveStop:
    """A stop event that every rank sees at the same check: ``is_set`` ORs the local flags.

    Only rank 0 receives ``tangtui stop`` (SIGTERM to the lock holder); each call of
    :meth:`is_set` is one tiny all-reduce, and the ranks call it at the same points of the loop.
    Once any rank asked to stop, it stays set everywhere without further messages.
    """

    def __init__(self, local: Any, ctx: DistContext) -> None:
        self.local, self.ctx = local, ctx
        self._agreed = False

    def set(self) -> None:
        self.local.set()

    def is_set(self) -> bool:
        if not self._agreed:
            self._agreed = any_rank(self.ctx, self.local.is_set())
        return self._agreed

    @property
    def reason(self) -> str | None:
        return getattr(self.local, "reason", None)


def broadcast_json(ctx: DistContext, obj: Any = None) -> Any:
    """Rank 0's JSON-able ``obj`` on every rank (the others pass None)."""
    data = json.dumps(obj, ensure_ascii=False).encode() if ctx.is_main else b""
    size = torch.tensor([len(data)], dtype=torch.int64)
    collective(ctx, lambda: dist.broadcast(size, src=0))
    buf = torch.frombuffer(bytearray(data), dtype=torch.uint8) if ctx.is_main else \
        torch.empty(int(size.item()), dtype=torch.uint8)
    if buf.numel():
        collective(ctx, lambda: dist.broadcast(buf, src=0))
    return json.loads(bytes(buf.numpy()).decode()) if not ctx.is_main else obj


def broadcast_arrays(ctx: DistContext,
                     arrays: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Rank 0's named arrays on every rank: a JSON header of shapes and dtypes, then each array."""
    header = broadcast_json(ctx, {k: [list(v.shape), str(v.dtype)] for k, v in arrays.items()}
                            if ctx.is_main and arrays is not None else None)
    out: dict[str, np.ndarray] = {}
    for name, (shape, dtype) in header.items():
        if ctx.is_main:
            arr = np.ascontiguousarray(arrays[name])  # type: ignore[index]
        else:
            arr = np.empty(shape, np.dtype(dtype))
        t = torch.from_numpy(arr.reshape(-1) if arr.ndim else arr.reshape(1))
        if t.numel():
            collective(ctx, lambda t=t: dist.broadcast(t, src=0))
        out[name] = arr
    return out


def broadcast_checkpoint(ctx: DistContext, ckpt: Checkpoint | None) -> Checkpoint:
    """Rank 0's loaded checkpoint on every rank (a resume loads it everywhere)."""
    metas = broadcast_json(ctx, [ckpt.meta, ckpt.optim_meta] if ctx.is_main and ckpt else None)
    tensors = broadcast_arrays(ctx, ckpt.tensors if ckpt else None)
    optim = broadcast_arrays(ctx, ckpt.optim_tensors if ckpt else None)
    return Checkpoint(tensors, metas[0], optim, metas[1])
