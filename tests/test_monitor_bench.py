"""The Monitor on three finished runs of 300,000 logged steps each (a store of about 60 MB):
opening one, redrawing it and overlaying all three each take under 0.3 s (slow: building the
store takes a minute or more)."""

from __future__ import annotations

import pytest

from tangtui.ui.monitor_bench import run_monitor_bench


@pytest.mark.slow
def test_long_runs_open_redraw_and_overlay_in_under_a_third_of_a_second(tmp_path) -> None:
    report = run_monitor_bench(tmp_path, runs=3, steps=300_000)
    print(report)
    assert report["store_mb"] > 40
    assert report["points"] <= 3 * 4 * 90  # per run: faint min/max pairs, the curve, tests
    assert report["open"] < 0.3 and report["redraw"] < 0.3 and report["overlay"] < 0.3
