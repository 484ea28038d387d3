"""The 平仄 grid in the Corpus and Compose panes, and Compose's Metre control."""

from __future__ import annotations

from app_fakes import FakePoet, FakeStore, fake_corpus
from textual.widgets import Select

from tangtui.app import make_app
from tangtui.ui.corpus_pane import CorpusPane
from tangtui.ui.metre_grid import MetreGrid


def build():
    poet = FakePoet()
    return make_app(store=FakeStore(), corpus_loader=fake_corpus, generator=poet), poet


async def wait_grid(pilot, grid: MetreGrid, present: bool = True) -> None:
    for _ in range(100):  # the first check loads the 平水韵 data in a worker
        await pilot.pause(0.05)
        if (grid.report is not None) == present and not any(
                w.group == "metre-grid" and not w.is_finished for w in grid.app.workers):
            break
    await pilot.pause(0.1)


async def test_corpus_shows_the_grid_of_a_regulated_poem_with_its_faults() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        grid = app.query_one("#corpus-metre", MetreGrid)
        await wait_grid(pilot, grid)  # 静夜思 first
        assert grid.report is not None and not grid.report.passed and grid.display
        shown = str(grid.render())
        assert "平仄仄仄平" in shown and "失黏" in shown and "下平七阳" in shown
        pane = app.query_one(CorpusPane)
        pane.show_poem([p.title for p in pane.results].index("登鹳雀楼"))
        await wait_grid(pilot, grid)
        assert grid.report is not None and grid.report.passed
        pane.show_poem([p.title for p in pane.results].index("春望"))
        await wait_grid(pilot, grid)
        assert grid.report is not None and grid.report.form == "wulv"
        app.query_one("#corpus-form", Select).value = "other"
        await wait_grid(pilot, grid, present=False)
        assert not grid.display  # no regulated poem, no grid


async def test_compose_metre_control_and_grid_under_the_poem() -> None:
    app, poet = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause(0.2)
        app.query_one("#c-metre", Select).value = "strict"
        await pilot.press("ctrl+g")
        grid = app.query_one("#compose-metre", MetreGrid)
        await wait_grid(pilot, grid)
        assert poet.requests[-1].metre == "strict"
        assert grid.report is not None and grid.report.lines[0] == "明月照高楼"
        assert "五言绝句" in str(grid.render())
        app.query_one("#c-form", Select).value = "free"
        await pilot.press("ctrl+g")
        await wait_grid(pilot, grid, present=False)
        assert not grid.display
