"""Start N gloo processes on the loopback for a test (after OLMo-core's ``run_distributed_test``).

:func:`run_ranks` forks ``world`` processes, each with torchrun's environment (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT`` on a free loopback port), joins
the group with :func:`engine.torch_engine.distributed.init_from_env`, runs ``fn(rank, *args)``
and leaves the group in ``finally``. A rank that fails, or a run over ``timeout`` seconds, fails
the test, and every process still alive is killed: nothing outlives the test.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import traceback
from collections.abc import Callable
from typing import Any

TIMEOUT_ENV = "TANGTUI_DIST_TIMEOUT"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun_env(rank: int, world: int, port: int) -> dict[str, str]:
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"}


def _child(rank: int, world: int, port: int, fn: Callable[..., Any], args: tuple,
           errors: Any, timeout_s: float, join: bool) -> None:
    os.environ.update(torchrun_env(rank, world, port))
    os.environ[TIMEOUT_ENV] = str(timeout_s)
    from engine.torch_engine import distributed

    try:
        if join:
            distributed.init_from_env()
        fn(rank, *args)
    except BaseException:
        errors.put((rank, traceback.format_exc()))
        raise SystemExit(1) from None
    finally:
        distributed.shutdown()


def run_ranks(fn: Callable[..., Any], world: int = 2, args: tuple = (),
              timeout: float = 60.0, join: bool = True) -> None:
    """Run ``fn(rank, *args)`` in ``world`` gloo processes; raise if any fails or hangs.

    ``join=False``: ``fn`` joins the group itself (the runner's :func:`run_rank` does).
    """
    ctx = mp.get_context("fork")  # torch is imported already: forking skips its import
    errors = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_child, args=(r, world, port, fn, args, errors, timeout / 2, join),
                         daemon=True) for r in range(world)]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout)
        hung = [r for r, p in enumerate(procs) if p.is_alive()]
        failed = []
        while not errors.empty():
            failed.append(errors.get())
        if failed:
            rank, text = failed[0]
            raise AssertionError(f"rank {rank} failed:\n{text}")
        if hung:
            raise AssertionError(f"ranks {hung} still running after {timeout} s")
        codes = [p.exitcode for p in procs]
        assert codes == [0] * world, f"exit codes {codes}"
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(5)
