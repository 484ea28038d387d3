"""The Monitor pane follows a real run, started in another process, live; then stops it."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from tangtui.app import make_app
from tangtui.errors import TangtuiError
from tangtui.runs.runner import request_stop
from tangtui.runs.store import Store
from tangtui.ui.monitor_pane import MonitorPane
from tangtui.ui.run_control import ProcessRunControl


async def test_monitor_follows_a_detached_trainer_and_stops_it(tmp_path: Path) -> None:
    from engine.config import RunConfig
    from engine.presets import apply_preset

    home = Path(os.environ["TANGTUI_HOME"])
    cfg = apply_preset(RunConfig(), "tiny")
    # far more steps than the test waits for, so however fast the machine, the run is still
    # going while the curve is watched growing; the test stops it with the `s` key
    cfg.train.steps = 100_000
    cfg.train.eval_every = 5
    cfg.train.checkpoint_every = 1000
    runner = ProcessRunControl(home)
    run_id = runner.start(cfg.to_dict(), name="live-test")
    store = Store(home)
    app = make_app(store=store, runner=runner)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.2)
            await pilot.press("m")
            pane = app.query_one(MonitorPane)
            seen: list[int] = []  # the last train step at each poll that moved it
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                await pilot.pause(0.25)
                rc = pane.curves.get(run_id)
                if rc and rc.train.x and (not seen or rc.train.x[-1] != seen[-1]):
                    seen.append(rc.train.x[-1])
                if len(seen) >= 3 and rc and len(rc.test.x) >= 2:
                    break
            assert pane.run_ids == [run_id]
            assert len(seen) >= 3 and seen == sorted(seen), seen  # it grew while we watched
            await pilot.press("s")
            while time.monotonic() < deadline:
                await pilot.pause(0.25)
                rc = pane.curves[run_id]
                if rc.run.status != "running":
                    break
            rc = pane.curves[run_id]
            assert rc.run.status == "stopped", rc.run
            assert rc.run.reason == "stopped by SIGTERM"
            # every point the store has, none twice, none skipped (train and test cursors)
            await pilot.pause(1.0)  # a poll after the end reads the final rows
            steps = [m.step for m in store.metrics(run_id)]
            # the chart reads the curve reduced to its width: buckets in order, spanning every
            # stored step, each mean within its bucket's min and max
            xs = rc.train.x
            assert xs == sorted(set(xs)) and steps[0] <= xs[0] and xs[-1] <= steps[-1]
            assert xs[-1] > steps[-1] - (steps[-1] - steps[0]) / max(1, len(xs) - 1) - 1
            assert all(lo <= m <= hi for lo, m, hi in
                       zip(rc.train.y_min, rc.train.y_mean, rc.train.y_max, strict=True))
            evals = [e.step for e in store.evals(run_id)]
            if len(rc.test.x) == len(evals):  # few enough to draw each one
                assert rc.test.x == evals
            else:  # a fast machine evaluated more often than the chart has columns: reduced
                assert rc.test.x == sorted(set(rc.test.x)) and len(rc.test.x) < len(evals)
                assert evals[0] <= rc.test.x[0] and rc.test.x[-1] <= evals[-1]
            assert len(rc.test.x) >= 2 and app.query_one("#monitor-plot").series["test"]
            assert "stopped" in str(app.query_one("#monitor-status").render())
    finally:
        with contextlib.suppress(TangtuiError):  # never leave a trainer behind
            request_stop(store, run_id)
        store.close()
