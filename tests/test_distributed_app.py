"""The Train pane's Processes field and the Monitor's line about processes and the batch."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, FakeStore, _run, fake_corpus
from textual.widgets import Input, Select

from tangtui.app import make_app
from tangtui.ui.monitor_status import status_markup
from tangtui.ui.monitor_view import RunCurves
from tangtui.ui.train_pane import TrainPane


async def test_processes_field_is_checked_inline_and_reaches_the_config() -> None:
    store = FakeStore()
    runner = FakeRunner(store)
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(), runner=runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)  # a loaded machine may still be composing the tabs
        await pilot.press("t")
        await pilot.pause(0.3)
        pane = app.query_one(TrainPane)
        pane.query_one("#f-preset", Select).value = "tiny"
        await pilot.pause(0.2)
        pane.query_one("#f-engine", Select).value = "numpy"
        pane.query_one("#f-train-nproc", Input).value = "2"
        await pilot.pause()
        assert "numpy engine trains in one process" in pane.errors["train.nproc"]
        assert pane.query_one("#train-start").disabled
        pane.query_one("#f-engine", Select).value = "torch"
        pane.query_one("#f-train-nproc", Input).value = "0"
        await pilot.pause()
        assert "from 1 to 65,536" in pane.errors["train.nproc"]
        pane.query_one("#f-train-nproc", Input).value = "2"
        await pilot.pause()
        assert pane.errors == {}
        await pilot.press("ctrl+r")
        await pilot.pause(0.5)
        kind, config = runner.calls[0]
        assert kind == "start" and config["train"]["nproc"] == 2 and config["engine"] == "torch"


def test_monitor_names_the_processes_and_the_global_batch() -> None:
    run = _run("20250109-100000-0001", "pair", "running", 5, None)
    run.config = {"train": {"nproc": 2, "batch_size": 16}}
    assert "2 processes × 8 rows = batch 16" in status_markup(RunCurves(run))
    run.config = {"train": {"nproc": 1, "batch_size": 16}}
    assert "processes" not in status_markup(RunCurves(run))
