"""The lab's figures drawn with the Monitor's chart (:func:`tangtui.ui.braille_chart.render_chart`),
in the app (the Lab pane's ``FigurePlot``, a Monitor ``CurvePlot``) and as text for the CLI
(``tangtui lab show --plot``, ``--export``), plus each figure's data as CSV.

A :class:`engine.lab.spec.Figure` becomes chart lines: each series' median as a line with a
tag glyph (``1``, ``2``, ...) at its last point, its plus/minus one std band as two dotted lines
in a fainter shade of its colour, its marked points (diverged runs) as ``x``, bars for a bar
figure; its reference lines are ``┄`` rows. The legend line under the figure names the tags,
the reference lines and the note. No widgets here: the CLI imports this without Textual.
"""

from __future__ import annotations

import csv
import io
import math

from rich.style import Style
from rich.text import Text

from engine.lab.spec import Figure
from tangtui.ui.braille_chart import render_chart
from tangtui.ui.monitor_view import PALETTE, Line, faint, hex_colour

TAGS = "123456789abcdefghijklmnopqrstuvwxyz"


def series_colour(i: int) -> tuple[int, int, int]:
    """Series i's colour: the Monitor's palette, then its fainter shades."""
    base = PALETTE[i % len(PALETTE)]
    return base if i < len(PALETTE) else faint(base, 0.7)


def figure_lines(fig: Figure) -> list[Line]:
    """The chart lines of ``fig``: bands first, then medians and marks (drawn on top)."""
    bands: list[Line] = []
    mains: list[Line] = []
    tagged = fig.kind != "bar" and len(fig.series) > 1
    for i, s in enumerate(fig.series):
        colour = series_colour(i)
        if fig.kind == "bar":
            mains.append(Line(fig.name, "bar", s.xs, s.ys, colour, s.label, draw="bars"))
            continue
        for band in (s.lo, s.hi):
            if band:
                bands.append(Line(fig.name, "band", s.xs, band, faint(colour, 0.7), "",
                                  draw="dotted"))
        mains.append(Line(fig.name, "median", s.xs, s.ys, colour, s.label,
                          tag=TAGS[i % len(TAGS)] if tagged else ""))
        if s.marks:
            mains.append(Line(fig.name, "marked", [x for x, _ in s.marks],
                              [y for _, y in s.marks], colour, "", draw="points", mark="x"))
    return bands + mains


def x_range(fig: Figure) -> tuple[float, float] | None:
    """Room for half a bar on each side of a bar figure; the data's own range otherwise."""
    if fig.kind != "bar":
        return None
    xs = [x for s in fig.series for x in s.xs]
    return (min(xs) - 0.5, max(xs) + 0.5) if xs else None


def x_labels(fig: Figure) -> list[tuple[float, str]] | None:
    return list(fig.xticks) if fig.xticks else None


def legend(fig: Figure, width: int | None = None) -> Text:
    """Each series' tag and name in its colour, the reference lines, the note: one line, or
    lines of at most ``width`` cells."""
    parts: list[tuple[str, Style | None]] = []
    if fig.kind != "bar" and len(fig.series) > 1:  # bars are named on the x axis
        parts += [(f"{TAGS[i % len(TAGS)]} {s.label}", Style(color=hex_colour(series_colour(i))))
                  for i, s in enumerate(fig.series)]
    parts += [(f"┄ {label}" if f"{y:.4g}" in label else f"┄ {label} {y:.4g}", Style(dim=True))
              for y, label in fig.hlines]
    if any(s.lo for s in fig.series):
        parts.append(("dotted: ±1 std over seeds", Style(dim=True)))
    if fig.note:
        parts.append((fig.note, Style(dim=True)))
    out = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for text, style in parts:
        if used and width is not None and used + 3 + len(text) > width:
            out.append("\n")
            used = 0
        elif used:
            out.append("   ")
            used += 3
        out.append(text, style)
        used += len(text)
    return out


def legend_line(fig: Figure) -> str:
    return legend(fig).plain


def figure_render(fig: Figure, width: int = 100, height: int = 24) -> Text:
    """The figure (``height`` rows of ``width`` cells) with its legend line under it."""
    try:
        chart = render_chart(figure_lines(fig), width, height, title=fig.title,
                             xlabel=fig.xlabel, log_y=fig.log_y, x_range=x_range(fig),
                             hlines=[y for y, _ in fig.hlines], x_labels=x_labels(fig))
    except (IndexError, ValueError, ZeroDivisionError, OverflowError) as exc:
        chart = Text(f"{fig.title}: cannot draw here ({type(exc).__name__})")
    return Text("\n").join([chart, legend(fig, width)])


def figure_text(fig: Figure, width: int = 100, height: int = 24) -> str:
    """The figure as plain text (no colour codes), with its legend line under it."""
    return "\n".join(line.rstrip() for line in figure_render(fig, width, height)
                     .plain.splitlines()).rstrip() + "\n"


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
        if math.isfinite(y):
            w.writerow([f"line: {label}", "", y, "", "", 0])
    return out.getvalue()
