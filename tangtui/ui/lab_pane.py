"""The Lab pane: the report's experiments, started here and drawn live with their verdicts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static

from tangtui.ui import lab_plots
from tangtui.ui.confirm_screen import ConfirmScreen
from tangtui.ui.curve_plot import CurvePlot
from tangtui.ui.pane import Pane

KINDS = ("optimizers", "init", "gradients", "perplexity")
SCALES = ("tiny", "small", "report")
X_AXES = ("step", "tokens", "seconds")
EMPTY = "No experiments yet: choose one and a scale above, then ctrl+r (or Run)."


class FigurePlot(CurvePlot):
    """A lab figure in the app: the Monitor's chart widget, drawn from a Figure."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.figure: Any = None
        self.empty_text = "no experiment selected"

    def show(self, fig: Any) -> None:
        """Draw ``fig`` (an :class:`engine.lab.spec.Figure`), or nothing when it is None."""
        self.figure = fig
        self.title = fig.title if fig else ""
        self.xlabel = fig.xlabel if fig else ""
        self.log_y = bool(fig and fig.log_y)
        self.lines = lab_plots.figure_lines(fig) if fig else []
        self.hlines = [y for y, _ in fig.hlines] if fig else []
        self.x_labels = lab_plots.x_labels(fig) if fig else None
        self.x_range = lab_plots.x_range(fig) if fig else None
        self.replot()


@dataclass
class LabListed(Message):
    """The stored experiments, with (members done, members planned) each."""

    experiments: list[Any]
    progress: dict[str, tuple[int, int]]


@dataclass
class LabReported(Message):
    """The report of the selected experiment, computed from the store in a worker."""

    exp_id: str
    report: Any


@dataclass
class LabStarted(Message):
    """An experiment was created and its process started."""

    exp_id: str


