"""The Poems pane: the saved poems listed with their model, viewed, copied, deleted (asked
first) and exported to a path the user names."""

from __future__ import annotations

import json
import re

from app_fakes import FakePoet, FakeStore, fake_corpus
from textual.widgets import DataTable, Input

from tangtui.app import make_app
from tangtui.ui.confirm_screen import ConfirmScreen
from tangtui.ui.poems_pane import PoemsPane

BASELINE = "20250101-100000-aaaa"
QILV = "日照香炉生紫烟，遥看瀑布挂前川。飞流直下三千尺，疑是银河落九天。"


def build(tmp_path=None, poems: bool = True):
    store = FakeStore(root=tmp_path)
    if poems:
        store.save_poem("明月照高楼，清风入我怀。孤云随雁去，长夜待春来。", None,
                        {"form": "wujue", "temperature": 0.8, "seed": 7})
        store.save_poem(QILV, BASELINE, {"form": "qijue", "seed": 3, "rhyme": True})
        store.save_poem("春风吹尽满城花。", None, {"run_name": "gone", "model": "x"})
    return make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet()), store


async def open_poems(pilot) -> PoemsPane:
    await pilot.pause()
    await pilot.press("o")
    for _ in range(40):
        await pilot.pause(0.05)
        pane = pilot.app.query(PoemsPane)
        if pane and pane.first().poems:
            break
    return pilot.app.query_one(PoemsPane)


def view_text(app) -> str:
    return str(app.query_one("#poems-view").render())


async def test_the_list_names_each_model_and_shows_the_poem() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_poems(pilot)
        table = app.query_one("#poems-table", DataTable)
        assert app.focused is table and table.row_count == 3
        models = [table.get_row_at(i)[2] for i in range(3)]
        assert models == ["gone (deleted)", "baseline", "starter"]  # newest first
        await pilot.press("down")
        await pilot.pause()
        text = view_text(app)
        assert "日照香炉生紫烟，遥看瀑布挂前川。" in text and "七言绝句" in text
        assert all(re.search(p, text) for p in (r"model +baseline", r"seed +3", r"rhyme +on"))
        await pilot.press("enter")  # into the poem; esc goes back to the list
        assert app.focused is app.query_one("#poems-view-box")
        await pilot.press("escape")
        assert app.focused is table and pane.selected().id == 2


async def test_copy_puts_the_poem_on_the_clipboard_and_says_so() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_poems(pilot)
        await pilot.press("down", "y")
        await pilot.pause()
        assert app.clipboard == "日照香炉生紫烟，遥看瀑布挂前川。\n飞流直下三千尺，疑是银河落九天。"
        assert any("Copied poem #2" in str(n.message) for n in app._notifications)


async def test_delete_asks_first_and_no_keeps_the_poem() -> None:
    app, store = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_poems(pilot)
        await pilot.press("down", "x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert len(store.poems) == 3
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        for _ in range(20):
            await pilot.pause(0.05)
            if len(pane.poems) == 2:
                break
        assert [p.id for p in store.poems] == [1, 3] and [p.id for p in pane.poems] == [3, 1]
        assert any("Deleted poem #2" in str(n.message) for n in app._notifications)


async def test_export_writes_where_the_user_says(tmp_path) -> None:
    app, _ = build(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_poems(pilot)
        for name in ("mine/poems.json", "poems.txt"):
            await pilot.press("ctrl+o")
            await pilot.pause()
            field = app.screen.query_one(Input)
            assert field.value == str(tmp_path / "exports" / "poems.txt")  # the default
            field.value = str(tmp_path / name)
            await pilot.press("enter")
            for _ in range(20):
                await pilot.pause(0.05)
                if pane.exported == tmp_path / name:
                    break
        data = json.loads((tmp_path / "mine" / "poems.json").read_text(encoding="utf-8"))
        assert [p["id"] for p in data] == [1, 2, 3] and data[1]["lines"][1].endswith("九天。")
        text = (tmp_path / "poems.txt").read_text(encoding="utf-8")
        assert "# 2 ·" in text and "飞流直下三千尺，疑是银河落九天。\n" in text


async def test_no_poems_says_how_to_save_one() -> None:
    app, _ = build(poems=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.pause(0.3)
        assert app.query_one("#poems-empty").display
        await pilot.press("y", "x")  # nothing to copy or delete: a warning, no dialog
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("No saved poem" in str(n.message) for n in app._notifications)
