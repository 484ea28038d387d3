"""Curves reduced to a chart's width: min, max and mean of each bucket, aggregated in SQLite.

A chart ``w`` cells wide shows at most ``2 w`` braille dots across, so a run of 300,000 logged
steps is read as a few hundred buckets instead of 300,000 rows. The x range ``[lo, hi]`` is cut
into ``n`` equal buckets; bucket ``b = floor((x - lo) * n / (hi - lo))`` (the last one closed)
keeps the mean x, the min, max and mean of y and the count, so spikes survive (min/max) and a
smoothing can weigh each bucket by its count. Ranges with at most ``n`` points come back raw.

``x`` is ``step`` or ``time`` (unix seconds); tokens seen are a multiple of the step, so the
Monitor scales a step curve for them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

AXES = ("step", "time")


@dataclass(frozen=True)
class Curve:
    """One series along x: per bucket (or raw point) mean x, min/max/mean of y and the count."""

    x: list[float]
    y_min: list[float]
    y_max: list[float]
    y_mean: list[float]
    count: list[int]
    span: tuple[float, float] | None  # the x range of all the run's points (for zoom bounds)

    @property
    def points(self) -> int:
        """How many raw points the buckets hold."""
        return sum(self.count)

    @property
    def reduced(self) -> bool:
        return any(c > 1 for c in self.count)


EMPTY = Curve([], [], [], [], [], None)


def reduce_points(xs: Sequence[float], ys: Sequence[float], lo: float | None = None,
                  hi: float | None = None, n: int = 400) -> Curve:
    """The same reduction in Python, for points already in memory (and for fakes in tests)."""
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    span = (pts[0][0], pts[-1][0]) if pts else None
    lo = pts[0][0] if lo is None and pts else lo
    hi = pts[-1][0] if hi is None and pts else hi
    pts = [(x, y) for x, y in pts if lo <= x <= hi]  # type: ignore[operator]
    if not pts:
        return Curve([], [], [], [], [], span)
    if len(pts) <= n or hi == lo:
        return Curve([x for x, _ in pts], [y for _, y in pts], [y for _, y in pts],
                     [y for _, y in pts], [1] * len(pts), span)
    buckets: dict[int, list[tuple[float, float]]] = {}
    for x, y in pts:
        buckets.setdefault(min(n - 1, int((x - lo) * n / (hi - lo))), []).append((x, y))
    rows = [(sum(x for x, _ in b) / len(b), min(y for _, y in b), max(y for _, y in b),
             sum(y for _, y in b) / len(b), len(b)) for _, b in sorted(buckets.items())]
    return _curve(rows, span)


def _curve(rows: list[tuple[Any, ...]], span: tuple[float, float] | None) -> Curve:
    return Curve([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                 [r[3] for r in rows], [r[4] for r in rows], span)


BLOCK = 64  # steps per row of metric_blocks
RAW_ROWS = 4096  # a zoom over at most this many rows buckets the rows themselves

BLOCKS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS metric_blocks (
    run_id TEXT NOT NULL, block INTEGER NOT NULL, n INTEGER NOT NULL,
    x_min INTEGER NOT NULL, x_max INTEGER NOT NULL, x_sum REAL NOT NULL,
    y_min REAL NOT NULL, y_max REAL NOT NULL, y_sum REAL NOT NULL,
    t_min REAL NOT NULL, t_max REAL NOT NULL, t_sum REAL NOT NULL,
    PRIMARY KEY (run_id, block)) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS metric_blocks_replace BEFORE INSERT ON metrics
WHEN EXISTS (SELECT 1 FROM metrics WHERE run_id = NEW.run_id AND step = NEW.step)
BEGIN
    DELETE FROM metric_blocks WHERE run_id = NEW.run_id AND block = NEW.step / {BLOCK};
    INSERT INTO metric_blocks {{aggregate}} AND run_id = NEW.run_id AND step != NEW.step
        AND step >= NEW.step / {BLOCK} * {BLOCK} AND step < (NEW.step / {BLOCK} + 1) * {BLOCK}
        GROUP BY run_id, step / {BLOCK};
END;
CREATE TRIGGER IF NOT EXISTS metric_blocks_insert AFTER INSERT ON metrics
WHEN NEW.train_loss IS NOT NULL
BEGIN
    INSERT INTO metric_blocks VALUES (NEW.run_id, NEW.step / {BLOCK}, 1, NEW.step, NEW.step,
        NEW.step, NEW.train_loss, NEW.train_loss, NEW.train_loss, NEW.time, NEW.time, NEW.time)
    ON CONFLICT (run_id, block) DO UPDATE SET n = n + 1,
        x_min = MIN(x_min, excluded.x_min), x_max = MAX(x_max, excluded.x_max),
        x_sum = x_sum + excluded.x_sum, y_min = MIN(y_min, excluded.y_min),
        y_max = MAX(y_max, excluded.y_max), y_sum = y_sum + excluded.y_sum,
        t_min = MIN(t_min, excluded.t_min), t_max = MAX(t_max, excluded.t_max),
        t_sum = t_sum + excluded.t_sum;
END;
CREATE TRIGGER IF NOT EXISTS metric_blocks_delete AFTER DELETE ON metrics
WHEN EXISTS (SELECT 1 FROM runs WHERE id = OLD.run_id)
BEGIN
    DELETE FROM metric_blocks WHERE run_id = OLD.run_id AND block = OLD.step / {BLOCK};
    INSERT INTO metric_blocks {{aggregate}} AND run_id = OLD.run_id
        AND step >= OLD.step / {BLOCK} * {BLOCK} AND step < (OLD.step / {BLOCK} + 1) * {BLOCK}
        GROUP BY run_id, step / {BLOCK};
END;
CREATE TRIGGER IF NOT EXISTS metric_blocks_run_deleted AFTER DELETE ON runs
BEGIN
    DELETE FROM metric_blocks WHERE run_id = OLD.id;
END;
""".replace("{aggregate}", f"""SELECT run_id, step / {BLOCK}, COUNT(*), MIN(step), MAX(step),
        SUM(step), MIN(train_loss), MAX(train_loss), SUM(train_loss), MIN(time), MAX(time),
        SUM(time) FROM metrics WHERE train_loss IS NOT NULL""")


