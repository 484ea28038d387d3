"""Compose without traps: no 七言 line wraps at 80x24, pane keys never type into a field, esc
leaves any control, the chosen character's probability and rank, toggles say their state."""

from __future__ import annotations

from rich.cells import cell_len
from test_app_compose import build, open_compose
from textual.widgets import Checkbox, Input, Select

from tangtui.ui.compose_pane import ComposePane
from tangtui.ui.poem_view import PoemView


async def test_a_qilv_never_wraps_at_80x24_and_candidates_go_under_the_poem() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        pane = app.query_one(ComposePane)
        pane.query_one("#c-form", Select).value = "qilv"
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        view = app.query_one(PoemView)
        assert len(view.poem.lines) == 8 and pane.has_class("-narrow")
        widest = max(cell_len(line) for line in view.poem.lines)
        assert view.content_region.width >= widest  # every line fits on one row
        assert view.content_region.height >= 8
        cands = app.query_one("#compose-candidates")
        assert cands.region.y >= view.region.bottom  # under the poem, not beside it


async def test_wide_terminals_keep_the_candidates_beside_the_poem() -> None:
    app, _, _ = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_compose(pilot)
        pane = app.query_one(ComposePane)
        assert not pane.has_class("-narrow")
        assert app.query_one("#compose-candidates").region.x >= \
            app.query_one(PoemView).region.right


async def test_escape_leaves_a_drop_down_and_a_toggle() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        form = app.query_one("#c-form", Select)
        form.focus()
        await pilot.press("enter")  # open the drop-down
        await pilot.pause()
        assert form.expanded
        await pilot.press("escape")
        await pilot.pause()
        assert not form.expanded
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.focused, PoemView)
        app.query_one("#c-rhyme", Checkbox).focus()
        await pilot.press("escape", "t")
        await pilot.pause()
        assert app.query_one("TabbedContent").active == "train"
        fields = app.query_one(ComposePane).query(Input)
        assert all(f.value in ("", "0.8", "0", "0.95", "4") for f in fields)  # nothing typed


async def test_the_chosen_characters_probability_and_rank_are_shown() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        text = str(app.query_one("#compose-candidates").render())
        assert "chosen: 60.0% · rank 1" in text


async def test_the_rhyme_toggle_says_on_or_off() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        box = app.query_one("#c-rhyme", Checkbox)
        assert str(box.label).endswith(": off")
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert box.value and str(box.label).endswith(": on")
