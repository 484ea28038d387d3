"""The Lab pane: lists experiments, draws their figures and verdicts, starts and deletes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab_fakes import fake_init_experiment
from textual.widgets import Input, Static
from textual.worker import WorkerCancelled

from tangtui.app import make_app
from tangtui.runs.store import Store
from tangtui.ui.lab_pane import FigurePlot, LabPane


async def settle(pilot, until=lambda app: True) -> None:  # noqa: ANN001
    for _ in range(100):
        if until(pilot.app):
            break
        await pilot.pause(0.05)
    for _ in range(5):
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause(0.1)


def reported(app) -> bool:  # noqa: ANN001
    panes = app.query(LabPane)
    return bool(panes) and panes.first().report is not None


async def test_lab_pane_shows_the_experiment_and_its_verdicts(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    exp_id = fake_init_experiment(store)
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await settle(pilot, reported)
        pane = app.query_one(LabPane)
        assert pane.selected == exp_id
        plot = app.query_one(FigurePlot)
        assert plot.figure is not None and plot.figure.name == "loss"
        verdicts = [v.holds for v in pane.report.verdicts]
        assert verdicts[0] is True and verdicts[1] is True  # zeros stay at 1, others below
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert plot.figure.name == "max_cosine"
        assert "zero init keeps units symmetric" in str(
            app.query_one("#lab-verdicts", Static).render())


async def test_lab_pane_refuses_bad_seeds_and_starts_an_experiment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "home")
    started: list[str] = []
    monkeypatch.setattr("tangtui.runs.lab_runner.spawn_experiment",
                        lambda s, exp_id, wait=10.0: started.append(exp_id) or 4242)
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        app.query_one("#lab-seeds", Input).value = "0"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert store.list_experiments() == [] and not started  # nothing created
        app.query_one("#lab-seeds", Input).value = "2"
        await pilot.press("ctrl+r")
        await settle(pilot, lambda a: bool(started))
        [exp] = store.list_experiments()
        assert started == [exp.id] and exp.kind == "init" and exp.seeds == 2
        assert exp.scale == "small"


async def test_lab_pane_deletes_after_confirmation(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    exp_id = fake_init_experiment(store)
    run_dirs = [store.run_dir(m.run_id) for m in store.experiment_members(exp_id)]
    app = make_app(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await settle(pilot, reported)
        await pilot.press("delete")
        await pilot.pause(0.2)
        await pilot.press("n")  # cancelled: nothing happens
        await settle(pilot)
        assert store.list_experiments()
        await pilot.press("delete")
        await pilot.pause(0.2)
        await pilot.press("y")
        await settle(pilot, lambda a: not store.list_experiments())
    assert store.list_experiments() == []
    assert not any(d.exists() for d in run_dirs) and store.list_runs() == []


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_lab_pane_snapshot(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    store = Store(tmp_path / "home")
    fake_init_experiment(store)

    async def run_before(pilot) -> None:  # noqa: ANN001
        await pilot.pause(0.2)
        await pilot.press("e")
        await settle(pilot, reported)
        for field in pilot.app.query(Input):
            field.cursor_blink = False
        await pilot.pause(0.2)

    assert snap_compare(make_app(store=store), terminal_size=size, run_before=run_before)