def install_blocks(db: sqlite3.Connection) -> None:
    """Create ``metric_blocks`` and its triggers; fill it from the rows of an older store."""
    fresh = not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'metric_blocks'").fetchone()
    if not fresh:
        return
    db.executescript(BLOCKS_SCHEMA)  # from now on the triggers keep it up to date
    with db:  # idempotent: a second process doing the same at once writes the same rows
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"INSERT OR REPLACE INTO metric_blocks SELECT run_id, step / {BLOCK}, "
                   "COUNT(*), MIN(step), MAX(step), SUM(step), MIN(train_loss), "
                   "MAX(train_loss), SUM(train_loss), MIN(time), MAX(time), SUM(time) "
                   "FROM metrics WHERE train_loss IS NOT NULL GROUP BY run_id, step / "
                   f"{BLOCK}")


class SeriesMixin:
    """``series``: one run's train or test loss reduced to ``n`` buckets.

    The train loss is read from ``metric_blocks`` (min/max/sum of each 64 steps, kept by
    triggers on every insert or delete of a metrics row), so a 300,000-step run costs about
    4,700 block rows; a zoom narrow enough reads the raw rows of its step range instead.
    """

    _query: Callable[..., list[tuple[Any, ...]]]

    def series(self, run_id: str, column: str = "train_loss", x: str = "step",
               lo: float | None = None, hi: float | None = None, n: int = 400) -> Curve:
        if x not in AXES or column not in ("train_loss", "test_loss"):
            raise ValueError(f"no series {column} by {x}")
        if column == "test_loss":
            return self._raw_series(run_id, "evals", column, x, lo, hi, n)
        t = "x" if x == "step" else "t"
        first = self._query(f"SELECT MIN({t}_min), MAX({t}_max), SUM(n) FROM metric_blocks "
                            "WHERE run_id = ?", (run_id,))
        x_min, x_max, total = first[0] if first else (None, None, 0)
        if not total:
            return EMPTY
        span = (float(x_min), float(x_max))
        lo = span[0] if lo is None else lo
        hi = span[1] if hi is None else hi
        inside = self._query(f"SELECT SUM(n), MIN(x_min), MAX(x_max) FROM metric_blocks "
                             f"WHERE run_id = ? AND {t}_max >= ? AND {t}_min <= ?",
                             (run_id, lo, hi))[0]
        if not inside[0]:
            return Curve([], [], [], [], [], span)
        if inside[0] <= max(4 * n, RAW_ROWS) or hi <= lo:  # few rows: bucket them directly
            return self._raw_series(run_id, "metrics", column, x, lo, hi, n, span,
                                    steps=(inside[1], inside[2]))
        mean = f"({t}_sum / n)"
        rows = self._query(
            f"SELECT SUM({t}_sum) / SUM(n), MIN(y_min), MAX(y_max), SUM(y_sum) / SUM(n), "
            f"SUM(n), MIN(?, CAST(({mean} - ?) * ? / ? AS INTEGER)) AS b FROM metric_blocks "
            f"WHERE run_id = ? AND {mean} >= ? AND {mean} <= ? GROUP BY b ORDER BY b",
            (n - 1, lo, n, hi - lo, run_id, lo, hi))
        return _curve(rows, span)

    def _raw_series(self, run_id: str, table: str, column: str, x: str, lo: float | None,
                    hi: float | None, n: int, span: tuple[float, float] | None = None,
                    steps: tuple[int, int] | None = None) -> Curve:
        """Bucket the rows themselves (evaluations, or the few rows of a narrow zoom)."""
        where = f"run_id = ? AND {column} IS NOT NULL"
        params: list[Any] = [run_id]
        if steps is not None:  # the primary key's range: no scan of the whole run
            where += " AND step >= ? AND step <= ?"
            params += list(steps)
        if span is None:
            first = self._query(f"SELECT MIN({x}), MAX({x}), COUNT(*) FROM {table} "
                                f"WHERE {where}", params)
            x_min, x_max, total = first[0] if first else (None, None, 0)
            if not total:
                return EMPTY
            span = (float(x_min), float(x_max))
        lo = span[0] if lo is None else lo
        hi = span[1] if hi is None else hi
        where += f" AND {x} >= ? AND {x} <= ?"
        params += [lo, hi]
        count = self._query(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0]
        if count <= n or hi <= lo:
            rows = self._query(f"SELECT {x}, {column}, {column}, {column}, 1 FROM {table} "
                               f"WHERE {where} ORDER BY {x}", params)
            return _curve(rows, span)
        rows = self._query(
            f"SELECT AVG({x}), MIN({column}), MAX({column}), AVG({column}), COUNT(*), "
            f"MIN(?, CAST(({x} - ?) * ? / ? AS INTEGER)) AS b FROM {table} WHERE {where} "
            "GROUP BY b ORDER BY b", (n - 1, lo, n, hi - lo, *params))
        return _curve(rows, span)

    def history_rows(self, run_id: str, evals_only: bool = False,
                     tail: int | None = None) -> list[tuple[Any, ...]]:
        """``tangtui metrics`` rows: (step, epoch, train_loss, test_loss, test_ppl, stream_ppl,
        lr, tokens_per_s) by step, each train row with the evaluation at its step (an evaluation
        without a train row stands alone); ``tail`` reads only the end of the index."""
        evals = {r[0]: r for r in self._query(
            "SELECT step, epoch, test_loss, test_ppl, stream_ppl FROM evals WHERE run_id = ?",
            (run_id,))}
        if evals_only:
            steps = sorted(evals)[-tail:] if tail else sorted(evals)
            train = {r[0]: r for r in self._query(
                "SELECT step, epoch, train_loss, lr, tokens_per_s FROM metrics WHERE "
                "run_id = ? AND step >= ?", (run_id, steps[0]))} if steps else {}
            return [_merge(train.get(s), evals[s]) for s in steps]
        sql = "SELECT step, epoch, train_loss, lr, tokens_per_s FROM metrics WHERE run_id = ?"
        if tail:
            rows = self._query(sql + " ORDER BY step DESC LIMIT ?", (run_id, tail))[::-1]
        else:
            rows = self._query(sql + " ORDER BY step", (run_id,))
        out = [_merge(r, evals.pop(r[0], None)) for r in rows]
        first = rows[0][0] if rows and tail else None
        alone = [_merge(None, e) for s, e in evals.items() if first is None or s > first]
        if alone:  # evaluations without a train row at their step
            out = sorted(out + alone, key=lambda r: r[0])[-tail:] if tail else \
                sorted(out + alone, key=lambda r: r[0])
        return out


def _merge(train: tuple[Any, ...] | None, ev: tuple[Any, ...] | None) -> tuple[Any, ...]:
    if train is None:
        assert ev is not None
        return (ev[0], ev[1], None, ev[2], ev[3], ev[4], None, None)
    step, epoch, loss, lr, tps = train
    test, ppl, stream = ev[2:5] if ev else (None, None, None)
    return (step, epoch, loss, test, ppl, stream, lr, tps)
