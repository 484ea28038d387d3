"""The process of one experiment: ``python -m tangtui.runs.lab_runner EXP_ID``.

It holds ``<root>/lab/<id>/lock`` and trains the experiment's members one after another as
ordinary runs (:func:`tangtui.runs.runner.execute`, in this process), asking the experiment's
:meth:`~engine.lab.spec.Experiment.plan` after each which member comes next; a member already
finished (or diverged) is skipped, a stopped or killed one is resumed from its checkpoint, so
every curve stays contiguous. Members with probes get :class:`ProbeHooks`. When no member is
left it runs :meth:`~engine.lab.spec.Experiment.finish` and stores the results. SIGTERM, SIGINT
and SIGHUP stop the member in training with a checkpoint and end the experiment ``stopped``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.trainer import Hooks, Progress
from tangtui.errors import TangtuiError
from tangtui.runs.experiments import ExperimentRow, lab_data
from tangtui.runs.lock import RunLock, is_locked, lock_holder
from tangtui.runs.runner import _log_tail, execute, launch_detached
from tangtui.runs.signals import install_signals
from tangtui.runs.store import Store, now_iso

LOG_NAME = "lab.log"


class ProbeHooks(Hooks):
    """Probe the member's weights at its first step and every log step (histograms and the
    gradient flow at the first and last step only); a resume forgets the retrained steps'."""

    def __init__(self, store: Store, run_id: str, engine: Any, batch: tuple) -> None:
        self.store, self.run_id, self.engine, self.batch = store, run_id, engine, batch

    def on_start(self, p: Progress) -> None:
        self.store.drop_probes_after(self.run_id, p.step)
        if p.step == 0:
            self._record(0, full=True)

    def on_log(self, p: Progress) -> None:
        self._record(p.step, full=p.step >= p.total_steps)

    def _record(self, step: int, full: bool) -> None:
        from engine.lab.probes import probe

        x, y, mask = self.batch
        found = probe(self.engine.state_dict(), x, y, mask, histograms=full, flow=full)
        self.store.add_probes(self.run_id, step, found)


class Kit:
    """Datasets (one corpus load per script) and trained engines, for members and finish()."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._corpora: dict[str, Any] = {}

    def dataset(self, config: Any, vocab: Any = None) -> Any:
        from engine.corpus import build_dataset
        from engine.corpus.loader import load_corpus

        script = config.corpus.script
        if script not in self._corpora:
            self._corpora[script] = load_corpus(script)
        return build_dataset(config, self._corpora[script], vocab=vocab)

    def trained_engine(self, run_id: str) -> tuple[Any, Any]:
        """A NumPy engine with the run's best (else latest) weights, and its dataset."""
        from engine.base import create_engine
        from engine.checkpoint import load_checkpoint
        from engine.config import RunConfig
        from engine.corpus import Vocab
        from tangtui.runs.checkpoints import run_checkpoint

        path = run_checkpoint(self.store.run_dir(run_id))
        if path is None:
            raise TangtuiError(f"member run {run_id} has no checkpoint")
        ckpt = load_checkpoint(path, optimizer=False)
        config = RunConfig.from_dict(ckpt.meta["config"])
        config.engine, config.train.precision = "numpy", "fp64"
        dataset = self.dataset(config, Vocab(list(ckpt.meta["vocab"])))
        engine = create_engine(config, len(dataset.vocab))
        engine.load_state_dict(ckpt.tensors)
        return engine, dataset


def member_run_name(exp_id: str, key: str) -> str:
    return f"{exp_id}.{key.replace('/', '.').replace('=', '-')}"


