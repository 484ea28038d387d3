"""The Runs pane: the table, open, compare, stop, resume and delete with a confirmation."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, FakeStore, fake_corpus
from textual.widgets import DataTable, TabbedContent

from tangtui.app import make_app
from tangtui.ui.confirm_screen import ConfirmScreen
from tangtui.ui.monitor_pane import MonitorPane
from tangtui.ui.runs_pane import RunsPane


def build(store: FakeStore | None = None):
    store = store or FakeStore()
    runner = FakeRunner(store)
    return make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                    runner=runner), store, runner


async def test_table_lists_runs_with_status_and_best_ppl() -> None:
    app, store, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        table = app.query_one("#runs-table", DataTable)
        assert table.row_count == 3
        rows = [table.get_row_at(i) for i in range(3)]
        assert [r[1] for r in rows] == ["live", "adam-lr3", "baseline"]
        assert [r[2] for r in rows] == ["running", "stopped", "finished"]
        assert rows[2][5] == "21.5"
        assert not app.query_one("#runs-empty").display


async def test_empty_store_shows_a_hint() -> None:
    app, _, _ = build(FakeStore(empty=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert app.query_one("#runs-empty").display


async def test_enter_opens_the_run_in_monitor() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        assert app.query_one(TabbedContent).active == "monitor"
        assert app.query_one(MonitorPane).run_ids == ["20250102-100000-bbbb"]


async def test_mark_two_runs_and_compare() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("space", "down", "down", "space", "v")
        await pilot.pause(0.4)
        monitor = app.query_one(MonitorPane)
        assert app.query_one(TabbedContent).active == "monitor"
        assert monitor.run_ids == ["20250103-100000-cccc", "20250101-100000-aaaa"]
        labels = set(app.query_one("#monitor-plot").series)
        assert labels == {"live train", "live test", "baseline train", "baseline test"}


async def test_delete_asks_first_and_refuses_a_live_run() -> None:
    app, store, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("x")  # the live run: refused
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and store.deleted == []
        await pilot.press("down", "x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert store.deleted == []
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause(0.3)
        assert store.deleted == ["20250102-100000-bbbb"]
        assert app.query_one("#runs-table", DataTable).row_count == 2


async def test_stop_and_resume_go_through_the_runner() -> None:
    app, store, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("s")
        await pilot.pause(0.3)
        assert runner.calls == [("stop", "20250103-100000-cccc")]
        await pilot.press("down", "u")
        await pilot.pause(0.3)
        assert runner.calls[-1] == ("resume", "20250102-100000-bbbb")
        assert app.query_one(RunsPane).runs[1].status == "running"


async def test_delete_is_refused_while_a_trainer_holds_the_lock() -> None:
    """The run looks stopped (a stale status) but a trainer holds its lock: like `tangtui rm`,
    the app's delete goes through the lock and refuses."""
    from tangtui.runs.lock import RunLock
    from tangtui.runs.store import Store

    store = Store()
    run = store.create_run({}, name="locked")
    store.update_run(run.id, status="stopped")
    poem = store.save_poem("春眠不觉晓", run.id, {"model": run.id})
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                   runner=FakeRunner(FakeStore(empty=True)))
    lock = RunLock(store.run_dir(run.id))
    lock.acquire()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await pilot.pause(0.5)
            assert store.find_run(run.id) is not None
            notes = [n.message for n in app._notifications]
            assert any("locked is training" in n and "stop it first" in n for n in notes), notes
            lock.release()
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause(0.5)
            assert store.find_run(run.id) is None
            assert app.query_one("#runs-table", DataTable).row_count == 0
    finally:
        lock.release()
        store.close()
    assert [(p.id, p.run_id, p.settings["run_name"]) for p in Store().list_poems()] == [
        (poem.id, None, "locked")]
