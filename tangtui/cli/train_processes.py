"""``tangtui train``/``resume`` on N processes: ``--nproc``, torchrun's ranks, following a run.

Two ways in:

* ``tangtui train --engine torch --nproc N`` starts torchrun on this machine (its own session)
  and, in the foreground, follows the run through the store as ``tangtui watch`` does; Ctrl-C
  asks rank 0 to stop (every rank stops at the same step, rank 0 writes the checkpoint), a second
  Ctrl-C kills all the processes at once (resume continues from the latest checkpoint).
* ``torchrun ... -m tangtui train ...`` started by hand (several machines): rank 0 creates the
  run and trains as a foreground run; every other rank follows rank 0's plan
  (:mod:`tangtui.runs.dist_worker`) and never opens the store.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from tangtui.errors import TangtuiError
from tangtui.runs.dist_launch import (
    check_processes,
    kill_tree,
    nproc_of,
    processes_text,
    torchrun_world,
)


def is_follower() -> bool:
    """True on a rank other than 0 of a torchrun launch."""
    world = torchrun_world()
    return world is not None and world[0] != 0


def run_follower() -> int:
    from tangtui.runs.runner import run_rank

    result = run_rank(None, False, log=False)
    return 1 if result.status == "failed" else 0


def nproc_override(nproc: int | None) -> list[str]:
    """``--set`` items for ``--nproc`` (under torchrun: the world size torchrun started)."""
    world = torchrun_world()
    if world is not None:
        if nproc is not None and nproc != world[1]:
            raise TangtuiError(f"--nproc {nproc} under torchrun, which started {world[1]} "
                               "processes; leave --nproc out")
        return [f"train.nproc={world[1]}"]
    return [] if nproc is None else [f"train.nproc={nproc}"]


def warn(config: Any) -> None:
    """Refuse a launch this machine cannot run (NCCL without CUDA); print the warnings."""
    if torchrun_world() is not None:
        return  # torchrun placed the processes; their machines are not this one
    for line in check_processes(config):
        print(f"tangtui: warning: {line}", file=sys.stderr)


def set_nproc(store: Any, run: Any, nproc: int | None) -> None:
    """``tangtui resume --nproc N``: record the new process count in the run's config."""
    from engine.config import RunConfig

    items = nproc_override(nproc)
    if not items:
        return
    config = RunConfig.from_dict(run.config)
    config.train.nproc = int(items[0].split("=")[1])
    config.validate()
    warn(config)
    store.update_run(run.id, config=config.to_dict())


def launched_here(store: Any, run_id: str) -> bool:
    return torchrun_world() is not None or nproc_of(store.get_run(run_id).config) > 1


def start_processes(store: Any, run_id: str, *, resume: bool, detach: bool,
                    as_json: bool) -> int:
    """Train ``run_id`` on its processes: as rank 0 under torchrun, else through torchrun."""
    from tangtui.cli import print_json

    if torchrun_world() is not None:
        return _as_rank0(store, run_id, resume, as_json)
    from tangtui.runs.runner import LOG_NAME, spawn

    pid = spawn(store, run_id, resume=resume)
    run = store.get_run(run_id)
    if detach:
        if as_json:
            print_json({**run.to_json(), "pid": pid,
                        "log": str(store.run_dir(run_id) / LOG_NAME)})
        else:
            print(run.id)
        return 0
    print(f"run {run.name}: {processes_text(run.config)} (torchrun pid {pid}, log "
          f"{store.run_dir(run_id) / LOG_NAME}); Ctrl-C stops it with a checkpoint",
          file=sys.stderr, flush=True)
    code = _follow(store, run_id, pid)
    if as_json:
        print_json(store.get_run(run_id).to_json())
    return code


def _follow(store: Any, run_id: str, pid: int) -> int:
    """Print the run as ``tangtui watch`` does; Ctrl-C stops it, a second one kills it."""
    from tangtui.cli.watch import watch
    from tangtui.runs.runner import request_stop

    asked = []

    def on_int(_sig: int, _frame: Any) -> None:
        if asked:
            kill_tree(pid)
            raise KeyboardInterrupt
        asked.append(True)
        print("\nstopping: every process stops at the same step and rank 0 writes a "
              "checkpoint (Ctrl-C again to kill them without one)", file=sys.stderr, flush=True)
        try:
            request_stop(store, run_id)
        except TangtuiError as exc:
            print(f"tangtui: {exc}", file=sys.stderr, flush=True)

    old = signal.signal(signal.SIGINT, on_int)
    try:
        return watch(store, run_id)
    finally:
        signal.signal(signal.SIGINT, old)


def _as_rank0(store: Any, run_id: str, resume: bool, as_json: bool) -> int:
    from tangtui.cli.progress import ProgressBar
    from tangtui.runs.runner import run_rank

    bar = ProgressBar()
    try:
        result = run_rank(run_id, resume, log=False, hooks=(bar,))
    finally:
        bar.close()
    return report_end(store, run_id, result, as_json)


def report_end(store: Any, run_id: str, result: Any, as_json: bool) -> int:
    """How a foreground run ended (one line, or the run as JSON); 1 when it failed."""
    from tangtui.cli import print_json

    run = store.get_run(run_id)
    if as_json:
        print_json(run.to_json())
    else:
        best = f", best ppl/poem {run.best_test_ppl:.2f}" if run.best_test_ppl else ""
        why = f" ({result.reason})" if result.reason else ""
        print(f"run {run.name} {result.status} at step {result.step:,}{best}{why}")
        if result.status == "stopped":
            print(f"continue with: tangtui resume {run.name}")
    return 1 if result.status == "failed" else 0
