"""The history half of the run store: train rows, evaluations and sample rounds of each run.

A mixin of :class:`tangtui.runs.store.Store` (it uses the store's ``_tx``/``_query``); the trainer
writes these rows, viewers poll them with ``since`` (the last step they have seen).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from tangtui.runs.rows import EvalRow, MetricRow, Sample


class HistoryMixin:
    """add/read metrics, evals and samples; ``truncate_after`` for a resume."""

    _tx: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _query: Callable[..., list[tuple[Any, ...]]]

    def add_metrics(self, run_id: str, rows: Iterable[MetricRow]) -> None:
        """Insert train rows; a row at an existing step replaces it (a retrained step)."""
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(run_id, r.step, r.epoch, r.train_loss, r.lr, r.tokens_per_s, r.time)
                            for r in rows])

    def add_eval(self, run_id: str, row: EvalRow) -> None:
        """Insert an eval row and keep ``runs.best_test_ppl``/``best_step`` up to date."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO evals (run_id, step, epoch, test_loss, test_ppl, "
                       "tokens, time, stream_loss, stream_ppl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, row.step, row.epoch, row.test_loss, row.test_ppl, row.tokens,
                        row.time, row.stream_loss, row.stream_ppl))
            _refresh_best(db, run_id)

    def add_samples(self, run_id: str, step: int, samples: Iterable[tuple[str, str]]) -> None:
        """Store one round of (prompt, text) samples taken at ``step``."""
        t = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM samples WHERE run_id = ? AND step = ?", (run_id, step))
            db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?)",
                           [(run_id, step, i, p, s, t) for i, (p, s) in enumerate(samples)])

    def truncate_after(self, run_id: str, step: int) -> None:
        """Drop every row after ``step`` (they will be retrained) and bump ``attempt``."""
        with self._tx() as db:
            for table in ("metrics", "evals", "samples"):
                db.execute(f"DELETE FROM {table} WHERE run_id = ? AND step > ?", (run_id, step))
            db.execute("UPDATE runs SET attempt = attempt + 1, step = ? WHERE id = ?",
                       (step, run_id))
            _refresh_best(db, run_id)

    def metrics(self, run_id: str, since: int = -1) -> list[MetricRow]:
        rows = self._query("SELECT step, epoch, train_loss, lr, tokens_per_s, time FROM metrics "
                           "WHERE run_id = ? AND step > ? ORDER BY step", (run_id, since))
        return [MetricRow(*r) for r in rows]

    def evals(self, run_id: str, since: int = -1) -> list[EvalRow]:
        rows = self._query("SELECT step, epoch, test_loss, test_ppl, tokens, time, stream_loss, "
                           "stream_ppl FROM evals WHERE run_id = ? AND step > ? ORDER BY step",
                           (run_id, since))
        return [EvalRow(*r) for r in rows]

    def history(self, run_id: str, since: int = -1) -> list[dict[str, Any]]:
        """Train and eval rows merged by step (the rows of ``tangtui metrics``)."""
        merged: dict[int, dict[str, Any]] = {}
        for m in self.metrics(run_id, since):
            merged[m.step] = {"step": m.step, "epoch": m.epoch, "train_loss": m.train_loss,
                              "test_loss": None, "test_ppl": None, "stream_ppl": None,
                              "lr": m.lr,
                              "tokens_per_s": m.tokens_per_s}
        for e in self.evals(run_id, since):
            row = merged.setdefault(e.step, {"step": e.step, "epoch": e.epoch,
                                             "train_loss": None, "lr": None,
                                             "tokens_per_s": None})
            row["test_loss"], row["test_ppl"] = e.test_loss, e.test_ppl
            row["stream_ppl"] = e.stream_ppl
        return [merged[s] for s in sorted(merged)]

    def latest_samples(self, run_id: str) -> list[Sample]:
        rows = self._query("SELECT step, prompt, text FROM samples WHERE run_id = ? AND step = "
                           "(SELECT MAX(step) FROM samples WHERE run_id = ?) ORDER BY idx",
                           (run_id, run_id))
        return [Sample(*r) for r in rows]


def _refresh_best(db: sqlite3.Connection, run_id: str) -> None:
    best = db.execute("SELECT test_ppl, step FROM evals WHERE run_id = ? AND test_ppl IS NOT NULL "
                      "ORDER BY test_ppl, step LIMIT 1", (run_id,)).fetchone()
    db.execute("UPDATE runs SET best_test_ppl = ?, best_step = ? WHERE id = ?",
               (best[0] if best else None, best[1] if best else None, run_id))
