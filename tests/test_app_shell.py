"""The app frame: pane keys, help, themes, escape, palette commands, errors as notifications."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, FakeStore, fake_corpus
from textual.widgets import Input, TabbedContent
from textual.worker import WorkerFailed

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
        assert app.focused.id == "c-model"  # no text field: letters still switch panes
        await pilot.press("t")
        await pilot.pause()
        assert tabs.active == "train"
        assert app.query_one("#c-start", Input).value == ""  # "p" then "t" typed nothing
        await pilot.press("p", "tab", "m")  # tab enters Start: now letters are text
        await pilot.pause()
        assert tabs.active == "compose" and app.focused.id == "c-start"
        assert app.focused.value == "m"
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
        for expected in ("Compose", "Generate", "Log", "Delete", "Quit", "Copy"):
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
        from tangtui.runs.rows import StoreError

        raise StoreError("cannot use the run store at /nowhere: Permission denied")

    app = make_app(store=broken, corpus_loader=fake_corpus, generator=FakePoet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("m")
        await pilot.pause(0.2)
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("Permission denied" in m for m in messages)


def in_pane(app: TangtuiApp, pane_id: str) -> bool:
    """The focus is on a widget of that pane that is not a text field."""
    focused = app.focused
    return (focused is not None and not isinstance(focused, Input)
            and app.pane(pane_id) in [focused, *focused.ancestors])


async def test_escape_stays_in_the_pane_so_its_keys_work() -> None:
    store = FakeStore()
    poet, runner = FakePoet(), FakeRunner(store)
    app = build(store=store, generator=poet, runner=runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("p", "tab", "月", "escape")
        await pilot.pause()
        assert in_pane(app, "compose")
        assert "ctrl+g" in app.active_bindings  # shown in the footer
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        assert poet.requests and poet.requests[-1].start == "月"
        await pilot.press("t")
        await pilot.pause(0.2)
        app.pane("train").focus_now(app.query_one("#f-name", Input))
        await pilot.press(*"esc-run", "escape")
        assert in_pane(app, "train") and "ctrl+r" in app.active_bindings
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert [c for c, _ in runner.calls] == ["start"]
        assert store.list_runs()[0].name == "esc-run"
        await pilot.press("c")
        await pilot.pause(0.3)
        await pilot.press("slash", *"李白", "escape")
        assert in_pane(app, "corpus")
        await pilot.press("s")
        await pilot.pause()
        assert app.query_one("#corpus-switch").current == "corpus-stats"


async def test_a_failing_poller_is_said_once() -> None:
    def broken():
        from tangtui.runs.rows import StoreError

        raise StoreError("cannot use the run store at /nowhere: Permission denied")

    app = make_app(store=broken, corpus_loader=fake_corpus, generator=FakePoet())
    async with app.run_test(size=(80, 24)) as pilot:
        runs = app.pane("runs")
        for _ in range(3):
            try:
                await runs.refresh_runs().wait()  # type: ignore[attr-defined]
            except WorkerFailed:
                pass
            await pilot.pause()
        said = [n for n in app._notifications if "Permission denied" in n.message]
        assert len(said) == 1
