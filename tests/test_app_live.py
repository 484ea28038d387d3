"""The Monitor pane watches a real run, started in another process, update live."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tangtui.app import make_app
from tangtui.store import Store
from tangtui.ui.monitor_pane import MonitorPane
from tangtui.ui.run_control import ProcessRunControl


async def test_monitor_follows_a_detached_trainer(tmp_path: Path) -> None:
    from engine.config import RunConfig
    from engine.presets import apply_preset

    home = Path(os.environ["TANGTUI_HOME"])
    cfg = apply_preset(RunConfig(), "tiny")
    cfg.train.steps = 60
    runner = ProcessRunControl(home)
    run_id = runner.start(cfg.to_dict(), name="live-test")
    store = Store(home)
    app = make_app(store=store, runner=runner)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.2)
            await pilot.press("m")
            seen: list[int] = []
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                await pilot.pause(0.25)
                pane = app.query_one(MonitorPane)
                trace = pane.traces.get(run_id)
                if trace and trace.train and (not seen or trace.train[-1][0] != seen[-1]):
                    seen.append(trace.train[-1][0])
                if trace and trace.run.status in ("finished", "failed", "stopped"):
                    break
            assert pane.run_ids == [run_id]
            assert trace is not None and trace.run.status == "finished", trace and trace.run
            steps = [s for s, _ in trace.train]
            assert steps == sorted(set(steps)) and steps[-1] == 60
            assert len(seen) >= 2, seen  # the curve grew while we watched
            assert trace.test and app.query_one("#monitor-plot").series["test"]
            assert "finished" in str(app.query_one("#monitor-status").render())
    finally:
        store.close()
