"""Plot widgets on textual-plotext: loss curves and bar charts, each redrawn by ``replot()``.

Data goes down as attributes; ``replot()`` runs on the UI thread (``clear_data`` -> plot ->
``refresh``), a few times a second at most.
"""

from __future__ import annotations

import math
import unicodedata

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

Series = tuple[list[float], list[float]]


class CurvePlot(PlotextPlot):
    """Several named (x, y) curves on one set of axes, optionally with a log y axis."""

    def __init__(self, title: str = "", xlabel: str = "step", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.xlabel = xlabel
        self.series: dict[str, Series] = {}
        self.log_y = False
        self.empty_text = "no data yet"

    def on_mount(self) -> None:
        super().on_mount()
        self.replot()

    def replot(self) -> None:
        """Redraw every series (skipping non-finite and, on a log axis, non-positive points)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel(self.xlabel)
        drawn = 0
        for label, (xs, ys) in self.series.items():
            pts = [(x, y) for x, y in zip(xs, ys, strict=False)
                   if math.isfinite(y) and (y > 0 or not self.log_y)]
            if not pts:
                continue
            px, py = zip(*pts, strict=True)
            marker = "braille" if len(pts) > 1 else "dot"
            plt.plot(list(px), list(py), label=label, marker=marker)
            drawn += 1
        if not drawn:
            plt.title(f"{self.title} ({self.empty_text})")
        plt.yscale("log" if self.log_y else "linear")
        self.refresh()


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


class BarPlot(PlotextPlot):
    """A bar chart of labelled counts; wide (CJK) labels keep the frame aligned."""

    def __init__(self, title: str = "", horizontal: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.horizontal = horizontal
        self.labels: list[str] = []
        self.values: list[float] = []

    def on_mount(self) -> None:
        super().on_mount()
        self.replot()

    def replot(self) -> None:
        self._draw(len(self.labels))
        self.refresh()

    def _draw(self, n: int) -> None:
        """Plot the last ``n`` bars (numeric positions and explicit tick labels)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        labels, values = self.labels[-n:], self.values[-n:]
        if labels:
            pos = list(range(len(labels)))
            plt.bar(pos, values, width=0.6,
                    orientation="horizontal" if self.horizontal else "vertical")
            (plt.yticks if self.horizontal else plt.xticks)(pos, labels)

    def _wide_labels(self) -> bool:
        return any(_is_wide(c) for label in self.labels for c in label)

    def render(self) -> RenderResult:
        """Plotext counts a CJK label as one cell; pad the other rows by one to match."""
        if not self.horizontal:
            return super().render()
        if not self._wide_labels():
            self._draw(max(1, self.size.height - 4))
            return super().render()
        width, height = max(self.size.width - 1, 1), self.size.height
        self._draw(max(1, height - 4))  # one row per bar, so every label shows
        self._plot.plotsize(width, height)
        self._plot._set_size(width, height)
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        lines = Text.from_ansi(self._plot.build()).split("\n")
        out = Text()
        for i, line in enumerate(lines):
            if not (line.plain[:1] and _is_wide(line.plain[0])):
                out.append(" ")
            out.append_text(line)
            if i < len(lines) - 1:
                out.append("\n")
        return out
