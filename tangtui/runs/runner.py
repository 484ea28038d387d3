"""The training process of one run: ``python -m tangtui.runs.runner RUN_ID [--resume]``.

It takes the run's lock (``<run dir>/lock``, ``fcntl.flock``; a second trainer is refused before
it touches anything), records pid, host and a heartbeat every few seconds, trains with
:class:`engine.trainer.Trainer` while writing metrics, evaluations and samples to the store, and
ends with status ``finished``, ``stopped`` (SIGTERM, SIGINT or SIGHUP: a checkpoint first) or
``failed`` with its reason. :func:`spawn` starts it detached: a new session (closing the terminal
or the SSH connection does not stop it), stdio appended to ``<run dir>/train.log``.

Reliability: store writes are queued and retried (:mod:`tangtui.runs.writer`), so a busy or full
store delays rows but never ends the run; on resume the newest *intact* checkpoint is used (a
damaged one is set aside with a message) and ``best`` is mended before training, and a run
whose checkpoints are all damaged keeps its status (nothing is marked failed for a bad file).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tangtui.errors import TangtuiError, is_user_error
from tangtui.runs.dist_launch import (
    check_processes,
    nproc_of,
    torchrun_world,
    trainer_command,
    trainer_env,
)
from tangtui.runs.journal import NAME as JOURNAL
from tangtui.runs.journal import replay_journal
from tangtui.runs.lock import RunLock, is_locked, lock_holder
from tangtui.runs.signals import install_signals
from tangtui.runs.store import HEARTBEAT_EVERY, Store, StoreError, now_iso
from tangtui.runs.writer import PATIENCE, StoreWriter, log_line, retrying

LOG_NAME = "train.log"


def _start_point(store: Store, run: Any, resume: bool, say: Any) -> tuple[Any, Path | None]:
    """The run's config and the intact checkpoint to resume from (None for a fresh start);
    ``best`` is mended from it. Raises before anything about the run is changed in the store."""
    from engine.config import RunConfig
    from engine.trainer_ckpt import CheckpointKeeper
    config = RunConfig.from_dict(run.config).validate()
    if not resume:
        return config, None
    keeper = CheckpointKeeper(store.run_dir(run.id), config.train.keep_checkpoints)
    start = keeper.intact(say)
    if start is not None:
        keeper.repair_best(start, say)
    return config, start


def _build(config: Any, start: Path | None, dataset: Any, engine: Any,
           dist: Any = None, phase: Any = lambda name: None) -> tuple:
    """Dataset and engine (built unless injected); ``phase`` is told each step.

    ``dist``: rank 0 of N processes sends the plan to the other ranks before the engine exists.
    """
    if dataset is None:
        phase("loading the corpus")
        from engine.corpus import Vocab, build_dataset
        from engine.corpus.loader import load_corpus

        vocab = None
        if start is not None:
            from engine.checkpoint import load_checkpoint

            vocab = Vocab(list(load_checkpoint(start, optimizer=False).meta["vocab"]))
        dataset = build_dataset(config, load_corpus(config.corpus.script), vocab=vocab)
    if dist is not None:
        from tangtui.runs.dist_worker import send_plan

        send_plan(dist, config, list(dataset.vocab.itos), start is not None)
    if engine is None:
        phase("building the model")
        from engine.base import create_engine

        engine = create_engine(config, len(dataset.vocab))
    return dataset, engine


def _phase(store: Store, run_id: str, name: str) -> None:
    """Record a start-up phase for the Monitor; a store that cannot take it stops nothing."""
    from tangtui.runs.hooks import set_phase

    try:
        set_phase(store, run_id, name)
    except StoreError:
        pass


def execute(run_id: str, *, resume: bool = False, store: Store | None = None,
            hooks: Sequence[Any] = (), dataset: Any = None, engine: Any = None,
            stop: threading.Event | None = None, handle_signals: bool = True,
            log: bool = True, dist: Any = None) -> Any:
    """Train run ``run_id`` in this process; returns the :class:`TrainResult`.

    ``dataset``/``engine`` may be injected (tests). With ``handle_signals`` SIGTERM, SIGINT and
    SIGHUP set the stop event (a second SIGINT interrupts at once). ``log`` prints plain progress
    lines to stdout (what a detached trainer writes to train.log). ``dist``: this is rank 0 of
    a run on N processes (:mod:`tangtui.runs.dist_worker`).
    """
    from engine.trainer import Trainer
    from tangtui.runs.hooks import LogHooks, StoreHooks

    store = store or Store()
    run = store.get_run(run_id)
    lock = RunLock(store.run_dir(run.id))
    lock.acquire()  # refuses a second trainer before anything is written
    stop = stop or threading.Event()
    beat_stop = threading.Event()
    restore = install_signals(stop) if handle_signals else {}
    trainer: Trainer | None = None
    store_hooks: StoreHooks | None = None
    say = _sayer(log)
    marked = False  # the run is marked running: from here on an error marks it failed
    try:
        config, start = _start_point(store, run, resume, say)
        retrying(lambda: store.update_run(
            run.id, status="running", pid=os.getpid(), host=socket.gethostname(),
            heartbeat=time.time(), started=now_iso(), ended=None, reason=None),
            "marking the run running", say)
        marked = True
        threading.Thread(target=_heartbeat, args=(store, run.id, beat_stop), daemon=True).start()
        dataset, engine = _build(config, start, dataset, engine, dist,
                                 lambda name: _phase(store, run.id, name))
        store_hooks = StoreHooks(store, run.id, [*([LogHooks(run.id)] if log else []), *hooks],
                                 writer=StoreWriter(say))
        trainer = Trainer(config, dataset, engine, store.run_dir(run.id), store_hooks,
                          _collective_stop(stop, dist))
        if start is not None and dist is not None:
            from tangtui.runs.dist_worker import send_checkpoint

            send_checkpoint(dist, trainer, start)
        elif start is not None:
            trainer.resume(start)
        if resume:  # rows after the checkpoint are trained again: drop them now
            step = trainer.step
            retrying(lambda: store.truncate_after(run.id, step), "dropping the rows after the "
                     "checkpoint", say)
            back = retrying(lambda: replay_journal(store, run.id, step), "restoring rows from "
                            "the run's journal", say)
            if back:
                say(f"restored {back} rows the store had missed from {JOURNAL}")
        retrying(lambda: store.update_run(
            run.id, total_steps=trainer.total_steps, step=trainer.step, epoch=trainer.epoch,
            device=_device_text(engine, dist),
            info={**store.get_run(run.id).info, "dataset": dataset.info,
                  "steps_per_epoch": trainer.steps_per_epoch}),
            "recording the run's size", say)
        result = trainer.run()
        if result.status == "stopped":
            result.reason = getattr(stop, "reason", None) or result.reason
        store_hooks.close(PATIENCE)
        _finish(store, run.id, result.status, result.reason, result.step, say)
        if log:
            log_line(f"run {run.id} {result.status} at step {result.step}"
                     + (f": {result.reason}" if result.reason else ""))
        return result
    except BaseException as exc:
        if not marked:
            raise  # nothing about the run was changed: it keeps its status
        step = trainer.step if trainer is not None else None
        if isinstance(exc, KeyboardInterrupt):  # a second Ctrl-C: no new checkpoint
            if store_hooks is not None:
                store_hooks.close(5.0)
            _finish(store, run.id, "stopped", "interrupted; resume continues from the latest "
                    "checkpoint", step, say, patience=5.0)
            raise
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if log and not is_user_error(exc):
            traceback.print_exc()
        if store_hooks is not None:
            store_hooks.close(PATIENCE)
        _finish(store, run.id, "failed", reason, step, say)
        raise
    finally:
        beat_stop.set()
        for sig, handler in restore.items():
            signal.signal(sig, handler)
        lock.release()


def _finish(store: Store, run_id: str, status: str, reason: str | None, step: int | None,
            say: Any, patience: float = PATIENCE) -> None:
    """Record the end of the run, waiting up to ``patience`` s for a busy or full store."""
    values: dict[str, Any] = {"status": status, "reason": reason, "ended": now_iso(),
                              "eta_s": None}
    if step is not None:
        values["step"] = step
    try:
        retrying(lambda: store.update_run(run_id, **values, heartbeat=time.time()),
                 f"recording that the run {status}", say, patience)
    except StoreError as exc:  # still full after `patience`: say so, the checkpoint is kept
        say(f"could not record the end of run {run_id} ({status}"
            + (f": {reason}" if reason else "") + f"): {exc}")


def _sayer(log: bool) -> Any:
    """Where the trainer's notes go: train.log (stdout) when logging, else stderr."""
    def say(line: str) -> None:
        log_line(line, sys.stdout if log else sys.stderr)

    return say


