"""Small traps: a poem saved twice, toasts that name runs by id, the palette's duplicates."""

from __future__ import annotations

from collections import Counter

from app_fakes import FakePoet, FakeRunner, FakeStore, fake_corpus
from test_app_monitor import LIVE, open_monitor
from textual.binding import Binding
from textual.widgets import TabbedContent

from tangtui.app import PANES, make_app, pane_class


def build():
    store = FakeStore()
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                   runner=FakeRunner(store))
    return app, store


async def test_a_poem_is_saved_once() -> None:
    app, store = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await pilot.pause(0.2)
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert len(store.poems) == 1
        assert any("Already saved as poem #1" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+g")  # the same poem again (the fake poet is deterministic)
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert len(store.poems) == 1 and app.query_one("ComposePane").saved == {0: 1, 1: 1}


async def test_toasts_name_runs_by_name() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        await pilot.press("s")
        await pilot.pause(0.3)
        texts = [str(n.message) for n in app._notifications]
        assert "Stopping live" in texts and not any(LIVE in t for t in texts)


async def test_the_palette_lists_each_command_once() -> None:
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = Counter(c.title for c in app.get_system_commands(app.screen))
        assert titles and max(titles.values()) == 1


def test_no_pane_shadows_a_pane_key() -> None:
    """A pane's own keys never take a letter that switches panes (the Monitor's "e" once
    swallowed the Lab's key, its "o" would swallow the Poems pane's)."""
    pane_keys = {key for _, key, _, _ in PANES}
    for pid, _, _, _ in PANES:
        bindings = [b for c in pane_class(pid).__mro__ for b in vars(c).get("BINDINGS", [])]
        assert bindings, pid
        for binding in bindings:
            keys = set(binding.key.split(",")) if isinstance(binding, Binding) else {binding[0]}
            assert not keys & pane_keys, (pid, keys & pane_keys)


async def test_each_panes_keys_show_in_the_footer_and_fit_80_columns() -> None:
    from textual.widgets._footer import FooterKey

    hidden_ok = {"move_cursor", "weight", "unzoom", "clear_cursor"}  # arrows, [ ], Z, esc
    app, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        for pid, key in [("runs", "r"), ("train", "t"), ("monitor", "m"), ("corpus", "c"),
                         ("compose", "p"), ("poems", "o")]:  # the Lab's: its snapshots
            bindings = [b for c in pane_class(pid).__mro__ for b in vars(c).get("BINDINGS", [])]
            assert all(b.action.split("(")[0] in hidden_ok for b in bindings if not b.show)
            expected = {b.description for b in bindings if b.show} | {"Help", "Quit"}
            await pilot.press(key)
            tabs = app.query_one(TabbedContent)
            for _ in range(600):  # a pane's first showing imports and mounts it (seconds when busy)
                if tabs.active == pid:
                    break
                await pilot.pause(0.05)
            assert tabs.active == pid, (pid, tabs.active)
            shown: dict = {}
            for _ in range(120):  # the footer is rebuilt after the focus moved (a pane's first
                # showing imports and mounts it: seconds on a busy machine)
                await pilot.pause(0.05)
                shown = {k.description: k for k in app.query(FooterKey)}
                if expected <= set(shown):
                    break
            assert expected <= set(shown), (pid, expected - set(shown))
            assert all(k.region.right <= 80 for k in shown.values()), (pid, list(shown))
