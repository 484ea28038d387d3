"""A line chart drawn in braille dots, fast enough for the UI thread (a few ms per frame).

Each cell holds a 2 x 4 grid of dots, so a ``w x h`` plot area is ``2w x 4h`` dots. A point
``(x, y)`` lands on dot column ``(x - x0) / (x1 - x0) * (2w - 1)`` and dot row
``(1 - (y - y0) / (y1 - y0)) * (4h - 1)`` (``log10 y`` on a log axis); consecutive points are
joined by the dots of the straight segment between them. A cell takes the colour of the last
line that drew in it (lines come faint envelope first, then train, then test). Test points
get a ``•`` in their cell (any line can name its own ``mark`` glyph, and a ``tag`` glyph at its
last point names it where there is no colour). A line drawn ``dotted`` puts every third dot of
its path; ``points`` are not joined; ``bars`` fill from zero (or the bottom) up to each point,
half the spacing between points wide. Reference lines (``hlines``) are ``┄`` in the empty cells
of their row. Axis labels: about five y ticks and one x tick per 12 columns, or the given
``x_labels`` (categories).

The Monitor and the lab (app and ``tangtui lab show --plot``) draw with this one function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from rich.color import Color
from rich.style import Style
from rich.text import Text

from tangtui.ui.monitor_view import Line

BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # BITS[row][col] of a cell


def fmt_tick(v: float, span: float) -> str:
    """A short tick label: 12k, 1.5M, 0.25, 3.1."""
    a = abs(v)
    for unit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= unit:
            return f"{v / unit:.3g}{suffix}"
    if span >= 10 or float(v).is_integer() and span >= 2:
        return f"{v:.0f}"
    return f"{v:.3g}"


def _ticks(lo: float, hi: float, n: int) -> list[float]:
    """About ``n`` round ticks between lo and hi (1, 2, 2.5, 5 x 10^k steps)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def render_chart(lines: Sequence[Line], width: int, height: int, *, title: str = "",
                 xlabel: str = "", log_y: bool = False,
                 x_range: tuple[float, float] | None = None, cursor_x: float | None = None,
                 empty: str = "no data yet", muted: Style | None = None,
                 hlines: Sequence[float] = (),
                 x_labels: Sequence[tuple[float, str]] | None = None) -> Text:
    """The chart as rich Text, ``height`` rows of ``width`` cells."""
    muted = muted or Style(dim=True)
    ty = (lambda y: math.log10(y)) if log_y else (lambda y: y)
    data = []
    for line in lines:
        pts = [(x, ty(y)) for x, y in zip(line.xs, line.ys, strict=False)
               if math.isfinite(y) and (y > 0 or not log_y)
               and (x_range is None or x_range[0] <= x <= x_range[1])]
        if pts:
            data.append((line, pts))
    out = Text(no_wrap=True, overflow="crop")
    out.append(title[:width].center(width).rstrip() + "\n", Style(bold=True))
    if not data or width < 12 or height < 5:
        out.append(f"({empty})".center(width), muted)
        return out
    refs = [ty(y) for y in hlines if math.isfinite(y) and (y > 0 or not log_y)]
    xs = [x for _, pts in data for x, _ in pts]
    ys = [y for _, pts in data for _, y in pts] + refs
    if not log_y and any(line.draw == "bars" for line, _ in data):
        ys.append(0.0)
    x0, x1 = x_range if x_range else (min(xs), max(xs))
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.05 or (abs(y0) * 0.05 or 1.0)
    y0, y1 = y0 - pad, y1 + pad
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    rows = height - 4
    yticks = _ticks(y0, y1, min(5, max(2, rows // 3)))
    ylabels = [(f"{10 ** t:.2g}" if 10 ** t < 1 else fmt_tick(10 ** t, 10 ** y1 - 10 ** y0))
               if log_y else fmt_tick(t, y1 - y0) for t in yticks]  # log: 0.25, 1e-05, 40
    margin = max(len(s) for s in ylabels) + 1
    cols = width - margin
    dots_x, dots_y = 2 * cols, 4 * rows
    bits = [[0] * cols for _ in range(rows)]
    colour: list[list[Style | None]] = [[None] * cols for _ in range(rows)]
    marks: dict[tuple[int, int], tuple[str, Style]] = {}
    tagged: set[tuple[int, int]] = set()

    def to_dot(x: float, y: float) -> tuple[int, int]:
        return (round((x - x0) / (x1 - x0) * (dots_x - 1)),
                round((1 - (y - y0) / (y1 - y0)) * (dots_y - 1)))

    def put(dx: int, dy: int, style: Style) -> None:
        if 0 <= dx < dots_x and 0 <= dy < dots_y:
            r, c = dy >> 2, dx >> 1
            bits[r][c] |= BITS[dy & 3][dx & 1]
            colour[r][c] = style

    for line, pts in data:
        style = Style(color=Color.from_rgb(*line.colour))
        glyph = line.mark or ("•" if line.kind == "test" else "")
        if line.draw == "bars":
            _bars(pts, to_dot, put, style, dots_x, 0.0 if y0 <= 0.0 <= y1 else y0)
        else:
            _path(pts, to_dot, put, style, line.draw)
        if glyph:
            for x, y in pts:
                dx, dy = to_dot(x, y)
                marks[(dy >> 2, dx >> 1)] = (glyph, style)
        if line.tag:  # at the last point, or the nearest row no other tag took
            dx, dy = to_dot(*pts[-1])
            r, c = dy >> 2, dx >> 1
            free = [r + d for d in (0, -1, 1, -2, 2, -3, 3) if 0 <= r + d < rows
                    and (r + d, c) not in tagged]
            if free and 0 <= c < cols:
                tagged.add((free[0], c))
                marks[(free[0], c)] = (line.tag, style)
    ref_rows = {to_dot(x0, y)[1] >> 2 for y in refs}
    cursor_col = None
    if cursor_x is not None and x0 <= cursor_x <= x1:
        cursor_col = to_dot(cursor_x, y0)[0] >> 1
    label_at = {}
    for t, s in zip(yticks, ylabels, strict=True):
        r = to_dot(x0, t)[1] >> 2
        if 0 <= r < rows:
            label_at[r] = s
    for r in range(rows):
        out.append(label_at.get(r, "").rjust(margin - 1) + "┤" if r in label_at
                   else " " * (margin - 1) + "│", muted)
        run_style: Style | None = None
        run = ""
        blank = "┄" if r in ref_rows else " "
        for c in range(cols):
            if (r, c) in marks:
                ch, st = marks[(r, c)]
            elif bits[r][c]:
                ch, st = chr(0x2800 + bits[r][c]), colour[r][c]
            elif c == cursor_col:
                ch, st = "│", muted
            else:
                ch, st = blank, (muted if blank != " " else None)
            if st is not run_style and run:
                out.append(run, run_style)
                run = ""
            run_style = st
            run += ch
        out.append(run + "\n", run_style)
    axis = [" "] * cols
    labels = [" "] * cols
    ticks = x_labels if x_labels is not None else \
        [(t, fmt_tick(t, x1 - x0)) for t in _ticks(x0, x1, max(2, cols // 12))]
    for t, text in ticks:
        c = to_dot(t, y0)[0] >> 1
        if not 0 <= c < cols:
            continue
        text = text[:cols]
        start = min(max(0, c - len(text) // 2), cols - len(text))
        if all(ch == " " for ch in labels[max(0, start - 1):start + len(text) + 1]):
            axis[c] = "┬"
            labels[start:start + len(text)] = list(text)
    out.append(" " * (margin - 1) + "└" + "".join(axis).replace(" ", "─") + "\n", muted)
    out.append(" " * margin + "".join(labels) + "\n", muted)
    out.append(xlabel[:width].center(width).rstrip(), muted)
    return out


def _path(pts: list[tuple[float, float]], to_dot: Callable[[float, float], tuple[int, int]],
          put: Callable[[int, int, Style], None], style: Style, draw: str) -> None:
    """The dots of a line through ``pts``: joined (every third dot when dotted) or not."""
    every = 3 if draw == "dotted" else 1
    k = 0
    prev: tuple[int, int] | None = None
    for x, y in pts:
        dx, dy = to_dot(x, y)
        if prev is None or draw == "points":
            put(dx, dy, style)
        else:
            px, py = prev
            n = max(abs(dx - px), abs(dy - py), 1)
            for i in range(1, n + 1):
                if every > 1:
                    k += 1
                    if k % every:
                        continue
                put(px + round((dx - px) * i / n), py + round((dy - py) * i / n), style)
        prev = (dx, dy)


def _bars(pts: list[tuple[float, float]], to_dot: Callable[[float, float], tuple[int, int]],
          put: Callable[[int, int, Style], None], style: Style, dots_x: int,
          base: float) -> None:
    """A filled bar from ``base`` up (or down) to each point, half the point spacing wide."""
    half = max(1, dots_x // (4 * max(2, len(pts) + 1)))
    for x, y in pts:
        dx, dy = to_dot(x, y)
        _, db = to_dot(x, base)
        for row in range(min(dy, db), max(dy, db) + 1):
            for col in range(dx - half, dx + half + 1):
                put(col, row, style)