def _heartbeat(store: Store, run_id: str, done: threading.Event) -> None:
    while not done.wait(HEARTBEAT_EVERY):
        try:
            store.heartbeat(run_id)
        except StoreError:
            pass  # a busy or full store: the next beat retries


def _collective_stop(stop: threading.Event, dist: Any) -> Any:
    """The trainer's stop event: on N processes, one that every rank sees at the same check."""
    if dist is None:
        return stop
    from engine.torch_engine.distributed import CollectiveStop

    return CollectiveStop(stop, dist)


def _device_text(engine: Any, dist: Any) -> str:
    device = str(getattr(engine, "device", "cpu"))
    if dist is None:
        return device
    return f"{device.split(':')[0]} ×{dist.world_size} ({dist.backend})"


def run_rank(run_id: str | None, resume: bool, *, log: bool = True,
             hooks: tuple[Any, ...] = ()) -> Any:
    """Join the process group from torchrun's environment and train as this rank."""
    from engine.torch_engine import distributed
    from tangtui.runs.dist_worker import follow

    ctx = distributed.init_from_env()
    try:
        if ctx.is_main:
            if run_id is None:
                raise ValueError("rank 0 needs the run id")
            return execute(run_id, resume=resume, dist=ctx, log=log, hooks=hooks)
        return follow(ctx)
    finally:
        distributed.shutdown()


