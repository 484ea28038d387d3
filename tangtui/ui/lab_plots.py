"""The lab's figures drawn with the Monitor's plotting code: in the app (a CurvePlot) and as
text for the CLI (plain plotext), plus each figure's data as CSV.

A :class:`engine.lab.spec.Figure` is drawn as: each series' median as a line, its plus/minus
one std band as two dotted lines of the same colour, marked points as ``x``, horizontal
reference lines, and their labels in the figure's last line.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

from textual.app import RenderResult

from engine.lab.spec import Figure
from tangtui.ui.plots import CurvePlot, plot_curves, safe_render

COLORS = ("blue+", "red+", "green+", "orange+", "magenta+", "cyan+", "yellow+", "gray+",
          "violet+", "white")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def draw_figure(plt: Any, fig: Figure) -> int:
    """Draw ``fig`` on ``plt`` (plotext, or a PlotextPlot's ``plt``); the series drawn."""
    plt.clear_data()
    plt.clear_figure()
    plt.title(fig.title)
    plt.xlabel(fig.xlabel)
    drawn = 0
    if fig.kind == "bar":
        names = dict(fig.xticks or [])
        pts = [(names.get(s.xs[0], s.label), s.ys[0]) for s in fig.series
               if s.ys and math.isfinite(s.ys[0])]
        if pts:
            plt.bar([p[0] for p in pts], [p[1] for p in pts], width=0.5)
            drawn = len(pts)
    else:
        for i, s in enumerate(fig.series):
            color = COLORS[i % len(COLORS)]
            drawn += plot_curves(plt, {s.label: (s.xs, s.ys)}, fig.log_y, color=color)
            for band in (s.lo, s.hi):
                if band:
                    plot_curves(plt, {" ": (s.xs, band)}, fig.log_y, marker="·", color=color)
            if s.marks:
                plt.scatter([x for x, _ in s.marks], [y for _, y in s.marks], marker="x",
                            color=color)
        if fig.xticks:
            plt.xticks([x for x, _ in fig.xticks], [t for _, t in fig.xticks])
    if drawn:
        for y, _ in fig.hlines:
            if math.isfinite(y) and (y > 0 or not fig.log_y):
                plt.hline(y, "gray")
        if fig.log_y and fig.kind != "bar":
            plt.yscale("log")
    else:
        plt.title(f"{fig.title} (no data yet)")
    return drawn


def legend_line(fig: Figure) -> str:
    """The reference lines and the note, as one line for under the figure."""
    parts = [f"── {label} {y:.4g}" for y, label in fig.hlines]
    if any(s.lo for s in fig.series):
        parts.append("dotted: ±1 std over seeds")
    if fig.note:
        parts.append(fig.note)
    return "   ".join(parts)


def figure_text(fig: Figure, width: int = 100, height: int = 24) -> str:
    """The figure as plain text (no colour codes), with its legend line under it."""
    import plotext

    plotext.clear_figure()
    plotext.theme("clear")
    plotext.plotsize(width, height)
    draw_figure(plotext, fig)
    text = _ANSI.sub("", plotext.build())
    plotext.clear_figure()
    legend = legend_line(fig)
    return text.rstrip() + ("\n" + legend if legend else "") + "\n"


def figure_csv(fig: Figure) -> str:
    """One row per point: series, x, y, lo, hi (the band), marked."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["series", fig.xlabel or "x", fig.ylabel or "y", "minus_1sd", "plus_1sd",
                "marked"])
    for s in fig.series:
        marked = {x for x, _ in s.marks}
        for i, (x, y) in enumerate(zip(s.xs, s.ys, strict=False)):
            lo = s.lo[i] if s.lo else ""
            hi = s.hi[i] if s.hi else ""
            w.writerow([s.label, x, y, lo, hi, int(x in marked)])
    for y, label in fig.hlines:
        w.writerow([f"line: {label}", "", y, "", "", 0])
    return out.getvalue()


class FigurePlot(CurvePlot):
    """A lab figure in the app: the Monitor's CurvePlot, drawn from a Figure."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.figure: Figure | None = None

    def show(self, fig: Figure | None) -> None:
        self.figure = fig
        self.refresh()

    def render(self) -> RenderResult:
        fig = self.figure
        if fig is None:
            self.plt.clear_data()
            self.plt.clear_figure()
            self.plt.title("no experiment selected")
        else:
            draw_figure(self.plt, fig)
        return safe_render(self, lambda: super(CurvePlot, self).render())
