"""禁则: closing punctuation never starts a wrapped row, in the breaker and in the app."""

from __future__ import annotations

from app_fakes import FakePoet, FakeRunner, FakeStore, fake_corpus
from rich.cells import cell_len
from test_app_monitor import LIVE, open_monitor

from tangtui.app import make_app
from tangtui.runs.rows import Sample
from tangtui.ui.kinsoku import NO_START, break_offsets

POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


def rows(text: str, width: int) -> list[str]:
    cuts = [0, *break_offsets(text, width), len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def test_a_mark_goes_down_with_the_character_before_it() -> None:
    assert rows(POEM, 10) == ["床前明月", "光，疑是地", "上霜。举头", "望明月，低", "头思故乡。"]
    assert rows(POEM, 12) == ["床前明月光，", "疑是地上霜。", "举头望明月，", "低头思故乡。"]
    for width in range(4, 30):
        got = rows(POEM, width)
        assert "".join(got) == POEM and all(cell_len(r) <= width for r in got)
        assert not any(r[0] in NO_START for r in got), (width, got)
    assert rows("他说「春来了」。", 6) == ["他说", "「春来", "了」。"]  # 「 never ends a row
    assert rows("step 1,000 of 8,192 steps", 12) == ["step 1,000 ", "of 8,192 ", "steps"]


async def test_monitor_samples_never_start_a_row_with_a_mark() -> None:
    store = FakeStore()
    store.samples[LIVE] = [Sample(100, "月", "月明松下房栊静，" * 3 + "春风吹尽满城花。" * 3)]
    app = make_app(store=store, corpus_loader=fake_corpus, generator=FakePoet(),
                   runner=FakeRunner(store))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        await pilot.pause(0.3)
        samples = app.query_one("#monitor-samples")
        width = samples.content_size.width
        shown = samples.render().plain.split("\n")
        assert len(shown) > 3 and all(cell_len(r) <= width for r in shown)
        assert not any(r and r[0] in NO_START for r in shown), shown
