"""The Corpus pane: search by title, author or text, filter by form, read a poem and its
author's bio, and see statistics (length histogram, form counts, top characters)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Input, Select, Static
from textual.worker import get_current_worker

from tangtui.ui.kinsoku import KinsokuStatic
from tangtui.ui.messages import CorpusReady, SearchDone, StatsReady
from tangtui.ui.metre_grid import MetreGrid
from tangtui.ui.pane import Pane
from tangtui.ui.plots import BarPlot, HBarPlot
from tangtui.ui.poem_text import FORM_LABELS, FORM_SHORT, poem_markup

if TYPE_CHECKING:
    from engine.corpus import Corpus, Poem

PAGE = 200  # rows added to the table at a time (more as the cursor nears the end)
SEARCH_DELAY = 0.25


class CorpusPane(Pane):
    """Search and read 全唐诗"""

    BINDINGS = [
        Binding("s", "toggle_stats", "Stats"),
        Binding("f", "choose_form", "Form"),
    ]
    BACKGROUND = frozenset({"corpus-load"})
    COMMANDS = [("Corpus statistics", "Length histogram, form counts, top characters (key s)",
                 "show_stats")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.corpus: Corpus | None = None
        self.results: list[Poem] = []
        self.close: set[str] = set()  # ids of results that only match approximately
        self.stats: dict[str, Any] | None = None
        self._timer: Any = None
        self.search_next = False  # `/` was pressed: focus the search field, not the table

    def compose(self) -> ComposeResult:
        with Horizontal(id="corpus-bar"):
            yield Input(placeholder="Search title, author or text…", id="corpus-search",
                        compact=True)
            yield Input(placeholder="author", id="corpus-author", compact=True)
            yield Select([(f"{v} {k}", k) for k, v in FORM_LABELS.items()], prompt="All forms",
                         id="corpus-form", compact=True)
        with ContentSwitcher(initial="corpus-browse", id="corpus-switch"):
            with Horizontal(id="corpus-browse"):
                table: DataTable[str] = DataTable(id="corpus-results", cursor_type="row")
                table.add_columns("Title", "Author", "Form")
                yield table
                with VerticalScroll(id="corpus-poem-box"):
                    yield KinsokuStatic("Loading the corpus…", id="corpus-poem")
                    yield MetreGrid(id="corpus-metre")
                    yield Static("", id="corpus-bio")
            with VerticalScroll(id="corpus-stats"):
                yield Static("", id="corpus-summary")
                with Grid(id="corpus-plots"):
                    yield BarPlot("Poem length (characters)", id="plot-lengths")
                    yield BarPlot("Forms", id="plot-forms")
                    yield HBarPlot("Top characters", id="plot-chars")

    def on_pane_shown(self) -> None:
        if self.corpus is None:
            self.load_corpus()

    def focus_default(self) -> None:
        if self.search_next:
            self.search_next = False
            self.focus_search()
        else:
            self.leave_field()

    def leave_field(self) -> None:
        """Focus what is shown: the results table, or the statistics."""
        stats = self.query_one(ContentSwitcher).current == "corpus-stats"
        self.focus_now(self.query_one("#corpus-stats" if stats else "#corpus-results"))

    def focus_search(self) -> None:
        self.focus_now(self.query_one("#corpus-search", Input))

    def action_choose_form(self) -> None:
        """Open the form filter's list (choosing a form shows the matching poems)."""
        select = self.query_one("#corpus-form", Select)
        self.focus_now(select)
        select.action_show_overlay()

    def show_results(self) -> None:
        """Show the results table (not the statistics)."""
        self.query_one(ContentSwitcher).current = "corpus-browse"

    @work(thread=True, exclusive=True, exit_on_error=False, group="corpus-load")
    def load_corpus(self) -> None:
        self.post_message(CorpusReady(self.services.corpus("simplified")))

    def on_corpus_ready(self, message: CorpusReady) -> None:
        self.corpus = message.corpus
        self.run_search()
        if self.query_one(ContentSwitcher).current == "corpus-stats":
            self.compute_stats()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("corpus-search", "corpus-author"):
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(SEARCH_DELAY, self.run_search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("corpus-search", "corpus-author"):
            self.show_results()
            self.run_search()
            self.focus_now(self.query_one(DataTable))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "corpus-form":
            self.show_results()
            self.run_search()

    def run_search(self) -> None:
        if self.corpus is None:
            return
        form = self.query_one("#corpus-form", Select).value
        query = self.query_one("#corpus-search", Input).value.strip()
        author = self.query_one("#corpus-author", Input).value.strip()
        self.search(query, author, None if form is Select.NULL else str(form))

    @work(thread=True, exclusive=True, exit_on_error=False, group="corpus-search")
    def search(self, query: str, author: str, form: str | None) -> None:
        from tangtui.ui.corpus_search import find_poems

        corpus = self.corpus
        assert corpus is not None
        poems, close = find_poems(corpus, query, author, form)
        if not get_current_worker().is_cancelled:
            self.post_message(SearchDone(" ".join(filter(None, (query, author))), poems,
                                         close))

    def on_search_done(self, message: SearchDone) -> None:
        message.stop()
        self.results, self.close = message.poems, message.close
        table = self.query_one(DataTable)
        table.clear()
        self.add_page()
        if self.results:
            self.show_poem(0)
        else:
            self.query_one("#corpus-poem", Static).update(
                f"No poem matches [b]{message.query}[/]." if message.query else "No poems.")
            self.query_one(MetreGrid).show_text(None)
            self.query_one("#corpus-bio", Static).update("")

    def add_page(self) -> None:
        """Add the next PAGE results to the table; its title says how many are listed."""
        table = self.query_one(DataTable)
        start = table.row_count
        for i, p in enumerate(self.results[start:start + PAGE], start):
            mark = "≈ " if p.id in self.close else ""
            table.add_row(mark + p.title[:10], p.author[:6], FORM_SHORT.get(p.form, p.form),
                          key=str(i))
        total, shown = len(self.results), table.row_count
        close = f" ({len(self.close):,} close)" if self.close else ""
        table.border_title = (f"{total:,} poems{close}" if shown >= total else
                              f"{shown:,} of {total:,} poems{close}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_poem(event.cursor_row)
        if event.cursor_row >= event.data_table.row_count - 5 and \
                event.data_table.row_count < len(self.results):
            self.add_page()  # a virtual list: the next page comes as the cursor nears the end

    def show_poem(self, index: int) -> None:
        if not (0 <= index < len(self.results)) or self.corpus is None:
            return
        poem = self.results[index]
        view = self.query_one("#corpus-poem", Static)
        view.update(poem_markup(poem, None))  # the 平仄 grid goes between poem and bio
        self.query_one(MetreGrid).show_text(poem.text if poem.form != "other" else None)
        bio = self.corpus.authors.get(poem.author)
        self.query_one("#corpus-bio", Static).update(f"\n[dim]{escape(bio)}[/]" if bio else "")
        self.query_one("#corpus-poem-box").scroll_home(animate=False)

    def action_toggle_stats(self) -> None:
        switch = self.query_one(ContentSwitcher)
        switch.current = "corpus-browse" if switch.current == "corpus-stats" else "corpus-stats"
        if switch.current == "corpus-stats":
            self.focus_now(self.query_one("#corpus-stats"))
            if self.stats is None and self.corpus is not None:
                self.compute_stats()
        else:
            self.focus_now(self.query_one("#corpus-results"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="corpus-stats")
    def compute_stats(self) -> None:
        assert self.corpus is not None
        self.post_message(StatsReady(self.corpus.stats(top=15)))

    def on_stats_ready(self, message: StatsReady) -> None:
        message.stop()
        self.stats = s = message.stats
        self.query_one("#corpus-summary", Static).update(
            f"[b]{s.get('poems', 0):,}[/] poems · [b]{s.get('authors', 0):,}[/] authors · "
            f"[b]{s.get('characters', 0):,}[/] characters · vocabulary "
            f"[b]{s.get('vocab_size', 0):,}[/] · script {s.get('script', '?')}")
        lengths = self.query_one("#plot-lengths", BarPlot)
        hist = s.get("length_histogram", {})
        lengths.labels = [k.split("-")[0] for k in hist]
        lengths.values = list(hist.values())
        forms = self.query_one("#plot-forms", BarPlot)
        forms.labels = list(s.get("forms", {}))
        forms.values = list(s.get("forms", {}).values())
        chars = self.query_one("#plot-chars", HBarPlot)
        top = list(reversed(s.get("top_characters", [])[:10]))
        chars.labels = [c for c, _ in top]
        chars.values = [n for _, n in top]
        for plot in (lengths, forms, chars):
            plot.replot()

    def show_stats(self) -> None:
        if self.query_one(ContentSwitcher).current != "corpus-stats":
            self.action_toggle_stats()
