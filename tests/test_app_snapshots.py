"""Snapshots of every pane at 80x24 and 120x40, from seeded fakes (no clocks, no randomness).

Update after an intended UI change with ``pytest tests/test_app_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from app_fakes import FakePoet, FakeRunner, FakeStore, fake_corpus
from textual.widgets import Input
from textual.worker import WorkerCancelled

from tangtui.app import TangtuiApp, make_app

SIZES = [(80, 24), (120, 40)]


def build() -> TangtuiApp:
    store = FakeStore()
    return make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                    runner=FakeRunner(store))


def steps(*keys: str, until: Callable[[TangtuiApp], bool] = lambda app: True):
    """Press ``keys``, then wait until the workers delivered (``until``) and all is idle."""
    async def run_before(pilot) -> None:
        await pilot.pause(0.2)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)
        for _ in range(100):
            if until(pilot.app):
                break
            await pilot.pause(0.05)
        for field in pilot.app.query(Input):
            field.cursor_blink = False
        for _ in range(5):  # a timer's exclusive poll may cancel one in flight: wait again
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                continue
        await pilot.pause(0.2)
    return run_before


def has(selector: str, attr: str) -> Callable[[TangtuiApp], bool]:
    def check(app: TangtuiApp) -> bool:
        found = app.query(selector)
        return bool(found) and bool(getattr(found.first(), attr))
    return check


SCENES = {
    "runs": steps(until=has("#runs-table", "row_count")),
    "train": steps("t"),
    "monitor": steps("m", until=has("MonitorPane", "curves")),
    "corpus": steps("c", "down", until=has("CorpusPane", "results")),
    "corpus_stats": steps("c", "s", until=has("CorpusPane", "stats")),
    "compose": steps("p", "tab", "月", "enter", "escape", until=has("ComposePane", "history")),
    "poems": steps("p", "ctrl+g", "ctrl+s", "tab", "春", "enter", "ctrl+s", "escape", "o",
                   until=has("PoemsPane", "poems")),
    "help": steps("question_mark"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", list(SCENES))
def test_pane_snapshot(snap_compare, scene: str, size: tuple[int, int]) -> None:
    assert snap_compare(build(), terminal_size=size, run_before=SCENES[scene])
