"""The Runs pane says when run folders exist that the store does not list (an emptied
tangtui.db), instead of "No runs yet"."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, fake_corpus
from textual.widgets import Static

from tangtui.app import make_app
from tangtui.runs.store import Store


async def test_an_emptied_store_points_to_rebuild() -> None:
    store = Store()
    run = store.create_run({"engine": "numpy"}, name="kept")
    with store._tx() as db:
        db.execute("DELETE FROM runs WHERE id = ?", (run.id,))  # the folder stays
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                   runner=FakeRunner(store))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        empty = app.query_one("#runs-empty", Static)
        assert empty.display
        text = str(empty.render())
        assert "1 run folder under" in text and "tangtui rebuild" in text
        assert "No runs yet" not in text