class LabPane(Pane):
    """The report's experiments: figures and verdicts, live"""

    BINDINGS = [
        Binding("ctrl+r", "start", "Run", tooltip="Run the chosen experiment"),
        Binding("right_square_bracket", "figure(1)", "Figure", tooltip="Next figure"),
        Binding("left_square_bracket", "figure(-1)", "Prev figure", show=False),
        Binding("a", "axis", "x-axis", tooltip="x axis: step, characters or seconds"),
        Binding("s", "stop", "Stop"),
        Binding("u", "resume", "Resume"),
        Binding("delete", "delete", "Delete"),
    ]
    BACKGROUND = frozenset({"lab-list", "lab-report"})
    COMMANDS = [("Run an experiment", "Start the experiment chosen in the Lab pane", "start")]
    REFRESH_S = 1.0
    LEAVE_TO = "#lab-table"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.experiments: list[Any] = []
        self.selected: str | None = None
        self.report: Any = None
        self.figure_index = 0
        self.x_axis = "step"
        self._shown_rows: list[tuple[str, ...]] = []
        self._version: int | None = None  # the store's data_version at the last poll
        self._polled = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="lab-bar"):
            yield Select([(k, k) for k in KINDS], value="init", allow_blank=False,
                         id="lab-kind", compact=True)
            yield Select([(s, s) for s in SCALES], value="small", allow_blank=False,
                         id="lab-scale", compact=True)
            yield Input("3", placeholder="seeds", id="lab-seeds", compact=True, type="integer")
            yield Button("Run", id="lab-run", compact=True)
        yield Static(EMPTY, id="lab-empty")
        table: DataTable[str] = DataTable(id="lab-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Id", "Experiment", "Scale", "Seeds", "Status", "Members")
        yield table
        yield FigurePlot(id="lab-plot")
        yield Static("", id="lab-legend")
        yield Static("", id="lab-table-text")
        yield Static("", id="lab-verdicts")

    def on_mount(self) -> None:
        self.refresh_list()
        self.set_interval(self.REFRESH_S, self.refresh_list)

    def focus_default(self) -> None:
        self.focus_now(self.query_one("#lab-table", DataTable))

    def on_resize(self) -> None:
        self.query_one("#lab-table-text").display = self.size.height >= 30

    # -- reading the store (workers) -------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="lab-list")
    def refresh_list(self) -> None:
        from tangtui.runs.experiments import members_done

        store = self.services.store()
        version = store.data_version()  # type: ignore[attr-defined]
        now = time.monotonic()
        if version == self._version and self.report is not None and now - self._polled < 5:
            return  # nothing written since the last poll (a killed process: seen within 5 s)
        self._version, self._polled = version, now
        found = store.list_experiments()  # type: ignore[attr-defined]
        progress = {x.id: members_done(store, x) for x in found}
        self.post_message(LabListed(found, progress))
        if self.selected:
            self._report(self.selected)

    def _report(self, exp_id: str) -> None:
        from engine.lab import get_experiment
        from tangtui.runs.experiments import lab_data

        store = self.services.store()
        exp = store.get_experiment(exp_id)  # type: ignore[attr-defined]
        report = get_experiment(exp.kind).report(lab_data(store, exp), self.x_axis)
        self.post_message(LabReported(exp_id, report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="lab-report")
    def load_report(self, exp_id: str) -> None:
        self._report(exp_id)

    def on_lab_listed(self, message: LabListed) -> None:
        message.stop()
        self.experiments = message.experiments
        rows = [(x.id, x.kind, x.scale, str(x.seeds), x.display_status,
                 "{}/{}".format(*message.progress.get(x.id, (0, 0))))
                for x in self.experiments]
        self.query_one("#lab-empty").display = not rows
        if rows != self._shown_rows:
            table = self.query_one("#lab-table", DataTable)
            table.clear()
            for row in rows:
                table.add_row(*row, key=row[0])
            self._shown_rows = rows
            ids = [r[0] for r in rows]
            if self.selected in ids:
                table.move_cursor(row=ids.index(self.selected))
        if self.selected is None and rows:
            self.select(rows[0][0])

    def select(self, exp_id: str) -> None:
        if exp_id != self.selected:
            self.selected, self.report, self.figure_index = exp_id, None, 0
            self.load_report(exp_id)

    @on(DataTable.RowHighlighted, "#lab-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value:
            self.select(event.row_key.value)

    def on_lab_reported(self, message: LabReported) -> None:
        message.stop()
        if message.exp_id != self.selected:
            return
        self.report = message.report
        self.draw()

    def draw(self) -> None:
        """Show the current figure, its legend line, the table and the verdicts."""
        report = self.report
        plot = self.query_one(FigurePlot)
        if report is None or not report.figures:
            plot.show(None)
            return
        self.figure_index %= len(report.figures)
        fig = report.figures[self.figure_index]
        plot.show(fig)
        self.query_one("#lab-legend", Static).update(
            Text(f"[{self.figure_index + 1}/{len(report.figures)}] ")
            + lab_plots.legend(fig))
        self.query_one("#lab-table-text", Static).update(_table_text(report))
        self.query_one("#lab-verdicts", Static).update(
            "\n".join(_verdict_markup(v) for v in report.verdicts))

    # -- actions ---------------------------------------------------------------------------

    def action_figure(self, delta: int) -> None:
        self.figure_index += delta
        self.draw()

    def action_axis(self) -> None:
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self.notify(f"loss curves against {self.x_axis}", timeout=2)
        if self.selected:
            self.load_report(self.selected)

    @on(Button.Pressed, "#lab-run")
    def action_start(self) -> None:
        kind = str(self.query_one("#lab-kind", Select).value)
        scale = str(self.query_one("#lab-scale", Select).value)
        text = self.query_one("#lab-seeds", Input).value.strip()
        if not text.isdigit() or int(text) < 1:
            self.notify(f"seeds must be a whole number of at least 1, got {text!r}",
                        title="Lab", severity="error")
            return
        self.start(kind, scale, int(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="lab-start")
    def start(self, kind: str, scale: str, seeds: int) -> None:
        from tangtui.cli.cmd_lab import _check_plan
        from tangtui.runs import lab_runner

        _check_plan(kind, scale, seeds, {})
        store = self.services.store()
        exp = store.create_experiment(kind, scale, seeds, {})  # type: ignore[attr-defined]
        lab_runner.spawn_experiment(store, exp.id)  # type: ignore[arg-type]
        self.post_message(LabStarted(exp.id))

    def on_lab_started(self, message: LabStarted) -> None:
        message.stop()
        self._version = None
        self.notify(f"experiment {message.exp_id} started", title="Lab", timeout=3)
        self.selected = None
        self.select(message.exp_id)
        self.refresh_list()

    def action_stop(self) -> None:
        if self.selected:
            self._control("stop", self.selected)

    def action_resume(self) -> None:
        if self.selected:
            self._control("resume", self.selected)

    @work(thread=True, exit_on_error=False, group="lab-control")
    def _control(self, what: str, exp_id: str) -> None:
        from tangtui.runs import lab_runner

        store = self.services.store()
        if what == "stop":
            lab_runner.stop_experiment(store, exp_id)  # type: ignore[arg-type]
        else:
            lab_runner.spawn_experiment(store, exp_id)  # type: ignore[arg-type]
        self.app.call_from_thread(self.notify, f"experiment {exp_id}: {what} requested",
                                  title="Lab", timeout=3)

    def action_delete(self) -> None:
        exp_id = self.selected
        if not exp_id:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(exp_id)

        self.app.push_screen(ConfirmScreen(f"Delete experiment {exp_id} and all its member "
                                           "runs (folders and checkpoints)?", "Delete"),
                             answered)

    @work(thread=True, exit_on_error=False, group="lab-control")
    def _delete(self, exp_id: str) -> None:
        n = self.services.store().delete_experiment(exp_id)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._deleted, exp_id, n)

    def _deleted(self, exp_id: str, n: int) -> None:
        self.notify(f"deleted experiment {exp_id} and {n} member runs", title="Lab")
        self.selected, self.report, self._version = None, None, None
        self.draw()
        self.refresh_list()


def _verdict_markup(v: Any) -> str:
    from rich.markup import escape

    mark = {True: "[b green]true[/]", False: "[b red]false[/]", None: "[dim]pending[/]"}
    return f"{escape(v.claim)}: {mark[v.holds]} [dim]({escape(v.detail)})[/]"


def _table_text(report: Any) -> str:
    from rich.cells import cell_len
    from rich.markup import escape

    rows = [report.columns, *[[str(c) for c in r] for r in report.rows]]
    widths = [max(cell_len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c) + " " * (w - cell_len(str(c)))
                       for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return escape("\n".join(lines))
