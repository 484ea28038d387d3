"""The Monitor pane: curves of the newest live run, live updates, log-y, loss/ppl, overlays."""

from __future__ import annotations

import math

from app_fakes import FakePoet, FakeRunner, FakeStore, _run, fake_corpus
from textual.worker import WorkerCancelled

from tangtui.app import make_app
from tangtui.ui.curve_plot import CurvePlot
from tangtui.ui.monitor_pane import MonitorPane

LIVE = "20250103-100000-cccc"


def build():
    store = FakeStore()
    runner = FakeRunner(store)
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(), runner=runner)
    return app, store, runner


async def open_monitor(pilot) -> MonitorPane:
    await pilot.pause()
    await pilot.press("m")
    await pilot.pause(0.3)
    return pilot.app.query_one(MonitorPane)


async def poll_now(pilot, pane: MonitorPane) -> None:
    """One poll of the store, delivered (rather than waiting for the poll interval).

    The pane's own timer may start a poll meanwhile; polls are exclusive, so the one started
    here can be cancelled by it: then poll again.
    """
    for _ in range(5):
        worker = pane.poll()
        try:
            await worker.wait()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()


async def test_follows_the_live_run_and_updates_live() -> None:
    app, store, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        assert pane.run_ids == [LIVE]
        rc = pane.curves[LIVE]
        assert rc.train.x[-1] == 100 and len(rc.test.x) == 2
        plot = app.query_one(CurvePlot)
        assert set(plot.series) == {"train", "test"}
        status = str(app.query_one("#monitor-status").render())
        assert "running" in status and "step 100/400" in status and "ETA 2m30s" in status
        assert "月明松下房栊静" in str(app.query_one("#monitor-samples").render())
        store.append(LIVE, 110)
        store.append(LIVE, 120)
        await pilot.pause(1.2)  # one poll interval and a bit
        assert pane.curves[LIVE].train.x[-3:] == [100, 110, 120]
        assert plot.series["train"][0][-1] == 120.0
        assert "step 120/400" in str(app.query_one("#monitor-status").render())


async def test_an_evaluation_that_lands_after_its_train_row_is_not_skipped() -> None:
    """The trainer logs the train row of step s, then evaluates at s for seconds: a poll in
    between must not move the eval cursor past s."""
    app, store, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        store.append(LIVE, 110)
        store.append(LIVE, 150)  # logged; its evaluation still running
        await poll_now(pilot, pane)
        assert pane.curves[LIVE].train.x[-1] == 150
        assert pane.curves[LIVE].test.x == [50, 100]
        store.append_eval(LIVE, 150)
        await poll_now(pilot, pane)
        assert pane.curves[LIVE].test.x == [e.step for e in store.evals(LIVE)] == [50, 100, 150]
        assert app.query_one(CurvePlot).series["test"][0] == [50.0, 100.0, 150.0]


async def test_log_y_and_perplexity_toggles() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        plot = app.query_one(CurvePlot)
        loss = plot.series["train"][1][0]
        await pilot.press("l")
        assert plot.log_y
        await pilot.press("v")
        await pilot.pause()
        assert math.isclose(plot.series["train"][1][0], math.exp(loss))
        assert "perplexity" in plot.title
        await pilot.press("l", "v")
        await pilot.pause()
        assert not plot.log_y and plot.series["train"][1][0] == loss


async def test_a_run_that_died_is_shown_dead() -> None:
    app, store, _ = build()
    store.get_run(LIVE).heartbeat = 1.0  # decades old
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        pane.show_runs([LIVE])
        await pilot.pause(0.3)
        assert "dead" in str(app.query_one("#monitor-status").render())


async def test_stop_key_stops_the_live_run() -> None:
    app, _, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        await pilot.press("s")
        await pilot.pause(0.3)
        assert runner.calls == [("stop", LIVE)]


def plot_text(plot: CurvePlot) -> str:
    return str(plot.render())


async def test_log_y_with_nothing_to_draw_is_not_a_crash() -> None:
    """Runs -> compare -> log y, then a new run with no points yet is shown."""
    app, store, _ = build()
    store.add_run(_run("20250109-100000-eeee", "fresh", "running", 0, None), 0)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_monitor(pilot)
        await pilot.press("l")
        pane.show_runs(["20250109-100000-eeee"])
        await poll_now(pilot, pane)
        plot = app.query_one(CurvePlot)
        assert app.is_running and plot.log_y and plot.series == {}
        assert "no data yet" in plot_text(plot)


async def test_log_y_survives_redraws_and_the_theme_toggle() -> None:
    """Plotext logs the data in place when it builds: a second build must not log it again."""
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        await pilot.press("l")
        await pilot.pause()
        plot = app.query_one(CurvePlot)
        first = plot_text(plot)
        assert plot_text(plot) == first and "cannot draw" not in first
        await pilot.press("d")
        await pilot.pause()
        assert app.is_running and app.theme == "textual-light"
        assert "cannot draw" not in plot_text(plot) and "log y" in plot_text(plot)


async def test_a_drawing_failure_is_a_line_not_a_crash(monkeypatch) -> None:
    import tangtui.ui.curve_plot

    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        plot = app.query_one(CurvePlot)

        def broken(*args, **kwargs):
            raise IndexError("list index out of range")

        monkeypatch.setattr(tangtui.ui.curve_plot, "render_chart", broken)
        plot.replot()
        await pilot.pause()
        assert app.is_running
        assert "cannot draw here (IndexError)" in plot_text(plot)
