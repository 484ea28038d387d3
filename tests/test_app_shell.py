"""The app frame: pane keys, help, themes, escape, palette commands, errors as notifications."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, FakeStore, fake_corpus
from textual.widgets import Input, TabbedContent

from tangtui.app import TangtuiApp, make_app
from tangtui.ui.help_screen import HelpScreen


def build(**kw) -> TangtuiApp:
    store = kw.pop("store", None) or FakeStore()
    return make_app(store=store, corpus_loader=kw.pop("corpus_loader", fake_corpus),
                    generator=kw.pop("generator", FakePoet()),
                    runner=kw.pop("runner", FakeRunner(store)), **kw)


async def test_single_keys_switch_panes() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "runs"
        for key, pane in [("t", "train"), ("m", "monitor"), ("c", "corpus"), ("r", "runs")]:
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == pane
        await pilot.press("p")
        await pilot.pause()
        assert tabs.active == "compose"
        assert isinstance(app.focused, Input) and app.focused.id == "c-start"
        await pilot.press("m")  # typed into the field, not a pane switch
        assert tabs.active == "compose" and app.focused.value == "m"
        await pilot.press("escape", "c")
        await pilot.pause()
        assert tabs.active == "corpus"


async def test_help_screen_lists_keys_and_closes() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for expected in ("Compose", "Generate", "Log y", "Delete", "Quit"):
            assert expected in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_theme_toggle_and_search_key() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        await pilot.press("d")
        assert app.theme == "textual-light"
        await pilot.press("d")
        assert app.theme == "textual-dark"
        await pilot.press("slash")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "corpus"
        assert app.focused is not None and app.focused.id == "corpus-search"


async def test_palette_offers_pane_commands() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Compose pane", "Monitor pane", "Light/dark theme", "Generate a poem",
                      "Start training run", "Toggle log y axis"):
            assert title in titles


async def test_broken_store_is_a_notification_not_a_crash() -> None:
    def broken():
        from tangtui.store_rows import StoreError

        raise StoreError("cannot use the run store at /nowhere: Permission denied")

    app = make_app(store=broken, corpus_loader=fake_corpus, generator=FakePoet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("m")
        await pilot.pause(0.2)
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("Permission denied" in m for m in messages)
