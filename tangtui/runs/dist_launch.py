"""Starting a run's trainer on N processes through torchrun (this module never imports torch).

``train.nproc = 1`` runs ``python -m tangtui.runs.runner RUN_ID``; ``N > 1`` runs::

    python -m torch.distributed.run --standalone --nproc-per-node N --max-restarts 0 \\
        -m tangtui.runs.runner RUN_ID

torchrun's ``--standalone`` rendezvous picks a free port on this machine, so several runs can
train at once. Each process gets ``OMP_NUM_THREADS = cores // N`` (unless the user set it), so N
processes share the cores instead of oversubscribing them. Under a torchrun that someone started
by hand (several machines), ``WORLD_SIZE``/``RANK`` tell ``tangtui train`` and ``tangtui resume``
that they are one rank of a larger run (:func:`torchrun_world`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from tangtui.errors import TangtuiError

RUNNER = "tangtui.runs.runner"


def torchrun_world() -> tuple[int, int] | None:
    """(rank, world size) when this process is one of several started by torchrun, else None."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        return None
    return (rank, world) if world > 1 else None


def nproc_of(config: dict[str, Any]) -> int:
    """``train.nproc`` of a stored config dict (1 when absent: runs older than the field)."""
    try:
        return max(1, int(config.get("train", {}).get("nproc", 1) or 1))
    except (TypeError, ValueError):
        return 1


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def trainer_command(run_id: str, resume: bool, nproc: int) -> list[str]:
    """The command line of the trainer of ``run_id`` on ``nproc`` processes."""
    tail = ["-m", RUNNER, run_id] + (["--resume"] if resume else [])
    if nproc <= 1:
        return [sys.executable, *tail]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc-per-node={nproc}", "--max-restarts=0", "--monitor-interval=0.5", *tail]


def trainer_env(nproc: int) -> dict[str, str]:
    """Extra environment of the trainer: threads per process (kept when the user set them)."""
    if nproc <= 1 or os.environ.get("OMP_NUM_THREADS"):
        return {}
    return {"OMP_NUM_THREADS": str(max(1, usable_cores() // nproc))}


def check_processes(config: Any) -> list[str]:
    """Refuse what cannot run on this machine; return warnings (more processes than cores).

    ``config`` is a validated RunConfig (``train.nproc``, the torch engine, the batch were checked
    there). CUDA is asked of a separate Python, so the app never imports torch.
    """
    t = config.train
    if t.nproc <= 1 or config.engine != "torch":
        return []
    wants_cuda = t.backend == "nccl" or t.device.startswith("cuda")
    if wants_cuda:
        devices = cuda_devices()
        what = "train.backend=nccl" if t.backend == "nccl" else f"train.device={t.device}"
        if devices == 0:
            raise TangtuiError(f"{what} needs CUDA, which this machine lacks; train on the CPU "
                               "with train.device=cpu (gloo)")
        if t.nproc > devices and t.backend != "gloo":
            raise TangtuiError(f"{t.nproc} processes but {devices} CUDA device(s): NCCL needs "
                               f"one device per process; use --nproc {devices}")
    cores = usable_cores()
    if t.nproc > cores and not wants_cuda:
        return [f"{t.nproc} processes on {cores} core(s): each gets one thread and they take "
                "turns, so this is slower than fewer processes"]
    return []


def cuda_devices() -> int:
    """CUDA devices torch sees here (0 without CUDA or torch), asked of a child Python."""
    code = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=False)
        return int(out.stdout.strip() or 0)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return 0


def processes_text(config: dict[str, Any]) -> str:
    """``2 processes × 4 rows = batch 8`` (empty for one process): for the Monitor and CLI."""
    n = nproc_of(config)
    if n <= 1:
        return ""
    batch = int(config.get("train", {}).get("batch_size", 0) or 0)
    per = f"{batch // n}" if batch % n == 0 else f"{batch // n}-{-(-batch // n)}"
    return f"{n} processes × {per} rows = batch {batch}"


def kill_tree(pid: int) -> None:
    """SIGKILL torchrun's workers (each leads its own session), then torchrun itself."""
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        pass  # no /proc (macOS) or already gone: torchrun alone gets the signal
    for p in [*children, pid]:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
