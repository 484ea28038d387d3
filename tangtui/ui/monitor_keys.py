"""The Monitor's keys: log y, metric, smoothing, x axis, value cursor, zoom, full screen, export.

A base of :class:`tangtui.ui.monitor_pane.MonitorPane`; toggles only change the pane's
:class:`ChartView` and redraw from the curves in memory, while the x axis, a zoom or a new
width read the store again (in the poll worker).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual.binding import Binding
from textual.widgets import Static

from tangtui.ui.curve_plot import CurvePlot
from tangtui.ui.export_screen import ExportScreen
from tangtui.ui.monitor_export import export_rows, write_rows
from tangtui.ui.monitor_view import (
    PALETTE,
    X_AXES,
    ChartView,
    RunCurves,
    hex_colour,
    next_weight,
    value_at,
)
from tangtui.ui.run_actions import RunActionsPane

if TYPE_CHECKING:
    from tangtui.runs.rows import Run


class MonitorKeys(RunActionsPane):
    """Key actions of the Monitor (the pane supplies view, curves, redraw and poll)."""

    BINDINGS = [
        Binding("l", "toggle_log", "Log", tooltip="Log scale on the y axis"),
        Binding("v", "toggle_metric", "Ppl", tooltip="Loss or perplexity"),
        Binding("a", "toggle_smooth", "Smooth"),
        Binding("left_square_bracket", "weight(False)", "Less smooth", show=False),
        Binding("right_square_bracket", "weight(True)", "More smooth", show=False),
        Binding("x", "cycle_x", "Axis", tooltip="x by step, tokens or time"),
        Binding("left", "move_cursor(-1)", "Cursor", show=False),
        Binding("right", "move_cursor(1)", "Cursor", show=False),
        Binding("shift+left", "move_cursor(-10)", "Cursor", show=False),
        Binding("shift+right", "move_cursor(10)", "Cursor", show=False),
        Binding("z", "zoom", "Zoom"),
        Binding("Z", "unzoom", "Unzoom", show=False),
        Binding("f", "full", "Max", tooltip="The chart alone, full screen"),
        Binding("ctrl+o", "export", "Export"),
        Binding("s", "stop", "Stop"),
        Binding("u", "resume", "Resume"),
        Binding("escape", "clear_cursor", "Hide the cursor", show=False),
    ]
    COMMANDS = [
        ("Toggle log y axis", "Monitor: log scale on the loss plot (key l)", "action_toggle_log"),
        ("Loss or perplexity", "Monitor: switch the plotted metric (key v)",
         "action_toggle_metric"),
        ("Smoothing on/off", "Monitor: debiased EMA of the train curve (key a; [ and ] for "
         "its strength)", "action_toggle_smooth"),
        ("X axis: step, tokens, time", "Monitor: cycle the x axis (key x)", "action_cycle_x"),
        ("Full-screen chart", "Monitor: hide the side panel (key f)", "action_full"),
        ("Export the curves", "Monitor: write the shown series as CSV or JSON (ctrl+o)",
         "action_export"),
    ]

    view: ChartView
    run_ids: list[str]

    def redraw(self) -> None: ...
    def shown(self) -> list[RunCurves]: ...
    def poll(self) -> Any: ...
    def _main_run(self) -> Run | None: ...
    def check_width(self) -> None: ...

    def action_toggle_log(self) -> None:
        self.view.log_y = not self.view.log_y
        self.redraw()

    def action_toggle_metric(self) -> None:
        self.view.metric = "ppl" if self.view.metric == "loss" else "loss"
        self.redraw()

    def action_toggle_smooth(self) -> None:
        self.view.smooth = not self.view.smooth
        state = f"on, strength {self.view.weight:g}" if self.view.smooth else "off"
        self.notify(f"Smoothing {state}", timeout=2)
        self.redraw()

    def action_weight(self, up: bool) -> None:
        self.view.smooth = True
        self.view.weight = next_weight(self.view.weight, up)
        self.notify(f"Smoothing strength {self.view.weight:g}", timeout=2)
        self.redraw()

    def action_cycle_x(self) -> None:
        """step -> tokens seen -> wall time; a zoom and the cursor are reset."""
        view = self.view
        view.x_axis = X_AXES[(X_AXES.index(view.x_axis) + 1) % len(X_AXES)]
        view.zoom = view.cursor = view.mark = None
        self.redraw()
        self.poll()

    def _extent(self) -> tuple[float, float] | None:
        """The x range on show: the zoom, else the data's."""
        if self.view.zoom:
            return self.view.zoom
        xs = [x for ln in self.query_one(CurvePlot).lines for x in (ln.xs[:1] + ln.xs[-1:])]
        return (min(xs), max(xs)) if xs else None

    def action_move_cursor(self, cells: int) -> None:
        """Move the value cursor by ``cells`` chart columns (it starts at the right end)."""
        extent = self._extent()
        if extent is None:
            return
        lo, hi = extent
        width = max(10, self.query_one(CurvePlot).size.width - 8)
        x = hi if self.view.cursor is None else self.view.cursor + cells * (hi - lo) / width
        self.view.cursor = min(hi, max(lo, x))
        self.redraw()

    def action_clear_cursor(self) -> None:
        if self.view.cursor is None and self.view.mark is None:
            self.app.action_leave_field()  # type: ignore[attr-defined]
            return
        self.view.cursor = self.view.mark = None
        self.redraw()

    def update_cursor(self) -> None:
        """The cursor line under the chart: x and every shown run's values there."""
        line = self.query_one("#monitor-cursor", Static)
        x = self.view.cursor
        plot = self.query_one(CurvePlot)
        line.display = x is not None
        if x is None:
            return
        parts = [f"[b]{escape(plot.xlabel)} {x:,.6g}[/]"]
        for i, rc in enumerate(self.shown()):
            colour = hex_colour(PALETTE[i % len(PALETTE)])
            values = []
            for kind in ("train", "test"):
                ln = next((ln for ln in plot.lines if ln.run_id == rc.run.id and ln.kind == kind),
                          None)
                v = value_at(ln, x) if ln else None
                if v is not None:
                    values.append(f"{kind} {v:,.4g}")
            name = escape(rc.run.name) if len(self.run_ids) > 1 else ""
            parts.append(f"[{colour}]■[/] {name} {' '.join(values) or '—'}".replace("  ", " "))
        line.update("  ".join(parts))

    def action_zoom(self) -> None:
        """First z marks the cursor; the second zooms to the range between mark and cursor.
        Without a cursor, zoom into the right half (the latest steps)."""
        view, extent = self.view, self._extent()
        if extent is None:
            return
        if view.cursor is None:
            lo, hi = extent
            view.zoom = ((lo + hi) / 2, hi)
        elif view.mark is None:
            view.mark = view.cursor
            self.notify("Zoom: move the cursor to the other end and press z again", timeout=4)
            return
        elif view.mark != view.cursor:
            view.zoom = (min(view.mark, view.cursor), max(view.mark, view.cursor))
            view.mark = None
        self.redraw()
        self.poll()

    def action_unzoom(self) -> None:
        self.view.zoom = self.view.mark = None
        self.redraw()
        self.poll()

    def action_full(self) -> None:
        self.view.full = not self.view.full
        self.set_class(self.view.full, "-full")
        self.call_after_refresh(self.check_width)

    def action_export(self) -> None:
        runs = self.shown()
        if not runs:
            self.notify("Nothing to export yet", severity="warning")
            return
        name = runs[0].run.name + ("-overlay" if len(runs) > 1 else "")
        default = Path.cwd() / f"{name}-{self.view.metric}.csv"

        def chosen(path: str | None) -> None:
            if not path:
                return
            rows = export_rows(self.query_one(CurvePlot).lines, runs, self.view,
                               self.query_one(CurvePlot).xlabel)
            try:
                written = write_rows(rows, Path(path).expanduser())
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error")
                return
            self.notify(f"Exported {len(rows):,} points to {written}")

        self.app.push_screen(ExportScreen(str(default)), chosen)

    def action_stop(self) -> None:
        self.stop_run(self._main_run())

    def action_resume(self) -> None:
        self.resume_run(self._main_run())
