"""Trainer hooks of the runner: write progress to the store, and a plain log for train.log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.evaluation import Evaluation
from engine.trainer import Hooks, Progress
from tangtui.runs.store import EvalRow, MetricRow, Store


class StoreHooks(Hooks):
    """Write every log row, evaluation, sample round and checkpoint of a run to the store.

    Calls ``inner`` hooks (progress bar, log) after each write.
    """

    def __init__(self, store: Store, run_id: str, inner: Sequence[Any] = ()) -> None:
        self.store, self.run_id, self.inner = store, run_id, list(inner)

    def _each(self, name: str, *args: Any) -> None:
        for hook in self.inner:
            getattr(hook, name)(*args)

    def on_start(self, p: Progress) -> None:
        self._each("on_start", p)

    def on_step(self, p: Progress) -> None:
        self._each("on_step", p)

    def on_log(self, p: Progress) -> None:
        self.store.add_metrics(self.run_id, [MetricRow(p.step, p.epoch, p.train_loss, p.lr,
                                                       p.tokens_per_s, time.time())])
        self.store.update_run(self.run_id, step=p.step, epoch=p.epoch,
                              tokens_per_s=p.tokens_per_s, eta_s=p.eta_s,
                              heartbeat=time.time())
        self._each("on_log", p)

    def on_eval(self, p: Progress, ev: Evaluation) -> None:
        self.store.add_eval(self.run_id, EvalRow(p.step, p.epoch, ev.loss, ev.ppl, ev.tokens,
                                                 time.time(), ev.stream_loss, ev.stream_ppl))
        self._each("on_eval", p, ev)

    def on_samples(self, p: Progress, samples: list[tuple[str, str]]) -> None:
        self.store.add_samples(self.run_id, p.step, samples)
        self._each("on_samples", p, samples)

    def on_checkpoint(self, p: Progress, path: Path) -> None:
        self.store.update_run(self.run_id, checkpoint_step=p.step)
        self._each("on_checkpoint", p, path)

    def on_phase(self, phase: str) -> None:
        set_phase(self.store, self.run_id, phase)


def set_phase(store: Store, run_id: str, phase: str) -> None:
    """Record what the trainer is doing (``info.phase``, shown by the Monitor)."""
    info = store.get_run(run_id).info
    store.update_run(run_id, info={**info, "phase": phase, "phase_time": time.time()})


class LogHooks(Hooks):
    """Plain lines for ``train.log`` (stdout of a detached trainer): evaluations and samples."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def on_start(self, p: Progress) -> None:
        print(f"run {self.run_id}: training from step {p.step} of {p.total_steps} "
              f"(epoch {p.epoch}, batch {p.batch} of {p.batches_per_epoch})", flush=True)

    def on_eval(self, p: Progress, ev: Evaluation) -> None:
        stream = f", stream {ev.stream_ppl:.2f}" if ev.stream_ppl is not None else ""
        print(f"step {p.step}: held-out ppl {ev.ppl:.2f} per poem (loss {ev.loss:.4f}; best "
              f"{p.best_test_ppl:.2f}){stream}", flush=True)

    def on_samples(self, p: Progress, samples: list[tuple[str, str]]) -> None:
        for _, text in samples:
            print(f"  {text}", flush=True)
