"""The Compose pane: generate with one key, candidates at a position, history, save, export."""

from __future__ import annotations

from app_fakes import FakePoet, FakeStore, fake_corpus
from textual.widgets import Input, Select

from tangtui.app import make_app
from tangtui.ui.backends import STARTER
from tangtui.ui.compose_pane import ComposePane
from tangtui.ui.poem_view import PoemView

BASELINE = "20250101-100000-aaaa"  # the newest finished run with a checkpoint in FakeStore


def build(tmp_path=None, generator=None):
    store = FakeStore(root=tmp_path)
    poet = generator or FakePoet()
    return make_app(store=store, corpus_loader=fake_corpus, generator=poet), store, poet


async def open_compose(pilot) -> None:
    await pilot.pause()
    await pilot.press("p")
    await pilot.pause(0.2)


async def test_type_start_words_and_generate_with_enter() -> None:
    app, _, poet = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        await pilot.press("tab", "月", "enter")  # tab enters Start (the pane rests on Model)
        await pilot.pause(0.3)
        poem = app.query_one(PoemView).poem
        assert poem is not None and poem.text.startswith("月")
        req = poet.requests[-1]
        assert (req.model, req.start, req.form, req.temperature) == (BASELINE, "月", "wujue", 0.8)
        assert "月" in str(app.query_one("#compose-candidates").render())


async def test_controls_reach_the_request() -> None:
    app, _, poet = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        pane = app.query_one(ComposePane)
        pane.query_one("#c-acrostic", Input).value = "春夏秋冬"
        pane.query_one("#c-form", Select).value = "qijue"
        pane.query_one("#c-temperature", Input).value = "0.5"
        pane.query_one("#c-top-k", Input).value = "20"
        pane.query_one("#c-seed", Input).value = "42"
        pane.query_one("#c-rhyme").value = True
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        req = poet.requests[-1]
        assert (req.acrostic, req.form, req.temperature, req.top_k, req.seed, req.rhyme) == (
            "春夏秋冬", "qijue", 0.5, 20, 42, True)
        lines = app.query_one(PoemView).poem.lines
        assert [ln[0] for ln in lines] == list("春夏秋冬")


async def test_cursor_moves_over_candidates_and_history_keeps_poems() -> None:
    app, _, _ = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        pane = app.query_one(ComposePane)
        assert len(pane.history) == 2 and pane.current == 1
        view = app.query_one(PoemView)
        view.focus()
        await pilot.press("right", "right", "down")
        await pilot.pause()
        assert view.cursor == 8  # line 2, column 3
        cands = str(app.query_one("#compose-candidates").render())
        assert view.poem.text[8] in cands and "60.0%" in cands
        pane.query_one("#compose-history").highlighted = 0
        await pilot.pause()
        assert pane.current == 0 and view.cursor == 0


async def test_save_and_export(tmp_path) -> None:
    app, store, _ = build(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        await pilot.press("ctrl+s")  # nothing yet: a warning, not a crash
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert len(store.poems) == 1 and store.poems[0].settings["form"] == "wujue"
        await pilot.press("ctrl+o")  # asks where, offering the store's exports folder
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause(0.3)
        pane = app.query_one(ComposePane)
        assert pane.exported == tmp_path / "exports" / "poems.txt"
        assert store.poems[0].text[:5] in pane.exported.read_text(encoding="utf-8")


async def test_bad_number_and_generator_error_become_notifications() -> None:
    class Failing(FakePoet):
        def generate(self, request):
            from engine.decode import DecodeError

            raise DecodeError("'龘' in the start words is not in the model's vocabulary")

    app, _, _ = build(generator=Failing())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        pane = app.query_one(ComposePane)
        pane.query_one("#c-temperature", Input).value = "hot"
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert any("temperature must be a number" in n.message for n in app._notifications)
        pane.query_one("#c-temperature", Input).value = "0.8"
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        assert any("not in the model's vocabulary" in n.message for n in app._notifications)
        assert app.is_running and not pane.busy
        await pilot.press("ctrl+g")  # the same mistake again is said again
        await pilot.pause(0.3)
        said = [n for n in app._notifications if "not in the model's vocabulary" in n.message]
        assert len(said) == 2


async def test_model_defaults_to_the_newest_finished_run_until_the_user_picks() -> None:
    app, store, poet = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        select = app.query_one("#c-model", Select)
        assert select.value == BASELINE  # as `tangtui generate` without --run
        select.value = STARTER  # the user's choice
        await pilot.pause()
        await pilot.press("escape", "r", "p")  # back to Compose: the models are listed again
        await pilot.pause(0.3)
        assert select.value == STARTER
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        assert poet.requests[-1].model == STARTER


async def test_model_is_the_starter_without_a_finished_run() -> None:
    store = FakeStore()
    store.runs = [r for r in store.runs if r.status != "finished"]
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        select = app.query_one("#c-model", Select)
        assert select.value == STARTER and len(select._options) == 3  # stopped/live ones offered


async def test_best_of_is_on_by_default_and_the_score_is_shown() -> None:
    app, _, poet = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compose(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        assert poet.requests[-1].best_of == 4
        assert app.query_one("#compose-candidates").border_subtitle == \
            "best of 4 · log p -3.25/char"
        pane = app.query_one(ComposePane)
        pane.query_one("#c-best-of", Input).value = "1"
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        assert poet.requests[-1].best_of == 1
        assert app.query_one("#compose-candidates").border_subtitle == "log p -3.25/char"
