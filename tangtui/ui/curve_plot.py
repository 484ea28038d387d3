"""The Monitor's chart widget: coloured lines, log y, a value cursor and an x range.

Drawn by :func:`tangtui.ui.braille_chart.render_chart` (braille dots, a few ms for the few
hundred points per line the Monitor keeps), on the UI thread, once per change of data, size
or theme; plotext took 0.3-0.9 s per redraw on a loaded machine. The Lab pane's figures are
this widget too (:class:`tangtui.ui.lab_pane.FigurePlot`), with reference lines and category
labels on the x axis.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from tangtui.ui.braille_chart import render_chart
from tangtui.ui.monitor_view import Line

Series = tuple[list[float], list[float]]


class CurvePlot(Widget):
    """Coloured lines on one set of axes (see :mod:`tangtui.ui.monitor_view`)."""

    DEFAULT_CSS = """
    CurvePlot { width: 1fr; height: 1fr; }
    CurvePlot .curve-plot--axis { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"curve-plot--axis"}

    def __init__(self, title: str = "", xlabel: str = "step", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.xlabel = xlabel
        self.lines: list[Line] = []
        self.log_y = False
        self.cursor_x: float | None = None
        self.x_range: tuple[float, float] | None = None
        self.hlines: list[float] = []  # reference lines (y values)
        self.x_labels: list[tuple[float, str]] | None = None  # categories instead of x ticks
        self.empty_text = "no data yet"
        self.version = 0  # bumped by replot(): the data changed
        self._shown: tuple[tuple[Any, ...], Text] | None = None

    @property
    def series(self) -> dict[str, Series]:
        """The train and test lines by label (the faint raw envelope left out)."""
        return {ln.label or ln.kind: (ln.xs, ln.ys) for ln in self.lines if ln.kind != "raw"}

    @property
    def ready(self) -> bool:
        """True when what is on screen was drawn from the current data and size."""
        return self._shown is not None and self._shown[0] == self._key()

    def replot(self) -> None:
        """Redraw with the current lines."""
        self.version += 1
        self.refresh()

    def _key(self) -> tuple[Any, ...]:
        return (self.version, self.size.width, self.size.height, self.app.theme)

    def render(self) -> RenderResult:
        key = self._key()
        if self._shown is None or self._shown[0] != key:
            self._shown = (key, self.draw())
        return self._shown[1]

    def draw(self) -> Text:
        """The chart as text, or one line saying why it cannot be drawn."""
        try:
            return render_chart(self.lines, self.size.width, self.size.height,
                                title=self.title, xlabel=self.xlabel, log_y=self.log_y,
                                x_range=self.x_range, cursor_x=self.cursor_x,
                                empty=self.empty_text, hlines=self.hlines,
                                x_labels=self.x_labels,
                                muted=self.get_component_rich_style("curve-plot--axis"))
        except (IndexError, ValueError, ZeroDivisionError, OverflowError) as exc:
            return Text(f"{self.title or 'plot'}: cannot draw here ({type(exc).__name__})",
                        style="dim", no_wrap=True, overflow="ellipsis")
