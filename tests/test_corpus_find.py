"""Corpus search: exact author first, variant-tolerant matches, an author filter, no cap."""

from __future__ import annotations

from app_fakes import FakePoet, FakeStore
from textual.widgets import DataTable, Input

from engine.corpus.fuzzy import fuzzy_search
from engine.corpus.model import Corpus, Poem
from tangtui.app import make_app
from tangtui.ui.corpus_pane import PAGE, CorpusPane
from tangtui.ui.corpus_search import find_poems


def corpus(extra: int = 0) -> Corpus:
    poems = [
        Poem("p1", "沙丘城下寄杜甫", "李白", "我来竟何事，高卧沙丘城。\n城边有古树，日夕连秋声。",
             "wulv"),
        Poem("p2", "静夜思", "李白", "床前看月光，疑是地上霜。\n举头望山月，低头思故乡。", "wujue"),
        Poem("p3", "春望", "杜甫", "国破山河在，城春草木深。\n感时花溅泪，恨别鸟惊心。", "wulv"),
        Poem("p4", "月夜", "杜甫", "今夜鄜州月，闺中只独看。\n遥怜小儿女，未解忆长安。", "wulv"),
    ]
    poems += [Poem(f"x{i}", f"无题{i}", "佚名", "白日依山尽，黄河入海流。", "wujue")
              for i in range(extra)]
    return Corpus(poems, {}, "simplified", {})


def test_exact_author_comes_before_a_title_that_names_him() -> None:
    found = corpus().search("杜甫", limit=10)
    assert [p.id for p in found] == ["p3", "p4", "p1"]


def test_the_school_version_finds_the_quantangshi_text() -> None:
    c = corpus()
    assert c.search("床前明月光") == []  # not there verbatim
    hits = fuzzy_search(c, "床前明月光")
    assert hits and hits[0][0].title == "静夜思" and hits[0][1] >= 75
    assert fuzzy_search(c, "举头望明月")[0][0].title == "静夜思"
    poems, close = find_poems(c, "床前明月光")
    assert [p.title for p in poems][:1] == ["静夜思"] and close == {"p2"}
    assert fuzzy_search(c, "月光") == []  # too short to guess


def test_author_filter_alone_and_with_a_query() -> None:
    c = corpus()
    assert [p.id for p in find_poems(c, "", "杜甫")[0]] == ["p3", "p4"]
    assert [p.id for p in find_poems(c, "月", "杜甫")[0]] == ["p4"]


async def test_the_pane_pages_through_every_result_and_filters_by_author() -> None:
    big = corpus(extra=450)
    app = make_app(store=FakeStore(), corpus_loader=lambda script: big, generator=FakePoet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await pilot.pause(0.5)
        pane = app.query_one(CorpusPane)
        table = pane.query_one(DataTable)
        assert len(pane.results) == 454 and table.row_count == PAGE
        assert "200 of 454 poems" in str(table.border_title)
        table.focus()
        table.move_cursor(row=PAGE - 2)
        await pilot.pause()
        assert table.row_count == 2 * PAGE  # the next page came
        pane.query_one("#corpus-author", Input).value = "杜甫"
        await pilot.pause(0.6)
        assert [p.id for p in pane.results] == ["p3", "p4"]
        assert str(table.border_title) == "2 poems"
