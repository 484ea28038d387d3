"""The Train pane: inline validation, presets, start (through the runner), stop."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, FakeStore, _run, fake_corpus
from textual.widgets import Input, Select, TabbedContent

from tangtui.app import make_app
from tangtui.ui.monitor_pane import MonitorPane
from tangtui.ui.train_pane import TrainPane


def build():
    store = FakeStore()
    runner = FakeRunner(store)
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(), runner=runner)
    return app, store, runner


async def open_train(pilot) -> TrainPane:
    await pilot.pause()
    await pilot.press("t")
    await pilot.pause(0.2)
    return pilot.app.query_one(TrainPane)


async def test_bad_values_show_inline_and_block_start() -> None:
    app, _, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_train(pilot)
        assert pane.errors == {}
        pane.query_one("#f-model-hidden-dim", Input).value = "0"
        pane.query_one("#f-optim-lr", Input).value = "fast"
        await pilot.pause()
        assert set(pane.errors) == {"model.hidden_dim", "optim.lr"}
        err = str(pane.query_one("#f-model-hidden-dim-err").render())
        assert "from 1 to 8,192" in err and pane.query_one("#f-model-hidden-dim-err").display
        assert "expected float" in str(pane.query_one("#f-optim-lr-err").render())
        assert pane.query_one("#train-start").disabled
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert runner.calls == []
        pane.query_one("#f-model-hidden-dim", Input).value = "64"
        pane.query_one("#f-optim-lr", Input).value = "0.003"
        await pilot.pause()
        assert pane.errors == {} and not pane.query_one("#train-start").disabled


async def test_preset_fills_the_form_and_start_launches_a_run() -> None:
    app, store, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_train(pilot)
        pane.query_one("#f-preset", Select).value = "tiny"
        await pilot.pause(0.2)
        assert pane.query_one("#f-model-hidden-dim", Input).value == "16"
        assert pane.query_one("#f-corpus-forms", Input).value == "wujue"
        pane.query_one("#f-name", Input).value = "my-run"
        pane.query_one("#f-optim-name", Select).value = "rmsprop"
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause(0.5)
        kind, config = runner.calls[0]
        assert kind == "start"
        assert config["model"]["hidden_dim"] == 16 and config["optim"]["name"] == "rmsprop"
        assert config["train"]["steps"] == 30  # from the preset, not shown in the form
        assert store.list_runs()[0].name == "my-run"
        assert app.query_one(TabbedContent).active == "monitor"
        assert app.query_one(MonitorPane).run_ids == [store.list_runs()[0].id]


async def test_run_name_is_checked_inline_in_the_apps_words() -> None:
    app, store, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_train(pilot)
        name = pane.query_one("#f-name", Input)
        name.value = "baseline"  # taken
        await pilot.pause()
        err = pane.query_one("#f-name-err")
        assert err.display
        assert str(err.render()) == "a run named baseline exists; choose another name"
        assert pane.query_one("#train-start").disabled
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert runner.calls == []
        assert not any("--name" in n.message for n in app._notifications)
        name.value = "bad name!"
        await pilot.pause()
        text = str(err.render())
        assert "letters, digits" in text and "invalid run name" not in text
        name.value = "fresh"
        await pilot.pause()
        assert not err.display and pane.errors == {}


async def test_a_name_taken_since_the_form_looked_is_refused() -> None:
    app, store, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_train(pilot)
        pane.query_one("#f-name", Input).value = "late"
        await pilot.pause()
        store.add_run(_run("20250110-100000-dddd", "late", "running", 0, None), 0)  # meanwhile
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert runner.calls == []
        assert any(n.message == "a run named late exists; choose another name"
                   for n in app._notifications)


async def test_labels_never_run_into_their_values() -> None:
    from rich.cells import cell_len
    from textual.widgets import Label

    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_train(pilot)
        for pane in ("train", "compose"):
            await pilot.press(pane[0] if pane == "train" else "p")
            await pilot.pause(0.2)
            labels = list(app.query(f"#{pane}-pane .field-label").results(Label))
            assert len(labels) > 10
            for label in labels:  # a gap of at least one cell after the longest label
                text = str(label.render())
                assert label.content_size.width >= cell_len(text), text  # never cut
                assert label.size.width >= cell_len(text) + 1, text


async def test_the_form_shares_the_launch_check_device_and_memory() -> None:
    from tangtui.runs.launch_check import Machine

    app, _, runner = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_train(pilot)
        for _ in range(40):  # the probe of this machine runs in a worker
            if pane.machine is not None:
                break
            await pilot.pause(0.05)
        assert pane.machine is not None
        pane.machine = Machine(torch=False, cuda=0, mps=False, ram_free=10**9)
        pane.query_one("#f-engine", Select).value = "torch"
        await pilot.pause()
        assert "needs PyTorch" in pane.errors["engine"]
        assert "PyTorch" in str(pane.query_one("#f-engine-err").render())
        pane.machine = Machine(torch=True, cuda=0, mps=False, ram_free=10**9)
        pane.query_one("#f-train-device", Input).value = "cuda"
        await pilot.pause()
        assert set(pane.errors) == {"train.device"}
        pane.query_one("#f-train-device", Input).value = "cpu"
        pane.query_one("#f-train-batch-size", Input).value = "4096"
        await pilot.pause()
        assert "of RAM free" in pane.errors["train.batch_size"]
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert runner.calls == [] and "GB to train" in str(
            pane.query_one("#train-summary").render())
