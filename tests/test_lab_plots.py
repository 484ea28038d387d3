"""The lab's figures are drawn by the Monitor's chart code: bands dotted, diverged points as
``x``, reference lines, bars with category labels, tags that name lines without colour."""

from __future__ import annotations

import subprocess
import sys

from engine.lab.spec import Figure, Series
from tangtui.ui.braille_chart import render_chart
from tangtui.ui.lab_plots import figure_csv, figure_lines, figure_text, legend_line
from tangtui.ui.monitor_view import Line


def _dots(text: str) -> int:
    """Raised braille dots in ``text``."""
    return sum(bin(ord(ch) - 0x2800).count("1") for ch in text if 0x2800 < ord(ch) <= 0x28FF)


def _body(text: str) -> list[str]:
    """The plot rows (those with the y axis), without the axis."""
    return [ln[ln.index(c) + 1:] for ln in text.splitlines() for c in "│┤" if c in ln[:8]]


def _loss_figure() -> Figure:
    xs = [float(s) for s in range(1, 41)]
    a = Series("adam", xs, [6.0 - 0.1 * x for x in xs], [5.9 - 0.1 * x for x in xs],
               [6.1 - 0.1 * x for x in xs])
    b = Series("sgd", xs, [6.0 - 0.02 * x for x in xs])
    return Figure("loss", "training loss", "step", "loss", [a, b], hlines=[(6.5, "ln V")])


def test_a_line_figure_has_tags_bands_a_reference_line_and_a_legend() -> None:
    fig = _loss_figure()
    lines = figure_lines(fig)
    assert [ln.draw for ln in lines] == ["dotted", "dotted", "line", "line"]  # bands first
    assert [ln.tag for ln in lines if ln.draw == "line"] == ["1", "2"]
    text = figure_text(fig, 80, 20)
    assert "\x1b" not in text and all(len(ln) <= 80 for ln in text.splitlines())
    body = "".join(_body(text))
    assert "1" in body and "2" in body and "┄" in body  # tags at the ends, the ln V line
    assert text.splitlines()[-1] == legend_line(fig)
    assert legend_line(fig) == "1 adam   2 sgd   ┄ ln V 6.5   dotted: ±1 std over seeds"
    one = Figure("loss", "t", "step", "loss", [fig.series[1]])
    assert not any(ln.tag for ln in figure_lines(one))  # one line needs no name


def test_dotted_lines_put_a_third_of_the_dots() -> None:
    xs = [0.0, 100.0]
    solid = render_chart([Line("r", "x", xs, [0.0, 1.0], (1, 2, 3))], 60, 20).plain
    dotted = render_chart([Line("r", "x", xs, [0.0, 1.0], (1, 2, 3), draw="dotted")], 60,
                          20).plain
    assert abs(_dots(dotted) - _dots(solid) / 3) <= 2


def test_diverged_points_are_marked_x_and_not_joined() -> None:
    fig = Figure("sensitivity", "ppl against lr", "log10 lr", "ppl", log_y=True)
    fig.series.append(Series("adam", [-3.0, -2.5, -2.0], [90.0, 80.0, 300.0],
                             marks=[(-2.0, 300.0)]))
    body = _body(figure_text(fig, 60, 16))
    assert "x" in body[0] or "x" in body[1]  # clipped to the top
    assert sum(row.count("x") for row in body) == 1
    points = Line("r", "x", [0.0, 10.0], [0.0, 1.0], (1, 2, 3), draw="points")
    assert _dots(render_chart([points], 40, 12).plain) == 2


def test_a_bar_figure_has_category_labels_and_bars_from_zero() -> None:
    fig = Figure("three_ways", "held-out ppl counted three ways", "", "ppl", kind="bar",
                 hlines=[(18.75, "report 18.75")],
                 xticks=[(0, "per poem"), (1, "stream"), (2, "padded")])
    for i, (label, v) in enumerate((("per_poem", 30.0), ("stream", 25.0), ("padded", 10.0))):
        fig.series.append(Series(label, [float(i)], [v]))
    text = figure_text(fig, 70, 18)
    labels = text.splitlines()[-3]
    assert labels.split() == ["per", "poem", "stream", "padded"]
    rows = [ln for ln in text.splitlines() if "│" in ln[:8] or "┤" in ln[:8]]
    heights = [sum(1 for row in rows if len(row) > c and row[c] == "⣿")
               for c in (labels.index("per") + 3, labels.index("stream") + 3,
                         labels.index("padded") + 3)]
    assert heights[0] > heights[1] > heights[2] > 0
    assert "┄" in "".join(_body(text)) and legend_line(fig) == "┄ report 18.75"


def test_csv_has_every_point_and_band() -> None:
    rows = figure_csv(_loss_figure()).splitlines()
    assert rows[0] == "series,step,loss,minus_1sd,plus_1sd,marked"
    assert len(rows) == 1 + 40 + 40 + 1 and rows[-1].startswith("line: ln V")


def test_the_cli_figures_need_no_textual() -> None:
    code = ("import sys, tangtui.cli.cmd_lab, tangtui.ui.lab_plots; "
            "print([m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'textual_plotext', 'plotext')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lines_ending_together_keep_both_tags() -> None:
    xs = [1.0, 2.0, 3.0]
    fig = Figure("loss", "t", "step", "loss", [Series("momentum", xs, [3.0, 2.0, 1.0]),
                                               Series("nag", xs, [3.0, 2.0, 1.0])])
    body = "".join(_body(figure_text(fig, 50, 14)))
    assert body.count("1") == 1 and body.count("2") == 1


def test_a_log_axis_over_many_decades_labels_small_values() -> None:
    xs = [float(d) for d in range(20)]
    fig = Figure("flow", "norm by distance", "distance", "norm", log_y=True,
                 series=[Series("standard", xs, [10.0 ** -d for d in range(20)])])
    ticks = [ln.split("┤")[0].strip() for ln in figure_text(fig, 60, 16).splitlines()
             if "┤" in ln[:8]]
    assert len(ticks) >= 2 and "0" not in ticks and any("e-" in t for t in ticks)