def launch_detached(cmd: list[str], log_path: Path, env: dict[str, str],
                    what: str) -> subprocess.Popen:
    """Start ``cmd`` in its own session with its output appended to ``log_path`` (after a
    ``---`` header line); a thread reaps it if we outlive it. TangtuiError names ``what``."""
    try:
        with open(log_path, "ab") as log:
            log.write(f"--- {now_iso()} {' '.join(cmd[1:])}\n".encode())
            log.flush()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                    close_fds=True)
    except OSError as exc:
        raise TangtuiError(f"cannot start {what}: {exc}") from None
    threading.Thread(target=proc.wait, daemon=True).start()
    return proc


def spawn(store: Store, run_id: str, *, resume: bool = False, wait: float = 10.0) -> int:
    """Start the trainer of ``run_id`` detached (new session, output to train.log); its pid.

    Waits up to ``wait`` seconds for it to report ``running``; if it dies first, raises
    :class:`TangtuiError` with the last line of its log.
    """
    run_dir = store.run_dir(run_id)
    log_path = run_dir / LOG_NAME
    nproc = nproc_of(store.get_run(run_id).config)
    env = dict(os.environ, TANGTUI_HOME=str(store.root), PYTHONUNBUFFERED="1",
               **trainer_env(nproc))
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    cmd = trainer_command(run_id, resume, nproc)
    if nproc > 1:  # torchrun and N torch imports take longer than one process to start
        wait = max(wait, 60.0)
    proc = launch_detached(cmd, log_path, env, f"the trainer of run {run_id}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = _log_tail(log_path)
            raise TangtuiError(f"the trainer of run {run_id} exited at once: {tail}")
        holder = lock_holder(run_dir)  # on N processes: rank 0, a child of torchrun
        if holder is not None and (holder == proc.pid or nproc > 1) and \
                store.get_run(run_id).status == "running":
            break
        time.sleep(0.05)
    return proc.pid


def start_detached(store: Store, config: Any, name: str | None = None) -> tuple[Any, int]:
    """Validate ``config`` (a RunConfig), create its run and spawn its trainer: (Run, pid).

    For the app: call it from a worker thread, it waits for the trainer to start.
    """
    config.validate()
    check_processes(config)
    run = store.create_run(config.to_dict(), name=name, engine=config.engine)
    pid = spawn(store, run.id)
    return store.get_run(run.id), pid


def request_stop(store: Store, run_id: str) -> int:
    """Send SIGTERM to the trainer of ``run_id`` (it checkpoints, then ends ``stopped``); its pid.

    Only to the process that holds the run's lock (never to a stale pid of a killed trainer
    that the system may have given to another process). Raises :class:`TangtuiError` when no
    trainer holds the run's lock.
    """
    run = store.get_run(run_id)
    run_dir = store.run_dir(run.id)
    pid = lock_holder(run_dir)  # verified: the process has the lock file open
    deadline = time.monotonic() + 1.0
    while pid is None and is_locked(run_dir) and time.monotonic() < deadline:
        time.sleep(0.02)  # a trainer that has just taken the lock writes its pid next
        pid = lock_holder(run_dir)
    if not pid:
        raise TangtuiError(f"run {run.name} is not training (status {run.display_status})")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it ended meanwhile
    except PermissionError:
        raise TangtuiError(f"not allowed to signal the trainer of {run.name} (pid {pid})") from None
    return pid


def _log_tail(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip()]
    except OSError:
        return "(no log)"
    return lines[-1].strip() if lines else "(empty log)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tangtui.runs.runner",
                                     description="Train one stored run (started by tangtui).")
    parser.add_argument("run_id")
    parser.add_argument("--resume", action="store_true", help="continue from its checkpoint")
    args = parser.parse_args(argv)
    try:
        if torchrun_world() is not None:  # one of N processes started by torchrun
            result = run_rank(args.run_id, args.resume)
        else:
            result = execute(args.run_id, resume=args.resume)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"tangtui runner: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0 if result.status != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
