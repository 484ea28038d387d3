"""Trainer hooks of the runner: write progress to the store, and a plain log for train.log.

The store writes go through a :class:`~tangtui.runs.writer.StoreWriter`: the trainer never waits
for the store, and a busy or full store delays the rows without losing or reordering them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.evaluation import Evaluation
from engine.trainer import Hooks, Progress
from tangtui.runs.journal import Journal
from tangtui.runs.store import EvalRow, MetricRow, Store
from tangtui.runs.writer import StoreWriter, log_line


class StoreHooks(Hooks):
    """Write every log row, evaluation, sample round and checkpoint of a run to the store.

    Calls ``inner`` hooks (progress bar, log) after queueing each write; ``writer`` applies
    them in order (:meth:`close` waits for it).
    """

    def __init__(self, store: Store, run_id: str, inner: Sequence[Any] = (),
                 writer: StoreWriter | None = None) -> None:
        self.store, self.run_id, self.inner = store, run_id, list(inner)
        self.writer = writer or StoreWriter(log_line)
        self.journal = Journal(store.run_dir(run_id), self.writer.say)

    def _each(self, name: str, *args: Any) -> None:
        for hook in self.inner:
            getattr(hook, name)(*args)

    def on_start(self, p: Progress) -> None:
        self._each("on_start", p)

    def on_step(self, p: Progress) -> None:
        self._each("on_step", p)

    def on_log(self, p: Progress) -> None:
        row = MetricRow(p.step, p.epoch, p.train_loss, p.lr, p.tokens_per_s, time.time())
        progress = {"step": p.step, "epoch": p.epoch, "tokens_per_s": p.tokens_per_s,
                    "eta_s": p.eta_s}
        self.journal.append("metric", row)
        self.writer.put(f"the metrics of step {p.step}",
                        lambda: self.store.add_metrics(self.run_id, [row]))
        self.writer.put(f"the progress at step {p.step}", lambda: self.store.update_run(
            self.run_id, **progress, heartbeat=time.time()))
        self._each("on_log", p)

    def on_eval(self, p: Progress, ev: Evaluation) -> None:
        row = EvalRow(p.step, p.epoch, ev.loss, ev.ppl, ev.tokens, time.time(), ev.stream_loss,
                      ev.stream_ppl)
        self.journal.append("eval", row)
        self.writer.put(f"the evaluation of step {p.step}",
                        lambda: self.store.add_eval(self.run_id, row))
        self._each("on_eval", p, ev)

    def on_samples(self, p: Progress, samples: list[tuple[str, str]]) -> None:
        step, rows = p.step, list(samples)
        self.writer.put(f"the samples of step {step}",
                        lambda: self.store.add_samples(self.run_id, step, rows))
        self._each("on_samples", p, samples)

    def on_checkpoint(self, p: Progress, path: Path) -> None:
        step = p.step
        self.writer.put(f"the checkpoint of step {step}",
                        lambda: self.store.update_run(self.run_id, checkpoint_step=step))
        self._each("on_checkpoint", p, path)

    def on_phase(self, phase: str) -> None:
        self.writer.put(f"the phase {phase!r}",
                        lambda: set_phase(self.store, self.run_id, phase))

    def close(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the queued writes; False if some were given up."""
        return self.writer.close(timeout)


class LogHooks(Hooks):
    """Plain lines for ``train.log`` (stdout of a detached trainer): evaluations and samples."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def on_start(self, p: Progress) -> None:
        log_line(f"run {self.run_id}: training from step {p.step} of {p.total_steps} "
                 f"(epoch {p.epoch}, batch {p.batch} of {p.batches_per_epoch})")

    def on_eval(self, p: Progress, ev: Evaluation) -> None:
        stream = f", stream {ev.stream_ppl:.2f}" if ev.stream_ppl is not None else ""
        log_line(f"step {p.step}: held-out ppl {ev.ppl:.2f} per poem (loss {ev.loss:.4f}; best "
                 f"{p.best_test_ppl:.2f}){stream}")

    def on_samples(self, p: Progress, samples: list[tuple[str, str]]) -> None:
        for _, text in samples:
            log_line(f"  {text}")


def set_phase(store: Store, run_id: str, phase: str) -> None:
    """Record what the trainer is doing (``info.phase``, shown by the Monitor)."""
    info = store.get_run(run_id).info
    store.update_run(run_id, info={**info, "phase": phase, "phase_time": time.time()})
