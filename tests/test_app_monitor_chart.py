"""The Monitor's chart: smoothing, x axes, value cursor, zoom, full screen, overlays, export,
the phase and next-evaluation lines, and long runs reduced to the chart's width."""

from __future__ import annotations

import csv
import json
import math
import time

import pytest
from app_fakes import FakePoet, FakeRunner, FakeStore, _run, fake_corpus
from test_app_monitor import LIVE, open_monitor, poll_now
from textual.widgets import Input, Select

from tangtui.app import make_app
from tangtui.runs.rows import MetricRow
from tangtui.ui.curve_plot import CurvePlot
from tangtui.ui.monitor_status import status_markup
from tangtui.ui.monitor_view import PALETTE, RunCurves, smooth

BASE, ADAM = "20250101-100000-aaaa", "20250102-100000-bbbb"


def build(store: FakeStore | None = None):
    store = store or FakeStore()
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                   runner=FakeRunner(store))
    return app, store


def line(plot: CurvePlot, kind: str, run_id: str | None = None):
    return next(ln for ln in plot.lines if ln.kind == kind and run_id in (None, ln.run_id))


async def test_smoothing_is_tensorboards_debiased_ema_over_a_faint_raw_curve() -> None:
    app, store = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        plot = app.query_one(CurvePlot)
        raw = [m.train_loss for m in store.metrics(LIVE)]
        s, expected = 0.0, []
        for t, y in enumerate(raw, 1):  # TensorBoard: s = w s + (1 - w) y, shown s / (1 - w^t)
            s = 0.6 * s + 0.4 * y
            expected.append(s / (1 - 0.6 ** t))
        assert pane.view.smooth and plot.series["train"][1] == pytest.approx(expected)
        faint = line(plot, "raw")
        assert faint.ys == raw and faint.colour != line(plot, "train").colour
        await pilot.press("right_square_bracket")
        assert pane.view.weight == 0.8
        await pilot.press("a")
        await pilot.pause()
        assert not pane.view.smooth and plot.series["train"][1] == raw
        assert not [ln for ln in plot.lines if ln.kind == "raw"]


def test_smoothing_a_bucket_counts_as_its_points() -> None:
    """A bucket of c points of mean m moves the EMA as c points of value m would."""
    from tangtui.runs.series import reduce_points

    ys = [float(v) for v in [5, 5, 5, 5, 1, 1, 1, 1]]
    one_by_one = smooth(reduce_points(list(range(8)), ys, n=8), 0.9)
    bucketed = smooth(reduce_points(list(range(8)), ys, n=2), 0.9)
    assert math.isclose(bucketed[-1], one_by_one[-1]) and math.isclose(bucketed[0],
                                                                         one_by_one[3])


async def test_x_axis_cycles_step_tokens_wall_time() -> None:
    store = FakeStore()
    store.get_run(LIVE).info = {"dataset": {"train_tokens": 64_000}, "steps_per_epoch": 100}
    app, _ = build(store)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        plot = app.query_one(CurvePlot)
        assert plot.xlabel == "step" and line(plot, "train").xs[-1] == 100
        await pilot.press("x")
        await poll_now(pilot, pane)
        assert plot.xlabel == "tokens seen (k)"
        assert line(plot, "train").xs[-1] == 100 * 640 / 1000  # step x tokens per step
        await pilot.press("x")
        await poll_now(pilot, pane)
        assert plot.xlabel == "wall time (s)"  # fake rows: one every 5 s from t = 1005
        assert line(plot, "train").xs[:2] == [0.0, 5.0] and line(plot, "train").xs[-1] == 45.0
        await pilot.press("x")
        await poll_now(pilot, pane)
        assert plot.xlabel == "step"


async def test_the_value_cursor_shows_each_runs_values() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        pane.show_runs([BASE, ADAM])
        await poll_now(pilot, pane)
        cursor = app.query_one("#monitor-cursor")
        assert not cursor.display
        await pilot.press("right")  # appears at the right end
        assert pane.view.cursor == 400
        await pilot.press("shift+left")
        await pilot.pause()
        x = pane.view.cursor
        assert x is not None and 200 < x < 400 and cursor.display
        text = str(cursor.render())
        assert "step" in text and "baseline" in text and "adam-lr3" in text and "train" in text
        assert app.query_one(CurvePlot).cursor_x == x
        await pilot.press("escape")
        assert pane.view.cursor is None


