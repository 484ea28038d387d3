"""The Corpus pane's charts: vertical bars (textual-plotext) and horizontal text bars.

Data goes down as attributes and ``replot()`` asks for a redraw (UI thread, a few times a second
at most); each render plots the data afresh, since a plotext figure cannot be built twice.
Line charts (the Monitor and the Lab) are :class:`tangtui.ui.curve_plot.CurvePlot`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget
from textual_plotext import PlotextPlot


def safe_render(plot: PlotextPlot, render: Callable[[], RenderResult]) -> RenderResult:
    """``render()``, or one line saying why not when plotext fails (it can on odd sizes)."""
    try:
        return render()
    except (IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        return Text(f"{getattr(plot, 'title', '') or 'plot'}: cannot draw here "
                    f"({type(exc).__name__})", style="dim", no_wrap=True, overflow="ellipsis")


class BarPlot(PlotextPlot):
    """A vertical bar chart of labelled counts."""

    def __init__(self, title: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.labels: list[str] = []
        self.values: list[float] = []

    def replot(self) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        if self.labels:
            pos = list(range(len(self.labels)))
            plt.bar(pos, self.values, width=0.6)
            plt.xticks(pos, self.labels)
            ticks = count_ticks(max(self.values, default=0), max(2, (self.size.height - 4) // 2))
            plt.yticks(ticks, [f"{t:,}" for t in ticks])
            plt.ylim(0, ticks[-1])
        return safe_render(self, lambda: super(BarPlot, self).render())


def count_ticks(top: float, most: int) -> list[int]:
    """Integer ticks 0, s, 2s, ... reaching ``top``, at most ``most`` + 1 of them, with a step s
    from 1, 2, 5, 10, 20, 50, ... (counts never get ticks like 3.33)."""
    steps = (m * 10**k for k in range(19) for m in (1, 2, 5))
    step = next(s for s in steps if math.ceil(top / s) <= max(1, most))
    return list(range(0, max(1, math.ceil(top / step)) * step + 1, step))


EIGHTHS = " ▏▎▍▌▋▊▉"


class HBarPlot(Widget):
    """Horizontal bars, one text row each, drawn to 1/8 of a cell (labels may be CJK).

    A bar of value v is ``v / max(values) * room`` cells long; ``labels`` go in ascending
    order, and the largest values are shown at the top.
    """

    DEFAULT_CSS = """
    HBarPlot { color: $accent; }
    HBarPlot .hbar--label { color: $foreground; }
    HBarPlot .hbar--value { color: $foreground-muted; }
    """
    COMPONENT_CLASSES = {"hbar--label", "hbar--value"}

    def __init__(self, title: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.labels: list[str] = []
        self.values: list[float] = []

    def replot(self) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        width, height = self.size.width, self.size.height
        out = Text(self.title.center(width).rstrip(), style="bold", no_wrap=True,
                   overflow="crop")
        n = max(0, height - 1)
        rows = list(zip(self.labels, self.values, strict=False))[::-1][:n]
        if not rows:
            return out
        label_style = self.get_component_rich_style("hbar--label")
        value_style = self.get_component_rich_style("hbar--value")
        label_w = max(cell_len(label) for label, _ in rows)
        texts = [f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}" for _, v in rows]
        value_w = max(len(t) for t in texts)
        room = max(1, width - label_w - value_w - 3)
        top = max((v for _, v in rows), default=0) or 1
        for (label, value), text in zip(rows, texts, strict=True):
            eighths = round(max(value, 0) / top * room * 8)
            bar = "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
            out.append("\n")
            out.append(label + " " * (label_w - cell_len(label)), label_style)
            out.append(" ▕")
            out.append(bar.ljust(room))
            out.append(" " + text.rjust(value_w), value_style)
        return out
