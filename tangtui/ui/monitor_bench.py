"""A benchmark of the Monitor on long runs: open one, redraw it, overlay three.

:func:`build_long_store` writes finished runs of ``steps`` logged steps each (an evaluation
every 1,000) into a fresh store; :func:`measure` times the Monitor's own work with the real
store and chart code (``open``: fetch one run's curves at the chart's width, make the lines,
draw; ``redraw``: a log-y toggle; ``overlay``: the same as open for three runs), and
:func:`measure_app` the same overlay end to end in the headless app.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

EVAL_EVERY = 1000


def build_long_store(root: Path, runs: int = 3, steps: int = 300_000) -> list[str]:
    """``runs`` finished runs of ``steps`` logged steps in a new store at ``root``; their ids."""
    from tangtui.runs.store import EvalRow, MetricRow, Store

    ids = []
    with Store(root) as store:
        for r in range(runs):
            run = store.create_run({"optim": {"lr": 0.01 / (r + 1)}}, name=f"long-{r + 1}")
            t0 = 1.7e9
            rows = [MetricRow(s, s // 10_000, 2.0 + 3.0 * math.exp(-s / 20_000.0) + 0.1 * r
                              + (0.05 if s % 7 == 0 else 0.0), 1e-3, 1e5, t0 + s * 0.1)
                    for s in range(1, steps + 1)]
            for i in range(0, len(rows), 50_000):
                store.add_metrics(run.id, rows[i:i + 50_000])
            for s in range(EVAL_EVERY, steps + 1, EVAL_EVERY):
                loss = 2.2 + 3.0 * math.exp(-s / 20_000.0) + 0.1 * r
                store.add_eval(run.id, EvalRow(s, s // 10_000, loss, math.exp(loss), 1000,
                                               t0 + s * 0.1))
            store.update_run(run.id, status="finished", step=steps, total_steps=steps)
            ids.append(run.id)
    return ids


def measure(root: Path, ids: list[str], size: tuple[int, int] = (120, 40),
            repeat: int = 3) -> dict[str, float]:
    """Best of ``repeat`` seconds for what the Monitor does to open one run (fetch its curves
    at the chart's width, make the lines, draw the chart), to redraw it (log y: lines and
    chart) and to overlay all of ``ids``."""
    from tangtui.runs.store import Store
    from tangtui.ui.braille_chart import render_chart
    from tangtui.ui.monitor_view import ChartView, RunCurves, chart_lines, x_scale

    width, height = size[0] - 31, size[1] - 6  # the chart beside the side panel
    view = ChartView()

    def show(store: Store, run_ids: list[str]) -> int:
        runs = []
        for rid in run_ids:
            rc = RunCurves(store.get_run(rid))
            rc.train = store.series(rid, "train_loss", "step", None, None, width)
            rc.test = store.series(rid, "test_loss", "step", None, None, width)
            runs.append(rc)
        return draw(runs)

    def draw(runs: list[RunCurves]) -> int:
        lines = chart_lines(view, runs, x_scale(view.x_axis, runs))
        render_chart(lines, width, height, title="loss", xlabel="step", log_y=view.log_y)
        return sum(len(ln.xs) for ln in lines)

    def best(fn: Any) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    with Store(root) as store:
        out = {"open": best(lambda: show(store, ids[:1]))}
        runs = [RunCurves(store.get_run(ids[0]))]
        runs[0].train = store.series(ids[0], "train_loss", "step", None, None, width)

        def toggle() -> None:
            view.log_y = not view.log_y
            draw(runs)

        out["redraw"] = best(toggle)
        out["overlay"] = best(lambda: show(store, ids))
        out["points"] = float(show(store, ids))
    return out


async def measure_app(root: Path, ids: list[str], size: tuple[int, int] = (120, 40)) -> float:
    """Seconds from ``show_runs`` to the chart on screen in the real app (Pilot, so this
    includes Textual's frame loop, which dominates on a loaded machine)."""
    from tangtui.app import make_app
    from tangtui.runs.store import Store
    from tangtui.ui.curve_plot import CurvePlot
    from tangtui.ui.monitor_pane import MonitorPane

    store = Store(root)
    app = make_app(store=store, first_pane="monitor")
    try:
        async with app.run_test(size=size) as pilot:
            pane, plot = app.query_one(MonitorPane), app.query_one(CurvePlot)
            while not pane.runs:
                await pilot.pause(0.01)
            t = time.perf_counter()
            pane.show_runs(ids)
            while not (all(r in pane.curves and pane.curves[r].train.x for r in ids)
                       and {ln.run_id for ln in plot.lines} >= set(ids) and plot.ready):
                if time.perf_counter() - t > 60:
                    raise TimeoutError("the Monitor did not draw in a minute")
                await pilot.pause(0.005)
            return time.perf_counter() - t
    finally:
        store.close()


def run_monitor_bench(root: Path, runs: int = 3, steps: int = 300_000) -> dict[str, Any]:
    """Build the store, then measure; also the store's size and the time to build it."""
    t = time.perf_counter()
    ids = build_long_store(root, runs, steps)
    built = time.perf_counter() - t
    size_mb = sum(p.stat().st_size for p in root.glob("tangtui.db*")) / 1e6
    times = measure(root, ids)
    app_s = asyncio.run(measure_app(root, ids))
    return {"runs": runs, "steps": steps, "store_mb": round(size_mb, 1),
            "build_s": round(built, 2), **{k: round(v, 4) for k, v in times.items()},
            "app_overlay_s": round(app_s, 4)}


if __name__ == "__main__":  # python -m tangtui.ui.monitor_bench [DIR]: build there, measure
    import json
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run_monitor_bench(Path(sys.argv[1] if len(sys.argv) > 1 else tmp))))