async def test_zoom_on_a_range_reads_only_that_range() -> None:
    app, store = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        pane.show_runs([BASE])
        await poll_now(pilot, pane)
        await pilot.press("right", "z")  # mark the right end...
        for _ in range(3):
            await pilot.press("shift+left")  # ...move left, and zoom to the range
        await pilot.press("z")
        await poll_now(pilot, pane)
        lo, hi = pane.view.zoom
        assert 0 < lo < hi == 400
        xs = pane.curves[BASE].train.x
        assert xs and all(lo <= x <= hi for x in xs)
        assert "zoomed" in app.query_one(CurvePlot).title
        await pilot.press("Z")
        await poll_now(pilot, pane)
        assert pane.view.zoom is None and pane.curves[BASE].train.x[0] == 10


async def test_full_screen_hides_the_side_panel_and_log_y_is_marked() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        side = app.query_one("#monitor-side")
        width = app.query_one(CurvePlot).size.width
        await pilot.press("f")
        await pilot.pause()
        assert not side.display and app.query_one(CurvePlot).size.width > width
        await pilot.press("l")
        await pilot.pause()
        assert "log y" in str(app.query_one("#monitor-legend").render())
        assert "log y" in app.query_one(CurvePlot).title


async def test_overlay_has_stable_colours_a_legend_and_a_config_diff() -> None:
    store = FakeStore()
    store.get_run(BASE).config = {"optim": {"name": "sgd", "lr": 0.1}, "train": {"seed": 1}}
    store.get_run(ADAM).config = {"optim": {"name": "adam", "lr": 0.003}, "train": {"seed": 1}}
    app, _ = build(store)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_monitor(pilot)
        pane.show_runs([BASE, ADAM])
        await poll_now(pilot, pane)
        plot = app.query_one(CurvePlot)
        assert line(plot, "train", BASE).colour == PALETTE[0]
        assert line(plot, "train", ADAM).colour == PALETTE[1]
        legend = str(app.query_one("#monitor-legend").render())
        assert "baseline" in legend and "adam-lr3" in legend
        diff = str(app.query_one("#monitor-diff").render())
        assert "optim.lr" in diff and "optim.name" in diff and "seed" not in diff


async def test_export_writes_the_shown_series_as_csv_and_json(tmp_path) -> None:
    app, store = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        for name in ("curves.csv", "curves.json"):
            await pilot.press("ctrl+o")
            await pilot.pause()
            field = app.screen.query_one(Input)
            field.value = str(tmp_path / name)
            await pilot.press("enter")
            await pilot.pause()
        rows = list(csv.DictReader((tmp_path / "curves.csv").open(encoding="utf-8")))
        train = [r for r in rows if r["series"] == "train_loss"]
        assert len(train) == len(store.metrics(LIVE)) and train[-1]["x"] == "100.0"
        assert float(train[-1]["value"]) == app.query_one(CurvePlot).series["train"][1][-1]
        data = json.loads((tmp_path / "curves.json").read_text(encoding="utf-8"))
        assert [r["x"] for r in data if r["series"] == "test_loss"] == [50.0, 100.0]
        assert pane.view.metric == "loss"


async def test_a_long_run_is_reduced_to_the_charts_width_and_spikes_survive() -> None:
    store = FakeStore()
    rid = "20250109-100000-ffff"
    store.add_run(_run(rid, "long", "finished", 20_000, 20.0), 0)
    store.rows[rid] = [MetricRow(s, 0, 50.0 if s == 12_345 else 3.0, 1e-3, 1.0, float(s))
                       for s in range(1, 20_001)]
    app, _ = build(store)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        pane.show_runs([rid])
        await poll_now(pilot, pane)
        train = pane.curves[rid].train
        assert len(train.x) <= pane.buckets < 200 and train.points == 20_000
        assert max(train.y_max) == 50.0  # the spike is in its bucket's max
        assert max(line(app.query_one(CurvePlot), "raw").ys) == 50.0


async def test_the_picker_has_no_blank_entry_when_there_are_runs() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        select = app.query_one("#monitor-run", Select)
        assert not select._allow_blank and select.value == LIVE


def test_status_shows_the_phase_and_the_next_evaluation() -> None:
    now = time.time()
    run = _run(LIVE, "live", "running", 100, None, heartbeat=now + 3600, eta_s=300.0,
               total_steps=400, config={"train": {"eval_every": 200, "early_eval": True}},
               info={"phase": "evaluating", "phase_time": now - 12})
    text = status_markup(RunCurves(run))
    assert "phase:[/] evaluating for 12s" in text
    assert "next evaluation at step 200, in about 1m40s" in text  # 100 steps at 1 s each
