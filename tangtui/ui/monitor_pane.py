"""The Monitor pane: live loss/perplexity curves of one or more runs, their status and samples.

A worker polls the store a few times a second and reads each run's curves already reduced to
the chart's width in SQL (min/max/mean per bucket, :mod:`tangtui.runs.series`), so a run of
300,000 steps costs a few hundred points; the UI thread only turns them into lines and draws.
A finished run is read again only when the view changes (x axis, zoom, width); a live one when
its step moves (its evaluations, which land after their train row, at every poll).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.widgets import Select, Static

from tangtui.ui.curve_plot import CurvePlot
from tangtui.ui.format import run_status
from tangtui.ui.kinsoku import KinsokuStatic
from tangtui.ui.messages import RunLaunched, RunsListed, SeriesFetched
from tangtui.ui.monitor_keys import MonitorKeys
from tangtui.ui.monitor_status import diff_markup, legend_markup, status_markup
from tangtui.ui.monitor_view import ChartView, RunCurves, RunFetch, chart_lines, x_scale

if TYPE_CHECKING:
    from tangtui.runs.rows import Run

POLL_S = 0.75


class MonitorPane(MonitorKeys):
    """Live curves and status of runs"""

    BACKGROUND = frozenset({"monitor-poll"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_ids: list[str] = []
        self.curves: dict[str, RunCurves] = {}
        self.view = ChartView()
        self.buckets = 80  # buckets across the chart: one per cell (min and max drawn in it)
        self.runs: list[Run] = []
        self._chosen = False  # the user picked runs (else follow the newest live run)
        self._options: tuple[list[tuple[str, str]], str | None] = ([], None)

    def compose(self) -> ComposeResult:
        with Horizontal(id="monitor-bar"):
            yield Select([], prompt="No runs yet", id="monitor-run", compact=True,
                         allow_blank=True)
            yield Static("", id="monitor-legend")
        with Horizontal(id="monitor-body"):
            with Vertical(id="monitor-chart"):
                yield CurvePlot("loss (nats/char)", id="monitor-plot")
                yield Static("", id="monitor-cursor")
            with Vertical(id="monitor-side"):
                yield Static("No run selected.", id="monitor-status")
                yield Static("", id="monitor-diff")
                with VerticalScroll(id="monitor-samples-box"):
                    yield KinsokuStatic("", id="monitor-samples")

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_S, self.poll)

    def focus_default(self) -> None:
        self.focus_now(self.query_one("#monitor-run", Select))

    def show_runs(self, run_ids: list[str]) -> None:
        """Show these runs (overlaid); the first one is the main one."""
        self._chosen = True
        self.run_ids = list(dict.fromkeys(run_ids))
        self.curves = {k: v for k, v in self.curves.items() if k in self.run_ids}
        self.view.zoom = self.view.cursor = self.view.mark = None
        width = self.query_one(CurvePlot).size.width
        self.buckets = max(60, min(1000, width)) if width else self.buckets
        self._sync_select()
        self.redraw()
        self.poll()

    # -- reading the store -------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="monitor-poll")
    def poll(self) -> None:
        """Read the curves of the runs on show when they changed (never touches widgets)."""
        store = self.services.store()
        runs = store.list_runs()
        self.post_message(RunsListed(runs))
        by_id = {r.id: r for r in runs}
        view, n = self.view, self.buckets
        shown = [self.curves[r] for r in self.run_ids if r in self.curves]
        scale = x_scale(view.x_axis, shown)
        axis = "time" if view.x_axis == "time" else "step"
        items = []
        for rid in list(self.run_ids):
            run = by_id.get(rid)
            if run is None:
                continue
            old = self.curves.get(rid)
            window: tuple[float | None, float | None] = (None, None)
            if view.zoom and old is not None:
                window = (scale.fetch(view.zoom[0], old), scale.fetch(view.zoom[1], old))
            key = (run.attempt, run.step, axis, window, n)
            fresh = old is None or old.key != key
            train = store.series(rid, "train_loss", axis, *window, n) if fresh else None
            live = run.liveness() == "alive"
            test = store.series(rid, "test_loss", axis, *window, n) if fresh or live else None
            items.append(RunFetch(run, train, test, store.latest_samples(rid), key))
        if items:
            self.post_message(SeriesFetched(items))

    def on_runs_listed(self, message: RunsListed) -> None:
        message.stop()
        self.runs = message.runs
        if not self._chosen and self.runs:
            live = [r for r in self.runs if r.liveness() == "alive"]
            newest = (live or self.runs)[0].id
            if self.run_ids != [newest]:
                self.run_ids = [newest]
                self.poll()
        self._sync_select()

    def _sync_select(self) -> None:
        select = self.query_one("#monitor-run", Select)
        options = [(f"{r.name} · {run_status(r)}", r.id) for r in self.runs]
        current = self.run_ids[0] if self.run_ids else None
        if (options, current) != self._options:
            self._options = (options, current)
            with select.prevent(Select.Changed):
                select._allow_blank = not options  # no "No runs" entry among runs
                select.set_options(options)
                if current in {o[1] for o in options}:
                    select.value = current

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and (not self.run_ids or
                                               event.value != self.run_ids[0]):
            self.show_runs([str(event.value)])

    def on_series_fetched(self, message: SeriesFetched) -> None:
        message.stop()
        changed = False
        for item in message.items:
            run = item.run
            if run.id not in self.run_ids:
                continue
            rc = self.curves.get(run.id)
            if rc is None:
                rc = self.curves[run.id] = RunCurves(run)
            changed = (changed or item.train is not None
                       or (item.test is not None and item.test != rc.test))
            rc.run, rc.samples = run, item.samples
            if item.train is not None:
                rc.train, rc.key = item.train, item.key
            if item.test is not None:
                rc.test = item.test
        if changed:
            self.redraw()
        self.update_status()

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self.check_width)

    def check_width(self) -> None:
        """Fetch again when the chart's width (in braille dots) changed."""
        width = self.query_one(CurvePlot).size.width
        buckets = max(60, min(1000, width)) if width else self.buckets
        if buckets != self.buckets:
            self.buckets = buckets
            self.poll()

    # -- drawing -----------------------------------------------------------------------------

    def shown(self) -> list[RunCurves]:
        return [self.curves[r] for r in self.run_ids if r in self.curves]

    def redraw(self) -> None:
        """Lines from the fetched curves and the view (a few hundred points: one frame)."""
        view, runs = self.view, self.shown()
        scale = x_scale(view.x_axis, runs)
        plot = self.query_one(CurvePlot)
        metric = "perplexity (per char)" if view.metric == "ppl" else "loss (nats/char)"
        marks = [m for m, on_ in (("log y", view.log_y), ("zoomed", view.zoom)) if on_]
        plot.title = metric + "".join(f" · {m}" for m in marks)
        plot.xlabel = scale.label
        plot.lines = chart_lines(view, runs, scale)
        plot.log_y, plot.x_range, plot.cursor_x = view.log_y, view.zoom, view.cursor
        plot.replot()
        self.query_one("#monitor-legend", Static).update(legend_markup(runs, view))
        self.query_one("#monitor-diff", Static).update(diff_markup(runs))
        self.update_cursor()

    def update_status(self) -> None:
        status = self.query_one("#monitor-status", Static)
        samples = self.query_one("#monitor-samples", Static)
        rc = self.curves.get(self.run_ids[0]) if self.run_ids else None
        if rc is None:
            status.update("No run selected." if not self.runs else "Loading…")
            samples.update("")
            return
        status.update(status_markup(rc))
        samples.update("\n".join(f"[dim]{escape(s.prompt)}[/] {escape(s.text)}"
                                 for s in rc.samples) or "[dim]no samples yet[/]")
        samples.parent.border_title = (f"samples @ {rc.samples[0].step:,}"  # type: ignore[union-attr]
                                       if rc.samples else "samples")

    def _main_run(self) -> Run | None:
        rc = self.curves.get(self.run_ids[0]) if self.run_ids else None
        return rc.run if rc else None

    def run_changed(self, message: RunLaunched) -> None:
        self.poll()
