"""The Corpus pane: search, form filter, poem view with the bio, statistics."""

from __future__ import annotations

import pytest
from app_fakes import FakePoet, FakeStore, fake_corpus
from textual.widgets import DataTable, Select

from tangtui.app import make_app
from tangtui.ui.corpus_pane import CorpusPane


def build():
    return make_app(store=FakeStore(), corpus_loader=fake_corpus, generator=FakePoet())


async def open_corpus(pilot) -> CorpusPane:
    await pilot.pause()
    await pilot.press("c")
    await pilot.pause(0.3)
    return pilot.app.query_one(CorpusPane)


async def test_lists_then_searches_by_author_title_and_text() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_corpus(pilot)
        assert len(pane.results) == 6
        await pilot.press("slash", *"李白", "enter")
        await pilot.pause(0.3)
        assert [p.title for p in pane.results] == ["静夜思", "望庐山瀑布"]
        assert app.focused is app.query_one("#corpus-results", DataTable)
        view = str(app.query_one("#corpus-poem").render())
        bio = str(app.query_one("#corpus-bio").render())
        assert "床前明月光" in view and "青莲居士" in bio  # the poem and the author's bio
        await pilot.press("down")
        await pilot.pause()
        assert "飞流直下三千尺" in str(app.query_one("#corpus-poem").render())
        pane.query_one("#corpus-search").value = "花落"
        await pilot.pause(0.5)  # debounced live search
        assert [p.title for p in pane.results] == ["春晓"]


async def test_form_filter() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_corpus(pilot)
        pane.query_one("#corpus-form", Select).value = "wulv"
        await pilot.pause(0.3)
        assert [p.title for p in pane.results] == ["春望"]


async def test_no_match_is_said() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_corpus(pilot)
        await pilot.press("slash", *"不存在", "enter")
        await pilot.pause(0.3)
        assert pane.results == []
        assert "No poem matches" in str(app.query_one("#corpus-poem").render())


async def test_statistics_are_plotted() -> None:
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_corpus(pilot)
        await pilot.press("s")
        await pilot.pause(0.4)
        assert pane.stats is not None and pane.stats["poems"] == 6
        forms = app.query_one("#plot-forms")
        assert dict(zip(forms.labels, forms.values, strict=True))["wujue"] == 4
        chars = app.query_one("#plot-chars")
        assert len(chars.labels) == 10 and chars.values == sorted(chars.values)
        await pilot.press("s")
        await pilot.pause()
        assert app.query_one("#corpus-switch").current == "corpus-browse"


async def test_corpus_failure_is_a_notification() -> None:
    def broken(script: str):
        from engine.corpus import CorpusError

        raise CorpusError("corpus file missing")

    app = make_app(store=FakeStore(), corpus_loader=broken, generator=FakePoet())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_corpus(pilot)
        assert app.is_running
        assert any("corpus file missing" in n.message for n in app._notifications)


def bar_cells(line: str) -> float:
    """The length of a text bar in cells (a partial block counts its eighths)."""
    partial = " ▏▎▍▌▋▊▉"
    return line.count("█") + sum(partial.index(c) / 8 for c in line if c in partial[1:])


async def test_top_character_bars_are_proportional_at_80x24() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_corpus(pilot)
        await pilot.press("s")
        await pilot.pause(0.4)
        chars = app.query_one("#plot-chars")
        chars.labels, chars.values = ["山", "人", "不"], [11_000, 23_136, 29_992]
        chars.replot()
        await pilot.pause()
        lines = str(chars.render()).split("\n")
        assert lines[0].strip() == "Top characters"
        rows = {ln[0]: ln for ln in lines[1:]}
        assert list(rows) == ["不", "人", "山"]  # the most frequent on top
        assert rows["不"].rstrip().endswith("29,992") and rows["人"].rstrip().endswith("23,136")
        room = bar_cells(rows["不"])
        assert bar_cells(rows["人"]) / room == pytest.approx(23_136 / 29_992, abs=1 / (8 * room))
        assert bar_cells(rows["山"]) / room == pytest.approx(11_000 / 29_992, abs=1 / (8 * room))


async def test_submitting_a_search_from_the_statistics_shows_the_results() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_corpus(pilot)
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("slash", *"杜甫", "enter")
        await pilot.pause(0.3)
        assert app.query_one("#corpus-switch").current == "corpus-browse"
        assert [p.title for p in pane.results] == ["春望"]
        assert app.focused is app.query_one("#corpus-results", DataTable)


async def test_form_key_opens_the_form_list() -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_corpus(pilot)
        await pilot.press("s", "f")
        await pilot.pause()
        select = pane.query_one("#corpus-form", Select)
        assert select.expanded and select.has_focus_within
        await pilot.press("down", "down", "enter")  # 五绝, then 七绝
        await pilot.pause(0.3)
        assert select.value == "qijue" and not select.expanded
        assert app.query_one("#corpus-switch").current == "corpus-browse"
        assert {p.form for p in pane.results} == {"qijue"}


async def test_the_forms_chart_has_integer_ticks_at_80x24() -> None:
    import re

    from tangtui.ui.plots import count_ticks

    assert count_ticks(4, 3) == [0, 2, 4] and count_ticks(29_992, 4)[-1] == 30_000
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_corpus(pilot)
        await pilot.press("s")
        await pilot.pause(0.4)
        forms = app.query_one("#plot-forms")
        forms.labels, forms.values = ["wujue", "qijue", "wulv", "qilv", "other"], \
            [8_192, 12_000, 3, 0, 29_992]
        forms.replot()
        await pilot.pause()
        ticks = re.findall(r"^\s*([\d,.]+)┤", str(forms.render()), re.MULTILINE)
        assert len(ticks) >= 2 and all(re.fullmatch(r"\d{1,3}(,\d{3})*", t) for t in ticks)
        assert ticks[-1] == "0" and int(ticks[0].replace(",", "")) >= 29_992  # top reaches max