def run_experiment(exp_id: str, *, store: Store | None = None,
                   stop: threading.Event | None = None, handle_signals: bool = True,
                   log: bool = True) -> str:
    """Train every member of experiment ``exp_id`` here, then finish it; its final status."""
    from engine.lab import get_experiment

    store = store or Store()
    exp = store.get_experiment(exp_id)
    spec = get_experiment(exp.kind)
    lock = RunLock(store.lab_dir(exp.id))
    try:
        lock.acquire(retry_s=0.5)
    except TangtuiError:
        raise TangtuiError(f"experiment {exp.id} is already running; stop it first with "
                           f"`tangtui lab stop {exp.id}`") from None
    stop = stop or threading.Event()
    restore = install_signals(stop) if handle_signals else {}
    try:
        store.update_experiment(exp.id, status="running", pid=os.getpid(), reason=None,
                                ended=None)
        kit = Kit(store)
        while not stop.is_set():
            data = lab_data(store, exp)
            plan = spec.plan(exp.scale, exp.seeds, data.members, exp.options)
            by_key = {m.key: m for m in data.members}
            todo = next((m for m in plan if m.key not in by_key or not by_key[m.key].done),
                        None)
            if todo is None:
                break
            done = sum(1 for m in plan if m.key in by_key and by_key[m.key].done)
            if log:
                print(f"experiment {exp.id}: member {done + 1} of {len(plan)} ({todo.key})",
                      flush=True)
            _train_member(store, kit, exp, todo, by_key.get(todo.key), stop, log)
        if stop.is_set():
            reason = getattr(stop, "reason", None) or "stop requested"
            store.update_experiment(exp.id, status="stopped", reason=reason, ended=now_iso())
            return "stopped"
        results = spec.finish(lab_data(store, exp), kit)
        store.update_experiment(exp.id, status="finished", results=results, ended=now_iso())
        if log:
            print(f"experiment {exp.id} finished", flush=True)
        return "finished"
    except BaseException as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if log and not isinstance(exc, (TangtuiError, KeyboardInterrupt)):
            traceback.print_exc()
        store.update_experiment(exp.id, status="stopped" if isinstance(
            exc, KeyboardInterrupt) else "failed", reason=reason, ended=now_iso())
        raise
    finally:
        import signal

        for sig, handler in restore.items():
            signal.signal(sig, handler)
        lock.release()


def _train_member(store: Store, kit: Kit, exp: ExperimentRow, member: Any, existing: Any,
                  stop: threading.Event, log: bool) -> None:
    from engine.base import create_engine
    from engine.config import RunConfig
    from engine.lab.scales import base_config

    if existing is None:
        store.remove_member(exp.id, member.key)  # its run was deleted: train it again
        config = base_config(exp.scale, member.overrides)
        run = store.create_run(config.to_dict(), name=member_run_name(exp.id, member.key),
                               engine=config.engine)
        store.add_member(exp.id, member.key, run.id, member.group, member.seed, member.phase,
                         member.probes)
    else:
        run = store.get_run(existing.run_id)
        config = RunConfig.from_dict(run.config).validate()
    dataset = kit.dataset(config)
    engine = create_engine(config, len(dataset.vocab))
    hooks = [ProbeHooks(store, run.id, engine, dataset.test.batch(0, 0))] if member.probes \
        else []
    execute(run.id, resume=existing is not None, store=store, hooks=hooks, dataset=dataset,
            engine=engine, stop=stop, handle_signals=False, log=log)


def spawn_experiment(store: Store, exp_id: str, wait: float = 10.0) -> int:
    """Start the experiment's process detached (own session, output to lab.log); its pid."""
    lab_dir = store.lab_dir(exp_id)
    lab_dir.mkdir(parents=True, exist_ok=True)
    log_path = lab_dir / LOG_NAME
    env = dict(os.environ, TANGTUI_HOME=str(store.root), PYTHONUNBUFFERED="1")
    root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "tangtui.runs.lab_runner", exp_id]
    proc = launch_detached(cmd, log_path, env, f"experiment {exp_id}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TangtuiError(f"experiment {exp_id} exited at once: {_log_tail(log_path)}")
        if lock_holder(lab_dir) == proc.pid and \
                store.get_experiment(exp_id).status == "running":
            break
        time.sleep(0.05)
    return proc.pid


def stop_experiment(store: Store, exp_id: str) -> int:
    """SIGTERM to the experiment's process (its member checkpoints); the pid signalled."""
    import signal

    exp = store.get_experiment(exp_id)
    lab_dir = store.lab_dir(exp.id)
    pid = lock_holder(lab_dir)
    deadline = time.monotonic() + 1.0
    while pid is None and is_locked(lab_dir) and time.monotonic() < deadline:
        time.sleep(0.02)
        pid = lock_holder(lab_dir)
    if not pid:
        raise TangtuiError(f"experiment {exp.id} is not running (status {exp.display_status})")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    return pid


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tangtui.runs.lab_runner",
                                     description="Run one stored experiment (started by tangtui).")
    parser.add_argument("exp_id")
    args = parser.parse_args(argv)
    try:
        status = run_experiment(args.exp_id)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"tangtui lab: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0 if status != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
