"""Curves reduced in SQLite (tangtui/runs/series.py) match the same reduction in Python, and
the per-64-step blocks stay right through replaced, truncated and deleted rows."""

from __future__ import annotations

import math
import random
import sqlite3

import pytest

from tangtui.runs.series import reduce_points
from tangtui.runs.store import EvalRow, MetricRow, Store


def fill(store: Store, steps: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    run = store.create_run({}, name=f"r{seed}")
    rows = [MetricRow(s, 0, 3.0 + rng.random() + (40.0 if s == 777 else 0.0), 1e-3, 1.0,
                      1000.0 + 0.5 * s) for s in range(1, steps + 1)]
    store.add_metrics(run.id, rows)
    for s in range(100, steps + 1, 100):
        store.add_eval(run.id, EvalRow(s, 0, 3.5, math.exp(3.5), 10, 1000.0 + 0.5 * s))
    return run.id


def python_curve(store: Store, rid: str, x: str = "step", lo=None, hi=None, n: int = 50):
    rows = store.metrics(rid)
    return reduce_points([float(getattr(r, x)) for r in rows], [r.train_loss for r in rows],
                         lo, hi, n)


def test_blocks_reduce_to_the_same_extremes_and_counts(tmp_path) -> None:
    with Store(tmp_path) as store:
        rid = fill(store, 5000)
        curve = store.series(rid, n=50)
        ref = python_curve(store, rid)
        assert curve.points == ref.points == 5000 and len(curve.x) <= 50
        assert max(curve.y_max) == max(ref.y_max) == pytest.approx(max(ref.y_max))
        assert min(curve.y_min) == pytest.approx(min(ref.y_min))
        # blocks of 64 steps land in the bucket of their mean: totals agree, edges may shift
        assert sum(m * c for m, c in zip(curve.y_mean, curve.count, strict=True)) == \
            pytest.approx(sum(m.train_loss for m in store.metrics(rid)))
        assert curve.span == (1.0, 5000.0)
        by_time = store.series(rid, x="time", n=50)
        assert by_time.span == (1000.5, 3500.0) and by_time.points == 5000


def test_a_narrow_zoom_reads_the_raw_rows_exactly(tmp_path) -> None:
    with Store(tmp_path) as store:
        rid = fill(store, 5000)
        curve = store.series(rid, lo=700, hi=900, n=50)
        ref = python_curve(store, rid, lo=700, hi=900)
        assert curve.x == pytest.approx(ref.x) and curve.y_max == pytest.approx(ref.y_max)
        assert curve.points == 201 and max(curve.y_max) > 40  # the spike at step 777
        few = store.series(rid, lo=10, hi=20, n=50)
        assert few.x == [float(s) for s in range(10, 21)] and not few.reduced


def test_evaluations_come_back_raw(tmp_path) -> None:
    with Store(tmp_path) as store:
        rid = fill(store, 5000)
        test = store.series(rid, "test_loss", n=400)
        assert test.x == [float(s) for s in range(100, 5001, 100)] and not test.reduced


def test_blocks_follow_replaced_truncated_and_deleted_rows(tmp_path) -> None:
    with Store(tmp_path) as store:
        rid = fill(store, 1000, seed=1)
        keep = fill(store, 300, seed=2)
        store.add_metrics(rid, [MetricRow(777, 0, 3.5, 1e-3, 1.0, 1388.5)])  # retrained step
        assert max(store.series(rid, n=10).y_max) < 5.0 and store.series(rid).points == 1000
        store.truncate_after(rid, 500)
        curve = store.series(rid, n=10)
        assert curve.points == 500 and curve.span == (1.0, 500.0)
        store.delete_run(rid)
        db = sqlite3.connect(tmp_path / "tangtui.db")
        runs = {r for (r,) in db.execute("SELECT DISTINCT run_id FROM metric_blocks")}
        assert runs == {keep} and store.series(keep).points == 300


def test_an_older_store_gets_its_blocks_when_opened(tmp_path) -> None:
    with Store(tmp_path) as store:
        rid = fill(store, 2000)
    db = sqlite3.connect(tmp_path / "tangtui.db")
    db.executescript("DROP TABLE metric_blocks; DROP TRIGGER metric_blocks_insert; "
                     "DROP TRIGGER metric_blocks_replace; DROP TRIGGER metric_blocks_delete; "
                     "DROP TRIGGER metric_blocks_run_deleted;")
    db.close()
    with Store(tmp_path) as store:
        assert store.series(rid, n=20).points == 2000


def test_history_rows_join_evaluations_and_read_the_tail(tmp_path) -> None:
    with Store(tmp_path) as store:
        rid = fill(store, 1000)
        store.add_eval(rid, EvalRow(1001, 0, 3.0, math.exp(3.0), 10, 2000.0))  # no train row
        rows = store.history_rows(rid)
        assert [r[0] for r in rows] == list(range(1, 1002))
        assert rows[99][3] == 3.5 and rows[98][3] is None and rows[-1][2] is None
        assert [r[0] for r in store.history_rows(rid, tail=3)] == [999, 1000, 1001]
        evals = store.history_rows(rid, evals_only=True, tail=2)
        assert [(r[0], r[2] is not None) for r in evals] == [(1000, True), (1001, False)]
        assert store.history_rows(rid) == [
            (h["step"], h["epoch"], h["train_loss"], h["test_loss"], h["test_ppl"],
             h["stream_ppl"], h["lr"], h["tokens_per_s"]) for h in store.history(rid)]
